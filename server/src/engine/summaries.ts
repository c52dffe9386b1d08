/**
 * Summaries of a file's own functions, for their callers (docs/ownership.md, "Helpers"): what a
 * helper releases, how it fails and which parameters it keeps, read from its body by running
 * the same exploration on it, callees first, with a guard against recursion. A name never
 * stands in for a body: `foo_free_rings()` releases what its statements release.
 *
 * A helper's parameters are symbols (`param:priv`), so what it releases is named in their
 * terms (`param:priv+0->rx_dma`), and the caller reads that in its own (executor `translate`).
 * Functions nobody in the file calls, or too long to read, keep the textual summary: the API
 * release calls their text names, `return -E...` for failure, a store of a parameter.
 */
import { createHash } from 'node:crypto';
import type { Config } from '../config';
import type { FunctionInfo } from '../parse/functions';
import type { Exploration, Summary } from '../exec/executor';
import { lookupApi } from '../model/api';
import { holders, rootOf } from '../exec/ownership';
import { asSym } from '../exec/value';

/** Runs the exploration on a helper with the summaries of its callees known so far. */
export type BodyReader = (f: FunctionInfo, summaries: Map<string, Summary>) => Exploration | undefined;

interface Direct { releases: string[]; calls: string[]; fails: Summary['fails']; keeps: boolean; checks: number[]; returnsParam?: number }

/** Per function text: a keystroke re-reads only the function it touched. */
const directCache = new Map<string, Direct>();
/** Body summaries by function text, settings and callee summaries. */
const bodyCache = new Map<string, Summary>();

