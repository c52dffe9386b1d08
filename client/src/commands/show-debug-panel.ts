/** `IOMMU Lens: Show Paths` — open the debug panel for the function at the cursor (or a code lens's). */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import { DebugPanel } from '../webview/debug-panel';
import { functionRefFrom, RunSnippetArgs } from './run-snippet';

/** Registers the command; it resolves to the panel, or undefined when there is no function. */
export function registerShowDebugPanel(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand('iommuLens.showDebugPanel', async (args?: RunSnippetArgs | vscode.Uri) => {
    const ref = functionRefFrom(args);
    if (!ref) {
      void vscode.window.showWarningMessage('IOMMU Lens: open a C file and place the cursor in a function.');
      return undefined;
    }
    return DebugPanel.show(ctx, ref);
  });
}
