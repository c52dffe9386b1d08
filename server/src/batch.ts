/**
 * Checking many files at once (the CLI's `check`, docs/performance.md): worker threads over the
 * files, one file at a time per worker, each result sent back compact (the paths its findings
 * show, nothing else) and handed on in the order the files were given; and the results cache on
 * disk, keyed by the file's text, the settings and the engine itself.
 *
 * Nothing large is shared: a worker reads its file, parses and analyses it, and keeps nothing of
 * it. Knows nothing of VS Code or LSP.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { analyzeText, FileResult, FunctionResult } from './engine/index';
import type { Config } from './config';

/** Reads a source file: its text, or why it is skipped. Never throws. */
export function readSource(file: string): { text: string } | { skip: string; unreadable?: boolean } {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { skip: code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : code ?? (e as Error).message, unreadable: true };
  }
  if (buf.subarray(0, 8000).includes(0)) return { skip: 'binary file' };
  return { text: buf.toString('utf8') };
}

/**
 * A result as the CLI keeps it: functions that use the API, each with only the paths its
 * findings refer to (re-indexed) and the count of paths explored.
 */
export function compact(r: FileResult): FileResult {
  const functions = r.functions.filter((f) => f.usesApi).map((f): FunctionResult => {
    const used = [...new Set(f.findings.map((x) => x.pathIndex).filter((i): i is number => i !== undefined))].sort((a, b) => a - b);
    const at = new Map(used.map((old, i) => [old, i]));
    return {
      ...f, paths: used.map((i) => f.paths[i]), pathCount: f.pathCount ?? f.paths.length,
      findings: f.findings.map((x) => (x.pathIndex === undefined ? x : { ...x, pathIndex: at.get(x.pathIndex) })),
    };
  });
  return { ...r, functions };
}

// ---------------------------------------------------------------------------------------------
// The cache on disk.

const CACHE_FORMAT = 1;

/** What the engine's results depend on besides the input: its own code and the parser's. */
let engineIdMemo: string | undefined;
export function engineId(version: string): string {
  if (engineIdMemo) return engineIdMemo;
  const h = createHash('sha256').update(`${CACHE_FORMAT}|${version}|${process.versions.node}`);
  // Every module loaded so far: the bundle (or out/), tree-sitter and its C grammar.
  for (const f of Object.keys(require.cache).sort()) {
    try { h.update(f).update(fs.readFileSync(f)); } catch { h.update(f); }
  }
  return (engineIdMemo = h.digest('hex').slice(0, 16));
}

export interface CacheReport { hits: number; misses: number; corrupt: number; unwritable?: string }

/**
 * Results by file text under DIR/<engine id>/<2 hex>/<key>.json. Entries are written to a
 * temporary name and renamed into place, so concurrent runs never read half an entry; an entry
 * that does not parse, or is not for its key, is analysed again and replaced. A directory that
 * cannot be written is reported once and the run goes on without it.
 */
export class DiskCache {
  readonly report: CacheReport = { hits: 0, misses: 0, corrupt: 0 };
  private readonly root: string;
  private readonly salt: string;

  constructor(readonly dir: string, engine: string, config: Config, stats: boolean) {
    this.root = path.join(dir, engine);
    this.salt = createHash('sha256').update(JSON.stringify(config)).update(stats ? 'stats' : '').digest('hex');
    this.prune(engine);
  }

  /**
   * Every engine build gets a directory of its own; one no run has used for a week (its `.used`
   * mark, touched by each run) is removed, so rebuilds do not pile up. Never throws.
   */
  private prune(engine: string): void {
    const weekAgo = Date.now() - 7 * 24 * 3600 * 1000;
    try {
      fs.mkdirSync(this.root, { recursive: true });
      fs.writeFileSync(path.join(this.root, '.used'), '');
      for (const e of fs.readdirSync(this.dir, { withFileTypes: true })) {
        if (!e.isDirectory() || e.name === engine || !/^[0-9a-f]{16}$/.test(e.name)) continue;
        const mark = path.join(this.dir, e.name, '.used');
        const used = fs.existsSync(mark) ? fs.statSync(mark).mtimeMs : 0;
        if (used < weekAgo) fs.rmSync(path.join(this.dir, e.name), { recursive: true, force: true });
      }
    } catch {
      // an unwritable directory is reported by the first set()
    }
  }

  key(text: string): string {
    return createHash('sha256').update(this.salt).update('\0').update(text).digest('hex');
  }

  private file(key: string): string {
    return path.join(this.root, key.slice(0, 2), key.slice(2) + '.json');
  }

  get(key: string, uri: string): FileResult | undefined {
    let raw: string;
    try {
      raw = fs.readFileSync(this.file(key), 'utf8');
    } catch {
      this.report.misses++;
      return undefined;
    }
    try {
      const e = JSON.parse(raw) as { key?: string; result?: FileResult };
      if (e.key !== key || !e.result || !Array.isArray(e.result.functions) || !Array.isArray(e.result.fileFindings)) throw new Error('not an entry');
      this.report.hits++;
      return { ...e.result, uri };
    } catch {
      this.report.corrupt++;
      this.report.misses++;
      return undefined;
    }
  }

