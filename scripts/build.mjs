// Bundles the extension client, the language server and the CLI with esbuild.
// tsc -b (run first by `npm run build`) type-checks and emits out/ for the tests;
// esbuild produces the shipped bundles in dist/.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  // Native N-API parser: loaded from node_modules at run time (see README, "Why native tree-sitter").
  external: ['vscode', 'tree-sitter', 'tree-sitter-c'],
};
const entries = [
  { entryPoints: ['client/src/extension.ts'], outfile: 'dist/client.js' },
  { entryPoints: ['server/src/server-main.ts'], outfile: 'dist/server.js' },
  { entryPoints: ['server/src/cli.ts'], outfile: 'dist/cli.js' },
];
for (const e of entries) {
  const opts = { ...common, ...e };
  if (watch) await (await esbuild.context(opts)).watch();
  else await esbuild.build(opts);
}
