/**
 * Helpers for the extension tests (they run inside VS Code's extension host). Every wait is on an
 * event or a file, with a time-out; none sleeps.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { IommuLensApi } from '../../../client/src/extension';

/** Repository root (this file runs from out/test/client/suite/). */
export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const EXTENSION_ID = 'iommu-lens.iommu-lens';

/** The activated extension's API. */
export async function api(): Promise<IommuLensApi> {
  const ext = vscode.extensions.getExtension<IommuLensApi>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

/** A file of the test workspace. */
export function workspaceFile(name: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error('no workspace folder open');
  return vscode.Uri.joinPath(folder.uri, name);
}

/** Resolves with the first value `check` returns that is not undefined, re-checking on `event`. */
export function waitFor<T>(event: vscode.Event<unknown>, check: () => T | undefined, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const now = check();
  if (now !== undefined) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { sub.dispose(); reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)); }, timeoutMs);
    const sub = event(() => {
      const v = check();
      if (v !== undefined) { clearTimeout(timer); sub.dispose(); resolve(v); }
    });
  });
}

/** IOMMU Lens diagnostics of `uri` once `pred` holds for them. */
export function diagnostics(uri: vscode.Uri, pred: (d: vscode.Diagnostic[]) => boolean = (d) => d.length > 0, timeoutMs = 30_000): Promise<vscode.Diagnostic[]> {
  const ours = () => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'iommu-lens');
  return waitFor(vscode.languages.onDidChangeDiagnostics, () => (pred(ours()) ? ours() : undefined), timeoutMs, `diagnostics of ${uri.path}`);
}

/** The rule id of a diagnostic (`code` is `{ value, target }` when it has a docs link). */
export function ruleOf(d: vscode.Diagnostic): string {
  return typeof d.code === 'object' && d.code !== null ? String(d.code.value) : String(d.code);
}

/** `// expect: rule` annotations: "line:rule" (1-based), sorted. */
export function expected(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((l, i) => {
    const m = /\/\/\s*expect:\s*([a-z-]+(?:\s*,\s*[a-z-]+)*)/.exec(l);
    if (m) for (const r of m[1].split(',')) out.push(`${i + 1}:${r.trim()}`);
  });
  return out.sort();
}

export function keysOf(ds: vscode.Diagnostic[]): string[] {
  return ds.map((d) => `${d.range.start.line + 1}:${ruleOf(d)}`).sort();
}

/**
 * Ask the browser driver (scripts/vscode/browser-run.mjs) for a screenshot of the workbench into
 * out/screenshots/<name>.png and wait for it. A no-op where no driver runs (@vscode/test-electron).
 */
export async function screenshot(name: string, timeoutMs = 30_000): Promise<string | undefined> {
  const dir = process.env.IOMMU_LENS_SCREENSHOT_DIR;
  if (!dir) return undefined;
  const png = path.join(dir, `${name}.png`);
  fs.rmSync(png, { force: true });
  const done = new Promise<void>((resolve, reject) => {
    const watcher = fs.watch(dir, () => { if (fs.existsSync(png) && !fs.existsSync(path.join(dir, `${name}.request`))) { cleanup(); resolve(); } });
    const timer = setTimeout(() => { cleanup(); reject(new Error(`no screenshot ${name} after ${timeoutMs} ms`)); }, timeoutMs);
    const cleanup = () => { watcher.close(); clearTimeout(timer); };
  });
  fs.writeFileSync(path.join(dir, `${name}.request`), '');
  await done;
  return png;
}
