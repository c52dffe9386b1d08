/**
 * The language server: wires LSP messages to the Analyser and the diagnostics mapping. No logic
 * of its own beyond finding the function a request names. Started by server-main.ts (VS Code
 * client: ipc or stdio) and by `iommu-lens lsp --stdio` (cli.ts), for any editor.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CodeActionKind, Connection, createConnection, DidChangeConfigurationNotification, InitializeParams,
  InitializeResult, NotificationType, ProposedFeatures, RequestType, TextDocumentSyncKind,
} from 'vscode-languageserver/node';
import { Analyser, EngineApi, pathToUri, SETTINGS_FILE, uriToPath } from './analyser';
import { codeActionsFor, codeLensesFor, functionAt, hoverFor, setRulesDocUri } from './diagnostics';
import * as realEngine from './engine';
import type { FileResult, FunctionResult, PathTrace } from './engine/types';
import { formatRun } from './run-format';
import {
  FunctionPathsRequest, FunctionRef, InspectorStateRequest, LastRunChangedNotification, NotificationDef,
  RequestDef, RunSnippetRequest, RunSnippetResult, ServerStatusNotification, ServerStatusParams,
} from './protocol';

/** protocol.ts's definitions as this library's message types. */
const req = <P, R>(d: RequestDef<P, R>) => new RequestType<P, R, void>(d.method);
const note = <P>(d: NotificationDef<P>) => new NotificationType<P>(d.method);

/** The settings section the client contributes (`iommuLens.*`). */
export const SETTINGS_SECTION = 'iommuLens';

/** Options for tests and embedders. */
export interface StartOptions {
  /** The engine to drive (default: server/src/engine). */
  engine?: EngineApi;
}

/** The extension's root (the folder with our package.json), to point rule links at docs/rules.md. */
function packageRoot(from: string): string | undefined {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pkg = path.join(dir, 'package.json');
    try {
      if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'iommu-lens') return dir;
    } catch { /* keep looking */ }
    if (path.dirname(dir) === dir) return undefined;
  }
}

function isC(uri: string, languageId?: string): boolean {
  return languageId === 'c' || /\.[ch]$/i.test(uri);
}

/**
 * Start serving on `connection` (created over the process's stdio/ipc per its arguments when
 * omitted) and return it. Never throws on bad input: engine failures are logged and reported
 * through the status notification.
 */
