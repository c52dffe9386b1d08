/**
 * Path exploration of one function's CFG (shared/DESIGN.md §3 "Paths").
 *
 * Every fallible API call is a fork point. Rather than forking inside expression evaluation,
 * each exploration carries a failure plan: run 0 lets every call succeed; run k+1 makes the
 * k-th fallible call reached fail the way the kernel signals it (the iommufd fail-nth
 * sweep). Within a run, conditions over unknowns fork (with the fact each edge adds), loops
 * unroll a few times and are then widened, and identical states meet only once at join points.
 */
import type { SyntaxNode } from '../parse/parser';
import type { Config } from '../config';
import type { Cfg, Instr } from '../ir/cfg';
import { declaratorName, stripParens, liveAtJoins } from '../ir/cfg';
import { lookupApi, ApiSpec, HELPERS, KIND_NAME } from '../model/api';
import { EmuBridge } from '../model/emulate';
import { State, Resource, SiteRef, Fact } from './state';
import { holders, handOffOf, isHandedOff, rootOf, ExitKind, FRESH_ALLOCATOR, isFresh, holds, contains, LOAD_THROUGH } from './ownership';
import { signFromBounds } from './bounds';
import {
  Val, konst, sym, key, add, sub, mulConst, opaque, isConst, asSym, provablyDifferent, provablyEqual, hex, show, pretty,
} from './value';
import { BUILTIN_CONSTANTS } from '../model/constants';

/**
 * What a helper of the same file does, as far as its callers are concerned, read from its body
 * (engine/summaries.ts): what it releases, how it fails, which of its parameters it keeps.
 */
export interface Summary {
  /** Kinds it releases through handles its caller cannot name (an array slot, a list walk). */
  releases: Set<string>;
  /** Releases of handles named in its parameters' terms (`param:priv+0->rx_dma`, `param:dma+0`),
   * and what every releasing path knew of a parameter (`b_final` not 0). */
  released: { kinds: string[]; handle: string; when?: { param: number; zero: boolean }[] }[];
  /** How it fails: -errno, NULL, or (a pointer function that only returns ERR_PTR() on failure) an error pointer. */
  fails: 'neg-errno' | 'null' | 'err-ptr' | null;
  /** It stores one of its parameters (or what one points to) where its caller can reach it. */
  keeps: boolean;
  /** Which parameters, when the body was read (undefined: any of them). */
  keepsParams?: number[];
  /** Parameters it writes through another pointer parameter: kept when the caller passes `&mem`. */
  keepsIfMemory?: number[];
  /** Parameters it keeps on a failing path too (vdev->notify = buf; then the command fails). */
  keepsOnFailure?: number[];
  /** Its parameters' names, to read `released` handles in a caller's terms. */
  params: string[];
  /** Parameters it tests with dma_mapping_error() (iwl_txq_gen2_set_tb_with_wa(..., phys, ...)): the caller's check. */
  checksParams?: number[];
  /** It fails only under `if (WARN(...))` (and how): a caller's path through that failure is asserted away. */
  asserted?: 'neg-errno' | 'null';
  /**
   * Every path returns this parameter as it was given (`return atmel_sha_complete(dd, err);`
   * with a completion helper that returns `err`): the call's value is the argument's.
   */
  returnsParam?: number;
}

export interface ExecOptions {
  config: Config;
  cfg: Cfg;
  fn: SyntaxNode;
  params: string[];
  returnsPointer: boolean;
  /** The function returns 0 somewhere: then a non-zero int it returns means failure (kernel convention). */
  returnsZero: boolean;
  defines: Map<string, Val | string>;
  evalDefine: (text: string) => SyntaxNode | null;
  summaries: Map<string, Summary>;
  /** Record emulator snapshots after each step (run-snippet). */
  snapshots: boolean;
  /** Read as a helper for its summary: note what it does with its parameters too. */
  asHelper?: boolean;
  /** Only this failure plan (run-snippet), or every plan (analysis). */
  onlyFailAt?: number | null;
  /** Wall-clock guard (Date.now() deadline): a last resort, reported as such. */
  deadline: number;
  maxPaths: number;
  /** Statements and branch decisions executed over all paths: the budget that makes runs repeatable. */
  maxSteps: number;
  /** The only values a parameter takes (every caller in the file passes one of these constants). */
  paramValues?: Map<string, number[]>;
  /** The function returns nothing (`void`): its exits after a failure are failing exits. */
  returnsVoid?: boolean;
  /** The file's one-line accessors (`return container_of(v, struct x, vdesc);`), evaluated in place. */
  inlines?: Map<string, { params: string[]; expr: SyntaxNode }>;
}

export interface Exit {
  line: number;
  col: number;
  text: string;
  /** true: the function reports failure; false: success; undefined: can't tell. */
  failure: boolean | undefined;
  value: Val | null;
}

export interface PathRecord {
  state: State;
  exit: Exit;
  failAt: number | null;
  label: string;
  snapshots: Record<string, unknown>[];
}

export interface Exploration {
  paths: PathRecord[];
  overBudget?: string;
  /** Every fallible site reached on any path, and whether any path tested its result. */
  fallibleSites: Map<number, { site: SiteRef; checked: boolean }>;
  /** The function's labels and their blocks (a path's `state.visits` says which it passed). */
  labels: Map<string, number>;
  /** Blocks of labels whose first statement releases something (`rel_rx: dma_release_channel(...)`). */
  releasingLabels?: Set<number>;
}

const MAX_STEPS_PER_PATH = 20000;

/** Names of drivers' dma_mapping_error() wrappers. */
const CHECK_HELPER = /(map(ping)?_?(err(or)?|check)|dma_?(err(or)?|check))$/i;

/** An unknown upper-case constant (an enumerator or #define from a header). */
const UPPER_CONST = /^g:[A-Z][A-Z0-9_]*$/;

/** MMIO and descriptor write accessors. */
const WRITE_ACCESSOR = /^(write[bwlq]|write[bwlq]_relaxed|iowrite\d*|__raw_write[bwlq]|lo_hi_writeq|hi_lo_writeq|put_unaligned)/;

/**
 * use-after-release: the kinds whose handle, given to an API call after the release, is a use
 * (a freed domain, struct iova, IOVA range, buffer). Not an IOMMU mapping's IOVA or an attachment:
 * freeing the IOVA range after iommu_unmap() names the same address and is the right order. Not a
 * streaming mapping's handle either: its sg list or buffer outlives the unmap (`dma_map_single(dev,
 * sg_virt(sg), ...)` after dma_unmap_sg() is fine); its syncs are checked by themselves.
 */
const USED_KINDS = new Set<string>(['domain', 'iova', 'iova-fast', 'dma-iova', 'coherent', 'pool-block']);
/** ... and those whose handle is a bus address a register or descriptor may be given. */
const HW_KINDS = new Set<string>(['dma-mapping', 'coherent', 'pool-block', 'dma-iova', 'iova', 'iova-fast']);
/** Conversions to the device's format: what is stored with one is written for the hardware. */
const HW_FORMAT = /^(cpu_to_(le|be)(16|32|64)|lower_32_bits|upper_32_bits)$/;

/** How a run trace shows a call of a same-file helper that succeeded: what its body was read to do. */
function helperResult(s: Summary): string | undefined {
  const kinds = new Set<string>([...s.releases, ...s.released.flatMap((r) => r.kinds)]);
  const what: string[] = [];
  if (kinds.size) what.push(`releases ${[...kinds].map((k) => KIND_NAME[k as keyof typeof KIND_NAME] ?? k).join(', ')} on some paths`);
  if (s.keeps) what.push('keeps what it is given');
  if (!what.length && !s.fails) return undefined;
  const fails = s.fails === 'neg-errno' ? '0' : s.fails === 'err-ptr' ? 'a pointer' : s.fails === 'null' ? 'non-NULL' : 'done';
  return `-> ${fails} (a helper of this file${what.length ? ': ' + what.join('; ') : ''})`;
}

