/**
 * The mutation operators of scripts/mutations.mjs (what scripts/mutate.mjs measures recall with):
 * on small drivers-style functions with goto unwind ladders, each operator plants the mutants it
 * should, leaves out the sites it should (a result tested twice, a release outside the ladder,
 * a release of nothing acquired in the function), and the engine finds the bug of every mutant
 * of a clean function.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeText, ResultCache } from '../../../server/src/engine/index';
import type { FileResult, FunctionResult } from '../../../server/src/engine/types';
import { DEFAULT_CONFIG } from '../../../server/src/config';

interface Mutant {
  op: string; rule: string; function: string; line: number; expectedLine: number; expectedLines: number[];
  api: string; key: string; text: string; mutantText: string; originalText: string;
}
interface Mutations {
  OPS: string[];
  mutants(src: string, result: FileResult | undefined, opts?: { ops?: string[]; skipped?: { op: string; line: number; why: string }[] }): Mutant[];
  judge(m: Mutant, base: FunctionResult | undefined, mut: FunctionResult | undefined): { found: boolean; masked: boolean; newFindings: string[] };
  judgeFile(m: Mutant, base: FileResult, mut: FileResult): { found: boolean; masked: boolean; newFindings: string[] };
  functionAt(r: FileResult, name: string, line0: number): FunctionResult | undefined;
  mulberry32(seed: number): () => number;
  draw<T>(list: T[], n: number, rand: () => number): T[];
}

// tsc (module commonjs) turns import() into require(), which cannot load an ES module on Node 20
const importEsm = new Function('p', 'return import(p)') as (p: string) => Promise<unknown>;
const MUTATIONS = path.resolve(__dirname, '../../../../scripts/mutations.mjs');
let loaded: Promise<Mutations> | undefined;
const load = () => (loaded ??= importEsm(MUTATIONS) as Promise<Mutations>);

const analyze = (text: string, cache?: ResultCache) => analyzeText(text, 'mut.c', { config: DEFAULT_CONFIG, cache });
/** 1-based line of the first line of `text` that contains `s`. */
const lineOf = (text: string, s: string) => {
  const i = text.split('\n').findIndex((l) => l.includes(s));
  assert.ok(i >= 0, s);
  return i + 1;
};
const brief = (ms: Mutant[]) => ms.map((m) => `${m.op} ${m.line} -> ${m.expectedLine}`);

/** Clean: every acquisition tested, every failure unwound, the success path hands everything off. */
const CLEAN = `struct foo_priv { void *buf; dma_addr_t cpu_dma; dma_addr_t addr; };

int foo_check(struct device *dev);

static int foo_probe(struct device *dev, struct foo_priv *priv, void *data, size_t len)
{
	dma_addr_t cpu_dma, addr;
	void *buf;
	int ret;

	buf = dma_alloc_coherent(dev, 4096, &cpu_dma, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	addr = dma_map_single(dev, data, len, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, addr)) {
		ret = -ENOMEM;
		goto err_free;
	}

	ret = foo_check(dev);
	if (ret)
		goto err_unmap;

	priv->buf = buf;
	priv->cpu_dma = cpu_dma;
	priv->addr = addr;
	return 0;

err_unmap:
	dma_unmap_single(dev, addr, len, DMA_TO_DEVICE);
err_free:
	dma_free_coherent(dev, 4096, buf, cpu_dma);
	return ret;
}

static int bar_map(struct iommu_domain *domain, unsigned long iova, phys_addr_t pa, size_t size)
{
	int ret;

	ret = iommu_map(domain, iova, pa, size, IOMMU_READ | IOMMU_WRITE, GFP_KERNEL);
	if (ret)
		return ret;
	ret = foo_check(NULL);
	if (ret)
		goto err_unmap;
	return 0;
err_unmap:
	iommu_unmap(domain, iova, size);
	return ret;
}
`;

