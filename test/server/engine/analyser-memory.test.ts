/**
 * Closing a document frees what it held: its cached function results go, except those another
 * open document shares (server/src/analyser.ts `close`).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Analyser } from '../../../server/src/analyser';
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
