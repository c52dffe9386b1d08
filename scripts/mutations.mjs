// Mutation operators for scripts/mutate.mjs: C text in, mutants out. Each mutant is one edit of
// one function that plants one DMA/IOMMU bug the engine should report, on every eligible site of
// the file (not a hand-picked few). Pure functions: no I/O besides loading the project's parser
// from out/ (needs `npm run build`, or `npx tsc -b server`).
//
//   import { mutants, OPS } from './mutations.mjs';
//   const base = analyzeText(text, file, { config });          // the unmutated analysis
//   for (const m of mutants(text, base)) analyzeText(m.text, file, { config, cache });
//
// Operators (see mutate.mjs for how a mutant counts as found):
//   drop-check      the failure test of one fallible acquisition becomes `0`:
//                   `if (dma_mapping_error(dev, x))` (also under unlikely(), !, ||, &&); the NULL or
//                   zero test of a dma_alloc_coherent/dma_alloc_attrs/dma_pool_alloc/dma_pool_zalloc/
//                   alloc_iova/alloc_iova_fast/dma_map_sg/__get_free_pages/alloc_pages/
//                   iommu_domain_alloc result (`!p`, `p == NULL`, `p == 0`, `!x->buf`, `n <= 0`,
//                   IS_ERR_OR_NULL(p), under unlikely()/WARN_ON()/||/&&); `if (ret)` / `if (ret < 0)` /
//                   `if (ret != 0)` as the statement right after `ret = iommu_map(...)` or
//                   `ret = iommu_attach_device(...)`. Eligible when the result (variable or lvalue
//                   text) is tested by exactly one condition in the function after the acquisition
//                   (tests that follow a later store of the same lvalue in the same or an enclosing
//                   block see another value and do not count); otherwise the other test is still
//                   there (an equivalent mutant). Any test counts (`n > MAX`, `if (p)`, IS_ERR(),
//                   dma_mapping_error()); the one dropped must be the failure test.
//                   Expected: missing-error-path at the acquiring call's line.
//   drop-release    a release statement under a goto label (inside a labeled_statement, or after
//                   a label in an enclosing block: the unwind ladder) becomes `;` plus blanks (same
//                   lines). Expected: a leak at the acquiring line of a resource the release freed.
//   change-size     the size argument S of a release becomes `(S) * 2` (a page order: `(S) + 1`).
//                   Expected: unmap-size-mismatch at the release's line.
//   swap-direction  a dma_unmap_{single,page,sg,resource}[_attrs] direction literal: TO <-> FROM,
//                   BIDIRECTIONAL -> TO; only when the acquisition's direction is a literal too.
//                   Expected: direction-mismatch at the release's line.
//   sync-after-unmap  a `dma_sync_single_for_cpu(dev, h, size, dir);` with the release's own
//                   arguments appended, on the same line, after a dma_unmap_single/page[_attrs]
//                   statement. Expected: use-after-release on that line (the statement's last).
//   grow-sync       the size S of a dma_sync_single_for_{cpu,device}() of a handle the function
//                   mapped with dma_map_single/page, S written as the map's size (the handle's
//                   text is the resource's holder; a sync of part of the buffer is not eligible:
//                   twice an unknown part is not provably past the end), becomes `(S) * 2`.
//                   Expected: sync-out-of-range at the sync's line.
//   drop-teardown-release  a release statement in a teardown the file installs (`.remove`,
//                   `.remove_new`, `.ndo_stop`, `.release`) becomes `;`, when it releases a field
//                   (`priv->rx_buf`) that the file assigns from an acquisition. Expected:
//                   unreleased-at-remove anywhere in the file naming that field (file-level: see
//                   judgeFile()).
// drop-release, change-size, swap-direction and sync-after-unmap are eligible only where the unmutated analysis says
// the release freed a resource acquired in the same function (a fate `released by NAME() at line
// L` of one of the function's resources, L the release's line).
//
// Lines in mutants are 1-based. Every mutant keeps the file's line count, so the other functions
// stay where they were (and come from the ResultCache).
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
let parser;
/**
 * The project's parser and API table, loaded on first use: from out/ of the repository, or of the
 * engine snapshot mutate.mjs makes ($IOMMU_LENS_ENGINE, a directory with out/ and node_modules/).
 */
function project() {
  if (!parser) {
    const base = process.env.IOMMU_LENS_ENGINE || root;
    const { parseC } = require(resolve(base, 'out/server/src/parse/parser.js'));
    const { listFunctions } = require(resolve(base, 'out/server/src/parse/functions.js'));
    const { API } = require(resolve(base, 'out/server/src/model/api.js'));
    parser = { parseC, listFunctions, API };
  }
  return parser;
}

