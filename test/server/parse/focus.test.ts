/**
 * parse/focus.ts: blanking the definitions the analysis cannot need changes no result, keeps
 * every line where it was, and never blanks what it is unsure of.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { focusText } from '../../../server/src/parse/focus';
import { analyzeText } from '../../../server/src/engine/index';
import { DEFAULT_CONFIG } from '../../../server/src/config';

const ROOT = path.resolve(__dirname, '../../../..');

const DRIVER = `#include <linux/dma-mapping.h>
static int unrelated_stats(struct foo *f)
{
\treturn f->a + f->b;
}

static void ring_free(struct foo *f)
{
\tdma_free_coherent(f->dev, 64, f->cpu, f->dma);
}

static int helper_only_called(struct foo *f) { return to_bar(f)->x; }

static int ring_alloc(struct foo *f)
{
\tf->cpu = dma_alloc_coherent(f->dev, 64, &f->dma, GFP_KERNEL);
\tif (!f->cpu)
\t\treturn -ENOMEM;
\treturn helper_only_called(f);
}

static int open_dev(struct foo *f)
{
\treturn ring_alloc(f);
}

static int with_ifdef(struct foo *f)
{
#ifdef CONFIG_X
\treturn 1;
#endif
\treturn 0;
}
`;

test('focus blanks only definitions nothing reaches, keeping every line and offset', () => {
  const r = focusText(DRIVER);
  assert.equal(r.text.length, DRIVER.length);
  assert.equal(r.text.split('\n').length, DRIVER.split('\n').length);
  assert.equal(r.definitions, 6);
  assert.equal(r.blanked, 1, 'only unrelated_stats');
  assert.doesNotMatch(r.text, /unrelated_stats/);
  for (const kept of ['ring_free', 'helper_only_called', 'ring_alloc', 'open_dev', 'with_ifdef']) assert.match(r.text, new RegExp(kept));
  assert.equal(r.text.indexOf('static int ring_alloc'), DRIVER.indexOf('static int ring_alloc'));
});

test('focus changes no finding of any fixture or example', () => {
  const dirs = ['examples', ...fs.readdirSync(path.join(ROOT, 'test/server/fixtures')).map((d) => path.join('test/server/fixtures', d))];
  let files = 0;
  for (const dir of dirs) {
    const abs = path.join(ROOT, dir);
    if (!fs.statSync(abs).isDirectory()) continue;
    for (const f of fs.readdirSync(abs).filter((x) => x.endsWith('.c'))) {
      const text = fs.readFileSync(path.join(abs, f), 'utf8');
      const view = (focus: boolean) => analyzeText(text, f, { config: DEFAULT_CONFIG, focus }).functions.filter((x) => x.usesApi)
        .map((x) => ({ name: x.name, findings: x.findings.map((y) => [y.rule, y.range, y.message]), paths: x.paths.length, overBudget: x.overBudget }));
      assert.deepEqual(view(true), view(false), `${dir}/${f}`);
      files++;
    }
  }
  assert.ok(files > 30, `${files} files`);
});
