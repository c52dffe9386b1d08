/**
 * Engine benchmarks: whole-file analysis cold, and re-analysis after a one-line edit with the
 * per-function result cache warm (what the language server does on a keystroke). The input is
 * the bundled examples repeated into a ~3,000-line driver file, or a real kernel file when the
 * corpus of scripts/kernel-source.sh is there.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeText, ResultCache } from '../server/src/engine/index';
import { DEFAULT_CONFIG } from '../server/src/config';
import { parseC } from '../server/src/parse/parser';
import type { BenchResult } from './emulator';

const ROOT = path.resolve(__dirname, '../..');

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function p95(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.95))];
}

/** The examples, each function renamed per copy, until the file has ~3,000 lines. */
export function syntheticDriver(lines = 3000): string {
  const dir = path.join(ROOT, 'examples');
  const src = fs.readdirSync(dir).filter((f) => f.endsWith('.c')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
  const keywords = new Set(['if', 'for', 'while', 'switch', 'return', 'sizeof']);
  const names = [...src.matchAll(/^(?:static\s+)?[A-Za-z_][\w \t*]*?\b(\w+)\s*\([^;]*?\)\s*\{/gm)]
    .map((m) => m[1]).filter((n) => !keywords.has(n));
  let out = '';
  for (let i = 0; out.split('\n').length < lines; i++) {
    let copy = src;
    for (const n of names) copy = copy.replace(new RegExp(`\\b${n}\\b`, 'g'), `${n}_${i}`);
    out += `/* copy ${i} */\n` + copy.replace(/#include.*\n/g, '');
  }
  return out;
}

function realFile(): { name: string; text: string } | undefined {
  const f = path.join(process.env.IOMMU_LENS_CORPUS || '/var/tmp/iommu-lens-corpus', 'drivers/net/ethernet/intel/igb/igb_main.c');
  return fs.existsSync(f) ? { name: 'igb_main.c', text: fs.readFileSync(f, 'utf8') } : undefined;
}

export function benchEngine(runs = 7): (BenchResult & { p95?: number })[] {
  const out: (BenchResult & { p95?: number })[] = [];
  const inputs = [{ name: 'generated driver', text: syntheticDriver() }];
  const real = realFile();
  if (real) inputs.push(real);
  for (const { name, text } of inputs) {
    const lines = text.split('\n').length;
    const cold: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = process.hrtime.bigint();
      analyzeText(text, name, { config: DEFAULT_CONFIG });
      cold.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    out.push({ name: `analyse ${name} (${lines} lines), cold`, median: median(cold), unit: 'ms' });
    // Edit one line inside one function per run, as the language server does: tree.edit(), an
    // incremental re-parse with the old tree, and analysis with the per-function cache warm.
    const cache = new ResultCache();
    let cur = text;
    let tree = parseC(cur);
    analyzeText(cur, name, { config: DEFAULT_CONFIG, cache, tree });
    const fnLines = [...text.matchAll(/\n\t(?:ret|err) = /g)].map((m) => text.slice(0, m.index).split('\n').length);
    const warm: number[] = [];
    for (let i = 0; i < Math.max(runs * 3, 20); i++) {
      const line = fnLines.length ? fnLines[(i * 7) % fnLines.length] : 1;
      const insert = ` /* ${i} */`;
      const lines = cur.split('\n');
      const column = lines[line].length;
      const at = lines.slice(0, line).reduce((n, l) => n + l.length + 1, 0) + column;
      const edited = cur.slice(0, at) + insert + cur.slice(at);
      const t = process.hrtime.bigint();
      tree.edit({
        startIndex: at, oldEndIndex: at, newEndIndex: at + insert.length,
        startPosition: { row: line, column }, oldEndPosition: { row: line, column },
        newEndPosition: { row: line, column: column + insert.length },
      });
      tree = parseC(edited, tree);
      analyzeText(edited, name, { config: DEFAULT_CONFIG, cache, tree });
      warm.push(Number(process.hrtime.bigint() - t) / 1e6);
      cur = edited;
    }
    out.push({ name: `edit ${name}: incremental re-parse + re-analysis`, median: median(warm), p95: p95(warm), unit: 'ms' });
  }
  return out;
}