export const OPS = ['drop-check', 'drop-release', 'change-size', 'swap-direction', 'sync-after-unmap', 'grow-sync', 'drop-teardown-release'];

/** The rule each operator should make the engine report. */
export const EXPECTED_RULE = {
  'drop-check': 'missing-error-path',
  'drop-release': 'leak',
  'change-size': 'unmap-size-mismatch',
  'swap-direction': 'direction-mismatch',
  'sync-after-unmap': 'use-after-release',
  'grow-sync': 'sync-out-of-range',
  'drop-teardown-release': 'unreleased-at-remove',
};

/** Acquisitions tested with dma_mapping_error(). */
const MAPPING_ERROR_ACQ = new Set([
  'dma_map_single', 'dma_map_single_attrs', 'dma_map_page', 'dma_map_page_attrs', 'skb_frag_dma_map', 'dma_map_resource',
]);
/** Acquisitions whose failure is a NULL (or zero) result. */
const NULL_ACQ = new Set([
  'dma_alloc_coherent', 'dma_alloc_attrs', 'dma_pool_alloc', 'dma_pool_zalloc', 'alloc_iova', 'alloc_iova_fast',
  'dma_map_sg', '__get_free_pages', 'alloc_pages', 'iommu_domain_alloc',
]);
/** ... of them, those returning a number (a count, a pfn, an address): `n <= 0` tests them too. */
const INT_ACQ = new Set(['alloc_iova_fast', 'dma_map_sg', '__get_free_pages']);
/** Acquisitions returning 0 or a negative errno, tested right after by `if (ret)`. */
const ERRNO_ACQ = new Set(['iommu_map', 'iommu_attach_device']);

export const RELEASES = new Set([
  'dma_unmap_single', 'dma_unmap_single_attrs', 'dma_unmap_page', 'dma_unmap_page_attrs',
  'dma_unmap_resource', 'dma_unmap_sg', 'dma_unmap_sg_attrs', 'dma_unmap_sgtable', 'dma_unmap_sgtable_attrs',
  'dma_free_coherent', 'dma_free_attrs', 'dma_free_noncoherent', 'dma_pool_free',
  '__free_iova', 'free_iova', 'free_iova_fast', 'iommu_dma_free_iova',
  'free_pages', '__free_pages', 'iommu_unmap', 'iommu_domain_free', 'iommu_detach_device',
]);

/** Release -> [size argument, how to change it]. */
const SIZE_ARG = {
  dma_unmap_single: [2, 'mul'], dma_unmap_single_attrs: [2, 'mul'], dma_unmap_page: [2, 'mul'],
  dma_unmap_page_attrs: [2, 'mul'], dma_unmap_resource: [2, 'mul'],
  dma_unmap_sg: [2, 'mul'], dma_unmap_sg_attrs: [2, 'mul'],
  dma_free_coherent: [1, 'mul'], dma_free_attrs: [1, 'mul'],
  iommu_unmap: [2, 'mul'], free_iova_fast: [2, 'mul'], iommu_dma_free_iova: [2, 'mul'],
  free_pages: [1, 'order'], __free_pages: [1, 'order'],
};

const DIR_RELEASES = new Set([
  'dma_unmap_single', 'dma_unmap_single_attrs', 'dma_unmap_page', 'dma_unmap_page_attrs',
  'dma_unmap_sg', 'dma_unmap_sg_attrs', 'dma_unmap_resource', 'dma_unmap_resource_attrs',
]);
const DIR_ARG = 3;
const SWAP = { DMA_TO_DEVICE: 'DMA_FROM_DEVICE', DMA_FROM_DEVICE: 'DMA_TO_DEVICE', DMA_BIDIRECTIONAL: 'DMA_TO_DEVICE' };

/** Calls a test may stand in and still be that test (one argument, passed through). */
const WRAPPERS = new Set(['likely', 'unlikely', 'WARN_ON', 'WARN_ON_ONCE']);
/** Calls that test their argument. */
const TEST_CALLS = new Set([
  'likely', 'unlikely', 'WARN_ON', 'WARN_ON_ONCE', 'BUG_ON', 'IS_ERR', 'IS_ERR_OR_NULL', 'IS_ERR_VALUE',
  'dma_mapping_error', 'PTR_ERR_OR_ZERO',
]);
const CONDITION_HOLDERS = new Set(['if_statement', 'while_statement', 'do_statement', 'for_statement', 'conditional_expression']);

// ---------------------------------------------------------------------------------------------
// Small tree helpers (tree-sitter nodes are fresh objects on every access: compare by position).

