/**
 * small-coherent-alloc (a hint): dma_alloc_coherent()/dma_alloc_attrs()/dma_zalloc_coherent()
 * of a constant size well below a page (under 1024 bytes) made per object: inside a loop, or in
 * a function that runs per request or object (installed as ndo_start_xmit/queuecommand/
 * do_one_request, or named `*_xmit`, `*_queuecommand`, `*_alloc_desc*`, `*_desc_alloc*`,
 * `*_prep_*`, `*_submit*`, a `*_rx` handler). Reported at the allocation. Every coherent
 * allocation takes whole pages (kernel/dma/direct.c and dma-iommu.c PAGE_ALIGN the size; a
 * non-coherent arm64 device gets an uncached remap of them), which is what dma_pool
 * (mm/dmapool.c) is for. DMA-API debug has no run-time counterpart.
 * The size is the value the executor computed on every path that reached the call (the file's
 * #defines evaluated; `sizeof(struct x)` stays unknown): a size unknown or different on some
 * path is not reported, nor is a one-time allocation of probe or init.
 */
import type { Finding, Range } from '../engine/types';
import type { SyntaxNode } from '../parse/parser';
import { isConst } from '../exec/value';
import { CheckContext, finding, siteRange } from './common';
import { walk } from './dma-on-stack';

const COHERENT_ALLOC = /^(dma_alloc_coherent|dma_alloc_attrs|dma_zalloc_coherent)$/;
/** Below this many bytes, an allocation is "well below a page" (4K, the smallest granule). */
const SMALL = 1024;
/** Names of functions that run once per request or object. */
const PER_OBJECT_NAME = /(_xmit|_queuecommand|_rx|_rx_(one|packet|pkt|frame|skb|buf))$|_alloc_desc|_desc_alloc|_prep_|_submit/;
const LOOPS = new Set(['for_statement', 'while_statement', 'do_statement']);

function rangeOf(n: SyntaxNode): Range {
  return { start: { line: n.startPosition.row, character: n.startPosition.column }, end: { line: n.endPosition.row, character: n.endPosition.column } };
}

/** The innermost loop of the function around `n`, if any. */
function loopAround(n: SyntaxNode, fn: SyntaxNode): SyntaxNode | undefined {
  for (let p = n.parent; p && p !== fn; p = p.parent) if (LOOPS.has(p.type)) return p;
  return undefined;
}

export function checkSmallCoherentAlloc(ctx: CheckContext): Finding[] {
  const fn = ctx.node;
  if (!fn || !/\bdma_(z?alloc_coherent|alloc_attrs)\b/.test(fn.text)) return [];
  // The size each path gave each allocation site: one constant on all of them, or nothing.
  const sizes = new Map<number, number | null>();
  const sites = new Map<number, ReturnType<typeof siteRange>>();
  for (const p of ctx.exploration.paths) {
    for (const r of p.state.resources) {
      if (r.kind !== 'coherent' || !COHERENT_ALLOC.test(r.api)) continue;
      const v = r.size && isConst(r.size) ? r.size.c : null;
      const had = sizes.get(r.site.at);
      sizes.set(r.site.at, had === undefined ? v : had === v ? v : null);
      sites.set(r.site.at, siteRange(r.site));
    }
  }
  const perObjectFn = ctx.requestHandler || PER_OBJECT_NAME.test(ctx.fn);
  const out: Finding[] = [];
  walk(fn, (n) => {
    if (n.type === 'call_expression') {
      const api = n.childForFieldName('function')?.text ?? '';
      const size = sizes.get(n.startIndex);
      if (COHERENT_ALLOC.test(api) && size !== undefined && size !== null && size > 0 && size < SMALL) {
        const loop = loopAround(n, fn);
        if (loop || perObjectFn) {
          const where = loop ? `in a loop (line ${loop.startPosition.row + 1})` : `in ${ctx.fn}(), which runs per ${ctx.requestHandler || /_xmit$|_queuecommand$|_rx/.test(ctx.fn) ? 'request' : 'object'}`;
          out.push(finding('small-coherent-alloc', 'information', ctx, sites.get(n.startIndex) ?? rangeOf(n),
            `${api}() of ${size} bytes ${where}: each coherent allocation takes at least a page (and is remapped uncached on non-coherent arm64); sub-page per-object buffers belong in a dma_pool (dma_pool_create() once, dma_pool_alloc() per object)`,
            loop ? [{ range: rangeOf(loop), message: 'the loop that repeats the allocation' }] : []));
        }
      }
    }
  });
  return out;
}
