#!/usr/bin/env node
// Mutation testing of IOMMU Lens on real drivers: plants one DMA/IOMMU bug at a time in the kernel
// corpus that scripts/kernel-source.sh extracts (every eligible site of every file, see
// scripts/mutations.mjs for the operators), analyses each mutant, and measures the recall: the
// share of mutants where the engine reports the planted bug.
//
//   node scripts/mutate.mjs [--dir DIR] [--limit N] [--ops drop-check,drop-release,...]
//        [--sample N] [--seed 7] [--jobs 2] [--json OUT] [--misses out/mutate-misses.jsonl]
//        [--recycle 100] [--no-snapshot]
//
// A mutant is found when the operator's rule (drop-check: missing-error-path at the acquiring call;
// drop-release: leak at the acquisition the release freed; change-size: unmap-size-mismatch and
// swap-direction: direction-mismatch at the release) is reported at the expected line in the
// mutated function and was not in the unmutated one. `masked` counts the mutants whose expected
// finding the unmutated function already had (they cannot be found by that definition).
//
// --sample N keeps at most N mutants per operator, drawn with the seeded PRNG (same seed, same
// draw): the files are first listed (baseline analysis and mutant sites only), then the drawn
// mutants analysed. --jobs N worker processes, each with its own ResultCache; a file's mutants stay
// in one worker, and a worker is replaced by a fresh process after --recycle files. Each mutant
// goes through analyzeText on the whole mutated file with the worker's cache, so only the mutated
// function is analysed again (and, when the mutant changes what that function releases, the
// functions whose helper summaries change). The workers load the engine from a copy of out/ made
// at the start (--no-snapshot: from out/ itself), so a rebuild during the run changes nothing.
//
// Prints a table per operator (eligible, found, masked, recall), the findings per rule of the
// unmutated functions that had eligible mutants, and the wall time; writes every missed mutant as
// one JSON line to --misses (default out/mutate-misses.jsonl). Needs `npm run build` (loads the
// engine from out/). Nothing here is committed output.
import { fork } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';
import { OPS, mutants, judge, judgeFile, functionAt, mulberry32, draw, EXPECTED_RULE } from './mutations.mjs';

const self = fileURLToPath(import.meta.url);
const root = resolve(dirname(self), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};

if (flag('--child')) await child();
else await parent();

// ---------------------------------------------------------------------------------------------
// Worker process: one file per message from the parent.

async function child() {
  // Trees live in native memory that V8 does not count and are freed on a later turn of the event
  // loop (see corpus.mjs): collect now and then, and let the loop turn.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  let sinceGc = 0;
  const maybeGc = async () => {
    if (++sinceGc < 30) return;
    sinceGc = 0;
    gc();
    await new Promise((r) => setImmediate(r));
  };
  const require = createRequire(import.meta.url);
  const engine = process.env.IOMMU_LENS_ENGINE || root;
  const { analyzeText, ResultCache } = require(join(engine, 'out/server/src/engine/index.js'));
  const { DEFAULT_CONFIG: config } = require(join(engine, 'out/server/src/config.js'));
  const cache = new ResultCache();
  const ops = (opt('--ops', '') || OPS.join(',')).split(',');

  // messages are handled one at a time, in order
  let queue = Promise.resolve();
  process.on('message', (msg) => { queue = queue.then(() => handle(msg)); });

  async function handle(msg) {
    if (msg.type === 'exit') {
      process.send({ type: 'bye', cache: { hits: cache.hits, misses: cache.misses }, rss: process.memoryUsage().rss }, () => process.exit(0));
      return;
    }
    const { file, rel, select } = msg;
    const t0 = performance.now();
    const reply = { type: 'file', rel, listed: [], results: [], baseFindings: [], ms: 0, analyses: 0, error: null };
    try {
      const text = readFileSync(file, 'utf8');
      await maybeGc();
      const base = analyzeText(text, file, { config, cache });
      reply.analyses++;
      let ms = mutants(text, base, { ops });
      if (msg.mode === 'list') {
        reply.listed = ms.map((m) => ({ key: m.key, op: m.op }));
      } else {
        if (select) {
          const want = new Set(select);
          ms = ms.filter((m) => want.has(m.key));
        }
        const fnsWithMutants = new Map();
        for (const m of ms) {
          await maybeGc();
          const after = analyzeText(m.text, file, { config, cache });
          reply.analyses++;
          const baseFn = functionAt(base, m.function, m.line - 1);
          const mutFn = functionAt(after, m.function, m.line - 1);
          const j = m.fileLevel ? judgeFile(m, base, after) : judge(m, baseFn, mutFn);
          if (baseFn) {
            const k = `${baseFn.name}@${baseFn.range.start.line}`;
            if (!fnsWithMutants.has(k)) fnsWithMutants.set(k, { fn: baseFn, ops: new Set() });
            fnsWithMutants.get(k).ops.add(m.op);
          }
          reply.results.push({
            op: m.op, key: m.key, file: rel, function: m.function, line: m.line, expectedLine: m.expectedLine,
            expectedLines: m.expectedLines, rule: m.rule, api: m.api, holder: m.holder, returned: m.returned,
            found: j.found, masked: j.masked,
            mutantText: m.mutantText, originalText: m.originalText, newFindings: j.newFindings,
            overBudget: j.overBudget ?? null, baseOverBudget: baseFn?.overBudget ?? null, lost: !mutFn,
          });
        }
        for (const { fn, ops: o } of fnsWithMutants.values()) {
          const rules = {};
          for (const f of fn.findings) if (f.rule !== 'budget') rules[f.rule] = (rules[f.rule] ?? 0) + 1;
          reply.baseFindings.push({ function: fn.name, ops: [...o], rules, overBudget: !!fn.overBudget });
        }
      }
    } catch (e) {
      reply.error = (e && e.stack) || String(e);
    }
    reply.ms = performance.now() - t0;
    reply.rss = process.memoryUsage().rss;
    process.send(reply);
  }
}

