/**
 * The fixture suite: every C file under test/server/fixtures/ and examples/ carries its
 * expectations on the lines they concern (`// expect: leak`, several separated by commas),
 * or `// expect-none` at the top. The test fails on an expected diagnostic that does not
 * appear and on a diagnostic nothing expects (shared/STYLE.md "Fixtures").
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeText } from '../../../server/src/engine/index';
import { parseConfig } from '../../../server/src/config';
import { extractAnnotations, Expectation } from './annotations';

const ROOT = path.resolve(__dirname, '../../../..');

function cFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...cFiles(p));
    else if (e.name.endsWith('.c')) out.push(p);
  }
  return out.sort();
}

function configFor(file: string) {
  // A fixture may carry its settings in a sibling `<name>.iommu-lens.json`.
  const side = file.replace(/\.c$/, '.iommu-lens.json');
  return parseConfig(fs.existsSync(side) ? JSON.parse(fs.readFileSync(side, 'utf8')) : {}).config;
}

const files = [...cFiles(path.join(ROOT, 'test/server/fixtures')), ...cFiles(path.join(ROOT, 'examples'))];

test('annotation parser reads rules and lines', () => {
  const a = extractAnnotations('// expect-none\nx = 1; // expect: leak, missing-error-path\n');
  assert.equal(a.none, true);
  assert.deepEqual(a.expected, [{ line: 2, rule: 'leak' }, { line: 2, rule: 'missing-error-path' }]);
});

test('there are fixtures for every headline rule', () => {
  const all = files.map((f) => fs.readFileSync(f, 'utf8')).join('\n');
  for (const r of ['leak', 'unmap-size-mismatch', 'unreserved-iova', 'missing-error-path']) {
    assert.match(all, new RegExp(`expect:[^\\n]*\\b${r}\\b`), `no fixture expects ${r}`);
  }
  assert.ok(files.some((f) => /expect-none/.test(fs.readFileSync(f, 'utf8'))), 'no clean fixture');
});

for (const file of files) {
  test(`fixture ${path.relative(ROOT, file)}`, () => {
    const text = fs.readFileSync(file, 'utf8');
    const { expected } = extractAnnotations(text);
    const r = analyzeText(text, file, { config: configFor(file) });
    const got = r.functions.flatMap((f) => f.findings)
      .filter((f) => f.rule !== 'budget')
      .map((f) => ({ line: f.range.start.line + 1, rule: f.rule as string, message: f.message }));
    const key = (e: Expectation) => `${e.line}:${e.rule}`;
    const gotKeys = new Set(got.map(key));
    const expKeys = new Set(expected.map(key));
    const missing = expected.filter((e) => !gotKeys.has(key(e))).map(key);
    const unexpected = got.filter((g) => !expKeys.has(key(g))).map((g) => `${key(g)} ${g.message}`);
    assert.deepEqual({ missing, unexpected }, { missing: [], unexpected: [] });
  });
}
