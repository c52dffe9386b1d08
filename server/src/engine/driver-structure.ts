/**
 * The driver structure of one file (rule `unreleased-at-remove`): which teardown function the
 * driver core (or the network stack, or the VFS) calls for an entry point the file installs,
 * and what that teardown and the file's functions it reaches release, by kind and by the field
 * names its release calls name.
 *
 * - The teardown of an entry point comes from the same initialiser that names it: `.probe =`
 *   pairs with `.remove =` / `.remove_new =` (platform, pci, i2c, spi, usb... drivers),
 *   `.ndo_open =` with `.ndo_stop =`, a file_operations `.open =` with `.release =` (or `.close =`).
 *   No such initialiser, or none naming a teardown: no teardown is known (it may be in another file).
 * - The closure: the teardown, the file's functions it calls (transitively, with a cycle guard),
 *   a netdev's `.ndo_uninit` when the closure unregisters the netdev, the file's functions the
 *   entry point hands over as callbacks (`devm_add_action_or_reset(dev, foo_free, priv)`), and the
 *   file's release-like callbacks assigned anywhere (`card->private_free = foo_free`).
 * - A release call's handle arguments give the field names it releases (`dma_free_coherent(dev,
 *   sz, priv->rx_buf, priv->rx_dma)` gives `rx_buf`, `rx_dma`; `r->desc` in a loop gives `desc`),
 *   through a local copy (`buf = priv->buf`) or a helper's parameter (the caller's argument);
 *   one whose handle is none of those releases its kind under any name (`*`).
 * - A function of another file that may tear the object down (named like a release: `_free`,
 *   `_cleanup`, `_deinit`..., but not a register accessor or a core function known to free no DMA
 *   memory of the driver's) given a non-constant argument, or a release-like callback through a
 *   pointer (`priv->ops->cleanup(priv)`), makes the closure `opaque`: what it releases is
 *   unknown, so nothing is concluded.
 *
 * The scan reads the file as written (`whole`), bodies found lexically, so a teardown that a
 * focused parse blanked (it names no API) is still read. A name never stands in for a body.
 */
import { createHash } from 'node:crypto';
import { codeOnly, callArgs } from '../parse/lex';
import { lookupApi } from '../model/api';

export interface TeardownInfo {
  /** The ops field of the entry point (`probe`, `ndo_open`, `open`). */
  entryField: string;
  /** The teardown functions the initialiser names (`foo_remove`). */
  roots: string[];
  /** Every function of the file read for the closure, in the order read. */
  functions: string[];
  /** Where each function read starts (0-based line of its name), for related information. */
  lines: Map<string, { line: number; col: number; len: number }>;
  /** By resource kind: the field names released, or '*' (released under a name not known). */
  released: Map<string, Set<string> | '*'>;
  /** A function of another file given the object in the teardown: what it releases is unknown. */
  opaque?: string;
  /** A stable digest of all the above: part of the entry point's cache key. */
  digest: string;
}

const TEARDOWN_OF: Record<string, RegExp> = {
  probe: /\.\s*(remove_new|remove)\s*=\s*&?([A-Za-z_]\w*)/g,
  ndo_open: /\.\s*(ndo_stop)\s*=\s*&?([A-Za-z_]\w*)/g,
  open: /\.\s*(release|close)\s*=\s*&?([A-Za-z_]\w*)/g,
};

const KEYWORDS = new Set(['if', 'for', 'while', 'switch', 'return', 'sizeof', 'do', 'else', 'case', 'goto', 'typeof', '__typeof__', 'defined', 'offsetof', 'container_of', 'list_entry', 'ARRAY_SIZE', 'BIT', 'min', 'max', 'min_t', 'max_t']);

/** Other files' functions that may release what the object holds. */
const RELEASE_LIKE = /(free|release|put|destroy|unref|cleanup|teardown|uninit|fini|deinit|remove|unmap|dealloc|unprepare|shutdown|exit)/i;
/**
 * Core functions a teardown calls that free nothing the driver allocated with the DMA API:
 * plain memory, IRQs, regions, clocks, runtime PM, registrations, sysfs/debugfs, workqueues...
 */
