/**
 * ARM LPAE page tables as drivers/iommu/io-pgtable-arm.c builds them (64-bit
 * stage 1 and stage 2; 4K, 16K and 64K granules). Tables live in emulated
 * physical memory as real 64-bit descriptors, held as two 32-bit halves (lo =
 * bits 31:0, hi = bits 63:32): measured faster than BigInt in the walk loops.
 */
import { EEXIST, EINVAL, ENOMEM, ERANGE, EventLog, hex, IOMMU_CACHE, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE } from './events';
import { FRAME_SIZE, PhysMemory } from './memory';

export const ARM_LPAE_MAX_ADDR_BITS = 52;
export const ARM_LPAE_S2_MAX_CONCAT_PAGES = 16;
export const ARM_LPAE_MAX_LEVELS = 4;

export const ARM_LPAE_PTE_TYPE_BLOCK = 1;
export const ARM_LPAE_PTE_TYPE_TABLE = 3;
export const ARM_LPAE_PTE_TYPE_PAGE = 3;
// low-half attribute bits
export const ARM_LPAE_PTE_VALID = 1 << 0;
export const ARM_LPAE_PTE_NS = 1 << 5;
export const ARM_LPAE_PTE_AP_UNPRIV = 1 << 6;
export const ARM_LPAE_PTE_AP_RDONLY = 1 << 7;
export const ARM_LPAE_PTE_SH_OS = 2 << 8;
export const ARM_LPAE_PTE_SH_IS = 3 << 8;
export const ARM_LPAE_PTE_AF = 1 << 10;
export const ARM_LPAE_PTE_nG = 1 << 11;
export const ARM_LPAE_PTE_HAP_READ = 1 << 6;
export const ARM_LPAE_PTE_HAP_WRITE = 2 << 6;
export const ARM_LPAE_PTE_MEMATTR_OIWB = 0xf << 2;
export const ARM_LPAE_PTE_MEMATTR_NC = 0x5 << 2;
export const ARM_LPAE_PTE_MEMATTR_DEV = 0x1 << 2;
export const ARM_LPAE_PTE_ATTRINDX_SHIFT = 2;
export const ARM_LPAE_MAIR_ATTR_IDX_CACHE = 1;
export const ARM_LPAE_MAIR_ATTR_IDX_DEV = 2;
// high-half attribute bits (bit n of the descriptor is bit n-32 of hi)
export const ARM_LPAE_PTE_XN_HI = 3 << (53 - 32);
export const ARM_LPAE_PTE_DBM_HI = 1 << (51 - 32);
/** ARM_LPAE_PTE_ATTR_LO_MASK: bits 11:2 */
const ATTR_LO_MASK = 0x3ff << 2;
/** ARM_LPAE_PTE_ATTR_HI_MASK: XN | DBM */
const ATTR_HI_MASK = ARM_LPAE_PTE_XN_HI | ARM_LPAE_PTE_DBM_HI;

const SZ_4K = 0x1000;
const SZ_16K = 0x4000;
const SZ_64K = 0x10000;
const SZ_2M = 0x200000;
const SZ_32M = 0x2000000;
const SZ_512M = 0x20000000;
const SZ_1G = 0x40000000;
const TWO32 = 4294967296;

export type IoPgtableFmt = 'ARM_64_LPAE_S1' | 'ARM_64_LPAE_S2';

export interface IoPgtableCfg {
  fmt: IoPgtableFmt;
  /** page sizes offered by the IOMMU; narrowed by arm_lpae_restrict_pgsizes() */
  pgsizeBitmap: number;
  ias: number;
  oas: number;
  /** the CPU's PAGE_SIZE, which picks the granule (default 4096) */
  pageSize?: number;
}

/** struct iommu_iotlb_gather */
export interface IotlbGather {
  start: number;
  end: number;
  pgsize: number;
  queued: boolean;
}

export function newGather(queued = false): IotlbGather {
  return { start: Infinity, end: 0, pgsize: 0, queued };
}

