// Checks the quick fixes on the kernel corpus: for every finding that offers one, apply it to the
// file (in memory; nothing is written) and analyse the file again. A fix is clean when its finding
// is gone and the fixed file has no finding the original did not have; partial when what is left
// is the same resource reported at another exit (a leak fix mends one exit at a time); else the
// findings it adds are listed. Exits 1 when a fix leaves its finding or adds another.
//
//   node scripts/fixes.mjs [--dir DIR] [--findings F.jsonl] [--rules a,b] [--limit N]
//
// --findings takes a scripts/corpus.mjs --findings file, to visit only the files with findings.
// Needs `npx tsc -b` (out/server/src/engine/index.js).
import { readFileSync, existsSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = resolve(new URL('..', import.meta.url).pathname);
const args = process.argv.slice(2);
const opt = (k, d) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : d; };
const dir = resolve(opt('--dir', process.env.IOMMU_LENS_CORPUS || '/var/tmp/iommu-lens-corpus'));
const engine = join(root, 'out/server/src/engine/index.js');
if (!existsSync(engine)) { console.error('fixes: out/ missing; run `npx tsc -b` first'); process.exit(2); }
const { analyzeText } = require(engine);
const { DEFAULT_CONFIG } = require(join(root, 'out/server/src/config.js'));
const rules = opt('--rules') ? new Set(opt('--rules').split(',')) : undefined;
const limit = Number(opt('--limit', '0'));

let files;
if (opt('--findings')) {
  files = [...new Set(readFileSync(opt('--findings'), 'utf8').split('\n').filter(Boolean)
    .map((l) => JSON.parse(l)).filter((f) => !rules || rules.has(f.rule)).map((f) => f.file))].sort();
} else {
  const { execFileSync } = await import('node:child_process');
  files = execFileSync('find', [dir, '-name', '*.c'], { encoding: 'utf8', maxBuffer: 1 << 26 })
    .split('\n').filter(Boolean).map((p) => p.slice(dir.length + 1)).sort();
}
if (limit) files = files.slice(0, limit);

function apply(text, edits) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  const off = (p) => starts[p.line] + p.character;
  let out = text;
  for (const e of [...edits].sort((a, b) => off(b.range.start) - off(a.range.start))) {
    out = out.slice(0, off(e.range.start)) + e.newText + out.slice(off(e.range.end));
  }
  return out;
}

const findingsOf = (text, file) => analyzeText(text, file, { config: DEFAULT_CONFIG }).functions
  .flatMap((f) => f.findings).filter((f) => f.rule !== 'budget');
// A finding's identity across the edit: rule, function and message with line numbers blanked.
const key = (f) => `${f.rule}|${f.function}|${f.message.replace(/\bline \d+/g, 'line N').replace(/:\d+/g, ':N')}`;

const per = new Map();
const bad = [];
for (const file of files) {
  const text = readFileSync(join(dir, file), 'utf8');
  const before = findingsOf(text, file);
  for (const f of before) {
    if (!f.fix || (rules && !rules.has(f.rule))) continue;
    const s = per.get(f.rule) ?? { offered: 0, gone: 0, clean: 0, partial: 0 };
    per.set(f.rule, s);
    s.offered++;
    const after = findingsOf(apply(text, f.fix.edits), file);
    const had = new Map();
    for (const b of before) had.set(key(b), (had.get(key(b)) ?? 0) + 1);
    const gone = (had.get(key(f)) ?? 0) > after.filter((a) => key(a) === key(f)).length;
    for (const a of after) { const n = had.get(key(a)) ?? 0; if (n) had.set(key(a), n - 1); else a.added = true; }
    const added = after.filter((a) => a.added);
    // The same acquisition, reported again at another of its exits.
    const same = (a) => a.rule === f.rule && a.range.start.line === f.range.start.line;
    if (gone) s.gone++;
    if (gone && !added.length) s.clean++;
    else if (gone && added.every(same)) s.partial++;
    else bad.push({ file, line: f.range.start.line + 1, rule: f.rule, fix: f.fix.title, gone, added: added.map((a) => `${a.rule}:${a.range.start.line + 1} ${a.message.slice(0, 120)}`) });
  }
}
console.log(`fixes: ${files.length} files in ${dir}`);
console.log('rule                         offered  finding gone  clean  partial  adds or stays');
for (const [r, s] of [...per].sort()) console.log(`${r.padEnd(28)} ${String(s.offered).padStart(7)} ${String(s.gone).padStart(13)} ${String(s.clean).padStart(6)} ${String(s.partial).padStart(8)} ${String(s.offered - s.clean - s.partial).padStart(14)}`);
for (const b of bad) console.log(`  not clean: ${b.file}:${b.line} ${b.rule} (${b.fix})${b.gone ? '' : ' finding stays'}${b.added.map((a) => `\n    added ${a}`).join('')}`);
process.exit(bad.length ? 1 : 0);
