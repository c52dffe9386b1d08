/**
 * dma-on-stack: a streaming mapping of memory that DMA must never touch. Reported at the
 * mapping call: dma_map_single(_attrs), dma_map_page(_attrs) of virt_to_page(buf), and
 * dma_map_sg(_attrs)/dma_map_sgtable of a list that sg_init_one()/sg_set_buf() in the same
 * function pointed at such a buffer. The buffers:
 *  - the stack: a local (non-static) array, the address of a local or parameter, or of a
 *    field of a local struct (`&cmd`, `&cmd.hdr`, `y.data` when the file declares `data` an
 *    array of `struct x`), or a local pointer every assignment of which points there;
 *  - rodata and text: a string literal, a `const` array or object, a function's address;
 *  - vmalloc space: a local pointer every assignment of which is a vmalloc()/vzalloc()/
 *    kvmalloc()... result (or a copy of such a local).
 * Mirrors kernel/dma/debug.c check_for_stack() ("DMA-API: device driver maps memory from stack
 * [addr=%p]"), check_for_illegal_area() ("... maps memory from kernel text or rodata") and
 * debug_dma_map_single() ("... maps memory from vmalloc area"); include/linux/dma-mapping.h
 * dma_map_single_attrs() rejects vmalloc memory outright. Read from the function's declarations
 * and the file's, not from its paths: a parameter, a field reached through `->`, a static or a
 * non-const global is not known to be any of these, and is not reported.
 */
import type { Finding, Range } from '../engine/types';
import type { SyntaxNode } from '../parse/parser';
import { CheckContext, finding } from './common';

/** Calls whose argument `arg` is the CPU address mapped (`page`: given as virt_to_page(buf)). */
const MAP_CALLS: Record<string, { arg: number; page?: boolean }> = {
  dma_map_single: { arg: 1 }, dma_map_single_attrs: { arg: 1 },
  dma_map_page: { arg: 1, page: true }, dma_map_page_attrs: { arg: 1, page: true },
};
/** sg setters: (sg, buf, len). */
const SG_SET = /^(sg_init_one|sg_set_buf)$/;
/** sg mappings: the list is argument 1. */
const SG_MAP = /^(dma_map_sg|dma_map_sg_attrs|dma_map_sgtable)$/;
/** Allocators of vmalloc space (mm/vmalloc.c, mm/util.c kvmalloc: may fall back to vmalloc). */
const VMALLOC = /^(vmalloc|vzalloc|vmalloc_user|vmalloc_node|vzalloc_node|vmalloc_32|vmalloc_32_user|__vmalloc|__vmalloc_node|vmalloc_array|vcalloc|vmap)$/;
const KVMALLOC = /^(kvmalloc|kvzalloc|kvcalloc|kvmalloc_array|kvmalloc_node|kvzalloc_node|kvrealloc)$/;

type Where =
  | { k: 'stack'; what: string; decl: SyntaxNode; via?: string }
  | { k: 'rodata'; what: string; literal?: boolean }
  | { k: 'text'; what: string }
  | { k: 'vmalloc'; what: string; api: string; at: SyntaxNode; maybe: boolean };

interface Local { name: string; decl: SyntaxNode; array: boolean; pointer: boolean; isStatic: boolean; isConst: boolean; param: boolean }

function rangeOf(n: SyntaxNode): Range {
  return { start: { line: n.startPosition.row, character: n.startPosition.column }, end: { line: n.endPosition.row, character: n.endPosition.column } };
}

/** Strip parentheses and casts: `(void *)(buf)` -> `buf`. */
function bare(n: SyntaxNode): SyntaxNode {
  for (;;) {
    if (n.type === 'parenthesized_expression' && n.namedChildren.length === 1) n = n.namedChildren[0];
    else if (n.type === 'cast_expression' && n.childForFieldName('value')) n = n.childForFieldName('value')!;
    else return n;
  }
}

function calleeName(call: SyntaxNode): string | undefined {
  const f = call.childForFieldName('function');
  return f?.type === 'identifier' ? f.text : undefined;
}