const CORE_NOT_DMA = /^(kv?free|kfree_sensitive|vfree|devm_\w+|kmem_cache_free|free_netdev|(dev_)?kfree_skb\w*|(dev_|napi_)?consume_skb\w*|free_irq|pci_free_irq\w*|pci_release_\w+|pci_disable_\w+|pci_iounmap|pcim_\w+|iounmap|release_mem_region|release_region|release_firmware|(of_|fwnode_)?\w*node_put|put_device|device_remove_\w+|sysfs_remove_\w+|debugfs_remove\w*|misc_deregister|\w*unregister\w*|clk_\w+|regulator_\w+|reset_control_\w+|pm_runtime_\w+|destroy_workqueue|mutex_destroy|ida_\w+|idr_\w+|gpiod?_\w+|phy_\w+|free_percpu|kthread_\w+|tasklet_\w+|netif_\w+|napi_\w+|dev_pm_\w+|irq_\w+|ioport_unmap|platform_device_put|i2c_put_adapter|input_free_device|bitmap_free|free_page|free_pages|__free_page|put_page|dma_release_channel|dmaengine_\w+|dma_pool_destroy|dma_\w+|iommu_\w+|of_reserved_mem_device_release|mbox_free_channel|cdev_del|class_destroy|device_destroy|remove_proc_entry|flush_\w+|cancel_\w+|del_timer\w*|timer_\w+|synchronize_\w+|sg_free_table|v4l2_\w+|video_unregister_device|media_\w+|snd_\w+|usb_free_\w+|usb_put_\w+|spi_\w+|mtd_\w+|nand_\w+|scsi_\w+|led_\w+|hwmon_\w+|thermal_\w+|input_\w+|rfkill_\w+|fput|mmput|module_put|sk_free|ptp_clock_unregister)$/;

/** Release-like names that are accessors or free no DMA memory of the driver's (register writes, framework hosts, memory). */
const NOT_RELEASING = /(^|_)(read|write|writel|readl|write\d+|read\d+|clr|set|get)[bwlq]?(\d+)?$|_remove_host$|_free_hw$|^mdiobus_free$|^of_iounmap$|^fb_dealloc_cmap$|^dev_put$|^kunmap\w*$|^crypto_free_\w+$|^video_device_release\w*$|^usb_remove_hcd$|^phy_\w+$|^free_mdio_bitbang$|^dcr_unmap$|^memstick_remove_host$|^put_\w+$|^\w+_put_\w+$/;

interface Def { start: number; bodyStart: number; end: number; params: string[]; line: number; col: number }

/** Per file text: every driver structure read from it (the same text is analysed again on each keystroke elsewhere). */
export class DriverStructure {
  private code: string;
  private cache = new Map<string, TeardownInfo | null>();
  private releaseCallbacks?: string[];

  constructor(whole: string) {
    this.code = codeOnly(whole);
  }

  /** The teardown closure of `entry` installed as `field` (`probe`, `ndo_open`, `open`), if the file names one. */
  teardownFor(entry: string, field: string): TeardownInfo | undefined {
    const key = `${field}|${entry}`;
    if (this.cache.has(key)) return this.cache.get(key) ?? undefined;
    const info = this.compute(entry, field);
    this.cache.set(key, info ?? null);
    return info;
  }

