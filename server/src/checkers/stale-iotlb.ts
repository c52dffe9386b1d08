/**
 * stale-iotlb: iommu_map() over an IOVA range that iommu_unmap_fast() took out of the page table
 * on the same path while its IOTLB invalidation is still only gathered (no iommu_iotlb_sync() of
 * the gather, no iommu_flush_iotlb_all() in between). The SMMU's IOTLB may still hold the old
 * translation: until the sync, the device can reach the old pages at the reused IOVA, or the new
 * and old translations disagree. Found on the emulator: its domain lists the fast-unmapped ranges
 * not yet synced (emulator iommu.ts iommuUnmapFast), and the map checks them. Reported at the
 * mapping call, with the unmap as related information.
 *
 * Also reported: the pages such a range mapped freed (__free_pages(), free_pages(), put_page()...)
 * before the sync, at the free: the device may write them after the page allocator hands them out.
 *
 * Not reported: iommu_unmap() (it syncs before returning), a sync or flush of the domain between
 * the two, another domain, or a range that does not overlap. DMA-API debug says nothing (it does
 * not see the IOMMU API); neither does the IOMMU core, which trusts the caller's gather.
 */
import type { Finding } from '../engine/types';
import { CheckContext, finding, firstBy, lineRange, siteRange } from './common';

const hex = (n: number) => '0x' + n.toString(16);

export function checkStaleIotlb(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  ctx.exploration.paths.forEach((p, i) => {
    for (const e of p.state.events) {
      if (e.k !== 'stale-iotlb') continue;
      const d = e.detail as { iova: number; size: number; unmapLine: number; staleIova: number; staleSize: number; freed?: boolean; pa?: number };
      if (d.freed) {
        out.push(finding('stale-iotlb', 'error', ctx, siteRange(e.site),
          `${e.site.api}() frees the page at ${hex(d.pa ?? 0)} that iommu_unmap_fast() at line ${d.unmapLine + 1} unmapped from IOVA ${hex(d.staleIova)} `
          + `(size ${hex(d.staleSize)}) without an iommu_iotlb_sync() since: the IOTLB may still translate that IOVA to it, so the device can write `
          + 'the page after it is reused; sync the gather (iommu_iotlb_sync(domain, &gather)) before freeing the pages',
          [{ range: lineRange(d.unmapLine), message: 'unmapped here; the IOTLB invalidation is only gathered' }], i));
        continue;
      }
      out.push(finding('stale-iotlb', 'error', ctx, siteRange(e.site),
        `${e.site.api}() maps IOVA ${hex(d.iova)} (size ${hex(d.size)}) that iommu_unmap_fast() at line ${d.unmapLine + 1} unmapped `
        + `(${hex(d.staleIova)}, size ${hex(d.staleSize)}) without an iommu_iotlb_sync() since: the IOTLB may still translate it to the old pages; `
        + 'call iommu_iotlb_sync(domain, &gather) after the unmap (or use iommu_unmap(), which syncs)',
        [{ range: lineRange(d.unmapLine), message: 'unmapped here; the IOTLB invalidation is only gathered' }], i));
    }
  });
  return firstBy(out, (f) => `${f.range.start.line}:${f.range.start.character}`);
}
