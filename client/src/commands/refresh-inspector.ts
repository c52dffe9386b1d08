/** `IOMMU Lens: Refresh Inspector` (the inspector's title button): re-read the last run's state. */
import * as vscode from 'vscode';
import type { InspectorProvider } from '../views/inspector-tree';

export function registerRefreshInspector(inspector: InspectorProvider): vscode.Disposable {
  return vscode.commands.registerCommand('iommuLens.refreshInspector', () => inspector.refresh());
}
