/**
 * The sync rules against the emulator's own DMA-API debug (emulator/src/dma.ts sync(), after
 * kernel/dma/debug.c check_sync()): where `run` knows the values, what a finding says at a
 * dma_sync_*() is what DMA-API debug prints at that step, and a clean sync prints nothing.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runFunction } from '../../../server/src/engine/index';
import { parseConfig } from '../../../server/src/config';

const FIX = path.resolve(__dirname, '../../../../test/server/fixtures');
const config = parseConfig({}).config;

/** The dma-debug messages of the steps at `line` (1-based) on the path `run` shows first. */
function debugAt(file: string, fn: string, line: number): { debug: string[]; findings: string[] } {
  const r = runFunction(fs.readFileSync(path.join(FIX, file), 'utf8'), fn, { config });
  assert.ok(r, `no function ${fn}`);
  const steps = r.paths[0].steps.filter((s) => s.line === line - 1);
  assert.ok(steps.length, `no step at line ${line} on the path run shows`);
  return {
    debug: steps.flatMap((s) => s.events.filter((e) => e.kind === 'dma-debug').map((e) => e.text)),
    findings: r.findings.filter((f) => f.range.start.line === line - 1).map((f) => `${f.rule}: ${f.message}`),
  };
}

test('an out-of-range sync: the finding quotes what DMA-API debug prints at that step', () => {
  const { debug, findings } = debugAt('sync-out-of-range/single.c', 'rx_copybreak', 43);
  assert.equal(debug.length, 1);
  assert.match(debug[0], /tries to sync DMA memory it has not allocated \[device address=0x[0-9a-f]+080\] \[size=2048 bytes\]/);
  assert.equal(findings.length, 1);
  assert.match(findings[0], /^sync-out-of-range: .*to 2176.*mapped 2048.*tries to sync DMA memory it has not allocated/);
});

test('a sync with another direction: direction-mismatch, with both of check_sync()\'s messages', () => {
  const { debug, findings } = debugAt('sync-out-of-range/direction.c', 'cmdq_send', 36);
  assert.deepEqual(debug.map((t) => /device driver (syncs [A-Za-z -]+?)(?= \[)/.exec(t)?.[1]),
    ['syncs DMA memory with different direction', 'syncs device read-only DMA memory for cpu']);
  assert.equal(findings.length, 1);
  assert.match(findings[0], /^direction-mismatch: .*different direction.*read-only DMA memory for cpu/);
});

test('a sync after the unmap: use-after-release, and DMA-API debug finds no mapping', () => {
  const r = runFunction(fs.readFileSync(path.join(FIX, 'use-after-release/streaming.c'), 'utf8'), 'mbox_read', { config });
  assert.ok(r);
  const p = r.paths.find((x) => x.steps.some((s) => s.line === 21));
  assert.ok(p, 'no path reaches the sync');
  const debug = p.steps.filter((s) => s.line === 21).flatMap((s) => s.events.filter((e) => e.kind === 'dma-debug').map((e) => e.text));
  assert.equal(debug.length, 1);
  assert.match(debug[0], /tries to sync DMA memory it has not allocated/);
  assert.ok(r.findings.some((f) => f.rule === 'use-after-release' && f.range.start.line === 21));
});

test('syncs within the mapping, also at an offset: no finding and nothing from DMA-API debug', () => {
  for (const line of [21, 22]) {
    const { debug, findings } = debugAt('clean/sync.c', 'rxq_copybreak', line);
    assert.deepEqual({ debug, findings }, { debug: [], findings: [] });
  }
});
