/**
 * unreleased-at-remove is a file-level rule: a probe's findings depend on the remove function's
 * text. The teardown closure's digest is part of the probe's cache key, so an edit in remove()
 * alone re-checks probe (engine/index.ts analyze(), engine/driver-structure.ts).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeText, ResultCache } from '../../../server/src/engine/index';
import { DEFAULT_CONFIG } from '../../../server/src/config';
import { DriverStructure } from '../../../server/src/engine/driver-structure';

const ROOT = path.resolve(__dirname, '../../../..');
const FIXTURE = path.join(ROOT, 'test/server/fixtures/unreleased-at-remove/platform.c');

const found = (text: string, cache?: ResultCache) => analyzeText(text, 'drv.c', { config: DEFAULT_CONFIG, cache })
  .functions.flatMap((f) => f.findings).filter((f) => f.rule === 'unreleased-at-remove')
  .map((f) => `${f.function}:${f.range.start.line + 1}`);

test('an edit in remove() alone re-checks probe: the finding it fixes goes away with the same cache', () => {
  const text = fs.readFileSync(FIXTURE, 'utf8');
  const cache = new ResultCache();
  assert.deepEqual(found(text, cache), ['foo_probe:32', 'foo_probe:40']);
  // The kinds remove() releases stay the same (coherent): only the teardown's digest tells probe.
  const fixed = text.replace('\tfoo_free_rx(priv);\n}\n\nstatic struct platform_driver',
    '\tdma_free_coherent(&pdev->dev, 4096, priv->tx_buf, priv->tx_dma);\n\tfoo_free_rx(priv);\n}\n\nstatic struct platform_driver');
  assert.notEqual(fixed, text);
  assert.equal(fixed.slice(0, fixed.indexOf('static void foo_remove')), text.slice(0, text.indexOf('static void foo_remove')), 'probe is unchanged');
  const misses = cache.misses;
  assert.deepEqual(found(fixed, cache), ['foo_probe:40']);
  assert.deepEqual(found(fixed), ['foo_probe:40'], 'as without a cache');
  assert.ok(cache.misses > misses, 'probe was analysed again');
  // And back: the finding returns, from the cache or not.
  assert.deepEqual(found(text, cache), ['foo_probe:32', 'foo_probe:40']);
});

test('a remove() that names no API (blanked by the focused parse) is still read', () => {
  const text = fs.readFileSync(FIXTURE, 'utf8').replace('\tfoo_free_rx(priv);\n}\n\nstatic struct platform_driver',
    '\tkfree(priv);\n}\n\nstatic struct platform_driver');
  assert.deepEqual(found(text), ['foo_probe:29', 'foo_probe:32', 'foo_probe:40']);
  const td = new DriverStructure(text).teardownFor('foo_probe', 'probe');
  assert.deepEqual(td?.roots, ['foo_remove']);
});

test('no teardown in the initialiser, or a teardown that hands the object to another file: nothing', () => {
  const text = fs.readFileSync(FIXTURE, 'utf8');
  assert.deepEqual(found(text.replace('\t.remove_new = foo_remove,\n', '')), []);
  assert.deepEqual(found(text.replace('\tfoo_free_rx(priv);\n}\n\nstatic struct platform_driver',
    '\tfoo_hw_cleanup(priv);\n}\n\nstatic struct platform_driver')), []);
});

test('remove() freeing another field of the same kind: probe is re-checked and the finding moves', () => {
  const text = `struct foo_priv { void *a; dma_addr_t a_dma; void *b; dma_addr_t b_dma; };

static int foo_probe(struct platform_device *pdev)
{
	struct foo_priv *p = devm_kzalloc(&pdev->dev, sizeof(*p), GFP_KERNEL);

	if (!p)
		return -ENOMEM;
	p->a = dma_alloc_coherent(&pdev->dev, 4096, &p->a_dma, GFP_KERNEL);
	if (!p->a)
		return -ENOMEM;
	p->b = dma_alloc_coherent(&pdev->dev, 4096, &p->b_dma, GFP_KERNEL);
	if (!p->b) {
		dma_free_coherent(&pdev->dev, 4096, p->a, p->a_dma);
		return -ENOMEM;
	}
	platform_set_drvdata(pdev, p);
	return 0;
}

static void foo_remove(struct platform_device *pdev)
{
	struct foo_priv *p = platform_get_drvdata(pdev);

	dma_free_coherent(&pdev->dev, 4096, p->a, p->a_dma);
}

static struct platform_driver foo_driver = { .probe = foo_probe, .remove_new = foo_remove };
`;
  const cache = new ResultCache();
  assert.deepEqual(found(text, cache), ['foo_probe:12']);
  // remove() now frees b instead of a: the same kinds, the same summaries, another field.
  const edited = text.replace('dma_free_coherent(&pdev->dev, 4096, p->a, p->a_dma);\n}', 'dma_free_coherent(&pdev->dev, 4096, p->b, p->b_dma);\n}');
  assert.notEqual(edited, text);
  assert.deepEqual(found(edited, cache), ['foo_probe:9']);
  assert.deepEqual(found(edited), ['foo_probe:9'], 'as without a cache');
});
