/**
 * Run Snippet: the command runs a function on the emulator along the all-succeed path or a chosen
 * failure and writes the trace to the IOMMU Lens Trace output channel.
 */
import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { RunSnippetResult } from '../../../server/src/protocol';
import { FunctionPathsRequest } from '../../../server/src/protocol';
import { api, diagnostics, screenshot, workspaceFile } from './helpers';

suite('run snippet', () => {
  let doc: vscode.TextDocument;

  suiteSetup(async () => {
    await api();
    doc = await vscode.workspace.openTextDocument(workspaceFile('rx-ring.c'));
    await vscode.window.showTextDocument(doc);
    await diagnostics(doc.uri);
  });

  test('all-succeed run of a named function: calls, addresses, PTE writes, exit', async () => {
    const { ctx } = await api();
    const run = await vscode.commands.executeCommand<RunSnippetResult>('iommuLens.runSnippet', { uri: doc.uri.toString(), functionName: 'fw_map_window', failAt: null });
    assert.ok(run, 'a run');
    assert.strictEqual(run.path.failAt, null);
    const t = ctx.lastTrace;
    assert.match(t, /^== .*rx-ring\.c:\d+ fw_map_window\(\)/);
    assert.match(t, /line \d+: alloc_iova\(/);
    assert.match(t, /line \d+: iommu_map\(.*-> 0/);
    assert.match(t, /\[pte-write\]/);
    assert.match(t, /^exit: /m);
    await screenshot('run-snippet');
  });

  test('a failure chosen from the function\'s paths runs that path', async () => {
    const { ctx } = await api();
    const paths = await ctx.request(FunctionPathsRequest, { uri: doc.uri.toString(), functionName: 'fw_map_window' });
    assert.ok(paths && paths.paths.length >= 3);
    // The path on which iommu_map() fails: the IOVA from alloc_iova() leaks there.
    const failing = paths.paths.find((p) => p.failAt !== null && p.label.startsWith('iommu_map()'))!;
    const run = await vscode.commands.executeCommand<RunSnippetResult>('iommuLens.runSnippet', { uri: doc.uri.toString(), functionName: 'fw_map_window', failAt: failing.failAt });
    assert.strictEqual(run.path.failAt, failing.failAt);
    assert.ok(ctx.lastTrace.includes(run.path.label), 'the trace names the path');
    assert.match(ctx.lastTrace, /^finding: .*\[leak\]/m);
  });

  test('with lines selected it runs just those statements', async () => {
    const { ctx } = await api();
    const editor = await vscode.window.showTextDocument(doc);
    const lines = doc.getText().split('\n');
    const map = lines.findIndex((l) => l.includes('ret = iommu_map(domain, iova_dma_addr'));
    editor.selection = new vscode.Selection(map, 0, map + 2, 0);
    const run = await vscode.commands.executeCommand<RunSnippetResult>('iommuLens.runSnippet');
    assert.ok(run, 'a run');
    assert.strictEqual(run.functionName, 'fw_map_window');
    assert.match(ctx.lastTrace, new RegExp(`lines ${map + 1}-${map + 3} of fw_map_window\\(\\)`));
    assert.match(ctx.lastTrace, /iommu_map\(/);
    assert.doesNotMatch(ctx.lastTrace, /alloc_iova\(/);
    editor.selection = new vscode.Selection(map, 0, map, 0);
  });

  test('without arguments it runs the function around the cursor', async () => {
    const { ctx } = await api();
    const editor = await vscode.window.showTextDocument(doc);
    const line = doc.getText().split('\n').findIndex((l) => l.includes('RX_BUF_SIZE / 2'));
    editor.selection = new vscode.Selection(line, 2, line, 2);
    // One path (no fallible call that can fail before the unmap except the mapping): pass failAt
    // to skip the quick pick, as the code lens does.
    const run = await vscode.commands.executeCommand<RunSnippetResult>('iommuLens.runSnippet', { failAt: null });
    assert.strictEqual(run.functionName, 'rx_ring_free');
    assert.match(ctx.lastTrace, /dma_unmap_single\(/);
  });
});
