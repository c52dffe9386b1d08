/**
 * The DMA/IOMMU API calls the front end looks for: a function that calls one of these "uses the
 * API" (FunctionInfo.apiCalls, FunctionResult.usesApi) and its calls are what the corpus
 * statistics count. Names as in Linux 6.12 (include/linux/dma-mapping.h, dmapool.h, iova.h,
 * iommu.h, gfp.h). The semantics of each call live in the API model, not here.
 */
export const API_NAMES: readonly string[] = [
  // DMA streaming mappings (include/linux/dma-mapping.h)
  'dma_map_single', 'dma_map_single_attrs', 'dma_map_page', 'dma_map_page_attrs',
  'dma_map_sg', 'dma_map_sg_attrs', 'dma_map_sgtable', 'dma_map_resource', 'skb_frag_dma_map',
  'dma_unmap_single', 'dma_unmap_single_attrs', 'dma_unmap_page', 'dma_unmap_page_attrs',
  'dma_unmap_sg', 'dma_unmap_sg_attrs', 'dma_unmap_sgtable', 'dma_unmap_resource',
  'dma_mapping_error',
  // Coherent and non-coherent allocations
  'dma_alloc_coherent', 'dma_alloc_attrs', 'dmam_alloc_coherent',
  'dma_free_coherent', 'dma_free_attrs', 'dma_free_noncoherent', 'dma_free_pages',
  'dma_free_noncontiguous', 'dma_free_wc',
  // DMA pools (include/linux/dmapool.h)
  'dma_pool_alloc', 'dma_pool_zalloc', 'dma_pool_free',
  // IOVA allocator (include/linux/iova.h)
  'alloc_iova', 'alloc_iova_fast', 'reserve_iova', '__free_iova', 'free_iova', 'free_iova_fast',
  // IOMMU core (include/linux/iommu.h) and dma-iommu (vendor kernels export the last two)
  'iommu_map', 'iommu_unmap', 'iommu_domain_alloc', 'iommu_paging_domain_alloc',
  'iommu_attach_device', 'iommu_detach_device', 'iommu_domain_free',
  'iommu_dma_alloc_iova', 'iommu_dma_free_iova',
  // VFIO pins (include/linux/vfio.h; type1's own in drivers/vfio/vfio_iommu_type1.c)
  'vfio_pin_pages', 'vfio_unpin_pages', 'vfio_pin_pages_remote', 'vfio_unpin_pages_remote',
  // Page allocator (include/linux/gfp.h)
  '__get_free_pages', 'free_pages', 'alloc_pages', '__free_pages',
];

/** API_NAMES as a set, for lookups. */
export const API_NAME_SET: ReadonlySet<string> = new Set(API_NAMES);

/** True when `name` is one of API_NAMES. */
export function isApiName(name: string): boolean {
  return API_NAME_SET.has(name);
}
