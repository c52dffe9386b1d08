/**
 * The IOVA allocator of drivers/iommu/iova.c (Linux 6.12): a tree of allocated
 * [pfn_lo, pfn_hi] ranges searched top-down from limit_pfn, with the cached-node
 * and max32_alloc_size shortcuts that decide which pfns come out, and the per-size
 * range caches ("rcaches") of alloc_iova_fast/free_iova_fast.
 *
 * The rbtree is a persistent ordered map keyed by pfn_lo; a tree node is named by
 * its pfn_lo (live ranges never share one), so cached_node/cached32_node are keys.
 * The search only depends on the order of ranges, never on the tree's shape, so
 * the same call sequence hands out the same pfns as the kernel.
 *
 * One CPU is modelled: each size class has one cpu_rcache (loaded, prev) and the
 * global depot. The depot trimming work (iova_depot_work_func, run 100 ms after a
 * push) is not modelled because the emulator has no clock; a depot keeps every
 * magazine pushed to it until flushed.
 */
import { EventLog, hex } from './events';
import { Ctx, PMap } from './pmap';

/** The anchor node sits above the top of the usable address space. */
export const IOVA_ANCHOR = Number.MAX_SAFE_INTEGER;
/** log of max cached IOVA range size (in pages) */
export const IOVA_RANGE_CACHE_MAX_SIZE = 6;
/** pfns per magazine (1024-byte magazine on 64-bit) */
export const IOVA_MAG_SIZE = 127;

export interface IovaRange {
  pfnLo: number;
  pfnHi: number;
}

/** fls_long(): 1-based index of the most significant set bit, 0 for 0. */
export function flsLong(x: number): number {
  let n = 0;
  while (x >= 1) {
    x = Math.floor(x / 2);
    n++;
  }
  return n;
}

/** order_base_2(): ceil(log2(n)), 0 for n <= 1. */
export function orderBase2(n: number): number {
  return n <= 1 ? 0 : flsLong(n - 1);
}

/** roundup_pow_of_two() */
export function roundupPowOfTwo(n: number): number {
  return 2 ** orderBase2(n);
}

interface Magazine {
  o: number;
  size: number;
  pfns: number[];
}

interface Depot {
  mag: Magazine;
  next: Depot | null;
}

interface Rcache {
  o: number;
  loaded: Magazine;
  prev: Magazine;
  depot: Depot | null;
  depotSize: number;
}

function newMag(tok: number): Magazine {
  return { o: tok, size: 0, pfns: [] };
}

/**
 * struct iova_domain. Construct with the arguments of init_iova_domain(); the
 * rcaches are initialised as iova_domain_init_rcaches() does.
 */
export class IovaDomain {
  readonly shift: number;
  readonly dma32bitPfn: number;
  private tree: PMap<number>;
  cachedNode = IOVA_ANCHOR;
  cached32Node = IOVA_ANCHOR;
  max32AllocSize: number;
  private rcaches: Rcache[];
  /** pfn -> log size of ranges sitting in an rcache (for double-free reports). */
  private cachedPfns: PMap<number>;

  /**
   * init_iova_domain(). Throws RangeError when granule is not a power of two
   * (the kernel's BUG_ON).
   */
  constructor(
    public ctx: Ctx,
    readonly granule: number,
    readonly startPfn: number,
    public log: EventLog = new EventLog(),
    readonly id = 0,
    blank = false,
  ) {
    if (!(granule > 0 && (granule & (granule - 1)) === 0)) throw new RangeError(`init_iova_domain: granule ${granule} is not a power of two`);
    this.shift = flsLong(granule) - 1;
    this.dma32bitPfn = 2 ** (32 - this.shift);
    this.max32AllocSize = this.dma32bitPfn;
    this.tree = new PMap<number>(ctx);
    this.cachedPfns = new PMap<number>(ctx);
    this.rcaches = [];
    if (!blank) {
      this.tree.set(IOVA_ANCHOR, IOVA_ANCHOR);
      for (let i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++) {
        this.rcaches.push({ o: ctx.tok, loaded: newMag(ctx.tok), prev: newMag(ctx.tok), depot: null, depotSize: 0 });
      }
    }
  }

