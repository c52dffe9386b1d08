/**
 * Symbolic values: linear forms over named symbols, `c + Σ coef·sym`.
 *
 * Constants are forms without terms. Anything non-linear (a shift by an unknown, a call to
 * an unknown function, `PAGE_ALIGN(x)` with x unknown) becomes an opaque symbol whose name is
 * derived from the operation and its operands, so the same expression computed twice yields
 * the same symbol: `get_order(size)` at the allocation and at the free compare equal, and
 * `size` against `size + PAGE_SIZE` compares provably different.
 */

export interface Val {
  /** Constant part. */
  readonly c: number;
  /** Sorted [symbol, coefficient] pairs; empty for a constant. */
  readonly t: readonly (readonly [string, number])[];
}

const ZERO: Val = { c: 0, t: [] };

export function konst(n: number): Val {
  return n === 0 ? ZERO : { c: n, t: [] };
}

export function sym(name: string): Val {
  return { c: 0, t: [[name, 1]] };
}

export function isConst(v: Val): boolean {
  return v.t.length === 0;
}

/** The single symbol of a form that is exactly one symbol, else undefined. */
export function asSym(v: Val): string | undefined {
  return v.c === 0 && v.t.length === 1 && v.t[0][1] === 1 ? v.t[0][0] : undefined;
}

export function key(v: Val): string {
  if (v.t.length === 0) return String(v.c);
  let s = '';
  for (const [n, k] of v.t) s += (k === 1 ? '' : k + '*') + n + '+';
  return s + v.c;
}

function norm(m: Map<string, number>, c: number): Val {
  const t = [...m.entries()].filter(([, k]) => k !== 0).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return t.length === 0 ? konst(c) : { c, t };
}

export function add(a: Val, b: Val, sign = 1): Val {
  if (b.t.length === 0 && a.t.length === 0) return konst(wrap(a.c + sign * b.c));
  const m = new Map<string, number>(a.t as [string, number][]);
  for (const [n, k] of b.t) m.set(n, (m.get(n) ?? 0) + sign * k);
  return norm(m, wrap(a.c + sign * b.c));
}

export function sub(a: Val, b: Val): Val {
  return add(a, b, -1);
}

export function mulConst(a: Val, k: number): Val {
  if (k === 0) return ZERO;
  return { c: wrap(a.c * k), t: a.t.map(([n, x]) => [n, x * k] as const) };
}

/** Keep constants in the exact-integer range of a double. */
function wrap(n: number): number {
  return Number.isSafeInteger(n) ? n : Number(BigInt.asUintN(64, BigInt(Math.trunc(n))) & 0x1fffffffffffffn);
}

/** An opaque symbol standing for `op(args)`. */
export function opaque(op: string, ...args: Val[]): Val {
  return sym(`${op}(${args.map(key).join(',')})`);
}

/** True when a and b are provably different (constants that differ, or equal terms and different constants). */
export function provablyDifferent(a: Val, b: Val): boolean {
  const d = sub(a, b);
  return d.t.length === 0 && d.c !== 0;
}

export function provablyEqual(a: Val, b: Val): boolean {
  const d = sub(a, b);
  return d.t.length === 0 && d.c === 0;
}

/** The symbols a value mentions. */
export function symbols(v: Val): string[] {
  return v.t.map(([n]) => n);
}

export function hex(n: number): string {
  return n < 0 ? '-0x' + (-n).toString(16) : '0x' + n.toString(16);
}

/** Printable form: constants in hex when large, symbols by name. */
export function show(v: Val, concrete?: number): string {
  if (isConst(v)) return Math.abs(v.c) >= 4096 ? hex(v.c) : String(v.c);
  const s = v.t.map(([n, k]) => (k === 1 ? pretty(n) : `${k}*${pretty(n)}`)).join(' + ') + (v.c ? ` + ${v.c}` : '');
  return concrete !== undefined ? `${s} (=${hex(concrete)})` : s;
}

/** A symbol as the source wrote it: `param:priv->len` is `priv->len`, `g:RING_BYTES` is `RING_BYTES`. */
export function pretty(name: string): string {
  return name.replace(/(^|[(,*\[&])(param|g|local):/g, '$1').replace(/@\d+(#\d+)?/g, '').replace(/\+0(?=[),\]]|->|\.|\[|:|$)/g, '');
}
