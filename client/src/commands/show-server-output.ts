/** `IOMMU Lens: Show Server Log` — the status bar item's click: the language server's output channel. */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';

export function registerShowServerOutput(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand('iommuLens.showServerOutput', () => ctx.serverChannel.show(true));
}
