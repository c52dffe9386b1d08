/**
 * The picture of the IOVA space (webview view `iommuLens.iovaMap`, under the inspector): the
 * allocator's ranges, the reserved regions and the page-table mappings of the state the inspector
 * shows, drawn by media/iova-map.js as bands along the address axis.
 */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import type { InspectorStateResult } from '../../../server/src/protocol';
import { pageHtml, webviewOptions } from '../webview/html';
import { iovaSegments, IovaSegment } from './snapshot-model';

/** What the page receives (media/iova-map.js). */
export interface IovaMapMessage {
  type: 'state';
  title: string;
  segments: IovaSegment[];
}

export class IovaMapProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewType = 'iommuLens.iovaMap';
  private view?: vscode.WebviewView;
  private last: IovaMapMessage = { type: 'state', title: 'No run yet', segments: [] };
  private readonly disposables: vscode.Disposable[] = [];
  private readyResolve?: () => void;
  /** Resolves once the page has loaded and drawn its first state. */
  ready: Promise<void> = new Promise((r) => { this.readyResolve = r; });

  constructor(private readonly ctx: Ctx) {
    this.disposables.push(ctx.onDidChangeSnapshot((s) => this.show(s)));
  }

  /** The segments currently drawn. */
  get segments(): IovaSegment[] {
    return this.last.segments;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.ctx.extension.extensionUri);
    view.webview.html = pageHtml(view.webview, this.ctx.extension.extensionUri, 'IOVA space', 'iova-map.css', 'iova-map.js',
      '<div id="title"></div><div id="map" role="img" aria-label="IOVA space"></div><ul id="legend"></ul>');
    this.disposables.push(view.webview.onDidReceiveMessage((m: { type: string }) => {
      if (m.type === 'ready') void view.webview.postMessage(this.last);
      if (m.type === 'drawn') this.readyResolve?.();
    }));
    view.onDidDispose(() => { this.view = undefined; }, null, this.disposables);
  }

  private show(s: InspectorStateResult | null): void {
    this.last = {
      type: 'state',
      title: s ? `${s.functionName}() · ${s.pathLabel} · state ${s.snapshotIndex + 1}/${s.snapshotCount}` : 'No run yet',
      segments: s ? iovaSegments(s.snapshot) : [],
    };
    void this.view?.webview.postMessage(this.last);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
