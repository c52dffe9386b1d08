/**
 * Worker thread of engine-runner.ts: generates inputs `from`, `from + step`, ... below `to` of
 * the stream for `seed` and checks each against the engine (check.ts), posting `start` before and
 * `done` after each one, so the parent can tell which input hung or crashed the worker and kill it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ResultCache } from '../../../server/src/engine/index';
import { checkEngine, configFor } from './check';
import { inputAt, loadSeeds, GenerateOptions } from './generate';

export interface WorkerData {
  seed: number;
  from: number;
  to: number;
  step: number;
  scale: GenerateOptions['scale'];
  /** Run Snippet (runFunction) on every n-th input; 0: never. */
  runEvery: number;
}

export type WorkerMessage =
  | { t: 'start'; index: number; kind: string; bytes: number }
  | { t: 'done'; index: number; kind: string; bytes: number; config: string; ms: number; runMs: number; functions: number;
      failures: { kind: string; detail: string }[]; tolerated: string[]; rules: string[] }
  | { t: 'end' };

if (parentPort) {
  const d = workerData as WorkerData;
  const seeds = loadSeeds();
  // One cache per settings, as the server keeps one: unchanged functions of a mutated file come from it.
  const caches = new Map<string, ResultCache>();
  for (let i = d.from; i < d.to; i += d.step) {
    const input = inputAt(seeds, d.seed, i, { scale: d.scale });
    const bytes = input.bytes?.length ?? input.text.length;
    parentPort.postMessage({ t: 'start', index: i, kind: input.kind, bytes } satisfies WorkerMessage);
    const { name, config } = configFor(i);
    let cache = caches.get(name);
    if (!cache) caches.set(name, (cache = new ResultCache(2000)));
    const o = checkEngine(input, { config, cache, run: d.runEvery > 0 && i % d.runEvery === 0 });
    parentPort.postMessage({
      t: 'done', index: i, kind: input.kind, bytes, config: name, ms: o.ms, runMs: o.runMs, functions: o.functions,
      failures: o.failures, tolerated: o.tolerated, rules: o.rules,
    } satisfies WorkerMessage);
  }
  parentPort.postMessage({ t: 'end' } satisfies WorkerMessage);
}
