/**
 * unmap-size-mismatch: a release names a size (or sg count, or page order, or for coherent
 * memory a DMA handle) provably different from what was acquired: dma_unmap_*,
 * dma_free_coherent/attrs, iommu_unmap, free_iova_fast, iommu_dma_free_iova, free_pages.
 * Reported at the releasing call. Mirrors kernel/dma/debug.c check_unmap(): "DMA-API: device
 * driver frees DMA memory with different size [device address=...] [map size=...] [unmap
 * size=...]" and "...frees DMA sg list with different entry count".
 * Sizes are compared symbolically: only a provable difference is reported. A partial
 * iommu_unmap() whose returned size the driver tests is deliberate and not reported.
 */
import type { Finding } from '../engine/types';
import { CheckContext, finding, siteRange } from './common';

export function checkUnmapSize(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const done = new Set<number>();
  ctx.exploration.paths.forEach((p, i) => {
    for (const e of p.state.events) {
      if (e.k !== 'mismatch' || done.has(e.site.at)) continue;
      const r = p.state.resources.find((x) => x.id === e.res);
      if (!r) continue;
      done.add(e.site.at);
      const d = e.detail as { what: string; acquired: string; released: string; ret?: string };
      // A driver that tests iommu_unmap()'s result is unmapping part of a range on purpose
      // (vfio's fine-grained superpage probe); iommu_unmap() reports what it did.
      if (d.ret && p.state.tested.has(d.ret)) continue;
      const msg = d.what === 'nents-returned'
        ? `${e.site.api}() is given the count that ${r.api}() returned; pass the nents given to ${r.api}() at line ${r.site.line + 1} (${d.acquired})`
        : d.what === 'order'
          ? `${e.site.api}() frees order ${d.released} but ${r.api}() at line ${r.site.line + 1} allocated order ${d.acquired}`
          : d.what === 'address'
            ? `${e.site.api}() is given ${d.released}, not the address ${r.api}() at line ${r.site.line + 1} returned`
          : d.what === 'dma handle'
            ? `${e.site.api}() is given DMA handle ${d.released}, not the handle ${r.api}() at line ${r.site.line + 1} returned`
            : `${e.site.api}() releases ${d.what} ${d.released} but ${r.api}() at line ${r.site.line + 1} acquired ${d.acquired}`;
      out.push(finding('unmap-size-mismatch', 'error', ctx, siteRange(e.site), msg,
        [{ range: siteRange(r.site), message: `acquired here by ${r.api}() with ${d.what === 'order' ? 'order' : 'size'} ${d.acquired}` }], i));
    }
  });
  return out;
}