/** struct iommu_flush_ops, implemented by the SMMU driver. */
export interface FlushOps {
  tlbFlushWalk(iova: number, size: number, granule: number): void;
  tlbAddPage(gather: IotlbGather, iova: number, granule: number): void;
}

/** What a table needs from its surroundings: memory, page allocation, TLB maintenance. */
export interface IoPgtableEnv {
  mem: PhysMemory;
  /** PA of size bytes of zeroed, naturally aligned memory, or 0. */
  allocTable(size: number): number;
  freeTable(pa: number, size: number): void;
  tlb?: FlushOps;
  log?: EventLog;
}

/** One populated entry, for views. */
export interface PteView {
  level: number;
  index: number;
  /** table, block or page */
  type: 'table' | 'block' | 'page';
  iova: string;
  size: number;
  /** output address (leaf) or next-level table address */
  pa: string;
  desc: string;
  perm: string;
  children?: PteView[];
}

/** __ffs() */
function ffs(x: number): number {
  let n = 0;
  while (x % 2 === 0) {
    x /= 2;
    n++;
  }
  return n;
}

/** __fls() */
function fls(x: number): number {
  let n = -1;
  while (x >= 1) {
    x = Math.floor(x / 2);
    n++;
  }
  return n;
}

function ilog2(x: number): number {
  return fls(x);
}

