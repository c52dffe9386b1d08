/**
 * Mechanical fixes (quick fixes in the editor):
 * - missing-error-path on a dma_map_*() result assigned to an lvalue: test it with
 *   dma_mapping_error() right after the statement;
 * - leak when a later call fails and jumps to an unwind label: add a label just above it
 *   that releases the resource, and send that goto to it (so paths that reach the old
 *   label before the resource existed are unchanged).
 */
import type { FunctionInfo } from '../parse/functions';
import type { SyntaxNode } from '../parse/parser';
import type { Finding, Fix } from './types';

export function fixesFor(f: Finding, fn: FunctionInfo, text: string): Fix | undefined {
  const lines = text.split('\n');
  const call = callAt(fn.node, f.range.start.line, f.range.start.character);
  if (!call) return undefined;
  const name = call.childForFieldName('function')?.text ?? '';
  const args = call.childForFieldName('arguments')?.namedChildren.map((a) => a.text.replace(/\s+/g, ' ')) ?? [];
  const holder = holderOf(call);
  const stmt = statementOf(call);
  if (!stmt) return undefined;
  const indent = /^\s*/.exec(lines[stmt.startPosition.row] ?? '')?.[0] ?? '\t';
  if (f.rule === 'missing-error-path' && /^(dma_map_(single|page|resource)(_attrs)?|skb_frag_dma_map)$/.test(name) && holder) {
    const at = { line: stmt.endPosition.row, character: stmt.endPosition.column };
    return {
      title: `Test ${holder} with dma_mapping_error()`,
      edits: [{ range: { start: at, end: at }, newText: `\n${indent}if (dma_mapping_error(${args[0]}, ${holder}))\n${indent}\treturn -ENOMEM;` }],
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
