/**
 * The fuzz generator shared by test/server/fuzz/fuzz.test.ts (bounded, in `npm test`) and
 * scripts/fuzz.mjs (`npm run fuzz`, longer). Deterministic: input `index` of seed `seed` is
 * always the same text (its own PRNG stream, mulberry32), so one failing input is reproduced
 * with `node scripts/fuzz.mjs --seed S --only INDEX`.
 *
 * Inputs are the repository's own C files (test/server/fixtures/**\/*.c, examples/*.c) mutated
 * (truncated, tokens deleted/inserted/duplicated, random characters, NULs, lone surrogates,
 * non-UTF-8 bytes, very long lines, extreme constants, macros wrapping the API calls, spliced
 * halves of two files), and synthetic files (nesting thousands deep, path explosions, huge
 * functions with hundreds of fallible calls in nested loops, macro-heavy code, recursive
 * helpers, thousands of small functions).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Repository root (this file runs from out/test/server/fuzz/). */
export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');

export interface Seed { name: string; text: string }

export interface FuzzInput {
  index: number;
  /** What made it: operator names joined with '+', e.g. `mutate(truncate+nul)<-leak/loops.c`. */
  kind: string;
  /** The text the engine and the language server are given. */
  text: string;
  /** For non-UTF-8 inputs: the file's bytes (`text` is what Buffer.toString('utf8') makes of them). */
  bytes?: Uint8Array;
}

/** mulberry32: a tiny, fast 32-bit PRNG; deterministic for a seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  private readonly r: () => number;
  constructor(seed: number) { this.r = mulberry32(seed); }
  /** [0, 1) */
  next(): number { return this.r(); }
  /** Integer in [0, n). */
  int(n: number): number { return Math.floor(this.r() * n); }
  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.r() < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  /** Weighted choice: [[weight, value], ...]. */
  weighted<T>(xs: readonly (readonly [number, T])[]): T {
    const total = xs.reduce((s, [w]) => s + w, 0);
    let x = this.r() * total;
    for (const [w, v] of xs) { if ((x -= w) < 0) return v; }
    return xs[xs.length - 1][1];
  }
}

