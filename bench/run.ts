/**
 * `npm run bench`: prints each benchmark as the median of several runs.
 */
import { benchEmulator, BenchResult } from './emulator';

function fmt(x: number): string {
  if (x >= 1000) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(2);
}

function printTable(title: string, rows: BenchResult[]): void {
  const w = Math.max(...rows.map((r) => r.name.length), 10);
  console.log(`\n${title}`);
  console.log(`${'benchmark'.padEnd(w)}  ${'median'.padStart(14)}  unit`);
  for (const r of rows) console.log(`${r.name.padEnd(w)}  ${fmt(r.median).padStart(14)}  ${r.unit}`);
}

printTable('emulator', benchEmulator());
