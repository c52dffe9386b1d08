/**
 * The extension's context: owns the language client, the status bar item that shows the
 * server's health, the trace output channel, the last snippet run, and every disposable.
 * Commands and views get what they need from here (rust-analyzer's `Ctx`).
 */
import * as vscode from 'vscode';
import {
  LanguageClient, LanguageClientOptions, ServerOptions, State, TransportKind,
} from 'vscode-languageclient/node';
import {
  InspectorStateRequest, InspectorStateResult, NotificationDef, RequestDef, RunSnippetResult, ServerStatusNotification,
  ServerStatusParams,
} from '../../server/src/protocol';

/** The language id of the trace output channel (syntaxes/iommu-trace.tmLanguage.json). */
export const TRACE_LANGUAGE = 'iommu-lens-trace';

export class Ctx implements vscode.Disposable {
  readonly subscriptions: vscode.Disposable[] = [];
  readonly traceChannel: vscode.OutputChannel;
  readonly serverChannel: vscode.LogOutputChannel;
  private readonly statusItem: vscode.StatusBarItem;
  private clientValue: LanguageClient | undefined;
  private lastRunValue: RunSnippetResult | undefined;
  private lastTraceText = '';
  private lastStatus: ServerStatusParams | undefined;
  private readonly onDidChangeLastRunEmitter = new vscode.EventEmitter<RunSnippetResult | undefined>();
  private readonly onDidChangeSnapshotEmitter = new vscode.EventEmitter<InspectorStateResult | null>();
  private readonly onDidChangeStatusEmitter = new vscode.EventEmitter<ServerStatusParams>();
  /** Fires when a snippet run finishes (from a command, the code lens or the debug panel). */
  readonly onDidChangeLastRun = this.onDidChangeLastRunEmitter.event;
  /** Fires when the inspector should show another emulator state (a step chosen in the debug panel). */
  readonly onDidChangeSnapshot = this.onDidChangeSnapshotEmitter.event;
  /** Fires on each server status notification. */
  readonly onDidChangeStatus = this.onDidChangeStatusEmitter.event;

  constructor(readonly extension: vscode.ExtensionContext) {
    this.traceChannel = vscode.window.createOutputChannel('IOMMU Lens Trace', TRACE_LANGUAGE);
    this.serverChannel = vscode.window.createOutputChannel('IOMMU Lens', { log: true });
    this.statusItem = vscode.window.createStatusBarItem('iommuLens.status', vscode.StatusBarAlignment.Left, 10);
    this.statusItem.name = 'IOMMU Lens';
    this.statusItem.command = 'iommuLens.showServerOutput';
    this.setStatus({ state: 'starting', documents: 0, findings: 0 });
    this.statusItem.show();
    this.subscriptions.push(this.traceChannel, this.serverChannel, this.statusItem,
      this.onDidChangeLastRunEmitter, this.onDidChangeSnapshotEmitter, this.onDidChangeStatusEmitter);
  }

  /** The running client; throws when the server has not been started (a bug in activation order). */
  get client(): LanguageClient {
    if (!this.clientValue) throw new Error('IOMMU Lens: language client not started');
    return this.clientValue;
  }

  /** Send a custom request (server/src/protocol.ts). Rejects when the server fails it. */
  request<P, R>(def: RequestDef<P, R>, params: P): Promise<R> {
    return this.client.sendRequest<R>(def.method, params);
  }

  private onNotification<P>(def: NotificationDef<P>, handler: (p: P) => void): vscode.Disposable {
    return this.client.onNotification(def.method, handler);
  }

  /** The server's latest status. */
  get status(): ServerStatusParams | undefined {
    return this.lastStatus;
  }

  /** The status bar item's current text (for tests and the status command). */
  get statusText(): string {
    return this.statusItem.text;
  }

  /** The last snippet run, if any. */
  get lastRun(): RunSnippetResult | undefined {
    return this.lastRunValue;
  }

  /** The trace text of the last run, as written to the output channel. */
  get lastTrace(): string {
    return this.lastTraceText;
  }

  /** Record a run: the trace goes to the output channel, views showing the last run refresh. */
  setLastRun(run: RunSnippetResult, traceText: string): void {
    this.lastRunValue = run;
    this.lastTraceText = traceText;
    this.onDidChangeLastRunEmitter.fire(run);
  }

  /** Ask the server for the emulator state after snapshot `index` of the last run and show it in the inspector. */
  async showSnapshot(index?: number): Promise<InspectorStateResult | null> {
    const state = await this.request(InspectorStateRequest, { snapshot: index });
    this.onDidChangeSnapshotEmitter.fire(state);
    return state;
  }

  /** Start the language server (dist/server.js over node IPC). Rejects when it cannot start. */
  async start(): Promise<void> {
    const module = this.extension.asAbsolutePath('dist/server.js');
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc },
      debug: { module, transport: TransportKind.ipc, options: { execArgv: ['--nolazy', '--inspect=6019'] } },
    };
    const watcher = vscode.workspace.createFileSystemWatcher('**/.iommu-lens.json');
    this.subscriptions.push(watcher);
    const clientOptions: LanguageClientOptions = {
      documentSelector: [
        { scheme: 'file', language: 'c' },
        { scheme: 'file', pattern: '**/*.h' },
        { scheme: 'untitled', language: 'c' },
      ],
      synchronize: { fileEvents: watcher },
      outputChannel: this.serverChannel,
      initializationOptions: {
        rulesDocUri: vscode.Uri.joinPath(this.extension.extensionUri, 'docs', 'rules.md').toString(),
      },
    };
    const client = new LanguageClient('iommuLens', 'IOMMU Lens', serverOptions, clientOptions);
    this.clientValue = client;
    this.subscriptions.push(
      client.onDidChangeState((e) => {
        if (e.newState === State.Stopped) this.setStatus({ state: 'error', documents: 0, findings: 0, message: 'server stopped' });
        if (e.newState === State.Starting) this.setStatus({ state: 'starting', documents: 0, findings: 0 });
      }),
      this.onNotification(ServerStatusNotification, (s) => this.setStatus(s)),
    );
    try {
      await client.start();
    } catch (e) {
      this.setStatus({ state: 'error', documents: 0, findings: 0, message: `cannot start: ${(e as Error).message}` });
      throw e;
    }
  }

  /** Restart the server (after a crash, or to pick up a rebuilt engine). */
  async restart(): Promise<void> {
    this.setStatus({ state: 'starting', documents: 0, findings: 0 });
    await this.client.restart();
  }

  private setStatus(s: ServerStatusParams): void {
    this.lastStatus = s;
    const icon = { starting: '$(sync~spin)', analysing: '$(sync~spin)', ready: '$(shield)', error: '$(error)' }[s.state];
    const counts = s.state === 'ready' ? ` ${s.findings}` : '';
    this.statusItem.text = `${icon} IOMMU Lens${counts}`;
    const lines = [
      `IOMMU Lens server: ${s.state}`,
      `${s.documents} C file(s) open, ${s.findings} finding(s)`,
      s.lastMillis !== undefined ? `last analysis ${s.lastMillis} ms` : '',
      s.message ?? '',
      'Click for the server log',
    ].filter(Boolean);
    this.statusItem.tooltip = lines.join('\n');
    this.statusItem.backgroundColor = s.state === 'error' ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.onDidChangeStatusEmitter.fire(s);
  }

  dispose(): void {
    for (const d of this.subscriptions.splice(0).reverse()) {
      try { d.dispose(); } catch { /* keep disposing the rest */ }
    }
  }
}
