/**
 * use-after-release: on one path, a resource used after this function released it:
 * - a dma_sync_*() of an unmapped mapping (kernel/dma/debug.c check_sync(): "device driver tries
 *   to sync DMA memory it has not allocated");
 * - an API call given the released handle: iommu_map()/iommu_unmap()/iommu_attach_device() on a
 *   domain after iommu_domain_free(), an IOVA range after __free_iova()/free_iova_fast(), a freed
 *   coherent buffer mapped again;
 * - iova_dma_addr()/iova_pfn() of a struct iova after __free_iova() (the struct is freed memory);
 * - the bus address written for the device after the release: given to writel()/writeq()/
 *   iowrite32()..., or stored in a descriptor through cpu_to_le64()/lower_32_bits()...;
 * - a load or store through a coherent buffer's (or pool block's) CPU pointer after
 *   dma_free_coherent() (dma_pool_free()), or a memcpy()/memset() of it.
 * Reported at the use, with the release as related information. Not a second release (that is
 * double-release), nor a stale value stored without a use, a `handle = 0` clear, a `%pad` print, or
 * a use of a mapping made again into the same variable (a new resource).
 */
import { KIND_NAME } from '../model/api';
import type { Finding } from '../engine/types';
import type { SiteRef } from '../exec/state';
import { CheckContext, finding, siteRange } from './common';

export function checkUseAfterRelease(ctx: CheckContext): Finding[] {
  const out: Finding[] = [];
  const done = new Set<string>();
  ctx.exploration.paths.forEach((p, i) => {
    for (const e of p.state.events) {
      if (e.k !== 'use-after-release') continue;
      const r = p.state.resources.find((x) => x.id === e.res);
      const rel = e.detail?.released as SiteRef | undefined;
      if (!r || !rel) continue;
      // One finding per line and resource: iommu_unmap(d, iova_dma_addr(iovad, iova), ...) is one use.
      const k = `${e.site.line}:${r.site.at}`;
      if (done.has(k)) continue;
      done.add(k);
      const what = `the ${KIND_NAME[r.kind]} from ${r.api}() at line ${r.site.line + 1}`;
      const released = `${rel.api}() released it at line ${rel.line + 1}`;
      const use = e.detail?.use as string;
      let msg: string;
      switch (use) {
        case 'sync':
          msg = `${e.site.api}() syncs ${what} after ${released}: DMA-API debug: "device driver tries to sync DMA memory it has not allocated"; sync before the unmap, or not at all`;
          break;
        case 'iova':
          msg = `${e.site.api}() reads ${what} after ${released}: the struct iova is freed memory (KASAN: use-after-free; DMA-API debug does not see it); take the address before freeing it`;
          break;
        case 'register':
          msg = `${e.site.api}() gives the device the address of ${what} after ${released}: the device then accesses an unmapped IOVA (an IOMMU fault, F_TRANSLATION on arm-smmu-v3) or memory reused by someone else; DMA-API debug does not see it`;
          break;
        case 'descriptor':
          msg = `\`${e.detail?.target} = ${e.detail?.conv}(...)\` writes the address of ${what} for the device after ${released}: the device then accesses an unmapped IOVA or memory reused by someone else; DMA-API debug does not see it`;
          break;
        case 'deref':
          msg = `${e.detail?.path ?? 'this'} reads or writes ${what} through its CPU pointer after ${released}: the memory is back with the allocator (KASAN: use-after-free; DMA-API debug does not see it)`;
          break;
        default:
          msg = `${e.site.api}() is given ${what} after ${released}`
            + (r.kind === 'domain' ? ': the domain is freed memory (KASAN: use-after-free)' : r.kind.startsWith('iova') || r.kind === 'dma-iova'
              ? ': the range may already be handed to someone else' : '')
            + '; DMA-API debug does not see it';
      }
      out.push(finding('use-after-release', 'error', ctx, siteRange(e.site), msg,
        [{ range: siteRange(rel), message: `released here by ${rel.api}()` }, { range: siteRange(r.site), message: `acquired here by ${r.api}()` }], i));
    }
  });
  return out;
}
