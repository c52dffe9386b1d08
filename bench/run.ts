/**
 * `npm run bench`: prints each benchmark as the median of several runs.
 */
import { benchEmulator, BenchResult } from './emulator';
import { benchEngine } from './engine';
import { benchEditor } from './editor';

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
if (!only || only === 'emulator') printTable('emulator', benchEmulator());
if (!only || only === 'engine') printTable('engine (DEFAULT_CONFIG, one process)', benchEngine());
if (!only || only === 'editor') {
  void benchEditor().then((rows) => {
    printTable('language server (JSON-RPC, diagnostics.delayMs 0)', rows);
    process.exit(0);
  });
}
