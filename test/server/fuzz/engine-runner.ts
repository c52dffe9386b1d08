/**
 * Runs the engine half of the fuzzer in child processes (engine-worker.ts), so that an input
 * that hangs the engine is stopped (its process is killed after `hangMs` and a new one goes on
 * with the next input) and one that exhausts memory kills only its process (--max-old-space-size).
 * Shared by fuzz.test.ts and scripts/fuzz.mjs.
 */
import { ChildProcess, fork } from 'node:child_process';
import * as path from 'node:path';
import type { SingleData, WorkerData, WorkerMessage } from './engine-worker';
import type { GenerateOptions } from './generate';

export interface InputResult {
  index: number;
  kind: string;
  bytes: number;
  config?: string;
  /** analyzeText() ms (for a hang: the time it was given before being stopped). */
  ms: number;
  runMs: number;
  failures: { kind: string; detail: string }[];
  tolerated: string[];
  rules: string[];
}

export interface EngineFuzzOptions {
  seed: number;
  count: number;
  from?: number;
  scale?: GenerateOptions['scale'];
  /** Worker processes (each takes every jobs-th input). */
  jobs?: number;
  /** An input still running after this long is a hang: its worker is terminated. */
  hangMs?: number;
  /** Stop starting inputs after this long (the script's --time-limit). */
  timeLimitMs?: number;
  /** Stop after this many failing inputs (keeps a broken engine from making the run long). */
  maxFailures?: number;
  /** Heap limit of each worker process, MB: an input that needs more crashes it (reported), not the run. */
  heapMb?: number;
  runEvery?: number;
  onResult?(r: InputResult): void;
}

export interface EngineReport {
  results: InputResult[];
  elapsedMs: number;
  /** Why the run stopped before `count` inputs, if it did. */
  stopped?: string;
}

function startWorker(heapMb: number): ChildProcess {
  return fork(path.join(__dirname, 'engine-worker.js'), [], {
    execArgv: [`--max-old-space-size=${heapMb}`], stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced',
  });
}

/** SIGKILL the worker (a hung one cannot be asked) and wait for it to be gone. */
function kill(w: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (w.exitCode !== null || w.signalCode !== null) { resolve(); return; }
    w.once('exit', () => resolve());
    w.kill('SIGKILL');
  });
}

export function runEngineFuzz(o: EngineFuzzOptions): Promise<EngineReport> {
  const from = o.from ?? 0;
  const to = from + o.count;
  const jobs = Math.max(1, o.jobs ?? 1);
  const hangMs = o.hangMs ?? 10_000;
  const t0 = Date.now();
  const results: InputResult[] = [];
  let failing = 0;
  let stopped: string | undefined;

  const record = (r: InputResult) => {
    results.push(r);
    if (r.failures.length) failing++;
    o.onResult?.(r);
    if (!stopped && o.maxFailures !== undefined && failing >= o.maxFailures) stopped = `stopped after ${failing} failing input(s)`;
    if (!stopped && o.timeLimitMs !== undefined && Date.now() - t0 > o.timeLimitMs) stopped = `time limit of ${Math.round(o.timeLimitMs / 1000)} s reached`;
  };

  const lane = (start: number) => new Promise<void>((resolve) => {
    let next = start;
    const spawn = () => {
      if (stopped || next >= to) { resolve(); return; }
      const data: WorkerData = { seed: o.seed, from: next, to, step: jobs, scale: o.scale ?? 'bounded', runEvery: o.runEvery ?? 8 };
      const w = startWorker(o.heapMb ?? 2048);
      w.send(data);
      let current: { index: number; kind: string; bytes: number; at: number } | undefined;
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      let stderr = '';
      w.stderr!.on('data', (b: Buffer) => { stderr = (stderr + b.toString('utf8')).slice(-4000); });
      w.stdout!.on('data', () => { /* the engine prints nothing; ignore */ });
      const finish = (restart: boolean) => {
        if (done) return;
        done = true;
        if (timer) clearTimeout(timer);
        void kill(w).then(() => (restart ? spawn() : resolve()));
      };
      w.on('message', (m: WorkerMessage) => {
        if (done) return; // a message after the hang timer fired
        if (m.t === 'start') {
          current = { index: m.index, kind: m.kind, bytes: m.bytes, at: Date.now() };
          timer = setTimeout(() => {
            const c = current!;
            record({ index: c.index, kind: c.kind, bytes: c.bytes, ms: Date.now() - c.at, runMs: 0, tolerated: [], rules: [],
              failures: [{ kind: 'hang', detail: `still running after ${hangMs} ms: worker terminated` }] });
            next = c.index + jobs;
            finish(true);
          }, hangMs);
        } else if (m.t === 'done') {
          if (timer) clearTimeout(timer);
          current = undefined;
          record({ index: m.index, kind: m.kind, bytes: m.bytes, config: m.config, ms: m.ms, runMs: m.runMs, failures: m.failures, tolerated: m.tolerated, rules: m.rules });
          next = m.index + jobs;
          if (stopped) finish(false);
        } else if (m.t === 'end') {
          next = to;
          finish(false);
        }
      });
      const crashed = (why: string) => {
        if (done) return;
        if (current) {
          record({ index: current.index, kind: current.kind, bytes: current.bytes, ms: Date.now() - current.at, runMs: 0, tolerated: [], rules: [],
            failures: [{ kind: 'crash', detail: `${why}${stderr ? `; stderr: ${stderr}` : ''}` }] });
          next = current.index + jobs;
        } else next = to; // died between inputs: nothing to blame, give up on this lane
        finish(true);
      };
      w.on('error', (e) => crashed(`worker failed: ${(e as Error).stack ?? e}`));
      w.on('exit', (code, signal) => crashed(`worker exited (code ${code}, signal ${signal})`));
    };
    spawn();
  });

  return Promise.all(Array.from({ length: jobs }, (_, j) => lane(from + j))).then(() => ({
    results: results.sort((a, b) => a.index - b.index), elapsedMs: Date.now() - t0, stopped,
  }));
}