  /** A copy for another emulator instance; shares all structure. */
  clone(ctx: Ctx, log: EventLog): IovaDomain {
    const c = new IovaDomain(ctx, this.granule, this.startPfn, log, this.id, true);
    c.tree = this.tree.clone(ctx);
    c.cachedPfns = this.cachedPfns.clone(ctx);
    c.cachedNode = this.cachedNode;
    c.cached32Node = this.cached32Node;
    c.max32AllocSize = this.max32AllocSize;
    c.rcaches = this.rcaches.slice();
    return c;
  }

  private hiOf(lo: number): number {
    return this.tree.get(lo)!;
  }

  private getCachedRbnode(limitPfn: number): number {
    return limitPfn <= this.dma32bitPfn ? this.cached32Node : this.cachedNode;
  }

  private cachedRbnodeInsertUpdate(lo: number, hi: number): void {
    if (hi < this.dma32bitPfn) this.cached32Node = lo;
    else this.cachedNode = lo;
  }

  private cachedRbnodeDeleteUpdate(lo: number, hi: number): void {
    const next = this.tree.higher(lo)!.k; // rb_next(&free->node)
    const c32 = this.cached32Node;
    if (lo === c32 || (hi < this.dma32bitPfn && lo >= c32)) this.cached32Node = next;
    if (lo < this.dma32bitPfn) this.max32AllocSize = this.dma32bitPfn;
    if (lo >= this.cachedNode) this.cachedNode = next;
  }

  /** iova_find_limit(): the node the retry walk starts from. */
  private findLimit(limitPfn: number): number {
    if (limitPfn > this.dma32bitPfn) return IOVA_ANCHOR;
    // The first node with pfn_hi >= limit_pfn: the walk from it visits the same
    // gaps as the kernel's (possibly one node higher) starting point.
    const f = this.tree.floor(limitPfn);
    if (f !== null && f.v >= limitPfn) return f.k;
    return this.tree.higher(limitPfn)!.k;
  }

  /** __alloc_and_insert_iova_range(); limitPfn is one past the last usable pfn. */
  private allocAndInsertRange(size: number, limitPfn: number, sizeAligned: boolean): IovaRange | null {
    const align = sizeAligned ? 2 ** flsLong(size - 1) : 1;
    let highPfn = limitPfn;
    let lowPfn = this.startPfn;
    if (limitPfn <= this.dma32bitPfn && size >= this.max32AllocSize) return null; // iova32_full

    let curr: number | null = this.getCachedRbnode(limitPfn);
    let currLo = curr;
    let currHi = this.hiOf(curr);
    const retryPfn = currHi;
    let newPfn: number;
    for (;;) {
      // do { ... } while (curr && new_pfn <= curr_iova->pfn_hi && new_pfn >= low_pfn)
      for (;;) {
        highPfn = Math.min(highPfn, currLo);
        // (high_pfn - size) & align_mask, with unsigned wrap-around when high_pfn < size
        newPfn = highPfn < size ? Infinity : Math.floor((highPfn - size) / align) * align;
        const p = this.tree.lower(curr!);
        curr = p === null ? null : p.k;
        if (p === null) break;
        currLo = p.k;
        currHi = p.v;
        if (!(newPfn <= currHi && newPfn >= lowPfn)) break;
      }
      if (highPfn < size || newPfn < lowPfn) {
        if (lowPfn === this.startPfn && retryPfn < limitPfn) {
          highPfn = limitPfn;
          lowPfn = retryPfn + 1;
          curr = this.findLimit(limitPfn);
          currLo = curr;
          currHi = this.hiOf(curr);
          continue; // goto retry
        }
        this.max32AllocSize = size;
        return null;
      }
      break;
    }
    const lo = newPfn;
    const hi = lo + size - 1;
    this.tree.set(lo, hi);
    this.cachedRbnodeInsertUpdate(lo, hi);
    return { pfnLo: lo, pfnHi: hi };
  }

  /**
   * alloc_iova(): size pages at or below limitPfn, searched top-down; with
   * sizeAligned the start is aligned to roundup_pow_of_two(size). Returns null
   * when no gap fits (the kernel's NULL).
   */
  allocIova(size: number, limitPfn: number, sizeAligned: boolean): IovaRange | null {
    if (!(size >= 1) || !Number.isInteger(size)) return null;
    const r = this.allocAndInsertRange(size, limitPfn + 1, sizeAligned);
    if (r) this.log.emitLazy({ kind: 'iova-alloc', iovad: this.id, pfnLo: r.pfnLo, pfnHi: r.pfnHi, fn: 'alloc_iova' }, () => `alloc_iova(iovad${this.id}, ${size}, ${hex(limitPfn)}) = [${hex(r.pfnLo)}-${hex(r.pfnHi)}]`);
    else this.log.emit({ kind: 'iova-alloc-fail', text: `alloc_iova(iovad${this.id}, ${size}, ${hex(limitPfn)}) = NULL`, iovad: this.id, size, fn: 'alloc_iova' });
    return r;
  }

