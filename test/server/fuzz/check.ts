/**
 * What the fuzzer asserts about one input given to the engine directly (shared by
 * fuzz.test.ts and scripts/fuzz.mjs): what a user of the CLI or the editor would notice.
 *
 * - analyzeText() returns (no exception escapes) and says nothing of an internal error (the
 *   engine catches its own exceptions per function and reports them as an information
 *   diagnostic "could not analyse f(): internal error: ...": still a bug, the function is lost);
 * - the result maps to LSP diagnostics that serialize to JSON (what the server sends), with
 *   ranges inside the document;
 * - hover, code lenses and quick fixes over the result do not throw;
 * - for some inputs, Run Snippet (runFunction) on a function that uses the API, all-succeed
 *   and first-failure, returns and serializes to a size an editor can take (RUN_JSON_LIMIT);
 * - the time it took (flagged as slow above `slowMs`).
 */
import { analyzeText, runFunction, ResultCache, FileResult } from '../../../server/src/engine/index';
import { Config, DEFAULT_CONFIG, parseConfig } from '../../../server/src/config';
import { codeActionsFor, codeLensesFor, fileDiagnostics, hoverFor } from '../../../server/src/diagnostics';
import { parseC } from '../../../server/src/parse/parser';
import type { FuzzInput } from './generate';

/**
 * Syntax-tree depth from which a stack overflow inside one function's analysis is tolerated:
 * the engine recurses over the tree, catches the RangeError and says so on the function (an
 * information diagnostic), and the rest of the file is analysed. Real code nests a few dozen
 * levels; below this depth a stack overflow is a bug (endless recursion), and one that escapes
 * analyzeText() is a bug at any depth.
 */
export const TOLERATED_STACK_DEPTH = 1000;

export type FailureKind = 'exception' | 'internal-error' | 'serialize' | 'bad-range' | 'run-exception' | 'run-oversize';

/** A Run Snippet path larger than this as JSON (the server sends it to the editor) is a failure. */
export const RUN_JSON_LIMIT = 16_000_000;

export interface Outcome {
  /** analyzeText() wall time. */
  ms: number;
  /** runFunction() wall time (0 when not run). */
  runMs: number;
  functions: number;
  failures: { kind: FailureKind; detail: string }[];
  /** Rules reported (for the figures). */
  rules: string[];
  /** Internal errors accepted as such: stack overflows on trees deeper than TOLERATED_STACK_DEPTH. */
  tolerated: string[];
}

export interface CheckOptions {
  config?: Config;
  cache?: ResultCache;
  /** Also run one function through runFunction (Run Snippet). */
  run?: boolean;
}

/**
 * The settings inputs are analysed under, by index: the defaults most often, then small budgets
 * (the budget-exhaustion paths), the other SMMU models with wrappers declared, and the minimum
 * budgets the schema allows.
 */
export const CONFIGS: { name: string; config: Config }[] = [
  { name: 'default', config: DEFAULT_CONFIG },
  { name: 'small-budget', config: parseConfig({ budget: { maxPaths: 24, maxSteps: 4000, loopUnroll: 1 } }).config },
  { name: 'default', config: DEFAULT_CONFIG },
  {
    name: '64k-nonstrict-wrappers',
    config: parseConfig({
      smmu: { granule: 65536, ias: 32, oas: 52, stage: 2, strict: false, reservedRegions: [{ start: 0, length: 0x1000, type: 'reserved' }, { start: '0xfff00000', length: '0x10000', type: 'direct' }] },
      budget: { maxPaths: 64, maxSteps: 20000, loopUnroll: 3 },
      wrappers: { x: 'dma_map_single', hw_map: { api: 'iommu_map', args: [0, 1, 2, 3, -1, -1] }, some_hw_call: 'iommu_unmap', f0: 'kfree' },
      rules: { leak: 'error', 'missing-error-path': 'off' },
    }).config,
  },
  { name: 'minimum-budget', config: parseConfig({ budget: { maxPaths: 1, maxSteps: 100, loopUnroll: 1, timeMsPerFunction: 10 } }).config },
];

/** The settings for input `index`. */
export function configFor(index: number): { name: string; config: Config } {
  return CONFIGS[index % CONFIGS.length];
}

/** Depth of the syntax tree of `text` (iteratively: the tree may be thousands deep). */
export function treeDepth(text: string): number {
  const cursor = parseC(text).walk();
  let depth = 0, max = 0;
  for (;;) {
    if (cursor.gotoFirstChild()) { depth++; if (depth > max) max = depth; continue; }
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) return max;
      depth--;
    }
  }
}

function stackOf(e: unknown): string {
  return (e as Error)?.stack ?? String(e);
}

interface R { start: { line: number; character: number }; end: { line: number; character: number } }

