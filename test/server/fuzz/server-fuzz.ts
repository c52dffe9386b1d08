/**
 * The language-server half of the fuzzer (shared by fuzz.test.ts and scripts/fuzz.mjs): a real
 * server process (dist/server.js --stdio) gets the generated inputs as an editor would send them
 * (didOpen, whole-text and incremental didChange, several edits in one notification, close and
 * reopen) over three documents, and after each one must still answer: code lenses (which wait for
 * the analysis of the current version), hover, the debug panel's functionPaths and Run Snippet.
 * Every fourth answer is compared with the engine's own result for the same text (the server's
 * incremental re-parse and cache must give what a fresh analysis gives). A hung or dead server
 * is a failure and is restarted for the inputs after it. At the end, a valid file gets exactly
 * the diagnostics its annotations expect, in a document that held garbage before and in a new one.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyzeText } from '../../../server/src/engine/index';
import { parseConfig } from '../../../server/src/config';
import { fileDiagnostics } from '../../../server/src/diagnostics';
import { FuzzInput, inputAt, loadSeeds, Rng, ROOT, GenerateOptions, inputSeed } from './generate';
import { diffChange, LspProcess, positionAt, Range } from './lsp-process';

export interface ServerFailure { index: number; kind: string; what: string; detail: string }

export interface ServerFuzzOptions {
  seed: number;
  count: number;
  from?: number;
  scale?: GenerateOptions['scale'];
  /** A request not answered in this long is a hang. */
  timeoutMs?: number;
  /** Stop after this many failures. */
  maxFailures?: number;
  timeLimitMs?: number;
  /** Inputs larger than this are cut (the editor would take them, but the test has a time budget). */
  maxChars?: number;
  onInput?(i: FuzzInput, ms: number): void;
}

export interface ServerReport {
  inputs: number;
  failures: ServerFailure[];
  /** Round-trip ms of the code lens request after each change. */
  ms: number[];
  compared: number;
  restarts: number;
  /** Final check: diagnostics of the valid file (line:rule), expected and received. */
  finalExpected: string[];
  finalGot: string[];
  finalFresh: string[];
  elapsedMs: number;
}

/** The server's analysis is compared with the engine's at these settings (the server's, with no delay). */
const SETTINGS = { diagnostics: { delayMs: 0 } };
const CONFIG = parseConfig(SETTINGS).config;

function key(d: { range: any; code?: unknown }): string {
  return `${d.range.start.line}:${d.range.start.character}:${String(d.code)}`;
}

/** `// expect: rule` annotations as 1-based "line:rule", sorted. */
export function expectedKeys(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((l, i) => {
    const m = /\/\/\s*expect:\s*([a-z-]+(?:\s*,\s*[a-z-]+)*)/.exec(l);
    if (m) for (const r of m[1].split(',')) out.push(`${i + 1}:${r.trim()}`);
  });
  return out.sort();
}

/** The offset of an LSP position in `text` (lines split at '\n', as the server splits them). */
function offsetAt(text: string, p: { line: number; character: number }): number {
  let start = 0;
  for (let line = 0; line < p.line; line++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return text.length;
    start = nl + 1;
  }
  const nl = text.indexOf('\n', start);
  return Math.min(start + p.character, nl < 0 ? text.length : nl + 1);
}

/** Apply an LSP change to `text` as the server does. */
function applyChange(text: string, c: { range: Range; text: string }): string {
  const a = offsetAt(text, c.range.start);
  const b = Math.max(a, offsetAt(text, c.range.end));
  return text.slice(0, a) + c.text + text.slice(b);
}

