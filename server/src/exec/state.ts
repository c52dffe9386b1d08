/**
 * The symbolic state of one path: locals, memory reached through pointers, the facts branch
 * conditions added, the resources acquired, and the emulator the API calls ran against.
 * `fork()` copies the maps (they are small: a function's locals and the lvalues it touched)
 * and forks the emulator, which is copy-on-write.
 */
import type { ResourceKind } from '../model/api';
import type { PathStep } from '../engine/types';
import type { EmuBridge } from '../model/emulate';
import { Val, key } from './value';
import type { Kept } from './ownership';

export interface Fact {
  zero?: boolean;
  neg?: boolean;
  /** An error marker: ERR_PTR value, or DMA_MAPPING_ERROR. */
  err?: boolean;
  /** Bounds the API implies (dma_map_sg returns 1..nents on success). */
  lo?: number;
  hi?: number;
  /** Known alignment in bytes (dma_alloc_coherent's addresses: PAGE_SIZE << get_order(size)). */
  align?: number;
}

export interface SiteRef {
  /** Start byte of the call node: identifies the call site in the function. */
  at: number;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
  api: string;
}

export interface Resource {
  id: string;
  kind: ResourceKind;
  api: string;
  site: SiteRef;
  /** Keys of the values that identify it (the pointer, the dma address, the pfn...). */
  handles: string[];
  /** The value that identifies it, as acquired. */
  handleVal: Val;
  /** What the acquiring call named as size (pages, bytes, nents, order...). */
  size?: Val;
  dir?: Val;
  dev?: string;
  domain?: string;
  iova?: Val;
  /** Key of the call's return value (dma_map_sg's count). */
  ret?: string;
  state: 'live' | 'released' | 'maybe-released';
  releasedBy?: SiteRef;
  /** It had been handed off when this function released it: the function owns its unwind. */
  releasedAfterEscape?: boolean;
  /** Order on the path: events logged before its acquisition, and before its release. */
  seq: number;
  relSeq?: number;
  /** State.calls when it was released (use-after-release: a callee may have stored a new handle since). */
  relCalls?: number;
  /**
   * Set at the path's exit by the ownership model (exec/ownership.ts): how the caller can reach
   * it there ("stored in priv->dma", "returned"), or undefined when the function still owns it.
   */
  escaped?: string;
  /** Which kind of holder hands it off at the exit. */
  via?: import('./ownership').Via;
  /** Some copy of a handle left the locals on this path: stored in memory, or given to a call. */
  copied?: boolean;
  /** The callee that holds it, when that is the hand-off. */
  keptBy?: string;
  /** A callee that also holds it at the exit, whatever the first hand-off is (the path's, for messages). */
  alsoKeptBy?: string;
  /** Held only by a callee whose result says it failed: the callee's name (for messages). */
  lostTo?: string;
  /** Its identity is an object of the caller (its sg list, its domain): the caller can undo it. */
  callerObject?: string;
  ownedByContainer?: boolean;
  leaksOnlyOnFailure?: boolean;
  /** Iteration of the enclosing loop it was acquired in (for messages). */
  occurrence: number;
  /**
   * When (the executor's step count) the function last read through its CPU pointer
   * (`info->mac` after `get_flash(ha, info_dma, ...)`): a callee given it before that filled it
   * and returned.
   */
  readAt?: number;
  /**
   * cpu-access-without-sync: a streaming mapping's CPU pointer (dma_map_single()'s `ptr`), as the
   * memory paths that go through it start (`param:skb+0->data`, or `&`-less `param:priv+0->cmd`
   * for `&priv->cmd`), and the constant offset it was mapped at.
   */
  cpu?: { key: string; amp: boolean; off: number };
  /** Who owns the buffer now: the device after the map and _for_device, the CPU after _for_cpu. */
  cpuOwner?: 'device' | 'cpu';
  /** State.syncable when the device took it (a callee since may have synced it). */
  cpuSince?: number;
  /** The last dma_sync_*() that moved it. */
  lastSync?: SiteRef;
}

/** A fallible call's result that some path must check. */
export interface Pending {
  site: SiteRef;
  /** The value whose test counts as the check. */
  val: string;
  /** How the call fails: decides which tests count as handling it. */
  failure: import('../model/api').Failure;
}

