#!/usr/bin/env node
// Runs IOMMU Lens over the kernel corpus that scripts/kernel-source.sh extracts.
//
//   node scripts/corpus.mjs [--dir DIR] [--limit N]                 # the CLI over every file
//        [--jobs 2] [--processes 1] [--chunk N] [--cache DIR] [--timeout 300] [--json OUT] [--findings OUT.jsonl]
//   node scripts/corpus.mjs --parse-stats [--dir DIR] [--limit N] [--lost OUT.jsonl]
//
// --parse-stats needs `npx tsc -b server` (it loads out/server/src/parse/*.js); the default mode
// needs `npm run build` (bin/iommu-lens.js loads dist/cli.js). Nothing here is committed output.
// --findings writes one JSON line per finding (budget notes left out): {file (relative to DIR),
// function, rule, line, col (1-based), message, related: [{line, message}]}, sorted by file, line,
// rule (then col, message), so that two runs diff cleanly: `diff <(...a.jsonl) <(...b.jsonl)`.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import vm from 'node:vm';

// Trees live in native memory that V8 does not count, and Node runs N-API finalizers only on a
// later turn of the event loop: a synchronous loop over the corpus grows past 15 GB. So collect
// now and then, and let the loop turn (await maybeGc()).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
let parsedSinceGc = 0;
const maybeGc = async () => {
  if (++parsedSinceGc < 40) return;
  parsedSinceGc = 0;
  gc();
  await new Promise((r) => setImmediate(r));
};

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.includes(name);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const dir = resolve(opt('--dir', process.env.IOMMU_LENS_CORPUS || '/var/tmp/iommu-lens-corpus'));
const limit = Number(opt('--limit', '0'));

/** Every .c file under `d`, sorted, so runs are comparable. */
function walk(d, out = []) {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile() && e.name.endsWith('.c')) out.push(p);
  }
  return out;
}

if (!existsSync(dir)) {
  console.error(`corpus: ${dir} does not exist; run scripts/kernel-source.sh first`);
  process.exit(2);
}
let files = walk(dir).sort();
if (limit > 0) files = files.slice(0, limit);

if (flag('--parse-stats')) await parseStats();
else await runCli();

// ---------------------------------------------------------------------------------------------
// --parse-stats: what the front end loses, before and after the sanitizer.

