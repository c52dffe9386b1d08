/**
 * Quick fixes: applying a finding's fix to the text makes that finding go away and adds no new one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { analyzeText } from '../../../server/src/engine/index';
import { DEFAULT_CONFIG } from '../../../server/src/config';
import type { TextEdit } from '../../../server/src/engine/types';

function apply(text: string, edits: TextEdit[]): string {
  const lines = text.split('\n');
  const offset = (l: number, c: number) => lines.slice(0, l).reduce((n, s) => n + s.length + 1, 0) + c;
  const sorted = [...edits].sort((a, b) => offset(b.range.start.line, b.range.start.character) - offset(a.range.start.line, a.range.start.character));
  let out = text;
  for (const e of sorted) {
    out = out.slice(0, offset(e.range.start.line, e.range.start.character)) + e.newText + out.slice(offset(e.range.end.line, e.range.end.character));
  }
  return out;
}

function findings(text: string) {
  return analyzeText(text, 'fix.c', { config: DEFAULT_CONFIG }).functions.flatMap((f) => f.findings).filter((f) => f.rule !== 'budget');
}

test('the dma_mapping_error quick fix adds the check and the finding goes away', () => {
  const text = `static int tx_map(struct tx *t, void *buf, size_t len)
{
	t->dma = dma_map_single(t->dev, buf, len, DMA_TO_DEVICE);
	t->len = len;
	return 0;
}
`;
  const before = findings(text);
  const f = before.find((x) => x.rule === 'missing-error-path');
  assert.ok(f?.fix, 'a fix is offered');
  const fixed = apply(text, f.fix.edits);
  assert.match(fixed, /if \(dma_mapping_error\(t->dev, t->dma\)\)\n\t\treturn -ENOMEM;/);
  assert.deepEqual(findings(fixed).map((x) => x.rule), []);
});

test('the leak quick fix releases the resource under a new unwind label', () => {
  const text = `static int ring_init(struct ring *r)
{
	dma_addr_t dma;
	int ret;

	r->desc = dma_alloc_coherent(r->dev, RING_BYTES, &r->desc_dma, GFP_KERNEL);
	if (!r->desc)
		return -ENOMEM;

	dma = dma_map_single(r->dev, r->buf, BUF_BYTES, DMA_FROM_DEVICE);
	if (dma_mapping_error(r->dev, dma)) {
		ret = -ENOMEM;
		goto err_free_desc;
	}

	r->iova = alloc_iova(&r->iovad, 16, r->limit, true);
	if (!r->iova) {
		ret = -ENOSPC;
		goto err_free_desc;
	}
	r->buf_dma = dma;
	return 0;

err_free_desc:
	dma_free_coherent(r->dev, RING_BYTES, r->desc, r->desc_dma);
	return ret;
}
`;
  const before = findings(text);
  const leak = before.find((x) => x.rule === 'leak');
  assert.ok(leak, 'the mapping leaks when alloc_iova() fails');
  assert.match(leak.message, /DMA mapping from dma_map_single\(\) at line 10 is not unmapped when alloc_iova\(\) fails at line 16/);
  assert.ok(leak.fix, 'a fix is offered');
  const fixed = apply(text, leak.fix.edits);
  assert.match(fixed, /goto err_release_dma;[^]*err_release_dma:\n\tdma_unmap_single\(r->dev, dma, BUF_BYTES, DMA_FROM_DEVICE\);\nerr_free_desc:/);
  assert.deepEqual(findings(fixed).map((x) => `${x.rule}:${x.range.start.line + 1}`), []);
});

/** Applies the first fix of `rule`, checks the edit, and that the fixed text has no finding of that rule. */
function fixOnce(text: string, rule: string, expect: RegExp): string {
  const f = findings(text).find((x) => x.rule === rule);
  assert.ok(f, `${rule} is reported`);
  assert.ok(f.fix, `a fix is offered for ${rule}`);
  const fixed = apply(text, f.fix.edits);
  assert.match(fixed, expect);
  assert.deepEqual(findings(fixed).filter((x) => x.rule === rule).map((x) => `${x.rule}:${x.range.start.line + 1}`), []);
  return fixed;
}

test('the direction-mismatch quick fix gives the unmap the mapped direction', () => {
  const text = `static int rx_one(struct rx *r, void *buf, size_t len)
{
	dma_addr_t dma = dma_map_single(r->dev, buf, len, DMA_FROM_DEVICE);

	if (dma_mapping_error(r->dev, dma))
		return -ENOMEM;
	wait_rx(r, dma);
	dma_unmap_single(r->dev, dma, len, DMA_TO_DEVICE);
	return 0;
}
`;
  fixOnce(text, 'direction-mismatch', /dma_unmap_single\(r->dev, dma, len, DMA_FROM_DEVICE\);/);
});

