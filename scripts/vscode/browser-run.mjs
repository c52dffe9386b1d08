// Runs an extension test suite in a real VS Code: the VS Code server bundled in code-server, with
// its web workbench opened in headless Chromium through playwright-core, the way VS Code runs its
// own browser integration tests (test/integration/browser): the `extensionDevelopmentPath` and
// `extensionTestsPath` payload goes in the URL, the workbench runs the suite in the (remote, Node)
// extension host and reports the exit code through `window.codeAutomationExit`.
//
// Screenshots: a test writes `<name>.request` into the screenshot folder; this driver answers with
// `<name>.png` (a test waits for the file; see test/client/suite/helpers.ts).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

/** Chromium flags for a headless root session on a machine without network. */
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Start the VS Code server and wait for its "Web UI available at" line.
 * Rejects when the server exits first or does not come up within `timeoutMs`.
 */
function startServer({ node, serverMain, dataDir, verbose, timeoutMs = 60_000 }) {
  const args = [
    serverMain, '--host', '127.0.0.1', '--port', '0', '--without-connection-token',
    '--accept-server-license-terms', '--enable-smoke-test-driver', '--disable-telemetry',
    '--server-data-dir', join(dataDir, 'server'), '--user-data-dir', join(dataDir, 'user'),
    '--extensions-dir', join(dataDir, 'extensions'), '--log', verbose ? 'trace' : 'info',
  ];
  const server = spawn(node, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VSCODE_AGENT_FOLDER: join(dataDir, 'agent'), VSCODE_BROWSER: 'chromium' },
    detached: true,
  });
  let out = '';
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`VS Code server did not start in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (d) => {
      const s = d.toString();
      out += s;
      if (verbose) process.stderr.write(`[server] ${s}`);
      const m = /Web UI available at (\S+)/.exec(out);
      if (m) { clearTimeout(timer); res({ server, endpoint: new URL(m[1]) }); }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', (d) => { out += d; if (verbose) process.stderr.write(`[server] ${d}`); });
    server.on('exit', (code) => { clearTimeout(timer); rej(new Error(`VS Code server exited ${code}:\n${out}`)); });
  });
}

function remoteUri(endpoint, path) {
  return `vscode-remote://${endpoint.host}${resolve(path)}`;
}

/**
 * Run the suite. Resolves to the exit code the workbench reported (0: all passed), or rejects on
 * a harness failure (server, browser, time-out).
 * @param {{node:string, serverMain:string, chromium:string, extensionDevelopmentPath:string,
 *   extensionTestsPath:string, workspacePath:string, screenshotDir:string, timeoutMs?:number,
 *   verbose?:boolean, env?:Record<string,string>}} o
 */
export async function runInBrowser(o) {
  const dataDir = mkdtempSync(join(tmpdir(), 'iommu-lens-vscode-'));
  mkdirSync(o.screenshotDir, { recursive: true });
  for (const f of readdirSync(o.screenshotDir)) if (f.endsWith('.request')) unlinkSync(join(o.screenshotDir, f));
  const settings = join(dataDir, 'user', 'User');
  mkdirSync(settings, { recursive: true });
  // Quiet, deterministic workbench: no welcome page, no trust prompt, no telemetry banner.
  writeFileSync(join(settings, 'settings.json'), JSON.stringify({
    'workbench.startupEditor': 'none',
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'workbench.tips.enabled': false,
    'extensions.autoUpdate': false,
    'extensions.autoCheckUpdates': false,
    'update.mode': 'none',
    'editor.minimap.enabled': false,
    'window.commandCenter': false,
    'chat.disableAIFeatures': true,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
  }, null, 2));
  Object.assign(process.env, o.env ?? {});

  const { server, endpoint } = await startServer({ node: o.node, serverMain: o.serverMain, dataDir, verbose: o.verbose });
  const killServer = () => { try { process.kill(-server.pid, 'SIGTERM'); } catch { /* gone */ } };
  process.once('exit', killServer);
  // playwright-core gives each launch a fresh, empty --user-data-dir of its own.
  const browser = await chromium.launch({
    executablePath: o.chromium, headless: true, args: CHROMIUM_ARGS.filter((a) => a !== '--headless'),
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  let watcher;
  try {
    const exitCode = new Promise((res) => {
      page.exposeFunction('codeAutomationExit', (code) => res(code));
    });
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      (console[type] ?? console.log)(...args);
    });
    page.on('console', (msg) => {
      const t = msg.text();
      if (o.verbose || /^\s*(✔|✓|\d+\)|[0-9]+ passing|[0-9]+ failing|[0-9]+ pending)|Error|failed/i.test(t)) {
        if (!/Failed to load resource|ERR_NAME_NOT_RESOLVED|ERR_INTERNET_DISCONNECTED/.test(t)) console.log(`[page] ${t}`);
      }
    });
    page.on('pageerror', (e) => console.error(`[page error] ${e}`));

    // Screenshot requests from the tests (which run in the extension host, on this machine).
    const pending = new Set();
    const serve = async (file) => {
      if (!file?.endsWith('.request') || pending.has(file)) return;
      const req = join(o.screenshotDir, file);
      if (!existsSync(req)) return;
      pending.add(file);
      const name = file.slice(0, -'.request'.length);
      try {
        await page.screenshot({ path: join(o.screenshotDir, `${name}.png`) });
      } catch (e) {
        writeFileSync(join(o.screenshotDir, `${name}.error`), String(e));
      } finally {
        rmSync(req, { force: true });
        pending.delete(file);
      }
    };
    watcher = watch(o.screenshotDir, (_ev, file) => { void serve(file); });

    const payload = JSON.stringify([
      ['extensionDevelopmentPath', remoteUri(endpoint, o.extensionDevelopmentPath)],
      ['extensionTestsPath', remoteUri(endpoint, o.extensionTestsPath)],
      ['skipWelcome', 'true'],
      ['skipReleaseNotes', 'true'],
    ]);
    const url = new URL(endpoint.href);
    url.searchParams.set('folder', remoteUri(endpoint, o.workspacePath));
    url.searchParams.set('payload', payload);
    await page.goto(url.href);

    const timeoutMs = o.timeoutMs ?? 300_000;
    let timer;
    const timeout = new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`suite did not finish in ${timeoutMs} ms`)), timeoutMs); });
    try {
      return await Promise.race([exitCode, timeout]);
    } catch (e) {
      await page.screenshot({ path: join(o.screenshotDir, 'timeout.png') }).catch(() => {});
      throw e;
    } finally {
      clearTimeout(timer);
    }
  } finally {
    watcher?.close();
    await browser.close().catch(() => {});
    killServer();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
