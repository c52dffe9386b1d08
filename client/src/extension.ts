/**
 * IOMMU Lens for VS Code: activation only. The Ctx starts the language server; the commands,
 * the inspector, the IOVA-space picture and the debug panel are registered against it.
 */
import * as vscode from 'vscode';
import { Ctx } from './ctx';
import { registerRefreshInspector } from './commands/refresh-inspector';
import { registerRestartServer } from './commands/restart-server';
import { registerRunSnippet } from './commands/run-snippet';
import { registerShowDebugPanel } from './commands/show-debug-panel';
import { registerShowInspector } from './commands/show-inspector';
import { registerShowServerOutput } from './commands/show-server-output';
import { InspectorProvider } from './views/inspector-tree';
import { IovaMapProvider } from './views/iova-map-view';
import { DebugPanel, registerDebugPanelSerializer } from './webview/debug-panel';

/** What `activate` returns: for the extension tests, and for other extensions. */
export interface IommuLensApi {
  ctx: Ctx;
  inspector: InspectorProvider;
  iovaMap: IovaMapProvider;
  /** The open debug panel, if any. */
  debugPanel(): DebugPanel | undefined;
}

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<IommuLensApi> {
  ctx = new Ctx(context);
  context.subscriptions.push(ctx);
  const inspector = new InspectorProvider(ctx);
  const iovaMap = new IovaMapProvider(ctx);
  const view = vscode.window.createTreeView('iommuLens.inspector', { treeDataProvider: inspector, showCollapseAll: true });
  inspector.attach(view);
  ctx.subscriptions.push(
    inspector, view, iovaMap,
    vscode.window.registerWebviewViewProvider(IovaMapProvider.viewType, iovaMap),
    registerRunSnippet(ctx),
    registerShowDebugPanel(ctx),
    registerShowInspector(ctx, inspector),
    registerRefreshInspector(inspector),
    registerRestartServer(ctx),
    registerShowServerOutput(ctx),
    registerDebugPanelSerializer(ctx),
  );
  await ctx.start();
  return { ctx, inspector, iovaMap, debugPanel: () => DebugPanel.current };
}

export async function deactivate(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  if (c) {
    try { await c.client.stop(); } catch { /* already stopped */ }
  }
}