  private compute(entry: string, field: string): TeardownInfo | undefined {
    const pair = TEARDOWN_OF[field];
    if (!pair) return undefined;
    const roots = new Set<string>();
    const at = new RegExp(`\\.\\s*${field}\\s*=\\s*&?${entry}\\b`, 'g');
    for (const m of this.code.matchAll(at)) {
      const blk = this.enclosingBraces(m.index!);
      if (!blk) continue;
      const init = this.code.slice(blk[0], blk[1]);
      for (const t of init.matchAll(new RegExp(pair.source, 'g'))) if (this.def(t[2])) roots.add(t[2]);
    }
    if (roots.size === 0) return undefined;
    const info: TeardownInfo = { entryField: field, roots: [...roots], functions: [], lines: new Map(), released: new Map(), digest: '' };
    const visit = this.closure(info);
    for (const r of roots) visit(r, new Map(), 0);
    // unregister_netdev() runs ndo_uninit.
    if (info.functions.some((f) => /\bunregister_(netdev|netdevice|candev)\s*\(|\bfree_netdev\s*\(/.test(this.bodyOf(f)))) {
      for (const m of this.code.matchAll(/\.\s*ndo_uninit\s*=\s*&?([A-Za-z_]\w*)/g)) visit(m[1], new Map(), 1);
    }
    // Callbacks the entry point hands over (devm_add_action_or_reset(dev, foo_free, priv)),
    // and release-like callbacks assigned anywhere in the file (card->private_free = foo_free).
    const ed = this.def(entry);
    if (ed) {
      const body = this.code.slice(ed.bodyStart, ed.end);
      for (const m of body.matchAll(/\b(devm_add_action(?:_or_reset)?|devres_alloc)\s*\(/g)) {
        for (const a of callArgs(body, m.index! + m[0].length - 1)) {
          const n = /^&?\s*([A-Za-z_]\w*)$/.exec(a.trim())?.[1];
          if (n && n !== entry && this.def(n)) visit(n, new Map(), 1);
        }
      }
    }
    for (const cb of this.callbacks()) visit(cb, new Map(), 1);
    info.digest = createHash('sha1').update(JSON.stringify([info.roots, info.functions, [...info.lines],
      [...info.released].map(([k, v]) => [k, v === '*' ? '*' : [...v].sort()]), info.opaque ?? ''])).digest('base64');
    return info;
  }

  /**
   * What an entry point releases itself, and the file's functions it reaches (the same scan as a
   * teardown's, from the entry): a helper's buffer the entry frees again is no teardown's business.
   */
  releasedFrom(entry: string): Map<string, Set<string> | '*'> {
    const info: TeardownInfo = { entryField: '', roots: [entry], functions: [], lines: new Map(), released: new Map(), digest: '' };
    const d = this.def(entry);
    if (d) this.closure(info)(entry, new Map(), 0, successText(this.code.slice(d.bodyStart, d.end)));
    return info.released;
  }

  /**
   * A visitor that reads a function and the file's functions it reaches (six deep) into `info`:
   * what they release, in the terms of the parameters they were given. `text` replaces the first
   * function's body (the part of it that is read).
   */
  private closure(info: TeardownInfo): (name: string, bind: Map<string, string[] | '*'>, depth: number, text?: string) => void {
    const seen = new Set<string>();
    const visit = (name: string, bind: Map<string, string[] | '*'>, depth: number, text?: string) => {
      if (seen.has(name) || depth > 6) return;
      const d = this.def(name);
      if (!d) return;
      seen.add(name);
      info.functions.push(name);
      info.lines.set(name, { line: d.line, col: d.col, len: name.length });
      this.scan(name, d, bind, info, (callee, b) => visit(callee, b, depth + 1), text);
    };
    return visit;
  }

  private calleeSets = new Map<string, Set<string>>();
  /** The file's functions the body of `name` calls by name. */
  callees(name: string): Set<string> {
    let out = this.calleeSets.get(name);
    if (out) return out;
    out = new Set<string>();
    for (const m of this.bodyOf(name).matchAll(/\b([A-Za-z_]\w*)\s*\(/g)) if (m[1] !== name && this.def(m[1])) out.add(m[1]);
    this.calleeSets.set(name, out);
    return out;
  }

  /** File functions assigned to a release-like member (`->private_free = foo_free`, `.release = foo_release`). */
  private callbacks(): string[] {
    if (this.releaseCallbacks) return this.releaseCallbacks;
    const out = new Set<string>();
    for (const m of this.code.matchAll(/(?:->|\.)\s*(\w*(?:free|release|destroy|cleanup|uninit|teardown|exit|dtor|destructor)\w*)\s*=\s*&?([A-Za-z_]\w*)\s*[;,}]/gi)) {
      if (this.def(m[2])) out.add(m[2]);
    }
    return (this.releaseCallbacks = [...out]);
  }

  private bodyOf(name: string): string {
    const d = this.def(name);
    return d ? this.code.slice(d.bodyStart, d.end) : '';
  }

  /** The releases and calls of one function's body. */
  private scan(name: string, d: Def, bind: Map<string, string[] | '*'>, info: TeardownInfo,
    call: (callee: string, bind: Map<string, string[] | '*'>) => void, text?: string): void {
    const body = text ?? this.code.slice(d.bodyStart, d.end);
    const add = (kind: string, f: string[] | '*') => {
      const cur = info.released.get(kind);
      if (cur === '*') return;
      if (f === '*' || f.length === 0) { info.released.set(kind, '*'); return; }
      if (!cur) info.released.set(kind, new Set(f)); else for (const x of f) cur.add(x);
    };
    // The field names an argument names: its own last member, a local copied from a member, a parameter's binding.
    const aggregate = (id: string, depth: number): string[] => {
      const init = new RegExp(`(?<![\\w.>])${id}\\s*(\\[[^\\]]*\\]\\s*)*=\\s*\\{`).exec(body);
      if (init) {
        let b = 0, j = init.index + init[0].length - 1;
        const from = j;
        for (; j < body.length; j++) { if (body[j] === '{') b++; else if (body[j] === '}' && --b === 0) break; }
        return [...body.slice(from, j).matchAll(/(?:->|\.)\s*([A-Za-z_]\w*)/g)].map((m) => m[1]);
      }
      if (depth >= 2) return [];
      const out: string[] = [];
      for (const m of body.matchAll(new RegExp(`(?<![\\w.>])${id}\\s*=(?!=)\\s*&?\\s*([A-Za-z_]\\w*)\\s*[;,)]`, 'g'))) out.push(...aggregate(m[1], depth + 1));
      return out;
    };
    const fieldsOf = (arg: string, depth = 0): string[] | '*' => {
      const a = stripCasts(arg);
      const mem = lastMember(a);
      if (mem) {
        // A local table of copies (`struct { void *addr; dma_addr_t dma; } map[] = { { dev->d_i2c.cpu_addr,
        // dev->d_i2c.dma_handle }, ... }` walked by `p->addr`): the members its initialiser names too.
        const base = /^&?\s*([A-Za-z_]\w*)\s*(->|\.|\[)/.exec(a)?.[1];
        return base && !d.params.includes(base) ? [mem, ...aggregate(base, 0)] : [mem];
      }
      const id = /^&?\s*([A-Za-z_]\w*)$/.exec(a)?.[1];
      if (!id) return '*';
      const b = bind.get(id);
      if (b) return b;
      if (depth < 3) {
        const out: string[] = [];
        for (const m of body.matchAll(new RegExp(`(?<![\\w.>])${id}\\s*=(?!=)\\s*([^;]+);`, 'g'))) {
          const f = fieldsOf(m[1], depth + 1);
          if (f === '*') return '*';
          out.push(...f);
        }
        if (out.length) return out;
      }
      return '*';
    };
    for (const m of body.matchAll(/([A-Za-z_]\w*)\s*\(/g)) {
      const callee = m[1];
      if (KEYWORDS.has(callee)) continue;
      const before = body.slice(Math.max(0, m.index! - 3), m.index!);
      const member = /(->|\.)\s*$/.test(before);
      const args = callArgs(body, m.index! + m[0].length - 1);
      if (member) {
        // priv->ops->cleanup(priv): what it releases is unknown.
        if (RELEASE_LIKE.test(callee) && args.some((x) => !isConstArg(x))) info.opaque ??= callee;
        continue;
      }
      // A callback of the file given to a call (kref_put(&p->ref, foo_release)): it runs now or later.
      let cb = false;
      for (const a of args) {
        const n = /^&?\s*([A-Za-z_]\w*)$/.exec(a.trim())?.[1];
        if (n && n !== name && this.def(n)) { cb = true; call(n, new Map()); }
      }
      const api = lookupApi(callee, {});
      if (api?.spec.releases) {
        const rel = api.spec.releases;
        const idx = [rel.handle, rel.alsoHandle].filter((i): i is number => i !== undefined);
        const fields: string[] = [];
        let any = false;
        for (const i of idx) {
          if (args[i] === undefined) continue;
          const f = fieldsOf(args[i]);
          if (f === '*') any = true; else fields.push(...f);
        }
        for (const k of rel.kinds) add(k, any || fields.length === 0 ? '*' : fields);
        continue;
      }
      if (api) continue;
      const cd = this.def(callee);
      if (cd) {
        if (callee === name) continue;
        const nb = new Map<string, string[] | '*'>();
        cd.params.forEach((p, i) => { if (p && args[i] !== undefined) nb.set(p, fieldsOf(args[i])); });
        call(callee, nb);
        continue;
      }
      if (cb || CORE_NOT_DMA.test(callee)) continue;
      if (RELEASE_LIKE.test(callee) && !NOT_RELEASING.test(callee) && args.some((x) => !isConstArg(x))) info.opaque ??= callee;
    }
  }

  /** The `{ ... }` that holds offset `at` (an initialiser), as [start, end). */
  private enclosingBraces(at: number): [number, number] | undefined {
    let depth = 0;
    let start = -1;
    for (let i = at; i >= 0; i--) {
      const c = this.code[i];
      if (c === '}') depth++;
      else if (c === '{') { if (depth === 0) { start = i; break; } depth--; }
    }
    if (start < 0) return undefined;
    depth = 0;
    for (let j = start; j < this.code.length; j++) {
      const c = this.code[j];
      if (c === '{') depth++;
      else if (c === '}' && --depth === 0) return [start, j + 1];
    }
    return undefined;
  }

  private index?: Map<string, Def>;
  /** A function's definition in the file, found lexically (the last one: prototypes end with `;`). */
  private def(name: string): Def | undefined {
    if (!this.index) this.index = this.definitions();
    return this.index.get(name);
  }

  /** Every top-level function definition of the file, by one scan. */
  private definitions(): Map<string, Def> {
    const out = new Map<string, Def>();
    const code = this.code;
    let line = 0, lineAt = 0;
    for (const m of code.matchAll(/([A-Za-z_]\w*)\s*\(/g)) {
      const nameAt = m.index!;
      const name = m[1];
      if (KEYWORDS.has(name)) continue;
      // At the top level: the line starts a declaration (no indentation before the type).
      const ls = code.lastIndexOf('\n', nameAt) + 1;
      const head = code.slice(ls, nameAt);
      if (head !== '' && /^\s/.test(head)) continue;
      if (/[=;,(){}.>]/.test(head) || /\breturn\b/.test(head)) continue;
      const open = nameAt + m[0].length - 1;
      let depth = 0, j = open;
      for (; j < code.length; j++) {
        const c = code[j];
        if (c === '(') depth++;
        else if (c === ')' && --depth === 0) break;
        else if (c === '{' || c === ';') break;
      }
      if (code[j] !== ')') continue;
      const after = /^\s*\{/.exec(code.slice(j + 1, j + 200));
      if (!after) continue;
      const bodyStart = j + 1 + after[0].length - 1;
      let b = 0, k = bodyStart;
      for (; k < code.length; k++) {
        const c = code[k];
        if (c === '{') b++;
        else if (c === '}' && --b === 0) break;
      }
      const params = callArgs(code, open).map((p) => /([A-Za-z_]\w*)\s*(\[[^\]]*\])?\s*$/.exec(p.trim())?.[1] ?? '');
      for (let i = code.indexOf('\n', lineAt); i >= 0 && i < nameAt; i = code.indexOf('\n', i + 1)) { line++; lineAt = i + 1; }
      out.set(name, { start: ls, bodyStart, end: k + 1, params: params.length === 1 && params[0] === 'void' ? [] : params, line, col: nameAt - ls });
    }
    return out;
  }
}


function stripCasts(a: string): string {
  let s = a.trim();
  for (let i = 0; i < 4; i++) {
    const t = s.replace(/^\(\s*(const\s+|struct\s+|unsigned\s+)?[A-Za-z_]\w*(\s+\w+)?\s*\**\s*\)\s*/, '').trim();
    if (t === s) break;
    s = t;
  }
  // (priv->buf) -> priv->buf
  while (/^\(.*\)$/.test(s) && balanced(s.slice(1, -1))) s = s.slice(1, -1).trim();
  return s;
}

function balanced(s: string): boolean {
  let d = 0;
  for (const c of s) { if (c === '(') d++; else if (c === ')' && --d < 0) return false; }
  return d === 0;
}

/** `priv->ring[i].desc` -> `desc`; `&priv->rx_dma` -> `rx_dma`; `p + 4` -> undefined. */
/**
 * The part of a function body its success path runs, roughly: up to its first goto label, without
 * the `if (...)` branches that leave by a goto or a return of something other than 0 (error exits).
 */
export function successText(body: string): string {
  const label = /\n[ \t]*(?!default\b)([A-Za-z_]\w*)[ \t]*:(?!:)/.exec(body);
  let t = label ? body.slice(0, label.index) : body;
  const out: string[] = [];
  let i = 0;
  for (const m of t.matchAll(/\bif\s*\(/g)) {
    if (m.index! < i) continue;
    let j = m.index! + m[0].length, depth = 1;
    for (; j < t.length && depth > 0; j++) { if (t[j] === '(') depth++; else if (t[j] === ')') depth--; }
    while (j < t.length && /\s/.test(t[j])) j++;
    let end = j;
    if (t[j] === '{') {
      let b = 0;
      for (; end < t.length; end++) { if (t[end] === '{') b++; else if (t[end] === '}' && --b === 0) { end++; break; } }
    } else {
      end = t.indexOf(';', j);
      end = end < 0 ? t.length : end + 1;
    }
    const branch = t.slice(j, end);
    if (/\bgoto\b|\breturn\b(?!\s*0\s*;)/.test(branch)) { out.push(t.slice(i, m.index!)); i = end; }
  }
  out.push(t.slice(i));
  return out.join(' ');
}

export function lastMember(a: string): string | undefined {
  const s = a.replace(/\[[^\]]*\]/g, '').trim();
  return /(?:->|\.)\s*([A-Za-z_]\w*)\s*$/.exec(s)?.[1];
}

function isConstArg(a: string): boolean {
  const t = a.trim();
  return t === '' || /^(-?\d\w*|NULL|true|false|[A-Z][A-Z0-9_]*)$/.test(t) || /^"/.test(t);
}
