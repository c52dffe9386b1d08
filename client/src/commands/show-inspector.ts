/** `IOMMU Lens: Show Page-Table Inspector` — reveal the inspector view with the last run's state. */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { InspectorProvider } from '../views/inspector-tree';

/** Registers the command; it resolves once the view is shown and refreshed. */
export function registerShowInspector(ctx: Ctx, inspector: InspectorProvider): vscode.Disposable {
  return vscode.commands.registerCommand('iommuLens.showInspector', async () => {
    await vscode.commands.executeCommand('iommuLens.inspector.focus');
    if (ctx.lastRun) await inspector.refresh();
  });
}
