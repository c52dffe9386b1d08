/**
 * What the front end loses: the DMA/IOMMU API call sites in a file that the syntax tree does not
 * present as a call inside a function. The ground truth is lexical (a name from API_NAMES followed
 * by `(` in code, outside comments, literals and directives, and not a declaration of that name);
 * the tree is then asked where each site ended up. Feeds FileResult.parse and scripts/corpus.mjs.
 */
import type { SyntaxNode, Tree } from './parser';
import { API_NAMES } from './api-names';
import { codeOnly } from './lex';
import { loopMacroCall } from './loops';

/** Why a call site is lost. */
export type LostReason =
  /** Under an ERROR node (between the call and its function, or with no function at all). */
  | 'in-error'
  /** No error around it, but no function_definition holds it (a function tree-sitter did not see). */
  | 'no-function'
  /** In a function, no error, but not the callee of a call_expression (e.g. a macro type). */
  | 'not-a-call';

/** Why a call site that is seen as a call is still at risk. */
export type DamageReason =
  /** Its own statement (or the condition it sits in) contains an ERROR or MISSING node. */
  | 'statement-error'
  /** It sits in the body of a loop macro (`for_each_sg(...) {`), parsed as a call statement and
   *  the body (loops.ts): not damage as such, the lowering makes the pair a loop. */
  | 'flattened-loop';

export interface ApiCallSite {
  name: string;
  /** Offset of the name (UTF-16 code units). */
  index: number;
  /** Set when the front end loses the call. */
  lost?: LostReason;
  /** Set when the call is seen but its statement or loop is damaged. */
  damaged?: DamageReason;
}

export interface ParseStats {
  /** API call sites found lexically. */
  apiCalls: number;
  /** Of which lost, by reason. */
  lostInError: number;
  lostNoFunction: number;
  lostNotCall: number;
  /** Seen as calls, but damaged, by reason. */
  damagedStatement: number;
  damagedLoop: number;
  /** function_definition nodes (outermost) holding at least one API call site. */
  apiFunctions: number;
  /** Of which contain an ERROR or MISSING node. */
  apiFunctionsWithErrors: number;
  /** Of which contain one other than the MISSING `;` after a loop macro (loops.ts). */
  apiFunctionsWithOtherErrors: number;
  /** Top-level constructs (not function_definition) that hold lost sites: unrecognised functions. */
  unrecognisedFunctions: number;
  /** ERROR and MISSING nodes in the whole file. */
  errorNodes: number;
}

const KEYWORDS_BEFORE_CALL = new Set(['return', 'else', 'do', 'case', 'sizeof', 'typeof', 'goto']);

let siteRegex: RegExp | undefined;

/**
 * The API call sites of `text`, in order of position, without consulting a tree. Never throws.
 */
export function findApiCallSites(text: string, code: string = codeOnly(text)): ApiCallSite[] {
  siteRegex ??= new RegExp(`\\b(${[...API_NAMES].sort((a, b) => b.length - a.length).join('|')})\\s*\\(`, 'g');
  const sites: ApiCallSite[] = [];
  siteRegex.lastIndex = 0;
  for (let m = siteRegex.exec(code); m; m = siteRegex.exec(code)) {
    if (!isDeclaration(code, m.index)) sites.push({ name: m[1], index: m.index });
  }
  return sites;
}

/**
 * `name(` at `at` is no call of the API: it declares or defines the name (a type precedes it,
 * `void *alloc_iova(`), or calls a function pointer of that name (`ops->dma_map_sg(`).
 */
function isDeclaration(code: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && isSpace(code.charCodeAt(i))) i--;
  if (i < 0) return false;
  let c = code.charCodeAt(i);
  if (c === 46 /* . */ || (c === 62 /* > */ && code.charCodeAt(i - 1) === 45 /* - */)) return true;
  let sawStar = false;
  while (c === 42 /* * */) {
    sawStar = true;
    i--;
    while (i >= 0 && isSpace(code.charCodeAt(i))) i--;
    if (i < 0) return false;
    c = code.charCodeAt(i);
  }
  if (!isIdent(c)) return false;
  let j = i;
  while (j >= 0 && isIdent(code.charCodeAt(j))) j--;
  const word = code.slice(j + 1, i + 1);
  if (KEYWORDS_BEFORE_CALL.has(word)) return false;
  if (/^[0-9]/.test(word)) return false;
  // `a * dma_map_single(...)` is possible but rare; `x = y *alloc(` is not kernel style.
  return sawStar || !/^[A-Z0-9_]+$/.test(word);
}

function isSpace(c: number): boolean { return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11; }
function isIdent(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}

/** The outermost function_definition nodes of the tree, in order (also those inside ERROR nodes). */
export function outermostFunctions(root: SyntaxNode): SyntaxNode[] {
  const all = root.descendantsOfType('function_definition');
  const out: SyntaxNode[] = [];
  let end = -1;
  for (const f of all) {
    if (f.startIndex >= end) { out.push(f); end = f.endIndex; }
  }
  return out;
}

