/**
 * The engine: C text -> per-function CFG -> path exploration against the emulator ->
 * checkers -> findings (shared/DESIGN.md §1). The CLI and the language server are thin faces
 * over `analyzeText` and `runFunction`. Results are cached per function by its text, the
 * summaries of the helpers it may call, and the settings, so an edit re-analyses only the
 * functions it touched.
 */
import { createHash } from 'node:crypto';
import { parseC, Tree, SyntaxNode } from '../parse/parser';
import { listFunctions, findDefines, FunctionInfo } from '../parse/functions';
import { focusText } from '../parse/focus';
import { Config, configKey } from '../config';
import { buildCfg, buildCfgFromStatements } from '../ir/cfg';
import { toPlain } from '../ir/plain-node';
import { explore, Exploration, Summary, PathRecord } from '../exec/executor';
import { API, KIND_NAME, lookupApi } from '../model/api';
import { Val } from '../exec/value';
import type { FileResult, Finding, FunctionResult, PathTrace, Range, ResourceInfo, Severity } from './types';
import { CallerCleanup, CheckContext, Checker, siteRange } from '../checkers/common';
import { checkLeak } from '../checkers/leak';
import { checkUnmapSize } from '../checkers/unmap-size-mismatch';
import { checkUnreservedIova } from '../checkers/unreserved-iova';
import { checkMissingErrorPath } from '../checkers/missing-error-path';
import { checkDoubleRelease, checkWrongReleaseFunction, checkDirectionMismatch } from '../checkers/release-misuse';
import { checkMapRefused } from '../checkers/map-refused';
import { checkDmaOnStack } from '../checkers/dma-on-stack';
import { checkSmallCoherentAlloc } from '../checkers/small-coherent-alloc';
import { checkNoDmaCookie } from '../checkers/no-dma-cookie';
import { checkStaleIotlb } from '../checkers/stale-iotlb';
import { checkSyncOutOfRange, checkSyncDirection } from '../checkers/sync-out-of-range';
import { checkUseAfterRelease } from '../checkers/use-after-release';
import { checkUnreleasedAtRemove } from '../checkers/unreleased-at-remove';
import { DriverStructure, TeardownInfo } from './driver-structure';
import { checkCpuAccessWithoutSync } from '../checkers/cpu-access-without-sync';
import { fixesFor, callAt, holderOf } from './fixes';
import { summarise, digest } from './summaries';
import { describe, memberChain } from '../exec/ownership';
import { codeOnly, callArgs } from '../parse/lex';

export * from './types';

/** Names of other files' functions that may release what an object holds (callers' cleanup only). */
const RELEASE_LIKE = /(free|release|put|destroy|unref|cleanup|teardown|uninit|fini|deinit|remove|unmap|dealloc|unprepare|reset|shutdown|stop|close)/i;

/**
 * Frees of plain memory: what the object held is lost with it, not released. An skb's free
 * unmaps nothing the driver mapped (a page pool's pages stay the pool's).
 */
const PLAIN_FREE = /^(kv?free|kfree_sensitive|kvfree_sensitive|kzfree|vfree|devm_kfree|kmem_cache_free|free_netdev|(dev_)?kfree_skb(_any|_irq)?|(dev_|napi_)?consume_skb(_any|_irq)?)$/;

/** One checker per rule. */
export const CHECKERS: Checker[] = [
  checkLeak, checkUnmapSize, checkUnreservedIova, checkMissingErrorPath,
  checkDoubleRelease, checkWrongReleaseFunction, checkDirectionMismatch, checkMapRefused,
  checkDmaOnStack, checkSmallCoherentAlloc, checkNoDmaCookie, checkStaleIotlb,
  checkSyncOutOfRange, checkSyncDirection, checkUseAfterRelease, checkCpuAccessWithoutSync,
];

export interface CancelToken { readonly isCancelled: boolean }

/**
 * Ops fields whose function, when it fails, nobody unwinds for: the driver core calls no remove
 * after a failed probe, no stop after a failed open; the RDMA core no destroy after a failed
 * create_cq/create_qp/alloc_pd..., vb2 no buf_cleanup after a failed buf_init and no
 * stop_streaming after a failed start_streaming, dmaengine no free_chan_resources after a failed
 * alloc, the crypto API no exit after a failed init, register_netdevice no ndo_uninit after a
 * failed ndo_init. (ALSA's hw_params is not one: the core calls hw_free after it fails.)
 */
const ENTRY_FIELDS = /\.(probe|ndo_open|open|ndo_init|create_cq|create_qp|create_srq|create_ah|create_wq|alloc_pd|alloc_ucontext|alloc_mr|alloc_mw|reg_user_mr|buf_init|start_streaming|device_alloc_chan_resources|cra_init|init_tfm)\s*=\s*&?([A-Za-z_]\w*)/g;
/** The same callbacks by the name an exported function of the driver gives them. */
const ENTRY_NAMES = /_(create_cq|create_qp|create_srq|create_ah|alloc_pd|alloc_ucontext|alloc_mr|reg_user_mr|buf_init|start_streaming|alloc_chan_resources)$/;
/** Ops fields of request handlers (CheckContext.requestHandler). */
const REQUEST_FIELDS = /\.(ndo_start_xmit|queuecommand|do_one_request)\s*=\s*&?([A-Za-z_]\w*)/g;