/** Figures of a run: inputs, failing inputs by kind, slow inputs, max/median/p99 ms. */
export function summarize(results: InputResult[], slowMs = 2000) {
  const ms = results.map((r) => r.ms + r.runMs).sort((a, b) => a - b);
  const at = (q: number) => (ms.length ? ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] : 0);
  const byKind: Record<string, number> = {};
  for (const r of results) for (const k of new Set(r.failures.map((f) => f.kind))) byKind[k] = (byKind[k] ?? 0) + 1;
  return {
    inputs: results.length,
    failing: results.filter((r) => r.failures.length).length,
    failuresByKind: byKind,
    exceptions: results.filter((r) => r.failures.some((f) => f.kind === 'exception' || f.kind === 'run-exception')).length,
    slow: results.filter((r) => r.ms + r.runMs > slowMs),
    tolerated: results.filter((r) => r.tolerated.length).length,
    medianMs: at(0.5),
    p99Ms: at(0.99),
    maxMs: ms.length ? ms[ms.length - 1] : 0,
  };
}

export type SingleResult =
  | { outcome: 'done'; ms: number; heapMb: number; findings: { rule: string; message: string; line: number }[]; threw?: string }
  | { outcome: 'hang'; ms: number }
  | { outcome: 'crash'; ms: number; detail: string };

/**
 * analyzeText() of one text under `settings` (a .iommu-lens.json object) in a worker process
 * killed after `timeoutMs`: a hang or an out-of-memory comes back as an outcome.
 */
export function analyzeInWorker(text: string, settings: unknown, timeoutMs: number, heapMb = 2048): Promise<SingleResult> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    const data: SingleData = { text, settings };
    const w = startWorker(heapMb);
    w.stdout!.resume();
    w.stderr!.resume();
    w.send(data);
    let settled = false;
    const settle = (r: SingleResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void kill(w).then(() => resolve(r));
    };
    const timer = setTimeout(() => settle({ outcome: 'hang', ms: Date.now() - t0 }), timeoutMs);
    w.on('message', (m: WorkerMessage) => {
      if (m.t === 'result') settle({ outcome: 'done', ms: m.ms, heapMb: m.heapMb, findings: m.findings, threw: m.threw });
    });
    w.on('error', (e) => settle({ outcome: 'crash', ms: Date.now() - t0, detail: String((e as Error)?.stack ?? e) }));
    w.on('exit', (code, signal) => settle({ outcome: 'crash', ms: Date.now() - t0, detail: `worker exited (code ${code}, signal ${signal})` }));
  });
}
