/**
 * The language server end to end over JSON-RPC (no editor): diagnostics for the fixture match
 * its `// expect:` annotations and carry the contract's fields; an edit re-publishes; hover,
 * quick fixes, code lenses and the custom requests answer; a bad settings file gets diagnostics
 * on that file and the server keeps working.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CodeAction, CodeLens, Diagnostic, Hover } from 'vscode-languageserver';
import { diagnosticKeys, expectations, FIXTURES, keys, LspSession } from './lsp-harness';
import { pathToUri } from '../../../server/src/analyser';
import type { FunctionPathsResult, InspectorStateResult, RunSnippetResult } from '../../../server/src/protocol';

const FIXTURE = path.join(FIXTURES, 'rx-ring.c');
const TEXT = fs.readFileSync(FIXTURE, 'utf8');
const EXPECTED = keys(expectations(TEXT));

// Each session's server half listens on an in-memory pipe that nothing closes (closing it makes
// vscode-languageserver exit the process): end this test file's process once its tests are done.
after(() => { setImmediate(() => process.exit(process.exitCode ?? 0)); });

async function session(root = FIXTURES): Promise<LspSession> {
  const s = new LspSession(root);
  await s.initialize();
  return s;
}

test('diagnostics for the fixture match its annotations and carry source, code, href, data', async () => {
  const s = await session();
  try {
    const uri = s.open(FIXTURE);
    const ds = await s.waitForDiagnostics(uri);
    assert.deepEqual(diagnosticKeys(ds), EXPECTED);
    for (const d of ds) {
      assert.equal(d.source, 'iommu-lens');
      assert.match(String(d.codeDescription?.href), new RegExp(`docs/rules\\.md#${d.code}$`));
      assert.ok(d.data && typeof (d.data as { function: string }).function === 'string', 'data names the function');
    }
    const leak = ds.find((d) => d.code === 'leak');
    assert.ok(leak?.relatedInformation?.length, 'a leak points at the exit that loses it');
  } finally {
    await s.close();
  }
});

test('an incremental edit re-publishes: adding the missing check removes the finding', async () => {
  const s = await session();
  try {
    const uri = s.open(FIXTURE);
    await s.waitForDiagnostics(uri);
    const lines = TEXT.split('\n');
    const at = lines.findIndex((l) => l.includes('// expect: missing-error-path'));
    const insert = '\tif (dma_mapping_error(ring->dev, dma))\n\t\treturn -ENOMEM;\n';
    s.change(uri, 2, [{ range: { start: { line: at + 1, character: 0 }, end: { line: at + 1, character: 0 } }, text: insert }]);
    const ds = await s.waitForDiagnostics(uri, (d) => !d.some((x) => x.code === 'missing-error-path'));
    assert.deepEqual(diagnosticKeys(ds), EXPECTED.filter((k) => !k.endsWith(':missing-error-path')).map((k) => {
      const [line, rule] = k.split(':');
      return Number(line) > at + 1 ? `${Number(line) + 2}:${rule}` : k;
    }).sort());
  } finally {
    await s.close();
  }
});

test('one-character edits inside a comment do not re-publish unchanged diagnostics', async () => {
  const s = await session();
  try {
    const uri = s.open(FIXTURE);
    await s.waitForDiagnostics(uri);
    const before = s.published(uri).length;
    // Type "xy" into the header comment, one character per change, then wait for the analysis
    // of the last version through a request that needs it (code lenses).
    s.change(uri, 2, [{ range: { start: { line: 1, character: 3 }, end: { line: 1, character: 3 } }, text: 'x' }]);
    s.change(uri, 3, [{ range: { start: { line: 1, character: 4 }, end: { line: 1, character: 4 } }, text: 'y' }]);
    await s.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    assert.equal(s.published(uri).length, before, 'no new publishDiagnostics for an edit that changes nothing');
  } finally {
    await s.close();
  }
});

test('hover on a resource says where it was acquired and its fate per path', async () => {
  const s = await session();
  try {
    const uri = s.open(FIXTURE);
    await s.waitForDiagnostics(uri);
    const lines = TEXT.split('\n');
    const line = lines.findIndex((l) => l.includes('iova = alloc_iova('));
    const character = lines[line].indexOf('alloc_iova') + 2;
    const h = await s.request<Hover | null>('textDocument/hover', { textDocument: { uri }, position: { line, character } });
    assert.ok(h, 'a hover');
    const value = (h.contents as { value: string }).value;
    assert.match(value, /acquired by `alloc_iova/);
    assert.match(value, /\| path \| fate \|/);
  } finally {
    await s.close();
  }
});

test('quick fix for a missing dma_mapping_error check comes from Finding.fix', async () => {
  const s = await session();
  try {
    const uri = s.open(FIXTURE);
    const ds = await s.waitForDiagnostics(uri);
    const d = ds.find((x) => x.code === 'missing-error-path') as Diagnostic;
    const actions = await s.request<CodeAction[]>('textDocument/codeAction', { textDocument: { uri }, range: d.range, context: { diagnostics: [d] } });
    assert.ok(actions.length >= 1, 'a code action');
    assert.equal(actions[0].kind, 'quickfix');
    const edits = actions[0].edit?.changes?.[uri] ?? [];
    assert.ok(edits.some((e) => e.newText.includes('dma_mapping_error')), JSON.stringify(edits));
  } finally {
    await s.close();
  }
});

test('code lenses run the snippet on each function that uses the API', async () => {
  const s = await session();
  try {
    const uri = s.open(FIXTURE);
    await s.waitForDiagnostics(uri);
    const lenses = await s.request<CodeLens[]>('textDocument/codeLens', { textDocument: { uri } });
    const names = lenses.map((l) => (l.command?.arguments?.[0] as { functionName: string }).functionName).sort();
    assert.deepEqual(names, ['fw_map_window', 'rx_map_buf', 'rx_probe_dma', 'rx_ring_alloc', 'rx_ring_free']);
    assert.ok(lenses.every((l) => l.command?.command === 'iommuLens.runSnippet'));
  } finally {
    await s.close();
  }
});

test('custom requests: function paths, run snippet (all succeed and a failure), inspector state', async () => {
  const s = await session();
  try {
    const uri = s.open(FIXTURE);
    await s.waitForDiagnostics(uri);
    const paths = await s.request<FunctionPathsResult>('iommuLens/functionPaths', { uri, functionName: 'fw_map_window' });
    assert.equal(paths.functionName, 'fw_map_window');
    assert.ok(paths.paths.length >= 3, `all-succeed + two failures, got ${paths.paths.map((p) => p.label)}`);
    assert.equal(paths.paths[0].failAt, null);
    const none = await s.request<InspectorStateResult | null>('iommuLens/inspectorState', {});
    assert.equal(none, null, 'no state before a run');
    const ok = await s.request<RunSnippetResult>('iommuLens/runSnippet', { uri, functionName: 'fw_map_window', failAt: null });
    assert.ok(ok.path.steps.some((st) => st.call.startsWith('alloc_iova')), 'the trace has the alloc_iova call');
    assert.ok(ok.path.steps.some((st) => st.call.startsWith('iommu_map')), 'and the iommu_map call');
    assert.match(ok.text, /^== .*fw_map_window\(\)/);
    const failing = paths.paths.find((p) => p.failAt !== null)!;
    const bad = await s.request<RunSnippetResult>('iommuLens/runSnippet', { uri, functionName: 'fw_map_window', failAt: failing.failAt });
    assert.notEqual(bad.path.label, ok.path.label);
    const state = await s.request<InspectorStateResult>('iommuLens/inspectorState', {});
    assert.equal(state.functionName, 'fw_map_window');
    assert.equal(state.snapshotCount, bad.path.snapshots.length);
    // By position: the function containing a line of its body.
    const line = TEXT.split('\n').findIndex((l) => l.includes('dma_unmap_single(ring->dev, dma, RX_BUF_SIZE / 2'));
    const byPos = await s.request<FunctionPathsResult>('iommuLens/functionPaths', { uri, position: { line, character: 2 } });
    assert.equal(byPos.functionName, 'rx_ring_free');
  } finally {
    await s.close();
  }
});

test('a bad .iommu-lens.json gets diagnostics on that file; its good fields still apply; the server keeps working', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-settings-'));
  try {
    fs.writeFileSync(path.join(dir, '.iommu-lens.json'), '{\n  "smmu": { "granule": 1234 },\n  "rules": { "leak": "off" }\n}\n');
    fs.copyFileSync(FIXTURE, path.join(dir, 'rx-ring.c'));
    const s = await session(dir);
    try {
      const settingsUri = pathToUri(path.join(dir, '.iommu-lens.json'));
      const cfg = await s.waitForDiagnostics(settingsUri, (d) => d.length > 0);
      assert.equal(cfg[0].code, 'config');
      assert.equal(cfg[0].range.start.line, 1, 'placed on the granule key');
      assert.match(String(cfg[0].message), /smmu\.granule/);
      const uri = s.open(path.join(dir, 'rx-ring.c'));
      const ds = await s.waitForDiagnostics(uri);
      assert.deepEqual(diagnosticKeys(ds), EXPECTED.filter((k) => !k.endsWith(':leak')), 'rules.leak = off applied');
      // Unparseable JSON: still a diagnostic, still no crash.
      fs.writeFileSync(path.join(dir, '.iommu-lens.json'), '{ "smmu": ');
      void s.client.sendNotification('workspace/didChangeWatchedFiles', { changes: [{ uri: settingsUri, type: 2 }] });
      const broken = await s.waitForDiagnostics(settingsUri, (d) => d.some((x) => /not valid JSON/.test(String(x.message))), 20_000, true);
      assert.equal(broken[0].code, 'config');
      const again = await s.waitForDiagnostics(uri, (d) => d.some((x) => x.code === 'leak'), 20_000, true);
      assert.deepEqual(diagnosticKeys(again), EXPECTED, 'defaults again: leak back on');
    } finally {
      await s.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
