/**
 * The command line as a user and CI meet it: exit statuses, text lines as compilers print
 * them, SARIF 2.1.0, `run` traces, and one-line reasons for bad input. Runs the bundled
 * dist/cli.js (built by `npm test` before the suites run).
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { extractAnnotations } from './annotations';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/iommu-lens.js');

function cli(args: string[], cwd = ROOT) {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const made: string[] = [];
function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-test-'));
  made.push(d);
  return d;
}

// Leave no scratch directories behind (a test may have made one read-only).
after(() => {
  for (const d of made) {
    try {
      for (const e of fs.readdirSync(d, { recursive: true }) as string[]) fs.chmodSync(path.join(d, e), 0o755);
      fs.chmodSync(d, 0o755);
    } catch { /* gone already */ }
    fs.rmSync(d, { recursive: true, force: true });
  }
});

test('check prints file:line:col: severity: message [rule] and exits 1 on findings', () => {
  const r = cli(['check', 'examples/']);
  assert.equal(r.code, 1, r.err);
  const lines = r.out.trim().split('\n');
  assert.ok(lines.length >= 5);
  for (const l of lines) assert.match(l, /^examples\/[\w-]+\.c:\d+:\d+: (error|warning|note): .+ \[[a-z-]+\]$/);
  // every expected finding of the examples is printed on its line
  for (const f of fs.readdirSync(path.join(ROOT, 'examples')).filter((x) => x.endsWith('.c'))) {
    const { expected } = extractAnnotations(fs.readFileSync(path.join(ROOT, 'examples', f), 'utf8'));
    for (const e of expected) assert.ok(lines.some((l) => l.startsWith(`examples/${f}:${e.line}:`) && l.endsWith(`[${e.rule}]`)), `${f}:${e.line} ${e.rule}`);
  }
});

test('check exits 0 on clean code', () => {
  const r = cli(['check', 'test/server/fixtures/clean/']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.equal(r.out, '');
});

test('--format sarif is SARIF 2.1.0 with every rule described and results on the reported lines', () => {
  const r = cli(['check', '--format', 'sarif', 'examples/net-rx-ring.c']);
  assert.equal(r.code, 1);
  const s = JSON.parse(r.out);
  assert.equal(s.version, '2.1.0');
  const run = s.runs[0];
  assert.equal(run.tool.driver.name, 'iommu-lens');
  const ids = run.tool.driver.rules.map((x: { id: string }) => x.id);
  for (const id of ['leak', 'unmap-size-mismatch', 'unreserved-iova', 'missing-error-path']) assert.ok(ids.includes(id), id);
  const { expected } = extractAnnotations(fs.readFileSync(path.join(ROOT, 'examples/net-rx-ring.c'), 'utf8'));
  const got = run.results.map((x: any) => `${x.locations[0].physicalLocation.region.startLine}:${x.ruleId}`).sort();
  assert.deepEqual(got, expected.map((e) => `${e.line}:${e.rule}`).sort());
  for (const x of run.results) {
    assert.equal(run.tool.driver.rules[x.ruleIndex].id, x.ruleId);
    assert.equal(x.locations[0].physicalLocation.artifactLocation.uri, 'examples/net-rx-ring.c');
  }
});

test('--format json gives each finding with the path that shows it', () => {
  const r = cli(['check', '--format', 'json', 'examples/crypto-sg.c']);
  const files = JSON.parse(r.out);
  const findings = files[0].functions.flatMap((f: any) => f.findings);
  const leak = findings.find((f: any) => f.rule === 'leak');
  assert.ok(leak.path && leak.path.steps.length > 0, 'leak carries its path');
  assert.ok(leak.related.length > 0);
});

test('bad usage and unreadable input exit 2 with a one-line reason', () => {
  const cases: [string[], RegExp][] = [
    [['check', '--format', 'xml', 'examples'], /--format must be text, json or sarif/],
    [['check', '--bogus', 'examples'], /unknown option '--bogus'/],
    [['check'], /at least one file or folder/],
    [['check', 'no/such/file.c'], /cannot read no\/such\/file\.c: no such file or directory/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['run', 'examples/net-rx-ring.c:no_such_fn'], /no function named no_such_fn/],
    [['run', 'examples/net-rx-ring.c', '--fail', 'x'], /--fail needs a non-negative number/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1, `one line for ${args.join(' ')}: ${r.err}`);
  }
  const empty = tmpdir();
  fs.writeFileSync(path.join(empty, 'notes.txt'), 'x');
  const r = cli(['check', empty]);
  assert.equal(r.code, 2);
  assert.match(r.err, /no \.c or \.h files under/);
});

test('a binary file is skipped with a message, and a broken config names the field', () => {
  const d = tmpdir();
  fs.writeFileSync(path.join(d, 'blob.c'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2]));
  fs.copyFileSync(path.join(ROOT, 'test/server/fixtures/clean/size-match.c'), path.join(d, 'ok.c'));
  fs.writeFileSync(path.join(d, '.iommu-lens.json'), JSON.stringify({ smmu: { granule: 5000 }, budget: { maxPaths: 64 } }));
  const r = cli(['check', '.'], d);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.err, /skipping .*blob\.c: binary file/);
  assert.match(r.err, /\.iommu-lens\.json:1:1: warning: smmu\.granule: .* using the default \[config\]/);
  fs.writeFileSync(path.join(d, '.iommu-lens.json'), '{ not json');
  const r2 = cli(['check', '.'], d);
  assert.equal(r2.code, 0);
  assert.match(r2.err, /not valid JSON/);
});