/** Classify one site against the tree: undefined when the front end sees the call. */
export function classifySite(root: SyntaxNode, site: ApiCallSite): LostReason | undefined {
  const node = root.descendantForIndex(site.index, site.index + site.name.length);
  let isCallee = false;
  if (node.type === 'identifier' && node.startIndex === site.index) {
    const parent = node.parent;
    if (parent && parent.type === 'call_expression') {
      const fn = parent.childForFieldName('function');
      isCallee = !!fn && fn.startIndex === node.startIndex && fn.endIndex === node.endIndex;
    }
  }
  let inError = node.type === 'ERROR';
  let inFunction = false;
  for (let p: SyntaxNode | null = node.parent; p; p = p.parent) {
    const t = p.type;
    if (t === 'ERROR') inError = true;
    else if (t === 'function_definition') { inFunction = true; break; }
  }
  if (inError) return 'in-error';
  if (!inFunction) return 'no-function';
  if (!isCallee) return 'not-a-call';
  return undefined;
}

const STATEMENT_UNITS = new Set([
  'expression_statement', 'declaration', 'return_statement', 'parenthesized_expression',
  'condition_clause', 'init_declarator', 'argument_list',
]);

/**
 * For a site that is seen as a call: is its statement damaged, or its loop flattened?
 * (A loop macro tree-sitter reads as `call_expression MISSING(;)` followed by the body.)
 */
export function damageOf(root: SyntaxNode, site: ApiCallSite): DamageReason | undefined {
  const callee = root.descendantForIndex(site.index, site.index + site.name.length);
  const call = callee.parent!;
  let unit: SyntaxNode | undefined;
  for (let p: SyntaxNode | null = call; p && p.type !== 'function_definition'; p = p.parent) {
    if (!unit && p !== call && STATEMENT_UNITS.has(p.type)) unit = p;
    if (!unit && (p.type === 'compound_statement' || p.type.endsWith('_statement'))) unit = p;
    if (isLoopMacroBody(p)) return 'flattened-loop';
  }
  if (call.hasError || unit?.hasError) return 'statement-error';
  return undefined;
}

/** `node` follows the head of a loop macro (loops.ts). */
function isLoopMacroBody(node: SyntaxNode): boolean {
  const parent = node.parent;
  if (!parent || (parent.type !== 'compound_statement' && !parent.type.endsWith('_statement'))) return false;
  let prev = node.previousNamedSibling;
  while (prev && prev.type === 'comment') prev = prev.previousNamedSibling;
  return !!prev && !!loopMacroCall(prev);
}


/**
 * ERROR and MISSING nodes under `node`, visiting only subtrees that have errors. With
 * `exceptLoopMacros`, the MISSING `;` that ends a loop macro's call statement is not counted.
 */
export function countErrorNodes(node: SyntaxNode, exceptLoopMacros = false): number {
  if (!node.hasError) return 0;
  if (node.isMissing) return 1;
  let n = node.type === 'ERROR' ? 1 : 0;
  let children = node.children;
  if (exceptLoopMacros && node.type === 'expression_statement' && loopMacroCall(node)) {
    children = children.slice(0, -1);
  }
  for (const child of children) n += countErrorNodes(child, exceptLoopMacros);
  return n;
}

/**
 * Front-end statistics for one parsed file. `tree` must have been parsed from `text` (or from a
 * same-length sanitized copy of it). With `sites`, the classified sites are pushed onto it.
 */
export function parseStats(tree: Tree, text: string, sites?: ApiCallSite[]): ParseStats {
  const root = tree.rootNode;
  const found = findApiCallSites(text);
  const stats: ParseStats = {
    apiCalls: found.length, lostInError: 0, lostNoFunction: 0, lostNotCall: 0,
    damagedStatement: 0, damagedLoop: 0,
    apiFunctions: 0, apiFunctionsWithErrors: 0, apiFunctionsWithOtherErrors: 0, unrecognisedFunctions: 0,
    errorNodes: countErrorNodes(root),
  };
  if (found.length === 0) return stats;
  const fns = outermostFunctions(root);
  // Sites and functions are both sorted by position: one merge pass.
  let k = 0;
  for (const f of fns) {
    while (k < found.length && found[k].index < f.startIndex) k++;
    if (k < found.length && found[k].index < f.endIndex) {
      stats.apiFunctions++;
      if (f.hasError) {
        stats.apiFunctionsWithErrors++;
        if (countErrorNodes(f, true) > 0) stats.apiFunctionsWithOtherErrors++;
      }
    }
  }
  const unrecognised = new Set<number>();
  for (const s of found) {
    s.lost = classifySite(root, s);
    if (s.lost === 'in-error') stats.lostInError++;
    else if (s.lost === 'no-function') stats.lostNoFunction++;
    else if (s.lost === 'not-a-call') stats.lostNotCall++;
    else {
      s.damaged = damageOf(root, s);
      if (s.damaged === 'statement-error') stats.damagedStatement++;
      else if (s.damaged === 'flattened-loop') stats.damagedLoop++;
    }
    if (s.lost && !fns.some((f) => f.startIndex <= s.index && s.index < f.endIndex)) {
      // the top-level construct holding it stands for one function tree-sitter did not see
      let top = root.descendantForIndex(s.index);
      while (top.parent && top.parent.type !== 'translation_unit') top = top.parent;
      unrecognised.add(top.startIndex);
    }
    sites?.push(s);
  }
  stats.unrecognisedFunctions = unrecognised.size;
  return stats;
}

/** Sum of several files' statistics. */
export function addStats(a: ParseStats, b: ParseStats): ParseStats {
  const out = { ...a };
  for (const k of Object.keys(b) as (keyof ParseStats)[]) out[k] += b[k];
  return out;
}
