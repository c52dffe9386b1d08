/**
 * Closing a document frees what it held: its cached function results go, except those another
 * open document shares (server/src/analyser.ts `close`).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Analyser, TREES_KEPT } from '../../../server/src/analyser';
import * as engine from '../../../server/src/engine/index';

const ROOT = path.resolve(__dirname, '../../../..');

test('closing a document forgets its cached results but keeps those an open document shares', async () => {
  let cache: engine.ResultCache | undefined;
  const api = { ...engine, ResultCache: class extends engine.ResultCache { constructor(n?: number) { super(n); cache = this; } } };
  const a = new Analyser(api, { publish: () => undefined });
  const text = fs.readFileSync(path.join(ROOT, 'examples/net-rx-ring.c'), 'utf8');
  const other = fs.readFileSync(path.join(ROOT, 'examples/crypto-sg.c'), 'utf8');
  a.open('file:///w/a.c', 1, text);
  a.open('file:///w/b.c', 1, text);
  a.open('file:///w/c.c', 1, other);
  for (const u of ['a', 'b', 'c']) assert.ok(await a.resultFor(`file:///w/${u}.c`));
  const full = cache!.size;
  assert.ok(full > 0);
  a.close('file:///w/a.c');
  assert.equal(cache!.size, full, 'b.c shares every function of a.c');
  a.close('file:///w/c.c');
  assert.ok(cache!.size < full, 'c.c had functions of its own');
  a.close('file:///w/b.c');
  assert.equal(cache!.size, 0);
});

test('only the last documents used keep a syntax tree; an edit in another parses it again and is analysed right', async () => {
  const published = new Map<string, string[]>();
  const a = new Analyser(engine, { publish: (uri, ds) => { published.set(uri, ds.map((d) => `${d.range.start.line}:${d.code}`)); } });
  const text = fs.readFileSync(path.join(ROOT, 'examples/net-rx-ring.c'), 'utf8');
  const uris = Array.from({ length: TREES_KEPT + 3 }, (_, i) => `file:///w/t${i}.c`);
  for (const u of uris) { a.open(u, 1, text); await a.resultFor(u); }
  const holding = uris.filter((u) => (a as unknown as { docs: Map<string, { tree?: unknown }> }).docs.get(u)!.tree);
  assert.deepEqual(holding, uris.slice(-TREES_KEPT), 'the least recently used documents gave their trees back');
  // The first document lost its tree: a one-line edit that removes a leak's cause still lands.
  const before = published.get(uris[0])!;
  assert.ok(before.length > 0);
  const lines = text.split('\n');
  const line = lines.findIndex((l) => /dma_alloc_coherent/.test(l));
  a.change(uris[0], 2, [{ range: { start: { line, character: 0 }, end: { line, character: lines[line].length } }, text: '' }]);
  const r = await a.resultFor(uris[0]);
  assert.ok(r);
  assert.notDeepEqual(published.get(uris[0]), before, 'the edit was analysed');
  const fresh = new Analyser(engine, { publish: (uri, ds) => { published.set('fresh', ds.map((d) => `${d.range.start.line}:${d.code}`)); } });
  fresh.open('file:///w/fresh.c', 1, a.text(uris[0])!);
  await fresh.resultFor('file:///w/fresh.c');
  assert.deepEqual(published.get(uris[0]), published.get('fresh'), 'the same diagnostics as a fresh parse of the edited text');
});
