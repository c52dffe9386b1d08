/**
 * Emulated physical memory (copy-on-write 4 KiB frames) and the page allocator
 * (a buddy allocator in the manner of mm/page_alloc.c).
 */
import { Ctx, PMap } from './pmap';

export const FRAME_SHIFT = 12;
export const FRAME_SIZE = 1 << FRAME_SHIFT;
const FRAME_WORDS = FRAME_SIZE >> 2;
const ZERO_FRAME = new Uint32Array(FRAME_WORDS);

interface Frame {
  o: number;
  d: Uint32Array;
}

const TWO32 = 4294967296;

/**
 * Physical memory as a persistent map of 4 KiB frames, each a Uint32Array.
 * Frames never written read as zero. A frame shared with a fork is copied on
 * its first write, so a fork costs nothing until memory changes.
 */
export class PhysMemory {
  private frames: PMap<Frame>;
  private cpfn = -1;
  private cframe: Frame | null = null;

  constructor(public ctx: Ctx, frames?: PMap<Frame>) {
    this.frames = frames ?? new PMap<Frame>(ctx);
  }

  clone(ctx: Ctx): PhysMemory {
    return new PhysMemory(ctx, this.frames.clone(ctx));
  }

  /** Words of the frame holding pa, for reading only. */
  rframe(pfn: number): Uint32Array {
    if (pfn === this.cpfn) return this.cframe!.d;
    const f = this.frames.get(pfn);
    if (f === undefined) return ZERO_FRAME;
    this.cpfn = pfn;
    this.cframe = f;
    return f.d;
  }

  /** Words of the frame holding pa, owned by this instance, for writing. */
  wframe(pfn: number): Uint32Array {
    const tok = this.ctx.tok;
    if (pfn === this.cpfn && this.cframe!.o === tok) return this.cframe!.d;
    let f = this.frames.get(pfn);
    if (f === undefined) {
      f = { o: tok, d: new Uint32Array(FRAME_WORDS) };
      this.frames.set(pfn, f);
    } else if (f.o !== tok) {
      f = { o: tok, d: f.d.slice() };
      this.frames.set(pfn, f);
    }
    this.cpfn = pfn;
    this.cframe = f;
    return f.d;
  }

  read32(pa: number): number {
    const pfn = Math.floor(pa / FRAME_SIZE);
    return this.rframe(pfn)[(pa - pfn * FRAME_SIZE) >>> 2];
  }

  write32(pa: number, v: number): void {
    const pfn = Math.floor(pa / FRAME_SIZE);
    this.wframe(pfn)[(pa - pfn * FRAME_SIZE) >>> 2] = v >>> 0;
  }

  /** A 64-bit little-endian word as a BigInt (for STEs, CDs and queue entries). */
  read64(pa: number): bigint {
    const pfn = Math.floor(pa / FRAME_SIZE);
    const d = this.rframe(pfn);
    const i = (pa - pfn * FRAME_SIZE) >>> 2;
    return (BigInt(d[i + 1]) << 32n) | BigInt(d[i]);
  }

  write64(pa: number, v: bigint): void {
    const pfn = Math.floor(pa / FRAME_SIZE);
    const d = this.wframe(pfn);
    const i = (pa - pfn * FRAME_SIZE) >>> 2;
    d[i] = Number(v & 0xffffffffn);
    d[i + 1] = Number((v >> 32n) & 0xffffffffn);
  }

  /** Forget the contents of [pa, pa+len): the frames read as zero again. */
  discard(pa: number, len: number): void {
    const first = Math.floor(pa / FRAME_SIZE);
    const end = Math.ceil((pa + len) / FRAME_SIZE);
    for (let p = first; p < end; p++) this.frames.delete(p);
    if (this.cpfn >= first && this.cpfn < end) {
      this.cpfn = -1;
      this.cframe = null;
    }
  }

  /** Frames holding data (for statistics). */
  get framesInUse(): number {
    return this.frames.size;
  }
}

/** Split a 64-bit value held as two halves into a number, when it fits 53 bits. */
export function join64(lo: number, hi: number): number {
  return hi * TWO32 + lo;
}

/** mm/page_alloc.c: MAX_PAGE_ORDER. */
export const MAX_PAGE_ORDER = 10;

export type FreeResult = { ok: true } | { ok: false; code: 'bad-free' | 'double-free' | 'wrong-order'; order?: number };

/**
 * A buddy page allocator over [base, base + size). Orders are in units of the
 * kernel's PAGE_SIZE. Blocks are handed out lowest address first; a freed block
 * merges with its buddy as in __free_one_page().
 */