export interface ExecEvent {
  k: 'acquire' | 'release' | 'mismatch' | 'map' | 'fail' | 'unknown-release' | 'double-release' | 'wrong-release' | 'direction' | 'unaligned' | 'overlap'
    /** A helper of the file called with these objects (its arguments' roots). */
    | 'helper-call'
    /** An iommu_dma_* call on a device whose domain has no DMA cookie (detail.domain: its type). */
    | 'no-cookie'
    /** A dma_sync_* of a resource found by its handle (detail: the sizes, offset, nents, direction). */
    | 'sync'
    /** A dma_sync_* that DMA-API debug's check_sync() would complain of (detail.what says which check). */
    | 'sync-problem'
    /** A released resource used again on the path (detail.use says how, detail.released where). */
    | 'use-after-release'
    /** iommu_map() over a range iommu_unmap_fast() left with its IOTLB invalidation gathered (detail: iova, size, unmapLine). */
    | 'stale-iotlb'
    /** The CPU reads or writes a live streaming buffer the device owns (detail: access, text, sync). */
    | 'cpu-access';
  site: SiteRef;
  res?: string;
  detail?: Record<string, unknown>;
}

/** An append-only list shared between forks: a fork costs nothing, a path reads it once at its end. */
export class Log<T> implements Iterable<T> {
  static readonly empty = new Log<never>();
  private constructor(private readonly item?: T, private readonly prev?: Log<T>, readonly length = 0) {}
  static of<T>(): Log<T> { return Log.empty as unknown as Log<T>; }
  add(x: T): Log<T> { return new Log(x, this, this.length + 1); }
  toArray(): T[] {
    const out = new Array<T>(this.length);
    let l: Log<T> | undefined = this;
    for (let i = this.length - 1; i >= 0 && l; i--, l = l.prev) out[i] = l.item as T;
    return out;
  }
  [Symbol.iterator](): Iterator<T> { return this.toArray()[Symbol.iterator](); }
  /** Visit the items newest first, without copying the list. */
  eachBackward(f: (x: T) => void): void {
    for (let l: Log<T> | undefined = this; l && l.length > 0; l = l.prev) f(l.item as T);
  }
}

/** Events that only record what happened (the resources and checks say the rest): the others are
 * what a checker reports from the path itself (a mismatched size, a second release...). */
const PLAIN_EVENTS = new Set<ExecEvent['k']>(['acquire', 'release', 'fail', 'helper-call', 'unknown-release', 'sync']);

/** Values that matter for merging states: constants and what the kernel API returned. */
const API_VALUE = /\w@\d+#\d+/;
/** The member a memory key ends with (`param:ring->desc[3].len` gives `len`). */
const LAST_FIELD = /(?:->|\.)([A-Za-z_]\w*)(?:\[[^\]]*\])*$/;
/** A constant, or a value computed from what a kernel API returned. */
function relevant(v: Val): boolean {
  if (v.t.length === 0) return true;
  for (const [n] of v.t) if (API_VALUE.test(n)) return true;
  return false;
}

/** A copy of a map by forEach: `new Map(m)` goes through the iterator and allocates an entry
 * array per entry (the largest allocation of a corpus run, all in fork()). */
function copyMap<K, V>(m: Map<K, V>): Map<K, V> {
  const out = new Map<K, V>();
  m.forEach((v, k) => out.set(k, v));
  return out;
}

export class State {
  block = 0;
  idx = 0;
  env = new Map<string, Val>();
  mem = new Map<string, Val>();
  facts = new Map<string, Fact>();
  resources: Resource[] = [];
  /** Sites of fallible calls executed, and those whose result was tested. */
  fallible = new Map<number, Pending>();
  checked = new Set<number>();
  /** Results of calls whose value a condition looked at (iommu_unmap's bytes unmapped). */
  tested = new Set<string>();
  /** Fallible calls passed on this path (for fail-nth injection). */
  fallibleCount = 0;
  /** The fallible call (in execution order) this path makes fail; null: none. */
  failAt: number | null = null;
  /** A failure fork resumes in the middle of a block: skip the block-entry bookkeeping once. */
  resume = false;
  /** The injected failure, once it happened. */
  failed?: SiteRef;
  /** Events logged when it happened: releases after it are the unwind. */
  failSeq?: number;
  visits = new Map<number, number>();
  occ = new Map<number, number>();
  steps: Log<PathStep> = Log.of();
  events: Log<ExecEvent> = Log.of();
  /** Emulator snapshots after each step (run-snippet only). */
  snaps: Log<Record<string, unknown>> = Log.of();
  /** Values known to be a DMA-API-managed domain (from iommu_get_domain_for_dev). */
  dmaDomains = new Set<string>();
  /** Symbols proven equal to another value by a branch (`if (tmp != iova) return`). */
  alias = new Map<string, Val>();
  /** Types of locals, as written (for `sizeof` and aggregate detection). */
  aggregates = new Set<string>();
  /** What this path released that the function cannot name (kinds and handle), as a digest part:
   * a helper's summary is made of them. */
  unknownReleases = '';
  /** Values given to callees that may keep them (exec/ownership.ts). */
  kept: Log<Kept> = Log.of();
  /** The path took the warning side of `if (WARN_ON(x))` (here or in a helper that failed):
   * the developer asserts it does not happen, so what it abandons is not reported. */
  warned = false;
  /**
   * The kernel would oops here (dma-iommu dereferencing the NULL cookie of a domain that has none):
   * the path ends at this site, as the kernel's thread does; nothing after it runs.
   */
  oops?: { site: SiteRef; why: string };
  /** Calls made on the path that may write memory the function reads (unknown callees, helpers). */
  calls = 0;
  /** Calls made on the path that may have synced a mapping for the CPU (cpu-access-without-sync). */
  syncable = 0;
  /** Streaming mappings made on the path whose CPU pointer is known (a fast exit for loads and stores). */
  cpuMaps = 0;
  emu!: EmuBridge;

