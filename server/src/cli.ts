/**
 * The command line (shared/DESIGN.md §2): a thin face over the engine.
 *
 *   iommu-lens check [--format text|json|sarif] [--config FILE] PATH...
 *   iommu-lens run FILE[:FUNCTION] [--fail N] [--format text|json]
 *   iommu-lens lsp --stdio
 *
 * Exit status: 0 no findings, 1 findings, 2 bad usage or unreadable input (one-line reason).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeText, runFunction, functionsOf, FileResult, Finding, ResultCache } from './engine/index';
import { Config, parseConfigText, DEFAULT_CONFIG, ConfigError } from './config';
import { toSarif } from './sarif';
import { formatRun } from './run-format';

class UsageError extends Error {}

const USAGE = `usage: iommu-lens check [--format text|json|sarif] [--config FILE] PATH...
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

interface Opts { format: string; config?: string; fail?: number; lines?: [number, number]; rest: string[] }

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

function loadConfig(explicit: string | undefined, near: string[]): { config: Config; errors: (ConfigError & { file: string })[] } {
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
  return { config: r.config, errors: r.errors.map((e) => ({ ...e, file })) };
}

/** Files to analyse: .c/.h files, folders searched recursively. */
function collect(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      throw new UsageError(`cannot read ${p}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
    }
    if (st.isDirectory()) {
      const before = out.length;
      walk(p, out);
      if (out.length === before) throw new UsageError(`no .c or .h files under ${p}`);
    } else out.push(p);
  }
  return out;
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

function readSource(file: string): string | { skip: string } {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (buf.subarray(0, 8000).includes(0)) return { skip: 'binary file' };
  return buf.toString('utf8');
}

async function check(args: string[]): Promise<number> {
  const o = parseOpts(args, ['format', 'config']);
  if (!['text', 'json', 'sarif'].includes(o.format)) throw new UsageError(`--format must be text, json or sarif, not '${o.format}'`);
  if (o.rest.length === 0) throw new UsageError('check needs at least one file or folder');
  const { config, errors } = loadConfig(o.config, o.rest);
  const files = collect(o.rest);
  for (const e of errors) process.stderr.write(`${e.file}:1:1: warning: ${e.path}: ${e.message}; using the default [config]\n`);
  const cache = new ResultCache();
  const results: FileResult[] = [];
  for (const [i, f] of files.entries()) {
    // Let the native parse trees of earlier files be finalised (they are freed on a later turn
    // of the event loop); a long synchronous loop over a corpus would keep them all.
    if (i % 16 === 15) await new Promise((r) => setImmediate(r));
    const src = readSource(f);
    if (typeof src !== 'string') {
      process.stderr.write(`iommu-lens: skipping ${f}: ${src.skip}\n`);
      continue;
    }
    results.push(analyzeText(src, f, { config, cache, stats: o.format === 'json' }));
  }
  const all = results.flatMap((r) => [...r.fileFindings, ...r.functions.flatMap((fn) => fn.findings)].map((x) => ({ file: r.uri, f: x })));
  const counted = all.filter((x) => x.f.rule !== 'budget');
  if (o.format === 'json') {
    process.stdout.write(JSON.stringify(results.map(forJson), null, 1) + '\n');
  } else if (o.format === 'sarif') {
    process.stdout.write(JSON.stringify(toSarif(results, versionString()), null, 1) + '\n');
  } else {
    for (const { file, f } of all) process.stdout.write(textLine(file, f) + '\n');
    const n = counted.length;
    process.stderr.write(`${files.length} file(s), ${results.reduce((s, r) => s + r.functions.filter((f) => f.usesApi).length, 0)} function(s) using the DMA/IOMMU API analysed, ${n} finding(s)\n`);
  }
  return counted.length ? 1 : 0;
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
      pathCount: f.paths.length,
    } as typeof f)),
  };
}

function run(args: string[]): number {
  const o = parseOpts(args, ['format', 'fail', 'config', 'lines']);
  if (!['text', 'json'].includes(o.format)) throw new UsageError(`--format must be text or json, not '${o.format}'`);
  if (o.rest.length !== 1) throw new UsageError('run needs exactly one FILE[:FUNCTION]');
  const m = /^(.*?)(?::([A-Za-z_]\w*))?$/.exec(o.rest[0])!;
  const file = m[1];
  const src = readSource(file);
  if (typeof src !== 'string') throw new UsageError(`cannot run ${file}: ${src.skip}`);
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

if (require.main === module || process.env.IOMMU_LENS_CLI === '1' || /iommu-lens(\.js)?$|cli\.js$/.test(process.argv[1] ?? '')) {
  main(process.argv.slice(2)).then((code) => {
    if (code >= 0) process.exitCode = code;
  }, (e) => {
    process.stderr.write(e instanceof UsageError ? `iommu-lens: ${e.message}\n` : `iommu-lens: internal error: ${(e as Error).stack ?? e}\n`);
    process.exitCode = 2;
  });
}

export { main };
