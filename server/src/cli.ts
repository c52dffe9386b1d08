/**
 * The command line (shared/DESIGN.md §2): a thin face over the engine.
 *
 *   iommu-lens check [--format text|json|sarif] [--config FILE] [--jobs N] [--cache DIR | --no-cache] PATH...
 *   iommu-lens run FILE[:FUNCTION] [--fail N] [--format text|json]
 *   iommu-lens lsp --stdio
 *
 * Exit status: 0 no findings, 1 findings, 2 bad usage or an input that could not be read (a
 * one-line reason; the other files are still analysed and reported).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runFunction, functionsOf, FileResult, Finding } from './engine/index';
import { checkFiles, defaultJobs, DiskCache, engineId, maybeRunAsWorker, readSource } from './batch';
import { Config, parseConfigText, DEFAULT_CONFIG, ConfigError } from './config';
import { toSarif } from './sarif';
import { formatRun } from './run-format';

class UsageError extends Error {}

const USAGE = `usage: iommu-lens check [--format text|json|sarif] [--config FILE] [--jobs N] [--cache DIR | --no-cache] PATH...
       iommu-lens run FILE[:FUNCTION] [--fail N] [--lines A-B] [--format text|json]
       iommu-lens lsp --stdio`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    process.stdout.write(USAGE + '\n');
    return cmd ? 0 : 2;
  }
  if (cmd === '--version' || cmd === '-V') {
    process.stdout.write(versionString() + '\n');
    return 0;
  }
  switch (cmd) {
    case 'check': return await check(rest);
    case 'run': return run(rest);
    case 'lsp': {
      if (rest.length && !rest.every((a) => a === '--stdio')) throw new UsageError(`lsp: unknown option ${rest.find((a) => a !== '--stdio')}`);
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      const { startServer } = require('./server') as typeof import('./server');
      startServer();
      return -1; // keep running
    }
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

interface Opts { format: string; config?: string; fail?: number; lines?: [number, number]; jobs?: number; cache?: string | false; rest: string[] }

function parseOpts(args: string[], allowed: string[]): Opts {
  const o: Opts = { format: 'text', rest: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? args[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    if (flag === '--format' && allowed.includes('format')) {
      o.format = value();
    } else if (flag === '--config' && allowed.includes('config')) {
      o.config = value();
    } else if (flag === '--jobs' && allowed.includes('jobs')) {
      const v = value();
      if (!/^[1-9]\d*$/.test(v)) throw new UsageError(`--jobs needs a positive number, not '${v}'`);
      o.jobs = Number(v);
    } else if (flag === '--cache' && allowed.includes('cache')) {
      o.cache = value();
    } else if (flag === '--no-cache' && allowed.includes('cache')) {
      o.cache = false;
    } else if (flag === '--fail' && allowed.includes('fail')) {
      const v = value();
      if (!/^\d+$/.test(v)) throw new UsageError(`--fail needs a non-negative number, not '${v}'`);
      o.fail = Number(v);
    } else if (flag === '--lines' && allowed.includes('lines')) {
      const v = value();
      const m = /^(\d+)(?:-(\d+))?$/.exec(v);
      if (!m || Number(m[1]) < 1 || (m[2] !== undefined && Number(m[2]) < Number(m[1]))) throw new UsageError(`--lines needs A-B (1-based, A <= B), not '${v}'`);
      o.lines = [Number(m[1]), Number(m[2] ?? m[1])];
    } else if (a.startsWith('-') && a !== '-') {
      throw new UsageError(`unknown option '${a}'`);
    } else o.rest.push(a);
  }
  return o;
}

function loadConfig(explicit: string | undefined, near: string[]): { config: Config; errors: (ConfigError & { file: string })[]; file?: string } {
  let file = explicit;
  if (!file) {
    const starts = [process.cwd(), ...near.map((p) => path.resolve(p))];
    outer: for (const s of starts) {
      let d = fs.existsSync(s) && fs.statSync(s).isDirectory() ? s : path.dirname(s);
      for (;;) {
        const c = path.join(d, '.iommu-lens.json');
        if (fs.existsSync(c)) { file = c; break outer; }
        const up = path.dirname(d);
        if (up === d) break;
        d = up;
      }
    }
  }
  if (!file) return { config: DEFAULT_CONFIG, errors: [] };
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read config ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const r = parseConfigText(text);
  return { config: r.config, errors: r.errors.map((e) => ({ ...e, file })), file };
}

/**
 * Files to analyse: .c/.h files, folders searched recursively. A name that cannot be read is
 * reported and left out (`bad`); the rest is still analysed.
 */
