/**
 * Edit-to-fresh-diagnostics in the language server, over JSON-RPC as an editor drives it: a
 * one-line edit (didChange, incremental) inside a function of a large real driver file, timed
 * until the server reports that analysis finished (`iommuLens/status` ready; diagnostics that
 * changed are published before it). Measured with `diagnostics.delayMs` 0, so the figure is
 * the server's own latency; the editor default adds its debounce delay on top.
 */
import { PassThrough } from 'node:stream';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { createConnection } from 'vscode-languageserver/node';
import { startServer } from '../server/src/server';
import { pathToUri } from '../server/src/analyser';
import { syntheticDriver } from './engine';

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
}

/**
 * An editor's side of the connection, initialized with `rootUri` and `diagnostics.delayMs` 0;
 * `ready()` resolves at the server's next "analysis finished" status.
 */
async function editorClient(reader: NodeJS.ReadableStream, writer: NodeJS.WritableStream, root: string) {
  const client = createMessageConnection(new StreamMessageReader(reader), new StreamMessageWriter(writer));
  let onReady: (() => void) | undefined;
  client.onNotification('iommuLens/status', (p: { state: string }) => { if (p.state === 'ready' && onReady) onReady(); });
  client.onNotification(() => undefined);
  client.onRequest('workspace/configuration', (p: { items: unknown[] }) => p.items.map(() => ({ diagnostics: { delayMs: 0 } })));
  client.onRequest('client/registerCapability', () => null);
  client.onRequest('workspace/codeLens/refresh', () => null);
  client.listen();
  await client.sendRequest('initialize', { processId: null, rootUri: pathToUri(root), capabilities: { workspace: { configuration: true } } });
  await client.sendNotification('initialized', {});
  const ready = () => new Promise<void>((r) => { onReady = r; });
  return { client, ready };
}

async function measure(file: string, text: string, edits: number): Promise<number[]> {
  const up = new PassThrough();
  const down = new PassThrough();
  startServer(createConnection(new StreamMessageReader(up), new StreamMessageWriter(down)));
  const { client, ready } = await editorClient(down, up, path.dirname(file));
  const uri = pathToUri(file);
  let wait = ready();
  await client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text } });
  await wait;
  const lines = text.split('\n');
  const targets = lines.map((l, i) => (/^\t(ret|err) = /.test(l) ? i : -1)).filter((i) => i >= 0);
  const times: number[] = [];
  for (let i = 0; i < edits; i++) {
    const line = targets[(i * 7) % targets.length] ?? 1;
    const character = lines[line].length;
    const insert = ` /* ${i} */`;
    lines[line] += insert;
    wait = ready();
    const t = process.hrtime.bigint();
    await client.sendNotification('textDocument/didChange', {
      textDocument: { uri, version: i + 2 },
      contentChanges: [{ range: { start: { line, character }, end: { line, character } }, text: insert }],
    });
    await wait;
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  client.dispose();
  return times;
}

/** Median and 95th percentile of edit-to-fresh-diagnostics, on a real driver when the corpus is there. */
export async function benchEditor(): Promise<{ name: string; median: number; p95: number; unit: string }[]> {
  const out: { name: string; median: number; p95: number; unit: string }[] = [];
  const corpus = process.env.IOMMU_LENS_CORPUS || '/var/tmp/iommu-lens-corpus';
  const real = path.join(corpus, 'drivers/net/ethernet/intel/igb/igb_main.c');
  const inputs: { name: string; file: string; text: string }[] = [];
  if (fs.existsSync(real)) inputs.push({ name: 'igb_main.c', file: real, text: fs.readFileSync(real, 'utf8') });
  const gen = path.join(fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'iommu-lens-bench-')), 'generated.c');
  const genText = syntheticDriver();
  fs.writeFileSync(gen, genText);
  inputs.push({ name: 'generated driver', file: gen, text: genText });
  for (const { name, file, text } of inputs) {
    const t = await measure(file, text, 150);
    out.push({ name: `edit -> diagnostics, ${name} (${text.split('\n').length} lines)`, median: quantile(t, 0.5), p95: quantile(t, 0.95), unit: 'ms' });
  }
  return out;
}

/** VmRSS and VmHWM of a process, in MB (Linux /proc). */
function rssOf(pid: number): { rss: number; peak: number } {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

/**
 * Memory of the real server process (dist/server.js over stdio) with the 50 largest driver files
 * of the corpus open, each analysed; then after all are closed and 50 others opened and closed.
 */
export async function benchEditorMemory(): Promise<{ name: string; median: number; unit: string }[]> {
  const corpus = process.env.IOMMU_LENS_CORPUS || '/var/tmp/iommu-lens-corpus';
  if (!fs.existsSync(corpus)) { console.log(`editor memory: ${corpus} missing; run scripts/kernel-source.sh first`); return []; }
  const all = (fs.readdirSync(corpus, { recursive: true }) as string[]).filter((f) => f.endsWith('.c')).map((f) => path.join(corpus, f))
    .map((f) => ({ f, size: fs.statSync(f).size })).sort((a, b) => b.size - a.size);
  const { spawn } = require('node:child_process') as typeof import('node:child_process');
  const child = spawn(process.execPath, [path.resolve(__dirname, '../../dist/server.js'), '--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const { client, ready: analysed } = await editorClient(child.stdout!, child.stdin!, corpus);
  const openAll = async (files: string[]) => {
    for (const f of files) {
      const uri = pathToUri(f);
      const ready = analysed();
      await client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version: 1, text: fs.readFileSync(f, 'utf8') } });
      await ready;
    }
  };
  const closeAll = async (files: string[]) => {
    for (const f of files) await client.sendNotification('textDocument/didClose', { textDocument: { uri: pathToUri(f) } });
    await new Promise((r) => setTimeout(r, 3000));
  };
  const first = all.slice(0, 50).map((x) => x.f);
  const base = rssOf(child.pid!).rss;
  await openAll(first);
  const open = rssOf(child.pid!);
  await closeAll(first);
  const closed = rssOf(child.pid!).rss;
  const second = all.slice(50, 100).map((x) => x.f);
  await openAll(second);
  await closeAll(second);
  const after = rssOf(child.pid!);
  client.dispose();
  child.kill();
  const lines = first.reduce((n, f) => n + fs.readFileSync(f, 'utf8').split('\n').length, 0);
  return [
    { name: 'server RSS at start', median: base, unit: 'MB' },
    { name: `server RSS, the 50 largest drivers open (${lines.toLocaleString('en-US')} lines)`, median: open.rss, unit: 'MB' },
    { name: 'server RSS, all 50 closed (3 s later)', median: closed, unit: 'MB' },
    { name: 'server RSS, 50 more opened and closed', median: after.rss, unit: 'MB' },
    { name: 'server peak RSS over all of it', median: after.peak, unit: 'MB' },
  ];
}