export class PageAllocator {
  /** free blocks: key order * 2^32 + pfn (pfn relative to base) */
  private freeLists: PMap<1>;
  /** pfn (relative to base) -> order of every allocated block. */
  private allocated: PMap<number>;
  /** pfn -> order of recently freed blocks, to tell a double free from a bad one. */
  private freed: PMap<number>;
  private nfree: number[];
  freePages: number;
  readonly pageSize: number;

  constructor(
    public ctx: Ctx,
    readonly base: number,
    readonly size: number,
    readonly pageShift: number,
  ) {
    this.pageSize = 2 ** pageShift;
    this.freeLists = new PMap<1>(ctx);
    this.allocated = new PMap<number>(ctx);
    this.freed = new PMap<number>(ctx);
    this.nfree = new Array(MAX_PAGE_ORDER + 1).fill(0);
    const npages = Math.floor(size / this.pageSize);
    this.freePages = 0;
    // Seed the free lists with maximal aligned blocks.
    let pfn = 0;
    while (pfn < npages) {
      let o = MAX_PAGE_ORDER;
      while (o > 0 && (pfn % (1 << o) !== 0 || pfn + (1 << o) > npages)) o--;
      this.addFree(o, pfn);
      this.freePages += 1 << o;
      pfn += 1 << o;
    }
  }

  private addFree(o: number, pfn: number): void {
    this.freeLists.set(o * TWO32 + pfn, 1);
    this.nfree[o]++;
  }
  private delFree(o: number, pfn: number): boolean {
    if (!this.freeLists.delete(o * TWO32 + pfn)) return false;
    this.nfree[o]--;
    return true;
  }

  clone(ctx: Ctx): PageAllocator {
    const c = Object.create(PageAllocator.prototype) as PageAllocator;
    Object.assign(c, this);
    c.ctx = ctx;
    c.freeLists = this.freeLists.clone(ctx);
    c.allocated = this.allocated.clone(ctx);
    c.freed = this.freed.clone(ctx);
    c.nfree = this.nfree.slice();
    return c;
  }

  /** alloc_pages(): the physical address of 2^order pages, or 0 when none is free. */
  alloc(order: number): number {
    if (!Number.isInteger(order) || order < 0 || order > MAX_PAGE_ORDER) return 0;
    let o = order;
    while (o <= MAX_PAGE_ORDER && this.nfree[o] === 0) o++;
    if (o > MAX_PAGE_ORDER) return 0;
    const pfn = this.freeLists.ceil(o * TWO32)!.k - o * TWO32;
    this.delFree(o, pfn);
    // expand(): hand the upper halves back at lower orders
    while (o > order) {
      o--;
      this.addFree(o, pfn + (1 << o));
    }
    this.allocated.set(pfn, order);
    this.freed.delete(pfn);
    this.freePages -= 1 << order;
    return this.base + pfn * this.pageSize;
  }

  /** Order of the allocated block starting at pa, or -1. */
  orderOf(pa: number): number {
    const pfn = (pa - this.base) / this.pageSize;
    const o = this.allocated.get(pfn);
    return o === undefined ? -1 : o;
  }

  /**
   * __free_pages(): return a block. A block not allocated, or freed with an order
   * other than the one it was allocated with, is reported and the allocator keeps
   * its own record (it frees the order it handed out). Never throws.
   */
  free(pa: number, order: number): FreeResult {
    const rel = pa - this.base;
    const pfn = rel / this.pageSize;
    const real = Number.isInteger(pfn) ? this.allocated.get(pfn) : undefined;
    if (real === undefined) {
      if (Number.isInteger(pfn) && this.freed.has(pfn)) return { ok: false, code: 'double-free', order: this.freed.get(pfn) };
      return { ok: false, code: 'bad-free' };
    }
    this.allocated.delete(pfn);
    this.freed.set(pfn, real);
    this.freePages += 1 << real;
    // __free_one_page(): merge with free buddies
    let p = pfn;
    let o = real;
    while (o < MAX_PAGE_ORDER) {
      const buddy = p ^ (1 << o);
      if (!this.delFree(o, buddy)) break;
      p = Math.min(p, buddy);
      o++;
    }
    this.addFree(o, p);
    if (real !== order) return { ok: false, code: 'wrong-order', order: real };
    return { ok: true };
  }

  /** Allocated blocks as [pa, order] pairs. */
  blocks(): { pa: number; order: number }[] {
    const out: { pa: number; order: number }[] = [];
    this.allocated.forEach((pfn, order) => out.push({ pa: this.base + pfn * this.pageSize, order }));
    return out;
  }

  get allocatedBlocks(): number {
    return this.allocated.size;
  }
}

/** get_order(): the smallest order whose block holds size bytes. */
export function getOrder(size: number, pageShift: number): number {
  let o = 0;
  while (2 ** (pageShift + o) < size) o++;
  return o;
}
