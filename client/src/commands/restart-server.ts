/** `IOMMU Lens: Restart Server` — restart the language server (after a crash or a rebuild). */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';

export function registerRestartServer(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand('iommuLens.restartServer', () => ctx.restart());
}
