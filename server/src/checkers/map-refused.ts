/**
 * What the IOMMU core and io-pgtable refuse, found by running the path on the emulator:
 * - unaligned-map: iommu_map() with an IOVA, physical address or size that is not a multiple of
 *   the domain's smallest page size; the kernel fails it with -EINVAL after printing "unaligned:
 *   iova 0x%lx pa %pa size 0x%zx min_pagesz 0x%x" (drivers/iommu/iommu.c iommu_map_nosync());
 * - map-overlap: iommu_map() over an IOVA already mapped in the domain on this path; the page
 *   table refuses it with -EEXIST (io-pgtable-arm.c arm_lpae_init_pte(): "We require an unmap first").
 * Reported at the mapping call. Values the analysis does not know are given aligned, disjoint
 * addresses, so both come from the driver's own constants or from mapping one address twice.
 */
import type { Finding } from '../engine/types';
import { hex } from '../exec/value';
import { CheckContext, finding, siteRange } from './common';

export function checkMapRefused(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const done = new Set<number>();
  const granule = ctx.config.smmu.granule;
  ctx.exploration.paths.forEach((p, i) => {
    for (const e of p.state.events) {
      if ((e.k !== 'unaligned' && e.k !== 'overlap') || done.has(e.site.at)) continue;
      done.add(e.site.at);
      const d = e.detail as { iova: number; pa: number; size: number };
      if (e.k === 'unaligned') {
        const what = [d.iova % granule ? `iova ${hex(d.iova)}` : '', d.pa % granule ? `pa ${hex(d.pa)}` : '', d.size % granule ? `size ${hex(d.size)}` : '']
          .filter(Boolean).join(', ');
        out.push(finding('unaligned-map', 'error', ctx, siteRange(e.site),
          `${e.site.api}() fails with -EINVAL: ${what} not aligned to the domain's smallest page size ${hex(granule)} (kernel: "unaligned: iova ${hex(d.iova)} pa ${hex(d.pa)} size ${hex(d.size)} min_pagesz ${hex(granule)}")`, [], i));
      } else {
        out.push(finding('map-overlap', 'error', ctx, siteRange(e.site),
          `${e.site.api}() fails with -EEXIST: IOVA ${hex(d.iova)}..${hex(d.iova + d.size - 1)} is already mapped in this domain on this path; unmap it first`, [], i));
      }
    }
  });
  return out;
}