/** Build the 64-bit descriptor as a 16-digit hex string. */
export function descHex(lo: number, hi: number): string {
  return '0x' + (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
}

/**
 * struct arm_lpae_io_pgtable: one page table. Create with {@link ArmLpaeTable.alloc}.
 * The object holds only configuration; all table state is in emulated memory,
 * so a forked emulator rebinds the same table to its own memory with {@link withEnv}.
 */
export class ArmLpaeTable {
  readonly fmt: IoPgtableFmt;
  readonly pgsizeBitmap: number;
  readonly ias: number;
  readonly oas: number;
  readonly bitsPerLevel: number;
  readonly startLevel: number;
  readonly pgdBits: number;
  readonly granule: number;
  pgd = 0;
  /** stage 1: TCR fields; stage 2: VTCR fields */
  readonly tcr: { tsz: number; tg: number; ips: number; sl: number; sh: number; irgn: number; orgn: number };
  private lvlDiv: number[];
  private lvlEntries: number[];

  private constructor(cfg: IoPgtableCfg, public env: IoPgtableEnv, restricted: { pgsize: number; ias: number; oas: number }) {
    this.fmt = cfg.fmt;
    this.pgsizeBitmap = restricted.pgsize;
    this.ias = restricted.ias;
    this.oas = restricted.oas;
    const pgShift = ffs(this.pgsizeBitmap);
    this.bitsPerLevel = pgShift - 3;
    const vaBits = this.ias - pgShift;
    const levels = Math.ceil(vaBits / this.bitsPerLevel);
    let startLevel = ARM_LPAE_MAX_LEVELS - levels;
    // actual size of our pgd (without concatenation)
    let pgdBits = vaBits - this.bitsPerLevel * (levels - 1);
    if (cfg.fmt === 'ARM_64_LPAE_S2' && startLevel === 0) {
      // Concatenate PGDs at level 1 if possible in order to reduce the depth of the stage-2 walk.
      const pgdPages = (8 * 2 ** pgdBits) / 8;
      if (pgdPages <= ARM_LPAE_S2_MAX_CONCAT_PAGES) {
        pgdBits += this.bitsPerLevel;
        startLevel++;
      }
    }
    this.startLevel = startLevel;
    this.pgdBits = pgdBits;
    this.granule = 8 << this.bitsPerLevel;
    this.lvlDiv = [];
    this.lvlEntries = [];
    for (let l = 0; l < ARM_LPAE_MAX_LEVELS; l++) {
      this.lvlDiv.push(2 ** this.lvlShift(l));
      this.lvlEntries.push(2 ** (this.bitsPerLevel + (l === startLevel ? pgdBits - this.bitsPerLevel : 0)));
    }
    const tg = this.granule === SZ_4K ? 0 : this.granule === SZ_64K ? 1 : 2; // TG0 encoding
    const ipsOf: Record<number, number> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5, 52: 6 };
    let sl = startLevel;
    if (this.granule === SZ_4K) sl++; // SL0 format is different for 4K granule size
    // stage 2: VTCR.SL0 = ~sl & ARM_LPAE_VTCR_SL0_MASK (arm_64_lpae_alloc_pgtable_s2)
    this.tcr = { tsz: 64 - this.ias, tg, ips: ipsOf[this.oas] ?? -1, sl: cfg.fmt === 'ARM_64_LPAE_S2' ? ~sl & 3 : 0, sh: 3, irgn: 1, orgn: 1 };
  }

  /**
   * arm_64_lpae_alloc_pgtable_s1/_s2(): null when the configuration is unusable
   * (no supported granule, address sizes above 52 bits, an OAS with no PS
   * encoding) or the pgd cannot be allocated.
   */
  static alloc(cfg: IoPgtableCfg, env: IoPgtableEnv): ArmLpaeTable | null {
    const r = ArmLpaeTable.restrictPgsizes(cfg);
    if (!(r.pgsize & (SZ_4K | SZ_16K | SZ_64K))) return null;
    if (r.ias > ARM_LPAE_MAX_ADDR_BITS || r.oas > ARM_LPAE_MAX_ADDR_BITS) return null;
    const t = new ArmLpaeTable(cfg, env, r);
    if (t.tcr.ips < 0) return null;
    const pgd = env.allocTable(t.pgdSize);
    if (!pgd) return null;
    t.pgd = pgd;
    return t;
  }

  /** arm_lpae_restrict_pgsizes() */
  static restrictPgsizes(cfg: IoPgtableCfg): { pgsize: number; ias: number; oas: number } {
    const PAGE_SIZE = cfg.pageSize ?? SZ_4K;
    const bm = cfg.pgsizeBitmap;
    const below = bm % PAGE_SIZE; // & ~PAGE_MASK
    const above = bm - below; // & PAGE_MASK
    let granule: number;
    if (Math.floor(bm / PAGE_SIZE) % 2 === 1) granule = PAGE_SIZE;
    else if (below) granule = 2 ** fls(below);
    else if (above) granule = 2 ** ffs(above);
    else granule = 0;
    let maxAddrBits = 48;
    let pageSizes: number;
    switch (granule) {
      case SZ_4K:
        pageSizes = SZ_4K + SZ_2M + SZ_1G;
        break;
      case SZ_16K:
        pageSizes = SZ_16K + SZ_32M;
        break;
      case SZ_64K:
        maxAddrBits = 52;
        pageSizes = SZ_64K + SZ_512M;
        if (cfg.oas > 48) pageSizes += 2 ** 42; // 4TB
        break;
      default:
        pageSizes = 0;
    }
    // cfg->pgsize_bitmap &= page_sizes (bitwise over up to 43 bits)
    let pgsize = 0;
    for (let b = 12; b <= 42; b++) {
      const bit = 2 ** b;
      if (Math.floor(bm / bit) % 2 === 1 && Math.floor(pageSizes / bit) % 2 === 1) pgsize += bit;
    }
    return { pgsize, ias: Math.min(cfg.ias, maxAddrBits), oas: Math.min(cfg.oas, maxAddrBits) };
  }

  /** The same table bound to another emulator's memory and allocator. */
  withEnv(env: IoPgtableEnv): ArmLpaeTable {
    const t = Object.create(ArmLpaeTable.prototype) as ArmLpaeTable;
    Object.assign(t, this);
    t.env = env;
    return t;
  }

  /** ARM_LPAE_LVL_SHIFT */
  lvlShift(l: number): number {
    return (ARM_LPAE_MAX_LEVELS - l) * this.bitsPerLevel + 3;
  }
  /** ARM_LPAE_BLOCK_SIZE */
  blockSize(l: number): number {
    return this.lvlDiv[l];
  }
  /** ARM_LPAE_PGD_SIZE */
  get pgdSize(): number {
    return 8 * 2 ** this.pgdBits;
  }
  get ptesPerTable(): number {
    return this.granule / 8;
  }
  /** ARM_LPAE_LVL_IDX */
  lvlIdx(iova: number, l: number): number {
    return Math.floor(iova / this.lvlDiv[l]) % this.lvlEntries[l];
  }
  /** arm_lpae_max_entries() */
  private maxEntries(i: number): number {
    const ppt = this.ptesPerTable;
    return ppt - (i & (ppt - 1));
  }

  // ---- descriptor access ----------------------------------------------------

  /** scratch result of rd(): the high half of the last descriptor read */
  private rhi = 0;
  /** Read a descriptor: returns the low half, leaves the high half in this.rhi. */
  private rd1(ptep: number): number {
    const pfn = Math.floor(ptep / FRAME_SIZE);
    const d = this.env.mem.rframe(pfn);
    const w = (ptep - pfn * FRAME_SIZE) >>> 2;
    this.rhi = d[w + 1];
    return d[w];
  }
  private rd(ptep: number): [number, number] {
    const lo = this.rd1(ptep);
    return [lo, this.rhi];
  }
  private rdLo(ptep: number): number {
    const pfn = Math.floor(ptep / FRAME_SIZE);
    return this.env.mem.rframe(pfn)[(ptep - pfn * FRAME_SIZE) >>> 2];
  }
  private wr(ptep: number, lo: number, hi: number): void {
    const pfn = Math.floor(ptep / FRAME_SIZE);
    const d = this.env.mem.wframe(pfn);
    const w = (ptep - pfn * FRAME_SIZE) >>> 2;
    d[w] = lo;
    d[w + 1] = hi;
  }

  /** paddr_to_iopte(): [lo, hi] address bits; bits 51:48 fold into 15:12. */
  paddrToIopte(paddr: number): [number, number] {
    const hi = Math.floor(paddr / TWO32);
    const lo = paddr - hi * TWO32;
    return [((lo & 0xfffff000) | (((hi >>> 16) & 0xf) << 12)) >>> 0, hi & 0xffff];
  }

  /** iopte_to_paddr() */
  ioptToPaddr(lo: number, hi: number): number {
    if (this.granule < SZ_64K) return (hi & 0xffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
    // Rotate the packed high-order bits back to the top
    return ((hi & 0xffff) + ((lo >>> 12) & 0xf) * 0x10000) * TWO32 + ((lo & 0xffff0000) >>> 0);
  }

  private isLeaf(lo: number, lvl: number): boolean {
    return lvl === ARM_LPAE_MAX_LEVELS - 1 ? (lo & 3) === ARM_LPAE_PTE_TYPE_PAGE : (lo & 3) === ARM_LPAE_PTE_TYPE_BLOCK;
  }

  /** arm_lpae_prot_to_pte(): attribute bits as [lo, hi]. */
  protToPte(prot: number): [number, number] {
    let lo = 0;
    let hi = 0;
    if (this.fmt === 'ARM_64_LPAE_S1') {
      lo = ARM_LPAE_PTE_nG;
      if (!(prot & IOMMU_WRITE) && prot & IOMMU_READ) lo |= ARM_LPAE_PTE_AP_RDONLY;
      if (!(prot & IOMMU_PRIV)) lo |= ARM_LPAE_PTE_AP_UNPRIV;
      if (prot & IOMMU_MMIO) lo |= ARM_LPAE_MAIR_ATTR_IDX_DEV << ARM_LPAE_PTE_ATTRINDX_SHIFT;
      else if (prot & IOMMU_CACHE) lo |= ARM_LPAE_MAIR_ATTR_IDX_CACHE << ARM_LPAE_PTE_ATTRINDX_SHIFT;
    } else {
      if (prot & IOMMU_READ) lo |= ARM_LPAE_PTE_HAP_READ;
      if (prot & IOMMU_WRITE) lo |= ARM_LPAE_PTE_HAP_WRITE;
      if (prot & IOMMU_MMIO) lo |= ARM_LPAE_PTE_MEMATTR_DEV;
      else if (prot & IOMMU_CACHE) lo |= ARM_LPAE_PTE_MEMATTR_OIWB;
      else lo |= ARM_LPAE_PTE_MEMATTR_NC;
    }
    lo |= prot & IOMMU_CACHE ? ARM_LPAE_PTE_SH_IS : ARM_LPAE_PTE_SH_OS;
    if (prot & IOMMU_NOEXEC) hi |= ARM_LPAE_PTE_XN_HI;
    lo |= ARM_LPAE_PTE_AF;
    return [lo >>> 0, hi];
  }

  private emitPte(ptep: number, lvl: number, iova: number, lo: number, hi: number, n: number, what: string): void {
    const log = this.env.log;
    if (!log) return;
    log.emitLazy({ kind: 'pte-write', ptep, level: lvl, iova, count: n, lo, hi, what }, () => `${what} L${lvl}[${this.lvlIdx(iova, lvl)}]${n > 1 ? ` x${n}` : ''} @${hex(ptep)} iova ${hex(iova)} = ${descHex(lo, hi)}`);
  }

  /** __arm_lpae_init_pte() */
  private initPteRaw(iova: number, paddr: number, protLo: number, protHi: number, lvl: number, num: number, ptep: number): void {
    const sz = this.blockSize(lvl);
    const type = lvl === ARM_LPAE_MAX_LEVELS - 1 ? ARM_LPAE_PTE_TYPE_PAGE : ARM_LPAE_PTE_TYPE_BLOCK;
    let a = 0;
    let b = 0;
    for (let i = 0; i < num; i++) {
      const [alo, ahi] = this.paddrToIopte(paddr + i * sz);
      a = (protLo | type | alo) >>> 0;
      b = (protHi | ahi) >>> 0;
      this.wr(ptep + 8 * i, a, b);
    }
    if (num) {
      const [alo, ahi] = this.paddrToIopte(paddr);
      this.emitPte(ptep, lvl, iova, (protLo | type | alo) >>> 0, (protHi | ahi) >>> 0, num, lvl === 3 ? 'page' : 'block');
    }
  }

  /** arm_lpae_init_pte(): -EEXIST over a valid leaf; a table is torn down first. */
  private initPte(iova: number, paddr: number, protLo: number, protHi: number, lvl: number, num: number, ptep: number): number {
    for (let i = 0; i < num; i++) {
      const lo = this.rd1(ptep + 8 * i);
      const hi = this.rhi;
      if (this.isLeaf(lo, lvl)) return -EEXIST; // We require an unmap first
      if ((lo & 3) === ARM_LPAE_PTE_TYPE_TABLE && (lo | hi) !== 0) {
        // We need to unmap and free the old table before overwriting it with a block entry.
        const sz = this.blockSize(lvl);
        const tblp = ptep - 8 * this.lvlIdx(iova, lvl);
        if (this.unmapLvl(null, iova + i * sz, sz, 1, lvl, tblp) !== sz) return -EINVAL;
      }
    }
    this.initPteRaw(iova, paddr, protLo, protHi, lvl, num, ptep);
    return 0;
  }

  /** arm_lpae_install_table(): returns the entry it replaced. */
  private installTable(table: number, ptep: number, iova: number, lvl: number): void {
    const [alo, ahi] = this.paddrToIopte(table);
    const lo = (alo | ARM_LPAE_PTE_TYPE_TABLE) >>> 0;
    this.wr(ptep, lo, ahi);
    this.emitPte(ptep, lvl, iova, lo, ahi, 1, 'table');
  }

  /** __arm_lpae_map() */
  private mapLvl(iova: number, paddr: number, size: number, pgcount: number, protLo: number, protHi: number, lvl: number, ptep: number, mapped: { n: number }): number {
    const blockSize = this.blockSize(lvl);
    const idx = this.lvlIdx(iova, lvl);
    ptep += 8 * idx;
    // If we can install a leaf entry at this level, then do so
    if (size === blockSize) {
      const num = Math.min(pgcount, this.maxEntries(idx));
      const ret = this.initPte(iova, paddr, protLo, protHi, lvl, num, ptep);
      if (!ret) mapped.n += num * size;
      return ret;
    }
    // We can't allocate tables at the final level
    if (lvl >= ARM_LPAE_MAX_LEVELS - 1) return -EINVAL;
    let lo = this.rd1(ptep);
    let hi = this.rhi;
    if (lo === 0 && hi === 0) {
      const t = this.env.allocTable(this.granule);
      if (!t) return -ENOMEM;
      this.installTable(t, ptep, iova, lvl);
      lo = this.rd1(ptep);
      hi = this.rhi;
    }
    if (this.isLeaf(lo, lvl)) return -EEXIST; // We require an unmap first
    return this.mapLvl(iova, paddr, size, pgcount, protLo, protHi, lvl + 1, this.ioptToPaddr(lo, hi), mapped);
  }

  /**
   * arm_lpae_map_pages(): map pgcount pages of pgsize. Returns 0 or -EINVAL
   * (bad page size or no read/write permission), -ERANGE (address beyond
   * IAS/OAS), -EEXIST (a valid leaf is in the way), -ENOMEM (no table page).
   * mapped.n is increased by the bytes mapped, even on failure.
   */
  mapPages(iova: number, paddr: number, pgsize: number, pgcount: number, prot: number, mapped: { n: number }): number {
    if (!pgsize || !this.hasPgsize(pgsize)) return -EINVAL;
    if (iova >= 2 ** this.ias || iova < 0 || paddr >= 2 ** this.oas) return -ERANGE;
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return -EINVAL;
    const [plo, phi] = this.protToPte(prot);
    return this.mapLvl(iova, paddr, pgsize, pgcount, plo, phi, this.startLevel, this.pgd, mapped);
  }

  private hasPgsize(sz: number): boolean {
    return (sz & (sz - 1)) === 0 ? Math.floor(this.pgsizeBitmap / sz) % 2 === 1 : false;
  }

  /** __arm_lpae_free_pgtable() */
  private freePgtable(lvl: number, ptep: number): void {
    const tableSize = lvl === this.startLevel ? this.pgdSize : this.granule;
    if (lvl < ARM_LPAE_MAX_LEVELS - 1) {
      for (let p = ptep; p < ptep + tableSize; p += 8) {
        const [lo, hi] = this.rd(p);
        if ((lo === 0 && hi === 0) || this.isLeaf(lo, lvl)) continue;
        this.freePgtable(lvl + 1, this.ioptToPaddr(lo, hi));
      }
    }
    this.env.freeTable(ptep, tableSize);
  }

  private clearPte(ptep: number, num: number, iova: number, lvl: number): void {
    for (let i = 0; i < num; i++) this.wr(ptep + 8 * i, 0, 0);
    if (num) this.emitPte(ptep, lvl, iova, 0, 0, num, 'clear');
  }

  /** arm_lpae_split_blk_unmap() */
  private splitBlkUnmap(gather: IotlbGather | null, iova: number, size: number, blkLo: number, blkHi: number, lvl: number, ptep: number, pgcount: number): number {
    if (lvl === ARM_LPAE_MAX_LEVELS) return 0;
    const tablesz = this.granule;
    const splitSz = this.blockSize(lvl);
    const ppt = this.ptesPerTable;
    const tablep = this.env.allocTable(tablesz);
    if (!tablep) return 0; // Bytes unmapped
    let unmapIdxStart = -1;
    let num = 0;
    if (size === splitSz) {
      unmapIdxStart = this.lvlIdx(iova, lvl);
      num = Math.min(pgcount, this.maxEntries(unmapIdxStart));
    }
    let blkPaddr = this.ioptToPaddr(blkLo, blkHi);
    const protLo = blkLo & ATTR_LO_MASK;
    const protHi = blkHi & ATTR_HI_MASK;
    const type = lvl === ARM_LPAE_MAX_LEVELS - 1 ? ARM_LPAE_PTE_TYPE_PAGE : ARM_LPAE_PTE_TYPE_BLOCK;
    for (let i = 0; i < ppt; i++, blkPaddr += splitSz) {
      if (i >= unmapIdxStart && i < unmapIdxStart + num) continue; // Unmap!
      const [alo, ahi] = this.paddrToIopte(blkPaddr);
      this.wr(tablep + 8 * i, (protLo | type | alo) >>> 0, (protHi | ahi) >>> 0);
    }
    const blockIova = iova - (iova % this.blockSize(lvl - 1));
    this.emitPte(tablep, lvl, blockIova, (protLo | type) >>> 0, protHi, ppt - num, 'split');
    this.installTable(tablep, ptep, iova, lvl - 1);
    if (unmapIdxStart >= 0) {
      for (let i = 0; i < num; i++) this.env.tlb?.tlbAddPage(gather!, iova + i * size, size);
      return num * size;
    }
    return this.unmapLvl(gather, iova, size, pgcount, lvl, tablep);
  }

  /** __arm_lpae_unmap() */
  private unmapLvl(gather: IotlbGather | null, iova: number, size: number, pgcount: number, lvl: number, ptep: number): number {
    // Something went horribly wrong and we ran out of page table
    if (lvl === ARM_LPAE_MAX_LEVELS) return 0;
    const idx = this.lvlIdx(iova, lvl);
    ptep += 8 * idx;
    let lo = this.rd1(ptep);
    let hi = this.rhi;
    if (lo === 0 && hi === 0) return 0;
    // If the size matches this level, we're in the right place
    if (size === this.blockSize(lvl)) {
      const num = Math.min(pgcount, this.maxEntries(idx));
      let i = 0;
      // Find and handle non-leaf entries
      for (; i < num; i++) {
        lo = this.rd1(ptep + 8 * i);
        hi = this.rhi;
        if (lo === 0 && hi === 0) break;
        if (!this.isLeaf(lo, lvl)) {
          this.clearPte(ptep + 8 * i, 1, iova + i * size, lvl);
          // Also flush any partial walks
          this.env.tlb?.tlbFlushWalk(iova + i * size, size, this.granule);
          this.freePgtable(lvl + 1, this.ioptToPaddr(lo, hi));
        }
      }
      // Clear the remaining entries
      this.clearPte(ptep, i, iova, lvl);
      if (gather && !gather.queued) for (let j = 0; j < i; j++) this.env.tlb?.tlbAddPage(gather, iova + j * size, size);
      return i * size;
    } else if (this.isLeaf(lo, lvl)) {
      // Insert a table at the next level to map the old region, minus the part we want to unmap
      return this.splitBlkUnmap(gather, iova, size, lo, hi, lvl + 1, ptep, pgcount);
    }
    // Keep on walkin'
    return this.unmapLvl(gather, iova, size, pgcount, lvl + 1, this.ioptToPaddr(lo, hi));
  }

  /**
   * arm_lpae_unmap_pages(): bytes unmapped (0 for a bad page size, an address
   * beyond IAS, or nothing mapped there).
   */
  unmapPages(iova: number, pgsize: number, pgcount: number, gather: IotlbGather | null): number {
    if (!pgsize || !this.hasPgsize(pgsize) || !pgcount) return 0;
    if (iova >= 2 ** this.ias || iova < 0) return 0;
    return this.unmapLvl(gather, iova, pgsize, pgcount, this.startLevel, this.pgd);
  }

  /** arm_lpae_iova_to_phys(): 0 when nothing is mapped at iova. */
  iovaToPhys(iova: number): number {
    if (iova >= 2 ** this.ias || iova < 0) return 0;
    let ptep = this.pgd;
    for (let lvl = this.startLevel; lvl < ARM_LPAE_MAX_LEVELS; lvl++) {
      ptep += 8 * this.lvlIdx(iova, lvl);
      const lo = this.rd1(ptep);
      const hi = this.rhi;
      if (lo === 0 && hi === 0) return 0;
      if (this.isLeaf(lo, lvl)) {
        const bs = this.blockSize(lvl);
        return this.ioptToPaddr(lo, hi) + (iova % bs);
      }
      ptep = this.ioptToPaddr(lo, hi);
    }
    return 0;
  }

  /** The leaf descriptor mapping iova with its level, or null. */
  lookup(iova: number): { level: number; lo: number; hi: number; ptep: number } | null {
    let ptep = this.pgd;
    for (let lvl = this.startLevel; lvl < ARM_LPAE_MAX_LEVELS; lvl++) {
      ptep += 8 * this.lvlIdx(iova, lvl);
      const [lo, hi] = this.rd(ptep);
      if (lo === 0 && hi === 0) return null;
      if (this.isLeaf(lo, lvl)) return { level: lvl, lo, hi, ptep };
      ptep = this.ioptToPaddr(lo, hi);
    }
    return null;
  }

  /** Frees every table page, as arm_lpae_free_pgtable() does. */
  free(): void {
    this.freePgtable(this.startLevel, this.pgd);
  }

  permString(lo: number, hi: number): string {
    let r: boolean;
    let w: boolean;
    if (this.fmt === 'ARM_64_LPAE_S1') {
      r = true;
      w = !(lo & ARM_LPAE_PTE_AP_RDONLY);
    } else {
      r = !!(lo & ARM_LPAE_PTE_HAP_READ);
      w = !!(lo & ARM_LPAE_PTE_HAP_WRITE);
    }
    const x = !(hi & ARM_LPAE_PTE_XN_HI);
    return (r ? 'r' : '-') + (w ? 'w' : '-') + (x ? 'x' : '-') + (this.fmt === 'ARM_64_LPAE_S1' && !(lo & ARM_LPAE_PTE_AP_UNPRIV) ? ' priv' : '');
  }

  /** The populated entries as a tree, for views. */
  /**
   * The live entries, tables with their children. At most `limit` entries are listed (a 2 GiB
   * mapping has half a million pages: an inspector shows the first ones); `truncated` says more exist.
   */
  dump(limit = Infinity): PteView[] & { truncated?: boolean } {
    let left = limit;
    let truncated = false;
    const walk = (table: number, lvl: number, base: number): PteView[] => {
      const out: PteView[] = [];
      const n = lvl === this.startLevel ? this.pgdSize / 8 : this.ptesPerTable;
      const bs = this.blockSize(lvl);
      for (let i = 0; i < n; i++) {
        if (left <= 0) { truncated = true; break; }
        left--;
        const [lo, hi] = this.rd(table + 8 * i);
        if (lo === 0 && hi === 0) continue;
        const iova = base + i * bs;
        const addr = this.ioptToPaddr(lo, hi);
        if (this.isLeaf(lo, lvl)) {
          out.push({ level: lvl, index: i, type: lvl === 3 ? 'page' : 'block', iova: hex(iova), size: bs, pa: hex(addr), desc: descHex(lo, hi), perm: this.permString(lo, hi) });
        } else if ((lo & 3) === ARM_LPAE_PTE_TYPE_TABLE && lvl < 3) {
          out.push({ level: lvl, index: i, type: 'table', iova: hex(iova), size: bs, pa: hex(addr), desc: descHex(lo, hi), perm: '', children: walk(addr, lvl + 1, iova) });
        }
      }
      return out;
    };
    const all: PteView[] & { truncated?: boolean } = walk(this.pgd, this.startLevel, 0);
    if (truncated) all.truncated = true;
    return all;
  }

  /** Count of leaf entries (pages and blocks). */
  leafCount(): number {
    let c = 0;
    const visit = (v: PteView[]) => {
      for (const e of v) {
        if (e.children) visit(e.children);
        else c++;
      }
    };
    visit(this.dump());
    return c;
  }

  /** Exposed for the hardware walker's use of the same bit layout. */
  static readonly ilog2 = ilog2;
}
