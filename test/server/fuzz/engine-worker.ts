/**
 * Child process of engine-runner.ts (forked with an IPC channel; a process, not a worker thread:
 * terminating a thread while it is inside the native parser aborts the whole process). Given
 * WorkerData as its first message, it generates inputs `from`, `from + step`, ... below `to` of
 * the stream for `seed` and checks each against the engine (check.ts), sending `start` before and
 * `done` after each one, so the parent can tell which input hung or crashed it and kill it.
 * Given SingleData, it analyses that one text and sends `result`.
 */
import { analyzeText, ResultCache } from '../../../server/src/engine/index';
import { parseConfig } from '../../../server/src/config';
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

/** One text under given settings (analyzeInWorker): posts { t: 'result', ... }. */
export interface SingleData { text: string; settings: unknown }

export type WorkerMessage =
  | { t: 'start'; index: number; kind: string; bytes: number }
  | { t: 'done'; index: number; kind: string; bytes: number; config: string; ms: number; runMs: number; functions: number;
      failures: { kind: string; detail: string }[]; tolerated: string[]; rules: string[] }
  | { t: 'end' }
  | { t: 'result'; ms: number; findings: { rule: string; message: string; line: number }[]; threw?: string; heapMb: number };

function post(m: WorkerMessage): Promise<void> {
  return new Promise((resolve) => process.send!(m, undefined, undefined, () => resolve()));
}

async function single(d: SingleData): Promise<void> {
  const config = parseConfig(d.settings).config;
  const t0 = performance.now();
  let msg: WorkerMessage;
  try {
    const r = analyzeText(d.text, 'file:///single.c', { config });
    msg = { t: 'result', ms: performance.now() - t0, heapMb: process.memoryUsage().heapUsed / 1e6,
      findings: r.functions.flatMap((f) => f.findings).map((f) => ({ rule: f.rule, message: f.message, line: f.range.start.line + 1 })) };
  } catch (e) {
    msg = { t: 'result', ms: performance.now() - t0, heapMb: process.memoryUsage().heapUsed / 1e6, findings: [], threw: (e as Error)?.stack ?? String(e) };
  }
  await post(msg);
}

async function stream(d: WorkerData): Promise<void> {
  const seeds = loadSeeds();
  // One cache per settings, as the server keeps one: unchanged functions of a mutated file come from it.
  const caches = new Map<string, ResultCache>();
  for (let i = d.from; i < d.to; i += d.step) {
    const input = inputAt(seeds, d.seed, i, { scale: d.scale });
    const bytes = input.bytes?.length ?? input.text.length;
    await post({ t: 'start', index: i, kind: input.kind, bytes });
    const { name, config } = configFor(i);
    let cache = caches.get(name);
    if (!cache) caches.set(name, (cache = new ResultCache(2000)));
    const o = checkEngine(input, { config, cache, run: d.runEvery > 0 && i % d.runEvery === 0 });
    await post({
      t: 'done', index: i, kind: input.kind, bytes, config: name, ms: o.ms, runMs: o.runMs, functions: o.functions,
      failures: o.failures, tolerated: o.tolerated, rules: o.rules,
    });
  }
  await post({ t: 'end' });
}

if (require.main === module && process.send) {
  process.once('message', (d: WorkerData | SingleData) => {
    void ('text' in d ? single(d) : stream(d)).then(() => process.disconnect());
  });
}
