/**
 * The debug panel: the explored paths of a function, each step with its line, values and emulator
 * events; choosing a path runs it, choosing a step reveals its line and shows the emulator state
 * after it (here and in the inspector). One panel at a time; a serializer restores it, with the
 * function, path and step it showed, after a window reload.
 */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { runSnippet } from '../commands/run-snippet';
import {
  FunctionPathsRequest, FunctionPathsResult, FunctionRef, RunSnippetResult,
} from '../../../server/src/protocol';
import { snapshotToNodes } from '../views/snapshot-model';
import { pageHtml, webviewOptions } from './html';

/** What the panel persists across reloads (webview state). */
export interface DebugPanelState {
  uri: string;
  functionName: string;
  pathIndex: number;
  stepIndex: number;
}

/** What the page reports after each draw. */
export interface Rendered { paths: number; steps: number; selectedStep: number }

/** Messages from media/debug-panel.js. */
type FromPage =
  | { type: 'ready' }
  | { type: 'selectPath'; index: number }
  | { type: 'selectStep'; index: number }
  | { type: 'rendered'; paths: number; steps: number; selectedStep: number };

export class DebugPanel implements vscode.Disposable {
  static readonly viewType = 'iommuLens.debugPanel';
  private static currentPanel: DebugPanel | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private paths: FunctionPathsResult | null = null;
  private run: RunSnippetResult | undefined;
  private state: DebugPanelState;
  private lastRendered?: Rendered;
  private renderedListeners: { pred: (r: Rendered) => boolean; resolve: (r: Rendered) => void }[] = [];

  /** The open panel, if any. */
  static get current(): DebugPanel | undefined {
    return DebugPanel.currentPanel;
  }