  /** private_find_iova() */
  private findNode(pfn: number): IovaRange | null {
    const f = this.tree.floor(pfn);
    if (f === null || pfn > f.v || f.k === IOVA_ANCHOR) return null;
    return { pfnLo: f.k, pfnHi: f.v };
  }

  /** find_iova(): the allocated range holding pfn, or null. */
  findIova(pfn: number): IovaRange | null {
    return this.findNode(pfn);
  }

  /** remove_iova() */
  private remove(lo: number, hi: number): void {
    this.cachedRbnodeDeleteUpdate(lo, hi);
    this.tree.delete(lo);
  }

  /**
   * free_iova(): free the range holding pfn. A pfn in no range is ignored, as in
   * the kernel, and reported as an 'iova-bad-free' event.
   */
  freeIova(pfn: number, fn = 'free_iova'): void {
    const r = this.findNode(pfn);
    if (!r) {
      this.log.emit({ kind: 'iova-bad-free', text: `${fn}(iovad${this.id}, ${hex(pfn)}): no IOVA range holds this pfn`, iovad: this.id, pfn, fn });
      return;
    }
    this.remove(r.pfnLo, r.pfnHi);
    this.log.emitLazy({ kind: 'iova-free', iovad: this.id, pfnLo: r.pfnLo, pfnHi: r.pfnHi, fn }, () => `${fn}(iovad${this.id}, [${hex(r.pfnLo)}-${hex(r.pfnHi)}])`);
  }

  /**
   * reserve_iova(): keep [pfnLo, pfnHi] from being handed out, merging with
   * ranges it overlaps as the kernel does. Returns null for pfns that do not fit.
   */
  reserveIova(pfnLo: number, pfnHi: number): IovaRange | null {
    // Don't allow nonsensical pfns
    if (!(pfnLo >= 0 && pfnHi >= 0) || pfnHi > 2 ** (64 - this.shift) || pfnHi >= IOVA_ANCHOR) return null;
    let overlap = false;
    let result: IovaRange | null = null;
    const first = this.tree.first();
    for (let k: number | null = first ? first.k : null; k !== null; ) {
      let lo: number = k;
      const hi = this.tree.get(k)!;
      if (pfnLo <= hi && pfnHi >= lo) {
        // __adjust_overlap_range(): the node grows down over the gap below it
        if (pfnLo < lo) {
          this.tree.delete(lo);
          this.tree.set(pfnLo, hi);
          if (this.cachedNode === lo) this.cachedNode = pfnLo;
          if (this.cached32Node === lo) this.cached32Node = pfnLo;
          lo = pfnLo;
        }
        if (pfnHi > hi) pfnLo = hi + 1;
        if (pfnLo >= lo && pfnHi <= hi) {
          result = { pfnLo: lo, pfnHi: hi };
          break;
        }
        overlap = true;
      } else if (overlap) break;
      const nx = this.tree.higher(lo);
      k = nx ? nx.k : null;
    }
    if (!result) {
      this.tree.set(pfnLo, pfnHi); // __insert_new_range()
      result = { pfnLo, pfnHi };
    }
    this.log.emit({ kind: 'iova-reserve', text: `reserve_iova(iovad${this.id}, ${hex(result.pfnLo)}, ${hex(result.pfnHi)})`, iovad: this.id, ...result, fn: 'reserve_iova' });
    return result;
  }

  // ---- rcaches -------------------------------------------------------------

  private ownRcache(i: number): Rcache {
    const tok = this.ctx.tok;
    let rc = this.rcaches[i];
    if (rc.o !== tok) {
      rc = { ...rc, o: tok };
      this.rcaches[i] = rc;
    }
    if (rc.loaded.o !== tok) rc.loaded = { o: tok, size: rc.loaded.size, pfns: rc.loaded.pfns.slice() };
    if (rc.prev.o !== tok) rc.prev = { o: tok, size: rc.prev.size, pfns: rc.prev.pfns.slice() };
    return rc;
  }

