/**
 * Persistent ordered maps keyed by numbers (AVL trees with path copying).
 *
 * Every node carries the owner token of the emulator instance that created it.
 * A node whose token matches the caller's is updated in place; any other node is
 * shared with a fork and is copied first. Forking therefore only hands out new
 * tokens: it costs O(1), and later writes copy just the O(log n) nodes they touch
 * (the "transient" technique of persistent data structures).
 */

/** Holds the owner token of one emulator instance; shared by all its components. */
export class Ctx {
  constructor(public tok: number) {}
}

let tokenCounter = 1;
/** A fresh owner token. Never fails. */
export function newToken(): number {
  return ++tokenCounter;
}

export interface PNode<V> {
  k: number;
  v: V;
  l: PNode<V> | null;
  r: PNode<V> | null;
  h: number;
  o: number;
}

function ht<V>(n: PNode<V> | null): number {
  return n === null ? 0 : n.h;
}

function own<V>(n: PNode<V>, tok: number): PNode<V> {
  return n.o === tok ? n : { k: n.k, v: n.v, l: n.l, r: n.r, h: n.h, o: tok };
}

function fix<V>(n: PNode<V>): void {
  const a = ht(n.l);
  const b = ht(n.r);
  n.h = (a > b ? a : b) + 1;
}

function rotR<V>(n: PNode<V>, tok: number): PNode<V> {
  const l = own(n.l!, tok);
  n.l = l.r;
  fix(n);
  l.r = n;
  fix(l);
  return l;
}

function rotL<V>(n: PNode<V>, tok: number): PNode<V> {
  const r = own(n.r!, tok);
  n.r = r.l;
  fix(n);
  r.l = n;
  fix(r);
  return r;
}

/** n is owned; its children have correct heights. */
function bal<V>(n: PNode<V>, tok: number): PNode<V> {
  const b = ht(n.l) - ht(n.r);
  if (b > 1) {
    const l = n.l!;
    if (ht(l.l) < ht(l.r)) n.l = rotL(own(l, tok), tok);
    return rotR(n, tok);
  }
  if (b < -1) {
    const r = n.r!;
    if (ht(r.r) < ht(r.l)) n.r = rotR(own(r, tok), tok);
    return rotL(n, tok);
  }
  fix(n);
  return n;
}

const added = { v: false };

function ins<V>(n: PNode<V> | null, k: number, v: V, tok: number): PNode<V> {
  if (n === null) {
    added.v = true;
    return { k, v, l: null, r: null, h: 1, o: tok };
  }
  if (k === n.k) {
    if (n.v === v) return n;
    const m = own(n, tok);
    m.v = v;
    return m;
  }
  const m = own(n, tok);
  if (k < m.k) m.l = ins(m.l, k, v, tok);
  else m.r = ins(m.r, k, v, tok);
  return bal(m, tok);
}

const removed = { v: false };

function delMin<V>(n: PNode<V>, tok: number, out: { n: PNode<V> | null }): PNode<V> | null {
  if (n.l === null) {
    out.n = n;
    return n.r;
  }
  const m = own(n, tok);
  m.l = delMin(m.l!, tok, out);
  return bal(m, tok);
}

function del<V>(n: PNode<V> | null, k: number, tok: number): PNode<V> | null {
  if (n === null) return null;
  if (k < n.k) {
    const l = del(n.l, k, tok);
    if (l === n.l) return n;
    const m = own(n, tok);
    m.l = l;
    return bal(m, tok);
  }
  if (k > n.k) {
    const r = del(n.r, k, tok);
    if (r === n.r) return n;
    const m = own(n, tok);
    m.r = r;
    return bal(m, tok);
  }
  removed.v = true;
  if (n.l === null) return n.r;
  if (n.r === null) return n.l;
  const out: { n: PNode<V> | null } = { n: null };
  const r = delMin(n.r, tok, out);
  const s = own(out.n!, tok);
  s.l = n.l;
  s.r = r;
  return bal(s, tok);
}

