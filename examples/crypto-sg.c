/*
 * Example: a crypto engine that maps a request's scatterlists and a descriptor
 * from a dma_pool.
 * Run: npx iommu-lens check examples/
 *
 * Bugs in this file (each marked on its line with `// expect:`):
 *  1. unmap-size-mismatch ce_cipher_start(): dma_unmap_sg() gets the count
 *                        dma_map_sg() returned, not the nents it was given
 *                        (DMA-API docs; DMA-API debug: "device driver frees DMA sg
 *                        list with different entry count").
 *  2. leak               ce_cipher_start(): a descriptor from the pool is lost when
 *                        the engine is busy.
 *  3. missing-error-path ce_hash_start(): the key buffer mapping is never checked.
 * ce_hash_final() is correct.
 */
#define CE_KEY_MAX	64
#define CE_DIGEST_MAX	64

struct ce_desc {
	__le64 src;
	__le64 key;
	__le32 len;
	__le32 ctrl;
};

struct ce_dev {
	struct device *dev;
	struct dma_pool *desc_pool;
	struct ce_desc *cur;
	dma_addr_t cur_dma;
	struct scatterlist *sg;
	int nents;
	dma_addr_t key_dma;
};

static int ce_cipher_start(struct ce_dev *ce, struct scatterlist *sg, int nents)
{
	struct ce_desc *desc;
	dma_addr_t desc_dma;
	int count, ret;

	count = dma_map_sg(ce->dev, sg, nents, DMA_TO_DEVICE);
	if (!count)
		return -ENOMEM;

	desc = dma_pool_zalloc(ce->desc_pool, GFP_ATOMIC, &desc_dma);	// expect: leak
	if (!desc) {
		ret = -ENOMEM;
		goto err_unmap;
	}

	desc->src = cpu_to_le64(sg_dma_address(sg));
	desc->len = cpu_to_le32(sg_dma_len(sg));

	if (ce_engine_busy(ce)) {
		ret = -EBUSY;
		goto err_unmap;
	}

	ce->cur = desc;
	ce->cur_dma = desc_dma;
	ce->sg = sg;
	ce->nents = nents;
	ce_kick(ce, desc_dma);
	return 0;

err_unmap:
	dma_unmap_sg(ce->dev, sg, count, DMA_TO_DEVICE);	// expect: unmap-size-mismatch
	return ret;
}

static int ce_hash_start(struct ce_dev *ce, const u8 *key, unsigned int keylen)
{
	if (keylen > CE_KEY_MAX)
		return -EINVAL;

	ce->key_dma = dma_map_single(ce->dev, (void *)key, keylen, DMA_TO_DEVICE);	// expect: missing-error-path
	return ce_load_key(ce, ce->key_dma, keylen);
}

static int ce_hash_final(struct ce_dev *ce, u8 *out)
{
	dma_addr_t dma;
	int ret;

	dma = dma_map_single(ce->dev, out, CE_DIGEST_MAX, DMA_FROM_DEVICE);
	if (dma_mapping_error(ce->dev, dma))
		return -ENOMEM;

	ret = ce_read_digest(ce, dma);
	dma_unmap_single(ce->dev, dma, CE_DIGEST_MAX, DMA_FROM_DEVICE);
	return ret;
}
