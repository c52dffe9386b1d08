// SYNTAX TEST "source.c" "IOMMU/DMA API calls are marked by the injection grammar"

static int rx_fill(struct device *dev, struct rx_ring *ring, void *buf, size_t len)
{
    dma_addr_t handle = dma_map_single(dev, buf, len, DMA_FROM_DEVICE);
//                      ^^^^^^^^^^^^^^ support.function.iommu-lens.acquire.c
//                                                    ^^^^^^^^^^^^^^^ support.constant.iommu-lens.c
    if (dma_mapping_error(dev, handle))
//      ^^^^^^^^^^^^^^^^^ support.function.iommu-lens.check.c
        return -ENOMEM;
    dma_sync_single_for_device(dev, handle, len, DMA_FROM_DEVICE);
//  ^^^^^^^^^^^^^^^^^^^^^^^^^^ support.function.iommu-lens.sync.c
    iova = alloc_iova(&mmu->iovad, n, limit, true);
//         ^^^^^^^^^^ support.function.iommu-lens.acquire.c
    ret = iommu_map(domain, iova_dma_addr(&mmu->iovad, iova), pa, len, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
//        ^^^^^^^^^ support.function.iommu-lens.acquire.c
//                                                                     ^^^^^^^^^^ support.constant.iommu-lens.c
//                                                                                  ^^^^^^^^^^^ support.constant.iommu-lens.c
    buf = dma_alloc_coherent(dev, SZ_4K, &handle, GFP_KERNEL);
//        ^^^^^^^^^^^^^^^^^^ support.function.iommu-lens.acquire.c
    if (IS_ERR(domain))
//      ^^^^^^ support.function.iommu-lens.check.c
    if (handle == DMA_MAPPING_ERROR)
//                ^^^^^^^^^^^^^^^^^ support.constant.iommu-lens.c
    iommu_unmap(domain, addr, len);
//  ^^^^^^^^^^^ support.function.iommu-lens.release.c
    __free_iova(&mmu->iovad, iova);
//  ^^^^^^^^^^^ support.function.iommu-lens.release.c
    free_iova_fast(&mmu->iovad, pfn, n);
//  ^^^^^^^^^^^^^^ support.function.iommu-lens.release.c
    dma_free_coherent(dev, SZ_4K, buf, handle);
//  ^^^^^^^^^^^^^^^^^ support.function.iommu-lens.release.c
    dma_unmap_single(dev, handle, len, DMA_FROM_DEVICE);
//  ^^^^^^^^^^^^^^^^ support.function.iommu-lens.release.c
    /* dma_map_single(dev, buf, len, dir) in a comment is not a call */
//     ^^^^^^^^^^^^^^ - support.function.iommu-lens.acquire.c
    pr_info("dma_unmap_single(%p)\n", buf);
//           ^^^^^^^^^^^^^^^^ - support.function.iommu-lens.release.c
    int dma_map_single_count = 0;
//      ^^^^^^^^^^^^^^^^^^^^ - support.function.iommu-lens.acquire.c
    my_dma_map_single(dev, buf);
//  ^^^^^^^^^^^^^^^^^ - support.function.iommu-lens.acquire.c
    return 0;
}
