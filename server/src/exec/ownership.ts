/**
 * The ownership model (docs/ownership.md): where every copy of a handle lives, and from that,
 * at each exit of a path, what the function still owns.
 *
 * Copies of a handle live in locals (`st.env`, which die with the frame), in memory named by
 * access paths (`st.mem`: `param:priv->dma`, `*param:dma_handle`, `kzalloc()@12#0->addr`,
 * `local:cmd.addr`), in the value the function returns, and with callees that keep what they
 * are given (`st.kept`). A resource is *handed off* at an exit when some copy of a value that
 * can release it sits where the caller can reach it:
 *
 * - memory rooted in a parameter (`param:...`, through `->`, `.`, `[i]`, `*`) or in a global
 *   that is not an upper-case constant;
 * - an out-parameter (`*param:NAME` exactly): only on an exit that does not report failure,
 *   since a caller does not read `*dma` after `-ENOMEM`, `NULL` or `ERR_PTR()`;
 * - memory of an object that is itself reachable (a fresh `kzalloc()` object stored in a
 *   parameter's field, returned, or kept by a callee), found by a fixpoint over `st.mem`;
 * - the returned value;
 * - a callee that keeps it, unless the exit reports failure and that call's own result says
 *   it failed (it kept nothing then).
 *
 * Otherwise the function owns it: a live resource the function owns at an exit is a leak.
 * Whether a caller-reachable field still counts as handed off on a *failing* exit is the leak
 * checker's call (checkers/leak.ts): it does unless the function shows it owns the unwind.
 */
import type { State, Resource, Fact } from './state';
import { Val, key, pretty } from './value';

/** How an exit reports to its caller: a failure (`-errno`, `NULL`, `ERR_PTR()`), success, or unknown. */
export type ExitKind = 'failure' | 'success' | 'unknown';

/** A value given to a callee that may keep it (it is not a conversion, a register write or a copy). */
export interface Kept {
  key: string;
  /** The callee's name. */
  by: string;
  /** Key of the call's result: if it says the call failed, the callee kept nothing. */
  ret?: string;
  /** Written through a pointer parameter (`writel(val, bd)`): memory or a register, as the caller passes. */
  throughParam?: boolean;
  /** Events logged before the call (a release after it shows the callee only used the handle). */
  seq?: number;
  /** The callee's body keeps it on its failing paths too (stored before the step that fails). */
  evenOnFailure?: boolean;
  /** The executor's step count at the call (orders it against reads of the buffer). */
  at?: number;
}

export type Via = 'returned' | 'out-param' | 'field' | 'global' | 'object' | 'callee' | 'caller-object';

export interface HandOff {
  /** For messages and hover: "returned", "passed to foo()"; for memory, see `path`. */
  how: string;
  /** The access path it is stored at (its message, "stored in priv->dma", is made by describe()). */
  path?: string;
  via: Via;
  /** The keeping call's result, when a callee holds it. */
  byCall?: string;
  /** The keeping callee's name. */
  by?: string;
  throughParam?: boolean;
}

export interface Holder {
  key: string; single?: string; off: HandOff; /** The access path it is stored at. */ path?: string;
  /** `key` is a reachable object's root: a handle that is an address inside it is reachable too. */
  object?: boolean;
}

const OUT_PARAM = /^\*param:[A-Za-z_]\w*(\+0)?(\[~\d+\])?$/;
const UPPER_GLOBAL = /^\*?g:[A-Z][A-Z0-9_]*$/;

/**
 * The object an access path or value key is rooted in: `param:priv->ring[3].dma` -> `param:priv`,
 * `&kzalloc()@12#0->node` -> `kzalloc()@12#0`. Accessors inside parentheses are the operands of
 * an opaque value and do not cut it.
 */
export function rootOf(k: string): string {
  let s = k;
  while (s.startsWith('&') || s.startsWith('*')) s = s.slice(1);
  let depth = 0;
  let end = s.length;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (depth === 0 && (ch === '.' || ch === '[' || (ch === '-' && s[i + 1] === '>'))) { end = i; break; }
  }
  // A path's base is a value key (`kzalloc()@12#0+0->dma`); a value's term is the bare symbol.
  return s.endsWith('+0', end) ? s.slice(0, end - 2) : s.slice(0, end);
}