  /** Show the panel for a function (re-using the open one). */
  static async show(ctx: Ctx, ref: FunctionRef): Promise<DebugPanel | undefined> {
    const paths = await ctx.request(FunctionPathsRequest, ref);
    if (!paths) {
      void vscode.window.showWarningMessage('IOMMU Lens: no function at the cursor.');
      return undefined;
    }
    let p = DebugPanel.currentPanel;
    if (p) p.panel.reveal(vscode.ViewColumn.Beside, true);
    else {
      const panel = vscode.window.createWebviewPanel(DebugPanel.viewType, 'IOMMU Lens: Paths', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true },
        { ...webviewOptions(ctx.extension.extensionUri), retainContextWhenHidden: true });
      p = new DebugPanel(ctx, panel, { uri: paths.uri, functionName: paths.functionName, pathIndex: 0, stepIndex: -1 });
    }
    await p.load(paths, 0);
    return p;
  }

  /** Restore a panel after a reload (the serializer's callback). */
  static async revive(ctx: Ctx, panel: vscode.WebviewPanel, state: DebugPanelState | undefined): Promise<void> {
    panel.webview.options = webviewOptions(ctx.extension.extensionUri);
    const p = new DebugPanel(ctx, panel, state ?? { uri: '', functionName: '', pathIndex: 0, stepIndex: -1 });
    if (!state?.uri) return;
    try {
      const paths = await ctx.request(FunctionPathsRequest, { uri: state.uri, functionName: state.functionName });
      if (paths) await p.load(paths, state.pathIndex, state.stepIndex);
    } catch { /* the document is gone: the panel stays empty */ }
  }

  private constructor(private readonly ctx: Ctx, readonly panel: vscode.WebviewPanel, state: DebugPanelState) {
    DebugPanel.currentPanel = this;
    this.state = state;
    panel.iconPath = vscode.Uri.joinPath(ctx.extension.extensionUri, 'media', 'iommu-lens.svg');
    panel.webview.html = pageHtml(panel.webview, ctx.extension.extensionUri, 'IOMMU Lens: Paths', 'debug-panel.css', 'debug-panel.js',
      '<header id="head"></header><main><nav id="paths" aria-label="paths"></nav><section id="steps" aria-label="steps"></section><aside id="state" aria-label="emulator state"></aside></main>');
    panel.onDidDispose(() => this.dispose(), null, this.disposables);
    panel.webview.onDidReceiveMessage((m: FromPage) => this.onMessage(m), null, this.disposables);
  }

  /** The function, path and step shown. */
  get current(): DebugPanelState {
    return { ...this.state };
  }

  /** The run shown (the selected path's steps). */
  get shownRun(): RunSnippetResult | undefined {
    return this.run;
  }

  /** Resolves when the page has drawn a state satisfying `pred` (at once if its last draw does). */
  whenRendered(pred: (r: Rendered) => boolean = () => true): Promise<Rendered> {
    if (this.lastRendered && pred(this.lastRendered)) return Promise.resolve(this.lastRendered);
    return new Promise((resolve) => this.renderedListeners.push({ pred, resolve }));
  }

  /** Run path `pathIndex` and show its steps (and select `stepIndex` if >= 0). */
  async load(paths: FunctionPathsResult, pathIndex: number, stepIndex = -1): Promise<void> {
    this.paths = paths;
    this.panel.title = `Paths: ${paths.functionName}()`;
    await this.selectPath(pathIndex);
    if (stepIndex >= 0) await this.selectStep(stepIndex);
  }

  /** Choose a path: run it on the emulator (the trace and the inspector follow). */
  async selectPath(index: number): Promise<void> {
    if (!this.paths) return;
    const summary = this.paths.paths[index] ?? this.paths.paths[0];
    this.run = await runSnippet(this.ctx, { uri: this.paths.uri, functionName: this.paths.functionName, failAt: summary?.failAt ?? null });
    this.state = { uri: this.paths.uri, functionName: this.paths.functionName, pathIndex: summary ? this.paths.paths.indexOf(summary) : 0, stepIndex: -1 };
    this.post();
  }

  /** Choose a step: reveal its line and show the emulator state after it. */
  async selectStep(index: number): Promise<void> {
    const step = this.run?.path.steps[index];
    if (!step || !this.run) return;
    this.state.stepIndex = index;
    const uri = vscode.Uri.parse(this.run.uri);
    const doc = await vscode.workspace.openTextDocument(uri);
    const line = Math.min(step.line, doc.lineCount - 1);
    const range = doc.lineAt(line).range;
    const shown = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === uri.toString());
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: shown?.viewColumn ?? vscode.ViewColumn.One, preserveFocus: true, selection: range });
    editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    const state = step.snapshot !== undefined ? await this.ctx.showSnapshot(step.snapshot) : null;
    this.post(state?.snapshot ?? null);
  }

  private post(snapshot: unknown = null): void {
    void this.panel.webview.postMessage({
      type: 'show',
      state: this.state,
      functionName: this.paths?.functionName ?? '',
      overBudget: this.paths?.overBudget,
      paths: this.paths?.paths ?? [],
      run: this.run ? { label: this.run.path.label, exit: this.run.path.exit, steps: this.run.path.steps.map((s) => ({ ...s })), findings: this.run.findings } : null,
      stateNodes: snapshot ? snapshotToNodes(snapshot) : null,
    });
  }

  private onMessage(m: FromPage): void {
    switch (m.type) {
      case 'ready': this.post(); break;
      case 'selectPath': void this.selectPath(m.index); break;
      case 'selectStep': void this.selectStep(m.index); break;
      case 'rendered': {
        const r: Rendered = { paths: m.paths, steps: m.steps, selectedStep: m.selectedStep };
        this.lastRendered = r;
        const ready = this.renderedListeners.filter((l) => l.pred(r));
        this.renderedListeners = this.renderedListeners.filter((l) => !ready.includes(l));
        for (const l of ready) l.resolve(r);
        break;
      }
    }
  }

  dispose(): void {
    if (DebugPanel.currentPanel === this) DebugPanel.currentPanel = undefined;
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** Registers the serializer that brings the panel back after a reload. */
export function registerDebugPanelSerializer(ctx: Ctx): vscode.Disposable {
  return vscode.window.registerWebviewPanelSerializer(DebugPanel.viewType, {
    deserializeWebviewPanel: (panel, state: DebugPanelState | undefined) => DebugPanel.revive(ctx, panel, state),
  });
}