/** Whether a value key carries the handle `h` as a whole name (`dma@1#0` is not in `dma@1#01`), not only loaded through it. */
function carries(k: string, h: string): boolean {
  for (let i = k.indexOf(h); i >= 0; i = k.indexOf(h, i + 1)) {
    if (/[\w:@#]/.test(k[i - 1] ?? '') || /[\w@#]/.test(k[i + h.length] ?? '')) continue;
    // As holds() (exec/ownership.ts): `*sb+0` and `sb+0->len` load through it, `4096*pfn+0` does not.
    if (k[i - 1] === '*' && !/\d/.test(k[i - 2] ?? '')) continue;
    const after = k.slice(i + h.length, i + h.length + 60);
    if (LOAD_THROUGH.test(after) && !/^(\+0)?->pfn_(lo|hi)\b/.test(after)) continue;
    return true;
  }
  return false;
}

/**
 * Calls that look at a handle but never keep it (DESIGN §2): register writes, conversions,
 * copies, checksums and comparisons of a buffer, logging, upper-case macros given a scalar.
 */
const NOT_KEEPING = /(^|_)(write_?reg\w*|reg_?write\w*|wr(32|64|_reg)|clear_page|copy_page|memset_io|memcpy_(to|from)io)$|^(regmap_(field_)?(write|update_bits|bulk_write|raw_write|set_bits|clear_bits|write_bits)|crc(8|16|32|64|_itu_t|_ccitt|_t10dif)\w*|crc32c?|memcmp|memchr_inv|csum_partial\w*|jhash\w*|get_random_bytes|write[bwlq]|write[bwlq]_relaxed|iowrite\d*|__raw_write|lo_hi_write|hi_lo_write|dev_|pr_|printk|netdev_(err|warn|info|dbg|notice)|netif_(err|warn|info|dbg)|trace_|WARN|BUG|dma_sync_|memset|memcpy|memmove|copy_from_user|copy_to_user|sg_copy_to_buffer|sg_copy_from_buffer|put_unaligned|lower_32_bits|upper_32_bits|cpu_to_|le\d+_to_cpu|be\d+_to_cpu|kv?free|print_hex_dump|dump_stack|seq_printf|snprintf|sprintf|scnprintf)|^[A-Z][A-Z0-9_]*$/;

/** Setters of a device's driver data (the object remove() gets back). */
const DRVDATA_SET = /^(pci|platform|dev|spi|i2c|amba|usb|hid|mdio|sdio|serdev|auxiliary|vio|macio)_set_drvdata$/;

/** Frees of plain memory (not the DMA API's): what the object held is gone. */
const FREE_OBJECT = /^(kv?free|kfree_sensitive|kvfree_sensitive|kzfree|vfree|devm_kfree|kmem_cache_free)$/;

/** Copies: what the source holds lands in the destination. */
const COPY = /^(memcpy|memmove|__builtin_memcpy|memcpy_toio)$/;
/** Copies and compares of a buffer: the CPU reads or writes it (cpu-access-without-sync). */
const CPU_COPY = /^(memcpy|memmove|__builtin_memcpy|memset|memzero_explicit|memcmp)$/;
/**
 * Kernel calls that never sync a DMA mapping (locks, barriers, delays, completions, bit and atomic
 * ops, queue accounting): a buffer the device owns before them still is after them.
 */
const NO_SYNC = /^(spin_(un)?lock\w*|raw_spin_(un)?lock\w*|mutex_(un)?lock\w*|read_(un)?lock\w*|write_(un)?lock\w*|local_irq_\w+|rcu_read_(un)?lock\w*|[rw]?mb|dma_[rw]?mb|smp_[rw]?mb|smp_store_release|smp_load_acquire|barrier|wmb|cpu_relax|udelay|ndelay|mdelay|msleep\w*|usleep_range\w*|fsleep|(re)?init_completion|complete(_all)?|wait_for_completion\w*|atomic(64)?_\w+|refcount_\w+|(__)?(set|clear|test|test_and_set|test_and_clear|change)_bit|read[bwlq](_relaxed)?|ioread\d+\w*|__raw_read[bwlq]|jiffies_to_\w+|msecs_to_jiffies|usecs_to_jiffies|time_(after|before)\w*|ktime_get\w*|min|max|min_t|max_t|clamp\w*|ALIGN|likely|unlikely|skb_tx_timestamp|netdev_tx_sent_queue|netdev_sent_queue|netif_(stop|wake|start|tx_stop|tx_wake)\w*|netif_queue_stopped|skb_headlen|skb_shinfo|skb_is_gso|skb_is_nonlinear|skb_transport_offset|skb_network_offset|skb_checksum_start_offset|skb_vlan_tag_present|skb_vlan_tag_get|skb_get_queue_mapping|skb_queue_len|skb_frag_size|skb_frag_off|skb_frag_page|kmalloc\w*|kzalloc\w*|kcalloc\w*|kmalloc_array|devm_kzalloc|devm_kmalloc|le\d+_to_cpup|be\d+_to_cpup|get_unaligned\w*|ffs|fls|__ffs|__fls|hweight\d+|roundup_pow_of_two|rounddown_pow_of_two|is_power_of_2|ilog2|order_base_2|lockdep_\w+|might_sleep|WRITE_ONCE|READ_ONCE)$/;
/** The symbol of a call we cannot see (innermost first): `param:foo(dma_map_single@12#0+0)@40#0`. */
const CALL_RESULT = /(?:param:)?[A-Za-z_]\w*\([^()]*\)@\d+#\d+/g;

/** Calls that read a size or a count off their arguments, without side effects. */
const SIZE_ACCESSOR = /^(skb_headlen|skb_frag_size|skb_headroom|skb_tailroom|resource_size|pci_resource_len|array_size|array3_size|struct_size|page_size|sg_nents|sg_nents_for_len|sg_dma_len|netdev_mc_count|[a-z0-9_]+_(len|length|size|bytes|sz)|crypto_\w+_(ivsize|blocksize|digestsize|authsize|reqsize|statesize|alignmask))$/;

/** A type name in a cast tree-sitter took for an operand: `(dma_addr_t)`, `(u64)`, `(uintptr_t)`. */
const TYPE_NAME = /^([us](8|16|32|64)|__[lb]e(16|32|64)|__u(8|16|32|64)|[a-z_][a-z0-9_]*_t|uintptr_t|ulong|uint)$/;

/** A value computed from the caller's objects: a parameter or a global. */
const CALLER_ROOTED = /(^|[^a-z])(param:|g:)/;
/** Upper-case names (GFP_KERNEL, an enumerator) are constants, not the caller's objects. */
const UPPER_NAMES = /g:[A-Z][A-Z0-9_]*(?![A-Za-z0-9_])/g;

type CheckKind = 'test' | 'return' | 'out-param' | 'mapping-error' | 'is-err' | 'is-err-or-null';

/** Whether a kind of test handles a kind of failure. */
function counts(how: CheckKind, failure: import('../model/api').Failure): boolean {
  switch (how) {
    case 'return': return true;
    case 'out-param': return failure !== 'dma-mapping-error';
    case 'mapping-error': return failure === 'dma-mapping-error';
    case 'is-err': return failure === 'err-ptr';
    case 'is-err-or-null': return failure === 'err-ptr' || failure === 'null' || failure === 'zero';
    case 'test': return failure !== 'err-ptr' && failure !== 'dma-mapping-error';
  }
}

/**
 * A fresh emulator per configuration, forked (copy-on-write) for each exploration: building the
 * system costs more than most functions' analysis.
 */
const pristine = new Map<string, EmuBridge>();
function pristineEmulator(config: Config): EmuBridge {
  const s = config.smmu;
  const k = JSON.stringify([s.granule, s.ias, s.oas, s.stage, s.strict, s.mode, s.reservedRegions]);
  let e = pristine.get(k);
  if (!e) {
    e = EmuBridge.create({ granule: s.granule, ias: s.ias, oas: s.oas, stage: s.stage, strict: s.strict, mode: s.mode, reservedRegions: s.reservedRegions });
    if (pristine.size > 16) pristine.clear();
    pristine.set(k, e);
  }
  return e;
}

export function explore(opts: ExecOptions): Exploration {
  const ex = new Executor(opts);
  return ex.run();
}

class Executor {
  private paths: PathRecord[] = [];
  private overBudget?: string;
  private fallibleSites = new Map<number, { site: SiteRef; checked: boolean }>();
  /** Unions on the stack (their members alias). */
  private unions = new Set<string>();
  private lines: string[];

  constructor(private o: ExecOptions) {
    this.lines = [];
  }

  run(): Exploration {
    const init = new State();
    init.emu = pristineEmulator(this.o.config).fork();
    for (const p of this.o.params) init.env.set(p, sym('param:' + p));
    init.block = this.o.cfg.entry;
    init.failAt = this.o.onlyFailAt ?? null;
    this.sweep = this.o.onlyFailAt === undefined;
    // Failure forks first: each fallible call gets its failing path before the budget goes to
    // more branches of the all-succeed side.
    const failing: State[] = [];
    const stack: State[] = [init];
    for (const [p, vs] of this.o.paramValues ?? []) {
      stack.pop();
      for (const v of [...vs].reverse()) { const s = init.fork(); s.env.set(p, konst(v)); stack.push(s); }
    }
    this.pushFail = (s) => failing.push(s);
    const seen = new Set<string>();
    let turns = 0;
    const total = this.o.maxPaths;
    while (stack.length || failing.length) {
      if (this.paths.length >= total) {
        this.overBudget = `explored ${this.paths.length} paths (budget.maxPaths ${total}); some paths were not followed`;
        break;
      }
      if (this.work >= this.o.maxSteps) {
        this.overBudget = `stopped after ${this.work} steps on ${this.paths.length} paths (budget.maxSteps ${this.o.maxSteps}); some paths were not followed`;
        break;
      }
      if ((++turns & 15) === 0 && Date.now() > this.o.deadline) {
        this.overBudget = `stopped by the wall-clock guard after ${this.paths.length} paths (budget.timeMsPerFunction ${this.o.config.budget.timeMsPerFunction} ms, a last resort: results may differ between runs); some paths were not followed`;
        break;
      }
      const st = failing.length ? failing.shift()! : stack.pop()!;
      const out = this.advance(st, seen);
      if (out.kind === 'fork') stack.push(...out.states.reverse());
      else {
        if (st.failAt !== null && !st.failed && this.sweep) continue; // its failure was never reached
        this.finishPath(st, out.exit, st.failAt);
      }
    }
    const labels = new Map([...this.o.cfg.labels].map(([n, l]) => [n, l.block]));
    const releasingLabels = new Set<number>();
    for (const [, l] of this.o.cfg.labels) {
      const first = l.node.namedChildren.find((c) => c.type !== 'statement_identifier');
      if (first && RELEASING_CALL.test(first.text)) releasingLabels.add(l.block);
    }
    return { paths: this.paths, overBudget: this.overBudget, fallibleSites: this.fallibleSites, labels, releasingLabels };
  }

  private sweep = true;
  private inlineDepth?: number;
  /** Per join block, the names still mentioned after it (the merge key leaves out the others). */
  private live?: Map<number, Set<string>>;

  /** The driver prefix of the function analysed (`irdma` of `irdma_create_qp`). */
  private prefix?: string | null;
  private ownPrefix(): string | undefined {
    if (this.prefix !== undefined) return this.prefix ?? undefined;
    const n = this.o.fn.childForFieldName('declarator')?.text.match(/[A-Za-z_]\w*(?=\s*\()/)?.[0] ?? '';
    this.prefix = /^_*([a-z0-9]+)_/.exec(n)?.[1] ?? null;
    return this.prefix ?? undefined;
  }


  private liveSets?: Map<number, Set<string> | undefined>;
  /**
   * The names whose values the merge key at join `id` keeps (ir/cfg.ts liveAtJoins), less the ring
   * indices of wrap idioms (`if (i == ring->count) i = 0;`, `if (++i >= count) i = 0`): the 0
   * would keep a wrapped path apart from every other at each join, and a ring index never decides
   * what the function holds (the slots it names are symbolic either way).
   */
  private liveAt(id: number): Set<string> | undefined {
    this.liveSets ??= new Map();
    if (this.liveSets.has(id)) return this.liveSets.get(id);
    this.live ??= liveAtJoins(this.o.cfg);
    let l = this.live.get(id);
    const wraps = (this.wraps ??= this.wrapVars());
    if (l && wraps.size && [...wraps].some((w) => l!.has(w))) l = new Set([...l].filter((n) => !wraps.has(n)));
    this.liveSets.set(id, l);
    return l;
  }

  private wraps?: Set<string>;
  private wrapVars(): Set<string> {
    const out = new Set<string>();
    for (const b of this.o.cfg.blocks) {
      const t = b.term;
      if (t.k !== 'branch') continue;
      // `i == ring->count`, `++i >= count`: an index against a bound that is not a constant
      // (`if (tmp == 1) tmp = 0;` is a value the function computes with, not a ring index).
      const c = stripParens(t.cond);
      if (c.type !== 'binary_expression' || !/^(==|>=|>)$/.test(c.child(1)?.type ?? '')) continue;
      let v = c.childForFieldName('left');
      if (v?.type === 'update_expression') v = v.namedChildren[0] ?? null;
      const bound = c.childForFieldName('right');
      if (v?.type !== 'identifier' || !bound || /^(number_literal|char_literal)$/.test(bound.type)) continue;
      const m = [c.text, v.text];
      for (const ins of this.o.cfg.blocks[t.t].instrs) {
        if (ins.k !== 'eval') continue;
        const n = stripParens(ins.node);
        if (n.type !== 'assignment_expression' || n.child(1)?.type !== '=') continue;
        const l = n.childForFieldName('left');
        const r = n.childForFieldName('right');
        if (l?.type === 'identifier' && l.text === m[1] && r?.type === 'number_literal') out.add(m[1]);
      }
    }
    return out;
  }

  private guarded = new Map<number, boolean>();
  /**
   * A branch that only guards releases of what its condition tests: `if (x->dma) dma_unmap_single(
   * dev, x->dma, ...)`, `if (dma_unmap_len(buf, len)) dma_unmap_page(dev, dma_unmap_addr(buf, dma),
   * ...)`, no else. When the path cannot decide the condition, it does not know what the slot holds
   * (a ring entry at a computed index in an unwind loop): the side that skips the release says
   * nothing more about the resources the function holds than the side that takes it, and forking
   * on it at every iteration multiplied the paths of every tx-map unwind loop past the budget. So
   * the release is taken. The condition must name an object the release's handle names (not only
   * its device): `if (flags & F) dma_unmap_single(dev, h, ...)` still forks.
   */
  private guardedRelease(id: number): boolean {
    const hit = this.guarded.get(id);
    if (hit !== undefined) return hit;
    let out = false;
    const blk = this.o.cfg.blocks[id];
    const t = blk.term;
    // Not in a helper's summary: there the condition tests what the caller passes (`if (iv_dma)
    // dma_unmap_single(dev, iv_dma, ...)` given 0), and each call site decides it.
    if (t.k === 'branch' && !this.o.asHelper) {
      const arm = this.o.cfg.blocks[t.t];
      const calls = arm.instrs.map((i) => (i.k === 'eval' ? stripParens(i.node) : null));
      // Both sides meet again with nothing else done (the lowering puts an empty block on the else).
      const next = (b: number): number => {
        for (let n = 0; n < 8; n++) {
          const x = this.o.cfg.blocks[b];
          if (x.instrs.length || x.term.k !== 'jump' || x.loop) break;
          b = x.term.to;
        }
        return b;
      };
      if (arm.term.k === 'jump' && next(arm.term.to) === next(t.f) && arm.instrs.length > 0 && arm.instrs.length <= 3
        && calls.every((c) => c && (c.type === 'call_expression' || c.type === 'assignment_expression'))) {
        const condIds = new Set(t.cond.text.match(/[A-Za-z_]\w*/g) ?? []);
        out = calls.some((c) => {
          if (c!.type !== 'call_expression') return false;
          const name = c!.childForFieldName('function')?.text ?? '';
          if (!lookupApi(name, this.o.config.wrappers)?.spec.releases) return false;
          const args = c!.childForFieldName('arguments')?.namedChildren ?? [];
          return args.slice(1).some((a) => (a.text.match(/[A-Za-z_]\w*/g) ?? []).some((n) => condIds.has(n) && !/^[A-Z_0-9]+$/.test(n)));
        });
      }
    }
    this.guarded.set(id, out);
    return out;
  }

  /** The path went through an unwind label (one only its gotos reach). */
  private unwound(st: State): boolean {
    for (const b of this.o.cfg.jumpedOnly ?? []) if (st.visits.has(b)) return true;
    return false;
  }

  /**
   * container_of(p, T, member): the object `&obj->member` was taken from is `obj`; of a pointer
   * we cannot trace (a helper's parameter), a name the caller's `&obj->member` reads back
   * (`cof(param:vdesc+0).vdesc`, translated at the call).
   */
  private containerOf(p: Val, member: string): Val {
    const s = asSym(p);
    const m = s ? /^&(.+)(->|\.)([A-Za-z_]\w*)$/.exec(s) : null;
    if (m && m[3] === member && m[1].endsWith('+0') && !/[+*]/.test(m[1].slice(0, -2).replace(/\(.*\)/g, ''))) return sym(m[1].slice(0, -2));
    return sym(`cof(${key(p)}).${member}`);
  }
  /** The function tests CRYPTO_TFM_REQ_MAY_BACKLOG (its -EBUSY means queued). */
  private backlogs?: boolean;
  /** Steps executed so far over all paths. */
  private work = 0;
  /** The API call being emulated (for events the emulator's answer raises). */
  private lastSite?: SiteRef;
  private pushFail: (s: State) => void = () => undefined;
  private fallibleIn = new WeakMap<object, number>();

  /** How many fallible calls (API or failing helper) a statement or condition contains. */
  private countFallible(node: SyntaxNode): number {
    let n = this.fallibleIn.get(node);
    if (n !== undefined) return n;
    n = 0;
    const walk = (x: SyntaxNode) => {
      if (x.type === 'call_expression') {
        const f = x.childForFieldName('function');
        if (f?.type === 'identifier') {
          const api = lookupApi(f.text, this.o.config.wrappers);
          if ((api?.spec.failure && !neverFails(api.spec, x)) || (this.o.summaries.get(f.text)?.fails && !discardedResult(x))) n!++;
        }
      }
      for (const c of x.namedChildren) walk(c);
    };
    walk(node);
    this.fallibleIn.set(node, n);
    return n;
  }

  /** Before running a statement with fallible calls on a path that has not failed: fork one path per call that fails. */
  private forkFailures(st: State, node: SyntaxNode | null): void {
    if (!this.sweep || st.failAt !== null || !node) return;
    const n = this.countFallible(node);
    for (let j = 0; j < n; j++) {
      const f = st.fork();
      f.failAt = st.fallibleCount + j;
      f.resume = true;
      this.pushFail(f);
    }
  }

  private finishPath(st: State, exit: Exit, failAt: number | null): void {
    // A branch on the failure of a helper that fails only under a WARN took the asserted side.
    if (!st.warned) {
      for (const [k, f] of st.facts) {
        if (!(f.neg || f.zero || f.err)) continue;
        const m = /^(?:param:)?(\w+)\(.*\)@\d+#\d+\+0$/.exec(k);
        const s = m && this.o.summaries.get(m[1]);
        if (s?.asserted && (s.asserted === 'neg-errno' ? f.neg : f.zero || f.err)) { st.warned = true; break; }
      }
    }
    for (const [at, p] of st.fallible) {
      const e = this.fallibleSites.get(at);
      const checked = st.checked.has(at);
      if (!e) this.fallibleSites.set(at, { site: p.site, checked });
      else if (checked) e.checked = true;
    }
    const label = st.failed ? `${st.failed.api}() at line ${st.failed.line + 1} fails` : 'all calls succeed';
    // What the caller can reach at this exit (exec/ownership.ts): the rest is still the function's.
    const kind: ExitKind = exit.failure === true ? 'failure' : exit.failure === false ? 'success' : 'unknown';
    const lost = new Map<string, string>();
    // An int function returning a call's result that it tested (`err = regmap_write(m, REG, dma);
    // if (err) goto out; ... out: return err;`) returns a status, not the handle the call was given.
    const rs = exit.value ? asSym(exit.value) : undefined;
    // A call that may keep what it was given returns what the caller needs to find it again (an
    // async cookie): only a call that keeps nothing returns a bare status.
    const callee = rs ? /^(?:param:)?(\w+)\((.*)\)@\d+#\d+$/.exec(rs) : null;
    const keepsNothing = !!callee && (callee[2] === '' || NOT_KEEPING.test(callee[1])
      || (this.o.summaries.get(callee[1])?.keeps === false));
    const status = !this.o.returnsPointer && keepsNothing && rs !== undefined && st.facts.has(rs + '+0')
      && !st.resources.some((r) => r.handles.includes(rs + '+0') || r.handles.includes(rs));
    const hs = holders(st, kind, status ? null : exit.value, lost);
    for (const r of st.resources) {
      if (r.state !== 'live') continue;
      const h = handOffOf(st, r, hs, kind);
      // The message is made only when shown (ownership.ts describe): exits are many, findings few.
      r.escaped = h && (h.path !== undefined ? 'stored in ' + h.path : h.how);
      r.via = h?.via;
      r.keptBy = h?.by;
      r.alsoKeptBy = h && h.via !== 'callee' ? handOffOf(st, r, hs.filter((x) => x.off.via === 'callee'), kind)?.by : undefined;
      if (!r.copied) for (const [p, v] of st.mem) { if (p.startsWith('local:')) continue; const k = key(v); if (r.handles.some((x) => holds(k, x))) { r.copied = true; break; } }
      if (!h) for (const [k, by] of lost) if (r.handles.some((x) => holds(k, x))) { r.lostTo = by; break; }
    }
    this.paths.push({ state: st, exit, failAt, label, snapshots: [] });
  }

  /** Run one state until it forks or exits. */
  private advance(st: State, seen: Set<string>):
    { kind: 'fork'; states: State[] } | { kind: 'exit'; exit: Exit } {
    let budget = MAX_STEPS_PER_PATH;
    const failAt = st.failAt;
    for (;;) {
      this.work++;
      if (--budget < 0) return { kind: 'exit', exit: { line: 0, col: 0, text: 'path cut (step budget)', failure: undefined, value: null } };
      if (st.oops) return { kind: 'exit', exit: { line: st.oops.site.line, col: st.oops.site.col, text: `path cut (kernel oops: ${st.oops.why})`, failure: undefined, value: null } };
      const blk = this.o.cfg.blocks[st.block];
      if (st.resume) st.resume = false;
      else if (st.idx === 0) {
        // Loop heads: unroll a few times, then widen and leave.
        const v = (st.visits.get(blk.id) ?? 0) + 1;
        st.visits.set(blk.id, v);
        if (blk.loop && v > this.o.config.budget.loopUnroll + 1) {
          // An endless loop (`do { ... } while (1)`, `for (;;)`) is left only by its returns and
          // breaks: the widened exit is a path that does not exist.
          if (endless(blk.loop.node)) return { kind: 'exit', exit: { line: 0, col: 0, text: 'path cut (endless loop widened)', failure: undefined, value: null } };
          for (const name of blk.loop.assigned) {
            const old = st.env.get(name);
            if (!old) continue;
            const w = sym(`widened:${name}@${blk.id}`);
            // The widened variable may still hold what the last iteration followed acquired
            // (`dma` after a frag loop, written to the last descriptor): it names it too.
            const ok = key(old);
            for (const r of st.resources) if (r.state === 'live' && r.handles.some((h) => ok.includes(h))) r.handles.push(hkey(w));
            st.env.set(name, w);
          }
          // The iterations followed keep what they acquired: stored in a slot (handed off at the exit
          // like any copy) or still the function's own (its unwind loop releases it, or it leaks).
          st.block = blk.loop.exit;
          continue;
        }
        if (v > (this.o.config.budget.loopUnroll + 2) * 3) {
          return { kind: 'exit', exit: { line: 0, col: 0, text: 'path cut (backward goto)', failure: undefined, value: null } };
        }
        if (this.o.cfg.joins.has(blk.id)) {
          const d = st.digest(this.o.asHelper, this.liveAt(blk.id));
          if (seen.has(d)) return { kind: 'fork', states: [] };
          seen.add(d);
        }
      }
      if (st.idx < blk.instrs.length) {
        const ins = blk.instrs[st.idx];
        this.forkFailures(st, ins.k === 'eval' ? ins.node : ins.k === 'assign' ? ins.right : ins.k === 'havoc' || ins.k === 'warned' ? null : ins.init);
        st.idx++;
        this.exec(ins, st, st.failAt);
        continue;
      }
      const t = blk.term;
      this.forkFailures(st, t.k === 'branch' ? t.cond : t.k === 'return' ? t.node : t.k === 'switch' ? t.value : null);
      this.cur = t.k === 'branch' ? t.cond : t.k === 'return' ? t.node ?? undefined : t.k === 'switch' ? t.value : undefined;
      st.idx = 0;
      switch (t.k) {
        case 'jump':
          st.block = t.to;
          continue;
        case 'unreachable':
          return { kind: 'fork', states: [] };
        case 'return': {
          const value = t.node ? this.ev(t.node, st, failAt) : null;
          if (value) this.markChecked(value, st, 'return');
          const pos = t.stmt ? t.stmt.startPosition : { row: this.o.fn.endPosition.row, column: Math.max(0, this.o.fn.endPosition.column - 1) };
          return {
            kind: 'exit',
            exit: {
              line: pos.row, col: pos.column,
              text: t.stmt ? t.stmt.text.replace(/\s+/g, ' ').slice(0, 60) : 'end of function',
              // A void function cannot tell its caller it failed: leaving after a failure of its
              // own (an injected one) is a failing exit, what it abandons there is its to undo
              // (uniphier_sd_external_dma_start falling back to PIO with the list still mapped).
              failure: value ? this.isFailure(value, st) : this.o.returnsVoid && (st.failed || this.unwound(st)) ? true : undefined, value,
            },
          };
        }
        case 'branch': {
          const r = this.decide(t.cond, st, failAt);
          if (r === true) { st.block = t.t; continue; }
          if (r === false) { st.block = t.f; continue; }
          // `if (dma_unmap_len(tx_buffer, len)) dma_unmap_page(..., dma_unmap_addr(tx_buffer, dma), ...)`
          // on a slot this path knows nothing of: the release is taken, not forked (guardedRelease).
          if (this.guardedRelease(blk.id)) { r[0].block = t.t; return { kind: 'fork', states: [r[0]] }; }
          r[0].block = t.t;
          r[1].block = t.f;
          return { kind: 'fork', states: [r[0], r[1]] };
        }
        case 'switch': {
          const v = this.ev(t.value, st, failAt);
          const out: State[] = [];
          let rest: State | null = st;
          for (const c of t.cases) {
            if (!rest) break;
            const cv = c.value ? this.ev(c.value, rest, failAt) : konst(0);
            const d = sub(v, cv);
            if (isConst(d)) {
              if (d.c === 0) { rest.block = c.to; out.push(rest); rest = null; }
              continue;
            }
            const f = rest.fact(d);
            if (f?.zero === true) { rest.block = c.to; out.push(rest); rest = null; continue; }
            if (f?.zero === false) continue;
            const hit = rest.fork();
            hit.addFact(d, { zero: true });
            hit.block = c.to;
            out.push(hit);
            rest.addFact(d, { zero: false });
          }
          if (rest) { rest.block = t.otherwise; out.push(rest); }
          return { kind: 'fork', states: out };
        }
      }
    }
  }

  private exec(ins: Instr, st: State, failAt: number | null): void {
    if (ins.k === 'warned') { st.warned = true; return; }
    if (ins.k === 'havoc') {
      const occ = this.occurrence(ins.target, st);
      this.store(this.lpath(ins.target, st, failAt), sym(`iter:${ins.target.text}@${ins.target.startIndex}#${occ}`), st);
      return;
    }
    if (ins.k === 'assign') {
      this.cur = ins.left.parent ?? ins.left;
      const v = this.ev(ins.right, st, failAt);
      const p = this.lpath(ins.left, st, failAt);
      this.storeUseAfterRelease(ins.left, ins.right, p, v, st);
      this.store(p, v, st);
      return;
    }
    if (ins.k === 'eval') {
      this.cur = ins.node;
      const v = this.ev(ins.node, st, failAt);
      void v;
      return;
    }
    if (ins.aggregate) {
      // Declared again (a loop body's `dma_addr_t dma_arr[MAX_SKB_FRAGS];`): a fresh array, not
      // the last iteration's slots (mlx5e_xdp_xmit's unwind reads only this frame's).
      const own = `local:${ins.name}`;
      if (st.env.has(ins.name)) for (const k of [...st.mem.keys()]) if (k.startsWith(own + '[') || k.startsWith(own + '.')) st.mem.delete(k);
      st.env.set(ins.name, sym('local:' + ins.name));
      if (ins.union) this.unions.add('local:' + ins.name);
      // `struct desc d = { .addr = dma };`: keep what the initialiser holds, so handing `&d` on hands it on.
      if (ins.init) st.mem.set(`local:${ins.name}.{}`, this.ev(ins.init, st, failAt));
      return;
    }
    this.cur = ins.node;
    const v = ins.init ? this.ev(ins.init, st, failAt) : sym(`uninit:${ins.name}@${ins.node.startIndex}`);
    st.env.set(ins.name, v);
  }

  // ---------------------------------------------------------------- conditions

  /** Decide a branch: true, false, or two forked states [taken, not taken]. */
  private decide(node: SyntaxNode, st: State, failAt: number | null): boolean | [State, State] {
    node = stripParens(node);
    // IS_ERR(x) / IS_ERR_OR_NULL(x): decided by x's error fact.
    if (node.type === 'call_expression') {
      const fname = node.childForFieldName('function')?.text;
      const args = node.childForFieldName('arguments')?.namedChildren ?? [];
      if ((fname === 'IS_ERR' || fname === 'IS_ERR_OR_NULL') && args.length === 1) {
        const x = this.ev(args[0], st, failAt);
        this.markChecked(x, st, fname === 'IS_ERR' ? 'is-err' : 'is-err-or-null');
        const f = st.fact(x);
        const orNull = fname === 'IS_ERR_OR_NULL';
        if (f?.err === true) return true;
        if (f?.err === false && (!orNull || f.zero === false)) return false;
        if (orNull && (f?.zero === true || (isConst(x) && x.c === 0))) return true;
        if (isConst(x)) return false;
        const a = st.fork();
        const b = st;
        a.addFact(x, { err: true, zero: false });
        b.addFact(x, orNull ? { err: false, zero: false } : { err: false });
        return [a, b];
      }
    }
    if (node.type === 'binary_expression') {
      const op = node.child(1)?.type ?? '';
      if (['==', '!=', '<', '<=', '>', '>='].includes(op)) {
        const l = node.childForFieldName('left');
        const r = node.childForFieldName('right');
        if (l && r) {
          const a = this.ev(l, st, failAt);
          const b = this.ev(r, st, failAt);
          this.markChecked(a, st);
          this.markChecked(b, st);
          return this.compare(op, a, b, st);
        }
      }
    }
    const v = this.ev(node, st, failAt);
    this.markChecked(v, st);
    return this.compare('!=', v, konst(0), st);
  }

  private compare(op: string, a: Val, b: Val, st: State): boolean | [State, State] {
    const d = sub(a, b);
    const known = this.signOf(d, st);
    const evalOp = (s: { zero?: boolean; neg?: boolean }): boolean | undefined => {
      switch (op) {
        case '==': return s.zero;
        case '!=': return s.zero === undefined ? undefined : !s.zero;
        case '<': return s.neg;
        case '>=': return s.neg === undefined ? undefined : !s.neg;
        case '>': return s.neg === undefined || s.zero === undefined ? (s.neg === true || s.zero === true ? false : undefined) : !s.neg && !s.zero;
        case '<=': return s.neg === true || s.zero === true ? true : s.neg === false && s.zero === false ? false : undefined;
      }
      return undefined;
    };
    const r = evalOp(known);
    if (r !== undefined) return r;
    const t = st.fork();
    const f = st;
    const facts: Record<string, [Fact, Fact]> = {
      '==': [{ zero: true }, { zero: false }],
      '!=': [{ zero: false }, { zero: true }],
      '<': [{ neg: true, zero: false }, { neg: false }],
      '>=': [{ neg: false }, { neg: true, zero: false }],
      '>': [{ neg: false, zero: false }, {}],
      '<=': [{}, { neg: false, zero: false }],
    };
    const [ft, ff] = facts[op];
    this.applyFact(t, d, ft);
    this.applyFact(f, d, ff);
    return [t, f];
  }

  private applyFact(st: State, d: Val, f: Fact): void {
    if (Object.keys(f).length === 0) return;
    st.addFact(d, f);
    // Keep a - b and b - a consistent, and remember equalities of symbols.
    if (f.zero !== undefined) st.addFact(mulConst(d, -1), { zero: f.zero });
    if (f.zero === true && d.t.length === 2 && d.c === 0) {
      const [[x, kx], [y, ky]] = d.t;
      if (kx === -ky) { st.alias.set(x, sym(y)); st.alias.set(y, sym(x)); }
    }
    // A value known zero is not an error pointer.
    if (f.zero === true) st.addFact(d, { err: false });
  }

  /** What is known of a value's sign: constants, facts, and the facts of its negation. */
  private signOf(d: Val, st: State): { zero?: boolean; neg?: boolean } {
    if (isConst(d)) return { zero: d.c === 0, neg: d.c < 0 };
    // Two different enumerators or #defines we cannot see (IOAT_OP_XOR vs IOAT_OP_XOR_VAL): in
    // kernel code distinct upper-case constants compared with each other are distinct values.
    if (d.c === 0 && d.t.length === 2 && d.t[0][1] === -d.t[1][1] && UPPER_CONST.test(d.t[0][0]) && UPPER_CONST.test(d.t[1][0])) {
      return { zero: false };
    }
    const f = st.fact(d) ?? {};
    const g = st.fact(mulConst(d, -1)) ?? {};
    let zero = f.zero ?? g.zero;
    let neg = f.neg;
    if (neg === undefined && g.neg !== undefined && (g.zero === false || zero === false)) neg = !g.neg;
    if (neg === undefined && g.neg === true) neg = false;
    if (f.err === true && zero === undefined) zero = false; // an error pointer is not NULL
    if (zero === undefined || neg === undefined) {
      // The bounds of each symbol (exec/bounds.ts): sizes acquired successfully are positive...
      const b = signFromBounds(d, (n) => st.facts.get(n + '+0'));
      if (zero === undefined) zero = b.zero;
      if (neg === undefined) neg = b.neg;
    }
    return { zero, neg };
  }

  /** Sizes provably different: their difference is a non-zero constant, or bounded away from 0. */
  private differ(a: Val, b: Val, st: State): boolean {
    return provablyDifferent(a, b) || this.signOf(sub(a, b), st).zero === false;
  }

  /**
   * Mark the fallible results a tested or propagated value comes from as checked. Only the
   * right test counts: dma_mapping_error() for a DMA address, IS_ERR() for an ERR_PTR, a
   * NULL/zero/sign test for the others; returning the value hands the check to the caller.
   */
  private markChecked(v: Val, st: State, how: CheckKind = 'test'): void {
    for (const [n] of v.t) if (n.startsWith('iommu_unmap')) st.tested.add(n);
    if (st.fallible.size === 0) return;
    const keys = [hkey(v)];
    for (const [s, a] of st.alias) if (keys[0].includes(s)) keys.push(hkey(a));
    // A test of what a call we cannot see returned after being given the result
    // (`ret = fw_load(dev, dma); if (ret)`) tests that call, not the result.
    if (how !== 'return' && how !== 'out-param') {
      for (let i = 0; i < keys.length; i++) {
        let k = keys[i];
        for (let prev = ''; prev !== k;) { prev = k; k = k.replace(CALL_RESULT, ''); }
        keys[i] = k;
      }
    }
    for (const [at, p] of st.fallible) {
      if (st.checked.has(at) || !counts(how, p.failure)) continue;
      if (keys.some((k) => (how === 'return' || how === 'out-param' ? k === p.val || zeroPreserving(v, p.val) : k.includes(p.val)))) st.checked.add(at);
    }
  }

  private isFailure(v: Val, st: State): boolean | undefined {
    // -EINPROGRESS / -EIOCBQUEUED: queued, to complete later (crypto, aio): what was set up is handed on.
    if (isConst(v) && (v.c === -115 || v.c === -529)) return false;
    // -EBUSY from a crypto driver that looked at CRYPTO_TFM_REQ_MAY_BACKLOG: put on the backlog.
    if (isConst(v) && v.c === -16 && (this.backlogs ??= /\bCRYPTO_TFM_REQ_MAY_BACKLOG\b/.test(this.o.fn.text))) return undefined;
    // ... also a result tested equal to it (`if (ret == -EINPROGRESS) return ret;`); -EBUSY beside
    // it is the crypto backlog (queued too, with CRYPTO_TFM_REQ_MAY_BACKLOG): not known to fail.
    if (!isConst(v)) {
      if (this.signOf(add(v, konst(115)), st).zero === true || this.signOf(add(v, konst(529)), st).zero === true) return false;
      if (this.signOf(add(v, konst(16)), st).zero === true) return undefined;
    }
    const s = this.signOf(v, st);
    const f = st.fact(v);
    if (f?.err) return true;
    const name = asSym(v) ?? '';
    if (/^(ERR_PTR|PTR_ERR|ERR_CAST)\(/.test(name)) return true;
    if (s.neg === true) return true;
    if (this.o.returnsPointer) return s.zero === true ? true : s.zero === false ? false : undefined;
    if (s.zero === true) return false;
    if (isConst(v) && v.c > 0) return false;
    if (s.zero === false && this.o.returnsZero && !isConst(v)) {
      // A mapping returned by a function that returns 0 when it fails (ipu6's map_single(): a
      // dma_addr_t) is its result, not an error code.
      const hk = hkey(v);
      if (st.resources.some((r) => r.state === 'live' && r.handles.includes(hk))) return false;
      return true;
    }
    return undefined;
  }

  // ---------------------------------------------------------------- expressions

  private ev(node: SyntaxNode, st: State, failAt: number | null): Val {
    switch (node.type) {
      case 'number_literal': return konst(parseNumber(node.text));
      case 'char_literal': return konst(node.text.length === 3 ? node.text.charCodeAt(1) : 0);
      case 'true': return konst(1);
      case 'false': case 'null': return konst(0);
      case 'string_literal': case 'concatenated_string': return opaque('str', konst(node.startIndex));
      case 'parenthesized_expression': {
        let v = konst(0);
        for (const c of node.namedChildren) v = this.ev(c, st, failAt);
        return v;
      }
      case 'comma_expression': {
        const l = node.childForFieldName('left');
        const r = node.childForFieldName('right');
        if (l) this.ev(l, st, failAt);
        return r ? this.ev(r, st, failAt) : konst(0);
      }
      case 'cast_expression': {
        const v = node.childForFieldName('value');
        return v ? this.ev(v, st, failAt) : konst(0);
      }
      case 'identifier': return this.loadIdent(node.text, st);
      case 'field_expression': case 'subscript_expression': {
        const p = this.lpath(node, st, failAt);
        return this.load(p, st);
      }
      case 'pointer_expression': {
        const op = node.child(0)?.type;
        const arg = node.childForFieldName('argument');
        if (!arg) return konst(0);
        if (op === '&') {
          const p = this.lpath(arg, st, failAt);
          return sym('&' + (p.env ?? p.mem));
        }
        return this.load(this.lpath(node, st, failAt), st);
      }
      case 'assignment_expression': return this.assign(node, st, failAt);
      case 'update_expression': {
        const arg = node.childForFieldName('argument');
        if (!arg) return konst(0);
        const p = this.lpath(arg, st, failAt);
        const old = this.load(p, st);
        const inc = node.text.includes('++') ? 1 : -1;
        const nv = add(old, konst(inc));
        this.store(p, nv, st);
        return node.text.trimStart().startsWith(inc === 1 ? '++' : '--') ? nv : old;
      }
      case 'unary_expression': {
        const op = node.child(0)?.type;
        const arg = node.childForFieldName('argument');
        const v = arg ? this.ev(arg, st, failAt) : konst(0);
        if (op === '-') return mulConst(v, -1);
        if (op === '+') return v;
        if (op === '!') {
          const s = this.signOf(v, st);
          if (s.zero !== undefined) return konst(s.zero ? 1 : 0);
          return opaque('not', v);
        }
        if (op === '~') return isConst(v) ? konst(~v.c >>> 0 === ~v.c ? ~v.c : -v.c - 1) : opaque('bnot', v);
        return opaque(op ?? '?', v);
      }
      case 'binary_expression': return this.binary(node, st, failAt);
      case 'conditional_expression': {
        const c = node.childForFieldName('condition');
        const cons = node.childForFieldName('consequence');
        const alt = node.childForFieldName('alternative');
        if (!c) return konst(0);
        const cv = this.ev(c, st, failAt);
        this.markChecked(cv, st);
        const s = this.signOf(cv, st);
        if (s.zero === false) return cons ? this.ev(cons, st, failAt) : cv;
        if (s.zero === true) return alt ? this.ev(alt, st, failAt) : konst(0);
        return opaque('cond@' + node.startIndex, cv);
      }
      case 'sizeof_expression': case 'alignof_expression': case 'offsetof_expression':
        return this.sizeofVal(node.text);
      case 'call_expression': return this.call(node, st, failAt);
      case 'compound_literal_expression': {
        const v = node.childForFieldName('value');
        return v ? this.ev(v, st, failAt) : opaque('lit@' + node.startIndex);
      }
      case 'initializer_list': {
        // { .frame.dma_addr = dma }: a value that carries the handles it was built from
        const vals = node.namedChildren.map((c) => {
          const x = c.type === 'initializer_pair' ? c.childForFieldName('value') : c;
          return x ? this.ev(x, st, failAt) : konst(0);
        });
        return opaque('lit@' + node.startIndex, ...vals.filter((v) => !isConst(v)));
      }
      default:
        return opaque(node.type + '@' + node.startIndex);
    }
  }

  private sizeofVal(text: string): Val {
    const t = text.replace(/\s+/g, ' ').replace(/^sizeof\s*/, '');
    const m = /^\(?\s*(unsigned\s+)?(char|u8|s8|__u8|short|u16|s16|__le16|int|u32|s32|__le32|__be32|long long|u64|s64|__le64|dma_addr_t|phys_addr_t|long|size_t|void \*)\s*\)?$/.exec(t);
    if (m) {
      const sizes: Record<string, number> = { char: 1, u8: 1, s8: 1, __u8: 1, short: 2, u16: 2, s16: 2, __le16: 2, int: 4, u32: 4, s32: 4, __le32: 4, __be32: 4, 'long long': 8, u64: 8, s64: 8, __le64: 8, dma_addr_t: 8, phys_addr_t: 8, long: 8, size_t: 8, 'void *': 8 };
      return konst(sizes[m[2]]);
    }
    return sym(`sizeof(${t.replace(/^\((.*)\)$/, '$1')})`);
  }

  private binary(node: SyntaxNode, st: State, failAt: number | null): Val {
    const op = node.child(1)?.type ?? '';
    const l = node.childForFieldName('left');
    const r = node.childForFieldName('right');
    if (!l || !r) return konst(0);
    // `(dma_addr_t)*p` and `(u64)&x` read as a product and a bitwise and when the type is a typedef
    // tree-sitter cannot know: a cast of a dereference / an address.
    if ((op === '*' || op === '&') && l.type === 'parenthesized_expression' && l.namedChildren.length === 1
      && l.namedChildren[0].type === 'identifier' && TYPE_NAME.test(l.namedChildren[0].text)) {
      if (op === '*') return this.load({ mem: `*${this.baseKey(this.ev(r, st, failAt), st)}` }, st);
      const p = this.lpath(r, st, failAt);
      return sym('&' + (p.env ?? p.mem));
    }
    if (op === '&&' || op === '||') {
      const a = this.ev(l, st, failAt);
      const sa = this.signOf(a, st);
      if (op === '&&' && sa.zero === true) return konst(0);
      if (op === '||' && sa.zero === false) return konst(1);
      const b = this.ev(r, st, failAt);
      const sb = this.signOf(b, st);
      if (sa.zero !== undefined && sb.zero !== undefined) return konst(op === '&&' ? (!sa.zero && !sb.zero ? 1 : 0) : (!sa.zero || !sb.zero ? 1 : 0));
      return opaque(op, a, b);
    }
    const a = this.ev(l, st, failAt);
    const b = this.ev(r, st, failAt);
    if (['==', '!=', '<', '<=', '>', '>='].includes(op)) {
      const d = sub(a, b);
      const s = this.signOf(d, st);
      const res = op === '==' ? s.zero : op === '!=' ? (s.zero === undefined ? undefined : !s.zero)
        : op === '<' ? s.neg : op === '>=' ? (s.neg === undefined ? undefined : !s.neg) : undefined;
      if (res !== undefined) return konst(res ? 1 : 0);
      return opaque(op, a, b);
    }
    switch (op) {
      case '+': return add(a, b);
      case '-': return sub(a, b);
      case '*':
        if (isConst(b)) return mulConst(a, b.c);
        if (isConst(a)) return mulConst(b, a.c);
        return opaque('*', a, b);
      case '<<':
        if (isConst(b) && b.c >= 0 && b.c < 53) return isConst(a) ? konst(a.c * 2 ** b.c) : mulConst(a, 2 ** b.c);
        return opaque('<<', a, b);
    }
    if (isConst(a) && isConst(b)) {
      const x = BigInt(Math.trunc(a.c)), y = BigInt(Math.trunc(b.c));
      try {
        switch (op) {
          case '/': return konst(b.c === 0 ? 0 : Math.trunc(a.c / b.c));
          case '%': return konst(b.c === 0 ? 0 : a.c % b.c);
          case '>>': return konst(Number(x >> y));
          case '&': return konst(Number(BigInt.asUintN(64, x & y)));
          case '|': return konst(Number(BigInt.asUintN(64, x | y)));
          case '^': return konst(Number(BigInt.asUintN(64, x ^ y)));
        }
      } catch { /* fall through to opaque */ }
    }
    // An address known aligned to A (a coherent buffer's) has no bits below A: `dma & (SZ_4K - 1)`.
    if ((op === '&' || op === '%') && isConst(b) && b.c > 0 && a.t.length === 1 && a.t[0][1] === 1) {
      const al = st.facts.get(a.t[0][0] + '+0')?.align;
      if (al && (op === '&' ? b.c < al : al % b.c === 0 && (b.c & (b.c - 1)) === 0)) {
        return konst(op === '&' ? Number(BigInt(Math.trunc(a.c)) & BigInt(b.c)) : ((a.c % b.c) + b.c) % b.c);
      }
    }
    // ... and no bits below its own size: aligned to PAGE_SIZE << get_order(size), which is at
    // least `size`, so `dma & (size - 1)` is 0 for any size (qla3xxx's request queue check).
    if (op === '&' && !isConst(b) && a.t.length === 1 && a.t[0][1] === 1 && a.c === 0 && st.facts.get(a.t[0][0] + '+0')?.align) {
      const h = a.t[0][0];
      const r = st.resources.find((x) => x.kind === 'coherent' && x.size && (x.handles.includes(h) || x.handles.includes(h + '+0') || key(x.handleVal) === h + '+0' || (x.ret && (h === x.ret.replace(/\+0$/, '') || h === x.ret.replace(/\+0$/, '') + ':handle'))));
      if (r?.size) { const d = sub(b, r.size); if (isConst(d) && d.c === -1) return konst(0); }
    }
    // A flag set and then tested: (mode | K) & K is K (`new_mode |= RXM_MCAST; ... if (!(new_mode & RXM_MCAST))`).
    if (op === '&' && !isConst(b)) {
      const sa = asSym(a);
      const kb = key(b);
      if (sa?.startsWith('|(') && (sa.endsWith(`,${kb})`) || sa.startsWith(`|(${kb},`))) {
        if (b.t.length === 1 && UPPER_CONST.test(b.t[0][0])) st.addFact(b, { zero: false }); // a flag is a set bit
        return b;
      }
    }
    if (op === '|' && isConst(b) && b.c === 0) return a;
    if (op === '|' && isConst(a) && a.c === 0) return b;
    return opaque(op, a, b);
  }

  // ---------------------------------------------------------------- memory

  /** An lvalue: a local by name, or a memory path named by its base value and the access. */
  private lpath(node: SyntaxNode, st: State, failAt: number | null): { env?: string; mem?: string } {
    node = stripParens(node);
    switch (node.type) {
      case 'identifier':
        if (st.env.has(node.text)) {
          if (st.aggregates.has(node.text) || asSym(st.env.get(node.text)!) === 'local:' + node.text) return { mem: 'local:' + node.text };
          return { env: node.text };
        }
        return { mem: 'g:' + node.text };
      case 'field_expression': {
        const arg = node.childForFieldName('argument');
        const field = node.childForFieldName('field')?.text ?? '?';
        if (!arg) return { mem: '?' };
        const arrow = node.text.slice(arg.endIndex - node.startIndex).trimStart().startsWith('->');
        if (arrow) {
          // (&qp->kern_qp)->sq_buf is qp->kern_qp.sq_buf: one name for one place (`kqp = &qp->kern_qp;`).
          const base = this.ev(arg, st, failAt);
          const s = addressOf(base);
          return { mem: s ? `${s.slice(1)}.${field}` : `${this.baseKey(base, st)}->${field}` };
        }
        const p = this.lpath(arg, st, failAt);
        return { mem: `${p.mem ?? key(st.env.get(p.env!) ?? konst(0))}.${field}` };
      }
      case 'subscript_expression': {
        const arg = node.childForFieldName('argument');
        const idx = node.childForFieldName('index');
        if (!arg) return { mem: '?' };
        const i = idx ? this.ev(idx, st, failAt) : konst(0);
        const base = stripParens(arg);
        const bk = base.type === 'identifier' && st.env.has(base.text) && asSym(st.env.get(base.text)!) === 'local:' + base.text
          ? 'local:' + base.text : this.baseKey(this.ev(arg, st, failAt), st);
        return { mem: `${bk}[${key(i)}]` };
      }
      case 'pointer_expression': {
        const arg = node.childForFieldName('argument');
        if (node.child(0)?.type === '*' && arg) {
          // `*p` with `p = &priv->buf` is priv->buf itself (`u32 **p_comp = &info->word; *p_comp = ...`).
          const v = this.ev(arg, st, failAt);
          const a = addressOf(v)?.slice(1);
          if (a && /[:.\]>]/.test(a)) return { mem: a };
          if (a && /^[A-Za-z_]\w*$/.test(a) && st.env.has(a)) return { env: a };
          return { mem: `*${this.baseKey(v, st)}` };
        }
        return { mem: '?' + node.startIndex };
      }
      case 'call_expression': {
        // sg_dma_address(sg) = dma_map_single(...): the scatterlist's field, as the macro expands.
        const fname = node.childForFieldName('function')?.text;
        const a0 = node.childForFieldName('arguments')?.namedChildren[0];
        if ((fname === 'sg_dma_address' || fname === 'sg_dma_len') && a0) {
          return { mem: `${this.baseKey(this.ev(a0, st, failAt), st)}->${fname === 'sg_dma_address' ? 'dma_address' : 'dma_length'}` };
        }
        return { mem: '?' + node.text.slice(0, 40) };
      }
      default:
        return { mem: '?' + node.text.slice(0, 40) };
    }
  }

  /** `&x->f` used as a base is the path itself; other bases are their value's key. */
  private baseKey(v: Val, _st: State): string {
    const s = addressOf(v);
    return s ? s.slice(1) : key(v);
  }

  private loadIdent(name: string, st: State): Val {
    const v = st.env.get(name);
    if (v) return v;
    const m = st.mem.get('g:' + name);
    if (m) return m;
    const c = this.constant(name);
    if (c) return c;
    return sym('g:' + name);
  }

  private constant(name: string): Val | undefined {
    if (name in BUILTIN_CONSTANTS) return konst(BUILTIN_CONSTANTS[name]);
    const d = this.o.defines.get(name);
    if (d === undefined) return undefined;
    if (typeof d !== 'string') return d;
    // Evaluate a #define once, guarding against self-reference.
    this.o.defines.set(name, sym('g:' + name));
    const node = this.o.evalDefine(d);
    let v: Val = sym('g:' + name);
    if (node) {
      const scratch = new State();
      scratch.emu = undefined as unknown as EmuBridge;
      try { v = this.ev(node, scratch, null); } catch { v = sym('g:' + name); }
      if (!isConst(v) && /@\d+/.test(key(v))) v = sym('g:' + name); // position-dependent: keep it named
    }
    this.o.defines.set(name, v);
    return v;
  }

  /** A read through a live resource's CPU pointer (a load, a memcpy source): note when. */
  private noteRead(path: string, st: State): void {
    if (!st.kept.length) return;
    for (const r of st.resources) {
      if (r.state !== 'live') continue;
      if (r.handles.some((h) => path.startsWith(h) && LOAD_THROUGH.test(path.slice(h.length)))) r.readAt = this.work;
    }
  }

  private load(p: { env?: string; mem?: string }, st: State): Val {
    if (p.env !== undefined) return st.env.get(p.env) ?? sym('g:' + p.env);
    this.noteRead(p.mem!, st);
    this.derefAfterRelease(p.mem!, st);
    this.cpuAccess(p.mem!, 'read', st);
    const m = st.mem.get(p.mem!);
    if (m) return m;
    // A member of a union on the stack not written as such: whatever its other members hold.
    if (this.unions.size) {
      const u = /^(local:\w+)\./.exec(p.mem!);
      if (u && this.unions.has(u[1])) {
        const held = [...st.mem].filter(([k, v]) => k.startsWith(u[1] + '.') && !isConst(v)).map(([, v]) => v);
        if (held.length) return opaque('union', ...held.slice(0, 8));
      }
    }
    return sym(p.mem!);
  }

  private store(p: { env?: string; mem?: string }, v: Val, st: State): void {
    if (p.env !== undefined) { st.env.set(p.env, v); return; }
    this.derefAfterRelease(p.mem!, st);
    this.cpuAccess(p.mem!, 'write', st, undefined, undefined, v);
    if (this.unions.size) {
      // Writing one member of a union overwrites the others (`re.d64 = 0; re.s.addr = dma;`).
      const u = /^(local:\w+)\.(\w+)/.exec(p.mem!);
      if (u && this.unions.has(u[1])) {
        for (const k of [...st.mem.keys()]) {
          const o = /^(local:\w+)\.(\w+)/.exec(k);
          if (o && o[1] === u[1] && o[2] !== u[2]) st.mem.delete(k);
        }
      }
    }
    const old = st.mem.get(p.mem!);
    if (old && !isConst(old) && key(old) !== key(v)) this.keepOverwritten(p.mem!, old, v, st);
    st.mem.set(p.mem!, v);
    // `*out = call()`: the caller gets the result to check (vfio_iommu_domain_alloc).
    if (p.mem!.startsWith('*param:')) this.markChecked(v, st, 'out-param');
  }

  /**
   * A live handle overwritten in memory: more often two slots the analysis cannot tell apart
   * (`unmap_q->unmap[prod]` with `prod` advanced by a macro) than a lost handle, so its copy stays
   * where it was, beside the new value (`path[~n]`: same root, same reach; exec/ownership.ts).
   */
  private keepOverwritten(path: string, old: Val, v: Val, st: State): void {
    // A fixed field cleared (`priv->irq_db_indices = NULL;`): the same place, not another slot.
    if (isConst(v) && !path.includes('[')) return;
    const ok = key(old);
    const nk = key(v);
    if (!st.resources.some((r) => r.state === 'live' && r.handles.some((h) => ok.includes(h) && !nk.includes(h)))) return;
    let n = 1;
    while (st.mem.has(`${path}[~${n}]`)) n++;
    if (n <= 8) st.mem.set(`${path}[~${n}]`, old);
  }

  private assign(node: SyntaxNode, st: State, failAt: number | null): Val {
    const l = node.childForFieldName('left');
    const r = node.childForFieldName('right');
    const op = node.child(1)?.type ?? '=';
    if (!l || !r) return konst(0);
    const rv = this.ev(r, st, failAt);
    const p = this.lpath(l, st, failAt);
    if (op === '=') this.storeUseAfterRelease(l, r, p, rv, st);
    let v = rv;
    if (op !== '=') {
      const old = this.load(p, st);
      const bop = op.slice(0, -1);
      if (bop === '+') v = add(old, rv);
      else if (bop === '-') v = sub(old, rv);
      else if (bop === '|' && isConst(old) && old.c === 0) v = rv;
      else if (isConst(old) && isConst(rv)) {
        const x = BigInt(Math.trunc(old.c)), y = BigInt(Math.trunc(rv.c));
        v = konst(Number(bop === '|' ? x | y : bop === '&' ? x & y : bop === '<<' ? x << y : bop === '>>' ? x >> y : bop === '*' ? x * y : x));
      } else v = opaque(bop, old, rv);
    }
    this.store(p, v, st);
    return v;
  }

  // ---------------------------------------------------------------- calls

  private site(node: SyntaxNode, api: string): SiteRef {
    const fn = node.childForFieldName('function') ?? node;
    return {
      at: node.startIndex, line: fn.startPosition.row, col: fn.startPosition.column,
      endLine: node.endPosition.row, endCol: node.endPosition.column, api,
    };
  }

  private occurrence(node: SyntaxNode, st: State): number {
    const n = st.occ.get(node.startIndex) ?? 0;
    st.occ.set(node.startIndex, n + 1);
    return n;
  }

  private call(node: SyntaxNode, st: State, failAt: number | null): Val {
    const fnode = node.childForFieldName('function');
    const argNodes = node.childForFieldName('arguments')?.namedChildren.filter((c) => c.type !== 'comment') ?? [];
    const name = fnode?.type === 'identifier' ? fnode.text : '';
    const api = name ? lookupApi(name, this.o.config.wrappers) : undefined;
    if (api) return this.apiCall(node, name, api.spec, api.argMap, argNodes, st, failAt);
    if (/^dma_unmap_(addr|len)(_set)?$/.test(name) && argNodes.length >= 2) {
      // include/linux/dma-mapping.h: ((PTR)->ADDR_NAME = (VAL)) and (PTR)->ADDR_NAME
      const p = { mem: `${this.baseKey(this.ev(argNodes[0], st, failAt), st)}->${argNodes[1].text}` };
      if (!name.endsWith('_set')) return this.load(p, st);
      const v = argNodes[2] ? this.ev(argNodes[2], st, failAt) : konst(0);
      this.store(p, v, st);
      return v;
    }
    if (name && HELPERS.has(name)) return this.helper(name, node, argNodes, st, failAt);
    if (/^KUNIT_(ASSERT|EXPECT)_/.test(name)) {
      // KUNIT_ASSERT_NOT_NULL(test, p), KUNIT_ASSERT_FALSE(test, IS_ERR(p)): the test is the check.
      const vals = argNodes.map((a) => this.ev(a, st, failAt));
      for (const v of vals) { this.markChecked(v, st, 'test'); this.markChecked(v, st, 'is-err-or-null'); }
      return opaque(`${name}@${node.startIndex}`, ...vals);
    }
    if (CHECK_HELPER.test(name)) {
      // A driver's own dma_mapping_error() wrapper (enic_dma_map_check(enic, addr)): it tests the
      // DMA address it is given.
      const vals = argNodes.map((a) => this.ev(a, st, failAt));
      const h = vals.find((v) => st.resources.some((r) => r.kind === 'dma-mapping' && r.handles.includes(hkey(v)))
        || [...st.fallible.values()].some((p) => p.failure === 'dma-mapping-error' && hkey(v) === p.val));
      if (h) {
        this.markChecked(h, st, 'mapping-error');
        const f = st.fact(h);
        if (f?.err !== undefined) return konst(f.err ? 1 : 0);
      }
      return opaque(`${name}@${node.startIndex}`, ...vals);
    }
    const args = argNodes.map((a) => this.ev(a, st, failAt));
    if (args.length && st.resources.some((r) => r.state === 'released')) this.callUseAfterRelease(node, name, args, argNodes, st);
    if (/^(container_of|container_of_const|list_entry)$/.test(name) && args[0] && argNodes[2]?.type === 'identifier') {
      return this.containerOf(args[0], argNodes[2].text);
    }
    const inl = this.o.inlines?.get(name);
    if (inl && inl.params.length === args.length && (this.inlineDepth ?? 0) < 4) {
      // A one-line accessor of the file (to_xdma_desc(vdesc)): its expression, with its parameters bound.
      const saved = inl.params.map((p) => [p, st.env.get(p)] as const);
      inl.params.forEach((p, i) => st.env.set(p, args[i]));
      this.inlineDepth = (this.inlineDepth ?? 0) + 1;
      try { return this.ev(inl.expr, st, failAt); } finally {
        this.inlineDepth--;
        for (const [p, v] of saved) { if (v === undefined) st.env.delete(p); else st.env.set(p, v); }
      }
    }
    // A callee that may write what the function reads next (a new handle into `priv->dma`).
    if (!NOT_KEEPING.test(name) && !PRINTING.test(name) && !FREE_OBJECT.test(name)) {
      st.calls++;
      // cpu-access-without-sync: a callee we cannot see may have synced a mapping for the CPU.
      if (!NO_SYNC.test(name)) st.syncable++;
    }
    if (st.cpuMaps && CPU_COPY.test(name)) this.callCpuAccess(node, name, args, st);
    if (FREE_OBJECT.test(name)) {
      // Freed memory holds nothing: a handle whose only copy was in the object is lost with it
      // (`kfree(txq->txbuffs)` after an unwind that forgot the blocks stored in its slots).
      const obj = args[/^(kmem_cache_free|devm_kfree)$/.test(name) ? 1 : 0];
      if (obj && !isConst(obj)) this.forget(obj, st);
    }
    if (name === 'dmaengine_unmap_put' && args[0] && !isConst(args[0])) {
      // drivers/dma/dmaengine.c: the last reference unmaps every address in unmap->addr[].
      this.releaseUnder(args[0], new Set(['dma-mapping']), this.site(node, name), st);
    }
    if (DRVDATA_SET.test(name) && args.length >= 2 && !isConst(args[0]) && !isConst(args[1])) {
      // pci_set_drvdata(pdev, card): the device holds the driver's object from now on, and remove()
      // (or a probe's unwind through it) finds it there: what the object holds is reachable.
      this.store({ mem: `${this.baseKey(args[0], st)}->driver_data` }, args[1], st);
    }
    const summary = name ? this.o.summaries.get(name) : undefined;
    // The driver's teardown of the very object it is given, in another file
    // (irdma_free_qp_rsrc(iwqp) from utils.c): it may release what that object holds. Only one
    // with the driver's prefix and named after the argument: megasas_release_fusion(instance)
    // does not free what else the instance holds, and framebuffer_release(info) frees the struct.
    if (!summary && TEARDOWN_NAME.test(name) && !FREE_OBJECT.test(name)) {
      const own = this.ownPrefix();
      const words = name.split('_').filter(Boolean);
      if (own && words[0] === own) {
        const objects = words.slice(1).filter((w) => !TEARDOWN_WORD.test(w) && w.length >= 2);
        argNodes.forEach((an, i) => {
          const t = an.text.replace(/^&/, '');
          if (!/^[A-Za-z_]\w*$/.test(t) || !objects.some((w) => t.toLowerCase().endsWith(w.toLowerCase()))) return;
          if (args[i] && !isConst(args[i])) this.releaseUnder(args[i], undefined, this.site(node, name), st);
        });
      }
    }
    const occ = this.occurrence(node, st);
    if (/^devm_add_action(_or_reset)?$/.test(name) && args[2]) {
      // devres runs the action at detach, and devm_add_action_or_reset() at once when it fails:
      // what the action's data holds is the device's to release (tegra20_fuse_free_coherent).
      this.releaseUnder(args[2], undefined, this.site(node, name), st);
    }
    if (/^kref_put(_mutex|_lock)?$/.test(name) && args[0] && argNodes[1]?.type === 'identifier') {
      // kref_put(&req->refcount, dma_req_free): the release callback, a helper of this file, runs
      // on the last reference and releases what the object holds (it reaches it by container_of()).
      const cb = this.o.summaries.get(argNodes[1].text);
      const kinds = new Set([...(cb?.releases ?? []), ...(cb?.released ?? []).flatMap((x) => x.kinds)]);
      if (kinds.size) this.releaseUnder(args[0], kinds, this.site(node, name), st);
    }
    // The result names its arguments, so a handle wrapped by an unknown call (cpu_to_leXX(dma))
    // and then stored is still recognised as handed off.
    // (A helper read for its summary names its parameters the same way: `cpu_to_be32(val)`.)
    const handleArgs = args.map(key).filter((k) => st.resources.some((r) => r.state === 'live' && r.handles.some((h) => holds(k, h) || contains(k, h)))
      || (this.o.asHelper && k.includes('param:') && k.length < 200));
    // ... and says whether it may be an object others reach (scsi_sglist(sc) of a parameter, a
    // descriptor from a driver's pool, to_foo(dev)): the result of a call we cannot see is, unless
    // the call is a fresh allocation (kzalloc(size, GFP_KERNEL)), whatever it is given.
    const fromCaller = FRESH_ALLOCATOR.test(name) ? '' : 'param:';
    // A size accessor (skb_headlen(skb), resource_size(res), sg_nents_for_len(sg, n)) gives the same
    // value for the same arguments: the map's size and the unmap's compare equal, and a doubled one differs.
    const argText = !summary && handleArgs.length === 0 && SIZE_ACCESSOR.test(name) ? args.map(key).join(',') : undefined;
    const ret = argText !== undefined && argText.length < 240
      ? sym(`${fromCaller}${name}(${argText})`)
      : sym(`${fromCaller}${name || 'call'}(${handleArgs.join(',')})@${node.startIndex}#${occ}`);
    // A resource given to a function we cannot see may be kept by it (DESIGN §2). Conversions,
    // copies and register writes only look at it; a handle given together with a pointer into
    // memory (greth_write_bd(&rx_bd[i].addr, dma), writel(dma, &desc->addr)) is written where the
    // driver reads it back to unmap it.
    const intoMemory = argNodes.some((a) => { const x = stripParens(a); return x.type === 'pointer_expression' && x.child(0)?.type === '&'; });
    // A helper whose body was read keeps exactly the parameters it stores (engine/summaries.ts).
    const setter = /^[A-Z][A-Z0-9_]*$/.test(name) && node.parent?.type === 'expression_statement' && argNodes.length >= 2;
    const keepsArg = (i: number): boolean => {
      if (summary?.keepsParams) return summary.keepsParams.includes(i) || (intoMemory && !!summary.keepsIfMemory?.includes(i));
      // An upper-case macro whose value nobody uses is a setter (CBDW_BUFADDR(bdp, dma)): it stores.
      if (setter) return true;
      return !NOT_KEEPING.test(name) ? !summary || summary.keeps || intoMemory : WRITE_ACCESSOR.test(name) && (intoMemory || throughParam);
    };
    const by = name || 'a function pointer';
    const rk = key(ret);
    // memcpy(dst, src, n) into memory others reach copies what src holds there.
    const copy = COPY.test(name) && args.length >= 2 && this.sharedTarget(args[0]);
    // memcpy(&pd_entry->bp.addr, page, sizeof(...)) copies the struct: what src holds, dst now holds.
    if (COPY.test(name) && args.length >= 2) this.copyMem(args[1], args[0], st);
    // writel(val, bd) with `bd` this function's parameter: a descriptor or a register, as its
    // caller passes (a helper's summary says which).
    const throughParam = WRITE_ACCESSOR.test(name) && !intoMemory
      && argNodes.some((a) => { const x = stripParens(a); return x.type === 'identifier' && this.o.params.includes(x.text); });
    // A handle given to a call that may keep it has a copy we may not see (a descriptor written by a
    // macro, a helper in a header): on an exit that does not fail, a leak is reported only for a
    // handle that never left the locals (checkers/leak.ts). Conversions, register writes and
    // copies only look at it (DESIGN §2).
    // A helper whose body was read copies only what it keeps (pci_endpoint_test_writel() writes a
    // register: the mapping stays the function's to unmap).
    const copiedArgs = !handleArgs.length ? [] : summary?.keepsParams ? args.map(key).filter((k, i) => handleArgs.includes(k) && keepsArg(i))
      : setter || !NOT_KEEPING.test(name) || intoMemory ? handleArgs : [];
    if (copiedArgs.length) {
      for (const r of st.resources) if (r.state === 'live' && !r.copied && r.handles.some((h) => copiedArgs.some((k) => holds(k, h) || contains(k, h)))) r.copied = true;
    }
    // A struct on the stack given by address to a callee we cannot see (mwifiex_store_mapping(skb,
    // &mapping), a header's inline that copies it into skb->cb): what it holds may have been
    // copied out. Not a hand-off (the frame's struct dies with it), but not surely lost on an exit
    // that does not fail either.
    // Only a callee whose name says it stores (a command sent from a stack block keeps nothing).
    if (!summary && STORING_NAME.test(name) && st.resources.some((r) => r.state === 'live' && !r.copied)) {
      for (const a of argNodes) {
        const x = stripParens(a);
        const t = x.type === 'pointer_expression' && x.child(0)?.type === '&' ? x.childForFieldName('argument') : null;
        if (t?.type !== 'identifier' || !st.env.has(t.text) || asSym(st.env.get(t.text)!) !== 'local:' + t.text) continue;
        for (const [p, v] of st.mem) {
          if (!p.startsWith(`local:${t.text}.`) && !p.startsWith(`local:${t.text}[`)) continue;
          const k = key(v);
          for (const r of st.resources) if (r.state === 'live' && !r.copied && r.handles.some((h) => holds(k, h))) r.copied = true;
        }
      }
    }
    let roots: Set<string> | undefined;
    args.forEach((a, i) => {
      if (isConst(a) || !(keepsArg(i) || (copy && i === 1))) return;
      const k = key(a);
      if (handleArgs.includes(k)) {
        st.kept = st.kept.add({ seq: st.events.length, key: k, by, ret: rk, throughParam: throughParam || undefined,
          evenOnFailure: summary?.keepsOnFailure?.includes(i) || undefined, at: this.work });
      }
      // A fresh object that holds a handle (buf->dma = ...; list_add(&buf->node, &priv->list)): the
      // callee may keep the object, and with it what the object holds.
      if (!st.mem.size || /^&?(param:|g:|local:)/.test(k)) return;
      const r0 = rootOf(k);
      if (/^(param:|g:|local:)/.test(r0)) return;
      if (!roots) { roots = new Set(); for (const p of st.mem.keys()) roots.add(rootOf(p)); }
      if (roots.has(r0)) st.kept = st.kept.add({ seq: st.events.length, key: r0, by, ret: rk });
    });
    // A struct on the stack dies with the frame (DESIGN §2) unless a helper of the file keeps what
    // it is given, or it is copied into memory others reach.
    const keepsStack = (i: number): boolean => (copy && i === 1)
      || (!!summary && (summary.keepsParams ? summary.keepsParams.includes(i) : summary.keeps));
    // An unknown callee may write through pointers to locals it is given.
    const priorEnv = new Map<string, Val>();
    argNodes.forEach((a, i) => {
      const s = stripParens(a);
      if (s.type === 'pointer_expression' && s.child(0)?.type === '&') {
        const target = s.childForFieldName('argument');
        if (target) {
          const p = this.lpath(target, st, failAt);
          // A message's `%pad` argument (dev_dbg(dev, "%pad", &dma)) is only printed.
          if (p.env !== undefined && PRINTING.test(name)) { /* reads it */ }
          else if (p.env !== undefined) {
            // vmap(&page, 1, ...): what the local holds is handed over, then the callee may overwrite it.
            const held = st.env.get(p.env);
            if (held && !isConst(held) && !NOT_KEEPING.test(name)) st.kept = st.kept.add({ seq: st.events.length, key: key(held), by, ret: rk });
            if (held) priorEnv.set(p.env, held);
            st.env.set(p.env, sym(`out:${name}@${node.startIndex}#${occ}:${i}`));
          }
          else if (keepsStack(i)) this.keepLocal(p.mem!, st, by, rk);
        }
      } else if (s.type === 'identifier' && st.env.has(s.text) && asSym(st.env.get(s.text)!) === 'local:' + s.text
        && (keepsStack(i) || (keepsArg(i) && [...st.mem.keys()].some((p) => p.startsWith(`local:${s.text}[`))))) {
        // An array of handles on the stack (ring_xmit(r, dma_arr, n)) gives the callee the handles themselves.
        this.keepLocal('local:' + s.text, st, by, rk);
      } else if (s.type === 'field_expression' && !s.text.includes('->')) {
        // An array member of a struct on the stack (mt76_dma_add_buf(dev, q, tx_info.buf, ...)).
        const p = this.lpath(s, st, failAt);
        if (p.mem?.startsWith('local:') && (keepsStack(i) || (keepsArg(i) && [...st.mem.keys()].some((k) => k.startsWith(`${p.mem}[`))))) {
          this.keepLocal(p.mem, st, by, rk);
        }
      }
    });
    if (summary) {
      const at = this.site(node, name);
      for (const i of summary.checksParams ?? []) if (args[i]) this.markChecked(args[i], st, 'mapping-error');
      // A cleanup helper: its body releases something, or its name says it does (the unwind the
      // driver meant, even where the body forgets one). `mpi3mr_issue_reset()` before a retry is not.
      const cleanup = summary.releases.size > 0 || summary.released.length > 0 || CLEANUP_NAME.test(name);
      if (cleanup) st.events = st.events.add({ k: 'helper-call', site: at, detail: { roots: args.filter((a) => !isConst(a)).map((a) => rootOf(key(a))), label: underLabel(node) } });
      // What its body releases by a handle in its parameters' terms: the caller's copy of it.
      const unresolved = new Set(summary.releases);
      // Marks the live resources of these kinds that `held` picks as possibly released (the helper
      // may release them on some of its paths only); says whether there were any.
      const mayRelease = (kinds: string[], held: (r: Resource) => boolean): boolean => {
        let hit = false;
        for (const r of st.resources) {
          if (r.state !== 'live' || !kinds.includes(r.kind) || !held(r)) continue;
          r.state = 'maybe-released';
          r.releasedBy = at;
          hit = true;
        }
        return hit;
      };
      // Stored at a memory path that `at` accepts.
      const storedAt = (r: Resource, ok: (path: string) => boolean) =>
        [...st.mem].some(([p, v]) => ok(p) && r.handles.some((x) => holds(key(v), x)));
      for (const rel0 of summary.released) {
        // Released only when a parameter is (not) 0, and this call passes the other constant.
        if (rel0.when?.some((w) => { const a = args[w.param]; return !!a && isConst(a) && (a.c === 0) !== w.zero; })) continue;
        let rel = rel0;
        let tArgs = args;
        let tParams = summary.params;
        // Reached through container_of() of a parameter: the caller passed `&obj->member`, so the
        // helper's object is the caller's `obj` (xdma_free_desc(&sw_desc->vdesc)).
        const cof = /^cof\(param:([A-Za-z_]\w*)\+0\)\.([A-Za-z_]\w*)\+0(->.*)$/.exec(rel.handle);
        if (cof) {
          const a = args[summary.params.indexOf(cof[1])];
          const obj = a ? this.containerOf(a, cof[2]) : undefined;
          if (obj && !asSym(obj)?.startsWith('cof(')) {
            rel = { ...rel, handle: `param:__cof+0${cof[3]}` };
            tArgs = [...args, obj];
            tParams = [...summary.params, '__cof'];
          }
        }
        // Every element of the array a pointer parameter points to (`*param:mem+0+*->virt_addr`):
        // what the caller stored at `base + i` for any i.
        const elems = /^(\*?)param:([A-Za-z_]\w*)\+0\+\*(->.*)$/.exec(rel.handle);
        if (elems) {
          let base: Val | undefined = args[summary.params.indexOf(elems[2])];
          if (base && elems[1]) {
            const a = asSym(base);
            base = a?.startsWith('&') ? (priorEnv.get(a.slice(1)) ?? st.env.get(a.slice(1)) ?? st.mem.get(a.slice(1))) : undefined;
          }
          const bk = base && !isConst(base) ? this.baseKey(base, st) : undefined;
          if (!bk?.endsWith('+0')) { for (const k of rel.kinds) unresolved.add(k); continue; }
          const pre = bk.slice(0, -1);
          mayRelease(rel.kinds, (r) => storedAt(r, (p) => p.startsWith(pre) && p.includes(elems[3])));
          continue;
        }
        const h = this.translate(rel.handle, tArgs, st, tParams);
        if (h === undefined) {
          // A slot of an array the caller names (`adapter->tx_ltb_dma[idx]`): what is stored under
          // that array, not every resource of the kind.
          const pre = this.translateSlot(rel.handle, tArgs, st, tParams);
          if (pre === undefined) { for (const k of rel.kinds) unresolved.add(k); continue; }
          const hit = mayRelease(rel.kinds, (r) => r.handles.some((x) => x.startsWith(pre)) || storedAt(r, (p) => p.startsWith(pre)));
          if (!hit && /^&?(param:|g:)/.test(pre)) this.unknownRelease(st, { site: at, detail: { handle: pre, kinds: rel.kinds } });
          continue;
        }
        const hk = hkey(h);
        const hit = mayRelease(rel.kinds, (r) => r.handles.some((x) => hk.includes(x)));
        // Not ours: our own caller's, in its terms (when this function is a helper being read).
        if (!hit) this.unknownRelease(st, { site: at, detail: { handle: hk, kinds: rel.kinds } });
      }
      // Released through a handle the caller cannot name: any resource of that kind reachable
      // through an argument (stored under it, or handed to the caller's objects) may be it.
      if (unresolved.size) {
        const argKeys = args.map(key);
        for (const r of st.resources) {
          if (r.state !== 'live' || !unresolved.has(r.kind)) continue;
          // The handle, or an address inside an object given (sa_free_rx_data(rxd) for &rxd->sgt).
          const direct = r.handles.some((h) => argKeys.some((k) => k.includes(h) || (h.startsWith('&') && rootOf(h) === rootOf(k))));
          const reachable = (argKeys.some((k) => CALLER_ROOTED.test(k)) && isHandedOff(st, r))
            || [...st.mem.entries()].some(([p, v]) => argKeys.some((k) => p.startsWith(k) || rootOf(p) === rootOf(k)) && r.handles.some((h) => key(v).includes(h)));
          if (direct || reachable || argKeys.length === 0) { r.state = 'maybe-released'; r.releasedBy = at; }
        }
        this.unknownRelease(st, { site: at, detail: { kinds: [...unresolved] } });
      }
      // A helper whose result the driver throws away (`iwl_txq_gen2_set_tb(trans, tfd, addr, len);`,
      // "when we know there is enough we don't always check") is one it relies on not failing there.
      if (summary.fails && !discardedResult(node)) {
        const s = this.site(node, name);
        const fail = failAt !== null && !st.failed && st.fallibleCount === failAt;
        st.fallibleCount++;
        if (fail) {
          st.failed = s;
          st.failSeq = st.events.length;
          st.addFact(ret, summary.fails === 'neg-errno' ? { zero: false, neg: true } : summary.fails === 'err-ptr' ? { zero: false, err: true } : { zero: true });
          this.step(st, node, name, args, summary.fails === 'neg-errno' ? '-> -errno (injected failure)'
            : summary.fails === 'err-ptr' ? '-> ERR_PTR(-errno) (injected failure)' : '-> NULL (injected failure)');
        } else if (failAt !== null || !this.sweep || this.countFallible(node) > 0) {
          st.addFact(ret, summary.fails === 'neg-errno' ? { zero: true, neg: false } : summary.fails === 'err-ptr' ? { err: false } : { zero: false });
        }
      }
      // The trace says the call was made and what the helper's body was read to do (a run of
      // vfio_pin_map_dma() shows vfio_iommu_map() between the pins); the helper runs by itself
      // with `run FILE:helper`.
      const shown = st.failed?.at === node.startIndex ? undefined : helperResult(summary);
      if (shown) this.step(st, node, name, args, shown);
      if (summary.returnsParam !== undefined && !summary.fails && args[summary.returnsParam]) return args[summary.returnsParam];
      return ret;
    }
    return ret;
  }

  /** Drop what memory says about the object `ptr` points to (it was freed). */
  private forget(ptr: Val, st: State): void {
    const k = this.baseKey(ptr, st);
    for (const p of [...st.mem.keys()]) {
      if (p.length > k.length && p.startsWith(k) && /^(->|\.|\[)/.test(p.slice(k.length))) st.mem.delete(p);
    }
  }

  /** A release of a handle this function cannot name: what a helper's summary is made of. */
  private unknownRelease(st: State, e: { site: SiteRef; detail: Record<string, unknown> }): void {
    const d = e.detail as { handle?: string; kinds?: string[] };
    st.unknownReleases += `|${(d.kinds ?? []).join(',')}@${d.handle ?? ''}`;
    st.events = st.events.add({ k: 'unknown-release', ...e });
  }

  /**
   * A release by someone given the object (devres's action data, a kref's release callback): the
   * live resources of these kinds (any, when undefined) that the object holds may be released.
   */
  private releaseUnder(obj: Val, kinds: Set<string> | undefined, at: SiteRef, st: State): void {
    const dk = key(obj);
    const root = rootOf(dk);
    for (const r of st.resources) {
      if (r.state !== 'live' || (kinds && !kinds.has(r.kind))) continue;
      // Held: the object's own fields (`req->sgt.sgl`, as loaded), or stored under it on this path.
      const held = r.handles.some((h) => dk.includes(h) || rootOf(h) === root)
        || [...st.mem].some(([p, v]) => rootOf(p) === root && r.handles.some((h) => key(v).includes(h)));
      if (held) { r.state = 'maybe-released'; r.releasedBy = at; }
    }
  }

  /**
   * A struct copy through pointers (memcpy(dst, src, n)): every place stored under `*src` on this
   * path is stored at the same place under `*dst`. `&x` names x's fields as `x.f`, a pointer p
   * names them `p->f` (lpath).
   */
  private copyMem(src: Val, dst: Val, st: State): void {
    if (isConst(src) || isConst(dst)) return;
    const fields = (v: Val): { prefix: string; sep: string } => {
      const a = addressOf(v);
      return a ? { prefix: a.slice(1), sep: '.' } : { prefix: key(v), sep: '->' };
    };
    const from = fields(src);
    const to = fields(dst);
    if (from.prefix === to.prefix) return;
    this.noteRead(from.prefix + from.sep, st);
    const copies: [string, Val][] = [];
    for (const [p, v] of st.mem) {
      if (!p.startsWith(from.prefix)) continue;
      const rest = p.slice(from.prefix.length);
      let tail: string | undefined;
      if (rest.startsWith(from.sep)) tail = rest.slice(from.sep.length);
      if (tail === undefined || !/^[A-Za-z_]/.test(tail)) continue;
      copies.push([`${to.prefix}${to.sep}${tail}`, v]);
      if (copies.length > 64) return;
    }
    for (const [p, v] of copies) this.store({ mem: p }, v, st);
  }

  /** Whether a destination pointer names memory others reach (not the frame's, not a fresh object's). */
  private sharedTarget(v: Val): boolean {
    if (isConst(v)) return false;
    const r0 = rootOf(key(v));
    return !r0.startsWith('local:') && !isFresh(r0);
  }

  /**
   * A helper's release handle, in its parameters' terms, as the caller's value: `param:dma+0` is
   * the argument; `param:priv+0->rx.dma` what the caller's memory holds at its argument's path;
   * undefined when it cannot be named here (a symbolic array index, an expression).
   */
  private translate(handle: string, args: Val[], st: State, params: string[]): Val | undefined {
    const names = (n: string) => params.indexOf(n);
    const exact = /^param:([A-Za-z_]\w*)\+0$/.exec(handle);
    if (exact) {
      const i = names(exact[1]);
      return i >= 0 && args[i] ? args[i] : undefined;
    }
    const m = /^param:([A-Za-z_]\w*)\+0(->|\.)(.*)$/.exec(handle);
    if (!m) return handle.includes('param:') ? undefined : (st.mem.get(handle) ?? sym(handle));
    const i = names(m[1]);
    const s = i >= 0 && args[i] ? asSym(args[i]) : undefined;
    if (!s || m[3].includes('param:') || /\[(?!-?\d+\])/.test(m[3])) return undefined;
    const tail = m[2] + m[3];
    const paths = s.startsWith('&') ? [`${s.slice(1)}.${m[3]}`, s.slice(1) + tail] : [`${s}+0${tail}`];
    // `desc = cp->rx_ring + i; desc->addr` is the slot the caller wrote as `cp->rx_ring[i].addr`.
    for (const p of [...paths]) {
      const alt = p.replace(/(->|\.)([A-Za-z_]\w*)\+(\d+)->/g, '$1$2+0[$3].');
      if (alt !== p) paths.push(alt);
    }
    for (const p of paths) { const v = st.mem.get(p); if (v) return v; }
    // Through pointers the caller stored (`ap->private_data = pp; pp->crqb = ...`): follow each
    // `->` to the object it points to on this path (mv_port_free_dma_mem(ap) frees pp->crqb).
    if (!s.startsWith('&') && m[2] === '->') {
      const segs = tail.split(/(?=->)/);
      let base = `${s}+0`;
      for (let i = 0; i < segs.length; i++) {
        const field = i < segs.length - 1 ? segs[i].replace(/\+0$/, '') : segs[i];
        if (i === segs.length - 1) { const v = st.mem.get(base + field); if (v) return v; break; }
        const v = st.mem.get(base + field);
        if (!v || isConst(v)) break;
        base = this.baseKey(v, st);
      }
    }
    // Nothing stored there on this path: the value is what was there on entry, as a load reads it
    // (`(&x[0])->f` is `x[0].f`, as lpath names it).
    return sym(paths[0]);
  }

  /**
   * The caller's name for the array a helper's release indexes by a value of its own
   * (`param:adapter+0->tx_ltb_dma[param:idx+0]` is `priv+0->tx_ltb_dma[`, a prefix of its slots).
   */
  private translateSlot(handle: string, args: Val[], st: State, params: string[]): string | undefined {
    const m = /^param:([A-Za-z_]\w*)\+0(->|\.)(.*)$/.exec(handle);
    if (!m) return undefined;
    const cut = m[3].search(/\[(?!-?\d+\])/);
    if (cut < 0) return undefined;
    const head = m[3].slice(0, cut + 1);
    if (head.includes('param:') || !/^[A-Za-z_]/.test(head)) return undefined;
    const i = params.indexOf(m[1]);
    const s = i >= 0 && args[i] ? asSym(args[i]) : undefined;
    if (!s) return undefined;
    // The array's base as the caller holds it: a pointer field loaded (`ce->chanlist`, a
    // devm_kcalloc()'d array) names its slots by the pointer's value.
    const base = (s.startsWith('&') ? `${s.slice(1)}.${head}` : `${s}+0${m[2]}${head}`).slice(0, -1);
    const v = st.mem.get(base.replace(/\+0$/, ''));
    return `${v && !isConst(v) ? this.baseKey(v, st) : base}[`;
  }

  /**
   * A struct on the stack passed to a callee dies with the frame (DESIGN §2), unless the callee is
   * a helper of this file that copies what it is given where its caller can reach it.
   */
  private keepLocal(prefix: string, st: State, by: string, ret: string): void {
    for (const [p, v] of st.mem) if (p.startsWith(prefix) && !isConst(v)) st.kept = st.kept.add({ seq: st.events.length, key: key(v), by, ret });
  }

  /** Known macros and pure helpers. */
  private helper(name: string, node: SyntaxNode, argNodes: SyntaxNode[], st: State, failAt: number | null): Val {
    const a = argNodes.map((n) => this.ev(n, st, failAt));
    const c = (i: number) => (a[i] && isConst(a[i]) ? a[i].c : undefined);
    const pageShift = 12;
    switch (name) {
      case 'likely': case 'unlikely': case 'cpu_to_le32': case 'cpu_to_le64': case 'le32_to_cpu': case 'le64_to_cpu':
      case 'cpu_to_le16': case 'le16_to_cpu': case 'cpu_to_be16': case 'cpu_to_be32': case 'cpu_to_be64':
      case 'be16_to_cpu': case 'be32_to_cpu': case 'be64_to_cpu':
        return a[0] ?? konst(0);
      case 'WARN_ON': case 'WARN_ON_ONCE':
        if (a[0]) this.markChecked(a[0], st);
        return a[0] ?? konst(0);
      case 'PFN_PHYS': return a[0] ? (isConst(a[0]) ? konst(a[0].c * 2 ** pageShift) : mulConst(a[0], 2 ** pageShift)) : konst(0);
      case 'PHYS_PFN': return c(0) !== undefined ? konst(Math.floor(c(0)! / 2 ** pageShift)) : opaque(name, a[0]);
      case 'PAGE_ALIGN': return c(0) !== undefined ? konst(Math.ceil(c(0)! / 4096) * 4096) : opaque(name, a[0]);
      case 'ALIGN': case 'round_up':
        return c(0) !== undefined && c(1) ? konst(Math.ceil(c(0)! / c(1)!) * c(1)!) : opaque('ALIGN', a[0], a[1] ?? konst(0));
      case 'round_down': return c(0) !== undefined && c(1) ? konst(Math.floor(c(0)! / c(1)!) * c(1)!) : opaque(name, a[0], a[1] ?? konst(0));
      case 'DIV_ROUND_UP': return c(0) !== undefined && c(1) ? konst(Math.ceil(c(0)! / c(1)!)) : opaque(name, a[0], a[1] ?? konst(0));
      case 'get_order': {
        const n = c(0);
        if (n === undefined) return opaque(name, a[0]);
        let o = 0;
        while (4096 * 2 ** o < n) o++;
        return konst(o);
      }
      case 'sg_dma_address': case 'sg_dma_len': {
        // include/linux/scatterlist.h: the fields dma_map_sg() fills (or the driver assigns).
        if (!argNodes[0]) return opaque(name, ...a);
        return this.load(this.lpath(node, st, failAt), st);
      }
      case 'IS_ALIGNED': case 'offset_in_page': {
        // include/linux/align.h, mm.h: decided for constants and for addresses known aligned.
        const x = a[0] ?? konst(0);
        const m = name === 'offset_in_page' ? 4096 : c(1);
        if (m === undefined || m <= 0 || (m & (m - 1)) !== 0) return opaque(name, ...a);
        const low = isConst(x) ? konst(Number(BigInt(Math.trunc(x.c)) & BigInt(m - 1)))
          : x.t.length === 1 && x.t[0][1] === 1 && (st.facts.get(x.t[0][0] + '+0')?.align ?? 0) >= m ? konst(((x.c % m) + m) % m) : undefined;
        if (!low) return opaque(name, ...a);
        return name === 'offset_in_page' ? low : konst(low.c === 0 ? 1 : 0);
      }
      case 'BIT': case 'BIT_ULL': return c(0) !== undefined ? konst(2 ** c(0)!) : opaque('BIT', a[0]);
      case 'GENMASK': case 'GENMASK_ULL':
        return c(0) !== undefined && c(1) !== undefined ? konst(2 ** (c(0)! + 1) - 2 ** c(1)!) : opaque(name, a[0], a[1]);
      case 'DMA_BIT_MASK': return c(0) !== undefined ? konst(c(0)! >= 53 ? Number.MAX_SAFE_INTEGER : 2 ** c(0)! - 1) : opaque(name, a[0]);
      case 'min': case 'min_t': case 'max': case 'max_t': {
        const [x, y] = name.endsWith('_t') ? [a[1], a[2]] : [a[0], a[1]];
        if (x && y && isConst(x) && isConst(y)) return konst(name.startsWith('min') ? Math.min(x.c, y.c) : Math.max(x.c, y.c));
        return opaque(name.replace(/_t$/, ''), x ?? konst(0), y ?? konst(0));
      }
      case 'IS_ERR': case 'IS_ERR_OR_NULL': {
        const x = a[0] ?? konst(0);
        this.markChecked(x, st, name === 'IS_ERR' ? 'is-err' : 'is-err-or-null');
        const f = st.fact(x);
        if (f?.err !== undefined) return konst(f.err ? 1 : 0);
        return opaque(name, x);
      }
      case 'PTR_ERR': case 'PTR_ERR_OR_ZERO': {
        const x = a[0] ?? konst(0);
        if (name === 'PTR_ERR_OR_ZERO') this.markChecked(x, st, 'is-err');
        const v = opaque('PTR_ERR', x);
        if (st.fact(x)?.err) st.addFact(v, { neg: true, zero: false });
        return v;
      }
      case 'ERR_PTR': case 'ERR_CAST': {
        const v = opaque('ERR_PTR', a[0] ?? konst(0));
        st.addFact(v, { err: true, zero: false });
        return v;
      }
      case 'iommu_iotlb_sync': case 'iommu_flush_iotlb_all': {
        // include/linux/iommu.h: the gathered invalidations of iommu_unmap_fast() are done.
        if (!a[0] || !st.emu) return opaque(name, ...a);
        const d = st.emu.domain(key(a[0]));
        const n = st.emu.sys.iotlbSync(d, name === 'iommu_flush_iotlb_all');
        this.step(st, node, name, a, n ? `ok (${n} gathered unmap(s) invalidated)` : 'ok');
        return opaque(name, ...a);
      }
      case 'iommu_get_domain_for_dev': {
        const v = opaque(name, a[0] ?? konst(0));
        st.dmaDomains.add(key(v));
        const dev = st.emu.device(key(a[0] ?? konst(0)));
        const d = st.emu.sys.getDomainForDev(dev);
        if (d !== null) st.emu.setDomain(key(v), d);
        this.step(st, node, name, a, d !== null ? `-> DMA domain #${d}` : '-> NULL');
        return v;
      }
      case 'iova_dma_addr': case 'iova_pfn': {
        // Of a struct iova this path freed (__free_iova): a read of freed memory.
        const freed = a[1] ? this.releasedIn(a[1], st, (r) => r.kind === 'iova', true) : undefined;
        if (freed) this.usedAfterRelease(st, this.site(node, name), freed, 'iova', {}, argNodes[1]);
        const v = opaque(name, a[1] ?? konst(0));
        this.linkHandle(a[1], v, st);
        const lo = this.concrete(sym(`${key(a[1] ?? konst(0))}->pfn_lo`), st);
        if (name === 'iova_dma_addr' && lo !== undefined) st.emu.model.set(asSym(v)!, lo * st.emu.granule);
        return v;
      }
      case 'iova_size': {
        const v = opaque(name, a[0] ?? konst(0));
        return v;
      }
      case 'iommu_iova_to_phys': {
        const dom = st.emu.domain(key(a[0] ?? konst(0)));
        const iova = this.concrete(a[1] ?? konst(0), st) ?? 0;
        const v = opaque(name + '@' + node.startIndex, a[1] ?? konst(0));
        st.emu.model.set(asSym(v)!, st.emu.sys.iovaToPhys(dom, iova));
        return v;
      }
      case 'page_address': case 'virt_to_phys': case 'page_to_phys': {
        // The address of a page we hold is not NULL.
        const v = opaque(name, ...a);
        if (a[0] && this.signOf(a[0], st).zero === false) st.addFact(v, { zero: false });
        // The emulator's pages are their physical address (alloc_pages() -> pa): page_to_phys()
        // of one is that address, so iommu_map() maps the very page and its free can be told.
        const c = name === 'page_to_phys' && a[0] ? this.concrete(a[0], st) : undefined;
        const vs = asSym(v);
        if (c !== undefined && c !== 0 && vs && st.emu) st.emu.model.set(vs, c);
        return v;
      }
      default:
        return opaque(name, ...a);
    }
  }

  /** A value derived from a handle identifies the same resource (iova_dma_addr(iovad, iova)). */
  private linkHandle(from: Val | undefined, to: Val, st: State): void {
    if (!from) return;
    const fk = hkey(from);
    for (const r of st.resources) if (r.handles.includes(fk)) r.handles.push(hkey(to));
  }

  private concrete(v: Val, st: State): number | undefined {
    if (isConst(v)) return v.c;
    let n = v.c;
    for (const [s, k] of v.t) {
      const m = st.emu?.model.get(s);
      if (m === undefined) return undefined;
      n += k * m;
    }
    return n;
  }

  private conc(v: Val | undefined, st: State, dflt: number): number {
    if (!v) return dflt;
    return this.concrete(v, st) ?? dflt;
  }

  private apiCall(node: SyntaxNode, name: string, spec: ApiSpec, argMap: number[] | undefined, argNodes: SyntaxNode[],
    st: State, failAt: number | null): Val {
    const raw = argNodes.map((a) => this.ev(a, st, failAt));
    const argNode = (i: number): SyntaxNode | undefined => argNodes[argMap ? argMap[i] ?? -1 : i];
    const arg = (i: number | undefined): Val | undefined => (i === undefined ? undefined : raw[argMap ? argMap[i] ?? -1 : i]);
    const site = this.site(node, name);
    const occ = this.occurrence(node, st);
    const ret = sym(`${name}@${node.startIndex}#${occ}`);

    if (spec.checksArg !== undefined) {
      const v = arg(spec.checksArg) ?? konst(0);
      this.markChecked(v, st, 'mapping-error');
      // Tell dma-debug the driver looked (kernel/dma/debug.c: debug_dma_mapping_error).
      const addr = this.concrete(v, st);
      if (addr !== undefined) st.emu.sys.dmaMappingError(st.emu.device(key(arg(0) ?? konst(0))), addr);
      const f = st.fact(v);
      if (f?.err !== undefined) return konst(f.err ? 1 : 0);
      return opaque('dma_mapping_error', v);
    }

    // Given what this path released (use-after-release); a dma_sync_*() only logs what it syncs.
    this.apiUseAfterRelease(spec, site, raw, argMap, argNodes, st);
    if (spec.sync) {
      this.step(st, node, name, raw, this.sync(spec, site, arg, st, argNode));
      return ret;
    }

    // __GFP_NOFAIL: the allocator loops until it succeeds (include/linux/gfp_types.h).
    if (spec.failure && !neverFails(spec, node)) {
      const fail = failAt !== null && !st.failed && st.fallibleCount === failAt;
      st.fallibleCount++;
      if (spec.mustCheck) st.fallible.set(site.at, { site, val: hkey(ret), failure: spec.failure });
      const facts: Record<string, [Fact, Fact]> = {
        'null': [{ zero: false, err: false }, { zero: true }],
        'zero': [{ zero: false, neg: false }, { zero: true }],
        'neg-errno': [{ zero: true, neg: false }, { zero: false, neg: true }],
        'err-ptr': [{ zero: false, err: false }, { zero: false, err: true }],
        // A mapping that succeeded is not at bus address 0 either (dma-iommu's IOVA space starts
        // at pfn 1): mlx5's `if (addr == 0)` retry does not happen.
        'dma-mapping-error': [{ err: false, zero: false }, { err: true }],
      };
      const [ok, bad] = facts[spec.failure];
      if (fail) {
        st.failed = site;
        st.failSeq = st.events.length;
        st.addFact(ret, bad);
        st.emu.model.set(asSym(ret)!, spec.failure === 'neg-errno' ? -12 : 0);
        st.events = st.events.add({ k: 'fail', site });
        const shown = spec.failure === 'neg-errno' ? '-ENOMEM' : spec.failure === 'err-ptr' ? 'ERR_PTR(-ENOMEM)'
          : spec.failure === 'dma-mapping-error' ? 'DMA_MAPPING_ERROR' : spec.failure === 'null' ? 'NULL' : '0';
        this.step(st, node, name, raw, `-> ${shown} (injected failure)`);
        return ret;
      }
      st.addFact(ret, ok);
    }

    if (spec.devres) {
      this.step(st, node, name, raw, '-> ok (device-managed)');
      return ret;
    }
    if (spec.acquires) this.impliedFacts(spec.acquires, arg, ret, st);

    let result = 'ok';
    const emuEvents: { kind: string; text: string }[] = [];
    this.lastSite = site;
    try {
      // A helper read for its summary needs what it does to handles, not the emulator's answers.
      if (!this.o.asHelper) result = this.emulate(name, spec, arg, argNode, ret, st);
    } catch (e) {
      emuEvents.push({ kind: 'internal', text: `emulator: ${(e as Error).message}` });
    }

    if (spec.acquires) {
      const a = spec.acquires;
      const handles: string[] = [];
      let identity: Val = ret;
      // `&pfn` written by the call: the pinned chunk's first pfn, which the unpin is given.
      if (a.writesOut && a.handle !== 'ret') {
        const on = argNode(a.handle.outArg);
        const ox = on && stripParens(on);
        if (ox?.type === 'pointer_expression' && ox.child(0)?.type === '&') {
          this.apiStore = true;
          try { this.writeThrough(on!, sym(`${key(ret)}:out`), st, failAt); } finally { this.apiStore = false; }
        }
      }
      if (a.handle !== 'ret') identity = arg(a.handle.outArg) ?? ret;
      handles.push(hkey(identity));
      // dma_map_sgtable(dev, &sgt): a copy of the struct itself (`*bo->sgt = sgt`) carries the mapping too.
      const idNode = a.handle !== 'ret' ? argNode(a.handle.outArg) : undefined;
      const idArg = idNode && stripParens(idNode);
      if (idArg?.type === 'pointer_expression' && idArg.child(0)?.type === '&') {
        const target = idArg.childForFieldName('argument');
        if (target) { const sv = hkey(this.load(this.lpath(target, st, failAt), st)); if (!handles.includes(sv)) handles.push(sv); }
      }
      if (a.alsoOut !== undefined) {
        const out = argNode(a.alsoOut);
        const hv = sym(`${key(ret)}:handle`);
        this.apiStore = true;
        try { if (out) this.writeThrough(out, hv, st, failAt); } finally { this.apiStore = false; }
        handles.push(hkey(hv));
      }
      const res: Resource = {
        id: `${site.at}#${occ}`, kind: a.kind, api: name, site, handles, handleVal: identity,
        size: a.fixedOrder !== undefined ? konst(a.fixedOrder) : arg(a.size),
        dir: arg(a.dir), dev: a.dev !== undefined ? key(arg(a.dev) ?? konst(0)) : undefined,
        domain: a.domain !== undefined ? key(arg(a.domain) ?? konst(0)) : undefined,
        iova: a.iova !== undefined ? arg(a.iova) : undefined,
        ret: key(ret), state: 'live', occurrence: occ, seq: st.events.length,
        ownedByContainer: a.ownedByContainer, leaksOnlyOnFailure: a.leaksOnlyOnFailure,
      };
      // Identity taken from an argument the caller can reach (its sg list, its domain): the caller can undo it.
      if (a.handle !== 'ret') {
        const ik = hkey(identity);
        if (CALLER_ROOTED.test(key(identity).replace(UPPER_NAMES, ''))) res.callerObject = 'belongs to an object of the caller';
        else for (const [p, v] of st.mem) if (!p.startsWith('local:') && key(v).includes(ik)) { res.callerObject = `its ${KIND_NAME[a.kind === 'attachment' ? 'domain' : a.kind]} is stored in ${pretty(p)}`; break; }
      }
      st.resources.push(res);
      st.events = st.events.add({ k: 'acquire', site, res: res.id });
      if (a.kind === 'dma-mapping' && !this.o.asHelper) this.noteCpuPointer(res, spec.name, arg, argNode, st, failAt);
      if (a.kind === 'iommu-mapping') this.mapEvent(res, arg, st, site);
    }

    if (spec.releases) this.release(spec, name, site, arg, st, node, ret);

    this.step(st, node, name, raw, result, emuEvents);
    return ret;
  }

  /**
   * What a successful acquisition implies of its values (docs/ownership.md, "Values"): the size
   * mapped is at least 1; dma_map_sg() returned 1..nents; dma_alloc_coherent()'s CPU address and
   * handle are aligned to PAGE_SIZE << get_order(size) (Documentation/core-api/dma-api-howto.rst),
   * and the handle is not 0;
   * alloc_iova()'s range lies below its limit_pfn.
   */
  private impliedFacts(a: import('../model/api').Acquire, arg: (i: number | undefined) => Val | undefined, ret: Val, st: State): void {
    const size = a.size !== undefined ? arg(a.size) : undefined;
    if (size && !isConst(size)) st.addFact(size, a.sizeIsOrder ? { neg: false } : { zero: false, neg: false });
    if (a.kind === 'dma-sg') {
      const n = size && isConst(size) && size.c > 0 ? size.c : undefined;
      st.addFact(ret, { zero: false, neg: false, lo: 1, ...(n !== undefined ? { hi: n } : {}) });
      // One entry mapped is one segment of the entry's length: sg_dma_len(sg) is sg->length
      // (r592's "mapped but shorter than the FIFO" after it checked sg.length does not happen).
      const sg = n === 1 && typeof a.handle === 'object' && 'outArg' in a.handle ? arg(a.handle.outArg) : undefined;
      if (sg && !isConst(sg)) {
        const s0 = asSym(sg);
        const base = this.baseKey(sg, st);
        const len = this.load({ mem: s0?.startsWith('&') ? `${s0.slice(1)}.length` : `${base}->length` }, st);
        st.mem.set(`${base}->dma_length`, len);
      }
    } else if (a.kind === 'coherent') {
      let align = 4096;
      if (size && isConst(size)) while (align < size.c && align < 2 ** 30) align *= 2;
      st.addFact(ret, { align });
      // Nor is the handle 0: dma-iommu's IOVA domain starts at pfn 1 (iommu_dma_init_domain), and
      // a driver that tests `|| dvma == 0` after the allocation tests a case that does not happen.
      st.addFact(sym(`${key(ret)}:handle`), { align, zero: false });
    } else if (a.kind === 'iova' && a.limit !== undefined) {
      const limit = arg(a.limit);
      const hi = limit && isConst(limit) ? limit.c : undefined;
      for (const f of ['pfn_lo', 'pfn_hi']) st.addFact(sym(`${key(ret)}->${f}`), { neg: false, ...(hi !== undefined ? { hi } : {}) });
    }
  }

  /** Store a value through an out-parameter expression (`&priv->dma` or a `dma_addr_t *` variable). */
  private writeThrough(out: SyntaxNode, v: Val, st: State, failAt: number | null): void {
    const s = stripParens(out);
    if (s.type === 'pointer_expression' && s.child(0)?.type === '&') {
      const t = s.childForFieldName('argument');
      if (t) this.store(this.lpath(t, st, failAt), v, st);
      return;
    }
    const pv = this.ev(s, st, failAt);
    const p = { mem: `*${this.baseKey(pv, st)}` };
    this.store(p, v, st);
  }

  private mapEvent(res: Resource, arg: (i: number | undefined) => Val | undefined, st: State, site: SiteRef): void {
    const iova = res.iova ?? konst(0);
    const dmaManaged = res.domain !== undefined && st.dmaDomains.has(res.domain);
    // Is the IOVA one an allocator handed out? (a term that is, or equals, an allocated handle)
    const allocated = (v: Val): boolean => {
      const keys = [key(v), ...v.t.map(([s]) => s), ...v.t.map(([s]) => st.alias.get(s)).filter((x): x is Val => !!x).map(key)];
      return st.resources.some((r) => r !== res && ['iova', 'iova-fast', 'dma-iova', 'dma-mapping', 'coherent', 'dma-sg'].includes(r.kind)
        && r.handles.some((h) => keys.some((k) => k.includes(h))));
    };
    const size = arg(spec_size(res)) ?? res.size;
    st.events = st.events.add({
      k: 'map', site, res: res.id,
      detail: {
        dmaManaged, fromAllocator: allocated(iova), iova: isConst(iova) ? iova.c : undefined,
        size: size && isConst(size) ? size.c : undefined, iovaText: show(iova),
      },
    });
  }

  private release(spec: ApiSpec, name: string, site: SiteRef, arg: (i: number | undefined) => Val | undefined,
    st: State, node: SyntaxNode, ret: Val): void {
    const rel = spec.releases!;
    const h = arg(rel.handle) ?? konst(0);
    const hk = hkey(h);
    const aliasKey = asSym(h) ? st.alias.get(asSym(h)!) : undefined;
    const keys = [hk, ...(aliasKey ? [hkey(aliasKey)] : [])];
    const candidates = st.resources.filter((r) => rel.kinds.includes(r.kind));
    if (rel.range) {
      const size = arg(rel.size);
      const dom = key(arg(rel.domain) ?? konst(0));
      // iommu_unmap() of 0 bytes unmaps nothing (the unwind of a loop's earlier iterations, on the first).
      if (size && isConst(size) && size.c === 0) return;
      let hit = false;
      for (const r of candidates) {
        // A list walk's cursor (`list_for_each_entry_continue_reverse(d, ...)`) may be any domain of
        // the list: the unwind of vfio_iommu_map() undoes the earlier domains' mappings.
        const anyDomain = dom.includes('iter:');
        if (r.state !== 'live' || (r.domain !== undefined && r.domain !== dom && !anyDomain)) continue;
        const start = r.iova ?? konst(0);
        if (provablyEqual(start, h) || keys.includes(hkey(start))) {
          hit = true;
          r.state = 'released';
          r.releasedBy = site;
          const only = candidates.filter((x) => x.state !== 'released' || x === r).filter((x) => x.domain === r.domain).length === 1;
          if (size && r.size && only && this.differ(size, r.size, st)) {
            st.events = st.events.add({ k: 'mismatch', site, res: r.id, detail: { what: 'size', acquired: show(r.size), released: show(size), ret: asSym(ret) } });
          }
        } else {
          const d = sub(start, h);
          const outside = isConst(d) && size && isConst(size) && (d.c < 0 || d.c >= size.c);
          if (!outside) { r.state = 'maybe-released'; r.releasedBy = site; hit = true; }
        }
      }
      if (!hit) this.unknownRelease(st, { site, detail: { handle: hk, kinds: rel.kinds } });
      return;
    }
    let r = candidates.find((x) => x.state === 'live' && x.handles.some((k) => keys.includes(k)));
    if (!r) {
      // The acquired address plus a constant offset: a release of the wrong address.
      const off = candidates.find((x) => x.state === 'live' && provablyDifferent(h, x.handleVal) && !isConst(x.handleVal));
      if (off) {
        r = off;
        r.state = 'released';
        r.releasedBy = site;
        st.events = st.events.add({ k: 'mismatch', site, res: r.id, detail: { what: 'address', acquired: 'the address it returned', released: `that address ${sub(h, r.handleVal).c >= 0 ? '+' : '-'} ${hex(Math.abs(sub(h, r.handleVal).c))}` } });
        return;
      }
    }
    if (!r) {
      // Handed to the release function of another family (dma_unmap_single() on a coherent
      // buffer, __free_iova() on an alloc_iova_fast() pfn): a wrong release, not an unknown one.
      // An IOMMU mapping is named by its IOVA, which its IOVA range shares by design: freeing the
      // range is not a release of the mapping.
      const other = st.resources.find((x) => x.state === 'live' && !rel.kinds.includes(x.kind) && x.kind !== 'iommu-mapping'
        && x.handles[0] !== undefined && keys.includes(x.handles[0]));
      if (other) {
        other.state = 'released';
        other.releasedBy = site;
        st.events = st.events.add({ k: 'wrong-release', site, res: other.id });
        return;
      }
      const twice = candidates.find((x) => x.state === 'released' && x.releasedBy && x.handles.some((k) => keys.includes(k)));
      if (twice && !candidates.some((x) => x.state !== 'released' && x.handles.some((k) => keys.includes(k)))) {
        st.events = st.events.add({ k: 'double-release', site, res: twice.id, detail: { first: twice.releasedBy } });
        return;
      }
    }
    if (!r) {
      const known = candidates.some((x) => x.handles.some((k) => keys.includes(k)));
      if (!known) {
        // Releasing something we cannot name (an array slot indexed by an unknown, a field we never saw
        // written): it may be any live resource of this kind. Stay quiet about them.
        for (const x of candidates) if (x.state === 'live') { x.state = 'maybe-released'; x.releasedBy = site; }
        this.unknownRelease(st, { site, detail: { handle: hk, kinds: rel.kinds } });
      }
      return;
    }
    r.state = 'released';
    r.releasedBy = site;
    r.releasedAfterEscape = isHandedOff(st, r);
    r.relSeq = st.events.length;
    r.relCalls = st.calls;
    st.events = st.events.add({ k: 'release', site, res: r.id });
    const size = rel.fixedOrder !== undefined ? konst(rel.fixedOrder) : arg(rel.size);
    if (size && r.size) {
      if (r.kind === 'dma-sg' && key(size) === r.ret) {
        st.events = st.events.add({ k: 'mismatch', site, res: r.id, detail: { what: 'nents-returned', acquired: show(r.size), released: 'the count dma_map_sg() returned' } });
      } else if (this.differ(size, r.size, st)) {
        st.events = st.events.add({ k: 'mismatch', site, res: r.id, detail: { what: rel.sizeIsOrder ? 'order' : r.kind === 'dma-sg' ? 'nents' : 'size', acquired: show(r.size), released: show(size) } });
      }
    }
    if (rel.dir !== undefined && r.dir) {
      const dir = arg(rel.dir);
      if (dir && isConst(dir) && isConst(r.dir) && dir.c !== r.dir.c) {
        st.events = st.events.add({ k: 'direction', site, res: r.id, detail: { acquired: r.dir.c, released: dir.c } });
      }
    }
    if (rel.alsoHandle !== undefined && r.kind === 'coherent') {
      const dh = arg(rel.alsoHandle);
      const mine = r.handles[1];
      if (dh && mine && isConst(dh) && key(dh) !== mine) {
        st.events = st.events.add({ k: 'mismatch', site, res: r.id, detail: { what: 'dma handle', acquired: 'the handle dma_alloc_coherent() returned', released: show(dh) } });
      }
    }
    void node;
  }

  // ---------------------------------------------------------------- syncs and uses after release

  /**
   * The resource a dma_sync_* names, found by its handle the way release() finds one: the handle
   * itself, a value a branch proved equal to it, or the handle plus an offset (check_sync() looks
   * the entry up by containment, kernel/dma/debug.c bucket_find_contain()). Live ones first.
   */
  private syncTarget(kinds: readonly string[], h: Val, st: State): { r: Resource; offset: Val } | undefined {
    const hk = hkey(h);
    const aliasKey = asSym(h) ? st.alias.get(asSym(h)!) : undefined;
    const keys = [hk, ...(aliasKey ? [hkey(aliasKey)] : [])];
    const candidates = st.resources.filter((r) => kinds.includes(r.kind));
    const find = (ok: (r: Resource) => boolean): { r: Resource; offset: Val } | undefined => {
      const exact = candidates.find((r) => ok(r) && r.handles.some((k) => keys.includes(k)));
      if (exact) return { r: exact, offset: konst(0) };
      // `dma_sync_single_for_cpu(dev, rx->dma + off, len, dir)`: the handle moved by an offset.
      for (const r of candidates) {
        const s = asSym(r.handleVal);
        if (!ok(r) || !s || !h.t.some(([n, c]) => n === s && c === 1)) continue;
        const off = sub(h, r.handleVal);
        if (!off.t.some(([n]) => n === s)) return { r, offset: off };
      }
      return undefined;
    };
    const live = find((r) => r.state === 'live');
    if (live) return live;
    // Released, and nothing else that may still hold it (a mapping made again at the same sg list).
    if (candidates.some((r) => r.state === 'maybe-released' && r.handles.some((k) => keys.includes(k)))) return undefined;
    return find((r) => r.state === 'released' && !!r.releasedBy);
  }

  /**
   * dma_sync_*(): acquires and releases nothing; logs what it syncs of the mapping its handle
   * names, and what kernel/dma/debug.c check_sync() would say of it: an offset + size past the
   * mapped size, an sg entry count other than the nents given to dma_map_sg(), a direction other
   * than the mapping's (not for DMA_BIDIRECTIONAL mappings); and a sync of a released mapping.
   */
  private sync(spec: ApiSpec, site: SiteRef, arg: (i: number | undefined) => Val | undefined, st: State,
    argNode: (i: number) => SyntaxNode | undefined): string {
    const sy = spec.sync!;
    const h = arg(sy.handle);
    // A sync of a handle not found may be of any mapping: a buffer it could be is the CPU's now.
    const unknownSync = () => { if (sy.forCpu) for (const x of st.resources) if (x.cpu && x.state === 'live') x.cpuOwner = 'cpu'; };
    if (!h || isConst(h)) { unknownSync(); return 'ok'; }
    const hit = this.syncTarget(sy.kinds, h, st);
    if (!hit) { unknownSync(); return 'ok (a mapping this function did not make)'; }
    const { r } = hit;
    if (r.cpu && r.state === 'live') {
      // Documentation/core-api/dma-api-howto.rst: _for_cpu gives the buffer to the CPU, _for_device back.
      r.cpuOwner = sy.forCpu ? 'cpu' : 'device';
      r.cpuSince = st.syncable;
      r.lastSync = site;
    }
    const size = arg(sy.size);
    const dir = arg(sy.dir);
    const offset = add(hit.offset, arg(sy.offset) ?? konst(0));
    // The emulator's DMA-API debug runs check_sync() too, where the values are known (the run trace).
    if (!this.o.asHelper && r.kind === 'dma-mapping' && size && dir && isConst(dir) && isConst(offset)) {
      const addr = this.concrete(r.handleVal, st);
      const bytes = isConst(size) ? size.c : r.size && provablyEqual(size, r.size) ? this.conc(r.size, st, 4096) : undefined;
      if (addr !== undefined && bytes !== undefined) {
        try { st.emu.sys.dmaSync(st.emu.device(key(arg(0) ?? konst(0))), addr + offset.c, bytes, dir.c, spec.name); } catch { /* the trace only */ }
      }
    }
    if (r.state === 'released') {
      this.usedAfterRelease(st, site, r, 'sync', {}, argNode(sy.handle));
      return `synced after ${r.releasedBy!.api}() at line ${r.releasedBy!.line + 1} released it`;
    }
    st.events = st.events.add({
      k: 'sync', site, res: r.id,
      detail: { forCpu: sy.forCpu, size: size && show(size), offset: show(offset), dir: dir && isConst(dir) ? dir.c : undefined, mapped: r.size && show(r.size) },
    });
    const problem = (what: string, d: Record<string, unknown>) => {
      st.events = st.events.add({ k: 'sync-problem', site, res: r.id, detail: { what, forCpu: sy.forCpu, ...d } });
    };
    if (r.kind === 'dma-mapping' && size && r.size) {
      // Provably past the end: offset + size - mapped is known positive (exec/bounds.ts).
      const over = sub(add(offset, size), r.size);
      const s = this.signOf(over, st);
      if (s.zero === false && s.neg === false) {
        problem('range', { end: show(add(offset, size)), mapped: show(r.size), offset: show(offset), size: show(size) });
      }
    }
    if (r.kind === 'dma-sg' && size && r.size && this.signOf(sub(size, r.size), st).zero !== true) {
      // check_sync() compares the nents given to dma_map_sg() (sg_call_ents), not what it returned.
      if (key(size) === r.ret) problem('nents-returned', { mapped: show(r.size) });
      else if (this.differ(size, r.size, st)) problem('nents', { mapped: show(r.size), synced: show(size) });
    }
    if (dir && isConst(dir) && r.dir && isConst(r.dir) && r.dir.c !== 0 && dir.c !== r.dir.c) {
      problem('direction', { mapped: r.dir.c, synced: dir.c });
    }
    return 'ok';
  }

  /**
   * A resource this path released whose handle `v` carries (and that nothing live or possibly
   * live carries too: a mapping made again into the same variable or sg list is that one).
   */
  private releasedIn(v: Val, st: State, kindOk: (r: Resource) => boolean, exact = false): Resource | undefined {
    if (isConst(v) || !st.resources.length) return undefined;
    const k = key(v);
    const hk = hkey(v);
    let hit: Resource | undefined;
    for (const r of st.resources) {
      if (!kindOk(r) || !r.handles.some((h) => h === hk || (!exact && carries(k, h)))) continue;
      if (r.state !== 'released' || !r.releasedBy) return undefined;
      hit ??= r;
    }
    return hit;
  }

  /**
   * Log a use of a released resource, when the path surely still has the stale handle there: read
   * from a local (a callee cannot change it; `foo(&dma)` renames it), or from memory no call has
   * been able to write since the release (`ring_refill(r)` may have stored a new mapping in
   * `r->dma`: the analysis does not see into it).
   */
  private usedAfterRelease(st: State, site: SiteRef, r: Resource, use: string, detail: Record<string, unknown> = {}, node?: SyntaxNode | boolean): void {
    const unchanged = r.relCalls !== undefined && r.relCalls === st.calls;
    if (!unchanged && !(node === true || (typeof node === 'object' && this.fromLocal(node, st)))) return;
    st.events = st.events.add({ k: 'use-after-release', site, res: r.id, detail: { use, released: r.releasedBy, ...detail } });
  }

  /** An expression whose value comes from a local variable: `dma`, `(u32)dma`, `lower_32_bits(dma)`, `dma + off`. */
  private fromLocal(node: SyntaxNode, st: State): boolean {
    let n = stripParens(node);
    for (let i = 0; i < 8; i++) {
      if (n.type === 'cast_expression') { const v = n.childForFieldName('value'); if (!v) return false; n = stripParens(v); continue; }
      if (n.type === 'call_expression' && HW_FORMAT.test(n.childForFieldName('function')?.text ?? '')) {
        const a = n.childForFieldName('arguments')?.namedChildren[0];
        if (!a) return false;
        n = stripParens(a);
        continue;
      }
      if (n.type === 'binary_expression' && /^[+-]$/.test(n.child(1)?.type ?? '')) {
        const l = n.childForFieldName('left');
        if (!l) return false;
        n = stripParens(l);
        continue;
      }
      break;
    }
    if (n.type !== 'identifier' || !st.env.has(n.text) || st.aggregates.has(n.text)) return false;
    return asSym(st.env.get(n.text)!) !== 'local:' + n.text;
  }

  /**
   * An API call given what this path released (docs/rules.md use-after-release): iommu_map() or
   * iommu_unmap() on a domain after iommu_domain_free(), a freed struct iova or IOVA range, a
   * freed coherent buffer mapped. Not a second release of the same kind (double-release says
   * that), nor a mapping made again at the same sg list or IOVA (a new resource).
   */
  private apiUseAfterRelease(spec: ApiSpec, site: SiteRef, raw: Val[], argMap: number[] | undefined, argNodes: SyntaxNode[], st: State): void {
    if (!st.resources.some((r) => r.state === 'released')) return;
    const done = new Set<string>();
    raw.forEach((v, j) => {
      const i = argMap ? argMap.indexOf(j) : j;
      const r = this.releasedIn(v, st, (x) => {
        if (!USED_KINDS.has(x.kind) || done.has(x.id)) return false;
        if (spec.releases?.kinds.includes(x.kind)) return false;
        if (spec.sync?.kinds.includes(x.kind)) return false;
        if (spec.acquires?.kind === x.kind) return false;
        return true;
      });
      if (!r) return;
      done.add(r.id);
      this.usedAfterRelease(st, site, r, 'api', { arg: i }, argNodes[j]);
    });
  }

  /** What a statement does with a released handle outside the API: a register write, a descriptor store, a deref. */
  private cur?: SyntaxNode;
  private curSite(api: string): SiteRef | undefined {
    return this.cur ? this.site(this.cur, api) : undefined;
  }

  /**
   * A call outside the API given a released handle where that is surely a use: a register or
   * descriptor write accessor given the bus address as its value (writel(lower_32_bits(dma), reg)),
   * a copy or memset through a freed coherent buffer's CPU pointer. Logging, conversions and
   * unknown callees are not uses (a `%pad` print of the stale handle is fine).
   */
  private callUseAfterRelease(node: SyntaxNode, name: string, args: Val[], argNodes: SyntaxNode[], st: State): void {
    if (WRITE_ACCESSOR.test(name) && args[0]) {
      const r = this.releasedIn(args[0], st, (x) => HW_KINDS.has(x.kind));
      if (r) this.usedAfterRelease(st, this.site(node, name), r, 'register', {}, argNodes[0]);
      return;
    }
    if (COPY.test(name) || /^(memset|memset_io|memcpy_fromio)$/.test(name)) {
      const idx = name === 'memset' || name === 'memset_io' ? [0] : [0, 1];
      for (const i of idx) {
        const r = args[i] && this.releasedIn(args[i], st, (x) => (x.kind === 'coherent' || x.kind === 'pool-block') && x.handles[0] === hkey(args[i]), true);
        if (r) { this.usedAfterRelease(st, this.site(node, name), r, 'deref', { path: `${name}()` }, argNodes[i]); return; }
      }
    }
  }

  /** `desc->addr = cpu_to_le64(dma)` after the unmap: the device is given the stale address. */
  private storeUseAfterRelease(left: SyntaxNode, right: SyntaxNode, p: { env?: string; mem?: string }, v: Val, st: State): void {
    if (p.mem === undefined || p.mem.startsWith('local:') || isConst(v)) return;
    const r0 = stripParens(right);
    const fname = r0.type === 'call_expression' ? r0.childForFieldName('function')?.text ?? '' : '';
    if (!HW_FORMAT.test(fname)) return;
    const r = this.releasedIn(v, st, (x) => HW_KINDS.has(x.kind));
    if (!r) return;
    const stmt = left.parent ?? left;
    this.usedAfterRelease(st, this.site(stmt, fname), r, 'descriptor', { target: left.text.slice(0, 60), conv: fname }, right);
  }

  /**
   * cpu-access-without-sync: the CPU pointer a streaming map was given (dma_map_single()'s `ptr`,
   * dma_map_page()'s `virt_to_page(p)` at `offset_in_page(p)`): the buffer the device owns from now
   * until the unmap, except between a dma_sync_*_for_cpu() and a dma_sync_*_for_device().
   */
  private noteCpuPointer(res: Resource, api: string, arg: (i: number | undefined) => Val | undefined,
    argNode: (i: number) => SyntaxNode | undefined, st: State, failAt: number | null): void {
    let v: Val | undefined;
    if (api === 'dma_map_single' || api === 'dma_map_single_attrs') v = arg(1);
    else if (api === 'dma_map_page' || api === 'dma_map_page_attrs') {
      const pg = argNode(1), off = argNode(2);
      const inner = (n: SyntaxNode | undefined, f: string): SyntaxNode | undefined => {
        const x = n && stripParens(n);
        return x?.type === 'call_expression' && x.childForFieldName('function')?.text === f
          ? x.childForFieldName('arguments')?.namedChildren[0] : undefined;
      };
      const p = inner(pg, 'virt_to_page'), q = inner(off, 'offset_in_page');
      if (p && q && p.text.replace(/\s+/g, '') === q.text.replace(/\s+/g, '')) v = this.ev(p, st, failAt);
    }
    if (!v || isConst(v)) return;
    const a = asSym(v);
    if (a?.startsWith('&')) {
      if (!/[:>.\]]/.test(a)) return;
      res.cpu = { key: a.slice(1), amp: true, off: 0 };
    } else if (v.t.length === 1 && v.t[0][1] === 1 && !v.t[0][0].startsWith('&')) {
      res.cpu = { key: v.t[0][0], amp: false, off: v.c };
    } else return;
    res.cpuOwner = 'device';
    res.cpuSince = st.syncable;
    st.cpuMaps++;
  }

  /**
   * The streaming mapping whose buffer a memory path goes through (`p[i]`, `*p`, `p->f`, `*(p + 4)`,
   * or a member of `&obj` mapped as a whole), with the constant offset of the access from the
   * pointer; the newest mapping of that pointer, whatever its state.
   */
  private cpuTarget(path: string, st: State): { r: Resource; off: number; whole: boolean } | undefined {
    const deref = path.startsWith('*');
    const at = deref ? path.slice(1) : path;
    for (let i = st.resources.length - 1; i >= 0; i--) {
      const r = st.resources[i];
      const c = r.cpu;
      if (!c || !at.startsWith(c.key)) continue;
      const rest = at.slice(c.key.length);
      if (c.amp) {
        if (rest === '') return { r, off: 0, whole: true };
        if (/^(->|\.|\[)/.test(rest)) return { r, off: 0, whole: false };
        continue;
      }
      const m = /^\+(-?\d+)(->|\.|\[|$)/.exec(rest);
      if (!m || (m[2] === '' && !deref)) continue;
      return { r, off: Number(m[1]), whole: false };
    }
    return undefined;
  }

  /** An API call writing its out-parameter (dma_alloc_coherent()'s `&obj->dma`): not a CPU access of the driver's. */
  private apiStore = false;
  /**
   * A load or store through a live streaming buffer the device owns (Documentation/core-api/
   * dma-api-howto.rst, "DMA Direction" and dma_sync_single_for_cpu()): a write in any direction (a
   * bounce buffer was filled, or the cache written back, at the map), a read of a DMA_FROM_DEVICE or
   * DMA_BIDIRECTIONAL buffer (stale data). Not a read of a DMA_TO_DEVICE buffer (harmless on every
   * architecture), nor one whose direction is not known, nor an access after a callee that may
   * have synced it, nor one outside the mapped bytes.
   */
  private cpuAccess(path: string, access: 'read' | 'write', st: State, site?: SiteRef, text?: string, stored?: Val): void {
    if (!st.cpuMaps || this.o.asHelper || this.apiStore) return;
    const hit = this.cpuTarget(path, st);
    if (!hit) return;
    // Reading back what this function wrote there (`scb->phys` after `scb->phys = dma_map_single(...)`):
    // the device wrote nothing the CPU could miss.
    if (access === 'read' && st.mem.has(path)) return;
    // Storing a handle it holds as is (`scb->phys = dma_map_single(dev, scb, ...)`, `a->shared =
    // dma_alloc_coherent(...)`): the driver's own bookkeeping in the object, not data for the device
    // (that goes through cpu_to_le*()).
    const conv = (n: SyntaxNode | null | undefined) => { const x = n && stripParens(n); return x?.type === 'call_expression' && HW_FORMAT.test(x.childForFieldName('function')?.text ?? ''); };
    if (stored && !isConst(stored) && !conv(this.cur?.childForFieldName('right'))) {
      const hk = hkey(stored);
      if (st.resources.some((r) => r.handles.slice(0, 2).includes(hk))) return;
      // ... or what a map or allocation returned on the path where it failed (DMA_MAPPING_ERROR, NULL).
      for (const f of st.fallible.values()) if (f.val === hk) return;
    }
    this.cpuAccessOf(hit, access, st, site, text);
  }

  private cpuAccessOf(hit: { r: Resource; off: number; whole: boolean }, access: 'read' | 'write', st: State, site?: SiteRef, text?: string): void {
    const { r, off, whole } = hit;
    if (r.state !== 'live' || r.cpuOwner !== 'device' || r.cpuSince !== st.syncable || !r.cpu) return;
    // Another mapping of the same pointer that may have been released: it may be this buffer's.
    if (st.resources.some((x) => x !== r && x.cpu?.key === r.cpu!.key && x.state === 'maybe-released')) return;
    if (whole && access === 'read') return;
    if (!r.cpu.amp) {
      if (off < r.cpu.off) return;
      if (r.size && isConst(r.size) && off >= r.cpu.off + r.size.c) return;
    }
    const dir = r.dir && isConst(r.dir) ? r.dir.c : undefined;
    if (access === 'read' && dir !== 0 && dir !== 2) return;
    const s = site ?? this.curSite('cpu-access');
    if (!s || !this.cur) return;
    const t = text ?? this.cur.text.replace(/\s+/g, ' ');
    st.events = st.events.add({ k: 'cpu-access', site: s, res: r.id,
      detail: { access, text: t.length > 60 ? t.slice(0, 57) + '...' : t, dir, sync: r.lastSync } });
  }

  /** memcpy()/memset()/memcmp()... of a streaming buffer the device owns (its pointer, or it plus an offset). */
  private callCpuAccess(node: SyntaxNode, name: string, args: Val[], st: State): void {
    if (this.o.asHelper || !st.resources.some((r) => r.cpu && r.state === 'live' && r.cpuOwner === 'device')) return;
    // Which arguments are written, which read.
    const roles: ('read' | 'write')[] = /^(memset|memzero_explicit)$/.test(name) ? ['write']
      : name === 'memcmp' ? ['read', 'read'] : ['write', 'read'];
    const site = this.site(node, name);
    roles.forEach((role, i) => {
      const v = args[i];
      if (!v || isConst(v)) return;
      const a = asSym(v);
      let hit: { r: Resource; off: number; whole: boolean } | undefined;
      if (a?.startsWith('&')) {
        const h = this.cpuTarget(a.slice(1), st);
        // `&buf->hdr` (a member of the buffer) or `&obj` mapped as a whole.
        if (h) hit = { ...h, whole: false };
        else for (let j = st.resources.length - 1; j >= 0; j--) {
          const r = st.resources[j];
          if (r.cpu?.amp && r.cpu.key === a.slice(1)) { hit = { r, off: 0, whole: false }; break; }
        }
      } else {
        for (let j = st.resources.length - 1; j >= 0 && !hit; j--) {
          const r = st.resources[j];
          const c = r.cpu;
          if (!c || c.amp) continue;
          const t = v.t.find(([n, k]) => n === c.key && k === 1);
          if (!t) continue;
          // The pointer plus an offset: a constant one is checked against the mapped bytes.
          hit = { r, off: v.t.length === 1 ? v.c : c.off, whole: false };
        }
      }
      if (hit) this.cpuAccessOf(hit, role, st, site, node.text.replace(/\s+/g, ' '));
    });
  }

  /** A load or store through a freed coherent buffer's (or pool block's) CPU pointer. */
  private derefAfterRelease(path: string, st: State): void {
    if (!this.cur) return;
    for (const r of st.resources) {
      if (r.state !== 'released' || !r.releasedBy || (r.kind !== 'coherent' && r.kind !== 'pool-block')) continue;
      const h = r.handles[0];
      if (!h) continue;
      const at = path.startsWith('*') ? path.slice(1) : path;
      if (!at.startsWith(h) || !/^(\+0)?(->|\.|\[|$)/.test(at.slice(h.length))) continue;
      if (at === h || at === h + '+0') { if (!path.startsWith('*')) continue; }
      if (st.resources.some((x) => x !== r && x.state !== 'released' && x.handles.includes(h))) continue;
      const site = this.curSite('deref');
      const text = this.cur.text.replace(/\s+/g, ' ');
      // Through a pointer a local still holds (`rsp->status`), or one no callee could have replaced.
      const local = [...st.env.values()].some((v) => hkey(v) === h);
      if (site) this.usedAfterRelease(st, site, r, 'deref', { path: `\`${text.length > 60 ? text.slice(0, 57) + '...' : text}\`` }, local);
      return;
    }
  }

  /** Run the call on the emulator; returns the printable result. */
  private emulate(name: string, spec: ApiSpec, arg: (i: number | undefined) => Val | undefined,
    argNode: (i: number) => SyntaxNode | undefined, ret: Val, st: State): string {
    const e = st.emu;
    const sys = e.sys;
    const rk = key(ret);
    const rs = asSym(ret)!;
    const devOf = (i: number) => e.device(key(arg(i) ?? konst(0)));
    const dirOf = (i: number | undefined) => this.conc(arg(i), st, 0);
    const base = spec.acquires ?? undefined;
    // A constant size the emulator would spend minutes on (iommu_map() of 1 TiB writes every PTE
    // in one call, which no step budget can interrupt): the call is analysed, not emulated.
    const kind0 = spec.acquires?.kind ?? spec.releases?.kinds[0];
    const sizeAt = spec.acquires?.size ?? spec.releases?.size;
    if (sizeAt !== undefined && kind0 !== 'iova' && kind0 !== 'iova-fast' && kind0 !== 'pages' && !spec.acquires?.sizeIsOrder) {
      const v = arg(sizeAt);
      const n = v && isConst(v) ? v.c : undefined;
      if (n !== undefined && Math.abs(n) > EMU_MAX_BYTES) return `not emulated (${hex(n)} bytes: over the emulator's ${EMU_MAX_BYTES / 2 ** 30} GiB per call)`;
    }
    switch (kind0) {
      case 'iova': {
        if (name === 'alloc_iova' || name === 'reserve_iova') {
          const iovad = e.iovad(key(arg(0) ?? konst(0)));
          const r = name === 'alloc_iova'
            ? sys.allocIova(iovad, Math.max(1, this.conc(arg(1), st, 1)), this.conc(arg(2), st, 0xfffff), this.conc(arg(3), st, 0) !== 0)
            : sys.reserveIova(iovad, this.conc(arg(1), st, 0), this.conc(arg(2), st, 0));
          if (!r) return '-> NULL (emulator: no space)';
          e.model.set(rs, 0xffff000000000 + r.pfnLo);
          e.model.set(`${rk}->pfn_lo`, r.pfnLo);
          e.model.set(`${rk}->pfn_hi`, r.pfnHi);
          return `-> iova [pfn ${hex(r.pfnLo)}..${hex(r.pfnHi)}]`;
        }
        const iovad = e.iovad(key(arg(0) ?? konst(0)));
        const h = arg(1) ?? konst(0);
        const pfn = name === 'free_iova' ? this.conc(h, st, 0) : e.model.get(`${key(h)}->pfn_lo`);
        if (pfn !== undefined) sys.freeIova(iovad, pfn);
        return 'ok';
      }
      case 'iova-fast': {
        const iovad = e.iovad(key(arg(0) ?? konst(0)));
        if (name === 'alloc_iova_fast') {
          const pfn = sys.allocIovaFast(iovad, Math.max(1, this.conc(arg(1), st, 1)), this.conc(arg(2), st, 0xfffff), false);
          e.model.set(rs, pfn);
          return `-> pfn ${hex(pfn)}`;
        }
        sys.freeIovaFast(iovad, this.conc(arg(1), st, 0), Math.max(1, this.conc(arg(2), st, 1)));
        return 'ok';
      }
      case 'dma-mapping': {
        if (base) {
          const dev = devOf(0);
          const pa = e.buffer(key(arg(1) ?? konst(0))) + (name.startsWith('dma_map_page') || name === 'skb_frag_dma_map' ? this.conc(arg(2), st, 0) : 0);
          const dma = sys.dmaMap(dev, pa, Math.max(1, this.conc(arg(base.size), st, 4096)), dirOf(base.dir), name);
          e.model.set(rs, dma);
          return `-> dma ${hex(dma)}`;
        }
        const dev = devOf(0);
        sys.dmaUnmap(dev, this.conc(arg(1), st, 0), Math.max(1, this.conc(arg(2), st, 4096)), dirOf(3), name);
        return 'ok';
      }
      case 'dma-sg': {
        const dev = devOf(0);
        if (base) {
          const n = Math.max(1, Math.min(64, this.conc(arg(2), st, 1)));
          const segs = Array.from({ length: n }, (_, i) => ({ paddr: e.buffer(`${key(arg(1) ?? konst(0))}[${i}]`), length: 4096 }));
          const r = sys.dmaMapSg(dev, segs, dirOf(3));
          e.model.set(rs, r.nents);
          if (r.addrs[0] !== undefined) e.model.set(`sg:${key(arg(1) ?? konst(0))}`, r.addrs[0]);
          return `-> ${r.nents} segment(s) at ${r.addrs.slice(0, 4).map(hex).join(', ')}`;
        }
        const first = e.model.get(`sg:${key(arg(1) ?? konst(0))}`);
        if (first !== undefined) sys.dmaUnmapSg(dev, first, Math.max(1, this.conc(arg(2), st, 1)), dirOf(3));
        return 'ok';
      }
      case 'coherent': {
        const dev = devOf(0);
        if (base) {
          const r = sys.dmaAllocCoherent(dev, Math.max(1, this.conc(arg(1), st, 4096)));
          if (!r) return '-> NULL (emulator: out of memory)';
          e.model.set(rs, r.cpu);
          e.model.set(`${rk}:handle`, r.dma);
          return `-> cpu ${hex(r.cpu)}, dma ${hex(r.dma)}`;
        }
        sys.dmaFreeCoherent(dev, Math.max(1, this.conc(arg(1), st, 4096)), this.conc(arg(2), st, 0), this.conc(arg(3), st, 0));
        return 'ok';
      }
      case 'pages': {
        if (base) {
          const order = base.fixedOrder ?? Math.max(0, Math.min(10, this.conc(arg(base.size), st, 0)));
          const pa = sys.allocPages(order);
          e.model.set(rs, pa);
          return pa ? `-> pa ${hex(pa)} (order ${order})` : '-> 0 (emulator: out of memory)';
        }
        const rel = spec.releases!;
        const order = rel.fixedOrder ?? Math.max(0, this.conc(arg(rel.size), st, 0));
        const pa = this.concrete(arg(0) ?? konst(0), st);
        if (pa !== undefined) {
          // Pages an iommu_unmap_fast() took out of a domain whose IOTLB invalidation is still only
          // gathered: the device can reach them through the IOTLB after they are reused (stale-iotlb).
          const stale = pa ? sys.unsyncedAt(pa, 4096 * 2 ** order) : undefined;
          if (stale) st.events = st.events.add({ k: 'stale-iotlb', site: this.lastSite!, detail: { freed: true, pa, iova: stale.iova, size: stale.size, unmapLine: Number(stale.tag), staleIova: stale.iova, staleSize: stale.size } });
          sys.freePages(pa, order);
        }
        return 'ok';
      }
      case 'domain': {
        if (base) {
          const d = sys.domainAlloc('unmanaged');
          if (d === null) return '-> NULL';
          e.setDomain(rk, d);
          return `-> unmanaged domain #${d}`;
        }
        const d = e.domain(key(arg(0) ?? konst(0)));
        sys.domainFree(d);
        return 'ok';
      }
      case 'attachment': {
        const d = e.domain(key(arg(0) ?? konst(0)));
        const dev = devOf(1);
        if (base) {
          const r = sys.attachDevice(d, dev);
          return r === 0 ? '-> 0' : `-> ${r}`;
        }
        sys.detachDevice(d, dev);
        return 'ok';
      }
      case 'iommu-mapping': {
        const d = e.domain(key(arg(0) ?? konst(0)));
        const iovaV = arg(1) ?? konst(0);
        const iova = this.concrete(iovaV, st) ?? e.fixedIova(key(iovaV));
        if (base) {
          const paV = arg(2) ?? konst(0);
          const pa = this.concrete(paV, st) ?? e.buffer(key(paV));
          const size = Math.max(1, this.conc(arg(3), st, 4096));
          // Over a range iommu_unmap_fast() took out whose IOTLB invalidation is still gathered:
          // the device may reach the old pages through the IOTLB (stale-iotlb).
          const stale = sys.unsyncedRanges(d).find((u) => u.iova < iova + size && iova < u.iova + u.size);
          if (stale) st.events = st.events.add({ k: 'stale-iotlb', site: this.lastSite!, detail: { iova, size, unmapLine: Number(stale.tag), staleIova: stale.iova, staleSize: stale.size } });
          const r = sys.map(d, iova, pa, size, this.conc(arg(4), st, 3));
          // The emulator refuses what the kernel refuses. Unknown values are chosen aligned and
          // apart, so a refusal comes from the driver's own constants or a repeated address.
          // Only constants the driver wrote count: a repeated symbolic address may be an artefact
          // of the analysis (two loop iterations it could not tell apart).
          const known = (v: Val | undefined) => !!v && isConst(v);
          const g = e.granule;
          const fromConstants = r === -17 ? known(iovaV)
            : (known(iovaV) && iova % g !== 0) || (known(paV) && pa % g !== 0) || (known(arg(3)) && size % g !== 0);
          if ((r === -22 || r === -17) && fromConstants) {
            st.events = st.events.add({ k: r === -22 ? 'unaligned' : 'overlap', site: this.lastSite!, detail: { iova, pa, size } });
          }
          return r === 0 ? '-> 0' : `-> ${r === -22 ? '-EINVAL' : r === -17 ? '-EEXIST' : r} (emulator)`;
        }
        const usize = Math.max(1, this.conc(arg(2), st, 4096));
        if (name === 'iommu_unmap_fast' && sys.iovaToPhys(d, iova) === 0 && usize % e.granule === 0 && iova % e.granule === 0) {
          // A range this path did not map (its caller did): the emulator maps it first, at pages of
          // its own, so that what the fast unmap leaves in the IOTLB is there to see.
          sys.map(d, iova, e.buffer(`prior:${key(iovaV)}`), usize, 3);
        }
        const n = name === 'iommu_unmap_fast'
          ? sys.unmapFast(d, iova, usize, String(this.lastSite!.line))
          : sys.unmap(d, iova, usize);
        e.model.set(rs, n);
        return `-> ${hex(n)} bytes unmapped`;
      }
      case 'dma-iova': {
        const dev = devOf(0);
        const dom = sys.getDomainForDev(dev);
        const info = dom !== null ? sys.domainInfo(dom) : null;
        if (!info || info.iovad === null) {
          // The device's domain has no IOVA cookie (an UNMANAGED or identity domain attached in
          // its place, or no IOMMU): dma-iommu would dereference a NULL cookie.
          st.events = st.events.add({ k: 'no-cookie', site: this.lastSite!, detail: { domain: info?.type ?? 'none' } });
          // iommu_dma_alloc_iova() reads cookie->iovad first thing: the kernel oopses, and this
          // thread of the kernel runs nothing after it (nor does the path).
          if (!this.o.asHelper) st.oops = { site: this.lastSite!, why: `${this.lastSite!.api}() dereferences the NULL DMA cookie of ${info ? `the ${info.type} domain` : 'a device with no IOMMU domain'}` };
          return '-> Oops (NULL DMA cookie)';
        }
        const shift = Math.log2(e.granule);
        if (base) {
          const size = Math.max(1, this.conc(arg(1), st, 4096));
          const r = sys.allocIova(info.iovad, Math.ceil(size / e.granule), Math.floor(this.conc(arg(2), st, 0xffffffff) / e.granule), true);
          if (!r) return '-> 0 (emulator: no space)';
          e.model.set(rs, r.pfnLo * 2 ** shift);
          return `-> iova ${hex(r.pfnLo * 2 ** shift)}`;
        }
        sys.freeIova(info.iovad, Math.floor(this.conc(arg(1), st, 0) / e.granule));
        return 'ok';
      }
      default:
        return 'ok';
    }
  }

  private step(st: State, node: SyntaxNode, name: string, args: Val[], result: string, extra: { kind: string; text: string }[] = []): void {
    if (this.o.asHelper) return; // nobody reads a helper's trace
    const events = [...extra, ...(st.emu ? st.emu.drain().map((x) => ({ kind: x.kind, text: x.text })) : [])];
    const shown = args.map((a) => {
      const c = this.concrete(a, st);
      return isConst(a) ? show(a) : c !== undefined ? hex(c) : compact(a);
    });
    st.steps = st.steps.add({
      line: node.startPosition.row,
      call: `${name}(${shown.join(', ')})`,
      result,
      values: {},
      events,
      snapshot: this.o.snapshots ? st.steps.length : undefined,
    });
    if (this.o.snapshots) st.snaps = st.snaps.add(st.emu.sys.inspect());
  }
}

function spec_size(res: Resource): number | undefined {
  void res;
  return undefined;
}

function compact(v: Val): string {
  const s = show(v);
  return s.length > 48 ? s.slice(0, 45) + '...' : s;
}

/** `for (;;)`, `while (1)`, `do ... while (true)`. */
function endless(loop: SyntaxNode): boolean {
  if (loop.type === 'for_statement') return !loop.childForFieldName('condition');
  if (loop.type !== 'while_statement' && loop.type !== 'do_statement') return false;
  const c = loop.childForFieldName('condition');
  return !!c && /^\(\s*(1|true)\s*\)$/.test(c.text);
}

/** A call in an unwind ladder: under a goto label, or after one in the same block. */
/** A statement that releases something the function set up: `kfree(x)`, `free_irq()`, `dma_release_channel()`. */
const RELEASING_CALL = /\b\w*(free|release|put|destroy|unregister|unref|disable|unprepare|unmap|deinit|uninit|cleanup|teardown|dealloc|detach|del)\w*\s*\(/i;

/** A function whose name says it tears an object down, and the words that say so. */
const TEARDOWN_NAME = /(^|_)(free|release|destroy|cleanup|teardown|uninit|deinit|fini|dealloc)(_|s?$)/;
const TEARDOWN_WORD = /^(free|release|destroy|cleanup|teardown|uninit|deinit|fini|dealloc|rsrc|res|resources?|mem|all|dma)$/;

/** The largest size one emulated call maps (bytes): 2^20 PTEs of 4 KiB. */
const EMU_MAX_BYTES = 4 * 2 ** 30;

/** A call whose value nobody uses: `f(x);`, `(void)f(x);`. */
function discardedResult(node: SyntaxNode): boolean {
  let p = node.parent;
  while (p && (p.type === 'parenthesized_expression' || p.type === 'cast_expression')) p = p.parent;
  return p?.type === 'expression_statement';
}

/** Printing: it reads the pointers it is given (`%pad`, `%pa`), it does not write through them. */
const PRINTING = /^(dev_(err|warn|info|dbg|notice|crit|alert|emerg|printk|vdbg)\w*|pr_\w+|printk\w*|netdev_(err|warn|info|dbg|notice)\w*|netif_(err|warn|info|dbg|notice)\w*|trace_\w+|print_hex_dump\w*|seq_printf|\w+_(dbg|err|info|warn|notice|printk|debug|log))$/;

/** A callee we cannot see whose name says it stores what it is given: `mwifiex_store_mapping`. */
const STORING_NAME = /(^|_)(store|save|stash|record|remember|attach|push|enqueue|insert)(_|$)/;

/** A helper whose name says it undoes something: `foo_free_rings`, `bar_unmap`, `baz_cleanup`. */
/**
 * A call whose failure is not a path of the function: `__GFP_NOFAIL` (the allocator loops until it
 * succeeds, include/linux/gfp_types.h); a reservation whose result is thrown away
 * (iova_reserve_pci_windows: best effort, not unchecked use); a streaming map whose address nobody
 * keeps (`dma_map_single(dev, skb->data, len, dir);`, a cache flush in disguise:
 * emac_recycle_rx_skb): no bus address is used, checked or not, and nothing can test the failure,
 * so no failure is injected there (1,000 of them in a row made 1,000 forks of every live resource).
 */
function neverFails(spec: ApiSpec, node: SyntaxNode): boolean {
  if ((spec.failure === 'null' || spec.failure === 'zero') && (node.childForFieldName('arguments')?.text ?? '').includes('__GFP_NOFAIL')) return true;
  return discardedResult(node) && (!!spec.acquires?.ownedByContainer || spec.acquires?.kind === 'dma-mapping');
}

const CLEANUP_NAME = /(^|_)(free|unmap|release|cleanup|clean|destroy|teardown|deinit|uninit|fini|exit|put|dealloc|remove|unprepare|undo|drop)(_|$|s_|s$)/i;

function underLabel(node: SyntaxNode): boolean {
  for (let n: SyntaxNode | null = node; n && n.type !== 'function_definition'; n = n.parent) {
    if (n.type === 'labeled_statement') return true;
    const p: SyntaxNode | null = n.parent;
    if (p?.type === 'compound_statement') {
      for (const c of p.namedChildren as SyntaxNode[]) {
        if (c === n || c.startIndex >= n.startIndex) break;
        if (c.type === 'labeled_statement') return true;
      }
    }
  }
  return false;
}

/** `(dma_addr_t)iova << shift`, `pfn * PAGE_SIZE`: zero exactly when the result is, so returning it hands the check on. */
function zeroPreserving(v: Val, name: string): boolean {
  if (v.c === 0 && v.t.length === 1 && v.t[0][0] === name) return true;
  const s = asSym(v);
  return s !== undefined && s.startsWith('<<(') && s.slice(3).startsWith(name);
}

/** How a handle is named for matching: a lone symbol by its name, anything else by its key. */
function hkey(v: Val): string {
  return asSym(v) ?? key(v);
}

export function parseNumber(text: string): number {
  const t = text.replace(/[uUlL]+$/, '');
  // A hex float (`0x1p3`, C99) is not an integer: its value as a double.
  if (/^0[xX][0-9a-fA-F]*\.?[0-9a-fA-F]*[pP]/.test(t) || /^0[xX][0-9a-fA-F]*\./.test(t)) return Math.trunc(hexFloat(t));
  if (/^0[xX][0-9a-fA-F]+$/.test(t)) return Number(BigInt(t) & 0x1fffffffffffffn);
  if (/^0[xX]/.test(t)) return 0;
  if (/^0[bB]/.test(t)) return parseInt(t.slice(2), 2);
  if (/^0[0-7]+$/.test(t)) return parseInt(t, 8);
  const n = Number(t);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

function hexFloat(t: string): number {
  const m = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?/.exec(t);
  if (!m) return 0;
  const mant = parseInt((m[1] || '0') + (m[2] ?? ''), 16) / 16 ** (m[2]?.length ?? 0);
  const v = mant * 2 ** Number(m[3] ?? 0);
  return Number.isFinite(v) ? v : 0;
}

export { KIND_NAME, declaratorName };

/**
 * The place an address names: `&x->f`, and an element's address moved by a constant
 * (`tnapi = &tp->napi[0]; tnapi++;` is `&tp->napi[1]`), as C's pointer arithmetic counts.
 */
function addressOf(v: Val): string | undefined {
  const s = asSym(v);
  if (s) return s.startsWith('&') ? s : undefined;
  if (v.t.length !== 1 || v.t[0][1] !== 1 || !v.t[0][0].startsWith('&')) return undefined;
  const m = /^(.*)\[(-?\d+)\]$/.exec(v.t[0][0]);
  return m ? `${m[1]}[${Number(m[2]) + v.c}]` : undefined;
}
