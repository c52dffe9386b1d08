/**
 * Mechanical fixes (quick fixes in the editor):
 * - missing-error-path on a dma_map_*() result assigned to an lvalue: test it with
 *   dma_mapping_error() right after the statement;
 * - leak when a later call fails and jumps to an unwind label: add a label just above it
 *   that releases the resource, and send that goto to it (so paths that reach the old
 *   label before the resource existed are unchanged);
 * - direction-mismatch: give the unmap or sync the direction the mapping was made with (both
 *   written as DMA_* constants);
 * - stale-iotlb: sync the gather right after the iommu_unmap_fast() that filled it;
 * - cpu-access-without-sync: a read gets dma_sync_single_for_cpu() before it, a write
 *   dma_sync_single_for_device() after it (the mapping made in this function with dma_map_single());
 * - unreleased-at-remove: a probe's dma_alloc_coherent() that no function of the file frees
 *   becomes dmam_alloc_coherent(), released by devres at unbind.
 */
import type { FunctionInfo } from '../parse/functions';
import type { SyntaxNode } from '../parse/parser';
import type { Finding, Fix } from './types';

/** `lines`: the text split at newlines, when the caller has it (one split per file, not per finding). */
export function fixesFor(f: Finding, fn: FunctionInfo, text: string, lines: string[] = text.split('\n')): Fix | undefined {
  const call = callAt(fn.node, f.range.start.line, f.range.start.character);
  if (f.rule !== 'leak' && f.rule !== 'missing-error-path') return otherFix(f, fn, text, lines, call);
  if (!call) return undefined;
  const name = call.childForFieldName('function')?.text ?? '';
  const args = call.childForFieldName('arguments')?.namedChildren.map((a) => a.text.replace(/\s+/g, ' ')) ?? [];
  const holder = holderOf(call);
  const stmt = statementOf(call);
  if (!stmt) return undefined;
  const indent = /^\s*/.exec(lines[stmt.startPosition.row] ?? '')?.[0] ?? '\t';
  if (f.rule === 'missing-error-path' && /^(dma_map_(single|page|resource)(_attrs)?|skb_frag_dma_map)$/.test(name) && holder) {
    const fail = failureExit(fn, text, stmt, indent);
    if (!fail) return undefined;
    const at = { line: stmt.endPosition.row, character: stmt.endPosition.column };
    return {
      title: `Test ${holder} with dma_mapping_error()`,
      edits: [{ range: { start: at, end: at }, newText: `\n${indent}if (dma_mapping_error(${args[0]}, ${holder}))${fail}` }],
    };
  }
  if (f.rule === 'leak' && holder) {
    const release = releaseText(name, args, holder);
    if (!release) return undefined;
    const failing = f.related.find((r) => r.message.endsWith('fails here'));
    if (!failing) return undefined;
    // The goto taken when the failing call fails: the first one within a few lines after it.
    for (let l = failing.range.start.line; l < Math.min(lines.length, failing.range.start.line + 8); l++) {
      const m = /\bgoto\s+(\w+)\s*;/.exec(lines[l]);
      if (m) {
        const label = m[1];
        const labelLine = lines.findIndex((s, i) => i > l && i <= fn.range.end.line && new RegExp(`^\\s*${label}\\s*:`).test(s));
        if (labelLine < 0) return undefined;
        // The old label's chain releases it already on some path (under a flag, or another
        // exit's goto): a new label falling through to it would release it twice.
        // Nothing may fall through into the new label: the line above the old one must leave.
        let above = labelLine - 1;
        while (above > l && /^\s*(\/\/.*|\/?\*.*|)$/.test(lines[above])) above--;
        if (!/^\s*(return\b[^;]*|goto\s+\w+|break|continue)\s*;\s*(\/\*.*\*\/|\/\/.*)?$|^\s*}\s*$/.test(lines[above] ?? '')) return undefined;
        if (/^\s*}\s*$/.test(lines[above]) && !/^\s*(return\b[^;]*|goto\s+\w+)\s*;/.test(lines[above - 1] ?? '')) return undefined;
        const rel = release.slice(0, release.indexOf('('));
        const field = /([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*$/.exec(holder)?.[1] ?? holder;
        const after = lines.slice(labelLine, fn.range.end.line + 1).join('\n');
        if (new RegExp(`\\b${rel}\\s*\\([^;]*\\b${field}\\b`).test(after)) return undefined;
        const newLabel = `err_release_${holder.replace(/\W+/g, '_').replace(/^_+|_+$/g, '')}`.slice(0, 40);
        const col = lines[l].indexOf(label, m.index);
        return {
          title: `Release ${holder} under a new unwind label before ${label}:`,
          edits: [
            { range: { start: { line: l, character: col }, end: { line: l, character: col + label.length } }, newText: newLabel },
            { range: { start: { line: labelLine, character: 0 }, end: { line: labelLine, character: 0 } }, newText: `${newLabel}:\n\t${release}\n` },
          ],
        };
      }
      if (/\breturn\b/.test(lines[l]) && l > failing.range.start.line) {
        const ind = /^\s*/.exec(lines[l])?.[0] ?? '\t';
        return {
          title: `Release ${holder} before returning`,
          edits: [{ range: { start: { line: l, character: 0 }, end: { line: l, character: 0 } }, newText: `${ind}${release}\n` }],
        };
      }
    }
  }
  return undefined;
}

