#!/usr/bin/env node
// The fuzzer of test/server/fuzz/fuzz.test.ts, run longer: the same generator (mutated fixtures
// and examples, synthetic files) at full size, through the engine in worker processes (a hanging
// input is killed after --hang-ms, default 30000, and the run goes on), then optionally through a
// real language server process. Needs the compiled tests in out/ (`npm run fuzz` builds first).
//
//   node scripts/fuzz.mjs [--inputs N] [--seed S] [--from I] [--time-limit SEC] [--jobs J]
//                         [--scale full|bounded] [--hang-ms MS] [--slow-ms MS] [--heap-mb MB]
//                         [--server N] [--save DIR] [--only I] [--max-failures N]
//
//   --inputs N      inputs for the engine (default 20000)
//   --seed S        the stream's seed (default 1); input I of seed S is always the same text
//   --time-limit S  stop starting inputs after S seconds (default: none)
//   --jobs J        worker processes (default: the number of CPUs)
//   --scale         full (default) or bounded (the sizes the test uses)
//   --server N      also send N inputs (after the engine's) to dist/server.js over stdio
//   --save DIR      write each failing input there (DIR/<seed>-<index>.c and .json)
//   --only I        run input I only, and print what it is (to reproduce a failure)
//
// Prints: inputs run, exceptions, failing inputs by kind, slow inputs (> --slow-ms, default
// 2000), median/p99/max ms per input. Exit status: 0 nothing failed, 1 something did, 2 bad usage.
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const out = resolve(root, 'out/test/server/fuzz');
if (!existsSync(resolve(out, 'engine-runner.js')) || !existsSync(resolve(root, 'dist/server.js'))) {
  console.error('fuzz: not built; run `npm run build` (or `npm run fuzz`)');
  process.exit(2);
}
const { runEngineFuzz, summarize } = require(resolve(out, 'engine-runner.js'));
const { inputAt, loadSeeds, saveInput } = require(resolve(out, 'generate.js'));
const { runServerFuzz } = require(resolve(out, 'server-fuzz.js'));

const opts = { inputs: 20000, seed: 1, from: 0, timeLimit: undefined, jobs: availableParallelism(), scale: 'full',
  hangMs: 30000, slowMs: 2000, heapMb: 2048, server: 0, save: undefined, only: undefined, maxFailures: 1000 };
const argv = process.argv.slice(2);
const usage = (why) => { console.error(`fuzz: ${why}\nusage: node scripts/fuzz.mjs [--inputs N] [--seed S] [--from I] [--time-limit SEC] [--jobs J] [--scale full|bounded] [--hang-ms MS] [--slow-ms MS] [--heap-mb MB] [--server N] [--save DIR] [--only I] [--max-failures N]`); process.exit(2); };
for (let i = 0; i < argv.length; i++) {
  const [flag, inline] = argv[i].includes('=') ? argv[i].split(/=(.*)/s) : [argv[i], undefined];
  const value = () => inline ?? argv[++i] ?? usage(`${flag} needs a value`);
  const num = () => { const v = Number(value()); if (!Number.isFinite(v) || v < 0) usage(`${flag} needs a non-negative number`); return v; };
  switch (flag) {
    case '--inputs': opts.inputs = num(); break;
    case '--seed': opts.seed = num(); break;
    case '--from': opts.from = num(); break;
    case '--time-limit': opts.timeLimit = num(); break;
    case '--jobs': opts.jobs = Math.max(1, num()); break;
    case '--scale': opts.scale = value(); if (!['full', 'bounded'].includes(opts.scale)) usage('--scale is full or bounded'); break;
    case '--hang-ms': opts.hangMs = num(); break;
    case '--slow-ms': opts.slowMs = num(); break;
    case '--heap-mb': opts.heapMb = num(); break;
    case '--server': opts.server = num(); break;
    case '--save': opts.save = resolve(value()); break;
    case '--only': opts.only = num(); break;
    case '--max-failures': opts.maxFailures = num(); break;
    case '-h': case '--help': usage('help');
    default: usage(`unknown option ${argv[i]}`);
  }
}
if (opts.only !== undefined) { opts.from = opts.only; opts.inputs = 1; opts.jobs = 1; }