/** Allocators whose result is a fresh object, not one of the caller's, whatever they are given. */
export const FRESH_ALLOCATOR = /^(kv?[mzc]alloc(_array|_node|_objs)?|kmalloc_array|kcalloc|kmemdup|kstrdup|kmem_cache_z?alloc|vz?alloc|alloc_skb|__?netdev_alloc_skb(_ip_align)?|napi_alloc_skb|dev_alloc_skb|build_skb|dmaengine_get_unmap_data)$/;

/** A fresh object's root: the result of an allocator call (executor: `kzalloc()@123#0`). */
export function isFresh(root: string): boolean {
  const m = /^([A-Za-z_]\w*)\(.*\)@\d+#\d+$/.exec(root);
  return !!m && FRESH_ALLOCATOR.test(m[1]);
}

/**
 * Whether an access path is the caller's by its root, and how. Memory is shared unless it is
 * the frame's (`local:`), a fresh allocation's, or an out-parameter on a failing exit: a pointer
 * from a call we cannot see, a loop cursor or a widened pointer may point into the caller's objects.
 */
function rootReach(path: string, exit: ExitKind): Via | null {
  if (path.startsWith('local:')) return null;
  if (OUT_PARAM.test(path)) return exit === 'failure' ? null : 'out-param';
  const root = rootOf(path);
  if (isFresh(root) || UPPER_GLOBAL.test(root)) return null;
  return root.startsWith('g:') ? 'global' : 'field';
}

/** Did the call whose result is `ret` fail, by the facts of this path? */
export function callFailed(facts: Map<string, Fact>, ret: string | undefined): boolean {
  if (!ret) return false;
  const f = facts.get(ret);
  return f?.neg === true || f?.err === true || f?.zero === false;
}

/**
 * Every caller-reachable copy of a value at an exit, in the order messages prefer (returned,
 * stored, kept by a callee). `failedKeepers` collects callees that would have held a value but
 * failed on this path.
 */
export function holders(st: State, exit: ExitKind, ret: Val | null, failedKeepers?: Map<string, string>): Holder[] {
  const out: Holder[] = [];
  const objects = new Set<string>();
  const addVal = (v: Val | string, off: HandOff, path?: string) => {
    const k = typeof v === 'string' ? v : key(v);
    const single = typeof v === 'string' ? undefined : (v.c === 0 && v.t.length === 1 && v.t[0][1] === 1 ? v.t[0][0] : undefined);
    out.push({ key: k, single, off, path });
    if (typeof v === 'string') objects.add(rootOf(v));
    else for (const [n] of v.t) objects.add(rootOf(n));
  };
  // A failing return (-errno, NULL, ERR_PTR()) carries no resource, whatever it was computed from.
  // Nor does a value the path proved zero (`err = regmap_write(map, REG, dma); if (err) goto out;
  // ... return err;`): what it was computed from is not returned.
  if (ret && exit !== 'failure' && st.facts.get(key(ret))?.zero !== true) addVal(ret, { how: 'returned', via: 'returned' });
  // Memory first, callees last: a callee that only used a handle (see checkers/leak.ts) must not
  // hide a copy stored where the caller reaches it. Kept objects make their memory reachable, so
  // they are known before the walk and listed after it.
  const keptVals: [string, HandOff][] = [];
  for (const k of st.kept) {
    if (exit === 'failure' && callFailed(st.facts, k.ret) && !k.evenOnFailure) { failedKeepers?.set(k.key, k.by); continue; }
    keptVals.push([k.key, { how: `passed to ${k.by}()`, via: 'callee', byCall: k.ret, by: k.by, throughParam: k.throughParam }]);
    objects.add(rootOf(k.key));
  }
  const reached = new Set<string>();
  for (let round = 0; round < 4; round++) {
    let grew = false;
    for (const [p, v] of st.mem) {
      if (reached.has(p)) continue;
      let via = rootReach(p, exit);
      if (!via && objects.has(rootOf(p))) via = 'object';
      if (!via) continue;
      reached.add(p);
      grew = true;
      addVal(v, { how: '', via, path: p }, p);
    }
    if (!grew) break;
  }
  for (const [k, off] of keptVals) addVal(k, off);
  // dma_map_sgtable(dev, &rxd->sgt) names the mapping by an address inside an object: reachable
  // when the object is (rxd stored where the caller or a callee holds it).
  for (const o of objects) out.push({ key: o, off: { how: 'its object is reachable', via: 'object' }, object: true });
  return out;
}