/** Per-function results keyed by function text + summaries + settings; least recently used out first. */
export class ResultCache {
  private map = new Map<string, FunctionResult>();
  hits = 0;
  misses = 0;
  constructor(private maxEntries = 5000) {}
  get(k: string): FunctionResult | undefined {
    const v = this.map.get(k);
    if (v) { this.map.delete(k); this.map.set(k, v); this.hits++; } else this.misses++;
    return v;
  }
  set(k: string, v: FunctionResult): void {
    this.map.set(k, v);
    if (this.map.size > this.maxEntries) this.map.delete(this.map.keys().next().value as string);
  }
  get size(): number { return this.map.size; }
  /** Drop entries (a closed document's functions that no open document shares). */
  forget(keys: Iterable<string>): void {
    for (const k of keys) this.map.delete(k);
  }
}

export interface AnalyzeOptions {
  config: Config;
  cache?: ResultCache;
  /** An up-to-date tree for `text` (the language server keeps one per document). */
  tree?: Tree;
  token?: CancelToken;
  /** Count ERROR nodes and the API calls inside them (FileResult.parse), for corpus reports. */
  stats?: boolean;
  /**
   * Blank the function definitions the analysis cannot need before parsing (parse/focus.ts).
   * Default: on when no tree is given. The results are the same either way; only the time differs.
   */
  focus?: boolean;
  /** Filled with the cache keys of the functions analysed (the server forgets them on close). */
  keys?: Set<string>;
}

/** Analyse every function of a C file. Never throws on bad input. */
export function analyzeText(whole: string, uri: string, opts: AnalyzeOptions): FileResult {
  const t0 = Date.now();
  const text = !opts.tree && opts.focus !== false ? focusText(whole, opts.config.wrappers).text : whole;
  const tree = opts.tree ?? parseC(text);
  let fns: FunctionInfo[];
  let file: FileContext;
  try {
    fns = listFunctions(tree, text);
    file = new FileContext(tree, text, fns, opts.config, whole);
  } catch (e) {
    // A tree too deep to walk (20,000 nested `#if`s): say so on the file, lose nothing else.
    const msg = e instanceof RangeError ? 'the file nests too deeply to read' : `internal error: ${(e as Error).message}`;
    return {
      uri, functions: [], parse: { errorNodes: 0, apiCallsInErrors: 0, apiCalls: 0, millis: Date.now() - t0 },
      fileFindings: [{ rule: 'budget', severity: 'information', function: '', related: [],
        range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
        message: `IOMMU Lens could not analyse this file: ${msg}` }],
    };
  }
  const functions: FunctionResult[] = [];
  let errorNodes = 0;
  let apiCallsInErrors = 0;
  let apiCalls = 0;
  for (const f of fns) {
    if (opts.token?.isCancelled) break;
    apiCalls += f.apiCalls.length;
    if (opts.stats && f.node.hasError) {
      const e = errorStats(f.node, text);
      errorNodes += e.errors;
      apiCallsInErrors += e.apiInErrors;
    }
    functions.push(file.analyze(f, opts.cache, undefined, opts.keys));
  }
  const parseMs = Date.now() - t0;
  return {
    uri, functions, fileFindings: [],
    parse: { errorNodes, apiCallsInErrors, apiCalls, millis: parseMs },
  };
}

export interface RunOptions {
  config: Config;
  /** The fallible call (0-based, in execution order) that fails; null: all succeed. */
  failAt?: number | null;
  tree?: Tree;
  /** Run only the statements of the function inside these lines (a selection), not the whole function. */
  selection?: Range;
}

/** Run one function on the emulator along one failure plan, with emulator snapshots after each step. */
export function runFunction(text: string, functionName: string, opts: RunOptions): FunctionResult | undefined {
  const tree = opts.tree ?? parseC(text);
  const fns = listFunctions(tree, text);
  const f = fns.find((x) => x.name === functionName);
  if (!f) return undefined;
  const file = new FileContext(tree, text, fns, opts.config);
  const r = file.analyze(f, undefined, { onlyFailAt: opts.failAt ?? null, snapshots: true, selection: opts.selection });
  // Show first the path a user means: all succeed and the function reports success; with a
  // failure, the path that reports it.
  const want = opts.failAt === null || opts.failAt === undefined ? 'success' : 'failure';
  const rank = (p: PathTrace) => (p.exit.endsWith(`(${want})`) ? 0 : p.exit.endsWith(')') ? 2 : 1);
  // Then the path that runs the most calls (a selection's first `if (ret) goto` on an unknown
  // would otherwise end the run before its calls).
  const order = r.paths.map((p, i) => i).sort((a, b) => rank(r.paths[a]) - rank(r.paths[b])
    || r.paths[b].steps.length - r.paths[a].steps.length || a - b);
  const remap = new Map(order.map((old, i) => [old, i]));
  return {
    ...r,
    paths: order.map((i) => r.paths[i]),
    findings: r.findings.map((x) => (x.pathIndex === undefined ? x : { ...x, pathIndex: remap.get(x.pathIndex) })),
  };
}