  /** iova_magazine_free_pfns() */
  private magazineFreePfns(mag: Magazine): void {
    for (let i = 0; i < mag.size; i++) {
      const r = this.findNode(mag.pfns[i]);
      this.cachedPfns.delete(mag.pfns[i]);
      if (!r) continue; // WARN_ON(!iova)
      this.remove(r.pfnLo, r.pfnHi);
    }
    mag.size = 0;
  }

  /** iova_magazine_pop(): 0 when no pfn in the magazine is at or below limitPfn. */
  private magazinePop(mag: Magazine, limitPfn: number): number {
    let i = mag.size - 1;
    for (; mag.pfns[i] > limitPfn; i--) if (i === 0) return 0;
    const pfn = mag.pfns[i];
    mag.pfns[i] = mag.pfns[--mag.size];
    return pfn;
  }

  /** __iova_rcache_get() */
  private rcacheGet(size: number, limitPfn: number): number {
    const log = orderBase2(size);
    if (log >= IOVA_RANGE_CACHE_MAX_SIZE) return 0;
    const rc = this.ownRcache(log);
    let hasPfn = false;
    if (rc.loaded.size !== 0) hasPfn = true;
    else if (rc.prev.size !== 0) {
      const t = rc.prev;
      rc.prev = rc.loaded;
      rc.loaded = t;
      hasPfn = true;
    } else if (rc.depot !== null) {
      // iova_depot_pop()
      const m = rc.depot.mag;
      rc.depot = rc.depot.next;
      rc.depotSize--;
      rc.loaded = { o: this.ctx.tok, size: IOVA_MAG_SIZE, pfns: m.pfns.slice() };
      hasPfn = true;
    }
    if (!hasPfn) return 0;
    const pfn = this.magazinePop(rc.loaded, limitPfn - size);
    if (pfn) this.cachedPfns.delete(pfn);
    return pfn;
  }

  /** __iova_rcache_insert() */
  private rcacheInsert(pfn: number, size: number): boolean {
    const log = orderBase2(size);
    if (log >= IOVA_RANGE_CACHE_MAX_SIZE) return false;
    const rc = this.ownRcache(log);
    if (rc.loaded.size === IOVA_MAG_SIZE) {
      if (rc.prev.size !== IOVA_MAG_SIZE) {
        const t = rc.prev;
        rc.prev = rc.loaded;
        rc.loaded = t;
      } else {
        // iova_depot_push(): full magazines are immutable from here on
        rc.depot = { mag: rc.loaded, next: rc.depot };
        rc.depotSize++;
        rc.loaded = newMag(this.ctx.tok);
      }
    }
    rc.loaded.pfns[rc.loaded.size++] = pfn;
    this.cachedPfns.set(pfn, log);
    return true;
  }

  /** free_cpu_cached_iovas() + free_global_cached_iovas() */
  flushRcaches(): void {
    for (let i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++) {
      const rc = this.ownRcache(i);
      this.magazineFreePfns(rc.loaded);
      this.magazineFreePfns(rc.prev);
    }
    for (let i = 0; i < IOVA_RANGE_CACHE_MAX_SIZE; i++) {
      const rc = this.ownRcache(i);
      while (rc.depot !== null) {
        const m = { ...rc.depot.mag, pfns: rc.depot.mag.pfns.slice() };
        rc.depot = rc.depot.next;
        rc.depotSize--;
        this.magazineFreePfns(m);
      }
    }
  }

  /**
   * alloc_iova_fast(): serve from the range cache, else alloc_iova(..., true);
   * on failure with flushRcache, flush the caches and retry once. Returns the
   * first pfn, or 0 on failure.
   */
  allocIovaFast(size: number, limitPfn: number, flushRcache: boolean): number {
    if (!(size >= 1) || !Number.isInteger(size)) return 0;
    // Round up anything cacheable so frees into the caches stay power-of-two sized.
    if (size < 2 ** (IOVA_RANGE_CACHE_MAX_SIZE - 1)) size = roundupPowOfTwo(size);
    const cached = this.rcacheGet(size, limitPfn + 1);
    if (cached) {
      this.log.emitLazy({ kind: 'iova-alloc', iovad: this.id, pfnLo: cached, pfnHi: cached + size - 1, fn: 'alloc_iova_fast', rcache: true }, () => `alloc_iova_fast(iovad${this.id}, ${size}, ${hex(limitPfn)}) = ${hex(cached)} (rcache)`);
      return cached;
    }
    for (;;) {
      const r = this.allocAndInsertRange(size, limitPfn + 1, true);
      if (r) {
        this.log.emitLazy({ kind: 'iova-alloc', iovad: this.id, pfnLo: r.pfnLo, pfnHi: r.pfnHi, fn: 'alloc_iova_fast', rcache: false }, () => `alloc_iova_fast(iovad${this.id}, ${size}, ${hex(limitPfn)}) = ${hex(r.pfnLo)}`);
        return r.pfnLo;
      }
      if (!flushRcache) break;
      flushRcache = false;
      this.flushRcaches();
    }
    this.log.emit({ kind: 'iova-alloc-fail', text: `alloc_iova_fast(iovad${this.id}, ${size}, ${hex(limitPfn)}) = 0`, iovad: this.id, size, fn: 'alloc_iova_fast' });
    return 0;
  }

