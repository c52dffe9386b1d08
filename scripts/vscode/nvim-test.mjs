// The Neovim LSP client test: headless `nvim` (Debian's 0.7) runs test/client/nvim/lsp-diagnostics.lua,
// which starts `node bin/iommu-lens.js lsp --stdio` with vim.lsp.start_client on the fixture
// workspace's rx-ring.c; the diagnostics it receives must match the fixture's annotations.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './setup.mjs';

function expectations(text) {
  const out = [];
  text.split('\n').forEach((l, i) => {
    const m = /\/\/\s*expect:\s*([a-z-]+(?:\s*,\s*[a-z-]+)*)/.exec(l);
    if (m) for (const r of m[1].split(',')) out.push(`${i + 1}:${r.trim()}`);
  });
  return out.sort();
}

/** Runs the test; resolves to {passed, failed} (two checks), rejects when nvim is missing. */
export async function runNeovimTest({ verbose = false, timeoutMs = 60_000 } = {}) {
  const nvim = process.env.IOMMU_LENS_NVIM ?? 'nvim';
  if (spawnSync(nvim, ['--version'], { encoding: 'utf8' }).status !== 0) throw new Error(`${nvim} not found: run scripts/ci-deps.sh (apt-get install neovim)`);
  const ws = mkdtempSync(join(tmpdir(), 'iommu-lens-nvim-'));
  try {
    cpSync(join(ROOT, 'test/client/fixtures/workspace'), ws, { recursive: true });
    const file = join(ws, 'rx-ring.c');
    const outFile = join(ws, 'received.txt');
    const child = spawn(nvim, ['--headless', '--clean', '-n', '-c', `luafile ${join(ROOT, 'test/client/nvim/lsp-diagnostics.lua')}`], {
      cwd: ws,
      stdio: ['ignore', verbose ? 'inherit' : 'ignore', verbose ? 'inherit' : 'ignore'],
      env: {
        ...process.env, IOMMU_LENS_NVIM_FILE: file, IOMMU_LENS_NVIM_OUT: outFile, IOMMU_LENS_NVIM_ROOT: ws,
        IOMMU_LENS_NODE: process.execPath, IOMMU_LENS_BIN: join(ROOT, 'bin', 'iommu-lens.js'),
        XDG_STATE_HOME: join(ws, 'state'), XDG_DATA_HOME: join(ws, 'data'), XDG_CONFIG_HOME: join(ws, 'config'),
      },
    });
    const code = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`nvim did not exit in ${timeoutMs} ms`)); }, timeoutMs);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    const lines = readFileSync(outFile, 'utf8').trim().split('\n');
    const got = lines.filter((l) => /^\d+:/.test(l)).map((l) => l.split(':').slice(0, 2).join(':')).sort();
    const sources = new Set(lines.filter((l) => /^\d+:/.test(l)).map((l) => l.split(':')[2]));
    const want = expectations(readFileSync(file, 'utf8'));
    let passed = 0, failed = 0;
    if (JSON.stringify(got) === JSON.stringify(want) && sources.size === 1 && sources.has('iommu-lens')) {
      passed++;
      console.log(`✔ neovim receives the fixture's diagnostics (${got.join(', ')})`);
    } else {
      failed++;
      console.log(`✖ neovim diagnostics: got ${JSON.stringify(lines)}, want ${JSON.stringify(want)} (nvim exit ${code})`);
    }
    const stored = Number(/^vim\.diagnostic:(\d+)$/m.exec(lines.join('\n'))?.[1] ?? -1);
    if (stored === want.length) { passed++; console.log(`✔ vim.diagnostic holds ${stored} diagnostics for the buffer`); }
    else { failed++; console.log(`✖ vim.diagnostic holds ${stored}, want ${want.length}`); }
    return { passed, failed };
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
}
