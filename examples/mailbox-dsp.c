/*
 * Example: a DSP mailbox driver: a streaming command buffer, a firmware window in an unmanaged
 * IOMMU domain, and a platform driver's probe and remove.
 * Run: npx iommu-lens check examples/
 *
 * Bugs in this file (each marked on its line with `// expect:`):
 *  1. cpu-access-without-sync  mbx_send(): the reply is read out of a DMA_BIDIRECTIONAL buffer
 *                              while the device owns it (no dma_sync_single_for_cpu() first).
 *  2. stale-iotlb              mbx_fw_reload(): the old firmware page is freed between
 *                              iommu_unmap_fast() and iommu_iotlb_sync().
 *  3. unreleased-at-remove     mbx_probe(): the event log buffer is stored in the drvdata and
 *                              mbx_remove() never frees it.
 * mbx_send_synced() is the correct form of 1.
 */
#define MBX_FW_IOVA	0x20000000

struct mbx_msg { u32 cmd; u32 arg; u32 status; u32 reply; };

struct mbx {
	struct device *dev;
	void __iomem *regs;
	struct iommu_domain *domain;
	struct page *fw_page;
	struct mbx_msg *msg;
	void *evlog;
	dma_addr_t evlog_dma;
};

static u32 mbx_send(struct mbx *mbx, u32 cmd, u32 arg)
{
	struct mbx_msg *msg = mbx->msg;
	dma_addr_t dma;
	u32 reply;

	msg->cmd = cmd;
	msg->arg = arg;
	dma = dma_map_single(mbx->dev, msg, sizeof(*msg), DMA_BIDIRECTIONAL);
	if (dma_mapping_error(mbx->dev, dma))
		return 0;
	writel(lower_32_bits(dma), mbx->regs + 0x10);
	while (!(readl(mbx->regs + 0x14) & 1))
		cpu_relax();
	reply = msg->reply;	// expect: cpu-access-without-sync
	dma_unmap_single(mbx->dev, dma, sizeof(*msg), DMA_BIDIRECTIONAL);
	return reply;
}

static u32 mbx_send_synced(struct mbx *mbx, u32 cmd, u32 arg)
{
	struct mbx_msg *msg = mbx->msg;
	dma_addr_t dma;
	u32 reply;

	msg->cmd = cmd;
	msg->arg = arg;
	dma = dma_map_single(mbx->dev, msg, sizeof(*msg), DMA_BIDIRECTIONAL);
	if (dma_mapping_error(mbx->dev, dma))
		return 0;
	writel(lower_32_bits(dma), mbx->regs + 0x10);
	while (!(readl(mbx->regs + 0x14) & 1))
		cpu_relax();
	dma_sync_single_for_cpu(mbx->dev, dma, sizeof(*msg), DMA_BIDIRECTIONAL);
	reply = msg->reply;
	dma_unmap_single(mbx->dev, dma, sizeof(*msg), DMA_BIDIRECTIONAL);
	return reply;
}

static int mbx_fw_reload(struct mbx *mbx)
{
	struct iommu_iotlb_gather gather;
	struct page *old, *page;
	int ret;

	page = alloc_pages(GFP_KERNEL, 0);
	if (!page)
		return -ENOMEM;
	old = alloc_pages(GFP_KERNEL, 0);
	if (!old) {
		__free_pages(page, 0);
		return -ENOMEM;
	}
	ret = iommu_map(mbx->domain, MBX_FW_IOVA, page_to_phys(old), PAGE_SIZE, IOMMU_READ, GFP_KERNEL);
	if (ret)
		goto err_free;
	mbx_boot(mbx);
	/* Swap the firmware page: take the old one out, put the new one in. */
	iommu_iotlb_gather_init(&gather);
	iommu_unmap_fast(mbx->domain, MBX_FW_IOVA, PAGE_SIZE, &gather);
	__free_pages(old, 0);	// expect: stale-iotlb
	iommu_iotlb_sync(mbx->domain, &gather);
	ret = iommu_map(mbx->domain, MBX_FW_IOVA, page_to_phys(page), PAGE_SIZE, IOMMU_READ, GFP_KERNEL);
	if (ret) {
		__free_pages(page, 0);
		return ret;
	}
	mbx->fw_page = page;
	return 0;
err_free:
	__free_pages(old, 0);
	__free_pages(page, 0);
	return ret;
}

static int mbx_probe(struct platform_device *pdev)
{
	struct mbx *mbx = devm_kzalloc(&pdev->dev, sizeof(*mbx), GFP_KERNEL);

	if (!mbx)
		return -ENOMEM;
	mbx->dev = &pdev->dev;
	mbx->regs = devm_platform_ioremap_resource(pdev, 0);
	if (IS_ERR(mbx->regs))
		return PTR_ERR(mbx->regs);
	mbx->msg = devm_kzalloc(&pdev->dev, sizeof(*mbx->msg), GFP_KERNEL);
	if (!mbx->msg)
		return -ENOMEM;
	mbx->evlog = dma_alloc_coherent(&pdev->dev, SZ_64K, &mbx->evlog_dma, GFP_KERNEL);	// expect: unreleased-at-remove
	if (!mbx->evlog)
		return -ENOMEM;
	writel(lower_32_bits(mbx->evlog_dma), mbx->regs + 0x20);
	platform_set_drvdata(pdev, mbx);
	return 0;
}

static void mbx_remove(struct platform_device *pdev)
{
	struct mbx *mbx = platform_get_drvdata(pdev);

	writel(0, mbx->regs + 0x20);
}

static struct platform_driver mbx_driver = {
	.probe = mbx_probe,
	.remove_new = mbx_remove,
};