/** Functional helpers over a bare root, for maps nested inside other maps. */
export const pnode = {
  get<V>(n: PNode<V> | null, k: number): V | undefined {
    while (n !== null) {
      if (k === n.k) return n.v;
      n = k < n.k ? n.l : n.r;
    }
    return undefined;
  },
  set<V>(n: PNode<V> | null, k: number, v: V, tok: number): PNode<V> {
    return ins(n, k, v, tok);
  },
  del<V>(n: PNode<V> | null, k: number, tok: number): PNode<V> | null {
    return del(n, k, tok);
  },
  /** Greatest node with key <= k. */
  floor<V>(n: PNode<V> | null, k: number): PNode<V> | null {
    let best: PNode<V> | null = null;
    while (n !== null) {
      if (n.k === k) return n;
      if (n.k < k) {
        best = n;
        n = n.r;
      } else n = n.l;
    }
    return best;
  },
  /** Greatest node with key < k. */
  lower<V>(n: PNode<V> | null, k: number): PNode<V> | null {
    let best: PNode<V> | null = null;
    while (n !== null) {
      if (n.k < k) {
        best = n;
        n = n.r;
      } else n = n.l;
    }
    return best;
  },
  /** Smallest node with key >= k. */
  ceil<V>(n: PNode<V> | null, k: number): PNode<V> | null {
    let best: PNode<V> | null = null;
    while (n !== null) {
      if (n.k === k) return n;
      if (n.k > k) {
        best = n;
        n = n.l;
      } else n = n.r;
    }
    return best;
  },
  /** Smallest node with key > k. */
  higher<V>(n: PNode<V> | null, k: number): PNode<V> | null {
    let best: PNode<V> | null = null;
    while (n !== null) {
      if (n.k > k) {
        best = n;
        n = n.l;
      } else n = n.r;
    }
    return best;
  },
  first<V>(n: PNode<V> | null): PNode<V> | null {
    if (n === null) return null;
    while (n.l !== null) n = n.l;
    return n;
  },
  last<V>(n: PNode<V> | null): PNode<V> | null {
    if (n === null) return null;
    while (n.r !== null) n = n.r;
    return n;
  },
  forEach<V>(n: PNode<V> | null, f: (k: number, v: V) => void): void {
    // iterative in-order walk
    const stack: PNode<V>[] = [];
    let c = n;
    while (c !== null || stack.length) {
      while (c !== null) {
        stack.push(c);
        c = c.l;
      }
      const x = stack.pop()!;
      f(x.k, x.v);
      c = x.r;
    }
  },
  /** In-order visit of keys in [lo, hi]. */
  range<V>(n: PNode<V> | null, lo: number, hi: number, f: (k: number, v: V) => void): void {
    if (n === null) return;
    if (lo < n.k) pnode.range(n.l, lo, hi, f);
    if (lo <= n.k && n.k <= hi) f(n.k, n.v);
    if (n.k < hi) pnode.range(n.r, lo, hi, f);
  },
  size<V>(n: PNode<V> | null): number {
    let c = 0;
    pnode.forEach(n, () => c++);
    return c;
  },
};

/**
 * A persistent ordered map from numbers to values. Values are treated as
 * immutable unless they carry their own owner token (see {@link PMap.getMut}).
 */
export class PMap<V> {
  constructor(
    public ctx: Ctx,
    public root: PNode<V> | null = null,
    public size = 0,
  ) {}

  /** A copy for another emulator instance, sharing every node. O(1). */
  clone(ctx: Ctx): PMap<V> {
    return new PMap<V>(ctx, this.root, this.size);
  }
  get(k: number): V | undefined {
    return pnode.get(this.root, k);
  }
  has(k: number): boolean {
    return pnode.get(this.root, k) !== undefined;
  }
  set(k: number, v: V): void {
    added.v = false;
    this.root = ins(this.root, k, v, this.ctx.tok);
    if (added.v) this.size++;
  }
  delete(k: number): boolean {
    removed.v = false;
    this.root = del(this.root, k, this.ctx.tok);
    if (removed.v) this.size--;
    return removed.v;
  }
  /**
   * The value at k, owned by this instance: a value object with an `o` token
   * different from ours is cloned with `copy` and stored back first.
   */
  getMut<W extends V & { o: number }>(k: number, copy: (v: W, tok: number) => W): W | undefined {
    const v = this.get(k) as W | undefined;
    if (v === undefined) return undefined;
    if (v.o === this.ctx.tok) return v;
    const c = copy(v, this.ctx.tok);
    this.set(k, c);
    return c;
  }
  floor(k: number): PNode<V> | null {
    return pnode.floor(this.root, k);
  }
  lower(k: number): PNode<V> | null {
    return pnode.lower(this.root, k);
  }
  ceil(k: number): PNode<V> | null {
    return pnode.ceil(this.root, k);
  }
  higher(k: number): PNode<V> | null {
    return pnode.higher(this.root, k);
  }
  first(): PNode<V> | null {
    return pnode.first(this.root);
  }
  last(): PNode<V> | null {
    return pnode.last(this.root);
  }
  forEach(f: (k: number, v: V) => void): void {
    pnode.forEach(this.root, f);
  }
  range(lo: number, hi: number, f: (k: number, v: V) => void): void {
    pnode.range(this.root, lo, hi, f);
  }
  keys(): number[] {
    const out: number[] = [];
    this.forEach((k) => out.push(k));
    return out;
  }
  entries(): [number, V][] {
    const out: [number, V][] = [];
    this.forEach((k, v) => out.push([k, v]));
    return out;
  }
  clear(): void {
    this.root = null;
    this.size = 0;
  }
}