const same = (a, b) => !!a && !!b && a.startIndex === b.startIndex && a.endIndex === b.endIndex && a.type === b.type;
/** Text without blanks and comments: how two lvalues are compared. */
export const norm = (s) => s.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '').replace(/\s+/g, '');
const args = (call) => (call.childForFieldName('arguments')?.namedChildren ?? []).filter((c) => c.type !== 'comment');
const calleeName = (call) => {
  const f = call.childForFieldName('function');
  return f?.type === 'identifier' ? f.text : '';
};
/** The expression inside parentheses and casts. */
function strip(n) {
  for (;;) {
    if (n?.type === 'parenthesized_expression') n = n.namedChildren.find((c) => c.type !== 'comment');
    else if (n?.type === 'cast_expression') n = n.childForFieldName('value');
    else return n;
  }
}
/** The outermost node that is `n` in parentheses or a cast. */
function unstrip(n) {
  for (let p = n.parent; p && (p.type === 'parenthesized_expression' || p.type === 'cast_expression') && !isConditionOf(p); p = p.parent) n = p;
  return n;
}
/** `n` is the condition of an if/while/do/for/?: (the if's own parentheses). */
function isConditionOf(n) {
  const p = n.parent;
  return !!p && CONDITION_HOLDERS.has(p.type) && same(p.childForFieldName('condition'), n);
}
const opOf = (n) => n.childForFieldName('operator')?.type ?? '';
const isZero = (n) => { const s = strip(n); return !!s && /^(NULL|0|0[xX]0+|\(void\s*\*\)\s*0)$/.test(s.text.trim()); };
const lineOf = (n) => n.startPosition.row + 1;

/** The variable or lvalue a call's result is stored in (`p = f()`, `T *p = f()`, `p = (T)f()`), or null. */
function resultHolder(call) {
  const top = unstrip(call);
  const p = top.parent;
  if (p?.type === 'assignment_expression' && opOf(p) === '=' && same(p.childForFieldName('right'), top)) {
    return { holder: norm(p.childForFieldName('left').text), stmt: p.parent?.type === 'expression_statement' ? p.parent : null };
  }
  if (p?.type === 'init_declarator' && same(p.childForFieldName('value'), top)) {
    let d = p.childForFieldName('declarator');
    while (d && d.type !== 'identifier') d = d.childForFieldName('declarator');
    return d ? { holder: d.text, stmt: p.parent?.type === 'declaration' ? p.parent : null } : null;
  }
  return null;
}

/**
 * What the drop-check sites of one function need, read from the tree once: the stores
 * (assignments and initialised declarations: lvalue text, start, and the span of code they cover
 * for sure, see `covers`), and the lvalue-like nodes (text, node).
 */
export function fnContext(fn) {
  const stores = [];
  for (const a of fn.descendantsOfType(['assignment_expression', 'init_declarator'])) {
    let holder = null;
    if (a.type === 'assignment_expression') {
      if (opOf(a) === '=') holder = norm(a.childForFieldName('left').text);
    } else {
      let d = a.childForFieldName('declarator');
      while (d && d.type !== 'identifier') d = d.childForFieldName('declarator');
      holder = d?.text ?? null;
    }
    if (holder) stores.push({ holder, at: a.startIndex, ...covers(a) });
  }
  const occs = fn.descendantsOfType(['identifier', 'field_expression', 'subscript_expression', 'pointer_expression'])
    .map((n) => ({ node: n, text: norm(n.text), at: n.startIndex }));
  return { fn, stores, occs };
}

/**
 * The code a store overwrites the old value for on every path: the rest of the block its statement
 * stands in (through labels). A store that is an if's or loop's bare body covers nothing, nor one
 * inside a larger expression statement's condition. Gotos into the block are not seen.
 */
function covers(a) {
  let n = a;
  while (n.parent && n.type !== 'expression_statement' && n.type !== 'declaration') {
    if (CONDITION_HOLDERS.has(n.parent.type) || n.parent.type === 'compound_statement') return { from: 0, to: 0 };
    n = n.parent;
  }
  let p = n.parent;
  while (p?.type === 'labeled_statement') p = p.parent;
  return p?.type === 'compound_statement' ? { from: n.endIndex, to: p.endIndex } : { from: 0, to: 0 };
}

/**
 * If `n` (an occurrence of a holder, already widened over parentheses and casts) is tested where
 * it stands, the test: { form (the node that is the test), kind }. kind: 'not' (`!h`), 'eqz'
 * (`h == NULL`), 'nez', 'lez' (`h <= 0`, `h < 0`), 'cmp' (other comparisons), 'bare' (`if (h)`,
 * `h && x`), 'call' (an argument of IS_ERR_OR_NULL(), dma_mapping_error()...).
 */