/**
 * The root and members of an access path or lvalue, indexes dropped and a slot's offset folded
 * into its array: `cmdq->sq.qbuf` -> [cmdq, sq, qbuf]; `param:m+0->qinfo+param:q->list` ->
 * [param:m, qinfo, list], the slot `qinfo[q].list`.
 */
export function memberChain(path: string): string[] {
  return path.trim().replace(/\[[^\]]*\]/g, '').split(/\s*(?:->|\.)\s*/).map((c) => c.replace(/\s*\+.*$/, ''));
}

/**
 * What follows a pointer handle in a key when the key is a load through it, at a constant or
 * symbolic offset: `sb+0->len`, `buf+0+24->a`, `data_out+sizeof(struct rep)+0->a`, `p+param:i[`.
 */
export const LOAD_THROUGH = /^(\+(?:-?\d+|sizeof\([^()]*\)|[A-Za-z_][\w:@#]*))*(->|\.|\[)/;

/**
 * Whether a value key holds the handle `h`: mentions it other than as the base of a load through
 * it. `cpu_to_le64(dma+0)` and `dma+0+16` hold it; `sb+0->tx_pkts` (a counter read out of the
 * buffer) and `*sb+0` do not.
 */
export function holds(k: string, h: string): boolean {
  if (!h) return false;
  for (let i = k.indexOf(h); i >= 0; i = k.indexOf(h, i + 1)) {
    // `*sb+0` loads through it; `4096*pfn+0` is a multiple of it.
    if (k[i - 1] === '*' && !/\d/.test(k[i - 2] ?? '')) continue;
    // ...except a struct iova's own range, which names it (`find_iova(PHYS_PFN(...))`, DESIGN §2).
    const after = k.slice(i + h.length, i + h.length + 60);
    if (LOAD_THROUGH.test(after) && !/^(\+0)?->pfn_(lo|hi)\b/.test(after)) continue;
    return true;
  }
  return false;
}

/**
 * Whether an argument `k` gives a callee the object a handle `h` was loaded from: `req+0` for
 * `req+0->sgt.sgl`, `&req+0->sgt+0` for `req+0->sgt.sgl` (the callee reaches the handle through it).
 */
export function contains(k: string, h: string): boolean {
  if (!k.endsWith('+0') || k.length < 3) return false;
  const base = k.slice(0, -2);
  if (base.startsWith('&')) {
    const b = base.slice(1);
    return h.startsWith(b + '.') || h.startsWith(b + '[');
  }
  return h.startsWith(k + '->');
}

/** "stored in priv->dma", "returned", "passed to foo()": a resource's `escaped` as the source writes it. */
export function describe(escaped: string): string {
  return escaped.startsWith('stored in ') ? `stored in ${pretty(escaped.slice(10))}` : escaped;
}

/** The copy of one of `r`'s handles among `hs`, if any (also through a value a branch proved equal). */
export function handOffOf(st: State, r: Resource, hs: Holder[], exit: ExitKind = 'success'): HandOff | undefined {
  // A mapping of the caller's sg list (or an attachment of its domain) is the caller's to undo
  // only when this function reports success: after a failure the caller does not know it exists.
  if (r.callerObject && exit !== 'failure') return { how: r.callerObject, via: 'caller-object' };
  for (const h of hs) {
    for (const x of r.handles) {
      if (h.object) { if (x.startsWith('&') && rootOf(x) === h.key) return h.off; continue; }
      if (holds(h.key, x)) return h.off;
      // `if (dma != virt_to_phys(pages)) goto out; return pages;`: pages stands for dma.
      const a = h.single !== undefined ? st.alias.get(x) : undefined;
      if (a && holds(key(a), h.single!)) return h.off;
    }
  }
  return undefined;
}

/** Whether `r` is reachable by the caller right now (as on a success exit): for releases after a hand-off. */
export function isHandedOff(st: State, r: Resource): boolean {
  return handOffOf(st, r, holders(st, 'success', null)) !== undefined;
}