function collect(paths: string[]): { files: string[]; bad: number } {
  const out: string[] = [];
  let bad = 0;
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      process.stderr.write(`iommu-lens: cannot read ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}\n`);
      bad++;
      continue;
    }
    if (st.isDirectory()) {
      const before = out.length;
      try {
        walk(p, out);
      } catch (e) {
        process.stderr.write(`iommu-lens: ${(e as Error).message}\n`);
        bad++;
        continue;
      }
      if (out.length === before) { process.stderr.write(`iommu-lens: no .c or .h files under ${p}\n`); bad++; }
    } else out.push(p);
  }
  return { files: out, bad };
}

function walk(dir: string, out: string[]): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    throw new UsageError(`cannot read ${dir}: ${(e as Error).message}`);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.[ch]$/.test(e.name)) out.push(p);
  }
}


async function check(args: string[]): Promise<number> {
  const o = parseOpts(args, ['format', 'config', 'jobs', 'cache']);
  if (!['text', 'json', 'sarif'].includes(o.format)) throw new UsageError(`--format must be text, json or sarif, not '${o.format}'`);
  if (o.rest.length === 0) throw new UsageError('check needs at least one file or folder');
  const { config, errors, file: configFile } = loadConfig(o.config, o.rest);
  const { files, bad } = collect(o.rest);
  if (files.length === 0) return 2; // each name said why already
  for (const e of errors) process.stderr.write(`${e.file}:1:1: warning: ${e.path}: ${e.message}; using the default [config]\n`);
  const stats = o.format === 'json';
  // The results cache: under the workspace (the folder of the settings file, else the current
  // one) unless told otherwise.
  const cacheDir = o.cache === false ? undefined
    : o.cache ?? path.join(configFile ? path.dirname(configFile) : process.cwd(), '.iommu-lens', 'cache');
  const cache = cacheDir ? new DiskCache(cacheDir, engineId(versionString()), config, stats) : undefined;
  const results: FileResult[] = [];
  let unreadable = bad, counted = 0, apiFunctions = 0;
  await checkFiles(files, { config, stats, jobs: o.jobs ?? defaultJobs(), cache, script: __filename }, (x) => {
    if (!('result' in x)) {
      process.stderr.write(`iommu-lens: skipping ${x.file}: ${x.skip}\n`);
      if (x.unreadable) unreadable++;
      return;
    }
    const r = x.result;
    const all = [...r.fileFindings, ...r.functions.flatMap((fn) => fn.findings)];
    counted += all.filter((f) => f.rule !== 'budget').length;
    apiFunctions += r.functions.filter((f) => f.usesApi).length;
    if (o.format === 'text') for (const f of all) process.stdout.write(textLine(r.uri, f) + '\n');
    else results.push(r);
  });
  if (o.format === 'json') {
    process.stdout.write(JSON.stringify(results.map(forJson), null, 1) + '\n');
  } else if (o.format === 'sarif') {
    process.stdout.write(JSON.stringify(toSarif(results, versionString()), null, 1) + '\n');
  } else {
    const cached = cache && cache.report.hits ? ` (${cache.report.hits} file(s) from the cache)` : '';
    process.stderr.write(`${files.length} file(s), ${apiFunctions} function(s) using the DMA/IOMMU API analysed, ${counted} finding(s)${cached}\n`);
  }
  if (cache?.report.unwritable) process.stderr.write(`iommu-lens: cache ${cacheDir} cannot be written (${cache.report.unwritable}); results were not cached\n`);
  if (cache?.report.corrupt) process.stderr.write(`iommu-lens: ${cache.report.corrupt} unreadable cache entr${cache.report.corrupt === 1 ? 'y' : 'ies'} in ${cacheDir} analysed again and replaced\n`);
  return unreadable ? 2 : counted ? 1 : 0;
}

