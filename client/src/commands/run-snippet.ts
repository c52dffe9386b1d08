/**
 * `IOMMU Lens: Run Snippet` (command palette, editor context menu, code lens): run a function (or
 * the lines selected in it) on the emulator along the all-succeed path or a failure chosen by quick
 * pick, and write the trace to the `IOMMU Lens Trace` output channel.
 */
import * as vscode from 'vscode';
import type { Ctx } from '../ctx';
import {
  FunctionPathsRequest, FunctionRef, PathSummary, RunSnippetRequest, RunSnippetResult,
} from '../../../server/src/protocol';

/** Arguments the command accepts: a code lens's FunctionRef, optionally with the path to run. */
export interface RunSnippetArgs extends Partial<FunctionRef> {
  /** Run this failure (PathTrace.failAt) or null for all-succeed, without asking. */
  failAt?: number | null;
}

/** Resolves the function: the argument's, else the one around the active editor's selection. */
export function functionRefFrom(args: RunSnippetArgs | vscode.Uri | undefined): FunctionRef | undefined {
  if (args && !(args instanceof vscode.Uri) && args.uri) {
    return { uri: args.uri, functionName: args.functionName, position: args.position };
  }
  const editor = vscode.window.activeTextEditor;
  if (!editor) return undefined;
  const uri = args instanceof vscode.Uri ? args.toString() : editor.document.uri.toString();
  if (uri !== editor.document.uri.toString()) return { uri };
  const p = editor.selection.active;
  return { uri, position: { line: p.line, character: p.character } };
}

/** The quick pick of a function's paths; undefined when the user dismisses it. */
async function pickPath(paths: PathSummary[], functionName: string): Promise<PathSummary | undefined> {
  if (paths.length <= 1) return paths[0];
  type Item = vscode.QuickPickItem & { path: PathSummary };
  const items: Item[] = paths.map((p) => ({
    label: p.failAt === null ? `$(pass) ${p.label}` : `$(error) ${p.label}`,
    description: p.exit,
    detail: p.findings.length ? `shows: ${p.findings.join(', ')}` : undefined,
    path: p,
  }));
  const chosen = await vscode.window.showQuickPick(items, {
    title: `Run ${functionName}() on the emulator`,
    placeHolder: 'All calls succeed, or choose the call that fails',
    matchOnDescription: true,
  });
  return chosen?.path;
}

/** Runs the snippet; resolves to the run (or undefined when cancelled or no function is found). */
export async function runSnippet(ctx: Ctx, args?: RunSnippetArgs | vscode.Uri): Promise<RunSnippetResult | undefined> {
  const ref = functionRefFrom(args);
  if (!ref) {
    void vscode.window.showWarningMessage('IOMMU Lens: open a C file and place the cursor in a function to run it.');
    return undefined;
  }
  const paths = await ctx.request(FunctionPathsRequest, ref);
  if (!paths) {
    void vscode.window.showWarningMessage('IOMMU Lens: no function at the cursor.');
    return undefined;
  }
  let failAt: number | null;
  const given = args && !(args instanceof vscode.Uri) ? args.failAt : undefined;
  // From the palette or the context menu with lines selected: run just those statements.
  const editor = vscode.window.activeTextEditor;
  const fromEditor = !(args && !(args instanceof vscode.Uri) && args.uri) && editor && editor.document.uri.toString() === ref.uri;
  const selection = fromEditor && !editor.selection.isEmpty
    ? { start: { line: editor.selection.start.line, character: editor.selection.start.character },
      end: { line: editor.selection.end.line, character: editor.selection.end.character } }
    : undefined;
  if (given !== undefined) failAt = given;
  else if (selection) failAt = null;
  else {
    const chosen = await pickPath(paths.paths, paths.functionName);
    if (paths.paths.length > 1 && !chosen) return undefined;
    failAt = chosen?.failAt ?? null;
  }
  const run = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `IOMMU Lens: running ${paths.functionName}()` },
    () => ctx.request(RunSnippetRequest, { uri: ref.uri, functionName: paths.functionName, failAt, selection }),
  );
  if (!run) {
    void vscode.window.showWarningMessage(`IOMMU Lens: ${paths.functionName}() could not be run.`);
    return undefined;
  }
  const text = run.text;
  ctx.traceChannel.clear();
  ctx.traceChannel.append(text);
  ctx.traceChannel.show(true); // reveal without taking the focus from the editor
  ctx.setLastRun(run, text);
  return run;
}

/** Registers the command. */
export function registerRunSnippet(ctx: Ctx): vscode.Disposable {
  return vscode.commands.registerCommand('iommuLens.runSnippet', (args?: RunSnippetArgs | vscode.Uri) => runSnippet(ctx, args));
}
