/**
 * The functions of a parsed C file and the object-like `#define`s it declares: what the engine
 * analyses and the constants it evaluates. Runs on every keystroke in the editor, so it asks the
 * native side for whole lists (descendantsOfType, one query) rather than walking node by node.
 */
import type { Range } from '../engine/types';
import { API_NAMES } from './api-names';
import type { SyntaxNode, Tree } from './parser';

export interface ParamInfo {
  /** The parameter's name ('' for an unnamed one, `...` for varargs). */
  name: string;
  /** Its type as written, without the name: `struct device *`, `const char []`. */
  type: string;
}

export interface FunctionInfo {
  name: string;
  /** The function_definition node. */
  node: SyntaxNode;
  /** Offsets of the definition in the text (UTF-16 code units, as the binding counts them). */
  startIndex: number;
  endIndex: number;
  /** The definition's range, 0-based lines and UTF-16 columns (LSP positions). */
  range: Range;
  /** The range of the function's name. */
  nameRange: Range;
  isStatic: boolean;
  /** The declarator has a `*` before the name (`void *tegra_drm_alloc(...)`). */
  returnsPointer: boolean;
  /** The return type as written, with its `*`s: `void *`, `static int` gives `int`. */
  returnType: string;
  params: ParamInfo[];
  /** Names of the DMA/IOMMU API calls it makes (API_NAMES), in source order, repeats kept. */
  apiCalls: string[];
}

let apiCallRegex: RegExp | undefined;

function range(node: SyntaxNode): Range {
  const s = node.startPosition;
  const e = node.endPosition;
  return { start: { line: s.row, character: s.column }, end: { line: e.row, character: e.column } };
}

/**
 * Every function_definition outside a function (at file scope, in `#if` groups, in a top-level
 * ERROR node), in source order. Definitions without a recognisable name are skipped.
 * Never throws.
 */
export function listFunctions(tree: Tree, text: string): FunctionInfo[] {
  const root = tree.rootNode;
  const out: FunctionInfo[] = [];
  const fresh: FunctionInfo[] = [];
  for (const node of topLevelDefinitions(root)) {
    // A keystroke changes one function: the others are described from a cache keyed by their
    // text, and only their positions are read from the new tree.
    const startIndex = node.startIndex;
    const endIndex = node.endIndex;
    const start = node.startPosition;
    const key = `${start.column}|${text.slice(startIndex, endIndex)}`;
    const hit = describeCache.get(key);
    if (hit === null) continue;
    if (hit) {
      const end = node.endPosition;
      out.push({
        ...hit.info, node, startIndex, endIndex,
        range: { start: { line: start.row, character: start.column }, end: { line: end.row, character: end.column } },
        nameRange: {
          start: { line: start.row + hit.name.dl, character: hit.name.sc },
          end: { line: start.row + hit.name.dl, character: hit.name.ec },
        },
        params: hit.info.params, apiCalls: hit.info.apiCalls,
      });
      continue;
    }
    const info = describe(node, text);
    if (describeCache.size > 4000) describeCache.clear();
    if (!info) { describeCache.set(key, null); continue; }
    out.push(info);
    fresh.push(info);
  }
  if (fresh.length > 0) assignApiCalls(root, text, fresh);
  for (const f of fresh) {
    const { node: _n, startIndex: _s, endIndex: _e, range: r, nameRange: nr, ...info } = f;
    describeCache.set(`${r.start.character}|${text.slice(f.startIndex, f.endIndex)}`, {
      info, name: { dl: nr.start.line - r.start.line, sc: nr.start.character, ec: nr.end.character },
    });
  }
  return out;
}

/** FunctionInfo without its positions, by function text (null: not a function we can describe). */
const describeCache = new Map<string, {
  info: Omit<FunctionInfo, 'node' | 'startIndex' | 'endIndex' | 'range' | 'nameRange'>;
  name: { dl: number; sc: number; ec: number };
} | null>();

/** Where a function definition can stand outside any function (tree-sitter-c). */
const CONTAINERS = new Set([
  'preproc_if', 'preproc_ifdef', 'preproc_else', 'preproc_elif', 'preproc_elifdef',
  'linkage_specification', 'declaration_list', 'ERROR',
]);

/**
 * The function_definition nodes outside any function, found with a cursor over the top level and
 * the containers above only: a 20,000-line file has some 700 top-level nodes but a million in all.
 */
function topLevelDefinitions(root: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  const cursor = root.walk();
  const visit = () => {
    if (!cursor.gotoFirstChild()) return;
    do {
      const type = cursor.nodeType;
      if (type === 'function_definition') out.push(cursor.currentNode);
      else if (CONTAINERS.has(type)) visit();
    } while (cursor.gotoNextSibling());
    cursor.gotoParent();
  };
  visit();
  return out;
}