test('each operator plants its mutants on every site of a clean goto ladder, with the expected lines', async () => {
  const { mutants } = await load();
  const ms = mutants(CLEAN, analyze(CLEAN));
  const L = (s: string) => lineOf(CLEAN, s);
  const alloc = L('dma_alloc_coherent('), map = L('dma_map_single('), unmap = L('dma_unmap_single('), free = L('dma_free_coherent(');
  const imap = L('iommu_map('), iunmap = L('iommu_unmap(');
  assert.deepEqual(brief(ms).sort(), [
    `drop-check ${L('if (!buf)')} -> ${alloc}`,
    `drop-check ${L('if (dma_mapping_error')} -> ${map}`,
    `drop-release ${unmap} -> ${map}`,
    `change-size ${unmap} -> ${unmap}`,
    `swap-direction ${unmap} -> ${unmap}`,
    `sync-after-unmap ${unmap} -> ${unmap}`,
    `drop-release ${free} -> ${alloc}`,
    `change-size ${free} -> ${free}`,
    `drop-check ${imap + 1} -> ${imap}`,
    `drop-release ${iunmap} -> ${imap}`,
    `change-size ${iunmap} -> ${iunmap}`,
  ].sort());
  const text = (op: string, line: number) => ms.find((m) => m.op === op && m.line === line)!.mutantText.trim();
  assert.equal(text('drop-check', L('if (!buf)')), 'if (0)');
  assert.equal(text('drop-check', L('if (dma_mapping_error')), 'if (0) {');
  assert.equal(text('drop-check', imap + 1), 'if (0)');
  assert.equal(text('drop-release', unmap), ';');
  assert.equal(text('change-size', unmap), 'dma_unmap_single(dev, addr, (len) * 2, DMA_TO_DEVICE);');
  assert.equal(text('change-size', free), 'dma_free_coherent(dev, (4096) * 2, buf, cpu_dma);');
  assert.equal(text('swap-direction', unmap), 'dma_unmap_single(dev, addr, len, DMA_FROM_DEVICE);');
  assert.equal(text('sync-after-unmap', unmap), 'dma_unmap_single(dev, addr, len, DMA_TO_DEVICE); dma_sync_single_for_cpu(dev, addr, len, DMA_TO_DEVICE);');
  for (const m of ms) {
    // one function changed, the file keeps its lines
    assert.equal(m.text.split('\n').length, CLEAN.split('\n').length, m.key);
    assert.notEqual(m.text, CLEAN);
  }
  // only the operators asked for
  assert.deepEqual([...new Set(mutants(CLEAN, analyze(CLEAN), { ops: ['change-size'] }).map((m) => m.op))], ['change-size']);
  // the release operators need the unmutated analysis
  assert.deepEqual([...new Set(mutants(CLEAN, undefined).map((m) => m.op))], ['drop-check']);
});

test('the engine finds the planted bug in every mutant of the clean function', async () => {
  const { mutants, judge, functionAt } = await load();
  const cache = new ResultCache();
  const base = analyze(CLEAN, cache);
  assert.deepEqual(base.functions.flatMap((f) => f.findings).filter((f) => f.rule !== 'budget').map((f) => f.rule), [], 'clean to begin with');
  const ms = mutants(CLEAN, base);
  assert.equal(ms.length, 11);
  for (const m of ms) {
    const mut = analyze(m.text, cache);
    const j = judge(m, functionAt(base, m.function, m.line - 1), functionAt(mut, m.function, m.line - 1));
    assert.ok(j.found, `${m.op} at line ${m.line} (${m.mutantText.trim()}): expected ${m.rule} at line ${m.expectedLine}, got ${j.newFindings.join(', ') || 'nothing new'}`);
    assert.equal(j.masked, false);
  }
});

test('drop-check: the forms of a failure test, and results tested twice left out', async () => {
  const { mutants } = await load();
  const src = `static int rx_fill(struct device *dev, struct rx *rx, struct scatterlist *sgl, int nents)
{
	void *p, *q;
	dma_addr_t h, g;
	int count, ret;

	p = dma_alloc_coherent(dev, rx->len, &h, GFP_KERNEL);
	if (unlikely(!p) || rx->len == 0)
		return -ENOMEM;
	rx->ring = dma_pool_alloc(rx->pool, GFP_KERNEL, &rx->ring_dma);
	if (rx->ring == NULL)
		goto err_free;
	q = dma_alloc_coherent(dev, 64, &g, GFP_KERNEL);
	if (!q)
		goto err_pool;
	if (q == NULL)
		goto err_pool;
	rx->dma = dma_map_single(dev, rx->data, rx->len, DMA_FROM_DEVICE);
	if (rx->len > 4096 || unlikely(dma_mapping_error(dev, rx->dma)))
		goto err_q;
	count = dma_map_sg(dev, sgl, nents, DMA_TO_DEVICE);
	if (count <= 0 || count > 16)
		goto err_unmap;
	ret = iommu_map(rx->domain, rx->iova, h, 4096, IOMMU_READ, GFP_KERNEL);
	pr_debug("mapped\\n");
	if (ret)
		goto err_sg;
	ret = iommu_attach_device(rx->domain, dev);
	if (ret < 0)
		goto err_unmap_iommu;
	rx->p = p;
	rx->q = q;
	return 0;

err_unmap_iommu:
	iommu_unmap(rx->domain, rx->iova, 4096);
err_sg:
	dma_unmap_sg(dev, sgl, nents, DMA_TO_DEVICE);
err_unmap:
	dma_unmap_single(dev, rx->dma, rx->len, DMA_FROM_DEVICE);
err_q:
	dma_free_coherent(dev, 64, q, g);
err_pool:
	dma_pool_free(rx->pool, rx->ring, rx->ring_dma);
err_free:
	dma_free_coherent(dev, rx->len, p, h);
	return -ENOMEM;
}
`;
  const skipped: { op: string; line: number; why: string }[] = [];
  const ms = mutants(src, undefined, { ops: ['drop-check'], skipped });
  const L = (s: string) => lineOf(src, s);
  const got = ms.map((m) => `${m.line}: ${m.mutantText.trim()} -> ${m.expectedLine}`);
  assert.deepEqual(got, [
    `${L('unlikely(!p)')}: if (0 || rx->len == 0) -> ${L('p = dma_alloc_coherent')}`,
    `${L('rx->ring == NULL')}: if (0) -> ${L('dma_pool_alloc(')}`,
    `${L('dma_mapping_error(')}: if (rx->len > 4096 || 0) -> ${L('dma_map_single(')}`,
    `${L('count <= 0')}: if (0 || count > 16) -> ${L('dma_map_sg(')}`,
    `${L('if (ret < 0)')}: if (0) -> ${L('iommu_attach_device(')}`,
  ]);
  // q is tested twice: dropping one test leaves the other (an equivalent mutant)
  assert.ok(skipped.some((s) => s.line === L('q = dma_alloc_coherent') && /tested by 2 conditions/.test(s.why)), JSON.stringify(skipped));
  // `if (ret)` does not follow `ret = iommu_map(...)` at once
  assert.ok(skipped.some((s) => s.line === L('iommu_map(')), JSON.stringify(skipped));
});