function textLine(file: string, f: Finding): string {
  const sev = f.severity === 'information' ? 'note' : f.severity;
  return `${file}:${f.range.start.line + 1}:${f.range.start.character + 1}: ${sev}: ${f.message} [${f.rule}]`;
}

/** JSON output: findings carry the path that shows them; the full path list is left out. */
function forJson(r: FileResult): FileResult {
  return {
    ...r,
    functions: r.functions.filter((f) => f.usesApi).map((f) => ({
      ...f,
      findings: f.findings.map((x) => ({ ...x, path: x.pathIndex !== undefined ? f.paths[x.pathIndex] : undefined })),
      paths: [],
      pathCount: f.pathCount ?? f.paths.length,
    } as typeof f)),
    // no timing: two runs over the same tree print the same bytes
    parse: { errorNodes: r.parse.errorNodes, apiCallsInErrors: r.parse.apiCallsInErrors, apiCalls: r.parse.apiCalls } as FileResult['parse'],
  };
}

function run(args: string[]): number {
  const o = parseOpts(args, ['format', 'fail', 'config', 'lines']);
  if (!['text', 'json'].includes(o.format)) throw new UsageError(`--format must be text or json, not '${o.format}'`);
  if (o.rest.length !== 1) throw new UsageError('run needs exactly one FILE[:FUNCTION]');
  const m = /^(.*?)(?::([A-Za-z_]\w*))?$/.exec(o.rest[0])!;
  const file = m[1];
  const read = readSource(file);
  if ('skip' in read) throw new UsageError(read.unreadable ? `cannot read ${file}: ${read.skip}` : `cannot run ${file}: ${read.skip}`);
  const src = read.text;
  const { config } = loadConfig(o.config, [file]);
  const fns = functionsOf(src);
  let name = m[2];
  if (!name) {
    const first = fns.find((f) => f.apiCalls.length > 0);
    if (!first) throw new UsageError(`${file}: no function calls the DMA/IOMMU API`);
    name = first.name;
  } else if (!fns.some((f) => f.name === name)) {
    throw new UsageError(`${file}: no function named ${name}`);
  }
  const selection = o.lines ? { start: { line: o.lines[0] - 1, character: 0 }, end: { line: o.lines[1] - 1, character: 0 } } : undefined;
  const fn = fns.find((f) => f.name === name)!;
  if (selection && (selection.start.line < fn.range.start.line || selection.end.line > fn.range.end.line)) {
    throw new UsageError(`--lines ${o.lines![0]}-${o.lines![1]} is not inside ${name}() (lines ${fn.range.start.line + 1}-${fn.range.end.line + 1})`);
  }
  const r = runFunction(src, name, { config, failAt: o.fail ?? null, selection });
  if (!r) throw new UsageError(`${file}: no function named ${name}`);
  if (o.format === 'json') process.stdout.write(JSON.stringify(r, null, 1) + '\n');
  else process.stdout.write(formatRun(file, r, o.fail ?? null, selection));
  return 0;
}

function versionString(): string {
  try {
    // dist/cli.js -> ../package.json; out/server/src/cli.js -> ../../../package.json
    for (const rel of ['../package.json', '../../../package.json']) {
      const p = path.join(__dirname, rel);
      if (fs.existsSync(p)) return 'iommu-lens ' + JSON.parse(fs.readFileSync(p, 'utf8')).version;
    }
  } catch { /* fall through */ }
  return 'iommu-lens';
}

if (maybeRunAsWorker()) {
  // a worker thread of `check`: it answers the main thread's messages
} else if (require.main === module || process.env.IOMMU_LENS_CLI === '1' || /iommu-lens(\.js)?$|cli\.js$/.test(process.argv[1] ?? '')) {
  main(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exitCode = code;
  }, (e) => {
    process.stderr.write(e instanceof UsageError ? `iommu-lens: ${e.message}\n` : `iommu-lens: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 2;
  });
}

export { main };
