/**
 * The functions of a parsed C file and the object-like `#define`s it declares: what the engine
 * analyses and the constants it evaluates. Runs on every keystroke in the editor, so it asks the
 * native side for whole lists (descendantsOfType, one query) rather than walking node by node.
 */
import Parser = require('tree-sitter');
import type { Range } from '../engine/types';
import { API_NAME_SET } from './api-names';
import { cLanguage, SyntaxNode, Tree } from './parser';

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

let calleeQuery: Parser.Query | undefined;

function range(node: SyntaxNode): Range {
  const s = node.startPosition;
  const e = node.endPosition;
  return { start: { line: s.row, character: s.column }, end: { line: e.row, character: e.column } };
}

/**
 * Every function_definition of the tree (also those tree-sitter nests in an ERROR node, but not one
 * inside another function), in source order. Definitions without a recognisable name are skipped.
 * Never throws.
 */
export function listFunctions(tree: Tree, text: string): FunctionInfo[] {
  const root = tree.rootNode;
  const defs = root.descendantsOfType('function_definition');
  const out: FunctionInfo[] = [];
  let lastEnd = -1;
  for (const node of defs) {
    if (node.startIndex < lastEnd) continue; // nested in the previous one: a misparse
    const info = describe(node, text);
    if (!info) continue;
    out.push(info);
    lastEnd = node.endIndex;
  }
  if (out.length > 0) assignApiCalls(root, out);
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
  let isStatic = false;
  for (const c of node.children) {
    if (c.type === 'storage_class_specifier' && text.slice(c.startIndex, c.endIndex) === 'static') isStatic = true;
  }
  const type = node.childForFieldName('type');
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

/** One query for every callee identifier in the file; each API call goes to the function holding it. */
function assignApiCalls(root: SyntaxNode, fns: FunctionInfo[]): void {
  calleeQuery ??= new Parser.Query(cLanguage(), '(call_expression function: (identifier) @callee)');
  const captures = calleeQuery.captures(root);
  let k = 0;
  for (const c of captures) {
    const n = c.node;
    const name = n.text;
    if (!API_NAME_SET.has(name)) continue;
    const at = n.startIndex;
    while (k < fns.length && fns[k].endIndex <= at) k++;
    if (k >= fns.length) break;
    if (fns[k].startIndex <= at) fns[k].apiCalls.push(name);
  }
}

/**
 * Object-like `#define NAME value` directives of the file (anywhere, also inside `#if` groups;
 * the first definition of a name wins), with comments and line continuations taken out of the
 * value. Function-like macros and defines without a value are left out. Never throws.
 */
export function findDefines(tree: Tree, text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const d of tree.rootNode.descendantsOfType('preproc_def')) {
    const name = d.childForFieldName('name');
    const value = d.childForFieldName('value');
    if (!name || !value) continue;
    const key = text.slice(name.startIndex, name.endIndex);
    if (out.has(key)) continue;
    const v = text.slice(value.startIndex, value.endIndex)
      .replace(/\/\*[^]*?\*\//g, ' ')
      .replace(/\/\/.*$/gm, '')
      .replace(/\\\r?\n/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    if (v) out.set(key, v);
  }
  return out;
}
