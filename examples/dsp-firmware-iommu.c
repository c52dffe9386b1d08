/*
 * Example: a DSP remote processor that maps its firmware and a shared ring at
 * fixed device addresses.
 * Run: npx iommu-lens check examples/
 *
 * Bugs in this file (each marked on its line with `// expect:`):
 *  1. unreserved-iova    dsp_map_fw_default(): a fixed IOVA mapped into the device's
 *                        default domain, which the DMA API's IOVA allocator owns.
 *  2. unreserved-iova    dsp_map_ring(): the shared ring is placed at 0x8000000, the
 *                        software MSI window arm-smmu-v3 reserves.
 *  3. leak               dsp_map_ring(): when the start fails, the ring's IOMMU
 *                        mapping is left in place (same line as 2).
 *  4. unmap-size-mismatch dsp_selftest(): 64K mapped, 4K unmapped.
 * dsp_iommu_init() is the correct version: a domain of its own, attached, the
 * firmware above the MSI window, a full unwind ladder.
 */
#define DSP_FW_IOVA	0x10000000
#define DSP_FW_SIZE	SZ_4M
#define DSP_RING_IOVA	0x08000000
#define DSP_TEST_IOVA	0x20000000

struct dsp {
	struct device *dev;
	struct iommu_domain *domain;
	phys_addr_t fw_phys;
	phys_addr_t ring_phys;
	bool test_ok;
};

static int dsp_map_fw_default(struct dsp *dsp)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dsp->dev);
	int ret;

	if (!domain)
		return -ENODEV;

	ret = iommu_map(domain, DSP_FW_IOVA, dsp->fw_phys, DSP_FW_SIZE,	// expect: unreserved-iova
			IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
	if (ret)
		return ret;

	dsp->domain = domain;
	return 0;
}

static int dsp_iommu_init(struct dsp *dsp)
{
	struct iommu_domain *domain;
	int ret;

	domain = iommu_paging_domain_alloc(dsp->dev);
	if (IS_ERR(domain))
		return PTR_ERR(domain);

	ret = iommu_attach_device(domain, dsp->dev);
	if (ret)
		goto err_free;

	ret = iommu_map(domain, DSP_FW_IOVA, dsp->fw_phys, DSP_FW_SIZE,
			IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
	if (ret)
		goto err_detach;

	dsp->domain = domain;
	return 0;

err_detach:
	iommu_detach_device(domain, dsp->dev);
err_free:
	iommu_domain_free(domain);
	return ret;
}

static int dsp_map_ring(struct dsp *dsp)
{
	int ret;

	ret = iommu_map(dsp->domain, DSP_RING_IOVA, dsp->ring_phys, SZ_64K,	// expect: unreserved-iova, leak
			IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
	if (ret)
		return ret;

	ret = dsp_start(dsp, DSP_RING_IOVA);
	if (ret)
		return ret;

	return 0;
}

static int dsp_selftest(struct dsp *dsp, phys_addr_t scratch)
{
	int ret;

	ret = iommu_map(dsp->domain, DSP_TEST_IOVA, scratch, SZ_64K, IOMMU_READ,
			GFP_KERNEL);
	if (ret)
		return ret;

	dsp->test_ok = iommu_iova_to_phys(dsp->domain, DSP_TEST_IOVA) == scratch;

	iommu_unmap(dsp->domain, DSP_TEST_IOVA, SZ_4K);	// expect: unmap-size-mismatch
	return 0;
}