function testAt(n) {
  const p = n.parent;
  if (!p) return null;
  if (isConditionOf(n) || (p.type === 'parenthesized_expression' && isConditionOf(p))) return { form: n, kind: 'bare' };
  if (p.type === 'unary_expression' && opOf(p) === '!') return { form: p, kind: 'not' };
  if (p.type === 'binary_expression') {
    const op = opOf(p);
    const left = same(p.childForFieldName('left'), n);
    const other = p.childForFieldName(left ? 'right' : 'left');
    if (op === '&&' || op === '||') return { form: n, kind: 'bare' };
    if (op === '==') return { form: p, kind: isZero(other) ? 'eqz' : 'cmp' };
    if (op === '!=') return { form: p, kind: isZero(other) ? 'nez' : 'cmp' };
    if (['<', '<=', '>', '>='].includes(op)) {
      const o = strip(other)?.text.trim();
      const lez = (left && ((op === '<=' && o === '0') || (op === '<' && (o === '0' || o === '1'))))
        || (!left && ((op === '>=' && o === '0') || (op === '>' && (o === '0' || o === '1'))));
      return { form: p, kind: lez ? 'lez' : 'cmp' };
    }
    return null;
  }
  if (p.type === 'argument_list' && p.parent?.type === 'call_expression') {
    const name = calleeName(p.parent);
    if (!TEST_CALLS.has(name)) return null;
    if (WRAPPERS.has(name) && args(p.parent).length === 1) return { form: n, kind: 'bare' };
    return { form: p.parent, kind: 'call', call: name };
  }
  if (p.type === 'conditional_expression' && same(p.childForFieldName('condition'), n)) return { form: n, kind: 'bare' };
  return null;
}

/** The node a test counts against: the innermost enclosing condition, or the statement it is in. */
function testRoot(n) {
  for (let c = n; c; c = c.parent) {
    if (isConditionOf(c)) return c;
    if (c.type.endsWith('_statement') || c.type === 'declaration') return c;
  }
  return n;
}

/**
 * The tests of `holder` after `from` in the function that can still see the value stored at
 * `from`: not those after a later store of the same lvalue in the same or an enclosing block. One
 * entry per test root, each with the test occurrences under it.
 */
export function testsOf(ctx, holder, from) {
  const kills = ctx.stores.filter((s) => s.holder === holder && s.at > from && s.to > s.from);
  const roots = new Map();
  for (const o of ctx.occs) {
    if (o.at < from || o.text !== holder) continue;
    if (kills.some((s) => s.at < o.at && o.at >= s.from && o.at < s.to)) continue;
    // `p` of `p->x` is the field expression's own child: not a test of p
    const t = testAt(unstrip(o.node));
    if (!t) continue;
    const r = testRoot(t.form);
    const k = `${r.startIndex}:${r.endIndex}:${r.type}`;
    if (!roots.has(k)) roots.set(k, { root: r, tests: [] });
    roots.get(k).tests.push(t);
  }
  return [...roots.values()];
}

/**
 * The test node, widened over parentheses and the one-argument wrappers (unlikely(), WARN_ON()), and
 * whether it stands in an if's condition as the condition itself or an operand of `||` / `&&`
 * (through `!` too when `throughNot`): what can become `0` and leave the rest of the condition.
 */
function droppable(form, throughNot) {
  let n = form;
  for (;;) {
    const p = n.parent;
    if (!p) return null;
    if (isConditionOf(n)) {
      return p.type === 'if_statement' ? { replace: widenWrappers(form), ifStmt: p } : null;
    }
    if (p.type === 'parenthesized_expression') { n = p; continue; }
    if (p.type === 'binary_expression' && (opOf(p) === '&&' || opOf(p) === '||')) { n = p; continue; }
    if (throughNot && p.type === 'unary_expression' && opOf(p) === '!') { n = p; continue; }
    if (p.type === 'argument_list' && p.parent?.type === 'call_expression' && WRAPPERS.has(calleeName(p.parent)) && args(p.parent).length === 1) {
      n = p.parent;
      continue;
    }
    return null;
  }
}
function widenWrappers(n) {
  for (;;) {
    const p = n.parent;
    if (p?.type === 'parenthesized_expression' && !isConditionOf(p)) { n = p; continue; }
    if (p?.type === 'argument_list' && p.parent?.type === 'call_expression' && WRAPPERS.has(calleeName(p.parent)) && args(p.parent).length === 1) {
      n = p.parent;
      continue;
    }
    return n;
  }
}

/** The statement a release call is (`f(...);`, `(void)f(...);`, `x = f(...);`), or null. */
function releaseStatement(call) {
  let n = unstrip(call);
  if (n.parent?.type === 'assignment_expression' && same(n.parent.childForFieldName('right'), n)) n = n.parent;
  return n.parent?.type === 'expression_statement' ? n.parent : null;
}

