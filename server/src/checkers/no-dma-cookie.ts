/**
 * no-dma-cookie: an iommu_dma_* call (iommu_dma_alloc_iova(), iommu_dma_free_iova()) for a device
 * whose domain has no DMA cookie: the function attached an IOMMU_DOMAIN_UNMANAGED domain of its
 * own (iommu_domain_alloc(), iommu_paging_domain_alloc()) in place of the default DMA domain, or
 * the system is booted with iommu.passthrough=1 (an identity domain) or without an SMMU
 * (`smmu.mode`). Found by running the path on the emulator: dma-iommu's IOVA allocator lives in the
 * cookie that only a DMA domain has (drivers/iommu/dma-iommu.c, `cookie->iovad`), so the kernel
 * dereferences a NULL cookie: the seeds' "test_valid_domain cookie is NULL" crash (seed 000).
 * Reported at the call. DMA-API debug says nothing: the oops comes first.
 */
import type { Finding } from '../engine/types';
import { CheckContext, finding, siteRange } from './common';

const WHY: Record<string, string> = {
  unmanaged: 'an IOMMU_DOMAIN_UNMANAGED domain, which has no DMA cookie',
  identity: 'the identity (passthrough) domain, which has no DMA cookie',
  blocked: 'a blocking domain, which has no DMA cookie',
  none: 'no IOMMU domain at all',
};

export function checkNoDmaCookie(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const done = new Set<number>();
  ctx.exploration.paths.forEach((p, i) => {
    let n = -1;
    for (const e of p.state.events) {
      n++;
      if (e.k !== 'no-cookie' || done.has(e.site.at)) continue;
      done.add(e.site.at);
      const type = String((e.detail as { domain?: string } | undefined)?.domain ?? 'none');
      const attach = p.state.resources.find((r) => r.kind === 'attachment' && r.seq < n);
      const related: Finding['related'] = attach
        ? [{ range: siteRange(attach.site), message: `${attach.api}() gives the device this domain here` }] : [];
      out.push(finding('no-dma-cookie', 'error', ctx, siteRange(e.site),
        `${e.site.api}() allocates from the DMA cookie of the device's domain, but on this path the device has ${WHY[type] ?? `a ${type} domain, which has no DMA cookie`}${attach ? ` (attached at line ${attach.site.line + 1})` : ''}: dma-iommu dereferences a NULL cookie ("cookie is NULL"); use the IOMMU API on your own domain (iommu_map() at IOVAs you manage, an iova_domain of your own), or leave the device in its DMA domain`,
        related, i));
    }
  });
  return out;
}