/** The teardown a helper of an entry point is checked against, and what the entry point releases itself. */
interface HelperTeardown { td: TeardownInfo; entry: string; released: Map<string, Set<string> | '*'> }

/**
 * The members an lvalue ends with, as a caller's cleanup names a field: the last two when it
 * names two (`cmdq->sq.qbuf` -> `sq.qbuf`, which is not `cq.qbuf`), else the last (`cq->qbuf` ->
 * `qbuf`: `cq` is a variable, perhaps an alias of `&cmdq->cq`). Indexes and `+0` are dropped.
 */
export function memberTail(lvalue: string): string | undefined {
  const parts = memberChain(lvalue);
  if (parts.length < 2) return undefined;
  const members = parts.slice(1);
  if (!members.every((m) => /^[A-Za-z_]\w*$/.test(m))) return undefined;
  return members.length >= 2 ? members.slice(-2).join('.') : members[0];
}

/** Names of the functions in a file, with whether they use the API (for code lenses and `run` without a name). */
export function functionsOf(text: string, tree?: Tree): FunctionInfo[] {
  return listFunctions(tree ?? parseC(text), text);
}


class FileContext {
  private defines: Map<string, Val | string>;
  private rawDefines: Map<string, string>;
  readonly summaries: Map<string, Summary>;
  /** Settings and helper summaries: what every function's result also depends on (for the cache only). */
  private fileKeyMemo?: string;
  private get fileKey(): string {
    if (this.fileKeyMemo === undefined) {
      const summaryKey = JSON.stringify([...this.summaries].map(([n, s]) => [n, digest(s)]));
      this.fileKeyMemo = createHash('sha1').update(configKey(this.config)).update(summaryKey).digest('base64');
    }
    return this.fileKeyMemo;
  }

  /**
   * `text` is what was parsed (perhaps focused: parse/focus.ts); `whole` the file as written,
   * for the scans that look outside functions' own text.
   */
  constructor(private tree: Tree, private text: string, private fns: FunctionInfo[], private config: Config, private whole = text) {
    this.rawDefines = findDefines(tree, text);
    this.defines = new Map(this.rawDefines);
    this.summaries = summarise(fns, config, text, (f, summaries) => this.readHelper(f, summaries));
  }

  private driver?: DriverStructure;
  /** The file's lines, for the quick fixes (split once). */
  private textLines?: string[];
  /** The teardown closure of an entry point (probe, ndo_open, open) the file installs (engine/driver-structure.ts). */
  private teardownOf(name: string): TeardownInfo | undefined {
    const field = this.entryPoints().get(name);
    if (field !== 'probe' && field !== 'ndo_open' && field !== 'open') return this.helperTeardown(name)?.td;
    this.driver ??= new DriverStructure(this.whole);
    return this.driver.teardownFor(name, field);
  }

  private helperTeardowns = new Map<string, HelperTeardown | null>();
  /**
   * A function of the file that an entry point (probe, ndo_open, open) calls directly
   * (`foo_alloc_rings(priv)` in foo_probe()): what it stores in the driver's object must be released
   * by that entry point's teardown too. The first such entry point with a teardown; with what it
   * releases itself (then the helper's buffer is not left for the teardown).
   */
  private helperTeardown(name: string): HelperTeardown | undefined {
    if (this.helperTeardowns.has(name)) return this.helperTeardowns.get(name) ?? undefined;
    let hit: HelperTeardown | undefined;
    this.driver ??= new DriverStructure(this.whole);
    for (const [entry, field] of this.entryPoints()) {
      if (field !== 'probe' && field !== 'ndo_open' && field !== 'open') continue;
      if (!this.driver.callees(entry).has(name)) continue;
      const td = this.driver.teardownFor(entry, field);
      if (!td) continue;
      const released = this.driver.releasedFrom(entry);
      hit = { td: { ...td, digest: createHash('sha1').update(td.digest).update(entry)
        .update(JSON.stringify([...released].map(([k, v]) => [k, v === '*' ? '*' : [...v].sort()]))).digest('base64') }, entry, released };
      break;
    }
    this.helperTeardowns.set(name, hit ?? null);
    return hit;
  }

  private entries?: Map<string, string>;
  /** Probe and open functions of the file: named in a `.probe =` / `.ndo_open =` / `.open =` initializer, or `*_probe`. */
  private entryPoints(): Map<string, string> {
    if (this.entries) return this.entries;
    const out = new Map<string, string>();
    for (const m of this.whole.matchAll(ENTRY_FIELDS)) if (!out.has(m[2])) out.set(m[2], m[1]);
    for (const f of this.fns) if (/_probe(_one)?$|_init_one$/.test(f.name) && !out.has(f.name)) out.set(f.name, 'probe');
    // Installed by an ops table of another file (erdma_main.c's `.create_cq = erdma_create_cq`):
    // an exported function named for the callback, that nothing in this file calls.
    for (const f of this.fns) {
      const cb = ENTRY_NAMES.exec(f.name)?.[1];
      if (!cb || f.isStatic || out.has(f.name)) continue;
      if (!new RegExp(`\\b${f.name}\\s*\\(`).test(this.whole.slice(0, f.startIndex) + this.whole.slice(f.endIndex))) out.set(f.name, cb);
    }
    return (this.entries = out);
  }