  fork(): State {
    const s = new State();
    s.block = this.block;
    s.idx = this.idx;
    s.env = copyMap(this.env);
    s.mem = copyMap(this.mem);
    s.facts = copyMap(this.facts);
    s.resources = this.resources.map((r) => ({ ...r, handles: [...r.handles] }));
    s.fallible = copyMap(this.fallible);
    s.checked = new Set(this.checked);
    s.tested = new Set(this.tested);
    s.fallibleCount = this.fallibleCount;
    s.failAt = this.failAt;
    s.failed = this.failed;
    s.failSeq = this.failSeq;
    s.visits = copyMap(this.visits);
    s.occ = copyMap(this.occ);
    s.steps = this.steps;
    s.events = this.events;
    s.snaps = this.snaps;
    s.dmaDomains = new Set(this.dmaDomains);
    s.alias = copyMap(this.alias);
    s.aggregates = this.aggregates;
    s.kept = this.kept;
    s.unknownReleases = this.unknownReleases;
    s.warned = this.warned;
    s.oops = this.oops;
    s.calls = this.calls;
    s.syncable = this.syncable;
    s.cpuMaps = this.cpuMaps;
    s.emu = this.emu.fork();
    return s;
  }

  fact(v: Val): Fact | undefined {
    return this.facts.get(key(v));
  }

  addFact(v: Val, f: Fact): void {
    const k = key(v);
    this.facts.set(k, { ...this.facts.get(k), ...f });
  }

  /**
   * A digest of what matters for the rest of the path, to merge states at joins: the
   * resources and checks, and the locals and memory that hold constants (error codes, loop
   * counters, flags) or API results. Two paths that differ only in other unknowns are
   * continued once: the checkers cannot tell them apart.
   */
  digest(helper = false, live?: Set<string>): string {
    const parts: string[] = [String(this.block), this.failed ? 'F' + this.failed.at : 'S' + this.fallibleCount, this.warned ? 'W' : ''];
    // A local nothing after this block mentions (`live`, ir/cfg.ts liveAtJoins) cannot change the rest of the path.
    // forEach, not for-of: no entry array per entry at every join.
    this.env.forEach((v, k) => { if ((!live || live.has(k)) && relevant(v)) parts.push(k + '=' + key(v)); });
    this.mem.forEach((v, k) => {
      if (!relevant(v)) return;
      // A constant stored in a field no later statement names (`tx_buffer->skb = NULL` in an
      // unwind loop) can be read again only through that name: leave it out like a dead local.
      // What an API returned stays in, wherever it is: it may hand a resource off at the exit.
      if (live && v.t.length === 0) {
        const field = LAST_FIELD.exec(k)?.[1];
        if (field && !live.has(field)) return;
      }
      parts.push(k + ':=' + key(v));
    });
    this.facts.forEach((f, k) => {
      if (API_VALUE.test(k)) parts.push(k + '?' + (f.zero ? 'z' : f.zero === false ? 'n' : '') + (f.neg ? '-' : f.neg === false ? '+' : '') + (f.err ? 'e' : ''));
    });
    for (const r of this.resources) parts.push(r.id + r.state);
    // A path that logged a finding of its own (`dma_free_coherent()` with the size of a loop that
    // never ran) is never merged into one that did not: the merge keeps the first path only.
    const marks: string[] = [];
    this.events.eachBackward((e) => { if (!PLAIN_EVENTS.has(e.k)) marks.push(e.k + e.site.at); });
    if (marks.length) parts.push('e' + marks.join(','));
    // A helper read for its summary keeps apart the paths that release what it cannot name.
    parts.push('k' + this.kept.length + (helper ? 'u' + this.unknownReleases : ''));
    parts.push([...this.checked].join(','));
    parts.push([...this.fallible.keys()].join(','));
    return parts.join(';');
  }
}