function argsOf(call: SyntaxNode): SyntaxNode[] {
  return call.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
}

/** Visit every named node under `n`, in source order (a stack: a deep expression must not overflow). */
export function walk(n: SyntaxNode, visit: (n: SyntaxNode) => void): void {
  const todo = [n];
  while (todo.length) {
    const x = todo.pop()!;
    visit(x);
    const cs = x.namedChildren;
    for (let i = cs.length - 1; i >= 0; i--) todo.push(cs[i]);
  }
}

/**
 * The declared names of a declaration (or parameter), with the shape of each: the declarator
 * that wraps the name itself decides (`*bufs[4]` is an array of pointers, `(*p)[4]` a pointer).
 */
function declared(decl: SyntaxNode, param: boolean): Local[] {
  const specs = decl.children.filter((c) => c.type === 'storage_class_specifier' || c.type === 'type_qualifier').map((c) => c.text);
  const isStatic = specs.includes('static') || specs.includes('extern');
  const isConst = specs.includes('const');
  const out: Local[] = [];
  for (let d of decl.childrenForFieldName('declarator')) {
    if (d.type === 'init_declarator') d = d.childForFieldName('declarator') ?? d;
    let wrap = '';
    let x: SyntaxNode | null | undefined = d;
    while (x && x.type !== 'identifier') {
      if (x.type === 'function_declarator') { x = undefined; break; } // a prototype in a body
      if (x.type !== 'parenthesized_declarator' && x.type !== 'attributed_declarator') wrap = x.type;
      x = x.childForFieldName('declarator') ?? x.namedChildren.find((c) => c.type === 'identifier' || c.type.endsWith('declarator'));
    }
    if (x?.type !== 'identifier') continue;
    // An array parameter is a pointer (C decays it).
    const array = wrap === 'array_declarator' && !param;
    const pointer = wrap === 'pointer_declarator' || (wrap === 'array_declarator' && param);
    out.push({ name: x.text, decl, array, pointer, isStatic, isConst, param });
  }
  return out;
}

class Scope {
  private fileText: string;
  constructor(readonly fn: SyntaxNode, readonly fnName: string) {
    const t = fn as unknown as { sourceText?: string; tree?: { rootNode: { text: string } } };
    this.fileText = t.sourceText ?? t.tree?.rootNode.text ?? fn.text;
  }

  /** The local or parameter `name` visible at `at`: the nearest enclosing block's declaration before it. */
  resolve(name: string, at: SyntaxNode): Local | undefined {
    for (let p: SyntaxNode | null = at.parent; p; p = p.parent) {
      if (p.type === 'compound_statement' || p.type === 'for_statement') {
        let hit: Local | undefined;
        for (const c of p.namedChildren) {
          if (c.startIndex >= at.startIndex) break;
          if (c.type === 'declaration') for (const l of declared(c, false)) if (l.name === name) hit = l;
        }
        if (hit) return hit;
      }
      if (p === this.fn) break;
    }
    const decl = this.fn.childForFieldName('declarator');
    let fd: SyntaxNode | null | undefined = decl;
    while (fd && fd.type !== 'function_declarator') fd = fd.childForFieldName('declarator');
    for (const prm of fd?.childForFieldName('parameters')?.namedChildren ?? []) {
      if (prm.type !== 'parameter_declaration') continue;
      for (const l of declared(prm, true)) if (l.name === name) return l;
    }
    return undefined;
  }

