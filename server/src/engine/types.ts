/**
 * The engine's public data: what the CLI, the language server and the client's views
 * consume. Plain JSON-serialisable data only (it crosses the LSP connection as is).
 * No vscode, no LSP types here: server/src/diagnostics.ts maps these to LSP.
 */

/** Stable rule ids (shared/DESIGN.md §2). */
export type RuleId =
  | 'leak'
  | 'unmap-size-mismatch'
  | 'unreserved-iova'
  | 'missing-error-path'
  | 'double-release'
  | 'use-after-release'
  | 'unreleased-at-remove'
  | 'wrong-release-function'
  | 'direction-mismatch'
  | 'sync-out-of-range'
  | 'unaligned-map'
  | 'map-overlap'
  | 'dma-on-stack'
  | 'small-coherent-alloc'
  | 'no-dma-cookie'
  | 'stale-iotlb'
  | 'cpu-access-without-sync'
  | 'budget'
  | 'config';

export type Severity = 'error' | 'warning' | 'information';

/** 0-based line and UTF-16 column, as LSP counts them. */
export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

export interface RelatedLocation { range: Range; message: string }

/** One finding of one rule, with the path that shows it. */
export interface Finding {
  rule: RuleId;
  severity: Severity;
  message: string;
  /** Where DESIGN.md §2 says it is reported (the acquiring call for a leak, ...). */
  range: Range;
  /** Name of the function the finding is in. */
  function: string;
  related: RelatedLocation[];
  /** Index into FunctionResult.paths of a path that shows the finding, if any. */
  pathIndex?: number;
  /** A mechanical fix, when there is one (becomes a quick-fix code action). */
  fix?: Fix;
}

export interface TextEdit { range: Range; newText: string }
export interface Fix { title: string; edits: TextEdit[] }

/** A resource acquired in a function, for hover: where, and what became of it on each path. */
export interface ResourceInfo {
  /** "IOVA range", "DMA mapping", "coherent buffer", ... */
  kind: string;
  /** The acquiring call's range. */
  range: Range;
  /** The variable or lvalue that holds it, as written ("iova", "mmu->pci_trash_page"). */
  holder: string;
  acquiredBy: string;
  /** One line per explored path that reached the acquisition: path label -> fate. */
  fates: { path: string; fate: string }[];
}

/** An emulator event caused by a step (PTE write, TLB invalidation, fault, allocation...). */
export interface TraceEvent {
  kind: string;
  /** Human-readable, addresses in hex: "PTE write L3[0x1f3] = 0x0000000041230f43". */
  text: string;
}

/** One executed API call (or notable statement) on a path. */
export interface PathStep {
  line: number; // 0-based
  /** e.g. "alloc_iova(&mmu->dmap->iovad, 2048, 0xfffff, 0)". */
  call: string;
  /** e.g. "-> iova [0xff800, 0xfffff]" or "-> -ENOMEM (injected failure)". */
  result: string;
  /** Values bound by the step: name -> printable value. */
  values: Record<string, string>;
  events: TraceEvent[];
  /** Index into PathTrace.snapshots of the emulator state after this step. */
  snapshot?: number;
}

export interface PathTrace {
  /** "all succeed", or "dma_map_page() at line 20 fails", ... */
  label: string;
  /** Index of the injected failure among the function's fallible calls, or null. */
  failAt: number | null;
  /** How the path left the function: "return -ENOMEM at line 24". */
  exit: string;
  steps: PathStep[];
  snapshots: EmulatorSnapshot[];
}

/** Plain-data view of the emulator (produced by the emulator's inspection API). */
export type EmulatorSnapshot = Record<string, unknown>;

export interface FunctionResult {
  name: string;
  range: Range;
  /** Range of the function's name, for code lenses. */
  nameRange: Range;
  usesApi: boolean;
  findings: Finding[];
  paths: PathTrace[];
  resources: ResourceInfo[];
  /** Set when a budget (paths, time) cut exploration short. */
  overBudget?: string;
  /** Paths explored, where `paths` keeps only those the findings refer to (the CLI's results). */
  pathCount?: number;
}

export interface FileResult {
  uri: string;
  functions: FunctionResult[];
  /** Findings not tied to a function (config errors, unreadable input). */
  fileFindings: Finding[];
  /** Parse statistics, for the corpus report. */
  parse: { errorNodes: number; apiCallsInErrors: number; apiCalls: number; millis: number };
}
