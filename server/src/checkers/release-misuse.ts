/**
 * The release rules that DMA-API debug reports at unmap time (kernel/dma/debug.c check_unmap()),
 * found statically on a path:
 * - double-release: a resource released twice on one path ("device driver tries to free DMA
 *   memory it has not allocated"); reported at the second release;
 * - wrong-release-function: released by the release function of another family (a coherent
 *   buffer given to dma_unmap_single(), an alloc_iova_fast() pfn to __free_iova()); reported at
 *   the releasing call ("device driver frees DMA memory with wrong function");
 * - direction-mismatch: dma_unmap_*() with a DMA direction provably different from the one mapped
 *   ("device driver frees DMA memory with different direction"); reported at the unmap.
 */
import { KIND_NAME, releasersFor } from '../model/api';
import type { Finding, RuleId } from '../engine/types';
import type { SiteRef } from '../exec/state';
import { CheckContext, finding, siteRange } from './common';

const DIR = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'];

function collect(ctx: CheckContext, kind: 'double-release' | 'wrong-release' | 'direction', rule: RuleId,
  message: (e: { site: SiteRef; detail?: Record<string, unknown> }, r: { api: string; kind: keyof typeof KIND_NAME; site: SiteRef }) => string): Finding[] {
  const out: Finding[] = [];
  const done = new Set<number>();
  ctx.exploration.paths.forEach((p, i) => {
    for (const e of p.state.events) {
      if (e.k !== kind || done.has(e.site.at)) continue;
      const r = p.state.resources.find((x) => x.id === e.res);
      if (!r) continue;
      done.add(e.site.at);
      out.push(finding(rule, 'error', ctx, siteRange(e.site), message(e, r),
        [{ range: siteRange(r.site), message: `acquired here by ${r.api}()` }], i));
    }
  });
  return out;
}

export function checkDoubleRelease(ctx: CheckContext): Finding[] {
  return collect(ctx, 'double-release', 'double-release', (e, r) => {
    const first = e.detail?.first as SiteRef | undefined;
    return `${e.site.api}() releases the ${KIND_NAME[r.kind]} from ${r.api}() at line ${r.site.line + 1} a second time`
      + (first ? `; ${first.api}() at line ${first.line + 1} already released it on this path` : '');
  });
}

export function checkWrongReleaseFunction(ctx: CheckContext): Finding[] {
  return collect(ctx, 'wrong-release', 'wrong-release-function', (e, r) =>
    `${e.site.api}() does not release a ${KIND_NAME[r.kind]}: the one from ${r.api}() at line ${r.site.line + 1} is released with ${releasersFor(r.api, r.kind).slice(0, 2).map((n) => n + '()').join(' or ')}`);
}

export function checkDirectionMismatch(ctx: CheckContext): Finding[] {
  return collect(ctx, 'direction', 'direction-mismatch', (e, r) => {
    const d = e.detail as { acquired: number; released: number };
    return `${e.site.api}() unmaps with ${DIR[d.released] ?? d.released} but ${r.api}() at line ${r.site.line + 1} mapped with ${DIR[d.acquired] ?? d.acquired}`;
  });
}
