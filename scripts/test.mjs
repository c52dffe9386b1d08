// `npm test`: the node unit/fixture suites, then the extension suite in a real VS Code
// (when one is installed, see scripts/vscode-test.mjs), then one closing line for CI.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync } from 'node:fs';

mkdirSync('out', { recursive: true });
let passed = 0, failed = 0, skipped = 0;
const suites = ['out/test/emulator', 'out/test/server'].filter((d) => existsSync(d));
const tap = 'out/unit.tap';
const r = spawnSync(process.execPath, [
  '--test', '--test-reporter=spec', '--test-reporter-destination=stdout',
  '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...suites,
], { stdio: 'inherit' });
if (existsSync(tap)) {
  const t = readFileSync(tap, 'utf8');
  passed += Number(/^# pass (\d+)/m.exec(t)?.[1] ?? 0);
  failed += Number(/^# fail (\d+)/m.exec(t)?.[1] ?? 0);
  skipped += Number(/^# skipped (\d+)/m.exec(t)?.[1] ?? 0);
}
if (r.status !== 0 && failed === 0) failed = 1;

if (existsSync('scripts/vscode-test.mjs') && !process.env.IOMMU_LENS_SKIP_VSCODE) {
  const v = spawnSync(process.execPath, ['scripts/vscode-test.mjs'], { stdio: ['inherit', 'inherit', 'inherit'] });
  const summary = existsSync('out/vscode-test-summary.json')
    ? JSON.parse(readFileSync('out/vscode-test-summary.json', 'utf8')) : null;
  if (summary) { passed += summary.passed; failed += summary.failed; skipped += summary.skipped ?? 0; }
  if (v.status !== 0 && (!summary || summary.failed === 0)) failed += 1;
}
console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed ? 1 : 0);