  private handlers?: Set<string>;
  /** Request handlers (REQUEST_FIELDS, or a function returning netdev_tx_t): see CheckContext. */
  private requestHandlers(): Set<string> {
    if (this.handlers) return this.handlers;
    const out = new Set<string>();
    for (const m of this.whole.matchAll(REQUEST_FIELDS)) out.add(m[2]);
    for (const f of this.fns) if (/\bnetdev_tx_t\b/.test(f.returnType)) out.add(f.name);
    return (this.handlers = out);
  }

  private inlineMap?: Map<string, { params: string[]; expr: SyntaxNode }>;
  /** One-line accessors of the file (`return container_of(vdesc, struct xdma_desc, vdesc);`). */
  private inlines(): Map<string, { params: string[]; expr: SyntaxNode }> {
    if (this.inlineMap) return this.inlineMap;
    const out = new Map<string, { params: string[]; expr: SyntaxNode }>();
    for (const f of this.fns) {
      if (f.apiCalls.length || f.endIndex - f.startIndex > 400 || !f.returnsPointer) continue;
      const src = this.text.slice(f.startIndex, f.endIndex);
      if (!/\{\s*return\s[^;]*;\s*\}\s*$/.test(src) || !/\b(container_of|list_entry)\s*\(/.test(src)) continue;
      const body = toPlain(f.node, this.text).childForFieldName('body');
      const stmts = body?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
      const expr = stmts.length === 1 && stmts[0].type === 'return_statement' ? stmts[0].namedChildren[0] : undefined;
      if (expr && f.params.every((p) => p.name)) out.set(f.name, { params: f.params.map((p) => p.name), expr });
    }
    return (this.inlineMap = out);
  }

  private code?: string;
  /**
   * The values a static function's parameter takes, when every call in the file passes a
   * constant for it (tw_allocate_memory(tw_dev, size, 0) and (..., 1)): its `switch (which)`
   * default is not a path. Only for a parameter the body switches on or compares, at most 4
   * values, and no use of the name other than calls (no function pointer taken).
   */
  private constParams(f: FunctionInfo): Map<string, number[]> | undefined {
    if (!f.isStatic || f.params.length === 0) return undefined;
    const body = this.text.slice(f.startIndex, f.endIndex);
    const tested = f.params.map((p) => p.name).filter((n) => n && /^[A-Za-z_]\w*$/.test(n)
      && new RegExp(`\\bswitch\\s*\\(\\s*${n}\\s*\\)|\\b${n}\\s*[!=]=|[!=]=\\s*${n}\\b`).test(body));
    if (tested.length === 0) return undefined;
    this.code ??= codeOnly(this.text);
    const code = this.code;
    const values = new Map<number, Set<number>>();
    let calls = 0;
    for (const m of code.matchAll(new RegExp(`\\b${f.name}\\b`, 'g'))) {
      const at = m.index!;
      if (at >= f.startIndex && at < f.endIndex) continue; // its own definition (and recursion)
      let i = at + f.name.length;
      while (/\s/.test(code[i] ?? '')) i++;
      if (code[i] !== '(') {
        // A prototype `static int f(...);` is fine; any other use (a function pointer) is not.
        if (/^\s*\(/.test(code.slice(i))) continue;
        return undefined;
      }
      // Split the arguments at top-level commas.
      const args: string[] = [];
      let depth = 0, start = i + 1, j = i;
      for (; j < code.length; j++) {
        const c = code[j];
        if (c === '(' || c === '[' || c === '{') depth++;
        else if (c === ')' || c === ']' || c === '}') { if (--depth === 0) break; }
        else if (c === ',' && depth === 1) { args.push(code.slice(start, j)); start = j + 1; }
      }
      args.push(code.slice(start, j));
      // A prototype (`static int f(struct x *a, int b);`) names types, not values.
      const before = code.slice(Math.max(0, at - 40), at);
      if (/\b(static|int|void|bool|u\d+|long|char|struct\s+\w+\s*\*?)\s*\*?\s*$/.test(before)) continue;
      if (args.length !== f.params.length) return undefined;
      calls++;
      args.forEach((a, k) => {
        const t = a.trim();
        const n = /^-?(0x[0-9a-f]+|\d+)[uUlL]*$/i.test(t) ? Number(t.replace(/[uUlL]+$/, '')) : t === 'true' ? 1 : t === 'false' ? 0 : NaN;
        if (!values.has(k)) values.set(k, new Set());
        values.get(k)!.add(Number.isFinite(n) ? n : NaN);
      });
    }
    if (calls === 0) return undefined;
    const out = new Map<string, number[]>();
    f.params.forEach((p, k) => {
      const vs = [...(values.get(k) ?? [])];
      if (tested.includes(p.name) && vs.length <= 4 && vs.every((v) => Number.isFinite(v))) out.set(p.name, vs.sort((a, b) => a - b));
    });
    // One parameter's values only: the paths multiply by their number.
    const first = [...out][0];
    return first ? new Map([first]) : undefined;
  }

  private cleaners = new Map<string, CallerCleanup>();
  /**
   * What the callers in this file do after `name()` fails (docs/ownership.md, "Failing exits"):
   * the kinds of resource their cleanup releases (the code after `if (ret) goto err;` under
   * `err:` and the labels it falls through to, or the block of `if (ret) { ... }`), directly or
   * through the file's helpers by their summaries; a caller that hands the failure on
   * (`return ret;` with nothing released) passes the question to its own callers, three deep.
   * `understood` is false when some call site's failure handling could not be read.
   */
  private cleanedByCaller(name: string, depth = 0): CallerCleanup {
    const hit = this.cleaners.get(name);
    if (hit) return hit;
    const out: CallerCleanup = { callers: 0, kinds: new Set(), understood: true, fields: new Map() };
    const addField = (k: string, f: string | '*') => {
      const cur = out.fields!.get(k);
      if (cur === '*') return;
      if (f === '*') { out.fields!.set(k, '*'); return; }
      if (!cur) out.fields!.set(k, new Set([f])); else cur.add(f);
    };
    const self = this.fns.find((f) => f.name === name);
    // On the stack: a recursion among callers, say nothing.
    this.cleaners.set(name, { callers: 0, kinds: new Set(), understood: false });
    const kindsOf = (text: string): Set<string> => {
      const ks = new Set<string>();
      for (const m of text.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) {
        if (m[1] === name) continue;
        const api = lookupApi(m[1], this.config.wrappers);
        if (api?.spec.releases) {
          // The members its arguments name: `dma_free_coherent(dev, sz, he_dev->rbrq_base, he_dev->rbrq_phys)`.
          const args = callArgs(text, m.index! + m[0].length - 1);
          const members = args.map((a) => memberTail(a)).filter((x): x is string => !!x);
          for (const k of api.spec.releases.kinds) {
            ks.add(k);
            if (members.length) for (const f of members) addField(k, f); else addField(k, '*');
          }
          continue;
        }
        const sm = this.summaries.get(m[1]);
        if (sm) {
          // The fields its releases name (`gve_free_counter_array(priv)` frees `counter_array`);
          // a kind it releases by no handle it names (a local, a walk) takes any field.
          const named = new Set<string>();
          for (const r of sm.released) {
            const f = memberTail(r.handle);
            for (const k of r.kinds) { ks.add(k); addField(k, f ?? '*'); named.add(k); }
          }
          for (const k of sm.releases) { ks.add(k); if (!named.has(k)) addField(k, '*'); }
        }
        // A function of another file that may tear the object down (`nvkm_memory_unref(&memory)`):
        // what it releases is unknown, so nothing is concluded from this caller.
        else if (RELEASE_LIKE.test(m[1]) && !PLAIN_FREE.test(m[1])) out.understood = false;
      }
      return ks;
    };
    const passOn = (c: FunctionInfo) => {
      // A probe or open that fails is not unwound by anyone (no remove, no stop).
      if (this.entryPoints().has(c.name) || this.requestHandlers().has(c.name)) return;
      if (depth >= 3) { out.understood = false; return; }
      const up = this.cleanedByCaller(c.name, depth + 1);
      if (!up.understood || up.callers === 0) { out.understood = false; return; }
      for (const k of up.kinds) out.kinds.add(k);
      for (const [k, f] of up.fields ?? []) { if (f === '*') addField(k, '*'); else for (const x of f) addField(k, x); }
    };
    for (const c of this.fns) {
      if (c.name === name) continue;
      const src = this.text.slice(c.startIndex, c.endIndex);
      for (const m of src.matchAll(new RegExp(`\\b${name}\\s*\\(`, 'g'))) {
        out.callers++;
        const before = src.slice(Math.max(0, m.index! - 60), m.index!);
        // `return foo(p);`: the failure is the caller's own.
        if (/\breturn\s*$/.test(before)) { passOn(c); continue; }
        // The `if` that tests the result: around the call (`if (foo(p))`), or after `ret = foo(p);`
        // (perhaps past an `else ret = bar(p);`).
        let next: string;
        const inIf = /\bif\s*\([^;{}]*$/.exec(before);
        if (inIf) next = src.slice(m.index! - before.length + inIf.index, m.index! + 900);
        else {
          const after = src.slice(m.index!, m.index! + 400);
          const end = after.indexOf(';');
          next = after.slice(end + 1, end + 300);
          const lhs = /([A-Za-z_]\w*)\s*=\s*$/.exec(before)?.[1];
          if (lhs) {
            const at = next.search(new RegExp(`\\bif\\s*\\(\\s*(unlikely\\s*\\(\\s*)?!?\\s*${lhs}\\b`));
            if (at < 0) { out.understood = false; continue; }
            next = next.slice(at);
          }
        }
        const test = /^\s*if\s*\(/.exec(next);
        if (!test) { out.understood = false; continue; }
        let d = 1;
        let i = test[0].length;
        for (; i < next.length && d > 0; i++) d += next[i] === '(' ? 1 : next[i] === ')' ? -1 : 0;
        // Which way the test goes: `if (ret)` / `if (!p)` / `if (IS_ERR(p))` run the failure; `if (!ret)`
        // and `if (p)` the success (then the failure is elsewhere: not read).
        const cond = next.slice(test[0].length, i - 1).replace(/^\s*(unlikely|likely)\s*\(/, '').trim();
        const negated = /^!/.test(cond) || /==\s*0\b/.test(cond);
        if (!(/IS_ERR|<\s*0|!=\s*0/.test(cond) || (self?.returnsPointer ? negated : !negated))) { out.understood = false; continue; }
        // The statement or block the failure runs: a `goto` in it leads to the unwind labels.
        let body = next.slice(i);
        if (/^\s*\{/.test(body)) {
          let b = 0, j = body.indexOf('{');
          for (; j < body.length; j++) { b += body[j] === '{' ? 1 : body[j] === '}' ? -1 : 0; if (b === 0) break; }
          body = body.slice(body.indexOf('{') + 1, j);
        } else body = body.slice(0, body.indexOf(';') + 1);
        const go = /\bgoto\s+(\w+)\s*;/.exec(body);
        let cleanup = body;
        if (go) {
          const at = src.search(new RegExp(`\\n\\s*${go[1]}\\s*:`));
          if (at < 0) { out.understood = false; continue; }
          const rest = src.slice(at);
          const ret = rest.search(/\breturn\b[^;]*;/);
          cleanup = body.slice(0, go.index) + rest.slice(0, ret < 0 ? rest.length : ret + rest.slice(ret).indexOf(';') + 1);
        }
        // Only a cleanup that leaves (`return`, or a `goto` to labels that do) is read: after
        // `break;` or a logged warning the failure goes on elsewhere, or is ignored and kept.
        if (!go && !/\breturn\b/.test(cleanup)) { out.understood = false; continue; }
        const ks = kindsOf(cleanup);
        for (const k of ks) out.kinds.add(k);
        if (ks.size > 0) continue;
        // Nothing released: the failure handed on (`return ret;`) is for the callers' callers to
        // unwind; one swallowed (`return;`, `return 0;`) leaves what was stored to live on.
        const ret = /\breturn\b\s*([^;]*);/.exec(cleanup)?.[1].trim();
        if (ret === undefined || ret === '' || ret === '0') { out.understood = false; continue; }
        passOn(c);
      }
    }
    this.cleaners.set(name, out);
    return out;
  }

  private lowered = new Map<FunctionInfo, { fn: SyntaxNode; cfg: ReturnType<typeof buildCfg> }>();
  /**
   * A function's plain copy and its CFG, made once: a helper is read for its summary and analysed
   * as a function of its own, from the same nodes (the executor reads both, writes neither).
   */
  private lower(f: FunctionInfo): { fn: SyntaxNode; cfg: ReturnType<typeof buildCfg> } {
    let l = this.lowered.get(f);
    if (!l) {
      const fn = toPlain(f.node, this.text);
      l = { fn, cfg: buildCfg(fn.childForFieldName('body') ?? fn) };
      this.lowered.set(f, l);
    }
    return l;
  }

  /** Explore a helper's body for its summary (engine/summaries.ts); a small budget of its own. */
  private readHelper(f: FunctionInfo, summaries: Map<string, Summary>): Exploration | undefined {
    try {
      const { fn, cfg } = this.lower(f);
      return explore({
        config: this.config, cfg, fn, params: f.params.map((p) => p.name),
        returnsPointer: f.returnsPointer, returnsZero: /\breturn\s+(0|-EINPROGRESS)\s*;/.test(f.node.text),
        defines: this.defines, evalDefine: (s) => defineExpr(s), summaries, inlines: this.inlines(),
        snapshots: false, asHelper: true, deadline: Date.now() + this.config.budget.timeMsPerFunction, maxPaths: 16,
        maxSteps: Math.max(1, Math.floor(this.config.budget.maxSteps / 8)),
      });
    } catch {
      return undefined; // a bug of ours: the textual summary stands
    }
  }

  analyze(f: FunctionInfo, cache?: ResultCache, run?: { onlyFailAt: number | null; snapshots: boolean; selection?: Range }, keys?: Set<string>): FunctionResult {
    const base = {
      name: f.name,
      range: f.range,
      nameRange: f.nameRange,
      usesApi: f.apiCalls.length > 0 || this.callsWrapper(f.node),
    };
    if (!base.usesApi) return { ...base, findings: [], paths: [], resources: [] };
    const src = this.text.slice(f.startIndex, f.endIndex);
    // What its callers do after it fails decides who owns its unwind: part of its key.
    const cc = this.cleanedByCaller(f.name);
    const pv = run ? undefined : this.constParams(f);
    const ownKey = `${this.entryPoints().get(f.name) ?? ''}|${this.requestHandlers().has(f.name)}|${cc.callers}|${cc.understood}|${[...cc.kinds].sort().join(',')}|${pv ? JSON.stringify([...pv]) : ''}|${this.teardownOf(f.name)?.digest ?? ''}`;
    const ck = run || !cache ? '' : createHash('sha1').update(this.fileKey).update(src).update(this.definesKey(src)).update(ownKey).digest('base64');
    if (cache && !run) {
      keys?.add(ck);
      const hit = cache.get(ck);
      if (hit) return relocate(hit, f);
    }
    let result: FunctionResult;
    try {
      // The executor walks the same nodes on every path: give it a plain copy of the function.
      const l = this.lower(f);
      const fn = l.fn;
      const body = fn.childForFieldName('body');
      const picked = run?.selection && body ? selectedStatements(body, run.selection) : undefined;
      const cfg = picked?.length ? buildCfgFromStatements(picked) : l.cfg;
      // Analysed once: the copy is not needed again (a summary read later is made from it only before).
      this.lowered.delete(f);
      const ex = explore({
        config: this.config, cfg, fn, params: f.params.map((p) => p.name),
        returnsPointer: f.returnsPointer,
        returnsZero: /\breturn\s+(0|-EINPROGRESS)\s*;/.test(f.node.text), defines: this.defines,
        evalDefine: (s) => defineExpr(s), summaries: this.summaries, inlines: this.inlines(),
        snapshots: run?.snapshots ?? false, onlyFailAt: run ? run.onlyFailAt : undefined,
        deadline: Date.now() + this.config.budget.timeMsPerFunction, maxPaths: this.config.budget.maxPaths,
        maxSteps: this.config.budget.maxSteps, paramValues: pv, returnsVoid: f.returnType.trim() === 'void',
      });
      result = { ...base, ...this.results(f, ex, fn) };
    } catch (e) {
      // A bug of ours must not lose the rest of the file: report it on the function and go on.
      result = {
        ...base, paths: [], resources: [],
        findings: [{
          rule: 'budget', severity: 'information', function: f.name, range: f.nameRange, related: [],
          message: `IOMMU Lens could not analyse ${f.name}(): internal error: ${(e as Error).message}`,
        }],
      };
    }
    if (cache && !run) cache.set(ck, result);
    return result;
  }

  private callsWrapper(node: SyntaxNode): boolean {
    const names = Object.keys(this.config.wrappers);
    return names.length > 0 && names.some((n) => node.text.includes(n + '('));
  }

  /** The #defines a function mentions are part of its cache key. */
  private definesKey(src: string): string {
    if (this.rawDefines.size === 0) return '';
    const used = new Set<string>();
    for (const m of src.matchAll(/\b[A-Z_][A-Z0-9_]*\b/g)) if (this.rawDefines.has(m[0])) used.add(m[0]);
    return [...used].map((k) => `${k}=${this.rawDefines.get(k)}`).join(';');
  }

  private results(f: FunctionInfo, ex: Exploration, node?: SyntaxNode): Omit<FunctionResult, 'name' | 'range' | 'nameRange' | 'usesApi'> {
    const ctx: CheckContext = { fn: f.name, exploration: ex, config: this.config, node, entryPoint: this.entryPoints().get(f.name),
      requestHandler: this.requestHandlers().has(f.name),
      returnsVoid: f.returnType.trim() === 'void',
      callers: this.cleanedByCaller(f.name) };
    let findings: Finding[] = [];
    for (const c of CHECKERS) findings.push(...c(ctx));
    // File-level: the teardown of this entry point (its digest is in the cache key, analyze()).
    const td = this.teardownOf(f.name);
    const via = this.entryPoints().has(f.name) ? undefined : this.helperTeardown(f.name);
    if (td) findings.push(...checkUnreleasedAtRemove(ctx, td, via));
    findings = applySeverity(findings, this.config);
    for (const fd of findings) {
      const fix = fixesFor(fd, f, this.text, this.textLines ??= this.text.split('\n'));
      if (fix) fd.fix = fix;
    }
    if (ex.overBudget) {
      findings.push({
        rule: 'budget', severity: 'information', function: f.name, range: f.nameRange, related: [],
        message: `${f.name}(): ${ex.overBudget}`,
      });
    }
    const paths = ex.paths.map((p) => toTrace(p));
    const resources = resourcesOf(ex);
    for (const r of resources) {
      const call = callAt(f.node, r.range.start.line, r.range.start.character);
      r.holder = (call && holderOf(call)) ?? '';
    }
    return { findings, paths, resources, overBudget: ex.overBudget };
  }
}

function toTrace(p: PathRecord): PathTrace {
  const snaps = p.state.snaps.toArray();
  return {
    label: p.label,
    failAt: p.failAt,
    exit: p.state.oops ? `stops at line ${p.exit.line + 1}: kernel oops: ${p.state.oops.why}` : `leaves at line ${p.exit.line + 1}: ${p.exit.text}${p.exit.failure === true ? ' (failure)' : p.exit.failure === false ? ' (success)' : ''}`,
    steps: p.state.steps.toArray(),
    snapshots: snaps,
  };
}

function resourcesOf(ex: Exploration): ResourceInfo[] {
  const by = new Map<number, ResourceInfo>();
  for (const p of ex.paths) {
    for (const r of p.state.resources) {
      let info = by.get(r.site.at);
      if (!info) {
        info = { kind: KIND_NAME[r.kind], range: siteRange(r.site), holder: '', acquiredBy: r.api, fates: [] };
        by.set(r.site.at, info);
      }
      const fate = r.state === 'released' ? `released by ${r.releasedBy?.api}() at line ${(r.releasedBy?.line ?? 0) + 1}`
        : r.state === 'maybe-released' ? `possibly released by ${r.releasedBy?.api}() at line ${(r.releasedBy?.line ?? 0) + 1}`
          : r.escaped ? `handed off (${describe(r.escaped)})` : `still held when the function leaves at line ${p.exit.line + 1}`;
      if (info.fates.length < 12 && !info.fates.some((x) => x.path === p.label && x.fate === fate)) info.fates.push({ path: p.label, fate });
    }
  }
  return [...by.values()];
}

function applySeverity(findings: Finding[], config: Config): Finding[] {
  return findings.flatMap((f) => {
    const s = config.rules[f.rule];
    if (s === 'off') return [];
    return s ? [{ ...f, severity: s as Severity }] : [f];
  });
}

/** A cached result computed for the same text at another place in the file: shift its lines. */
function relocate(r: FunctionResult, f: FunctionInfo): FunctionResult {
  const dl = f.range.start.line - r.range.start.line;
  if (dl === 0) return r;
  const mv = <T extends { start: { line: number }; end: { line: number } }>(x: T): T =>
    ({ ...x, start: { ...x.start, line: x.start.line + dl }, end: { ...x.end, line: x.end.line + dl } });
  return {
    ...r,
    range: f.range,
    nameRange: f.nameRange,
    findings: r.findings.map((x) => ({
      ...x, range: mv(x.range), related: x.related.map((y) => ({ ...y, range: mv(y.range) })),
      fix: x.fix && { ...x.fix, edits: x.fix.edits.map((e) => ({ ...e, range: mv(e.range) })) },
    })),
    paths: r.paths.map((p) => ({ ...p, steps: p.steps.map((s) => ({ ...s, line: s.line + dl })) })),
    resources: r.resources.map((x) => ({ ...x, range: mv(x.range) })),
  };
}

/**
 * The statements a selection covers: those of the innermost block that holds the whole selection,
 * from the one where it starts to the one where it ends.
 */
function selectedStatements(body: SyntaxNode, sel: Range): SyntaxNode[] {
  const a = sel.start.line;
  const b = sel.end.line;
  let block = body;
  for (;;) {
    const inner = block.namedChildren.flatMap((c) => (c.type === 'compound_statement' ? [c] : c.namedChildren.filter((x) => x.type === 'compound_statement')))
      .find((c) => c.startPosition.row < a && c.endPosition.row > b);
    if (!inner) break;
    block = inner;
  }
  return block.namedChildren.filter((c) => c.endPosition.row >= a && c.startPosition.row <= b && c.type !== 'comment');
}

const defineCache = new Map<string, SyntaxNode | null>();
/** Parse a #define's replacement text as an expression. */
function defineExpr(text: string): SyntaxNode | null {
  if (defineCache.has(text)) return defineCache.get(text)!;
  let node: SyntaxNode | null = null;
  if (text.trim() && text.length < 400) {
    const src = `long __v = (${text});`;
    const t = parseC(src);
    const decl = t.rootNode.namedChildren[0];
    const init = decl?.type === 'declaration' ? decl.childrenForFieldName('declarator')[0]?.childForFieldName('value') : null;
    // A plain copy: a cached native node would keep its whole tree (native memory) alive.
    node = init && !init.hasError ? toPlain(init, src) : null;
  }
  if (defineCache.size > 10000) defineCache.clear();
  defineCache.set(text, node);
  return node;
}

/** ERROR/MISSING nodes in a function, and the API names inside ERROR nodes (one cursor walk). */
function errorStats(node: SyntaxNode, text: string): { errors: number; apiInErrors: number } {
  const c = node.walk();
  let errors = 0;
  let apiInErrors = 0;
  let depth = 0;
  let errDepth = -1; // depth of the ERROR node we are inside, or -1
  for (;;) {
    const type = c.nodeType;
    if (type === 'ERROR' || c.nodeIsMissing) {
      errors++;
      if (type === 'ERROR' && errDepth < 0) errDepth = depth;
    }
    if (errDepth >= 0 && type === 'identifier' && API.has(text.slice(c.startIndex, c.endIndex))) apiInErrors++;
    if (c.gotoFirstChild()) { depth++; continue; }
    for (;;) {
      if (depth === 0) return { errors, apiInErrors };
      if (c.gotoNextSibling()) {
        if (errDepth === depth) errDepth = -1;
        break;
      }
      c.gotoParent();
      depth--;
      if (errDepth === depth) errDepth = -1;
    }
  }
}
