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
