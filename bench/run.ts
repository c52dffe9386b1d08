/**
 * `npm run bench`: prints each benchmark as the median of several runs.
 */
import { benchEmulator, BenchResult } from './emulator';
import { benchEngine } from './engine';
import { benchEditor, benchEditorMemory } from './editor';
import { benchCorpus } from './corpus';

function fmt(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(2);
}

function printTable(title: string, rows: (BenchResult & { p95?: number })[]): void {
  const w = Math.max(...rows.map((r) => r.name.length), 10);
  console.log(`\n${title}`);
  console.log(`${'benchmark'.padEnd(w)}  ${'median'.padStart(14)}  ${'p95'.padStart(10)}  unit`);
  for (const r of rows) console.log(`${r.name.padEnd(w)}  ${fmt(r.median).padStart(14)}  ${(r.p95 === undefined ? '' : fmt(r.p95)).padStart(10)}  ${r.unit}`);
}

const only = process.argv[2];
const runsAt = process.argv.indexOf('--runs');
const runs = runsAt > 0 ? Math.max(1, Number(process.argv[runsAt + 1]) || 3) : 3;
// The corpus benchmark takes minutes: only when asked for (`npm run bench -- corpus`).
if (only === 'editor-memory') void benchEditorMemory().then((rows) => { printTable('language server memory (dist/server.js over stdio)', rows); process.exit(0); });
if (only === 'corpus') printTable('corpus (shared/DESIGN.md §7; medians of ' + runs + ' runs)', benchCorpus(runs));
if (!only || only === 'emulator') printTable('emulator', benchEmulator());
if (!only || only === 'engine') printTable('engine (DEFAULT_CONFIG, one process)', benchEngine());
if (!only || only === 'editor') {
  void benchEditor().then((rows) => {
    printTable('language server (JSON-RPC, diagnostics.delayMs 0)', rows);
    process.exit(0);
  });
}