function badRange(r: R | undefined, lines: number): string | undefined {
  if (!r || !r.start || !r.end) return 'missing range';
  for (const p of [r.start, r.end]) {
    if (!Number.isInteger(p.line) || !Number.isInteger(p.character) || p.line < 0 || p.character < 0) return `not a position: ${JSON.stringify(p)}`;
    if (p.line >= lines) return `line ${p.line + 1} past the end (${lines} lines)`;
  }
  if (r.start.line > r.end.line || (r.start.line === r.end.line && r.start.character > r.end.character)) return `ends before it starts: ${JSON.stringify(r)}`;
  return undefined;
}

/** Ranges the editor is given: diagnostics, related locations, quick-fix edits, code lenses. */
function checkRanges(result: FileResult, lines: number): string[] {
  const out: string[] = [];
  for (const fn of result.functions) {
    for (const [what, r] of [['function', fn.range], ['name', fn.nameRange]] as const) {
      const b = badRange(r, lines);
      if (b) out.push(`${fn.name}() ${what}: ${b}`);
    }
    for (const f of fn.findings) {
      const b = badRange(f.range, lines);
      if (b) out.push(`${f.rule} in ${fn.name}(): ${b}`);
      for (const rel of f.related) {
        const br = badRange(rel.range, lines);
        if (br) out.push(`${f.rule} in ${fn.name}() related "${rel.message}": ${br}`);
      }
      for (const e of f.fix?.edits ?? []) {
        const be = badRange(e.range, lines);
        if (be) out.push(`${f.rule} fix in ${fn.name}(): ${be}`);
      }
    }
  }
  return out;
}

function lineAt(text: string, line: number): string {
  let start = 0;
  for (let i = 0; i < line; i++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return '';
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end);
}

export function checkEngine(input: FuzzInput, opts: CheckOptions = {}): Outcome {
  const config = opts.config ?? DEFAULT_CONFIG;
  const uri = `file:///fuzz/${input.index}.c`;
  const failures: Outcome['failures'] = [];
  const t0 = performance.now();
  let result: FileResult | undefined;
  try {
    result = analyzeText(input.text, uri, { config, cache: opts.cache });
  } catch (e) {
    failures.push({ kind: 'exception', detail: `analyzeText threw: ${stackOf(e)}` });
  }
  const ms = performance.now() - t0;
  let runMs = 0;
  const tolerated: string[] = [];
  if (!result) return { ms, runMs, functions: 0, failures, rules: [], tolerated };

  const findings = result.functions.flatMap((f) => f.findings);
  const textLines = input.text.split('\n');
  for (const fn of result.functions) {
    for (const f of fn.findings) {
      if (!/internal error/i.test(f.message)) continue;
      // The depth of the function's own text (parsed alone), not of the file's deepest part.
      const depth = /Maximum call stack size exceeded/.test(f.message)
        ? treeDepth(textLines.slice(fn.range.start.line, fn.range.end.line + 1).join('\n')) : 0;
      if (depth >= TOLERATED_STACK_DEPTH) tolerated.push(`${fn.name}(): stack overflow at tree depth ${depth}`);
      else failures.push({ kind: 'internal-error', detail: `${f.function}(): ${f.message}${depth ? ` (tree depth ${depth})` : ''}` });
    }
  }
  let lines = 1;
  for (let i = input.text.indexOf('\n'); i >= 0; i = input.text.indexOf('\n', i + 1)) lines++;
  for (const b of checkRanges(result, lines)) failures.push({ kind: 'bad-range', detail: b });

  try {
    const diags = fileDiagnostics(result, config);
    JSON.stringify(diags);
    JSON.stringify(codeLensesFor(result));
    codeActionsFor(result, uri, diags);
    // Hover where a user would: on each resource's acquiring call, and on each function's name.
    const spots = [
      ...result.functions.flatMap((f) => f.resources.slice(0, 3).map((r) => r.range.start)),
      ...result.functions.slice(0, 20).map((f) => f.nameRange.start),
    ].slice(0, 40);
    for (const p of spots) JSON.stringify(hoverFor(result, p, lineAt(input.text, p.line)));
  } catch (e) {
    failures.push({ kind: 'serialize', detail: `diagnostics/hover/lenses/actions: ${stackOf(e)}` });
  }

  if (opts.run) {
    const fn = result.functions.find((f) => f.usesApi);
    if (fn) {
      const t1 = performance.now();
      for (const failAt of [null, 0]) {
        try {
          const r = runFunction(input.text, fn.name, { config, failAt });
          // What the server sends for Run Snippet and the inspector: the chosen path with its snapshots.
          const size = r ? JSON.stringify(r.paths[0] ?? null).length : 0;
          if (size > RUN_JSON_LIMIT) failures.push({ kind: 'run-oversize', detail: `runFunction(${fn.name}, failAt ${failAt}): the path is ${(size / 1e6).toFixed(1)} MB of JSON (Run Snippet and the inspector send it over JSON-RPC)` });
        } catch (e) {
          failures.push({ kind: 'run-exception', detail: `runFunction(${fn.name}, failAt ${failAt}) threw: ${stackOf(e)}` });
        }
      }
      runMs = performance.now() - t1;
    }
  }
  return { ms, runMs, functions: result.functions.length, failures, rules: findings.map((f) => f.rule), tolerated };
}
