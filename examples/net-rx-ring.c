/*
 * Example: a small Ethernet driver's ring setup, rx refill and transmit.
 * Run: npx iommu-lens check examples/
 *
 * Bugs in this file (each marked on its line with `// expect:`):
 *  1. leak               nr_alloc_rings(): the RX allocation failure returns
 *                        without freeing the TX ring.
 *  2. unmap-size-mismatch nr_refill_one(): an order-1 page is mapped whole and
 *                        unmapped as one PAGE_SIZE when the ring turns out full.
 *  3. missing-error-path nr_tx_map(): the skb mapping is written to the
 *                        descriptor without dma_mapping_error().
 * nr_alloc_rx_buffers() is correct: it hands every buffer to the ring and leaves
 * the unwind to nr_free_rings(), which owns ring entries.
 */
#define NR_RING_SIZE		256
#define NR_DESC_BYTES		16
#define NR_RING_BYTES		(NR_RING_SIZE * NR_DESC_BYTES)
#define NR_RX_PAGE_ORDER	1

struct nr_desc {
	__le64 addr;
	__le32 len;
	__le32 flags;
};

struct nr_rx_slot {
	struct page *page;
	dma_addr_t dma;
};

struct nr_priv {
	struct device *dev;
	struct net_device *ndev;
	struct nr_desc *tx_ring;
	dma_addr_t tx_ring_dma;
	struct nr_desc *rx_ring;
	dma_addr_t rx_ring_dma;
	struct nr_rx_slot rx_slot[NR_RING_SIZE];
	struct sk_buff *tx_skb[NR_RING_SIZE];
	dma_addr_t tx_dma[NR_RING_SIZE];
	unsigned int tx_head;
};

static int nr_alloc_rings(struct nr_priv *priv)
{
	struct nr_desc *tx, *rx;
	dma_addr_t tx_dma, rx_dma;
	int ret;

	tx = dma_alloc_coherent(priv->dev, NR_RING_BYTES, &tx_dma, GFP_KERNEL);	// expect: leak
	if (!tx)
		return -ENOMEM;

	rx = dma_alloc_coherent(priv->dev, NR_RING_BYTES, &rx_dma, GFP_KERNEL);
	if (!rx)
		return -ENOMEM;

	ret = nr_hw_set_rings(priv, tx_dma, rx_dma);
	if (ret)
		goto err_free_rx;

	priv->tx_ring = tx;
	priv->tx_ring_dma = tx_dma;
	priv->rx_ring = rx;
	priv->rx_ring_dma = rx_dma;
	return 0;

err_free_rx:
	dma_free_coherent(priv->dev, NR_RING_BYTES, rx, rx_dma);
	dma_free_coherent(priv->dev, NR_RING_BYTES, tx, tx_dma);
	return ret;
}

static int nr_refill_one(struct nr_priv *priv, unsigned int i)
{
	struct page *page;
	dma_addr_t dma;

	page = alloc_pages(GFP_ATOMIC, NR_RX_PAGE_ORDER);
	if (!page)
		return -ENOMEM;

	dma = dma_map_page(priv->dev, page, 0, PAGE_SIZE << NR_RX_PAGE_ORDER,
			   DMA_FROM_DEVICE);
	if (dma_mapping_error(priv->dev, dma)) {
		__free_pages(page, NR_RX_PAGE_ORDER);
		return -ENOMEM;
	}

	if (nr_rx_ring_full(priv)) {
		dma_unmap_page(priv->dev, dma, PAGE_SIZE, DMA_FROM_DEVICE);	// expect: unmap-size-mismatch
		__free_pages(page, NR_RX_PAGE_ORDER);
		return -EBUSY;
	}

	priv->rx_slot[i].page = page;
	priv->rx_slot[i].dma = dma;
	return 0;
}

static int nr_alloc_rx_buffers(struct nr_priv *priv)
{
	struct page *page;
	dma_addr_t dma;
	unsigned int i;

	for (i = 0; i < NR_RING_SIZE; i++) {
		page = alloc_pages(GFP_KERNEL, NR_RX_PAGE_ORDER);
		if (!page)
			return -ENOMEM;

		dma = dma_map_page(priv->dev, page, 0, PAGE_SIZE << NR_RX_PAGE_ORDER,
				   DMA_FROM_DEVICE);
		if (dma_mapping_error(priv->dev, dma)) {
			__free_pages(page, NR_RX_PAGE_ORDER);
			return -ENOMEM;
		}

		priv->rx_slot[i].page = page;
		priv->rx_slot[i].dma = dma;
	}
	return 0;
}

static void nr_tx_map(struct nr_priv *priv, struct sk_buff *skb)
{
	unsigned int i = priv->tx_head;
	dma_addr_t dma;

	dma = dma_map_single(priv->dev, skb->data, skb_headlen(skb), DMA_TO_DEVICE);	// expect: missing-error-path
	priv->tx_skb[i] = skb;
	priv->tx_dma[i] = dma;
	priv->tx_ring[i].addr = cpu_to_le64(dma);
	priv->tx_ring[i].len = cpu_to_le32(skb_headlen(skb));
	priv->tx_head = (i + 1) % NR_RING_SIZE;
}