/**
 * What a failed mapping's test does: the unwind the function's last failure before the map took
 * (`ret = -ENOMEM; goto err_free_ring;`: what was acquired before it is released there), else a
 * return in the function's own type (nothing for a void function, ERR_PTR()/NULL as its other
 * returns do, -ENOMEM for an int). None for a type whose failure value cannot be told.
 */
function failureExit(fn: FunctionInfo, text: string, stmt: SyntaxNode, indent: string): string | undefined {
  const body = text.slice(fn.startIndex, stmt.startIndex);
  const gotos = [...body.matchAll(/\bgoto\s+(\w+)\s*;/g)];
  const g = gotos[gotos.length - 1];
  if (g) {
    // The error value the goto's branch sets (`err = -ENOMEM;` just before it).
    const before = body.slice(Math.max(0, g.index! - 160), g.index!);
    const set = [...before.matchAll(/\b(ret|err|rc|error|retval|status|rv)\s*=\s*-E[A-Z]+\s*;/g)].pop();
    const label = g[1];
    return set
      ? ` {\n${indent}\t${set[1]} = -ENOMEM;\n${indent}\tgoto ${label};\n${indent}}`
      : `\n${indent}\tgoto ${label};`;
  }
  const own = text.slice(fn.startIndex, fn.endIndex);
  const rt = fn.returnType.replace(/\b(static|inline|__always_inline|noinline|extern|const)\b/g, '').trim();
  let value: string | undefined;
  if (fn.returnsPointer) value = /\breturn\s+ERR_PTR\s*\(/.test(own) ? 'ERR_PTR(-ENOMEM)' : /\breturn\s+NULL\s*;/.test(own) ? 'NULL' : undefined;
  else if (rt === 'void') value = '';
  else if (/^(int|long|ssize_t|s32|s64)$/.test(rt)) value = '-ENOMEM';
  if (value === undefined) return undefined;
  return `\n${indent}\treturn${value ? ' ' + value : ''};`;
}

const DIRS = /^DMA_(TO_DEVICE|FROM_DEVICE|BIDIRECTIONAL)$/;

/** The call a related location points at, when it is inside this function. */
function relatedCall(f: Finding, fn: FunctionInfo, prefix: RegExp): SyntaxNode | undefined {
  for (const r of f.related) {
    if (!prefix.test(r.message)) continue;
    const l = r.range.start.line;
    if (l < fn.range.start.line || l > fn.range.end.line) continue;
    const c = callAt(fn.node, l, r.range.start.character);
    if (c && c.startPosition.row === l) return c;
  }
  return undefined;
}

function argsOf(call: SyntaxNode): SyntaxNode[] {
  return call.childForFieldName('arguments')?.namedChildren ?? [];
}

function otherFix(f: Finding, fn: FunctionInfo, text: string, lines: string[], call: SyntaxNode | undefined): Fix | undefined {
  const name = call?.childForFieldName('function')?.text ?? '';
  if (f.rule === 'direction-mismatch') {
    const map = relatedCall(f, fn, /^(mapped|acquired) here/);
    if (!map) return undefined;
    const want = argsOf(map).map((a) => a.text).find((t) => DIRS.test(t));
    const have = call && argsOf(call).find((a) => DIRS.test(a.text));
    if (!want || !have || have.text === want) return undefined;
    return {
      title: `Use ${want}, the direction ${map.childForFieldName('function')?.text}() mapped with`,
      edits: [{ range: nodeRange(have), newText: want }],
    };
  }
  if (f.rule === 'stale-iotlb') {
    const l = f.related[0]?.range.start.line;
    if (l === undefined || l < fn.range.start.line || l > fn.range.end.line) return undefined;
    const m = /\biommu_unmap_fast\s*\(/.exec(lines[l] ?? '');
    if (!m) return undefined;
    const unmap = callAt(fn.node, l, m.index);
    const a = unmap && argsOf(unmap);
    const us = unmap && statementOf(unmap);
    if (!a || a.length !== 4 || !us) return undefined;
    const ind = /^\s*/.exec(lines[us.startPosition.row] ?? '')?.[0] ?? '\t';
    const at = { line: us.endPosition.row, character: us.endPosition.column };
    const gather = a[3].text.replace(/\s+/g, ' ');
    return {
      title: `Sync the IOTLB after iommu_unmap_fast(): iommu_iotlb_sync(${a[0].text}, ${gather})`,
      edits: [{ range: { start: at, end: at }, newText: `\n${ind}iommu_iotlb_sync(${a[0].text}, ${gather});` }],
    };
  }
  if (f.rule === 'cpu-access-without-sync') {
    const map = relatedCall(f, fn, /^(mapped|acquired) here/);
    if (!map || !/^dma_map_single(_attrs)?$/.test(map.childForFieldName('function')?.text ?? '')) return undefined;
    const h = holderOf(map);
    const a = argsOf(map).map((x) => x.text.replace(/\s+/g, ' '));
    if (!h || a.length < 4) return undefined;
    const write = / writes a streaming DMA buffer /.test(f.message);
    // The access's own statement (not the call the range may sit in: `memcpy(dst, buf, n)`).
    const node = fn.node.descendantForPosition({ row: f.range.start.line, column: f.range.start.character });
    const st = node && statementOf(node);
    if (!st || st.startPosition.row < fn.range.start.line) return undefined;
    const ind = /^\s*/.exec(lines[st.startPosition.row] ?? '')?.[0] ?? '\t';
    if (write) {
      // After the last write of the run (the checker names it), so that one sync covers them all.
      const last = f.related.find((r) => r.message.startsWith('the last CPU write'));
      let end = st;
      if (last && last.range.start.line <= fn.range.end.line) {
        const ln = fn.node.descendantForPosition({ row: last.range.start.line, column: last.range.start.character });
        const ls = ln && statementOf(ln);
        // The statements, one on each side, that share a block: after the later of them.
        const mine: SyntaxNode[] = [];
        for (let a: SyntaxNode | null = st; a && a.id !== fn.node.id; a = a.parent) mine.push(a);
        for (let b: SyntaxNode | null = ls ?? null; b && b.id !== fn.node.id; b = b.parent) {
          const a = mine.find((x) => x.parent?.id === b!.parent?.id);
          if (a) { end = b.endIndex > a.endIndex ? b : a; break; }
        }
      }
      // The handle must still be this mapping's where the sync goes (`map = skb_frag_dma_map(...)`
      // in between, qla3xxx's loop, would sync another one).
      const between = text.slice(statementOf(map)?.endIndex ?? map.endIndex, end.endIndex);
      if (new RegExp(`(^|[^\\w.>])${h.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*=[^=]`).test(between)) return undefined;
      const at = { line: end.endPosition.row, character: end.endPosition.column };
      return {
        title: `Give the buffer back to the device after the write: dma_sync_single_for_device()`,
        edits: [{ range: { start: at, end: at }, newText: `\n${ind}dma_sync_single_for_device(${a[0]}, ${h}, ${a[2]}, ${a[3]});` }],
      };
    }
    const at = { line: st.startPosition.row, character: 0 };
    return {
      title: `Sync the buffer for the CPU before reading it: dma_sync_single_for_cpu()`,
      edits: [{ range: { start: at, end: at }, newText: `${ind}dma_sync_single_for_cpu(${a[0]}, ${h}, ${a[2]}, ${a[3]});\n` }],
    };
  }
  if (f.rule === 'unreleased-at-remove' && call && name === 'dma_alloc_coherent' && / when \w+\(\) succeeds/.test(f.message)
    && !/each stop and open again/.test(f.message)) {
    // devres frees it at unbind; only where nothing in the file frees it already (a
    // dma_free_coherent() of a managed buffer is a bug of its own).
    const holder = holderOf(call);
    const field = holder && /([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*$/.exec(holder)?.[1];
    if (!field || new RegExp(`\\bdma_free_coherent\\s*\\([^;]*\\b${field}\\b`).test(text)) return undefined;
    const fnNode = call.childForFieldName('function');
    if (!fnNode) return undefined;
    return {
      title: 'Allocate it with dmam_alloc_coherent(): devres frees it when the driver unbinds',
      edits: [{ range: nodeRange(fnNode), newText: 'dmam_alloc_coherent' }],
    };
  }
  return undefined;
}

function nodeRange(n: SyntaxNode) {
  return { start: { line: n.startPosition.row, character: n.startPosition.column }, end: { line: n.endPosition.row, character: n.endPosition.column } };
}

function releaseText(api: string, a: string[], holder: string): string | undefined {
  const strip = (s: string | undefined) => (s ?? '').replace(/^&\s*/, '');
  switch (api) {
    case 'alloc_iova': return `__free_iova(${a[0]}, ${holder});`;
    case 'alloc_iova_fast': return `free_iova_fast(${a[0]}, ${holder}, ${a[1]});`;
    case 'dma_map_single': case 'dma_map_single_attrs': return `dma_unmap_single(${a[0]}, ${holder}, ${a[2]}, ${a[3]});`;
    case 'dma_map_page': case 'dma_map_page_attrs': case 'skb_frag_dma_map': return `dma_unmap_page(${a[0]}, ${holder}, ${a[3]}, ${a[4]});`;
    case 'dma_map_resource': return `dma_unmap_resource(${a[0]}, ${holder}, ${a[2]}, ${a[3]}, 0);`;
    case 'dma_map_sg': return `dma_unmap_sg(${a[0]}, ${a[1]}, ${a[2]}, ${a[3]});`;
    case 'dma_alloc_coherent': return `dma_free_coherent(${a[0]}, ${a[1]}, ${holder}, ${strip(a[2])});`;
    case 'dma_pool_alloc': case 'dma_pool_zalloc': return `dma_pool_free(${a[0]}, ${holder}, ${strip(a[2])});`;
    case '__get_free_pages': return `free_pages(${holder}, ${a[1]});`;
    case 'alloc_pages': return `__free_pages(${holder}, ${a[1]});`;
    case 'iommu_domain_alloc': case 'iommu_paging_domain_alloc': return `iommu_domain_free(${holder});`;
    default: return undefined;
  }
}

export function callAt(root: SyntaxNode, line: number, col: number): SyntaxNode | undefined {
  let n: SyntaxNode | null = root.descendantForPosition({ row: line, column: col });
  while (n && n.type !== 'call_expression') n = n.parent;
  return n ?? undefined;
}

/** The lvalue a call's result is assigned to (`x = call()`, `T x = call()`). */
export function holderOf(call: SyntaxNode): string | undefined {
  let p = call.parent;
  while (p && (p.type === 'cast_expression' || p.type === 'parenthesized_expression')) p = p.parent;
  if (p?.type === 'assignment_expression') return p.childForFieldName('left')?.text;
  if (p?.type === 'init_declarator') {
    let d = p.childForFieldName('declarator');
    while (d && d.type !== 'identifier') d = d.childForFieldName('declarator');
    return d?.text;
  }
  return undefined;
}

function statementOf(n: SyntaxNode): SyntaxNode | undefined {
  let p: SyntaxNode | null = n;
  while (p && !/statement$|^declaration$/.test(p.type)) p = p.parent;
  return p ?? undefined;
}
