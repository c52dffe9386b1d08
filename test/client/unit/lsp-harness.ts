/**
 * Drives the real language server (server/src/server.ts with the real engine) over an in-memory
 * JSON-RPC pipe, as an editor would: initialize, open/change documents, wait for diagnostics.
 * No editor, no sleeps: every wait is on a message, with a time-out.
 */
import { PassThrough } from 'node:stream';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  createMessageConnection, MessageConnection, StreamMessageReader, StreamMessageWriter,
} from 'vscode-jsonrpc/node';
import { createConnection } from 'vscode-languageserver/node';
import type { Diagnostic, PublishDiagnosticsParams } from 'vscode-languageserver';
import { startServer } from '../../../server/src/server';
import { pathToUri } from '../../../server/src/analyser';

/** Repository root. */
export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
/** The extension tests' fixture workspace. */
export const FIXTURES = path.join(ROOT, 'test', 'client', 'fixtures', 'workspace');

/** `// expect: rule[, rule]` annotations of a fixture: 0-based line -> rules. */
export function expectations(text: string): { line: number; rule: string }[] {
  const out: { line: number; rule: string }[] = [];
  text.split('\n').forEach((l, i) => {
    const m = /\/\/\s*expect:\s*([a-z-]+(?:\s*,\s*[a-z-]+)*)/.exec(l);
    if (m) for (const r of m[1].split(',')) out.push({ line: i, rule: r.trim() });
  });
  return out;
}

/** "line:rule" strings, sorted, for comparing diagnostics with expectations. */
export function keys(items: { line: number; rule: string }[]): string[] {
  return items.map((e) => `${e.line + 1}:${e.rule}`).sort();
}

export function diagnosticKeys(ds: Diagnostic[]): string[] {
  return keys(ds.map((d) => ({ line: d.range.start.line, rule: String(d.code) })));
}

export class LspSession {
  readonly client: MessageConnection;
  private readonly streams: PassThrough[];
  private readonly diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  private readonly waiters: { uri: string; pred: (d: Diagnostic[]) => boolean; resolve: (d: Diagnostic[]) => void }[] = [];
  /** Settings returned to the server's workspace/configuration requests. */
  settings: Record<string, unknown> = {};
  readonly notifications: { method: string; params: unknown }[] = [];

  constructor(private readonly rootPath: string) {
    const up = new PassThrough();
    const down = new PassThrough();
    this.streams = [up, down];
    startServer(createConnection(new StreamMessageReader(up), new StreamMessageWriter(down)));
    this.client = createMessageConnection(new StreamMessageReader(down), new StreamMessageWriter(up));
    this.client.onNotification('textDocument/publishDiagnostics', (p: PublishDiagnosticsParams) => {
      const list = this.diagnostics.get(p.uri) ?? [];
      list.push(p);
      this.diagnostics.set(p.uri, list);
      for (const w of this.waiters.filter((x) => x.uri === p.uri && x.pred(p.diagnostics))) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(p.diagnostics);
      }
    });
    this.client.onNotification((method: string, params: unknown) => { this.notifications.push({ method, params }); });
    this.client.onRequest('workspace/configuration', (p: { items: { section?: string }[] }) => p.items.map(() => this.settings));
    this.client.onRequest('client/registerCapability', () => null);
    this.client.onRequest('workspace/codeLens/refresh', () => null);
    this.client.listen();
  }

  /** initialize + initialized, as VS Code sends them (pull configuration, code lens refresh). */
  async initialize(): Promise<void> {
    await this.client.sendRequest('initialize', {
      processId: null, // in-process server: no parent-process watchdog to keep the test alive
      rootUri: pathToUri(this.rootPath),
      workspaceFolders: [{ uri: pathToUri(this.rootPath), name: path.basename(this.rootPath) }],
      capabilities: {
        workspace: { configuration: true, didChangeConfiguration: { dynamicRegistration: true }, codeLens: { refreshSupport: true } },
        textDocument: { publishDiagnostics: { relatedInformation: true, codeDescriptionSupport: true, dataSupport: true } },
      },
    });
    await this.client.sendNotification('initialized', {});
  }

  /** Every publishDiagnostics received for `uri`, oldest first. */
  published(uri: string): PublishDiagnosticsParams[] {
    return this.diagnostics.get(uri) ?? [];
  }

  /**
   * The next (or already received latest) diagnostics for `uri` that satisfy `pred`.
   * Rejects after `timeoutMs`.
   */
  waitForDiagnostics(uri: string, pred: (d: Diagnostic[]) => boolean = () => true, timeoutMs = 20_000, fresh = false): Promise<Diagnostic[]> {
    const last = this.published(uri).at(-1);
    if (!fresh && last && pred(last.diagnostics)) return Promise.resolve(last.diagnostics);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching diagnostics for ${uri} in ${timeoutMs} ms; last: ${JSON.stringify(this.published(uri).at(-1)?.diagnostics.map((d) => `${d.range.start.line + 1}:${d.code}`))}`)), timeoutMs);
      this.waiters.push({ uri, pred, resolve: (d) => { clearTimeout(timer); resolve(d); } });
    });
  }

  open(file: string, text = fs.readFileSync(file, 'utf8'), version = 1): string {
    const uri = pathToUri(file);
    void this.client.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version, text } });
    return uri;
  }

  change(uri: string, version: number, changes: unknown[]): void {
    void this.client.sendNotification('textDocument/didChange', { textDocument: { uri, version }, contentChanges: changes });
  }

  request<R>(method: string, params: unknown): Promise<R> {
    return this.client.sendRequest(method, params) as Promise<R>;
  }

  async close(): Promise<void> {
    try { await this.client.sendRequest('shutdown'); } catch { /* already gone */ }
    this.client.dispose();
  }
}
