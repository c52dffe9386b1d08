// The editor tests (run by `npm test` through scripts/test.mjs, or `npm run test:vscode`), after
// `npm run build`:
//   1. the language server over JSON-RPC and the settings contract (node --test out/test/client/unit)
//   2. the TextMate grammars (vscode-tmgrammar-test over syntaxes/test/)
//   3. the extension suite (out/test/client/suite) in a real VS Code: code-server's VS Code in
//      headless Chromium (scripts/vscode/browser-run.mjs), with screenshots in out/screenshots/
//   4. a second LSP client: headless Neovim against `iommu-lens lsp --stdio` (scripts/vscode/nvim-test.mjs)
//   5. the .vsix: packaged, installed into VS Code, its bundle run (scripts/vscode/package-test.mjs)
// Writes out/vscode-test-summary.json {passed, failed, skipped} and exits non-zero on any failure.
// IOMMU_LENS_EDITOR_TESTS=unit,grammar,vscode,nvim picks parts; IOMMU_LENS_VERBOSE=1 shows the workbench log.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureVSCode, ROOT, VSCODE_DIR } from './vscode/setup.mjs';
import { runInBrowser } from './vscode/browser-run.mjs';
import { runNeovimTest } from './vscode/nvim-test.mjs';
import { runPackageTest } from './vscode/package-test.mjs';

process.chdir(ROOT);
const parts = new Set((process.env.IOMMU_LENS_EDITOR_TESTS ?? 'unit,grammar,vscode,nvim,package').split(',').map((s) => s.trim()));
const verbose = process.env.IOMMU_LENS_VERBOSE === '1';
const totals = { passed: 0, failed: 0, skipped: 0 };
const results = [];
const record = (name, r) => {
  totals.passed += r.passed; totals.failed += r.failed; totals.skipped += r.skipped ?? 0;
  results.push(`${name}: ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}${r.note ? ` (${r.note})` : ''}`);
};
mkdirSync('out', { recursive: true });

function unitTests() {
  const dir = 'out/test/client/unit';
  if (!existsSync(dir)) return { passed: 0, failed: 1, note: `${dir} missing: run npm run build` };
  const tap = 'out/editor-unit.tap';
  const r = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`, dir], { stdio: 'inherit' });
  const t = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const n = (k) => Number(new RegExp(`^# ${k} (\\d+)`, 'm').exec(t)?.[1] ?? 0);
  const out = { passed: n('pass'), failed: n('fail'), skipped: n('skipped') };
  if (r.status !== 0 && out.failed === 0) out.failed = 1;
  return out;
}

function grammarTests() {
  const bin = join(ROOT, 'node_modules', '.bin', 'vscode-tmgrammar-test');
  const cGrammar = join(VSCODE_DIR, 'extensions', 'cpp', 'syntaxes', 'c.tmLanguage.json');
  const files = readdirSync('syntaxes/test').filter((f) => /\.test\./.test(f)).map((f) => join('syntaxes/test', f));
  const out = { passed: 0, failed: 0 };
  for (const f of files) {
    // The injection grammar needs VS Code's own C grammar (source.c) underneath it.
    const args = f.endsWith('.c') ? ['-g', cGrammar, f] : [f];
    const r = spawnSync(bin, args, { encoding: 'utf8' });
    const text = (r.stdout ?? '') + (r.stderr ?? '');
    process.stdout.write(text.split('\n').filter((l) => !/grammar not found for "source\.(asm|x86|x86_64|arm)"/.test(l)).join('\n'));
    if (r.status === 0) out.passed++; else out.failed++;
  }
  return out;
}

async function vscodeSuite() {
  const env = ensureVSCode();
  const workspace = mkdtempSync(join(tmpdir(), 'iommu-lens-ws-'));
  cpSync('test/client/fixtures/workspace', workspace, { recursive: true });
  const summaryFile = join(ROOT, 'out', 'vscode-suite-summary.json');
  rmSync(summaryFile, { force: true });
  const screenshotDir = join(ROOT, 'out', 'screenshots');
  try {
    const code = await runInBrowser({
      ...env,
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: join(ROOT, 'out', 'test', 'client', 'suite'),
      workspacePath: workspace,
      screenshotDir,
      verbose,
      env: { IOMMU_LENS_SCREENSHOT_DIR: screenshotDir, IOMMU_LENS_TEST_SUMMARY: summaryFile },
    });
    const s = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, 'utf8')) : null;
    if (!s) return { passed: 0, failed: 1, note: `the suite reported no results (exit ${code})` };
    if (code !== 0 && s.failed === 0) s.failed = 1;
    const shots = readdirSync(screenshotDir).filter((f) => f.endsWith('.png'));
    return { ...s, note: `screenshots: ${shots.map((f) => `out/screenshots/${f}`).join(', ')}` };
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

if (parts.has('unit')) record('server (json-rpc) and settings', unitTests());
if (parts.has('grammar')) {
  try { ensureVSCode(); record('grammars', grammarTests()); } catch (e) { record('grammars', { passed: 0, failed: 1, note: e.message }); }
}
if (parts.has('vscode')) {
  try { record('VS Code extension suite', await vscodeSuite()); } catch (e) { console.error(e); record('VS Code extension suite', { passed: 0, failed: 1, note: e.message }); }
}
if (parts.has('nvim')) {
  try { record('Neovim LSP client', await runNeovimTest({ verbose })); } catch (e) { console.error(e); record('Neovim LSP client', { passed: 0, failed: 1, note: e.message }); }
}
if (parts.has('package')) {
  try { record('.vsix package', runPackageTest()); } catch (e) { console.error(e); record('.vsix package', { passed: 0, failed: 1, note: e.message }); }
}

writeFileSync('out/vscode-test-summary.json', JSON.stringify(totals) + '\n');
console.log('\n' + results.join('\n'));
console.log(`editor: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(totals.failed ? 1 : 0);