  /**
   * free_iova_fast(): put the range in the cache of its size, else free_iova().
   * Like the kernel it trusts pfn and size; a pfn that is not the start of an
   * allocated range, one already cached, or a size from a different cache bin
   * than the range's is additionally reported as an event.
   */
  freeIovaFast(pfn: number, size: number): void {
    const r = this.findNode(pfn);
    if (!r || r.pfnLo !== pfn) {
      this.log.emit({ kind: 'iova-bad-free', text: `free_iova_fast(iovad${this.id}, ${hex(pfn)}, ${size}): pfn is not the start of an allocated IOVA range`, iovad: this.id, pfn, size, fn: 'free_iova_fast' });
    } else if (this.cachedPfns.has(pfn)) {
      this.log.emit({ kind: 'iova-double-free', text: `free_iova_fast(iovad${this.id}, ${hex(pfn)}, ${size}): range already freed into the rcache`, iovad: this.id, pfn, size, fn: 'free_iova_fast' });
    } else {
      const actual = r.pfnHi - r.pfnLo + 1;
      if (orderBase2(actual) !== orderBase2(size) || size > actual) {
        this.log.emit({ kind: 'iova-size-mismatch', text: `free_iova_fast(iovad${this.id}, ${hex(pfn)}, ${size}): range [${hex(r.pfnLo)}-${hex(r.pfnHi)}] holds ${actual} pages`, iovad: this.id, pfn, size, actual, fn: 'free_iova_fast' });
      }
    }
    if (this.rcacheInsert(pfn, size)) {
      this.log.emitLazy({ kind: 'iova-free', iovad: this.id, pfnLo: pfn, pfnHi: pfn + size - 1, fn: 'free_iova_fast', rcache: true }, () => `free_iova_fast(iovad${this.id}, ${hex(pfn)}, ${size}) (rcache)`);
      return;
    }
    this.freeIova(pfn, 'free_iova_fast');
  }

  /** True when pfn starts a range currently held in a range cache. */
  isCached(pfn: number): boolean {
    return this.cachedPfns.has(pfn);
  }

  /** Allocated ranges in ascending order (the anchor excluded). */
  ranges(): IovaRange[] {
    const out: IovaRange[] = [];
    this.tree.forEach((lo, hi) => {
      if (lo !== IOVA_ANCHOR) out.push({ pfnLo: lo, pfnHi: hi });
    });
    return out;
  }

  get rangeCount(): number {
    return this.tree.size - 1;
  }

  /** Plain data for views. */
  inspect(): Record<string, unknown> {
    const nodeName = (k: number) => (k === IOVA_ANCHOR ? 'anchor' : hex(k));
    return {
      id: this.id,
      granule: this.granule,
      startPfn: this.startPfn,
      dma32bitPfn: hex(this.dma32bitPfn),
      cachedNode: nodeName(this.cachedNode),
      cached32Node: nodeName(this.cached32Node),
      max32AllocSize: this.max32AllocSize,
      ranges: this.ranges().map((r) => ({
        pfnLo: hex(r.pfnLo),
        pfnHi: hex(r.pfnHi),
        start: hex(r.pfnLo * this.granule),
        size: (r.pfnHi - r.pfnLo + 1) * this.granule,
        cached: this.cachedPfns.has(r.pfnLo),
      })),
      rcaches: this.rcaches.map((rc, i) => ({
        pages: 2 ** i,
        loaded: rc.loaded.pfns.slice(0, rc.loaded.size).map(hex),
        prev: rc.prev.pfns.slice(0, rc.prev.size).map(hex),
        depotMagazines: rc.depotSize,
      })),
    };
  }
}