test('unparsable C and a huge function are analysed without a crash', () => {
  const d = tmpdir();
  const body = Array.from({ length: 3000 }, (_, i) => `\tif (x${i}) y = dma_map_single(dev, p, ${i + 1}, DMA_TO_DEVICE);`).join('\n');
  fs.writeFileSync(path.join(d, 'huge.c'), `int huge(struct device *dev, void *p)\n{\n\tdma_addr_t y;\n${body}\n\treturn 0;\n}\n`);
  fs.writeFileSync(path.join(d, 'broken.c'), 'int f(struct device *dev) { dma_addr_t d = dma_map_single(dev, p, 64, DMA_TO_DEVICE); ))) {{ \n');
  const r = cli(['check', '--format', 'json', '.'], d);
  assert.ok(r.code === 0 || r.code === 1, r.err);
  const files = JSON.parse(r.out);
  const huge = files.find((f: any) => f.uri.endsWith('huge.c')).functions[0];
  assert.ok(huge.findings.some((x: any) => x.rule === 'budget'), 'the huge function reports its budget');
});

test('run prints each call with hex addresses, the emulator events and the end state', () => {
  const r = cli(['run', 'examples/net-rx-ring.c']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^== examples\/net-rx-ring\.c:\d+ \w+\(\) — all calls succeed/);
  assert.match(r.out, /line \d+: dma_alloc_coherent\(.*\) -> cpu 0x[0-9a-f]+, dma 0x[0-9a-f]+/);
  assert.match(r.out, /state at the end:/);
  const f = cli(['run', 'examples/net-rx-ring.c', '--fail', '0']);
  assert.match(f.out, /injected failure/);
});

test('run --lines runs only the selected statements of a function', () => {
  const r = cli(['run', 'examples/dsp-firmware-iommu.c:dsp_iommu_init', '--lines', '58-62']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^== examples\/dsp-firmware-iommu\.c:\d+ lines 58-62 of dsp_iommu_init\(\)/);
  assert.match(r.out, /^line 60: iommu_map\(/m);
  assert.doesNotMatch(r.out, /iommu_paging_domain_alloc\(|iommu_attach_device\(/, 'calls outside the lines do not run');
  const bad = cli(['run', 'examples/dsp-firmware-iommu.c:dsp_iommu_init', '--lines', '1-3']);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /is not inside dsp_iommu_init\(\)/);
});