  set(key: string, result: FileResult): void {
    if (this.report.unwritable) return;
    const dest = this.file(key);
    const tmp = `${dest}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.writeFileSync(tmp, JSON.stringify({ key, result: { ...result, uri: '' } }));
      fs.renameSync(tmp, dest);
    } catch (e) {
      this.report.unwritable = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      try { fs.rmSync(tmp, { force: true }); } catch { /* nothing to clean */ }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The workers.

interface Job { id: number; file: string }
interface Done { id: number; outcome?: FileOutcome; error?: string }

const WORKER_FLAG = 'iommuLensCheckWorker';
/**
 * A worker's old-generation heap, in MB. V8 otherwise grows each heap far past what a file needs
 * before it collects (the corpus: 670 MB for two workers unbounded, 377 MB bounded, 7% slower).
 * A file that needs more (a 50 MB source) runs out in its worker and is analysed again, unbounded,
 * in the main thread.
 */
const WORKER_HEAP_MB = 256;

/** Inside a worker thread started by checkFiles(): analyse what the main thread sends. */
export function maybeRunAsWorker(): boolean {
  if (isMainThread || !parentPort || !(workerData && workerData[WORKER_FLAG])) return false;
  const { config, stats } = workerData as { config: Config; stats: boolean };
  const port = parentPort;
  port.on('message', (job: Job) => {
    const done: Done = { id: job.id };
    try {
      done.outcome = analyseFile(job.file, config, stats);
    } catch (e) {
      done.error = `internal error: ${(e as Error).message}`;
    }
    port.postMessage(done);
  });
  return true;
}

export interface CheckOptions {
  config: Config;
  stats: boolean;
  /** Worker threads; 1 analyses in this thread. */
  jobs: number;
  cache?: DiskCache;
  /** The entry script, started again in each worker (the bundle or out/.../cli.js). */
  script: string;
}

export type FileOutcome = { file: string; result: FileResult } | { file: string; skip: string; unreadable?: boolean };

/** One file read and analysed, or why it was skipped: the same in a worker and in this thread. */
function analyseFile(file: string, config: Config, stats: boolean): FileOutcome {
  const src = readSource(file);
  if ('skip' in src) return { file, ...src };
  return { file, result: compact(analyzeText(src.text, file, { config, stats })) };
}

/**
 * Analyses `files`, calling `emit` once per file in the order given (as soon as every earlier
 * file is done). Files whose text the cache knows are not analysed again.
 */
export async function checkFiles(files: string[], o: CheckOptions, emit: (x: FileOutcome) => void): Promise<void> {
  const outcomes: (FileOutcome | undefined)[] = new Array(files.length);
  const keys: (string | undefined)[] = new Array(files.length);
  let emitted = 0;
  const flush = () => {
    while (emitted < files.length && outcomes[emitted]) {
      emit(outcomes[emitted]!);
      outcomes[emitted] = undefined; // handed on: nothing kept here
      emitted++;
    }
  };
  const finish = (i: number, x: FileOutcome) => {
    if ('result' in x && o.cache && keys[i]) o.cache.set(keys[i]!, x.result);
    outcomes[i] = x;
    flush();
  };
  // First the cache: what it holds needs no worker. Texts are not kept; a worker reads its file.
  const todo: number[] = [];
  for (const [i, file] of files.entries()) {
    if (!o.cache) { todo.push(i); continue; }
    const src = readSource(file);
    if ('skip' in src) { outcomes[i] = { file, ...src }; continue; }
    keys[i] = o.cache.key(src.text);
    const hit = o.cache.get(keys[i]!, file);
    if (hit) outcomes[i] = { file, result: hit };
    else todo.push(i);
  }
  flush();
  const analyseHere = (i: number) => finish(i, analyseFile(files[i], o.config, o.stats));
  const jobs = Math.max(1, Math.min(o.jobs, todo.length));
  if (jobs === 1 || todo.length < 3) {
    for (const [k, i] of todo.entries()) {
      // Let the native parse trees of earlier files be finalised (a later turn of the loop).
      if (k % 16 === 15) await new Promise((r) => setImmediate(r));
      analyseHere(i);
    }
    return;
  }
  const retry: { i: number; why: string }[] = [];
  await new Promise<void>((resolve) => {
    let next = 0, running = 0;
    const start = () => {
      const w = new Worker(o.script, { workerData: { [WORKER_FLAG]: true, config: o.config, stats: o.stats }, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } });
      let current: number | undefined;
      const give = () => {
        if (next >= todo.length) { current = undefined; void w.terminate(); return; }
        current = todo[next++];
        w.postMessage({ id: current, file: files[current] } satisfies Job);
      };
      w.on('message', (d: Done) => {
        finish(d.id, d.outcome ?? { file: files[d.id], result: internalError(files[d.id], d.error ?? 'no result') });
        give();
      });
      // A worker that dies (out of memory, a crash in the parser) loses only the file it held.
      let gone = false;
      const lost = (why: string) => {
        if (gone) return;
        gone = true;
        if (current !== undefined) retry.push({ i: current, why });
        current = undefined;
        running--;
        if (next < todo.length) start(); // a replacement for the rest
        else if (running === 0) resolve();
      };
      w.on('error', (e) => lost(`the analysis worker failed: ${e.message}`));
      w.on('exit', (code) => lost(`the analysis worker exited (${code})`));
      running++;
      give();
    };
    for (let k = 0; k < jobs; k++) start();
  });
  // What a worker could not finish (out of its heap, a crash): once more here, or a note.
  for (const { i, why } of retry) {
    try {
      analyseHere(i);
    } catch (e) {
      finish(i, { file: files[i], result: internalError(files[i], `${why}; then: ${(e as Error).message}`) });
    }
  }
}

function internalError(uri: string, why: string): FileResult {
  return {
    uri, functions: [], parse: { errorNodes: 0, apiCallsInErrors: 0, apiCalls: 0, millis: 0 },
    fileFindings: [{ rule: 'budget', severity: 'information', function: '', related: [],
      range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
      message: `IOMMU Lens could not analyse this file: ${why}` }],
  };
}

/** Worker threads by default: the cores this process may use. */
export function defaultJobs(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}
