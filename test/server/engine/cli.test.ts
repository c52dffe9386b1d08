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

/** A folder of drivers to check more than once: the examples and some fixtures. */
function someDrivers(): string {
  const d = tmpdir();
  for (const f of fs.readdirSync(path.join(ROOT, 'examples')).filter((x) => x.endsWith('.c'))) fs.copyFileSync(path.join(ROOT, 'examples', f), path.join(d, f));
  for (const f of fs.readdirSync(path.join(ROOT, 'test/server/fixtures/leak')).filter((x) => x.endsWith('.c')).slice(0, 4)) {
    fs.copyFileSync(path.join(ROOT, 'test/server/fixtures/leak', f), path.join(d, 'leak-' + f));
  }
  return d;
}

test('check --jobs: worker threads print what one thread prints, byte for byte, in file order', () => {
  const d = someDrivers();
  fs.writeFileSync(path.join(d, 'blob.c'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 1, 2]));
  for (const format of ['text', 'json', 'sarif']) {
    const one = cli(['check', '--no-cache', '--jobs', '1', '--format', format, '.'], d);
    const two = cli(['check', '--no-cache', '--jobs', '3', '--format', format, '.'], d);
    assert.equal(one.code, 1, one.err);
    assert.equal(two.code, 1, two.err);
    assert.equal(two.out, one.out, format);
    for (const r of [one, two]) assert.match(r.err, /skipping .*blob\.c: binary file/, `${format}: a binary file is a skip in a worker too`);
  }
  const json = JSON.parse(cli(['check', '--no-cache', '--format', 'json', '.'], d).out);
  assert.deepEqual(json.map((f: any) => path.basename(f.uri)), [...json.map((f: any) => path.basename(f.uri))].sort(), 'files in order');
  assert.ok(json.every((f: any) => f.parse.millis === undefined), 'no timing in the JSON');
  const bad = cli(['check', '--jobs', '0', '.'], d);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--jobs needs a positive number/);
});

test('check --cache: a second run reads unchanged files from the cache and analyses only the changed one', () => {
  const d = someDrivers();
  const cache = path.join(tmpdir(), 'c');
  const first = cli(['check', '--cache', cache, '.'], d);
  assert.equal(first.code, 1, first.err);
  assert.doesNotMatch(first.err, /from the cache/);
  const files = fs.readdirSync(d).filter((x) => x.endsWith('.c'));
  // one file changed: a leak added at its end
  fs.appendFileSync(path.join(d, files[0]), '\nint added_leak(struct device *dev)\n{\n\tvoid *p = dma_alloc_coherent(dev, 64, &h, GFP_KERNEL);\n\tif (!p)\n\t\treturn -ENOMEM;\n\tif (dev->x)\n\t\treturn -EIO;\n\treturn 0;\n}\n');
  const second = cli(['check', '--cache', cache, '.'], d);
  assert.match(second.err, new RegExp(`\\(${files.length - 1} file\\(s\\) from the cache\\)`));
  const fresh = cli(['check', '--no-cache', '.'], d);
  assert.equal(second.out, fresh.out, 'cached results are the results');
  assert.match(second.out, /added_leak|dma_alloc_coherent\(\) at line \d+ is not freed/);
  // the default: under the workspace's .iommu-lens/
  cli(['check', '.'], d);
  assert.ok(fs.existsSync(path.join(d, '.iommu-lens', 'cache')));
});

test('a corrupt or read-only cache costs a one-line message, never a result', () => {
  const d = someDrivers();
  const cache = path.join(tmpdir(), 'c');
  const expected = cli(['check', '--no-cache', '.'], d).out;
  cli(['check', '--cache', cache, '.'], d);
  const entries = (fs.readdirSync(cache, { recursive: true }) as string[]).filter((e) => e.endsWith('.json'));
  assert.ok(entries.length >= 3);
  fs.writeFileSync(path.join(cache, entries[0]), '{"key": "trunc');
  fs.writeFileSync(path.join(cache, entries[1]), Buffer.from([0, 1, 2, 3]));
  const r = cli(['check', '--cache', cache, '.'], d);
  assert.equal(r.code, 1);
  assert.equal(r.out, expected);
  assert.match(r.err, /2 unreadable cache entries in .* analysed again and replaced/);
  const again = cli(['check', '--cache', cache, '.'], d);
  assert.doesNotMatch(again.err, /unreadable cache/);
  // read-only (as root, permissions do not stop writes: a file where the directory should be does)
  const ro = path.join(tmpdir(), 'ro');
  fs.writeFileSync(ro, 'not a directory');
  const r2 = cli(['check', '--cache', ro, '.'], d);
  assert.equal(r2.code, 1);
  assert.equal(r2.out, expected);
  assert.match(r2.err, /cache .* cannot be written \(\w+\); results were not cached/);
});

test('an unreadable file is reported and the rest still analysed, exit 2', () => {
  const d = someDrivers();
  const r = cli(['check', '--no-cache', path.join(d, 'net-rx-ring.c'), path.join(d, 'missing.c'), path.join(d, 'crypto-sg.c')], d);
  assert.equal(r.code, 2);
  assert.match(r.err, /cannot read .*missing\.c: no such file or directory/);
  assert.match(r.out, /net-rx-ring\.c:\d+:\d+: /);
  assert.match(r.out, /crypto-sg\.c:\d+:\d+: /);
});

test('the cache removes the directory of an engine build no run has used for a week', () => {
  const d = someDrivers();
  const cache = path.join(tmpdir(), 'c');
  const stale = path.join(cache, '0123456789abcdef');
  const recent = path.join(cache, 'fedcba9876543210');
  for (const x of [stale, recent]) { fs.mkdirSync(path.join(x, 'ab'), { recursive: true }); fs.writeFileSync(path.join(x, '.used'), ''); }
  const old = new Date(Date.now() - 8 * 24 * 3600 * 1000);
  fs.utimesSync(path.join(stale, '.used'), old, old);
  const other = path.join(cache, 'notes');
  fs.mkdirSync(other);
  cli(['check', '--cache', cache, '.'], d);
  assert.ok(!fs.existsSync(stale), 'a week unused: removed');
  assert.ok(fs.existsSync(recent), 'used recently: kept');
  assert.ok(fs.existsSync(other), 'not ours: kept');
});
