/**
 * The page-table inspector (view `iommuLens.inspector` in the IOMMU Lens activity-bar container):
 * SMMU -> streams (STE) -> CDs -> table levels -> entries, IOVA allocator ranges, reserved regions
 * and the event queue, for the last snippet run, at its last step or at the step chosen in the
 * debug panel.
 */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { InspectorStateResult } from '../../../server/src/protocol';
import { InspectorNode, snapshotToNodes } from './snapshot-model';

export class InspectorProvider implements vscode.TreeDataProvider<InspectorNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<InspectorNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private state: InspectorStateResult | null = null;
  private roots: InspectorNode[] = [];
  private parents = new Map<InspectorNode, InspectorNode>();
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private view?: vscode.TreeView<InspectorNode>;

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(
      ctx.onDidChangeLastRun(() => { void ctx.showSnapshot().catch(() => undefined); }),
      ctx.onDidChangeSnapshot((s) => this.show(s)),
    );
  }

  /** Attach the tree view (for its title and message). */
  attach(view: vscode.TreeView<InspectorNode>): void {
    this.view = view;
    this.updateMessage();
  }

  /** The state shown. */
  get current(): InspectorStateResult | null {
    return this.state;
  }

  /** Show an inspector state (null: nothing run yet). */
  show(state: InspectorStateResult | null): void {
    this.state = state;
    this.roots = state ? snapshotToNodes(state.snapshot) : [];
    this.parents = new Map();
    const index = (n: InspectorNode) => { for (const c of n.children ?? []) { this.parents.set(c, n); index(c); } };
    this.roots.forEach(index);
    this.updateMessage();
    this.changed.fire(undefined);
  }

  /** Re-read the emulator state of the last run from the server. */
  async refresh(): Promise<void> {
    this.show(await this.ctx.showSnapshot(this.state?.snapshotIndex));
  }

  private updateMessage(): void {
    if (!this.view) return;
    const s = this.state;
    this.view.message = s
      ? `${s.functionName}() · ${s.pathLabel} · state ${s.snapshotIndex + 1}/${s.snapshotCount}`
      : 'Run a snippet (IOMMU Lens: Run Snippet) to inspect the emulator.';
    this.view.description = s ? `${s.functionName}()` : undefined;
  }

  getTreeItem(n: InspectorNode): vscode.TreeItem {
    const item = new vscode.TreeItem(n.label, n.children?.length
      ? (n.kind === 'section' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed)
      : vscode.TreeItemCollapsibleState.None);
    item.description = n.description;
    item.tooltip = n.tooltip;
    item.contextValue = `iommuLens.${n.kind}`;
    if (n.icon) item.iconPath = new vscode.ThemeIcon(n.icon);
    return item;
  }

  getParent(n: InspectorNode): InspectorNode | undefined {
    return this.parents.get(n);
  }

  /** Reveal (and expand) a node in the view. */
  async reveal(n: InspectorNode, expand: number | boolean = 1): Promise<void> {
    await this.view?.reveal(n, { expand, select: false, focus: false });
  }

  getChildren(n?: InspectorNode): InspectorNode[] {
    return n ? n.children ?? [] : this.roots;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