export async function runServerFuzz(o: ServerFuzzOptions): Promise<ServerReport> {
  const t0 = Date.now();
  const timeoutMs = o.timeoutMs ?? 30_000;
  const maxChars = o.maxChars ?? 200_000;
  const seeds = loadSeeds();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-fuzz-'));
  const uris = [0, 1, 2].map((k) => `file://${root}/doc${k}.c`);
  const failures: ServerFailure[] = [];
  const ms: number[] = [];
  let compared = 0;
  let restarts = 0;
  let inputs = 0;

  const start = async () => {
    const s = new LspProcess(SETTINGS);
    await s.initialize(root);
    return s;
  };
  let server = await start();
  let errorsSeen = 0;
  const texts = new Map<string, string>();
  const versions = new Map<string, number>();

  const fail = (i: FuzzInput, what: string, detail: string) => {
    failures.push({ index: i.index, kind: i.kind, what, detail });
  };
  const restart = async () => {
    await server.stop(2000);
    restarts++;
    texts.clear();
    versions.clear();
    server = await start();
    errorsSeen = 0;
  };

  try {
    const from = o.from ?? 0;
    for (let n = from; n < from + o.count; n++) {
      if (o.maxFailures !== undefined && failures.length >= o.maxFailures) break;
      if (o.timeLimitMs !== undefined && Date.now() - t0 > o.timeLimitMs) break;
      const input = inputAt(seeds, o.seed, n, { scale: o.scale ?? 'bounded' });
      const text = input.text.length > maxChars ? input.text.slice(0, maxChars) : input.text;
      const r = new Rng(inputSeed(o.seed ^ 0x5eed, n));
      const uri = uris[n % uris.length];
      const old = texts.get(uri);
      const v = (versions.get(uri) ?? 0) + 1;
      versions.set(uri, v);
      let mode: string;
      if (old === undefined) {
        mode = 'open';
        server.open(uri, text, v);
      } else {
        mode = r.pick(['replace', 'diff', 'diff', 'edits', 'reopen']);
        if (mode === 'replace') server.replace(uri, v, text);
        else if (mode === 'diff') server.change(uri, v, [diffChange(old, text)]);
        else if (mode === 'edits') {
          // Several edits in one notification, each against the text the previous one made (fast
          // typing): delete the old span, then insert the new text in pieces from its start.
          const d = diffChange(old, text);
          const startOff = offsetAt(old, d.range.start);
          const changes: { range: Range; text: string }[] = [{ range: d.range, text: '' }];
          let cur = applyChange(old, changes[0]);
          const pieces = r.range(2, 5);
          let at = 0;
          for (let k = 0; k < pieces; k++) {
            const len = k === pieces - 1 ? d.text.length - at : Math.floor(d.text.length / pieces);
            const pos = positionAt(cur, startOff + at);
            const c = { range: { start: pos, end: pos }, text: d.text.slice(at, at + len) };
            changes.push(c);
            cur = applyChange(cur, c);
            at += len;
          }
          if (cur !== text) throw new Error(`harness: the edits of input ${n} do not make its text`);
          server.change(uri, v, changes);
        } else {
          server.notify('textDocument/didClose', { textDocument: { uri } });
          server.open(uri, text, v);
        }
      }
      texts.set(uri, text);
      inputs++;
      const t1 = Date.now();
      try {
        const lenses = await server.request<{ command?: { arguments?: { functionName: string }[] } }[]>('textDocument/codeLens', { textDocument: { uri } }, timeoutMs);
        const took = Date.now() - t1;
        ms.push(took);
        o.onInput?.(input, took);
        if (n % 4 === 0 && text.length) {
          const p = positionAt(text, r.int(text.length + 1));
          await server.request('textDocument/hover', { textDocument: { uri }, position: p }, timeoutMs);
        }
        const fnName = lenses?.[0]?.command?.arguments?.[0]?.functionName;
        if (n % 8 === 0 && fnName) {
          await server.request('iommuLens/functionPaths', { uri, functionName: fnName }, timeoutMs);
          if (n % 16 === 0) await server.request('iommuLens/runSnippet', { uri, functionName: fnName, failAt: r.chance(0.5) ? null : 0 }, timeoutMs);
        }
        // The server's diagnostics are the engine's for the same text (skipped for heavy inputs,
        // and where the wall-clock guard, not the step budget, decided what was explored).
        if (n % 4 === 1 && took < 1000) {
          const mine = fileDiagnostics(analyzeText(text, uri, { config: CONFIG }), CONFIG);
          const theirs = server.diagnostics.get(uri)?.diagnostics ?? [];
          const wall = [...mine, ...theirs].some((d) => /wall-clock/.test(d.message));
          if (!wall) {
            compared++;
            const a = mine.map(key).sort().join(' '), b = theirs.map(key).sort().join(' ');
            if (a !== b) fail(input, `diagnostics differ from a fresh analysis (${mode})`, `engine: ${a.slice(0, 600)}\nserver: ${b.slice(0, 600)}`);
          }
        }
      } catch (e) {
        fail(input, `request failed after ${mode}`, String((e as Error).message));
        await restart();
        continue;
      }
      if (!server.alive) {
        fail(input, 'server exited', `${JSON.stringify(server.exit)}; stderr: ${server.stderr.slice(-2000)}`);
        await restart();
        continue;
      }
      if (server.errors.length > errorsSeen) {
        fail(input, 'server logged an error', server.errors.slice(errorsSeen).join('\n').slice(0, 3000));
        errorsSeen = server.errors.length;
      }
    }

    // After the garbage: a valid file in a document that held garbage, and in a new document.
    const validFile = path.join(ROOT, 'examples', 'net-rx-ring.c');
    const valid = fs.readFileSync(validFile, 'utf8');
    const finalExpected = expectedKeys(valid);
    const lineRules = (uri: string) => (server.diagnostics.get(uri)?.diagnostics ?? []).map((d) => `${(d.range as Range).start.line + 1}:${String(d.code)}`).sort();
    let finalGot: string[] = [];
    let finalFresh: string[] = [];
    try {
      const uri = uris[0];
      const v = (versions.get(uri) ?? 0) + 1;
      if (texts.has(uri)) server.replace(uri, v, valid);
      else server.open(uri, valid, v);
      await server.request('textDocument/codeLens', { textDocument: { uri } }, timeoutMs);
      finalGot = lineRules(uri);
      const fresh = `file://${root}/fresh.c`;
      server.open(fresh, valid, 1);
      await server.request('textDocument/codeLens', { textDocument: { uri: fresh } }, timeoutMs);
      finalFresh = lineRules(fresh);
    } catch (e) {
      failures.push({ index: -1, kind: 'valid file after the garbage', what: 'request failed', detail: String((e as Error).message) });
    }
    if (!server.alive) failures.push({ index: -1, kind: 'valid file after the garbage', what: 'server exited', detail: server.stderr.slice(-2000) });
    return { inputs, failures, ms, compared, restarts, finalExpected, finalGot, finalFresh, elapsedMs: Date.now() - t0 };
  } finally {
    await server.stop(5000);
    fs.rmSync(root, { recursive: true, force: true });
  }
}