/** Statements whose effect a caller sees: a store through a pointer, a copy, a write accessor. */
const SEEN_BY_CALLER = /(->\s*\w+|\.\w+|\]|\*\w+)\s*[|&+^]?=[^=]|\bmem(cpy|move)\s*\(|\b(write[bwlq]|iowrite\d*|__raw_write[bwlq]|put_unaligned\w*)\s*\(/;

/** Longest helper read from its body (characters); longer ones keep the textual summary. */
const MAX_BODY = 24000;

function direct(f: FunctionInfo, src: string, config: Config, wkey: string): Direct {
  const ck = `${wkey}|${f.returnsPointer}|${f.params.map((p) => p.name).join(',')}|${src}`;
  let d = directCache.get(ck);
  if (d) return d;
  const releases = new Set<string>();
  const calls: string[] = [];
  for (const m of src.matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) {
    const api = lookupApi(m[1], config.wrappers);
    if (api?.spec.releases) for (const k of api.spec.releases.kinds) releases.add(k);
    else if (!api) calls.push(m[1]);
  }
  const body = src.slice(Math.max(0, src.indexOf('{')));
  const fails: Summary['fails'] = f.returnsPointer
    ? (/\breturn\s+(NULL|0)\s*;/.test(body) ? 'null' : /\breturn\s+ERR_(PTR|CAST)\s*\(/.test(body) ? 'err-ptr' : null)
    : (/\breturn\s+-\s*[A-Z0-9]/.test(body) ? 'neg-errno' : null);
  // Parameters it gives to dma_mapping_error() itself: a caller that passes a fresh mapping has it checked.
  const checks = f.params.map((p, i) => (p.name && new RegExp(`\\bdma_mapping_error\\s*\\([^,;()]*(\\([^()]*\\))?[^,;()]*,\\s*${p.name}\\s*\\)`).test(body) ? i : -1)).filter((i) => i >= 0);
  // Every return gives back the same parameter (`return err;` in atmel_sha_complete()), which it
  // never assigns: the call's value is the argument's.
  const rets = [...body.matchAll(/\breturn\b\s*([^;]*);/g)].map((m) => m[1].trim());
  const ri = rets.length && rets.every((r) => r === rets[0]) ? f.params.findIndex((p) => p.name === rets[0]) : -1;
  const returnsParam = ri >= 0 && !new RegExp(`(?<![\\w.>])${rets[0]}\\s*([-+*/|&^]|<<|>>)?=(?!=)|(\\+\\+|--)\\s*${rets[0]}\\b|\\b${rets[0]}\\s*(\\+\\+|--)`).test(body) ? ri : undefined;
  // Whether it keeps a parameter is asked only of helpers something calls: read on demand.
  // (The getter holds the body and the names only, not `f`: its node would keep the file's tree.)
  let keeps: boolean | undefined;
  const names = f.params.map((p) => p.name).filter(Boolean);
  d = {
    releases: [...releases], calls, fails, checks, returnsParam,
    get keeps() { return (keeps ??= keepsParam(body, names)); },
  };
  if (directCache.size > 4000) directCache.clear();
  directCache.set(ck, d);
  return d;
}

export function summarise(fns: FunctionInfo[], config: Config, text: string, read: BodyReader): Map<string, Summary> {
  const wkey = JSON.stringify(config.wrappers);
  const byName = new Map<string, { f: FunctionInfo; src: string; d: Direct }>();
  for (const f of fns) {
    const src = text.slice(f.startIndex, f.endIndex);
    byName.set(f.name, { f, src, d: direct(f, src, config, wkey) });
  }
  // The textual summaries, closed over calls: what callers of unread helpers see.
  const textual = new Map<string, Summary>();
  for (const [n, { f, d }] of byName) {
    // `keeps` read from the text only when asked (a caller's summary, a digest), unless a callee set it.
    let keeps: boolean | undefined;
    textual.set(n, {
      releases: new Set(d.releases), released: [], fails: d.fails, params: f.params.map((p) => p.name),
      get keeps() { return keeps ?? d.keeps; }, set keeps(v: boolean) { keeps = v; },
      checksParams: d.checks.length ? d.checks : undefined, returnsParam: d.returnsParam,
    });
  }
  for (let i = 0; i < 3; i++) {
    for (const [n, { d }] of byName) {
      const s = textual.get(n)!;
      for (const c of d.calls) {
        const callee = textual.get(c);
        if (!callee || c === n) continue;
        for (const k of callee.releases) s.releases.add(k);
        if (callee.keeps) s.keeps = true; // desc_set_buf_addr_and_size() -> desc_set_buf_addr()
      }
    }
  }
  // Helpers some function of the file calls are read from their bodies, callees first.
  // Only helpers an API-using function reaches matter to the analysis.
  const called = new Set<string>();
  const work = [...byName.values()].filter((e) => e.f.apiCalls.length > 0).map((e) => e.f.name);
  while (work.length) {
    for (const c of byName.get(work.pop()!)!.d.calls) if (byName.has(c) && !called.has(c)) { called.add(c); work.push(c); }
  }
  const out = new Map<string, Summary>(textual);
  const state = new Map<string, 'reading' | 'done'>();
  const visit = (name: string): void => {
    if (state.has(name)) return; // done, or on the stack: a recursive call keeps the textual summary
    const e = byName.get(name)!;
    state.set(name, 'reading');
    for (const c of e.d.calls) if (called.has(c) && c !== name) visit(c);
    // A body with nothing a caller could see (no release, no store through a pointer, no copy or
    // descriptor write, no call of another helper read here) says what its text says.
    const worth = e.d.releases.length > 0 || SEEN_BY_CALLER.test(e.src) || e.d.calls.some((c) => called.has(c) && c !== name);
    if (worth && e.src.length <= MAX_BODY) {
      const calleeKey = JSON.stringify([...new Set(e.d.calls)].filter((c) => byName.has(c)).map((c) => [c, digest(out.get(c)!)]));
      const ck = createHash('sha1').update(wkey).update(e.src).update(calleeKey).update(String(e.f.returnsPointer)).digest('base64');
      let s = bodyCache.get(ck);
      if (!s) {
        const ex = read(e.f, out);
        s = ex ? fromBody(e.f, ex, textual.get(name)!) : textual.get(name)!;
        if (bodyCache.size > 4000) bodyCache.clear();
        bodyCache.set(ck, s);
      }
      out.set(name, s);
    }
    state.set(name, 'done');
  };
  for (const n of called) visit(n);
  return out;
}

/** A summary as a stable string: part of every caller's cache key. */
export function digest(s: Summary): string {
  return JSON.stringify([[...s.releases].sort(), s.released, s.fails, s.keeps, s.keepsParams ?? null, s.keepsIfMemory ?? null, s.keepsOnFailure ?? null, s.asserted ?? null, s.checksParams ?? null, s.returnsParam ?? null]);
}

/** What the paths of a helper's exploration say to its callers. */
function fromBody(f: FunctionInfo, ex: Exploration, textual: Summary): Summary {
  const params = f.params.map((p) => p.name);
  const releases = new Set<string>();
  const released = new Map<string, { kinds: string[]; handle: string; when?: { param: number; zero: boolean }[] }>();
  const keeps = new Set<number>();
  const ifMemory = new Set<number>();
  const onFailure = new Set<number>();
  let failing = false;
  let warnedFailure = false;
  const guards = new Map<string, Map<number, boolean>>();
  let nullFailure = false;
  let paths = 0;
  const tokens = params.map((n) => (n && /^[A-Za-z_]\w*$/.test(n) ? new RegExp(`param:${n}(?![\\w])`) : null));
  for (const p of ex.paths) {
    if (p.exit.text.startsWith('path cut')) continue;
    paths++;
    // A failure only under `if (WARN(...))` is one the helper asserts does not happen
    // (iwl_txq_gen2_set_tb: "exceeded 25 TBs"): callers that rely on it need not check.
    if (p.exit.failure === true && !p.state.warned) {
      failing = true;
      // Its failing returns are all ERR_PTR(): callers test IS_ERR(), a NULL is not its failure.
      const v = p.exit.value;
      if (!(v && (p.state.fact(v)?.err || /^(ERR_PTR|ERR_CAST)\(/.test(asSym(v) ?? '')))) nullFailure = true;
    }
    if (p.exit.failure === true && p.state.warned) warnedFailure = true;
    for (const e of p.state.events) {
      if (e.k !== 'unknown-release') continue;
      const d = e.detail as { handle?: string; kinds: string[] } | undefined;
      if (!d) continue;
      if (d.handle === undefined) { for (const k of d.kinds) releases.add(k); continue; }
      // What the caller can name (its arguments, their memory, globals) by its handle; the rest
      // (a list cursor, a slot of a loop) by its kind only.
      if (/(^|[^a-z])(param:|g:)/.test(d.handle)) {
        const k = d.kinds.join(',') + '|' + d.handle;
        released.set(k, { kinds: d.kinds, handle: d.handle });
        // What the path knew of its parameters: a release only when `b_final` is set
        // (_qed_vf_pf_release(p_hwfn, false) frees nothing).
        const seen = new Map<number, boolean>();
        params.forEach((n, i) => { const z = n ? p.state.facts.get(`param:${n}+0`)?.zero : undefined; if (z !== undefined) seen.set(i, z); });
        const g = guards.get(k);
        if (!g) guards.set(k, seen);
        else for (const [i, z] of g) if (seen.get(i) !== z) g.delete(i);
      }
      else for (const k of d.kinds) releases.add(k);
    }
    if (p.exit.failure === true) {
      // Stored before the step that fails, and left there: the caller's struct holds it anyway.
      for (const h of holders(p.state, 'failure', null)) {
        if (h.object || h.off.via === 'callee') continue;
        const home = h.path ? rootOf(h.path) : undefined;
        tokens.forEach((t, i) => { if (t && t.test(h.key) && home !== `param:${params[i]}` && !h.off.throughParam) onFailure.add(i); });
      }
      continue;
    }
    // Kept: a parameter's value (or what it points to) stored where the caller reaches it, other
    // than back into that same parameter's object, or given to a callee that keeps it.
    for (const h of holders(p.state, 'success', null)) {
      if (h.object) continue;
      const home = h.path ? rootOf(h.path) : undefined;
      tokens.forEach((t, i) => {
        if (t && !keeps.has(i) && t.test(h.key) && home !== `param:${params[i]}`) (h.off.throughParam ? ifMemory : keeps).add(i);
      });
    }
  }
  if (paths === 0) return textual;
  for (const [k, g] of guards) if (g.size) released.get(k)!.when = [...g].map(([param, zero]) => ({ param, zero }));
  // A loop over an array releases every slot, not only the iterations the analysis unrolled:
  // slots 0 and 1 of the same array released say `[*]` (tbnet_free_buffers() walks the ring
  // its caller filled at `frames[prod & MASK]`).
  const slots = new Map<string, Set<string>>();
  for (const { kinds, handle } of released.values()) {
    for (const m of handle.matchAll(/\[(\d+)\]/g)) {
      const gen = handle.slice(0, m.index!) + '[*]' + handle.slice(m.index! + m[0].length);
      const k = kinds.join(',') + '|' + gen;
      if (!slots.has(k)) slots.set(k, new Set());
      slots.get(k)!.add(m[1]);
    }
  }
  // ... and `p = *param + i; p->f` (qed_fw_overlay_mem_free walks the array its caller filled at
  // `mem + storm_id`): the pointer parameter's elements, `+*->`.
  for (const { kinds, handle } of [...released.values()]) {
    const m = /^(\*?param:[A-Za-z_]\w*\+0)\+(\d+)(->.*)$/.exec(handle);
    if (!m) continue;
    const k = kinds.join(',') + '|' + `${m[1]}+*${m[3]}`;
    if (!slots.has(k)) slots.set(k, new Set());
    slots.get(k)!.add(m[2]);
  }
  for (const [k, idx] of slots) {
    if (!idx.has('0') || !idx.has('1')) continue;
    const [kinds, handle] = [k.slice(0, k.indexOf('|')).split(','), k.slice(k.indexOf('|') + 1)];
    released.set(k, { kinds, handle });
  }
  return {
    releases, released: [...released.values()],
    // Over budget: what was explored may have missed the failing return.
    fails: failing ? (f.returnsPointer ? (nullFailure ? 'null' : 'err-ptr') : 'neg-errno') : ex.overBudget ? textual.fails : null,
    keeps: keeps.size > 0, keepsParams: [...keeps].sort((a, b) => a - b),
    keepsIfMemory: [...ifMemory].filter((i) => !keeps.has(i)).sort((a, b) => a - b), params,
    keepsOnFailure: onFailure.size ? [...onFailure].filter((i) => keeps.has(i)).sort((a, b) => a - b) : undefined,
    asserted: warnedFailure && !failing ? (f.returnsPointer ? 'null' : 'neg-errno') : undefined,
    checksParams: textual.checksParams,
    returnsParam: textual.returnsParam,
  };
}

/**
 * Whether a function stores one of its parameters where its caller can reach it: a store through
 * a pointer (`->`, `.`, `[]`, `*`) of a value computed from the parameter, also through locals
 * (`addr = dma_addr & ~ALIGN; desc->buf = cpu_to_le32(addr);`). The textual fallback.
 */
function keepsParam(body: string, params: string[]): boolean {
  if (params.length === 0) return false;
  const names = new Set(params);
  const locals = [...body.matchAll(/(?:^|[;{}]\s*|\b(?:u\d+|int|long|dma_addr_t|__le\d+|u64|u32)\s+)([A-Za-z_]\w*)\s*=\s*([^;=][^;]*);/g)];
  const esc = (n: string) => n.replace(/[^\w]/g, '\\$&');
  // One alternation of the names, rebuilt only when a name is added: not one RegExp per name per
  // local (a sixth of the summaries' time on the corpus).
  const alternation = () => new RegExp(`\\b(?:${[...names].map(esc).join('|')})\\b`);
  let any = alternation();
  for (let i = 0; i < 3; i++) {
    const before = names.size;
    for (const m of locals) if (!names.has(m[1]) && any.test(m[2])) { names.add(m[1]); any = alternation(); }
    if (names.size === before) break;
  }
  const alt = [...names].join('|');
  return new RegExp(`(->|\\.|\\]|\\*)\\s*\\w*\\s*[|&+^]?=[^=;]*\\b(${alt})\\b`).test(body);
}