test('drop-release, change-size, swap-direction: only releases of what the function acquired; drop-release only in the ladder', async () => {
  const { mutants } = await load();
  const src = `static void tx_free(struct device *dev, struct tx *tx)
{
	dma_unmap_single(dev, tx->dma, tx->len, DMA_TO_DEVICE);
	dma_free_coherent(dev, 4096, tx->buf, tx->buf_dma);
}

static int tx_once(struct device *dev, void *data, size_t len, enum dma_data_direction dir)
{
	dma_addr_t a, b;
	unsigned long page;
	int ret;

	page = __get_free_pages(GFP_KERNEL, 2);
	if (!page)
		return -ENOMEM;
	a = dma_map_single(dev, data, len, DMA_TO_DEVICE);
	if (dma_mapping_error(dev, a)) {
		ret = -ENOMEM;
		goto err_pages;
	}
	b = dma_map_single(dev, data, len, dir);
	if (dma_mapping_error(dev, b)) {
		ret = -ENOMEM;
		goto err_unmap_a;
	}
	ret = tx_kick(dev, a, b, page);
	dma_unmap_single(dev, b, len, DMA_BIDIRECTIONAL);
	dma_unmap_single(dev, a, len, DMA_TO_DEVICE);
	free_pages(page, 2);
	return ret;

err_unmap_a:
	dma_unmap_single(dev, a, len, DMA_TO_DEVICE);
err_pages:
	free_pages(page, 2);
	return ret;
}
`;
  const base = analyze(src);
  const ms = mutants(src, base, { ops: ['drop-release', 'change-size', 'swap-direction'] });
  const lines = src.split('\n');
  const at = (s: string, nth = 0) => lines.map((l, i) => (l.includes(s) ? i + 1 : 0)).filter(Boolean)[nth];
  const unmapB = at('dma_unmap_single(dev, b'), unmapA = at('dma_unmap_single(dev, a'), unmapA2 = at('dma_unmap_single(dev, a', 1);
  const free1 = at('free_pages(page'), free2 = at('free_pages(page', 1);
  assert.ok(ms.every((m) => m.function === 'tx_once'), 'tx_free releases nothing it acquired');
  const got = new Set(brief(ms));
  // in the ladder: dropped; on the success path: not
  assert.ok(got.has(`drop-release ${unmapA2} -> ${at('a = dma_map_single')}`), [...got].join('; '));
  assert.ok(got.has(`drop-release ${free2} -> ${at('__get_free_pages(')}`), [...got].join('; '));
  for (const l of [unmapB, unmapA, free1]) assert.ok(!got.has(`drop-release ${l} -> ${at('a = dma_map_single')}`) && ![...got].some((g) => g.startsWith(`drop-release ${l} `)), `${l} is not under a label`);
  // sizes everywhere the function frees what it acquired; a page order grows by one
  for (const l of [unmapB, unmapA, unmapA2, free1, free2]) assert.ok(got.has(`change-size ${l} -> ${l}`), `change-size ${l}`);
  assert.equal(ms.find((m) => m.op === 'change-size' && m.line === free2)!.mutantText.trim(), 'free_pages(page, (2) + 1);');
  // directions: not where the mapping's direction is a variable
  const swaps = ms.filter((m) => m.op === 'swap-direction').map((m) => m.line).sort((x, y) => x - y);
  assert.deepEqual(swaps, [unmapA, unmapA2]);
});