test('the stale-iotlb quick fix syncs the gather right after iommu_unmap_fast()', () => {
  const text = `static int fw_swap(struct iommu_domain *domain, phys_addr_t new_phys)
{
	struct iommu_iotlb_gather gather;

	iommu_iotlb_gather_init(&gather);
	if (iommu_unmap_fast(domain, 0x10000000, 0x4000, &gather) != 0x4000)
		return -EINVAL;
	return iommu_map(domain, 0x10000000, new_phys, 0x4000, IOMMU_READ, GFP_KERNEL);
}
`;
  fixOnce(text, 'stale-iotlb', /if \(iommu_unmap_fast\(domain, 0x10000000, 0x4000, &gather\) != 0x4000\)\n\t\treturn -EINVAL;\n\tiommu_iotlb_sync\(domain, &gather\);\n/);
});

test('the cpu-access-without-sync quick fix syncs for the CPU before a read, for the device after a write', () => {
  const read = `static int mbox_query(struct mbox *mb, u32 cmd)
{
	dma_addr_t dma;
	int status;

	dma = dma_map_single(mb->dev, mb->resp, mb->len, DMA_FROM_DEVICE);
	if (dma_mapping_error(mb->dev, dma))
		return -ENOMEM;
	writel(lower_32_bits(dma), mb->regs + 0x20);
	writel(cmd, mb->regs + 0x24);
	status = mb->resp[0];
	dma_unmap_single(mb->dev, dma, mb->len, DMA_FROM_DEVICE);
	return status;
}
`;
  fixOnce(read, 'cpu-access-without-sync', /\tdma_sync_single_for_cpu\(mb->dev, dma, mb->len, DMA_FROM_DEVICE\);\n\tstatus = mb->resp\[0\];/);
  const write = `static int send_login(struct vnic *v, struct login *buf, size_t len)
{
	dma_addr_t dma;

	dma = dma_map_single(v->dev, buf, len, DMA_TO_DEVICE);
	if (dma_mapping_error(v->dev, dma))
		return -ENOMEM;
	buf->version = 1;
	writel(lower_32_bits(dma), v->regs);
	dma_unmap_single(v->dev, dma, len, DMA_TO_DEVICE);
	return 0;
}
`;
  fixOnce(write, 'cpu-access-without-sync', /\tbuf->version = 1;\n\tdma_sync_single_for_device\(v->dev, dma, len, DMA_TO_DEVICE\);\n\twritel/);
});

test('the unreleased-at-remove quick fix makes a probe allocation devres-managed, and only where nothing frees it', () => {
  const text = `struct foo { struct device *dev; void *ring; dma_addr_t ring_dma; };

static int foo_probe(struct platform_device *pdev)
{
	struct foo *foo = devm_kzalloc(&pdev->dev, sizeof(*foo), GFP_KERNEL);

	if (!foo)
		return -ENOMEM;
	foo->dev = &pdev->dev;
	foo->ring = dma_alloc_coherent(&pdev->dev, 4096, &foo->ring_dma, GFP_KERNEL);
	if (!foo->ring)
		return -ENOMEM;
	platform_set_drvdata(pdev, foo);
	return 0;
}

static void foo_remove(struct platform_device *pdev)
{
	struct foo *foo = platform_get_drvdata(pdev);

	foo_hw_stop(foo);
}

static struct platform_driver foo_driver = {
	.probe = foo_probe,
	.remove = foo_remove,
};
`;
  fixOnce(text, 'unreleased-at-remove', /foo->ring = dmam_alloc_coherent\(&pdev->dev, 4096, &foo->ring_dma, GFP_KERNEL\);/);
  // A dma_free_coherent() of the field elsewhere (an error path of another function): no devres fix.
  const freed = text.replace('\tfoo_hw_stop(foo);\n', '\tfoo_hw_stop(foo);\n}\n\nstatic void foo_reset(struct foo *foo)\n{\n\tdma_free_coherent(foo->dev, 4096, foo->ring, foo->ring_dma);\n');
  const f = findings(freed).find((x) => x.rule === 'unreleased-at-remove');
  assert.ok(f, 'still reported: foo_reset() is no teardown');
  assert.equal(f.fix, undefined, 'no devres fix when the file frees the buffer itself');
});