/** The PRNG seed of one input: its own stream, independent of the inputs before it. */
export function inputSeed(seed: number, index: number): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (index + 0x7f4a7c15), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** The repository's own C files, sorted by name (the seeds every mutation starts from). */
export function loadSeeds(root = ROOT): Seed[] {
  const out: Seed[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.c')) out.push({ name: path.relative(root, p), text: fs.readFileSync(p, 'utf8') });
    }
  };
  walk(path.join(root, 'test', 'server', 'fixtures'));
  for (const e of fs.readdirSync(path.join(root, 'examples')).sort()) {
    if (e.endsWith('.c')) out.push({ name: `examples/${e}`, text: fs.readFileSync(path.join(root, 'examples', e), 'utf8') });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

const API_CALLS = [
  'dma_map_single(dev, p, 64, DMA_TO_DEVICE)',
  'dma_map_single(dev, buf, len, DMA_FROM_DEVICE)',
  'dma_mapping_error(dev, d)',
  'dma_unmap_single(dev, d, 64, DMA_TO_DEVICE)',
  'dma_unmap_single(dev, d, len * 2, DMA_FROM_DEVICE)',
  'dma_map_page(dev, page, 0, PAGE_SIZE, DMA_BIDIRECTIONAL)',
  'dma_unmap_page(dev, d, PAGE_SIZE, DMA_BIDIRECTIONAL)',
  'dma_alloc_coherent(dev, SZ_4K, &h, GFP_KERNEL)',
  'dma_free_coherent(dev, SZ_4K, v, h)',
  'dma_alloc_attrs(dev, size, &h, GFP_KERNEL, 0)',
  'dma_pool_alloc(pool, GFP_KERNEL, &h)',
  'dma_pool_free(pool, v, h)',
  'dma_map_sg(dev, sg, n, DMA_FROM_DEVICE)',
  'dma_unmap_sg(dev, sg, n, DMA_FROM_DEVICE)',
  'dma_sync_single_for_cpu(dev, d, 64, DMA_FROM_DEVICE)',
  'alloc_iova(iovad, 16, limit, true)',
  'alloc_iova_fast(iovad, npages, limit, true)',
  '__free_iova(iovad, iova)',
  'free_iova_fast(iovad, pfn, npages)',
  'reserve_iova(iovad, lo, hi)',
  'iommu_map(dom, iova, pa, SZ_4K, IOMMU_READ, GFP_KERNEL)',
  'iommu_unmap(dom, iova, SZ_4K)',
  'iommu_domain_alloc(&platform_bus_type)',
  'iommu_attach_device(dom, dev)',
  'iommu_detach_device(dom, dev)',
  'iommu_get_domain_for_dev(dev)',
  'alloc_pages(GFP_KERNEL, order)',
  '__get_free_pages(GFP_KERNEL, 2)',
  'kmalloc(64, GFP_KERNEL)',
  'kfree(p)',
];

const EXTREME = [
  '0', '-1', '1', '0x7fffffff', '0x80000000', '0xffffffff', '0x7fffffffffffffff', '0xffffffffffffffff',
  '0xffffffffffffffffffffffff', '18446744073709551616', '-9223372036854775808', '1e309', '0.5', '1ULL << 63',
  '1 << 70', '(1UL << 64)', 'SZ_4K << 60', '(size_t)-1', 'U64_MAX', '~0UL', '-SZ_4K', 'PAGE_ALIGN(-1)',
  'get_order(0)', 'get_order(-1)', 'BIT(200)', 'GENMASK(100, 0)', 'GENMASK(0, 63)', 'DMA_BIT_MASK(0)',
  'DMA_BIT_MASK(64)', 'DMA_BIT_MASK(1000)', 'x / 0', '1 % 0', 'SZ_1G * SZ_1G', '0x8000000', '0x80fffff',
  "'\\0'", '"str"', 'sizeof(struct nope)', 'sizeof(*p)', 'NULL', 'ERR_PTR(-ENOMEM)', 'PTR_ERR(p)',
];

const TOKENS = [
  '{', '}', '(', ')', '[', ']', ';', ',', '*', '&', '=', '==', '!', '->', '.', '?', ':', '...', '#', '##',
  '"', "'", '/*', '*/', '//', '\\\n', '\n', '#if 0\n', '#endif\n', '#ifdef CONFIG_X\n', '#else\n', '#elif 1\n',
  '#define X(a) a\n', '#include <linux/dma-mapping.h>\n', '#undef dma_map_single\n', 'goto out;', 'goto again;',
  'out:', 'err:', 'again:', 'return', 'return -ENOMEM;', 'return 0;', 'return p;', 'if', 'if (err)', 'else',
  'for (i = 0; i < n; i++)', 'while (1)', 'do', 'while (0);', 'switch (x)', 'case 0:', 'default:', 'break;',
  'continue;', 'sizeof', 'struct', 'union', 'enum', 'typedef', 'static', 'inline', '__init', '__iomem',
  '__must_check', 'unlikely(', 'likely(', 'IS_ERR(', 'IS_ERR_OR_NULL(', 'WARN_ON(', 'list_for_each_entry(pos, head, node)',
  'asm volatile("" ::: "memory");', '({ int _t = 1; _t; })', '[0 ... 3] = 1', '.field = 2', '(struct foo){ 0 }',
  'x', 'err', 'ret', 'dev', 'd', 'p', 'iova', 'dom', 'int', 'void', 'dma_addr_t', 'size_t', 'struct device *dev',
  '\t', ' ', '  ', '\u00e9', '\u00ff', '\u{1F600}', '\u4e2d', '\uFFFD', '\uFEFF', '\u200B', '\u2028', '\uD800',
  '\uDFFF', '\u0000', '\r', '\r\n', '\f', '\v', '\u001b', '\u007f', '$', '@', '`', '\\',
  ...API_CALLS, ...EXTREME,
];

/** Characters for the random-character operator: ASCII, controls, multi-byte and lone surrogates. */
function randomChar(r: Rng): string {
  return r.weighted<() => string>([
    [6, () => String.fromCharCode(r.range(0x20, 0x7e))],
    [2, () => String.fromCharCode(r.range(0, 0x1f))],
    [1, () => String.fromCharCode(r.range(0x80, 0x7ff))],
    [1, () => String.fromCharCode(r.range(0x800, 0xd7ff))],
    [1, () => String.fromCharCode(r.range(0xd800, 0xdfff))], // lone surrogate
    [1, () => String.fromCodePoint(r.range(0x10000, 0x10ffff))],
    [1, () => '\u0000'],
  ])();
}

/** C-ish tokens with their whitespace, so deleting/duplicating tokens keeps the rest readable. */
function tokenize(text: string): string[] {
  return text.match(/[A-Za-z_]\w*|0[xX][0-9a-fA-F]+|\d+|\s+|\/\*|\*\/|\/\/|->|==|!=|<=|>=|&&|\|\||<<|>>|[\s\S]/g) ?? [];
}

function apiCall(r: Rng): string {
  return r.pick(API_CALLS);
}

// ---------------------------------------------------------------------------------------------
// Mutation operators: text in, text out.

type Op = (t: string, r: Rng, seeds: readonly Seed[], full: boolean) => string;

const OPS: Record<string, Op> = {
  truncate: (t, r) => t.slice(0, r.int(t.length + 1)),
  'truncate-start': (t, r) => t.slice(r.int(t.length + 1)),
  'delete-tokens': (t, r) => {
    const toks = tokenize(t);
    for (let k = r.range(1, 12); k > 0 && toks.length; k--) toks.splice(r.int(toks.length), r.chance(0.2) ? r.range(2, 20) : 1);
    return toks.join('');
  },
  'insert-tokens': (t, r) => {
    const toks = tokenize(t);
    for (let k = r.range(1, 12); k > 0; k--) toks.splice(r.int(toks.length + 1), 0, r.pick(TOKENS));
    return toks.join('');
  },
  'duplicate-tokens': (t, r, _s, full) => {
    const toks = tokenize(t);
    if (!toks.length) return t;
    const a = r.int(toks.length);
    const span = toks.slice(a, a + r.range(1, 60));
    const times = r.chance(0.1) ? r.range(10, full ? 200 : 40) : r.range(1, 3);
    const at = r.int(toks.length + 1);
    for (let i = 0; i < times; i++) toks.splice(at, 0, ...span);
    return toks.join('');
  },
  'swap-lines': (t, r) => {
    const ls = t.split('\n');
    for (let k = r.range(1, 8); k > 0 && ls.length > 1; k--) {
      const a = r.int(ls.length), b = r.int(ls.length);
      [ls[a], ls[b]] = [ls[b], ls[a]];
    }
    return ls.join('\n');
  },
  'delete-lines': (t, r) => {
    const ls = t.split('\n');
    for (let k = r.range(1, 10); k > 0 && ls.length; k--) ls.splice(r.int(ls.length), 1);
    return ls.join('\n');
  },
  'random-chars': (t, r) => {
    const cs = [...t];
    for (let k = r.range(1, 40); k > 0 && cs.length; k--) cs[r.int(cs.length)] = randomChar(r);
    return cs.join('');
  },
  nul: (t, r) => {
    let s = t;
    for (let k = r.range(1, 8); k > 0; k--) {
      const at = r.int(s.length + 1);
      s = s.slice(0, at) + '\u0000'.repeat(r.chance(0.2) ? r.range(2, 5000) : 1) + s.slice(at);
    }
    return s;
  },
  'lone-surrogates': (t, r) => {
    let s = t;
    for (let k = r.range(1, 6); k > 0; k--) {
      const at = r.int(s.length + 1);
      s = s.slice(0, at) + r.pick(['\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uD83D']) + s.slice(at);
    }
    return s;
  },
  'multibyte-comments': (t, r) => {
    // Characters of 2 and 4 UTF-8 bytes / 1 and 2 UTF-16 units before API calls: positions must not drift.
    const ls = t.split('\n');
    for (let k = r.range(1, 10); k > 0; k--) {
      const i = r.int(ls.length);
      const junk = r.pick(['/* \u00e9\u00e8 */', '/* \u{1F600}\u{1F680} */', '/* \u4e2d\u6587 */', '"\u00ff\u{1F4A9}"; ', '\uFEFF']);
      ls[i] = r.chance(0.5) ? junk + ls[i] : ls[i] + ' ' + junk;
    }
    return ls.join('\n');
  },
  'line-endings': (t, r) => r.pick([t.replace(/\n/g, '\r\n'), t.replace(/\n/g, '\r'), t.replace(/\n/g, '\\\n'),
    t.replace(/\n/g, r.chance(0.5) ? '\n\r' : '\u2028'), t.replace(/\t/g, '\f')]),
  'long-line': (t, r, _s, full) => {
    const n = full ? r.pick([5_000, 50_000, 200_000]) : r.pick([2_000, 5_000, 20_000]);
    const line = r.pick([
      () => 'x'.repeat(n),
      () => `int v = ${Array.from({ length: n / 4 }, (_, i) => `a${i % 10}`).join('+')};`,
      () => `char *s = "${'A'.repeat(n)}";`,
      () => `// ${'comment '.repeat(n / 8)}`,
      () => `${'dma_map_single(dev, p, 64, DMA_TO_DEVICE); '.repeat(Math.floor(n / 44))}`,
      () => `#define LONG ${'1 + '.repeat(n / 4)}1`,
    ])();
    const ls = t.split('\n');
    ls.splice(r.int(ls.length + 1), 0, line);
    return ls.join('\n');
  },
  'extreme-constants': (t, r) => t.replace(/\b(0[xX][0-9a-fA-F]+|\d+|SZ_\w+|PAGE_SIZE|RX_BUF_SIZE|\w+_SIZE|len|size)\b/g, (m) => (r.chance(0.25) ? r.pick(EXTREME) : m)),
  'wrap-in-macros': (t, r) => {
    const defs = ['#define X(a) a', '#define Y(a, ...) a', '#define CALL(f, ...) f(__VA_ARGS__)', '#define ID(x) (x)',
      '#define dma_map_single(d, p, s, dir) __dma_map_single(d, p, s, dir)', '#define EMPTY', '#define A B', '#define B A',
      '#define SZ_4K (SZ_4K * 2)', '#define return if (0) return', '#define goto return 0; goto'];
    const head = Array.from({ length: r.range(1, 5) }, () => r.pick(defs)).join('\n') + '\n';
    const body = t.replace(/\b((?:dma|iommu|alloc|free|reserve|__free|__get)_\w+)\s*\(/g, (m, name) =>
      r.weighted([[3, m], [2, `X(${name}(`], [1, `CALL(${name}, `], [1, `ID(${name}(`], [1, `EMPTY ${name} EMPTY (`], [1, `X(X(X(${name}(`]]));
    return head + body; // the X( / ID( wrappers are unbalanced on purpose: parse errors with API calls inside
  },
  'wrap-calls-balanced': (t, r) => t.replace(/\b((?:dma|iommu|alloc|reserve|__free|free)_\w+)\s*\(([^;{}()]*(?:\([^;{}()]*\)[^;{}()]*)*)\)/g,
    (m) => (r.chance(0.5) ? `X(${m})` : r.chance(0.5) ? `unlikely(WARN_ON(${m}))` : m)),
  'ifdef-soup': (t, r) => {
    const ls = t.split('\n');
    for (let k = r.range(1, 8); k > 0; k--) ls.splice(r.int(ls.length + 1), 0, r.pick(['#if 0', '#ifdef CONFIG_FOO', '#else', '#endif', '#elif defined(X)', '#if 1', '# 1 "x.c"', '#pragma once', '#error no']));
    return ls.join('\n');
  },
  'unterminated': (t, r) => {
    const at = r.int(t.length + 1);
    return t.slice(0, at) + r.pick(['/*', '"', "'", '//\\', '#if 0\n', '{', '(', '[', 'struct {']) + t.slice(at);
  },
  'deep-nesting-inside': (t, r, _s, full) => {
    const ls = t.split('\n');
    ls.splice(r.int(ls.length + 1), 0, nestedText(r, full ? r.pick([200, 1000, 3000]) : r.pick([50, 200, 400])));
    return ls.join('\n');
  },
  splice: (t, r, seeds) => {
    const o = r.pick(seeds).text;
    return t.slice(0, r.int(t.length + 1)) + o.slice(r.int(o.length + 1));
  },
  'rename-functions': (t, r) => t.replace(/\b(\w+)\s*\(/g, (m, n) => (r.chance(0.05) ? `${r.pick(['main', 'if', 'sizeof', 'dma_map_single', 'goto', 'x', n + n, '__proto__', 'constructor', 'toString', 'hasOwnProperty'])}(` : m)),
  'duplicate-functions': (t, r, _s, full) => {
    // The same function (name) twice, or many times: the summaries and caches key by name.
    const m = /\n((?:static\s+)?\w[\w\s*]*\([^;{]*\)\s*\{[\s\S]*?\n\})/.exec(t);
    if (!m) return t + '\n' + t;
    return t + ('\n' + m[1]).repeat(r.range(1, r.chance(0.1) ? (full ? 300 : 30) : 3));
  },
};

const OP_NAMES = Object.keys(OPS);

// ---------------------------------------------------------------------------------------------
// Synthetic inputs

/** Nesting `depth` deep, of one of several kinds, with an API call in the middle. */
export function nestedText(r: Rng, depth: number): string {
  const call = apiCall(r);
  return r.pick<() => string>([
    () => '{'.repeat(depth) + call + ';' + (r.chance(0.5) ? '}'.repeat(depth) : ''),
    () => 'x = ' + '('.repeat(depth) + call + (r.chance(0.5) ? ')'.repeat(depth) : '') + ';',
    () => `int f(struct device *dev, void *p)\n{\n\tdma_addr_t d;\n${'\tif (a) {\n'.repeat(depth)}\td = ${call};\n${'\t}\n'.repeat(r.chance(0.7) ? depth : depth / 2)}\treturn 0;\n}\n`,
    () => `int f(struct device *dev, void *p)\n{\n\tdma_addr_t d = ${'a ? '.repeat(depth)}${call}${' : 0'.repeat(depth)};\n\treturn d;\n}\n`,
    () => `int f(struct device *dev, void *p)\n{\n\tif (${Array.from({ length: depth }, (_, i) => `c${i}`).join(r.chance(0.5) ? ' && ' : ' || ')})\n\t\treturn ${call};\n\treturn 0;\n}\n`,
    () => `int f(struct device *dev, void *p)\n{\n${'\tfor (i = 0; i < n; i++)\n'.repeat(depth)}\t\td = ${call};\n\treturn 0;\n}\n`,
    () => `int f(struct device *dev, void *p)\n{\n${'\twhile (x) { do {\n'.repeat(depth / 2)}\td = ${call};\n${'\t} while (y); }\n'.repeat(depth / 2)}\treturn 0;\n}\n`,
    () => `static int t[] = ${'{'.repeat(depth)}1${'}'.repeat(depth)};\n`,
    () => `${'#if 1\n'.repeat(depth)}int f(void) { return ${call}; }\n${'#endif\n'.repeat(depth)}`,
    () => `int f(struct device *dev, void *p)\n{\n\treturn ${'X('.repeat(depth)}${call}${')'.repeat(depth)};\n}\n`,
    () => `int f(struct device *dev, void *p)\n{\n${'\tswitch (x) { case 1:\n'.repeat(depth)}\td = ${call};\n${'\t}\n'.repeat(depth)}\treturn 0;\n}\n`,
    () => `int f(struct device *dev, void *p)\n{\n\td = ${call};\n${Array.from({ length: depth }, (_, i) => `l${i}:\n\tif (x${i}) goto l${(i * 7919) % depth};`).join('\n')}\n\treturn 0;\n}\n`,
    () => `int f(void)\n{\n\tint a = ${'-'.repeat(depth)}1;\n\tint b = ${'!'.repeat(depth)}x;\n\tint c = ${'*'.repeat(depth)}p;\n\treturn ${call};\n}\n`,
  ])();
}

/** A function with `n` fallible calls, each followed by `if (err) goto out;`, inside nested loops: a path explosion. */
export function pathExplosion(n: number, loops = 2): string {
  const lines = ['int explode(struct device *dev, struct iommu_domain *dom, void *p, int n, int p0, int p1, int p2, int p3, int p4, int p5, int p6, int p7)', '{',
    '\tdma_addr_t d[64];', '\tvoid *v[64];', '\tdma_addr_t h[64];', '\tsize_t len = 64;', '\tint err = 0, i, j;', ''];
  for (let l = 0; l < loops; l++) lines.push(`${'\t'.repeat(l + 1)}for (${l ? 'j' : 'i'} = 0; ${l ? 'j' : 'i'} < n; ${l ? 'j' : 'i'}++) {`);
  const ind = '\t'.repeat(loops + 1);
  for (let k = 0; k < n; k++) {
    switch (k % 4) {
      case 0:
        lines.push(`${ind}d[${k}] = dma_map_single(dev, p, len, DMA_TO_DEVICE);`, `${ind}err = dma_mapping_error(dev, d[${k}]);`);
        break;
      case 1:
        lines.push(`${ind}v[${k}] = dma_alloc_coherent(dev, SZ_4K, &h[${k}], GFP_KERNEL);`, `${ind}err = v[${k}] ? 0 : -ENOMEM;`);
        break;
      case 2:
        lines.push(`${ind}err = iommu_map(dom, 0x100000 + ${k} * SZ_4K, 0x200000, SZ_4K, IOMMU_READ, GFP_KERNEL);`);
        break;
      default:
        lines.push(`${ind}err = some_hw_call(dev, ${k});`);
    }
    lines.push(`${ind}if (err)`, `${ind}\tgoto out;`);
    // A branch on an unknown input that does not leave: both sides go on (no merge: `len` differs).
    lines.push(`${ind}if (p${k % 8} > ${k})`, `${ind}\tlen += ${k + 1};`);
  }
  for (let l = loops - 1; l >= 0; l--) lines.push(`${'\t'.repeat(l + 1)}}`);
  lines.push('\treturn 0;', 'out:', '\treturn err;', '}', '');
  return lines.join('\n');
}

/** Hundreds of fallible dma_map_single/alloc calls in nested loops and branches, some released, some not. */
export function hugeFunction(r: Rng, n: number): string {
  const out = ['static int huge(struct device *dev, struct iova_domain *iovad, void *p, size_t len, int n)', '{',
    '\tdma_addr_t d;', '\tvoid *v;', '\tdma_addr_t h;', '\tstruct iova *iova;', '\tint i, j, k, ret = 0;'];
  let depth = 1;
  for (let k = 0; k < n; k++) {
    const ind = '\t'.repeat(depth);
    const c = r.int(10);
    if (c === 0 && depth < 12) { out.push(`${ind}for (i = 0; i < n; i++) {`); depth++; continue; }
    if (c === 1 && depth < 12) { out.push(`${ind}if (len > ${k}) {`); depth++; continue; }
    if (c === 2 && depth > 1) { depth--; out.push(`${'\t'.repeat(depth)}}`); continue; }
    if (c === 3) { out.push(`${ind}d = dma_map_single(dev, p, len, DMA_TO_DEVICE);`, `${ind}if (dma_mapping_error(dev, d))`, `${ind}\tgoto err_${k % 7};`); continue; }
    if (c === 4) { out.push(`${ind}v = dma_alloc_coherent(dev, ${(k % 5 + 1) * 4096}, &h, GFP_KERNEL);`, `${ind}if (!v)`, `${ind}\treturn -ENOMEM;`); continue; }
    if (c === 5) { out.push(`${ind}iova = alloc_iova(iovad, ${k + 1}, 0xfffff, true);`, `${ind}if (!iova) { ret = -ENOMEM; goto err_${k % 7}; }`); continue; }
    if (c === 6) { out.push(`${ind}dma_unmap_single(dev, d, len${r.chance(0.2) ? ' * 2' : ''}, DMA_TO_DEVICE);`); continue; }
    if (c === 7) { out.push(`${ind}d = dma_map_single(dev, p, ${k}, DMA_FROM_DEVICE);`); continue; }
    if (c === 8) { out.push(`${ind}if (hw_busy(dev)) break;`); continue; }
    out.push(`${ind}while (k-- > 0) { ret = iommu_map(dom, ${k} << 12, pa, SZ_4K, 0, GFP_KERNEL); if (ret) goto err_${k % 7}; }`);
  }
  while (depth > 1) { depth--; out.push(`${'\t'.repeat(depth)}}`); }
  out.push('\treturn 0;');
  for (let e = 0; e < 7; e++) out.push(`err_${e}:`, e % 2 ? '\tdma_unmap_single(dev, d, len, DMA_TO_DEVICE);' : '\t__free_iova(iovad, iova);');
  out.push('\treturn ret;', '}', '');
  return out.join('\n');
}

function macroHeavy(r: Rng): string {
  const defs = [
    '#define X(a) a', '#define MAP(d, p) dma_map_single(d, p, 64, DMA_TO_DEVICE)', '#define CHECK(d) if (dma_mapping_error(dev, d)) goto out',
    '#define FREE(v, h) dma_free_coherent(dev, SZ_4K, v, h)', '#define SZ (SZ_4K * 4)', '#define LOOP(i, n) for (i = 0; i < (n); i++)',
    '#define A B', '#define B A', '#define SELF SELF', '#define dma_map_single(...) 0', '#define DEFINE_FN(n) int n(void) { return MAP(dev, p); }',
    '#define CAT(a, b) a##b', '#define STR(a) #a', '#define VA(...) __VA_ARGS__', '#define EMPTY', '#define BIG 0xffffffffffffffffffff',
  ];
  const head = Array.from({ length: r.range(3, 12) }, () => r.pick(defs)).join('\n');
  const body: string[] = [];
  for (let k = r.range(3, 60); k > 0; k--) {
    body.push(r.pick([
      '\td = X(MAP(dev, p));', '\tCHECK(d);', '\td = X(dma_map_single(dev, p, SZ, DMA_TO_DEVICE));', '\tif (X(dma_mapping_error(dev, d))) goto out;',
      '\tv = VA(dma_alloc_coherent(dev, SZ, &h, GFP_KERNEL));', '\tif (!X(v)) return -ENOMEM;', '\tLOOP(i, n) { d = MAP(dev, p); CHECK(d); }',
      '\tFREE(v, h);', '\tCAT(dma_, unmap_single)(dev, d, 64, DMA_TO_DEVICE);', '\tEMPTY dma_unmap_single EMPTY (dev, d, SZ, DMA_TO_DEVICE);',
      '\tX(X(X(X(dma_unmap_single(dev, d, 64, DMA_TO_DEVICE)))));', '\tA = B;', '\tSELF;', '\tiova = X(alloc_iova(iovad, BIG, limit, true));',
      '\tret = iommu_map(X(dom), X(iova), X(pa), X(SZ), X(IOMMU_READ), GFP_KERNEL);', '\tif (ret) goto out;',
    ]));
  }
  return `${head}\n\nDEFINE_FN(gen1)\nDEFINE_FN(gen2);\n\nstatic int macros(struct device *dev, void *p, int n)\n{\n\tdma_addr_t d, h;\n\tvoid *v;\n\tint i, ret;\n${body.join('\n')}\n\treturn 0;\nout:\n\treturn -EIO;\n}\n`;
}

function recursiveHelpers(r: Rng): string {
  const n = r.range(2, 40);
  const fns: string[] = [];
  for (let i = 0; i < n; i++) {
    const next = `h${(i + 1) % n}`;
    const self = r.chance(0.3) ? `\tif (x) return h${i}(dev, p, x - 1);\n` : '';
    fns.push(`static int h${i}(struct device *dev, void *p, int x)\n{\n\tdma_addr_t d = dma_map_single(dev, p, ${64 * (i + 1)}, DMA_TO_DEVICE);\n\tif (dma_mapping_error(dev, d))\n\t\treturn -ENOMEM;\n${self}\tif (${next}(dev, p, x))\n\t\treturn -EIO;\n\tdma_unmap_single(dev, d, ${64 * (i + 1)}, DMA_TO_DEVICE);\n\treturn 0;\n}\n`);
  }
  return fns.join('\n');
}

function manyFunctions(r: Rng, n: number): string {
  return Array.from({ length: n }, (_, i) => `static int f${i}(struct device *dev, void *p)\n{\n\tdma_addr_t d = ${r.chance(0.5) ? apiCall(r) : 'dma_map_single(dev, p, 64, DMA_TO_DEVICE)'};\n\t${r.chance(0.5) ? 'if (dma_mapping_error(dev, d)) return -ENOMEM;' : ''}\n\treturn ${r.chance(0.3) ? `f${(i + 1) % n}(dev, p)` : '0'};\n}\n`).join('\n');
}

function randomTokens(r: Rng): string {
  return Array.from({ length: r.range(1, 3000) }, () => r.pick(TOKENS)).join(r.chance(0.5) ? ' ' : '');
}

function randomBytesText(r: Rng): { text: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(r.range(1, 20000));
  for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256);
  return { text: Buffer.from(bytes).toString('utf8'), bytes };
}

/** Invalid UTF-8 sequences spliced into a seed's bytes (what a Latin-1 or broken file looks like). */
function nonUtf8(text: string, r: Rng): { text: string; bytes: Uint8Array } {
  const bad = [[0xff], [0xfe], [0xc3], [0xe9], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80], [0xf0, 0x9f, 0x98]];
  const parts: Buffer[] = [];
  let rest = Buffer.from(text, 'utf8');
  for (let k = r.range(1, 20); k > 0 && rest.length; k--) {
    const at = r.int(rest.length + 1);
    parts.push(rest.subarray(0, at), Buffer.from(r.pick(bad)));
    rest = rest.subarray(at);
  }
  parts.push(rest);
  const bytes = Buffer.concat(parts);
  return { text: bytes.toString('utf8'), bytes: new Uint8Array(bytes) };
}

export interface GenerateOptions {
  /**
   * Sizes of the synthetic inputs: 'full' (scripts/fuzz.mjs: nesting 5000 deep, 1000 functions,
   * 200,000-character lines, 800-statement functions) or 'bounded' (the test: a tenth of that,
   * so a few thousand inputs fit in seconds; its heavy cases are separate tests).
   */
  scale?: 'full' | 'bounded';
}

/**
 * Input `index` of the stream for `seed`. Mostly mutated seeds (one to four operators stacked,
 * over the whole file or over one region of it, as an edit is), otherwise a synthetic file.
 */
export function inputAt(seeds: readonly Seed[], seed: number, index: number, opts: GenerateOptions = {}): FuzzInput {
  const r = new Rng(inputSeed(seed, index));
  const full = opts.scale !== 'bounded';
  const base = r.pick(seeds);
  const choice = r.weighted<string>([
    [70, 'mutate'], [4, 'nest'], [full ? 3 : 1.5, 'explode'], [full ? 3 : 0.7, 'huge'], [4, 'macros'], [3, 'recursive'],
    [full ? 2 : 1.5, 'many'], [3, 'tokens'], [2, 'bytes'], [5, 'non-utf8'], [1, 'empty'],
  ]);
  switch (choice) {
    case 'mutate': {
      const ops: string[] = [];
      let text = base.text;
      // An edit of one region (the other functions stay as they were: the engine's cache serves
      // them, as in the editor) or of the whole file.
      const region = r.chance(0.7);
      let a = 0, b = text.length;
      if (region) {
        a = r.int(text.length);
        b = Math.min(text.length, a + r.range(50, 3000));
      }
      let part = text.slice(a, b);
      for (let k = r.weighted([[5, 1], [3, 2], [2, 3], [1, 4]]); k > 0; k--) {
        let op = r.pick(OP_NAMES);
        if (!full && op === 'long-line' && r.chance(0.7)) op = 'insert-tokens';
        ops.push(op);
        part = OPS[op](part, r, seeds, full);
        if (!full && part.length > 60_000) part = part.slice(0, 60_000);
      }
      text = text.slice(0, a) + part + text.slice(b);
      return { index, kind: `mutate(${ops.join('+')}${region ? `@${a}-${b}` : ''})<-${base.name}`, text };
    }
    case 'nest': {
      const depth = full ? r.pick([100, 500, 2000, 5000]) : r.pick([50, 100, 300, 500]);
      return { index, kind: `nest(${depth})`, text: nestedText(r, depth) };
    }
    case 'explode': {
      const n = full ? r.range(20, 60) : r.range(10, 40);
      const loops = full ? r.range(0, 3) : r.range(0, 2);
      return { index, kind: `explode(${n},${loops})`, text: pathExplosion(n, loops) };
    }
    case 'huge': {
      const n = full ? r.pick([100, 300, 800]) : r.pick([20, 40]);
      return { index, kind: `huge(${n})`, text: hugeFunction(r, n) };
    }
    case 'macros': return { index, kind: 'macros', text: macroHeavy(r) };
    case 'recursive': return { index, kind: 'recursive', text: recursiveHelpers(r) };
    case 'many': {
      const n = full ? r.pick([200, 1000]) : r.pick([20, 60]);
      return { index, kind: `many(${n})`, text: manyFunctions(r, n) };
    }
    case 'tokens': return { index, kind: 'tokens', text: randomTokens(r) };
    case 'bytes': return { index, kind: 'bytes', ...randomBytesText(r) };
    case 'non-utf8': return { index, kind: `non-utf8<-${base.name}`, ...nonUtf8(base.text, r) };
    default: return { index, kind: 'empty', text: r.pick(['', '\n', ' ', '\u0000', '\uFEFF', '{', '}', ')', '#', '/*', '"']) };
  }
}

/** Inputs `from` .. `from + count - 1` of the stream for `seed`. */
export function* inputs(seeds: readonly Seed[], seed: number, count: number, from = 0, opts: GenerateOptions = {}): Generator<FuzzInput> {
  for (let i = from; i < from + count; i++) yield inputAt(seeds, seed, i, opts);
}

/** Write a failing input for reproduction: DIR/<seed>-<index>.c (its bytes) and .json (its exact text, lone surrogates too). */
export function saveInput(dir: string, seed: number, input: FuzzInput, why: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${seed}-${input.index}`);
  fs.writeFileSync(base + '.c', input.bytes ? Buffer.from(input.bytes) : Buffer.from(input.text, 'utf8'));
  fs.writeFileSync(base + '.json', JSON.stringify({ seed, index: input.index, kind: input.kind, why, text: input.text }) + '\n');
  return base + '.c';
}