test('grow-sync: a sync of the whole mapping, on every path after the map; not a part, not the other branch', async () => {
  const { mutants, judge, functionAt } = await load();
  const src = `struct rx { struct device *dev; void *buf; dma_addr_t dma; };

static int rx_poll(struct rx *r, size_t len, size_t got)
{
	dma_addr_t dma;

	dma = dma_map_single(r->dev, r->buf, len, DMA_FROM_DEVICE);
	if (dma_mapping_error(r->dev, dma))
		return -ENOMEM;
	dma_sync_single_for_cpu(r->dev, dma, len, DMA_FROM_DEVICE);
	dma_sync_single_for_cpu(r->dev, dma, got, DMA_FROM_DEVICE);
	dma_unmap_single(r->dev, dma, len, DMA_FROM_DEVICE);
	return 0;
}

static int rx_reuse(struct rx *r, size_t len)
{
	dma_addr_t dma = r->dma;

	if (!dma) {
		dma = dma_map_single(r->dev, r->buf, len, DMA_FROM_DEVICE);
		if (dma_mapping_error(r->dev, dma))
			return -ENOMEM;
		r->dma = dma;
	} else {
		dma_sync_single_for_device(r->dev, dma, len, DMA_FROM_DEVICE);
	}
	return 0;
}
`;
  const skipped: { op: string; line: number; why: string }[] = [];
  const base = analyze(src);
  const ms = mutants(src, base, { ops: ['grow-sync'], skipped });
  const whole = lineOf(src, '\tdma_sync_single_for_cpu(r->dev, dma, len');
  assert.deepEqual(brief(ms), [`grow-sync ${whole} -> ${whole}`]);
  assert.equal(ms[0].mutantText.trim(), 'dma_sync_single_for_cpu(r->dev, dma, (len) * 2, DMA_FROM_DEVICE);');
  assert.deepEqual(skipped.filter((x) => x.op === 'grow-sync').map((x) => `${x.line} ${x.why}`).sort(), [
    `${lineOf(src, 'dma, got,')} syncs part of the buffer`,
    `${lineOf(src, 'dma_sync_single_for_device(')} the map does not come before it on every path`,
  ].sort());
  const mut = analyze(ms[0].text);
  const j = judge(ms[0], functionAt(base, ms[0].function, ms[0].line - 1), functionAt(mut, ms[0].function, ms[0].line - 1));
  assert.ok(j.found, `sync-out-of-range expected, got ${j.newFindings.join(', ') || 'nothing new'}`);
});

test('drop-teardown-release: a release in the remove function, found as unreleased-at-remove in the probe', async () => {
  const { mutants, judgeFile } = await load();
  const src = `struct tp { struct device *dev; void *rx; dma_addr_t rx_dma; };

static int tp_probe(struct platform_device *pdev)
{
	struct tp *tp = devm_kzalloc(&pdev->dev, sizeof(*tp), GFP_KERNEL);

	if (!tp)
		return -ENOMEM;
	tp->dev = &pdev->dev;
	tp->rx = dma_alloc_coherent(&pdev->dev, 4096, &tp->rx_dma, GFP_KERNEL);
	if (!tp->rx)
		return -ENOMEM;
	platform_set_drvdata(pdev, tp);
	return 0;
}

static void tp_remove(struct platform_device *pdev)
{
	struct tp *tp = platform_get_drvdata(pdev);

	dma_free_coherent(tp->dev, 4096, tp->rx, tp->rx_dma);
}

static struct platform_driver tp_driver = { .probe = tp_probe, .remove_new = tp_remove };
`;
  const base = analyze(src);
  const ms = mutants(src, base, { ops: ['drop-teardown-release'] });
  assert.deepEqual(brief(ms), [`drop-teardown-release ${lineOf(src, 'dma_free_coherent(')} -> ${lineOf(src, 'dma_free_coherent(')}`]);
  const j = judgeFile(ms[0], base, analyze(ms[0].text));
  assert.ok(j.found, `unreleased-at-remove expected, got ${j.newFindings.join(', ') || 'nothing new'}`);
  assert.deepEqual(j.newFindings, [`unreleased-at-remove@${lineOf(src, 'tp->rx = dma_alloc_coherent(')}`]);
});

test('the sample draw is seeded: same seed, same draw; every item when there are fewer', async () => {
  const { mulberry32, draw } = await load();
  const list = Array.from({ length: 100 }, (_, i) => i);
  const a = draw(list, 10, mulberry32(7));
  assert.deepEqual(a, draw(list, 10, mulberry32(7)));
  assert.notDeepEqual(a, draw(list, 10, mulberry32(8)));
  assert.equal(new Set(a).size, 10);
  assert.deepEqual(draw([1, 2, 3], 10, mulberry32(7)), [1, 2, 3]);
});