const seeds = loadSeeds();
const t0 = Date.now();
let done = 0;
const progress = setInterval(() => {
  process.stderr.write(`  ${done} inputs, ${Math.round((Date.now() - t0) / 1000)} s\r`);
}, 5000);
const short = (s, n = 300) => (s.length > n ? s.slice(0, n) + '...' : s);
const save = (index, why) => (opts.save ? saveInput(opts.save, opts.seed, inputAt(seeds, opts.seed, index, { scale: opts.scale }), why) : undefined);

if (opts.only !== undefined) {
  const input = inputAt(seeds, opts.seed, opts.only, { scale: opts.scale });
  console.log(`input ${opts.only} of seed ${opts.seed} (${opts.scale}): ${input.kind}, ${input.text.length} characters`);
}

const report = await runEngineFuzz({
  seed: opts.seed, count: opts.inputs, from: opts.from, scale: opts.scale, jobs: opts.jobs, hangMs: opts.hangMs,
  heapMb: opts.heapMb, maxFailures: opts.maxFailures, timeLimitMs: opts.timeLimit !== undefined ? opts.timeLimit * 1000 : undefined,
  onResult(r) {
    done++;
    if (r.failures.length) {
      const file = save(r.index, r.failures.map((f) => f.kind).join(','));
      console.log(`FAIL input ${r.index} [${r.failures.map((f) => f.kind).join(', ')}] ${short(r.kind, 160)}${file ? ` -> ${file}` : ''}`);
      for (const f of r.failures.slice(0, 3)) console.log(`     ${short(f.detail.replace(/\n\s*/g, ' | '), 600)}`);
    } else if (r.ms + r.runMs > opts.slowMs) {
      console.log(`slow input ${r.index}: ${Math.round(r.ms)} ms analysis + ${Math.round(r.runMs)} ms run, ${r.bytes} chars, ${short(r.kind, 160)}`);
    }
  },
});
clearInterval(progress);
const s = summarize(report.results, opts.slowMs);
const secs = (report.elapsedMs / 1000).toFixed(1);
console.log(`\nengine, seed ${opts.seed}, ${opts.scale} scale, ${opts.jobs} worker(s): ${s.inputs} inputs in ${secs} s${report.stopped ? ` (${report.stopped})` : ''}`);
console.log(`  exceptions (escaped analyzeText/runFunction): ${s.exceptions}`);
console.log(`  failing inputs: ${s.failing}${Object.keys(s.failuresByKind).length ? ` (${Object.entries(s.failuresByKind).map(([k, v]) => `${k} ${v}`).join(', ')})` : ''}`);
console.log(`  slow inputs (> ${opts.slowMs} ms): ${s.slow.length}`);
console.log(`  tolerated stack overflows (nesting deeper than 1000): ${s.tolerated}`);
console.log(`  ms per input: median ${s.medianMs.toFixed(1)}, p99 ${s.p99Ms.toFixed(0)}, max ${s.maxMs.toFixed(0)}`);
let failed = s.failing > 0;

if (opts.server > 0) {
  const r = await runServerFuzz({ seed: opts.seed, from: opts.from + opts.inputs, count: opts.server, scale: opts.scale, timeoutMs: opts.hangMs * 2, maxFailures: opts.maxFailures,
    timeLimitMs: opts.timeLimit !== undefined ? opts.timeLimit * 1000 : undefined });
  const ms = r.ms.slice().sort((a, b) => a - b);
  console.log(`\nlanguage server: ${r.inputs} inputs in ${(r.elapsedMs / 1000).toFixed(1)} s, ${r.failures.length} failure(s), ${r.restarts} restart(s), ${r.compared} compared with a fresh analysis`);
  console.log(`  code lens round trip ms: median ${ms[ms.length >> 1] ?? 0}, max ${ms.at(-1) ?? 0}`);
  const final = r.finalGot.join(' ') === r.finalExpected.join(' ') && r.finalFresh.join(' ') === r.finalExpected.join(' ');
  console.log(`  valid file after the garbage: ${final ? 'expected diagnostics' : `expected ${r.finalExpected.join(' ')}, got ${r.finalGot.join(' ')} / ${r.finalFresh.join(' ')}`}`);
  for (const f of r.failures) {
    const file = f.index >= 0 ? save(f.index, f.what) : undefined;
    console.log(`FAIL server input ${f.index} ${short(f.kind, 160)}: ${f.what}: ${short(f.detail.replace(/\n\s*/g, ' | '), 600)}${file ? ` -> ${file}` : ''}`);
  }
  failed ||= r.failures.length > 0 || !final;
}
process.exit(failed ? 1 : 0);