export function startServer(connection?: Connection, options: StartOptions = {}): Connection {
  const conn = connection ?? createConnection(ProposedFeatures.all);
  const engine: EngineApi = options.engine ?? (realEngine as EngineApi);
  let workspaceRoot: string | undefined;
  let canPullConfiguration = false;
  let canRefreshCodeLens = false;
  let lastRun: RunSnippetResult | undefined;
  let lastMillis: number | undefined;
  let problem: string | undefined;
  let state: ServerStatusParams['state'] = 'starting';

  const root = packageRoot(__dirname);
  if (root) {
    const rules = path.join(root, 'docs', 'rules.md');
    setRulesDocUri(pathToUri(rules));
  }

  const sendStatus = () => {
    let findings = 0;
    for (const uri of analyser.documents()) {
      const r = analyser.latest(uri);
      if (r) findings += r.fileFindings.length + r.functions.reduce((n, f) => n + f.findings.length, 0);
    }
    const settingsProblems = analyser.settingsProblems.length + analyser.settingsFileProblems.length;
    const message = problem ?? (settingsProblems ? `${settingsProblems} problem(s) in the IOMMU Lens settings` : undefined);
    conn.sendNotification(note(ServerStatusNotification), {
      state: message && state !== 'analysing' ? 'error' : state,
      documents: analyser.documents().length, findings, lastMillis, message,
    }).catch(() => undefined); // the client is gone
  };

  const analyser = new Analyser(engine, {
    publish: (uri, diagnostics, version) => { conn.sendDiagnostics({ uri, diagnostics, version }).catch(() => undefined); },
    analysed: (_uri, _result, millis) => {
      lastMillis = Math.round(millis * 10) / 10;
      state = 'ready';
      sendStatus();
      if (canRefreshCodeLens) void conn.sendRequest('workspace/codeLens/refresh').catch(() => undefined);
    },
    error: (uri, e) => {
      problem = `analysis failed for ${path.basename(uriToPath(uri) ?? uri)}: ${(e as Error)?.message ?? e}`;
      conn.console.error(`${problem}\n${(e as Error)?.stack ?? ''}`);
    },
  });

  const reloadSettings = async () => {
    let editorSettings: unknown = {};
    if (canPullConfiguration) {
      try {
        editorSettings = await conn.workspace.getConfiguration(SETTINGS_SECTION);
      } catch (e) {
        conn.console.warn(`cannot read ${SETTINGS_SECTION} settings: ${(e as Error).message}`);
      }
    }
    analyser.loadSettings(editorSettings, workspaceRoot);
    for (const err of analyser.settingsProblems) conn.console.warn(`setting ${SETTINGS_SECTION}.${err.path}: ${err.message}`);
    sendStatus();
  };

  conn.onInitialize((params: InitializeParams): InitializeResult => {
    const folder = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    workspaceRoot = (folder && uriToPath(folder)) ?? params.rootPath ?? undefined;
    canPullConfiguration = !!params.capabilities.workspace?.configuration;
    canRefreshCodeLens = !!params.capabilities.workspace?.codeLens?.refreshSupport;
    const init = params.initializationOptions as { rulesDocUri?: string } | undefined;
    if (init?.rulesDocUri) setRulesDocUri(init.rulesDocUri);
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        hoverProvider: true,
        codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
        codeLensProvider: { resolveProvider: false },
      },
      serverInfo: { name: 'iommu-lens', version: readVersion(root) },
    };
  });

  conn.onInitialized(async () => {
    if (canPullConfiguration) {
      try {
        await conn.client.register(DidChangeConfigurationNotification.type, { section: SETTINGS_SECTION });
      } catch { /* the client pushes changes without registration */ }
    }
    await reloadSettings();
    state = 'ready';
    sendStatus();
  });

  conn.onDidChangeConfiguration(async (change) => {
    if (!canPullConfiguration) {
      // Push-model clients (Neovim) send the settings themselves.
      const s = (change.settings as Record<string, unknown> | undefined)?.[SETTINGS_SECTION] ?? {};
      analyser.loadSettings(s, workspaceRoot);
      sendStatus();
      return;
    }
    await reloadSettings();
  });

  conn.onDidChangeWatchedFiles(async (p) => {
    if (p.changes.some((c) => c.uri.endsWith('/' + SETTINGS_FILE))) await reloadSettings();
  });

  conn.onDidOpenTextDocument((p) => {
    if (p.textDocument.uri.endsWith('/' + SETTINGS_FILE)) { void reloadSettings(); return; }
    if (!isC(p.textDocument.uri, p.textDocument.languageId)) return;
    state = 'analysing';
    analyser.open(p.textDocument.uri, p.textDocument.version, p.textDocument.text);
  });
  conn.onDidChangeTextDocument((p) => {
    analyser.change(p.textDocument.uri, p.textDocument.version, p.contentChanges);
  });
  conn.onDidSaveTextDocument((p) => {
    if (p.textDocument.uri.endsWith('/' + SETTINGS_FILE)) void reloadSettings();
  });
  conn.onDidCloseTextDocument((p) => {
    analyser.close(p.textDocument.uri);
    sendStatus();
  });

  conn.onHover(async (p) => {
    const result = await analyser.resultFor(p.textDocument.uri);
    const text = analyser.text(p.textDocument.uri);
    if (!result || text === undefined) return null;
    return hoverFor(result, p.position, lineOf(text, p.position.line));
  });

  conn.onCodeAction(async (p) => {
    const result = await analyser.resultFor(p.textDocument.uri);
    return result ? codeActionsFor(result, p.textDocument.uri, p.context.diagnostics) : [];
  });

  conn.onCodeLens(async (p) => {
    const result = await analyser.resultFor(p.textDocument.uri);
    return result ? codeLensesFor(result) : [];
  });

  const findFunction = async (ref: FunctionRef): Promise<{ result: FileResult; fn: FunctionResult } | null> => {
    const result = await analyser.resultFor(ref.uri);
    if (!result) return null;
    const fn = ref.functionName
      ? result.functions.find((f) => f.name === ref.functionName)
      : ref.position ? functionAt(result, ref.position) : undefined;
    return fn ? { result, fn } : null;
  };

  conn.onRequest(req(FunctionPathsRequest), async (ref) => {
    const found = await findFunction(ref);
    if (!found) return null;
    const { fn } = found;
    return {
      uri: ref.uri, functionName: fn.name, line: fn.nameRange.start.line, overBudget: fn.overBudget,
      paths: fn.paths.map((p, index) => ({
        index, label: p.label, failAt: p.failAt, exit: p.exit,
        findings: fn.findings.filter((f) => f.pathIndex === index).map((f) => f.rule),
      })),
    };
  });

  conn.onRequest(req(RunSnippetRequest), async (params) => {
    const found = await findFunction(params);
    if (!found) return null;
    const t0 = performance.now();
    let fr: FunctionResult | undefined;
    try {
      fr = analyser.runFunction(params.uri, found.fn.name, params.failAt ?? null, params.selection);
    } catch (e) {
      conn.console.error(`run ${found.fn.name} failed: ${(e as Error)?.stack ?? e}`);
      throw e;
    }
    const chosen: PathTrace | undefined = fr?.paths[0];
    if (!fr || !chosen) return null;
    const file = path.basename(uriToPath(params.uri) ?? params.uri);
    lastRun = {
      uri: params.uri, functionName: fr.name, path: chosen, findings: fr.findings,
      text: formatRun(file, fr, params.failAt ?? null, params.selection),
      millis: Math.round((performance.now() - t0) * 10) / 10,
    };
    conn.sendNotification(note(LastRunChangedNotification), { uri: params.uri, functionName: fr.name }).catch(() => undefined);
    return lastRun;
  });

  conn.onRequest(req(InspectorStateRequest), (params) => {
    if (!lastRun) return null;
    const snaps = lastRun.path.snapshots ?? [];
    const index = params?.snapshot ?? snaps.length - 1;
    const i = Math.max(-1, Math.min(index, snaps.length - 1));
    return {
      uri: lastRun.uri, functionName: lastRun.functionName, pathLabel: lastRun.path.label,
      snapshotIndex: i, snapshotCount: snaps.length, snapshot: i >= 0 ? snaps[i] : null,
    };
  });

  conn.onShutdown(() => analyser.dispose());
  conn.listen();
  return conn;
}

function lineOf(text: string, line: number): string {
  let start = 0;
  for (let i = 0; i < line; i++) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) return '';
    start = nl + 1;
  }
  const end = text.indexOf('\n', start);
  return text.slice(start, end < 0 ? text.length : end);
}

function readVersion(root: string | undefined): string | undefined {
  if (!root) return undefined;
  try { return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version; } catch { return undefined; }
}