// ---------------------------------------------------------------------------------------------
// Parent: hands files to the workers, gathers the results.

async function parent() {
  const dir = resolve(opt('--dir', process.env.IOMMU_LENS_CORPUS || '/var/tmp/iommu-lens-corpus'));
  const limit = Number(opt('--limit', '0'));
  const ops = (opt('--ops', '') || OPS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const o of ops) if (!OPS.includes(o)) { console.error(`mutate: unknown operator ${o} (${OPS.join(', ')})`); process.exit(2); }
  const sample = Number(opt('--sample', '0'));
  const seed = Number(opt('--seed', '7'));
  const jobs = Math.max(1, Number(opt('--jobs', '2')));
  const jsonOut = opt('--json', '');
  const missesOut = opt('--misses', join(root, 'out/mutate-misses.jsonl'));
  if (!existsSync(join(root, 'out/server/src/engine/index.js'))) {
    console.error('mutate: out/server/src/engine/index.js missing; run `npm run build` first');
    process.exit(2);
  }
  if (!existsSync(dir)) {
    console.error(`mutate: ${dir} does not exist; run scripts/kernel-source.sh first`);
    process.exit(2);
  }
  // The engine is loaded from a copy of out/ taken now, so that a rebuild while the run goes on
  // (workers are started again and again) does not mix two engines in one measurement.
  let engineDir = null;
  if (!flag('--no-snapshot')) {
    engineDir = mkdtempSync(join(tmpdir(), 'iommu-lens-engine-'));
    for (const sub of ['out/server', 'out/emulator']) cpSync(join(root, sub), join(engineDir, sub), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(engineDir, 'node_modules'));
    process.env.IOMMU_LENS_ENGINE = engineDir;
    for (const sig of ['SIGINT', 'SIGTERM']) {
      process.on(sig, () => { rmSync(engineDir, { recursive: true, force: true }); process.exit(130); });
    }
  }
  const walk = (d, out = []) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p, out);
      else if (e.isFile() && e.name.endsWith('.c')) out.push(p);
    }
    return out;
  };
  let files = walk(dir).sort();
  if (limit > 0) files = files.slice(0, limit);
  const t0 = performance.now();
  const errors = [];
  const cacheStats = { hits: 0, misses: 0 };
  let analyses = 0, peakRss = 0;
  const recycle = Math.max(1, Number(opt('--recycle', '100')));

  /**
   * Runs `tasks` ({file, rel, mode, select}) over `jobs` worker processes; replies in task order.
   * A worker is replaced by a fresh one after `recycle` files (native trees and the cache's paths
   * stay bounded), or when it dies (the file it was on is reported as an error).
   */
  const runPool = (tasks, label) => new Promise((resolvePool) => {
    const replies = new Array(tasks.length);
    let next = 0, done = 0, live = 0;
    if (tasks.length === 0) { resolvePool(replies); return; }
    const start = () => {
      const w = fork(self, ['--child', '--ops', ops.join(',')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      live++;
      let current = -1, handled = 0;
      const feed = () => {
        if (next < tasks.length && handled < recycle) {
          current = next++;
          handled++;
          w.send(tasks[current]);
        } else {
          current = -1;
          w.send({ type: 'exit' });
        }
      };
      w.on('message', (msg) => {
        if (msg.type === 'bye') {
          cacheStats.hits += msg.cache.hits;
          cacheStats.misses += msg.cache.misses;
          peakRss = Math.max(peakRss, msg.rss);
          return;
        }
        replies[current] = msg;
        analyses += msg.analyses;
        peakRss = Math.max(peakRss, msg.rss ?? 0);
        if (msg.error) errors.push({ file: msg.rel, error: msg.error.split('\n').slice(0, 3).join(' | ') });
        done++;
        if (process.stderr.isTTY) process.stderr.write(`\r${label} ${done}/${tasks.length} files`);
        feed();
      });
      w.on('exit', (code, signal) => {
        live--;
        if (current >= 0) {
          // the worker died on this file (out of memory, a native crash): note it, go on in a new one
          errors.push({ file: tasks[current].rel, error: `worker exited ${code ?? signal}` });
          replies[current] = { rel: tasks[current].rel, listed: [], results: [], baseFindings: [], ms: 0 };
          done++;
          current = -1;
        }
        if (next < tasks.length) start();
        else if (live === 0) {
          if (process.stderr.isTTY) process.stderr.write('\n');
          resolvePool(replies);
        }
      });
      feed();
    };
    for (let i = 0; i < Math.min(jobs, tasks.length); i++) start();
  });

  const task = (f) => ({ type: 'file', file: f, rel: relative(dir, f) });
  let replies;
  let eligibleAll = null;
  if (sample > 0) {
    // list every site first, draw, then analyse the drawn mutants only
    const listed = await runPool(files.map((f) => ({ ...task(f), mode: 'list' })), 'listing');
    const byOp = Object.fromEntries(ops.map((o) => [o, []]));
    for (const r of listed) for (const m of r.listed) byOp[m.op]?.push({ rel: r.rel, key: m.key });
    eligibleAll = Object.fromEntries(ops.map((o) => [o, byOp[o].length]));
    const rand = mulberry32(seed);
    const chosen = new Map();
    for (const o of ops) for (const m of draw(byOp[o], sample, rand)) {
      if (!chosen.has(m.rel)) chosen.set(m.rel, []);
      chosen.get(m.rel).push(m.key);
    }
    const tasks = files.filter((f) => chosen.has(relative(dir, f))).map((f) => ({ ...task(f), mode: 'run', select: chosen.get(relative(dir, f)) }));
    replies = await runPool(tasks, 'mutants');
  } else {
    replies = await runPool(files.map((f) => ({ ...task(f), mode: 'run' })), 'mutants');
  }
  const wall = (performance.now() - t0) / 1000;
  if (engineDir) rmSync(engineDir, { recursive: true, force: true }); // the node_modules link, not its target

  // --- the report
  const results = replies.flatMap((r) => r?.results ?? []);
  const perOp = Object.fromEntries(ops.map((o) => [o, { eligible: 0, found: 0, masked: 0, overBudget: 0 }]));
  for (const r of results) {
    const s = perOp[r.op];
    s.eligible++;
    if (r.found) s.found++;
    else if (r.masked) s.masked++;
    if (r.overBudget) s.overBudget++;
  }
  const baseRules = {};
  const baseRulesPerOp = Object.fromEntries(ops.map((o) => [o, {}]));
  let eligibleFns = 0, eligibleFnsOverBudget = 0;
  for (const r of replies) {
    for (const b of r?.baseFindings ?? []) {
      eligibleFns++;
      if (b.overBudget) eligibleFnsOverBudget++;
      for (const [k, v] of Object.entries(b.rules)) {
        baseRules[k] = (baseRules[k] ?? 0) + v;
        for (const o of b.ops) baseRulesPerOp[o][k] = (baseRulesPerOp[o][k] ?? 0) + v;
      }
    }
  }
  const pct = (a, b) => (b ? ((100 * a) / b).toFixed(1) + '%' : '-');
  console.log(`mutate: ${files.length} files in ${dir}, ${jobs} workers${sample > 0 ? `, at most ${sample} mutants per operator (seed ${seed})` : ''}`);
  const head = `${'operator'.padEnd(23)}${'rule'.padEnd(22)}${sample > 0 ? 'sites'.padStart(8) : ''}${'mutants'.padStart(9)}${'found'.padStart(8)}${'masked'.padStart(8)}${'recall'.padStart(9)}${'unmasked'.padStart(10)}${'over-budget'.padStart(13)}`;
  console.log(head);
  const total = { eligible: 0, found: 0, masked: 0, overBudget: 0 };
  for (const o of ops) {
    const s = perOp[o];
    for (const k of Object.keys(total)) total[k] += s[k];
    console.log(`${o.padEnd(23)}${EXPECTED_RULE[o].padEnd(22)}${sample > 0 ? String(eligibleAll[o]).padStart(8) : ''}${String(s.eligible).padStart(9)}${String(s.found).padStart(8)}` +
      `${String(s.masked).padStart(8)}${pct(s.found, s.eligible).padStart(9)}${pct(s.found, s.eligible - s.masked).padStart(10)}${String(s.overBudget).padStart(13)}`);
  }
  console.log(`${'all'.padEnd(23)}${''.padEnd(22)}${sample > 0 ? String(Object.values(eligibleAll).reduce((a, b) => a + b, 0)).padStart(8) : ''}${String(total.eligible).padStart(9)}${String(total.found).padStart(8)}` +
    `${String(total.masked).padStart(8)}${pct(total.found, total.eligible).padStart(9)}${pct(total.found, total.eligible - total.masked).padStart(10)}${String(total.overBudget).padStart(13)}`);
  console.log('(recall: found / mutants; unmasked: found / (mutants - masked); over-budget: mutated function over a budget)');
  const fmt = (m) => Object.entries(m).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  console.log(`unmutated functions with eligible mutants: ${eligibleFns} (${eligibleFnsOverBudget} over budget); their findings: ${fmt(baseRules)}`);
  for (const o of ops) console.log(`  with ${o} mutants: ${fmt(baseRulesPerOp[o])}`);
  console.log(`analyses ${analyses}, result cache hits ${cacheStats.hits}, misses ${cacheStats.misses}`);
  console.log(`peak RSS of a worker ${(peakRss / 2 ** 20).toFixed(0)} MiB (sampled after each file)`);
  console.log(`errors ${errors.length}${errors.length ? ': ' + errors.slice(0, 5).map((e) => `${e.file}: ${e.error}`).join('; ') : ''}`);
  console.log(`wall time ${wall.toFixed(1)} s`);

  const misses = results.filter((r) => !r.found);
  if (missesOut) {
    mkdirSync(dirname(resolve(missesOut)), { recursive: true });
    writeFileSync(missesOut, misses.map((r) => JSON.stringify({
      op: r.op, file: r.file, function: r.function, line: r.line, expectedLine: r.expectedLine,
      mutantText: r.mutantText, originalText: r.originalText, api: r.api, masked: r.masked,
      ...(r.op === 'drop-check' ? { holder: r.holder, holderReturned: r.returned } : {}),
      newFindings: r.newFindings, overBudget: r.overBudget, expectedLines: r.expectedLines,
      ...(r.lost ? { lost: 'the mutated function was not found in the mutant\'s analysis' } : {}),
    })).join('\n') + (misses.length ? '\n' : ''));
    console.log(`misses ${misses.length} written to ${relative(process.cwd(), resolve(missesOut)) || missesOut}`);
  }
  if (jsonOut) {
    writeFileSync(jsonOut, JSON.stringify({
      dir, files: files.length, ops, sample: sample || null, seed, jobs, wallSeconds: wall,
      perOp: Object.fromEntries(ops.map((o) => [o, { ...perOp[o], sites: eligibleAll ? eligibleAll[o] : perOp[o].eligible, recall: perOp[o].eligible ? perOp[o].found / perOp[o].eligible : null }])),
      eligibleFunctions: eligibleFns, eligibleFunctionsOverBudget: eligibleFnsOverBudget,
      baseFindings: baseRules, baseFindingsPerOp: baseRulesPerOp, analyses, cache: cacheStats, peakRssMiB: peakRss / 2 ** 20, errors,
    }, null, 2) + '\n');
  }
  process.exit(errors.length ? 1 : 0);
}