function describe(node: SyntaxNode, text: string): FunctionInfo | undefined {
  let decl = node.childForFieldName('declarator');
  let pointers = '';
  while (decl && decl.type !== 'function_declarator') {
    if (decl.type === 'pointer_declarator') pointers += '*';
    else if (decl.type !== 'parenthesized_declarator' && decl.type !== 'attributed_declarator') return undefined;
    decl = decl.childForFieldName('declarator') ?? decl.namedChildren.find((c) => c.type.endsWith('declarator')) ?? null;
  }
  if (!decl) return undefined;
  let nameNode = decl.childForFieldName('declarator');
  while (nameNode && nameNode.type !== 'identifier') {
    // `int (foo)(void)` and friends
    nameNode = nameNode.childForFieldName('declarator') ?? nameNode.namedChildren[0] ?? null;
  }
  if (!nameNode) return undefined;
  const type = node.childForFieldName('type');
  // the specifiers stand before the type (or the declarator): read them from the text
  const isStatic = /\bstatic\b/.test(text.slice(node.startIndex, (type ?? decl).startIndex));
  const returnType = ((type ? text.slice(type.startIndex, type.endIndex) : 'int') + (pointers ? ' ' + pointers : ''))
    .replace(/\s+/g, ' ').trim();
  return {
    name: text.slice(nameNode.startIndex, nameNode.endIndex),
    node,
    startIndex: node.startIndex,
    endIndex: node.endIndex,
    range: range(node),
    nameRange: range(nameNode),
    isStatic,
    returnsPointer: pointers.length > 0,
    returnType,
    params: paramsOf(decl.childForFieldName('parameters'), text),
    apiCalls: [],
  };
}

function paramsOf(list: SyntaxNode | null, text: string): ParamInfo[] {
  if (!list) return [];
  const out: ParamInfo[] = [];
  for (const p of list.namedChildren) {
    if (p.type === 'variadic_parameter') { out.push({ name: '...', type: '...' }); continue; }
    if (p.type !== 'parameter_declaration') continue;
    let d = p.childForFieldName('declarator');
    while (d && d.type !== 'identifier') {
      d = d.childForFieldName('declarator') ?? d.namedChildren.find((c) => c.type === 'identifier' || c.type.endsWith('declarator')) ?? null;
    }
    const whole = text.slice(p.startIndex, p.endIndex);
    if (!d) {
      if (whole.trim() === 'void' && list.namedChildren.length === 1) return [];
      out.push({ name: '', type: whole.replace(/\s+/g, ' ').trim() });
      continue;
    }
    const type = (text.slice(p.startIndex, d.startIndex) + text.slice(d.endIndex, p.endIndex))
      .replace(/\s+/g, ' ').replace(/\s+(\[)/g, '$1').trim();
    out.push({ name: text.slice(d.startIndex, d.endIndex), type });
  }
  return out;
}

/**
 * The API calls of each function: the few places where an API name is followed by `(` in the text,
 * each confirmed against the tree (the callee of a call_expression, so not a comment, a string or
 * `ops->dma_map_sg(`). Far cheaper than visiting every call node through the binding.
 */
function assignApiCalls(root: SyntaxNode, text: string, fns: FunctionInfo[]): void {
  apiCallRegex ??= new RegExp(`\\b(${[...API_NAMES].sort((a, b) => b.length - a.length).join('|')})\\s*\\(`, 'g');
  const re = apiCallRegex;
  re.lastIndex = 0;
  let k = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const at = m.index;
    while (k < fns.length && fns[k].endIndex <= at) k++;
    if (k >= fns.length) break;
    if (fns[k].startIndex > at) continue;
    const name = m[1];
    const node = root.descendantForIndex(at, at + name.length);
    if (node.type !== 'identifier' || node.startIndex !== at) continue;
    const call = node.parent;
    if (call?.type !== 'call_expression') continue;
    const fn = call.childForFieldName('function');
    if (fn?.startIndex === at) fns[k].apiCalls.push(name);
  }
}

/**
 * Object-like `#define NAME value` directives of the file (anywhere, also inside `#if` groups;
 * the first definition of a name wins), with comments and line continuations taken out of the
 * value. Function-like macros and defines without a value are left out. Never throws.
 */
export function findDefines(_tree: Tree, text: string): Map<string, string> {
  // A scan of the text: walking the whole tree for preproc_def nodes through the binding cost
  // more than the rest of a keystroke's analysis. `#define NAME(` (function-like) is skipped.
  const out = new Map<string, string>();
  const re = /^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)\b(?!\()[ \t]*((?:[^\n\\]|\\\r?\n|\\(?!\r?\n))*)/gm;
  for (const m of text.matchAll(re)) {
    const key = m[1];
    if (out.has(key)) continue;
    const v = m[2]
      .replace(/\/\*[^]*?\*\//g, ' ')
      .replace(/\/\*.*$/gm, '')
      .replace(/\/\/.*$/gm, '')
      .replace(/\\\r?\n/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (v) out.set(key, v);
  }
  return out;
}
