/**
 * The corpus benchmark (issue "the whole driver tree in seconds"): `npm run bench -- corpus
 * [--runs N]`. Over the drivers scripts/kernel-source.sh extracts, in one run on this machine:
 *  - `iommu-lens check --format json --no-cache` (all rules, --jobs = every core): wall and peak RSS
 *    of the whole process (all its threads) from GNU time, median of N runs;
 *  - the results cache: a cold run into an empty cache, then one file changed and the run again;
 *  - Coccinelle (Debian `coccinelle`, `spatch --jobs N`) with ONE rule, an unchecked
 *    dma_map_single(), over the same files, and the ratio of the two walls.
 * Skipped with a line saying why when the corpus, GNU time or spatch is missing.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BenchResult } from './emulator';

const ROOT = path.resolve(__dirname, '../..');
const CLI = path.join(ROOT, 'bin/iommu-lens.js');

const RULE = `@@
expression dev, addr, size, dir, e;
@@
* e = dma_map_single(dev, addr, size, dir);
  ... when != dma_mapping_error(dev, e)
`;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Wall seconds and peak RSS (MB) of one command, from GNU time. */
function timed(cmd: string, args: string[]): { wall: number; rssMb: number; code: number | null } {
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'ignore', 'pipe'] });
  const m = /(\d+(?:\.\d+)?) (\d+)\s*$/.exec(r.stderr.trim());
  return { wall: m ? Number(m[1]) : NaN, rssMb: m ? Number(m[2]) / 1024 : NaN, code: r.status };
}

export function benchCorpus(runs: number): BenchResult[] {
  const dir = process.env.IOMMU_LENS_CORPUS || '/var/tmp/iommu-lens-corpus';
  if (!fs.existsSync(path.join(dir, '.complete')) && !fs.existsSync(path.join(dir, 'drivers'))) {
    console.log(`corpus: ${dir} missing; run scripts/kernel-source.sh first`);
    return [];
  }
  if (!fs.existsSync('/usr/bin/time')) {
    console.log('corpus: GNU time missing (apt-get install time)');
    return [];
  }
  const jobs = String(os.availableParallelism?.() ?? os.cpus().length);
  const out: BenchResult[] = [];
  const lens = Array.from({ length: runs }, () => timed(process.execPath, [CLI, 'check', '--format', 'json', '--no-cache', '--jobs', jobs, dir]));
  out.push({ name: `iommu-lens check, all rules (--jobs ${jobs}), wall`, median: median(lens.map((r) => r.wall)), unit: 's' });
  out.push({ name: 'iommu-lens check, peak RSS (whole process)', median: median(lens.map((r) => r.rssMb)), unit: 'MB' });

  // The cache: a copy of the tree, so one of its files can change.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-bench-'));
  try {
    const tree = path.join(tmp, 'tree');
    fs.cpSync(dir, tree, { recursive: true });
    const cache = path.join(tmp, 'cache');
    const cold = timed(process.execPath, [CLI, 'check', '--format', 'sarif', '--cache', cache, tree]);
    const victim = path.join(tree, 'drivers/net/ethernet/intel/igb/igb_main.c');
    const target = fs.existsSync(victim) ? victim : (fs.readdirSync(tree, { recursive: true }) as string[]).map((f) => path.join(tree, f)).find((f) => f.endsWith('.c'))!;
    const warm: number[] = [];
    for (let i = 0; i < runs; i++) {
      fs.appendFileSync(target, `\n/* edit ${i} */\n`);
      warm.push(timed(process.execPath, [CLI, 'check', '--format', 'sarif', '--cache', cache, tree]).wall);
    }
    out.push({ name: 'cache: cold run into an empty cache, wall', median: cold.wall, unit: 's' });
    out.push({ name: `cache: again after one file changed (${path.basename(target)}), wall`, median: median(warm), unit: 's' });
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  const spatch = spawnSync('spatch', ['--version'], { encoding: 'utf8' });
  if (spatch.status !== 0) {
    console.log('corpus: spatch missing (apt-get install coccinelle): no Coccinelle comparison');
    return out;
  }
  const ruleFile = path.join(os.tmpdir(), `iommu-lens-bench-${process.pid}.cocci`);
  fs.writeFileSync(ruleFile, RULE);
  try {
    const cocci = Array.from({ length: runs }, () => timed('spatch', ['--sp-file', ruleFile, '--dir', dir, '--jobs', jobs, '--very-quiet', '--no-show-diff']));
    const cw = median(cocci.map((r) => r.wall));
    out.push({ name: `Coccinelle, ONE rule (spatch --jobs ${jobs}), wall`, median: cw, unit: 's' });
    out.push({ name: 'Coccinelle, peak RSS (largest process)', median: median(cocci.map((r) => r.rssMb)), unit: 'MB' });
    out.push({ name: 'iommu-lens wall / Coccinelle wall', median: median(lens.map((r) => r.wall)) / cw, unit: 'ratio' });
  } finally {
    fs.rmSync(ruleFile, { force: true });
  }
  return out;
}
