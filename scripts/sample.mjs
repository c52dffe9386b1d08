#!/usr/bin/env node
// Draws a seeded random sample of corpus findings for a human reviewer (precision: how many of the
// findings are real bugs), from the JSONL that `node scripts/corpus.mjs --findings F.jsonl` writes.
//
//   node scripts/sample.mjs --findings F.jsonl [--seed 7] [--per-rule 10]
//        [--rules leak,missing-error-path,...] [--out out/sample.md] [--dir DIR]
//
// Up to --per-rule findings per rule (every finding of a rule that has fewer), drawn with a
// seeded PRNG (mulberry32): the same seed and the same findings file give the same draw. Writes a
// markdown file: per finding a numbered heading `rule file:line function`, the message, the related
// lines, and the function's source from the corpus file under --dir (default $IOMMU_LENS_CORPUS or
// /var/tmp/iommu-lens-corpus) with line numbers and `>>` on the reported and related lines (at most
// 150 lines, centred on the finding). Prints the draw (index, rule, file:line) on stdout.
// Needs `npm run build` (or `npx tsc -b server`): loads the parser from out/.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32, draw } from './mutations.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};
const findingsFile = opt('--findings', '');
const seed = Number(opt('--seed', '7'));
const perRule = Math.max(1, Number(opt('--per-rule', '10')));
const rulesOpt = opt('--rules', '');
const outFile = resolve(opt('--out', join(root, 'out/sample.md')));
const dir = resolve(opt('--dir', process.env.IOMMU_LENS_CORPUS || '/var/tmp/iommu-lens-corpus'));
const MAX_LINES = 150;

if (!findingsFile || !existsSync(findingsFile)) {
  console.error('usage: node scripts/sample.mjs --findings F.jsonl [--seed 7] [--per-rule 10] [--rules a,b] [--out out/sample.md] [--dir DIR]');
  console.error(findingsFile ? `sample: ${findingsFile} does not exist` : 'sample: --findings is required (write one with `node scripts/corpus.mjs --findings F.jsonl`)');
  process.exit(2);
}
if (!existsSync(join(root, 'out/server/src/parse/parser.js'))) {
  console.error('sample: out/server/src/parse/parser.js missing; run `npm run build` first');
  process.exit(2);
}
const require = createRequire(import.meta.url);
const { parseC } = require(join(root, 'out/server/src/parse/parser.js'));
const { listFunctions } = require(join(root, 'out/server/src/parse/functions.js'));

const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const all = readFileSync(findingsFile, 'utf8').split('\n').filter((l) => l.trim()).map((l, i) => {
  try { return JSON.parse(l); } catch (e) { console.error(`sample: ${findingsFile}:${i + 1}: ${e.message}`); process.exit(2); }
}).filter((f) => f.rule !== 'budget')
  // the order the corpus runner writes; sorted again so that the draw depends on the findings only
  .sort((a, b) => cmp(a.file, b.file) || a.line - b.line || cmp(a.rule, b.rule) || a.col - b.col || cmp(a.message, b.message));
const present = [...new Set(all.map((f) => f.rule))].sort();
const rules = rulesOpt ? rulesOpt.split(',').map((s) => s.trim()).filter(Boolean) : present;
for (const r of rules) if (!present.includes(r)) console.error(`sample: no ${r} findings in ${findingsFile}`);

const rand = mulberry32(seed);
const drawn = [];
for (const r of rules) for (const f of draw(all.filter((x) => x.rule === r), perRule, rand)) drawn.push(f);

/** The source of the finding's function, numbered, `>>` on the marked lines; at most MAX_LINES lines. */
const files = new Map();
function excerpt(f) {
  const path = join(dir, f.file);
  if (!existsSync(path)) return { code: `(${f.file} is not under ${dir})`, where: '' };
  let file = files.get(path);
  if (!file) {
    const text = readFileSync(path, 'utf8');
    const fns = listFunctions(parseC(text), text).map((x) => ({ name: x.name, range: x.range }));
    file = { lines: text.split('\n'), fns };
    files.set(path, file);
  }
  const { lines, fns } = file;
  const line0 = f.line - 1;
  const fn = fns.find((x) => x.name === f.function && x.range.start.line <= line0 && x.range.end.line >= line0)
    ?? fns.find((x) => x.range.start.line <= line0 && x.range.end.line >= line0);
  let a = fn ? fn.range.start.line : Math.max(0, line0 - 20);
  let b = fn ? fn.range.end.line : Math.min(lines.length - 1, line0 + 20);
  const whole = `lines ${a + 1}-${b + 1}`;
  let cut = false;
  if (b - a + 1 > MAX_LINES) {
    cut = true;
    const lo = Math.max(a, Math.min(line0 - Math.floor(MAX_LINES / 2), b - MAX_LINES + 1));
    a = lo;
    b = lo + MAX_LINES - 1;
  }
  const marked = new Set([f.line, ...(f.related ?? []).map((r) => r.line)]);
  const width = String(b + 1).length;
  const out = [];
  for (let i = a; i <= b; i++) {
    out.push(`${marked.has(i + 1) ? '>>' : '  '} ${String(i + 1).padStart(width)}  ${expandTabs(lines[i])}`.trimEnd());
  }
  const outside = [...marked].filter((l) => l < a + 1 || l > b + 1).sort((x, y) => x - y);
  const where = (fn ? `${fn.name}(), ${whole}${cut ? `; shown ${a + 1}-${b + 1}` : ''}` : `no function found at line ${f.line}; lines ${a + 1}-${b + 1}`)
    + (outside.length ? `; marked lines not shown: ${outside.join(', ')}` : '');
  return { code: out.join('\n'), where };
}

/** Tabs to spaces at the source's 8-column stops, so the number prefix does not shift them. */
function expandTabs(s) {
  let out = '';
  for (const ch of s) out += ch === '\t' ? ' '.repeat(8 - (out.length % 8)) : ch;
  return out;
}

const md = [
  `# IOMMU Lens findings sample`,
  '',
  `${drawn.length} findings drawn from ${relative(process.cwd(), resolve(findingsFile)) || findingsFile} (${all.length} findings), ` +
    `at most ${perRule} per rule, seed ${seed}; sources from ${dir}.`,
  '',
  `| rule | findings | drawn |`,
  `| --- | ---: | ---: |`,
  ...rules.map((r) => `| ${r} | ${all.filter((x) => x.rule === r).length} | ${drawn.filter((x) => x.rule === r).length} |`),
  '',
];
drawn.forEach((f, i) => {
  const { code, where } = excerpt(f);
  md.push(`## ${i + 1}. ${f.rule} ${f.file}:${f.line} ${f.function}`, '');
  md.push(`${f.message}`, '');
  if (f.related?.length) {
    for (const r of f.related) md.push(`- line ${r.line}: ${r.message}`);
    md.push('');
  }
  md.push(`Verdict: [ ] real bug  [ ] false positive  [ ] unsure`, '');
  md.push(`${where}:`, '', '```c', code, '```', '');
  console.log(`${String(i + 1).padStart(3)}  ${f.rule.padEnd(22)} ${f.file}:${f.line}`);
});
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, md.join('\n'));
console.log(`sample: ${drawn.length} findings written to ${relative(process.cwd(), outFile) || outFile}`);