/** The statement stands in a labeled_statement, or after a label in an enclosing block of `fn`. */
function underLabel(stmt, fn) {
  for (let n = stmt; n && !same(n, fn); n = n.parent) {
    const p = n.parent;
    if (!p) break;
    if (p.type === 'labeled_statement') return true;
    if (p.type === 'compound_statement') {
      for (let s = n.previousNamedSibling; s; s = s.previousNamedSibling) if (s.type === 'labeled_statement') return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Edits and mutants

/** `repl` in place of [start, end), keeping the span's line breaks; `blank`: also its width, in spaces. */
function replaceSpan(src, start, end, repl, blank = false) {
  const body = src.slice(start, end);
  if (blank) {
    const pad = body.replace(/[^\n]/g, ' ');
    let k = 0;
    while (k < repl.length && pad[k] === ' ') k++;
    return { start, end, text: repl + pad.slice(k) };
  }
  return { start, end, text: repl + body.replace(/[^\n]/g, '') };
}

const applyEdit = (src, e) => src.slice(0, e.start) + e.text + src.slice(e.end);

/** Lines [a, b] (1-based) of `s`. */
function linesOf(s, a, b) {
  const out = [];
  let at = 0;
  for (let l = 1; l <= b; l++) {
    const nl = s.indexOf('\n', at);
    const end = nl < 0 ? s.length : nl;
    if (l >= a) out.push(s.slice(at, end));
    if (nl < 0) break;
    at = nl + 1;
  }
  return out.join('\n');
}

function makeMutant(src, m, edit) {
  const line = src.slice(0, edit.start).split('\n').length;
  const nLines = src.slice(edit.start, edit.end).split('\n').length;
  let text;
  return {
    ...m,
    line,
    edit,
    originalText: linesOf(src, line, line + nLines - 1),
    get mutantText() { return linesOf(this.text, line, line + nLines - 1); },
    // built when asked for: a file can have hundreds of mutants
    get text() { return (text ??= applyEdit(src, edit)); },
  };
}

/** A resource's fates say `released by NAME() at line L`. */
function releasedAt(res, name, line) {
  return res.fates.some((f) => {
    const m = /^released by ([\w$]+)\(\) at line (\d+)$/.exec(f.fate);
    return m && m[1] === name && Number(m[2]) === line;
  });
}

/** The function of a FileResult with this name whose range holds the 0-based line. */
export function functionAt(result, name, line0) {
  return result?.functions.find((f) => f.name === name && f.range.start.line <= line0 && f.range.end.line >= line0);
}

/** The call whose callee starts at (line0, col) inside `fn`. */
function callAtPos(calls, line0, col) {
  for (const c of calls) {
    if (c.startPosition.row === line0 && c.startPosition.column === col) return c;
  }
  return null;
}

/**
 * Every mutant of `src` for `ops`. `result` is the engine's FileResult for the unmutated `src`
 * (needed by drop-release, change-size and swap-direction: without it they give nothing).
 * Each mutant: { op, rule, function, fnLine, line, expectedLine, expectedLines, api, key,
 * originalText, mutantText, edit, text } (lines 1-based; `text` is the whole mutated file).
 * `skipped`, when given, receives {op, function, line, api, why} for each site left out.
 */
export function mutants(src, result, { ops = OPS, tree, skipped } = {}) {
  const { parseC, listFunctions } = project();
  const t = tree ?? parseC(src);
  const out = [];
  const want = new Set(ops);
  for (const f of listFunctions(t, src)) {
    if (f.apiCalls.length === 0) continue;
    const fnMeta = { function: f.name, fnLine: f.range.start.line + 1 };
    const calls = f.node.descendantsOfType('call_expression');
    const skip = skipped ? (op, node, api, why) => skipped.push({ op, function: f.name, line: lineOf(node), api, why }) : () => {};
    if (want.has('drop-check')) out.push(...dropCheck(src, f.node, calls, fnMeta, skip));
    if (want.has('drop-release') || want.has('change-size') || want.has('swap-direction') || want.has('sync-after-unmap')) {
      const fr = result && functionAt(result, f.name, f.range.start.line);
      if (fr) out.push(...releaseOps(src, f.node, calls, fnMeta, fr, want, skip));
    }
    if (want.has('grow-sync')) {
      const fr = result && functionAt(result, f.name, f.range.start.line);
      if (fr) out.push(...growSync(src, calls, fnMeta, fr, skip));
    }
  }
  if (want.has('drop-teardown-release')) out.push(...dropTeardownRelease(src, t, result));
  out.sort((a, b) => a.edit.start - b.edit.start || OPS.indexOf(a.op) - OPS.indexOf(b.op));
  return out;
}

/** drop-teardown-release: see the header. */
function dropTeardownRelease(src, tree, result) {
  const { listFunctions } = project();
  const out = [];
  const teardowns = new Set([...src.matchAll(/\.\s*(?:remove_new|remove|ndo_stop|release)\s*=\s*&?([A-Za-z_]\w*)/g)].map((m) => m[1]));
  if (!teardowns.size || !/\.\s*(?:probe|ndo_open|open)\s*=/.test(src)) return out;
  // Fields the file assigns from an acquisition: `->f = dma_alloc_coherent(`, `&x->f` given as its handle.
  const acquired = new Set();
  for (const m of src.matchAll(/(?:->|\.)\s*([A-Za-z_]\w*)\s*=\s*(?:\([^()]*\)\s*)?(dma_alloc_\w+|dma_map_\w+|dma_pool_z?alloc|__get_free_pages|alloc_pages\w*)\s*\(/g)) acquired.add(m[1]);
  for (const f of listFunctions(tree, src)) {
    if (!teardowns.has(f.name)) continue;
    for (const call of f.node.descendantsOfType('call_expression')) {
      const name = calleeName(call);
      if (!RELEASES.has(name)) continue;
      const stmt = releaseStatement(call);
      if (!stmt) continue;
      const fields = args(call).map((a) => /(?:->|\.)\s*([A-Za-z_]\w*)\s*(?:\[[^\]]*\])?\s*$/.exec(strip(a).text)?.[1]).filter((x) => x && acquired.has(x));
      if (!fields.length) continue;
      // Already reported without the mutation: the mutant cannot be told apart.
      const before = (result?.functions ?? []).flatMap((x) => x.findings).filter((x) => x.rule === 'unreleased-at-remove');
      const masked = before.some((x) => fields.some((fl) => x.message.includes(`\`${fl}\``)));
      const edit = replaceSpan(src, stmt.startIndex, stmt.endIndex, ';', true);
      out.push(makeMutant(src, {
        op: 'drop-teardown-release', rule: EXPECTED_RULE['drop-teardown-release'], function: f.name, fnLine: f.range.start.line + 1,
        api: name, expectedLine: lineOf(call), expectedLines: [lineOf(call)], key: `drop-teardown-release@${stmt.startIndex}`,
        fileLevel: true, fields, maskedInFile: masked,
      }, edit));
    }
  }
  return out;
}

/**
 * A file-level mutant (drop-teardown-release): found when the mutated file has an
 * unreleased-at-remove finding, in any function, naming one of the fields the dropped release
 * released, that the unmutated file did not have.
 */
export function judgeFile(m, base, after) {
  const all = (r) => (r?.functions ?? []).flatMap((f) => f.findings).filter((x) => x.rule === m.rule && m.fields.some((fl) => x.message.includes(`\`${fl}\``)));
  const key = (x) => `${x.function}@${x.range.start.line}`;
  const old = new Set(all(base).map(key));
  const fresh = all(after).filter((x) => !old.has(key(x)));
  return { found: fresh.length > 0, masked: !!m.maskedInFile, newFindings: fresh.map((x) => `${m.rule}@${x.range.start.line + 1}`), overBudget: undefined };
}

function dropCheck(src, fn, calls, meta, skip) {
  const out = [];
  const seen = new Set();
  let ctx;
  for (const call of calls) {
    const name = calleeName(call);
    const kind = MAPPING_ERROR_ACQ.has(name) ? 'maperr' : NULL_ACQ.has(name) ? 'null' : ERRNO_ACQ.has(name) ? 'errno' : null;
    if (!kind) continue;
    const h = resultHolder(call);
    if (!h || !h.holder) { skip('drop-check', call, name, 'result not stored in a variable'); continue; }
    ctx ??= fnContext(fn);
    const roots = testsOf(ctx, h.holder, call.endIndex);
    // untested (nothing to drop) or tested twice (an equivalent mutant)
    if (roots.length !== 1) { skip('drop-check', call, name, roots.length ? `${h.holder} tested by ${roots.length} conditions` : `${h.holder} not tested`); continue; }
    const { root, tests } = roots[0];
    // the one condition may test it more than once (`n <= 0 || n > MAX`): one of them must be the
    // failure test, the one that becomes 0
    const drops = tests.map((t) => dropOf(t, kind, name, h)).filter(Boolean);
    if (drops.length !== 1 || !isConditionOf(root)) {
      skip('drop-check', call, name, `${drops.length ? `${drops.length} failure tests of ${h.holder} in` : `no droppable failure test of ${h.holder} in`}: ${norm(root.text).slice(0, 60)}`);
      continue;
    }
    const drop = drops[0];
    const key = `drop-check@${drop.replace.startIndex}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const edit = replaceSpan(src, drop.replace.startIndex, drop.replace.endIndex, '0');
    // `return p;` later: the engine counts handing the result to the caller as handling it
    const returned = ctx.occs.some((o) => o.at > call.endIndex && o.text === h.holder && unstrip(o.node).parent?.type === 'return_statement');
    out.push(makeMutant(src, {
      op: 'drop-check', rule: EXPECTED_RULE['drop-check'], ...meta, api: name, holder: h.holder, returned,
      expectedLine: lineOf(call), expectedLines: [lineOf(call)], key,
    }, edit));
  }
  return out;
}

/** The failure test `t` of an acquisition of `kind` as it can be dropped ({replace, ifStmt}), or null. */
function dropOf(t, kind, name, h) {
  if (kind === 'maperr') {
    const a = t.kind === 'call' && t.call === 'dma_mapping_error' ? args(t.form)[1] : null;
    return a && norm(strip(a).text) === h.holder ? droppable(t.form, true) : null;
  }
  if (kind === 'null') {
    const ok = t.kind === 'not' || t.kind === 'eqz' || (t.kind === 'call' && t.call === 'IS_ERR_OR_NULL')
      || (t.kind === 'lez' && INT_ACQ.has(name));
    return ok ? droppable(t.form, false) : null;
  }
  // `ret = iommu_map(...);` then, as the very next statement, `if (ret)` / `if (ret < 0)` / `if (ret != 0)`
  const next = h.stmt && nextStatement(h.stmt);
  const ok = t.kind === 'bare' || t.kind === 'nez' || (t.kind === 'lez' && /<\s*0\s*$/.test(t.form.text));
  if (!ok || next?.type !== 'if_statement') return null;
  const d = droppable(t.form, false);
  return d && same(d.ifStmt, next) ? d : null;
}

function nextStatement(stmt) {
  let s = stmt.nextNamedSibling;
  while (s && s.type === 'comment') s = s.nextNamedSibling;
  return s;
}

function releaseOps(src, fn, calls, meta, fr, want, skip) {
  const { API } = project();
  const out = [];
  for (const call of calls) {
    const name = calleeName(call);
    if (!RELEASES.has(name)) continue;
    const line = lineOf(call);
    const freed = fr.resources.filter((r) => releasedAt(r, name, line));
    // the engine did not see this release free anything of this function
    if (freed.length === 0) { skip('release', call, name, 'frees nothing acquired in the function'); continue; }
    const acqLines = [...new Set(freed.map((r) => r.range.start.line + 1))].sort((a, b) => a - b);
    const base = { ...meta, api: name };
    if (want.has('drop-release')) {
      const stmt = releaseStatement(call);
      if (!stmt) skip('drop-release', call, name, 'not a statement of its own');
      else if (!underLabel(stmt, fn)) skip('drop-release', call, name, 'not under a goto label');
      else {
        const edit = replaceSpan(src, stmt.startIndex, stmt.endIndex, ';', true);
        out.push(makeMutant(src, {
          op: 'drop-release', rule: EXPECTED_RULE['drop-release'], ...base,
          expectedLine: acqLines[0], expectedLines: acqLines, key: `drop-release@${stmt.startIndex}`,
        }, edit));
      }
    }
    const a = args(call);
    if (want.has('sync-after-unmap') && /^dma_unmap_(single|page)(_attrs)?$/.test(name) && a.length >= 4) {
      const stmt = releaseStatement(call);
      if (!stmt) skip('sync-after-unmap', call, name, 'not a statement of its own');
      else {
        const sync = ` dma_sync_single_for_cpu(${[0, 1, 2, 3].map((i) => a[i].text.replace(/\s+/g, " ")).join(', ')});`;
        out.push(makeMutant(src, {
          op: 'sync-after-unmap', rule: EXPECTED_RULE['sync-after-unmap'], ...base,
          expectedLine: stmt.endPosition.row + 1, expectedLines: [stmt.endPosition.row + 1], key: `sync-after-unmap@${stmt.endIndex}`,
        }, { start: stmt.endIndex, end: stmt.endIndex, text: sync }));
      }
    }
    if (want.has('change-size') && SIZE_ARG[name]) {
      const [i, how] = SIZE_ARG[name];
      const s = a[i];
      if (s) {
        const repl = how === 'order' ? `(${s.text}) + 1` : `(${s.text}) * 2`;
        out.push(makeMutant(src, {
          op: 'change-size', rule: EXPECTED_RULE['change-size'], ...base,
          expectedLine: line, expectedLines: [line], key: `change-size@${s.startIndex}`,
        }, { start: s.startIndex, end: s.endIndex, text: repl }));
      }
    }
    if (want.has('swap-direction') && DIR_RELEASES.has(name)) {
      const d = a[DIR_ARG];
      const lit = d?.text.trim();
      if (d && SWAP[lit]) {
        // the acquisition's direction must be a literal as well (else "provably different" cannot hold)
        const litAcq = freed.some((r) => {
          const acq = callAtPos(calls, r.range.start.line, r.range.start.character);
          const spec = acq && API.get(calleeName(acq));
          const dir = spec?.acquires?.dir;
          return dir !== undefined && SWAP[args(acq)[dir]?.text.trim()] !== undefined;
        });
        if (!litAcq) skip('swap-direction', call, name, 'the acquisition\'s direction is not a literal');
        else {
          out.push(makeMutant(src, {
            op: 'swap-direction', rule: EXPECTED_RULE['swap-direction'], ...base,
            expectedLine: line, expectedLines: [line], key: `swap-direction@${d.startIndex}`,
            from: lit, to: SWAP[lit],
          }, { start: d.startIndex, end: d.endIndex, text: SWAP[lit] }));
        }
      }
    }
  }
  return out;
}

/** grow-sync: a streaming sync of one of the function's own mappings asks for twice its size. */
function growSync(src, calls, meta, fr, skip) {
  const out = [];
  // holder -> the sizes it was mapped with, as written
  const mine = new Map();
  for (const r of fr.resources) {
    const m = /^dma_map_(single|page)(_attrs)?$/.exec(r.acquiredBy);
    const acq = m && callAtPos(calls, r.range.start.line, r.range.start.character);
    const size = acq && args(acq)[m[1] === 'page' ? 3 : 2];
    if (!size) continue;
    const k = norm(r.holder);
    mine.set(k, [...(mine.get(k) ?? []), { size: norm(size.text), acq }]);
  }
  for (const call of calls) {
    const name = calleeName(call);
    if (!/^dma_sync_single_for_(cpu|device)$/.test(name)) continue;
    const a = args(call);
    if (a.length !== 4) continue;
    const sizes = mine.get(norm(strip(a[1]).text));
    if (!sizes) { skip('grow-sync', call, name, 'the handle is not a mapping of the function'); continue; }
    const maps = sizes.filter((x) => x.size === norm(a[2].text));
    if (!maps.length) { skip('grow-sync', call, name, 'syncs part of the buffer'); continue; }
    // The map comes first in a block that holds the sync (structured code: every path to the sync
    // took the map); a map of the other branch (`if (!dma) map; else sync;`) is not it.
    const dominates = (acq) => {
      let st = acq;
      while (st && !/statement$|^declaration$/.test(st.type)) st = st.parent;
      const block = st?.parent;
      if (!block || acq.endIndex > call.startIndex) return false;
      for (let n = call.parent; n; n = n.parent) if (same(n, block)) return true;
      return false;
    };
    if (!maps.some((x) => dominates(x.acq))) { skip('grow-sync', call, name, 'the map does not come before it on every path'); continue; }
    const line = lineOf(call);
    out.push(makeMutant(src, {
      op: 'grow-sync', rule: EXPECTED_RULE['grow-sync'], ...meta, api: name,
      expectedLine: line, expectedLines: [line], key: `grow-sync@${a[2].startIndex}`,
    }, { start: a[2].startIndex, end: a[2].endIndex, text: `(${a[2].text}) * 2` }));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Judging a mutant

/**
 * Whether the engine found a mutant: the expected rule at one of the expected lines in the mutated
 * function, and not at that line in the unmutated function. `masked`: the unmutated function
 * already had it there (so the mutant cannot be told apart by its finding).
 */
export function judge(m, baseFn, mutFn) {
  const at = (fn) => new Set((fn?.findings ?? []).filter((x) => x.rule === m.rule).map((x) => x.range.start.line + 1));
  const before = at(baseFn);
  const after = at(mutFn);
  const masked = m.expectedLines.every((l) => before.has(l));
  const found = m.expectedLines.some((l) => after.has(l) && !before.has(l));
  const key = (x) => `${x.rule}@${x.range.start.line + 1}`;
  const old = new Set((baseFn?.findings ?? []).map(key));
  const newFindings = (mutFn?.findings ?? []).filter((x) => x.rule !== 'budget' && !old.has(key(x))).map(key);
  return { found, masked, newFindings, overBudget: mutFn?.overBudget };
}

/** mulberry32: a small seeded PRNG, [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Up to `n` items of `list`, drawn without replacement with `rand` (all of them when fewer), in list order. */
export function draw(list, n, rand) {
  if (list.length <= n) return list.slice();
  const idx = list.map((_, i) => i);
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(rand() * (idx.length - i));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx.slice(0, n).sort((a, b) => a - b).map((i) => list[i]);
}
