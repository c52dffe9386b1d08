/**
 * A minimal LSP client over a real language-server process (`node dist/server.js --stdio`, the
 * bundle VS Code starts), for the fuzzer: Content-Length framing written here, so nothing is
 * shared with the server's own JSON-RPC library. Every wait has a time-out; the process's exit,
 * its stderr and its error log messages are kept for the assertions.
 */
import { ChildProcess, spawn } from 'node:child_process';
import * as path from 'node:path';
import { ROOT } from './generate';

export interface Published { uri: string; version?: number; diagnostics: { range: unknown; code?: unknown; message: string }[] }

export class LspProcess {
  readonly proc: ChildProcess;
  private buf: Buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, { method: string; resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  /** Latest publishDiagnostics per URI, and how many were received. */
  readonly diagnostics = new Map<string, Published>();
  published = 0;
  /** window/logMessage and window/showMessage of type Error (1), and the server's stderr. */
  readonly errors: string[] = [];
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Settings returned for workspace/configuration. */
  settings: Record<string, unknown>;

  constructor(settings: Record<string, unknown> = {}, serverJs = path.join(ROOT, 'dist', 'server.js'), nodeArgs: string[] = []) {
    this.settings = settings;
    this.proc = spawn(process.execPath, [...nodeArgs, serverJs, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stdout!.on('data', (d: Buffer) => this.onData(d));
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString('utf8'); if (this.stderr.length > 100_000) this.stderr = this.stderr.slice(-50_000); });
    this.proc.stdin!.on('error', () => { /* the process is gone: reported through `exit` */ });
    this.proc.on('exit', (code, signal) => {
      this.exit = { code, signal };
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`server exited (code ${code}, signal ${signal}) before answering ${p.method}; stderr: ${this.stderr.slice(-2000)}`));
        this.pending.delete(id);
      }
    });
  }

  get alive(): boolean { return this.exit === undefined; }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      const sep = this.buf.indexOf('\r\n\r\n');
      if (sep < 0) return;
      const m = /Content-Length:\s*(\d+)/i.exec(this.buf.subarray(0, sep).toString('ascii'));
      if (!m) throw new Error(`bad header from the server: ${this.buf.subarray(0, sep).toString('latin1')}`);
      const len = Number(m[1]);
      if (this.buf.length < sep + 4 + len) return;
      const body = this.buf.subarray(sep + 4, sep + 4 + len).toString('utf8');
      this.buf = this.buf.subarray(sep + 4 + len);
      this.onMessage(JSON.parse(body));
    }
  }

  private onMessage(msg: { id?: number | string; method?: string; params?: any; result?: unknown; error?: { code: number; message: string } }): void {
    if (msg.method && msg.id !== undefined) { // a request from the server
      let result: unknown = null;
      if (msg.method === 'workspace/configuration') result = (msg.params?.items ?? []).map(() => this.settings);
      this.write({ jsonrpc: '2.0', id: msg.id, result });
      return;
    }
    if (msg.method) {
      if (msg.method === 'textDocument/publishDiagnostics') {
        this.published++;
        this.diagnostics.set(msg.params.uri, msg.params);
      } else if ((msg.method === 'window/logMessage' || msg.method === 'window/showMessage') && msg.params?.type === 1) {
        this.errors.push(String(msg.params.message));
      }
      return;
    }
    const p = this.pending.get(Number(msg.id));
    if (!p) return;
    this.pending.delete(Number(msg.id));
    clearTimeout(p.timer);
    if (msg.error) p.reject(new Error(`${p.method} answered with error ${msg.error.code}: ${msg.error.message}`));
    else p.resolve(msg.result);
  }

  private write(msg: unknown): void {
    if (!this.alive) return;
    const json = Buffer.from(JSON.stringify(msg), 'utf8');
    this.proc.stdin!.write(`Content-Length: ${json.length}\r\n\r\n`);
    this.proc.stdin!.write(json);
  }

  notify(method: string, params: unknown): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  request<R = unknown>(method: string, params: unknown, timeoutMs = 30_000): Promise<R> {
    if (!this.alive) return Promise.reject(new Error(`server exited (${JSON.stringify(this.exit)}) before ${method}; stderr: ${this.stderr.slice(-2000)}`));
    const id = this.nextId++;
    return new Promise<R>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${method} in ${timeoutMs} ms (server hung?)`));
      }, timeoutMs);
      this.pending.set(id, { method, resolve: resolve as (v: unknown) => void, reject, timer });
      this.write({ jsonrpc: '2.0', id, method, params });
    });
  }

  async initialize(rootPath: string): Promise<void> {
    const rootUri = 'file://' + rootPath;
    await this.request('initialize', {
      processId: process.pid, rootUri, workspaceFolders: [{ uri: rootUri, name: path.basename(rootPath) }],
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true }, codeLens: { refreshSupport: true } },
        textDocument: { publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true, dataSupport: true } },
      },
    });
    this.notify('initialized', {});
  }

  open(uri: string, text: string, version = 1): void {
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version, text } });
  }

  /** Whole-document change. */
  replace(uri: string, version: number, text: string): void {
    this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: [{ text }] });
  }

  /** Incremental changes (the server asks for TextDocumentSyncKind.Incremental). */
  change(uri: string, version: number, changes: { range: Range; text: string }[]): void {
    this.notify('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
  }

  /** shutdown + exit, then wait for the process (killed after `timeoutMs`). */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (!this.alive) return;
    try { await this.request('shutdown', null, timeoutMs); } catch { /* reported by the caller's checks */ }
    this.notify('exit', null);
    this.proc.stdin!.end();
    await new Promise<void>((resolve) => {
      if (!this.alive) { resolve(); return; }
      const t = setTimeout(() => { this.proc.kill('SIGKILL'); resolve(); }, timeoutMs);
      this.proc.once('exit', () => { clearTimeout(t); resolve(); });
    });
  }
}

export interface Position { line: number; character: number }
export interface Range { start: Position; end: Position }

/** The LSP position (UTF-16 line/character) of offset `at` in `text`. */
export function positionAt(text: string, at: number): Position {
  let line = 0;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) { line++; start = i + 1; }
  return { line, character: at - start };
}

/**
 * The single incremental change that turns `from` into `to` (their common prefix and suffix
 * kept), as an editor sends it.
 */
export function diffChange(from: string, to: string): { range: Range; text: string } {
  const min = Math.min(from.length, to.length);
  let p = 0;
  while (p < min && from.charCodeAt(p) === to.charCodeAt(p)) p++;
  let s = 0;
  while (s < min - p && from.charCodeAt(from.length - 1 - s) === to.charCodeAt(to.length - 1 - s)) s++;
  return { range: { start: positionAt(from, p), end: positionAt(from, from.length - s) }, text: to.slice(p, to.length - s) };
}