  /** A file-scope object declared const (`static const u8 fw[] = {...}`), not a pointer: array or not. */
  constGlobal(name: string): { array: boolean } | undefined {
    const re = new RegExp(`(?:^|\\n)([A-Za-z_][^;=(){}\\n]*?)\\b${name}\\s*(\\[[^\\]\\n]*\\])?\\s*(?:=|;|\\[|__\\w+)`, 'g');
    for (const m of this.fileText.matchAll(re)) {
      const pre = m[1];
      if (/\*/.test(pre) || !/\bconst\b/.test(pre) || /^\s*(return|typedef|#)/.test(pre)) continue;
      return { array: !!m[2] };
    }
    return undefined;
  }

  /** A function of the file (definition or prototype at column 0). */
  isFunction(name: string): boolean {
    return new RegExp(`(?:^|\\n)(?:[A-Za-z_][\\w \\t\\*]*?[ \\t\\*])?${name}\\s*\\([^;={}]*\\)\\s*(?:\\{|;|\\n\\{)`).test(this.fileText);
  }

  /** `struct x`'s member `field` is an array in the file's definition of it. */
  memberIsArray(structType: string, field: string): boolean {
    const m = new RegExp(`\\bstruct\\s+${structType}\\s*\\{`).exec(this.fileText);
    if (!m) return false;
    let depth = 0, i = m.index + m[0].length - 1;
    for (; i < this.fileText.length; i++) {
      if (this.fileText[i] === '{') depth++;
      else if (this.fileText[i] === '}' && --depth === 0) break;
    }
    const body = this.fileText.slice(m.index + m[0].length, i);
    return new RegExp(`(^|[\\s,;])${field}\\s*\\[`).test(body) && !new RegExp(`\\*\\s*${field}\\s*\\[`).test(body);
  }

  /** The struct tag of a local's type (`struct foo cmd;` -> foo). */
  structOf(l: Local): string | undefined {
    const t = l.decl.childForFieldName('type');
    return t?.type === 'struct_specifier' ? t.childForFieldName('name')?.text : undefined;
  }

  /** Every `name = value` of the function (initializer included), or undefined when `&name` escapes. */
  assignments(name: string): SyntaxNode[] | undefined {
    const out: SyntaxNode[] = [];
    let escapes = false;
    walk(this.fn, (n) => {
      if (n.type === 'init_declarator') {
        let d = n.childForFieldName('declarator');
        while (d && d.type !== 'identifier') d = d.childForFieldName('declarator');
        const v = n.childForFieldName('value');
        if (d?.text === name && v) out.push(v);
      } else if (n.type === 'assignment_expression' && n.childForFieldName('left')?.text === name) {
        const op = n.child(1)?.type;
        if (op === '=') out.push(n.childForFieldName('right')!);
      } else if (n.type === 'pointer_expression' && n.child(0)?.type === '&' && bare(n.childForFieldName('argument') ?? n).text === name) escapes = true;
    });
    return escapes ? undefined : out;
  }

  /** Where the buffer `e` (a mapping's CPU address) lives, when it is known to be bad. */
  classify(e: SyntaxNode, at: SyntaxNode, depth = 0): Where | undefined {
    e = bare(e);
    if (depth > 4) return undefined;
    switch (e.type) {
      case 'string_literal': case 'concatenated_string':
        return { k: 'rodata', what: 'the buffer is a string literal', literal: true };
      case 'binary_expression': {
        const op = e.child(1)?.type;
        const l = e.childForFieldName('left');
        return (op === '+' || op === '-') && l ? this.classify(l, at, depth) : undefined;
      }
      case 'pointer_expression': {
        if (e.child(0)?.type !== '&') return undefined;
        return this.addressOf(bare(e.childForFieldName('argument')!), at);
      }
      case 'identifier': {
        const l = this.resolve(e.text, at);
        if (l) {
          if (l.param) return undefined;
          if (l.array) {
            if (l.isStatic) return l.isConst ? { k: 'rodata', what: `\`${l.name}\` is a static const array of ${this.fnName}()` } : undefined;
            return { k: 'stack', what: `\`${l.name}\` is a local array of ${this.fnName}()`, decl: l.decl };
          }
          if (l.pointer && !l.isStatic) return this.pointsTo(l, at, depth);
          return undefined;
        }
        const g = this.constGlobal(e.text);
        if (g?.array) return { k: 'rodata', what: `\`${e.text}\` is a const array` };
        if (!g && this.isFunction(e.text)) return { k: 'text', what: `\`${e.text}\` is a function` };
        return undefined;
      }
      case 'field_expression': {
        // `y.data` of a local struct whose member `data` is an array.
        if (e.child(1)?.type !== '.') return undefined;
        const root = this.rootLocal(e, at);
        const field = e.childForFieldName('field')?.text;
        const obj = bare(e.childForFieldName('argument')!);
        if (!root || root.param || root.isStatic || root.pointer || !field || obj.type !== 'identifier') return undefined;
        const st = this.structOf(root);
        if (st && this.memberIsArray(st, field)) return { k: 'stack', what: `\`${e.text}\` is a member of \`${root.name}\`, a local variable of ${this.fnName}()`, decl: root.decl };
        return undefined;
      }
      default:
        return undefined;
    }
  }

  /** `&x`, `&x.f.g`, `&x[i]`: on the stack when x is a local (or a parameter), by value. */
  private addressOf(x: SyntaxNode, at: SyntaxNode): Where | undefined {
    if (x.type === 'identifier') {
      const l = this.resolve(x.text, at);
      if (l) {
        if (l.isStatic) return l.isConst ? { k: 'rodata', what: `\`${l.name}\` is a static const of ${this.fnName}()` } : undefined;
        return { k: 'stack', what: `\`${l.name}\` is ${l.param ? 'a parameter' : 'a local variable'} of ${this.fnName}()`, decl: l.decl };
      }
      if (this.constGlobal(x.text)) return { k: 'rodata', what: `\`${x.text}\` is a const object` };
      if (this.isFunction(x.text)) return { k: 'text', what: `\`${x.text}\` is a function` };
      return undefined;
    }
    if (x.type === 'field_expression' || x.type === 'subscript_expression') {
      const root = this.rootLocal(x, at);
      if (!root || root.isStatic) return undefined;
      // `&bufs[i]` of an array of pointers is still the array (on the stack); `&p[i]` of a pointer is not.
      if (root.pointer) return undefined;
      if (root.param && !this.byValueChain(x)) return undefined;
      return { k: 'stack', what: `\`${x.text}\` is part of \`${root.name}\`, ${root.param ? 'a parameter' : 'a local variable'} of ${this.fnName}()`, decl: root.decl };
    }
    return undefined;
  }

  /** The local at the root of `a.b[i].c`, through `.` and subscripts of arrays only (never `->`). */
  private rootLocal(x: SyntaxNode, at: SyntaxNode): Local | undefined {
    let n = bare(x);
    let subscripted = false;
    for (;;) {
      if (n.type === 'field_expression') {
        if (n.child(1)?.type !== '.') return undefined;
        n = bare(n.childForFieldName('argument')!);
      } else if (n.type === 'subscript_expression') {
        subscripted = true;
        n = bare(n.childForFieldName('argument')!);
      } else break;
    }
    if (n.type !== 'identifier') return undefined;
    const l = this.resolve(n.text, at);
    // A subscript of a pointer (`p[i]`) or of something not declared an array leaves the stack.
    if (!l || (subscripted && !l.array)) return undefined;
    return l;
  }

  private byValueChain(x: SyntaxNode): boolean {
    return !/->/.test(x.text) && !/\[/.test(x.text);
  }

  /** A local pointer: where every assignment of it points, when they all agree. */
  private pointsTo(l: Local, at: SyntaxNode, depth: number): Where | undefined {
    const vals = this.assignments(l.name);
    if (!vals || vals.length === 0) return undefined;
    let first: Where | undefined;
    for (const v0 of vals) {
      const v = bare(v0);
      let w: Where | undefined;
      if (v.type === 'call_expression') {
        const api = calleeName(v) ?? '';
        if (VMALLOC.test(api) || KVMALLOC.test(api)) w = { k: 'vmalloc', what: `\`${l.name}\``, api, at: v, maybe: KVMALLOC.test(api) };
      } else if (v.type === 'identifier' && v.text === l.name) return undefined;
      else w = this.classify(v, v, depth + 1);
      if (!w) return undefined;
      if (first && first.k !== w.k) return undefined;
      first ??= w;
    }
    if (!first) return undefined;
    if (first.k === 'vmalloc') return { ...first, what: `\`${l.name}\`` };
    return { ...first, what: `\`${l.name}\` points to ${first.what.replace(/^the buffer is /, '').replace(/ is (a|an|part of|a member of) /, ', $1 ')}` } as Where;
  }
}

function message(w: Where, api: string): string {
  switch (w.k) {
    case 'stack':
      return `${w.what}: it lives on the stack, which may be vmapped (CONFIG_VMAP_STACK) and is not DMA-safe; allocate it with kmalloc()`;
    case 'rodata':
      return `${w.what}: it lives in kernel rodata, which ${api}() must never map; copy it to a kmalloc() buffer (kmemdup())`;
    case 'text':
      return `${w.what}: its address is kernel text, which ${api}() must never map; map a kmalloc() buffer`;
    case 'vmalloc':
      return `${w.what} comes from ${w.api}() at line ${w.at.startPosition.row + 1}: ${w.maybe ? 'it may be vmalloc memory, which' : 'vmalloc memory'} is not physically contiguous and ${api}() rejects it ("rejecting DMA map of vmalloc memory"); use kmalloc(), or map its pages through an sg table (vmalloc_to_page())`;
  }
}

export function checkDmaOnStack(ctx: CheckContext): Finding[] {
  const fn = ctx.node;
  if (!fn || fn.type !== 'function_definition' || !/\b(dma_map_single|dma_map_page|dma_map_sg|dma_map_sgtable)/.test(fn.text)) return [];
  const scope = new Scope(fn, ctx.fn);
  const out: Finding[] = [];
  const calls: SyntaxNode[] = [];
  walk(fn, (n) => { if (n.type === 'call_expression') calls.push(n); });
  const report = (call: SyntaxNode, api: string, w: Where, extra?: { at: SyntaxNode; message: string }) => {
    const related = [] as Finding['related'];
    if (extra) related.push({ range: rangeOf(extra.at), message: extra.message });
    if (w.k === 'stack') related.push({ range: rangeOf(w.decl), message: 'declared here' });
    if (w.k === 'vmalloc') related.push({ range: rangeOf(w.at), message: `allocated here by ${w.api}()` });
    out.push(finding('dma-on-stack', 'error', ctx, rangeOf(call), message(w, api), related));
  };
  for (const call of calls) {
    const api = calleeName(call);
    if (!api) continue;
    const spec = MAP_CALLS[api];
    if (spec) {
      let buf = argsOf(call)[spec.arg];
      if (!buf) continue;
      if (spec.page) {
        const v = bare(buf);
        if (v.type !== 'call_expression' || calleeName(v) !== 'virt_to_page') continue;
        buf = argsOf(v)[0];
        if (!buf) continue;
      }
      const w = scope.classify(buf, call);
      if (w) report(call, api, w);
      continue;
    }
    if (SG_MAP.test(api)) {
      const sg = argsOf(call)[1];
      const root = sg && sgRoot(sg);
      if (!root) continue;
      // The sg_init_one()/sg_set_buf() of the same list before the mapping.
      const set = calls.find((c) => c.startIndex < call.startIndex && SG_SET.test(calleeName(c) ?? '') && sgRoot(argsOf(c)[0]) === root);
      const buf = set && argsOf(set)[1];
      const w = buf && scope.classify(buf, set);
      if (w) report(call, api, w, { at: set, message: `${calleeName(set)}() points the list at the buffer here` });
    }
  }
  return out;
}

/** The variable an sg argument names: `&sg` / `sg` / `&sgl[i]` / `sgt.sgl` -> its root identifier. */
function sgRoot(n: SyntaxNode | undefined): string | undefined {
  if (!n) return undefined;
  let x = bare(n);
  if (x.type === 'pointer_expression' && x.child(0)?.type === '&') x = bare(x.childForFieldName('argument')!);
  while (x.type === 'subscript_expression' || x.type === 'field_expression') x = bare(x.childForFieldName('argument')!);
  return x.type === 'identifier' ? x.text : undefined;
}
