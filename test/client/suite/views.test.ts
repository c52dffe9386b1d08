/**
 * The page-table inspector, the IOVA-space picture and the debug panel, after a run of
 * fw_map_window (an IOVA from alloc_iova, then iommu_map of 16 pages).
 */
import * as assert from 'node:assert';
import * as vscode from 'vscode';
import type { RunSnippetResult } from '../../../server/src/protocol';
import type { InspectorNode } from '../../../client/src/views/snapshot-model';
import type { DebugPanel } from '../../../client/src/webview/debug-panel';
import { api, diagnostics, screenshot, waitFor, workspaceFile } from './helpers';

function child(n: InspectorNode | undefined, label: RegExp): InspectorNode {
  const c = n?.children?.find((x) => label.test(x.label));
  assert.ok(c, `${n?.label} has a child ${label}: ${n?.children?.map((x) => x.label)}`);
  return c;
}

suite('views', () => {
  let doc: vscode.TextDocument;

  suiteSetup(async () => {
    await api();
    doc = await vscode.workspace.openTextDocument(workspaceFile('rx-ring.c'));
    await vscode.window.showTextDocument(doc);
    await diagnostics(doc.uri);
  });

  test('the inspector shows SMMU -> STE -> CD, the page table down to its leaf entries, IOVA ranges, reserved regions', async () => {
    const { inspector, ctx } = await api();
    await vscode.commands.executeCommand<RunSnippetResult>('iommuLens.runSnippet', { uri: doc.uri.toString(), functionName: 'fw_map_window', failAt: null });
    await vscode.commands.executeCommand('iommuLens.showInspector');
    const state = await waitFor(ctx.onDidChangeSnapshot, () => (inspector.current?.functionName === 'fw_map_window' ? inspector.current : undefined), 30_000, 'inspector state');
    assert.strictEqual(state.snapshotIndex, state.snapshotCount - 1, 'the state after the last step');
    const roots = inspector.getChildren();
    const labels = roots.map((r) => r.label);
    for (const want of ['SMMU', 'Domains', 'IOVA allocators', 'Reserved regions']) assert.ok(labels.includes(want), `${want} in ${labels}`);
    const smmu = roots.find((r) => r.label === 'SMMU');
    const sid = child(child(smmu, /^Streams \(STE\)$/), /^SID \d+/);
    child(child(sid, /^Context descriptors$/), /^SSID 0\b/);
    assert.ok(child(smmu, /^Command queue$/).children!.some((c) => c.label === 'CMD_SYNC'));
    const domains = roots.find((r) => r.label === 'Domains')!;
    const unmanaged = domains.children!.find((d) => /unmanaged/.test(d.description ?? ''));
    assert.ok(unmanaged, 'the unmanaged domain iommu_map used');
    let node = child(unmanaged, /^Page table/);
    const path: InspectorNode[] = [node];
    while (node.children?.length && !/page|block/.test(node.description ?? '')) { node = node.children[0]; path.push(node); }
    assert.match(node.label, /^L3\[\d+\] 0xffff0000–0xffff0fff → 0x[0-9a-f]+$/);
    assert.match(node.description ?? '', /page/);
    assert.match(node.tooltip ?? '', /descriptor 0x[0-9a-f]{16}/);
    const iova = roots.find((r) => r.label === 'IOVA allocators')!;
    assert.ok(JSON.stringify(iova).includes('0xffff0000–0xffffffff'), 'the 16-page range from alloc_iova');
    for (const n of path) await inspector.reveal(n, 1);
    await inspector.reveal(sid, 2);
    await screenshot('inspector');
  });

  test('the IOVA-space picture draws the allocator range, the mappings and the MSI window', async () => {
    const { iovaMap } = await api();
    await vscode.commands.executeCommand('iommuLens.iovaMap.focus');
    await iovaMap.ready;
    const kinds = new Set(iovaMap.segments.map((s) => s.kind));
    assert.deepStrictEqual([...kinds].sort(), ['allocated', 'mapped', 'reserved']);
    await screenshot('iova-map');
  });

  test('the debug panel lists the paths; choosing a step reveals its line and shows the state after it', async () => {
    const { inspector } = await api();
    const panel = await vscode.commands.executeCommand<DebugPanel>('iommuLens.showDebugPanel', { uri: doc.uri.toString(), functionName: 'fw_map_window' });
    assert.ok(panel, 'a panel');
    const drawn = await panel.whenRendered((r) => r.steps > 0);
    assert.ok(drawn.paths >= 3, `paths: ${drawn.paths}`);
    const steps = panel.shownRun!.path.steps;
    const i = steps.findIndex((s) => s.call.startsWith('iommu_map'));
    await panel.selectStep(i);
    await panel.whenRendered((r) => r.selectedStep === i);
    const editor = vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === doc.uri.toString());
    assert.strictEqual(editor?.selection.start.line, steps[i].line, 'the step\'s line is revealed and selected');
    assert.strictEqual(inspector.current?.snapshotIndex, steps[i].snapshot, 'the inspector shows the state after the step');
    assert.strictEqual(panel.current.stepIndex, i);
    await screenshot('debug-panel');
  });
});
