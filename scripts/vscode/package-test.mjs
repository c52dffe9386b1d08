// `npm run package` end to end: the .vsix is built for linux-x64, installs into the real VS Code
// (code-server's), and the installed extension's own bundle, with its native parser, analyses a
// fixture under the Node that VS Code's extension host runs (Node 24).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SERVER_MAIN, ensureVSCode } from './setup.mjs';

function check(name, ok, detail, out) {
  out.push({ name, ok, detail });
  process.stdout.write(`${ok ? '✔' : '✖'} ${name}${ok ? '' : `: ${detail}`}\n`);
}

export function runPackageTest() {
  const results = [];
  const { node } = ensureVSCode();
  const dir = mkdtempSync(join(tmpdir(), 'iommu-lens-vsix-'));
  const vsix = join(dir, 'iommu-lens.vsix');
  const vsce = join(ROOT, 'node_modules', '@vscode', 'vsce', 'vsce');
  const p = spawnSync(process.execPath, [vsce, 'package', '--target', 'linux-x64', '--allow-missing-repository',
    '--skip-license', '--no-rewrite-relative-links', '-o', vsix], { cwd: ROOT, encoding: 'utf8' });
  check('vsce packages a linux-x64 .vsix', p.status === 0 && existsSync(vsix), (p.stderr || p.stdout).slice(-400), results);
  if (!existsSync(vsix)) return { passed: 0, failed: 1 };
  const exts = join(dir, 'extensions');
  const i = spawnSync(node, [SERVER_MAIN, '--install-extension', vsix, '--extensions-dir', exts], { encoding: 'utf8' });
  const installed = existsSync(exts) ? readdirSync(exts).find((d) => d.startsWith('iommu-lens.iommu-lens-')) : undefined;
  check('the .vsix installs into VS Code', i.status === 0 && !!installed, (i.stderr || i.stdout).slice(-400), results);
  if (installed) {
    const ext = join(exts, installed);
    check('it carries the native parser for linux-x64',
      existsSync(join(ext, 'node_modules', 'tree-sitter', 'prebuilds', 'linux-x64', 'tree-sitter.node'))
      && existsSync(join(ext, 'node_modules', 'tree-sitter-c', 'prebuilds', 'linux-x64', 'tree-sitter-c.node')), ext, results);
    const r = spawnSync(node, [join(ext, 'dist', 'cli.js'), 'check', join(ROOT, 'examples', 'net-rx-ring.c')], { encoding: 'utf8' });
    check('the installed bundle analyses a driver under VS Code\'s Node',
      r.status === 1 && /\[leak\]/.test(r.stdout) && /\[unmap-size-mismatch\]/.test(r.stdout), `exit ${r.status}: ${r.stderr.slice(-300)}`, results);
  }
  const passed = results.filter((x) => x.ok).length;
  return { passed, failed: results.length - passed };
}