async function parseStats() {
  const require = createRequire(import.meta.url);
  const out = join(root, 'out/server/src/parse');
  if (!existsSync(join(out, 'stats.js'))) {
    console.error('corpus: out/server/src/parse/stats.js missing; run `npx tsc -b server` first');
    process.exit(2);
  }
  const { parseC } = require(join(out, 'parser.js'));
  const { sanitize, SANITIZE_RULES } = require(join(out, 'sanitize.js'));
  const stats = require(join(out, 'stats.js'));
  if (flag('--ablate')) return ablate(parseC, stats, SANITIZE_RULES);
  const rulesOpt = opt('--rules', '');
  const rules = rulesOpt ? new Set(rulesOpt.split(',')) : undefined;
  const lostOut = opt('--lost', '');
  const lostLines = [];
  const zero = () => ({
    apiCalls: 0, lostInError: 0, lostNoFunction: 0, lostNotCall: 0, damagedStatement: 0,
    damagedLoop: 0, apiFunctions: 0,
    apiFunctionsWithErrors: 0, apiFunctionsWithOtherErrors: 0, unrecognisedFunctions: 0, errorNodes: 0,
  });
  let before = zero(), after = zero(), lines = 0, bytes = 0;
  let msBefore = 0, msAfter = 0, msSanitize = 0;
  const t0 = performance.now();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    lines += text.split('\n').length;
    bytes += text.length;
    const rel = relative(dir, f);
    for (const pass of ['before', 'after']) {
      const sites = [];
      let t = performance.now();
      if (pass === 'after') {
        sanitize(text, rules);
        msSanitize += performance.now() - t;
        t = performance.now();
      }
      await maybeGc();
      const tree = parseC(text, undefined, { sanitize: pass === 'after', rules });
      const ms = performance.now() - t;
      const s = stats.parseStats(tree, text, sites);
      if (pass === 'before') { before = stats.addStats(before, s); msBefore += ms; }
      else { after = stats.addStats(after, s); msAfter += ms; }
      if (lostOut) {
        for (const site of sites) {
          if (!site.lost && !site.damaged) continue;
          const line = text.slice(0, site.index).split('\n').length;
          lostLines.push(JSON.stringify({ pass, file: rel, line, name: site.name, reason: site.lost ?? site.damaged }));
        }
      }
    }
  }
  const wall = performance.now() - t0;
  const lost = (s) => s.lostInError + s.lostNoFunction + s.lostNotCall;
  const damaged = (s) => s.damagedStatement;
  const row = (label, k) => `${label.padEnd(44)} ${String(before[k]).padStart(8)} ${String(after[k]).padStart(8)}`;
  console.log(`corpus: ${files.length} files, ${lines} lines, ${(bytes / 1e6).toFixed(1)} MB in ${dir}`);
  console.log(`${''.padEnd(44)} ${'before'.padStart(8)} ${'after'.padStart(8)}`);
  console.log(row('API call sites (lexical)', 'apiCalls'));
  console.log(`${'API calls lost'.padEnd(44)} ${String(lost(before)).padStart(8)} ${String(lost(after)).padStart(8)}`);
  console.log(row('  inside an ERROR node', 'lostInError'));
  console.log(row('  in no function_definition (no error)', 'lostNoFunction'));
  console.log(row('  not parsed as a call_expression', 'lostNotCall'));
  console.log(`${'API calls seen but damaged'.padEnd(44)} ${String(damaged(before)).padStart(8)} ${String(damaged(after)).padStart(8)}`);
  console.log(row('  own statement has an ERROR/MISSING node', 'damagedStatement'));
  console.log(row('in loop macro bodies (call + block, lowered)', 'damagedLoop'));
  console.log(`${'API calls lost or damaged'.padEnd(44)} ${String(lost(before) + damaged(before)).padStart(8)} ${String(lost(after) + damaged(after)).padStart(8)}`);
  console.log(row('functions calling the API', 'apiFunctions'));
  console.log(row('  with ERROR/MISSING nodes', 'apiFunctionsWithErrors'));
  console.log(row('  ... other than a loop macro\'s MISSING ;', 'apiFunctionsWithOtherErrors'));
  console.log(row('unrecognised functions holding lost calls', 'unrecognisedFunctions'));
  console.log(row('ERROR/MISSING nodes in all files', 'errorNodes'));
  const cut = (a, b) => (a ? (100 * (1 - b / a)).toFixed(1) : '0') + '%';
  console.log(`cut: lost ${cut(lost(before), lost(after))}, lost or damaged ` +
    `${cut(lost(before) + damaged(before), lost(after) + damaged(after))}, functions with errors ` +
    `${cut(before.apiFunctionsWithErrors, after.apiFunctionsWithErrors)}`);
  console.log(`parse ${(msBefore / 1000).toFixed(2)} s raw, ${(msAfter / 1000).toFixed(2)} s sanitized ` +
    `(of which sanitize ${(msSanitize / 1000).toFixed(2)} s); wall ${(wall / 1000).toFixed(1)} s`);
  if (lostOut) writeFileSync(lostOut, lostLines.join('\n') + '\n');
}

/** For each sanitizer rule: the figures with all rules, and with all but that one. */
async function ablate(parseC, stats, allRules) {
  const texts = files.map((f) => readFileSync(f, 'utf8'));
  const measure = async (rules) => {
    let sum = null;
    for (const text of texts) {
      await maybeGc();
      const tree = parseC(text, undefined, rules ? { rules } : { sanitize: false });
      const s = stats.parseStats(tree, text);
      sum = sum ? stats.addStats(sum, s) : s;
    }
    return sum;
  };
  const show = (label, s) => console.log(`${label.padEnd(22)} lost ${String(s.lostInError + s.lostNoFunction + s.lostNotCall).padStart(5)}` +
    `  damaged ${String(s.damagedStatement).padStart(5)}  fns-with-errors ${String(s.apiFunctionsWithErrors).padStart(5)}` +
    `  other-errors ${String(s.apiFunctionsWithOtherErrors).padStart(5)}  error-nodes ${String(s.errorNodes).padStart(6)}` +
    `  api-fns ${s.apiFunctions}`);
  show('none', await measure(null));
  show('all', await measure(new Set(allRules)));
  for (const r of allRules) show(`all but ${r}`, await measure(new Set(allRules.filter((x) => x !== r))));
  for (const r of allRules) show(`only ${r}`, await measure(new Set([r])));
}

