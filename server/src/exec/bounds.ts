/**
 * The decision procedure over linear forms (docs/ownership.md, "Values"): interval bounds of
 * `c + Σ k·x` from what is known of each symbol, enough to prove `len` and `len * 2` different
 * once `len` is known positive, or `n != 1` false once `dma_map_sg()` of one entry succeeded.
 *
 * What is known of a symbol comes from the facts of the path (branch conditions, and what the
 * API implies: a size that was acquired successfully is at least 1, dma_map_sg() returns
 * 1..nents) and from its name: `sizeof(...)` is at least 1, and so are the kernel's size
 * constants we cannot see (`RX_BUF_SIZE`, `DESC_LEN`).
 */
import type { Fact } from './state';
import type { Val } from './value';

/** An upper-case constant that names a size: positive in kernel code. */
const SIZE_CONSTANT = /^g:[A-Z][A-Z0-9_]*(SIZE|SZ|LEN|LENGTH|BYTES|PAGES)(_[A-Z0-9]+)?$/;

export type Bounds = [lo: number, hi: number];

/** Bounds of one symbol from its fact and its name. */
export function symbolBounds(name: string, f: Fact | undefined): Bounds {
  let lo = -Infinity;
  let hi = Infinity;
  if (name.startsWith('sizeof(') || SIZE_CONSTANT.test(name)) lo = 1;
  if (f) {
    if (f.zero === true) return [0, 0];
    if (f.neg === false) lo = Math.max(lo, 0);
    if (f.neg === true) hi = Math.min(hi, -1);
    if (f.lo !== undefined) lo = Math.max(lo, f.lo);
    if (f.hi !== undefined) hi = Math.min(hi, f.hi);
    if (f.zero === false) {
      if (lo === 0) lo = 1;
      if (hi === 0) hi = -1;
    }
  }
  return [lo, hi];
}

/** Bounds of a linear form; `fact` looks a symbol's fact up by its name. */
export function bounds(v: Val, fact: (sym: string) => Fact | undefined): Bounds {
  let lo = v.c;
  let hi = v.c;
  for (const [n, k] of v.t) {
    const [a, b] = symbolBounds(n, fact(n));
    // k is never 0 (forms are normalised), so no 0 * Infinity; lo only meets -Infinity, hi +Infinity.
    if (k > 0) { lo += a * k; hi += b * k; } else { lo += b * k; hi += a * k; }
  }
  return [lo, hi];
}

/** What the bounds say of a form's sign: zero exactly, non-zero, negative or not. */
export function signFromBounds(v: Val, fact: (sym: string) => Fact | undefined): { zero?: boolean; neg?: boolean } {
  if (v.t.length === 0) return { zero: v.c === 0, neg: v.c < 0 };
  const [lo, hi] = bounds(v, fact);
  if (lo === 0 && hi === 0) return { zero: true, neg: false };
  const out: { zero?: boolean; neg?: boolean } = {};
  if (lo > 0 || hi < 0) out.zero = false;
  if (lo >= 0) out.neg = false;
  else if (hi < 0) out.neg = true;
  return out;
}
