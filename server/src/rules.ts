/**
 * The rule ids and their one-line descriptions (shared/DESIGN.md §2), for SARIF's
 * tool.driver.rules, the docs links of diagnostics, and settings. docs/rules.md has a
 * section per rule, anchored by its id.
 */
import type { RuleId, Severity } from './engine/types';

export interface RuleInfo { id: RuleId; short: string; severity: Severity }

export const RULES: RuleInfo[] = [
  { id: 'leak', severity: 'warning', short: 'A resource acquired in the function (IOVA range, DMA mapping, coherent buffer, pool block, pages, IOMMU mapping, domain, attachment) is neither released nor handed off on some path that leaves the function.' },
  { id: 'unmap-size-mismatch', severity: 'error', short: 'A release names a size, sg count, page order or DMA handle different from what was acquired.' },
  { id: 'unreserved-iova', severity: 'error', short: 'An IOVA is mapped that no allocator or reservation handed out: a fixed address in a DMA-API-managed domain, or a range overlapping a reserved region such as the MSI window.' },
  { id: 'missing-error-path', severity: 'warning', short: 'A fallible call whose failure no path handles: dma_mapping_error() never called, a NULL result used unchecked, iommu_map()\'s return ignored, an ERR_PTR result not tested with IS_ERR().' },
  { id: 'double-release', severity: 'error', short: 'A resource is released twice on one path.' },
  { id: 'wrong-release-function', severity: 'error', short: 'A resource is released by the release function of another family (a coherent buffer given to dma_unmap_single(), an alloc_iova_fast() range to __free_iova()).' },
  { id: 'direction-mismatch', severity: 'error', short: 'dma_unmap_*() or dma_sync_*() is given a DMA direction provably different from the one the mapping was made with (DMA_BIDIRECTIONAL mappings may be synced either way).' },
  { id: 'sync-out-of-range', severity: 'error', short: 'dma_sync_single*_for_*() of an offset + size provably past the mapped size, or dma_sync_sg_for_*() with an entry count other than the nents given to dma_map_sg().' },
  { id: 'use-after-release', severity: 'error', short: 'A resource used after its release on the same path: a dma_sync_*() after the unmap, the bus address written to a register or descriptor, iova_dma_addr() of a freed struct iova, iommu_map() on a freed domain, a freed coherent buffer dereferenced.' },
  { id: 'unreleased-at-remove', severity: 'warning', short: 'A resource a probe or open function stores in the driver\'s object (drvdata, netdev_priv) that no teardown of the file (remove, ndo_stop, release and the functions they reach) releases: DMA-API debug reports "device driver has pending DMA allocations while released from device" at unbind.' },
  { id: 'unaligned-map', severity: 'error', short: 'iommu_map() with an IOVA, physical address or size not aligned to the domain\'s smallest page size: it fails with -EINVAL.' },
  { id: 'map-overlap', severity: 'error', short: 'iommu_map() over an IOVA already mapped in the domain on this path: it fails with -EEXIST.' },
  { id: 'dma-on-stack', severity: 'error', short: 'A streaming mapping (dma_map_single/page, or dma_map_sg of a list sg_init_one() pointed there) of memory DMA must never touch: a stack buffer (a local array, the address of a local), a string literal or const array (rodata), a function (kernel text), or a vmalloc() buffer.' },
  { id: 'no-dma-cookie', severity: 'error', short: 'An iommu_dma_* call for a device whose domain has no DMA cookie (an IOMMU_DOMAIN_UNMANAGED domain the driver attached in its place, an identity domain, no IOMMU): dma-iommu dereferences a NULL cookie.' },
  { id: 'stale-iotlb', severity: 'error', short: 'iommu_map() over an IOVA range iommu_unmap_fast() unmapped on the same path, or the pages it mapped freed, with no iommu_iotlb_sync() (or iommu_flush_iotlb_all()) since: the IOTLB may still translate it to the old pages.' },
  { id: 'small-coherent-alloc', severity: 'information', short: 'A hint: dma_alloc_coherent() of a constant size well below a page, made in a loop or per request/object; each coherent allocation takes at least a page, and dma_pool is meant for sub-page buffers.' },
  { id: 'cpu-access-without-sync', severity: 'warning', short: 'The CPU reads or writes a streaming DMA buffer while the device owns it: after dma_map_single() (or a dma_sync_*_for_device()) and before dma_sync_*_for_cpu() or the unmap. DMA-API debug does not see CPU accesses.' },
  { id: 'budget', severity: 'information', short: 'The analysis of a function stopped at a budget (paths, time); findings for it may be incomplete.' },
  { id: 'config', severity: 'warning', short: 'A setting in .iommu-lens.json or the editor settings is invalid; its default is used.' },
];

/** Where a rule is documented, relative to the package root. */
export function ruleDocPath(id: string): string {
  return `docs/rules.md#${id}`;
}
