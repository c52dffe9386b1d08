/**
 * Inline diagnostics, hover, code lenses, quick fixes and the status bar, in a real VS Code with
 * the real language server and engine, on the fixture workspace's rx-ring.c.
 */
import * as assert from 'node:assert';
import * as vscode from 'vscode';
import { api, diagnostics, expected, keysOf, ruleOf, screenshot, waitFor, workspaceFile } from './helpers';

suite('diagnostics', () => {
  let doc: vscode.TextDocument;
  let editor: vscode.TextEditor;

  suiteSetup(async () => {
    await api();
    doc = await vscode.workspace.openTextDocument(workspaceFile('rx-ring.c'));
    editor = await vscode.window.showTextDocument(doc);
  });

  test('the fixture\'s diagnostics appear inline with rule ids on the annotated lines', async () => {
    const want = expected(doc.getText());
    const ds = await diagnostics(doc.uri, (d) => keysOf(d).join() === want.join());
    assert.deepStrictEqual(keysOf(ds), want);
    for (const d of ds) {
      assert.strictEqual(d.source, 'iommu-lens');
      const code = d.code as { value: string; target: vscode.Uri };
      assert.match(code.target.toString(), /docs\/rules\.md#/, 'code links to the rule docs');
    }
    const leak = ds.find((d) => ruleOf(d) === 'leak' && d.relatedInformation?.length);
    assert.ok(leak, 'a leak carries related information');
    const line = ds.find((d) => ruleOf(d) === 'unmap-size-mismatch')!.range.start.line;
    editor.revealRange(new vscode.Range(line - 8, 0, line + 8, 0), vscode.TextEditorRevealType.AtTop);
    await screenshot('diagnostics');
  });

  test('hover on a resource shows where it was acquired and its fate on each path', async () => {
    const line = doc.getText().split('\n').findIndex((l) => l.includes('iova = alloc_iova('));
    const pos = new vscode.Position(line, doc.lineAt(line).text.indexOf('alloc_iova') + 3);
    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', doc.uri, pos);
    const text = hovers.flatMap((h) => h.contents.map((c) => (typeof c === 'string' ? c : (c as vscode.MarkdownString).value))).join('\n');
    assert.match(text, /acquired by `alloc_iova/);
    assert.match(text, /\| path \| fate \|/);
    editor.selection = new vscode.Selection(pos, pos);
    editor.revealRange(new vscode.Range(line - 3, 0, line + 12, 0), vscode.TextEditorRevealType.AtTop);
    await vscode.commands.executeCommand('editor.action.showHover');
    await screenshot('hover');
    await vscode.commands.executeCommand('editor.action.hideHover').then(undefined, () => undefined);
  });

  test('a Run Snippet code lens sits on each function that uses the API', async () => {
    const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', doc.uri);
    const fns = lenses.filter((l) => l.command?.command === 'iommuLens.runSnippet').map((l) => (l.command!.arguments![0] as { functionName: string }).functionName).sort();
    assert.deepStrictEqual(fns, ['fw_map_window', 'rx_map_buf', 'rx_probe_dma', 'rx_ring_alloc', 'rx_ring_free']);
    assert.ok(lenses.every((l) => /Run Snippet/.test(l.command!.title)));
  });

  test('the status bar item shows the server is ready with its findings', async () => {
    const { ctx } = await api();
    const text = await waitFor(ctx.onDidChangeStatus, () => (ctx.status?.state === 'ready' && ctx.status.findings > 0 ? ctx.statusText : undefined), 30_000, 'server ready');
    assert.match(text, /IOMMU Lens \d+/);
  });

  test('the quick fix adds the dma_mapping_error check and the finding goes away', async () => {
    const ds = await diagnostics(doc.uri);
    const d = ds.find((x) => ruleOf(x) === 'missing-error-path')!;
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', doc.uri, d.range, vscode.CodeActionKind.QuickFix.value);
    const fix = actions.find((a) => /dma_mapping_error/.test(a.title) && a.kind?.value === vscode.CodeActionKind.QuickFix.value);
    assert.ok(fix?.edit, `a quick fix among ${actions.map((a) => a.title)}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.match(doc.getText(), /dma_mapping_error\(ring->dev, dma\)/);
    const after = await diagnostics(doc.uri, (x) => !x.some((y) => ruleOf(y) === 'missing-error-path'));
    assert.ok(after.some((x) => ruleOf(x) === 'leak'), 'the other findings stay');
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await diagnostics(doc.uri, (x) => x.some((y) => ruleOf(y) === 'missing-error-path'));
  });
});
