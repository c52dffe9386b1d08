/**
 * unreserved-iova: an IOVA is mapped that no allocator or reservation handed out: a fixed
 * address mapped into a DMA-API-managed domain (the one iommu_get_domain_for_dev() returns,
 * whose IOVA space belongs to dma-iommu's allocator), or a range that overlaps a reserved
 * region (the arm-smmu-v3 software MSI window, 0x8000000 + 0x100000 by default). Reported at
 * the mapping call. A fixed IOVA in an unmanaged domain the driver allocated itself is fine.
 */
import type { Finding } from '../engine/types';
import { hex } from '../exec/value';
import { CheckContext, finding, siteRange } from './common';

export function checkUnreservedIova(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  // A fixed IOVA in a DMA domain: only when every path reaching the call maps an unallocated IOVA.
  const managed = new Map<number, { all: boolean; path: number; e: { site: import('../exec/state').SiteRef; detail?: Record<string, unknown> } }>();
  const done = new Set<number>();
  ctx.exploration.paths.forEach((p, i) => {
    for (const e of p.state.events) {
      if (e.k !== 'map') continue;
      const d = e.detail as { dmaManaged: boolean; fromAllocator: boolean; iova?: number; size?: number; iovaText: string };
      const bad = d.dmaManaged && !d.fromAllocator;
      const m = managed.get(e.site.at);
      if (!m) managed.set(e.site.at, { all: bad, path: i, e });
      else m.all &&= bad;
      if (d.iova !== undefined && !done.has(e.site.at)) {
        const end = d.iova + (d.size ?? 1);
        for (const r of ctx.config.smmu.reservedRegions) {
          if (d.iova < r.start + r.length && end > r.start) {
            done.add(e.site.at);
            const what = r.type === 'msi' ? 'the software MSI window' : `a ${r.type} region`;
            out.push(finding('unreserved-iova', 'error', ctx, siteRange(e.site),
              `${e.site.api}() maps IOVA ${hex(d.iova)}${d.size ? `..${hex(end - 1)}` : ''}, which overlaps ${what} ${hex(r.start)}..${hex(r.start + r.length - 1)}`,
              [], i));
            break;
          }
        }
      }
    }
  });
  for (const [at, m] of managed) {
    if (!m.all || done.has(at)) continue;
    const d = m.e.detail as { iovaText: string };
    out.push(finding('unreserved-iova', 'error', ctx, siteRange(m.e.site),
      `${m.e.site.api}() maps IOVA ${d.iovaText} into the DMA-API domain from iommu_get_domain_for_dev(), but no IOVA allocator handed that address out; dma-iommu may give it to another mapping`,
      [], m.path));
  }
  return out;
}