// ---------------------------------------------------------------------------------------------
// Default: the CLI over the corpus, in worker processes over chunks of files.

async function runCli() {
  const bin = join(root, 'bin/iommu-lens.js');
  if (!existsSync(join(root, 'dist/cli.js'))) {
    console.error('corpus: dist/cli.js missing; run `npm run build` first');
    process.exit(2);
  }
  // --jobs: the CLI's worker threads; --processes CLI processes over --chunk files each (default:
  // one process over every file, as a user runs it; `--cache DIR` to use a results cache).
  const jobs = Math.max(1, Number(opt('--jobs', '2')));
  const processes = Math.max(1, Number(opt('--processes', '1')));
  const chunkSize = Math.max(1, Number(opt('--chunk', String(Math.ceil(files.length / processes)))));
  const cacheArgs = opt('--cache', '') ? ['--cache', opt('--cache', '')] : ['--no-cache'];
  const timeoutS = Number(opt('--timeout', '300'));
  const jsonOut = opt('--json', '');
  const findingsOut = opt('--findings', '');
  const findingRows = [];
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  const chunks = [];
  for (let i = 0; i < files.length; i += chunkSize) chunks.push(files.slice(i, i + chunkSize));

  const sum = {
    files: 0, functions: 0, apiFunctions: 0, overBudget: 0, overBudgetFunctions: [], findings: {}, crashes: [], timeouts: [],
    parse: { errorNodes: 0, apiCallsInErrors: 0, apiCalls: 0, millis: 0 }, peakRssKb: 0,
  };
  const slowest = [];
  const t0 = performance.now();
  let next = 0, done = 0;

  /** One worker process over one chunk; resolves with what it printed and how it ended. */
  const runChunk = (chunk) => new Promise((resolvePromise) => {
    const argv = [bin, 'check', '--format', 'json', '--jobs', String(jobs), ...cacheArgs, ...chunk];
    const cmd = timeBin ? timeBin : process.execPath;
    const args = timeBin ? ['-v', process.execPath, ...argv] : argv;
    const started = performance.now();
    // its own process group, so that a timeout ends /usr/bin/time and the CLI under it together
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const out = [], err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    let timedOut = false;
    const timer = timeoutS > 0 ? setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid, 'SIGKILL'); } catch { child.kill('SIGKILL'); }
    }, timeoutS * 1000) : null;
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolvePromise({
        chunk, code, signal, timedOut, ms: performance.now() - started,
        stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });

  const absorb = (r) => {
    // /usr/bin/time -v reports the child's peak RSS on stderr; its own exit status is the child's
    const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
    if (rss) sum.peakRssKb = Math.max(sum.peakRssKb, Number(rss[1]));
    const exitM = /Exit status: (\d+)/.exec(r.stderr);
    const code = r.code ?? (exitM ? Number(exitM[1]) : null);
    const names = r.chunk.map((f) => relative(dir, f));
    if (r.timedOut) { sum.timeouts.push({ files: names, seconds: Math.round(r.ms / 1000) }); return; }
    if (code !== 0 && code !== 1) {
      const reason = r.stderr.split('\n').filter((l) => l && !/^\t|Command being timed/.test(l)).slice(0, 3).join(' | ');
      sum.crashes.push({ files: names, exit: code ?? r.signal, reason });
      return;
    }
    let results;
    try {
      results = JSON.parse(r.stdout);
    } catch (e) {
      sum.crashes.push({ files: names, exit: code, reason: `unparsable JSON: ${e.message}` });
      return;
    }
    for (const fr of results) {
      sum.files++;
      for (const k of Object.keys(sum.parse)) sum.parse[k] += fr.parse?.[k] ?? 0;
      for (const fn of fr.functions) {
        sum.functions++;
        if (fn.usesApi) sum.apiFunctions++;
        if (fn.overBudget) {
          sum.overBudget++;
          sum.overBudgetFunctions.push({ file: relative(dir, resolve(root, fr.uri)), function: fn.name, why: fn.overBudget });
        }
        for (const f of fn.findings) sum.findings[f.rule] = (sum.findings[f.rule] ?? 0) + 1;
        if (findingsOut) for (const f of fn.findings) keepFinding(fr.uri, fn.name, f);
      }
      for (const f of fr.fileFindings) sum.findings[f.rule] = (sum.findings[f.rule] ?? 0) + 1;
      if (findingsOut) for (const f of fr.fileFindings) keepFinding(fr.uri, f.function ?? '', f);
    }
    slowest.push({ files: names.length === 1 ? names[0] : `${names[0]} (+${names.length - 1})`, ms: r.ms });
  };

  /** One --findings row; the CLI names files as it was given them (absolute, under `dir`). */
  function keepFinding(uri, fnName, f) {
    if (f.rule === 'budget') return;
    findingRows.push({
      file: relative(dir, resolve(root, uri)), function: f.function || fnName, rule: f.rule,
      line: f.range.start.line + 1, col: f.range.start.character + 1, message: f.message,
      related: (f.related ?? []).map((r) => ({ line: r.range.start.line + 1, message: r.message })),
    });
  }

  const worker = async () => {
    while (next < chunks.length) {
      const r = await runChunk(chunks[next++]);
      absorb(r);
      done++;
      if (process.stderr.isTTY) process.stderr.write(`\r${done}/${chunks.length} chunks`);
    }
  };
  await Promise.all(Array.from({ length: Math.min(processes, chunks.length) }, worker));
  if (process.stderr.isTTY) process.stderr.write('\n');
  const wall = (performance.now() - t0) / 1000;
  if (!timeBin) {
    // Without /usr/bin/time (Debian package `time`) only the children's total is known.
    sum.peakRssKb = Math.max(sum.peakRssKb, process.resourceUsage().maxRSS);
  }

  slowest.sort((a, b) => b.ms - a.ms);
  console.log(`corpus: ${files.length} files in ${dir}, ${chunks.length} CLI process(es) over ${chunkSize} files, --jobs ${jobs}`);
  console.log(`files analysed            ${sum.files}`);
  console.log(`functions analysed        ${sum.functions} (${sum.apiFunctions} use the API)`);
  console.log(`functions over budget     ${sum.overBudget}`);
  console.log(`findings per rule         ${Object.entries(sum.findings).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  console.log(`API calls                 ${sum.parse.apiCalls} (${sum.parse.apiCallsInErrors} in functions' error nodes), ${sum.parse.errorNodes} error nodes`);
  console.log(`crashes (exit not 0/1)    ${sum.crashes.length}${sum.crashes.length ? ': ' + sum.crashes.slice(0, 5).map((c) => `${c.files[0]}${c.files.length > 1 ? ` (+${c.files.length - 1})` : ''} exit ${c.exit}: ${c.reason}`).join('; ') : ''}`);
  console.log(`timeouts (${timeoutS} s)         ${sum.timeouts.length}${sum.timeouts.length ? ': ' + sum.timeouts.slice(0, 5).map((t) => t.files[0]).join(', ') : ''}`);
  console.log(`wall time                 ${wall.toFixed(1)} s`);
  console.log(`peak RSS                  ${(sum.peakRssKb / 1024).toFixed(0)} MiB ${timeBin ? '(largest CLI process, all its threads, /usr/bin/time -v)' : '(max of this process, resourceUsage)'}`);
  console.log(`slowest chunks            ${slowest.slice(0, 3).map((s) => `${s.files} ${(s.ms / 1000).toFixed(1)} s`).join('; ')}`);
  sum.overBudgetFunctions.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.function < b.function ? -1 : a.function > b.function ? 1 : 0));
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify({ ...sum, wallSeconds: wall, slowest: slowest.slice(0, 20) }, null, 2) + '\n');
  if (findingsOut) {
    const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
    findingRows.sort((a, b) => cmp(a.file, b.file) || a.line - b.line || cmp(a.rule, b.rule)
      || a.col - b.col || cmp(a.function, b.function) || cmp(a.message, b.message));
    writeFileSync(findingsOut, findingRows.map((r) => JSON.stringify(r)).join('\n') + (findingRows.length ? '\n' : ''));
    console.log(`findings written          ${findingRows.length} to ${findingsOut}`);
  }
  process.exit(sum.crashes.length || sum.timeouts.length ? 1 : 0);
}
