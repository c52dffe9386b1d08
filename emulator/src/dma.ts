/**
 * dma-iommu (drivers/iommu/dma-iommu.c) and the DMA API over it, with the
 * bookkeeping of kernel/dma/debug.c (every live mapping with its size, direction
 * and map function; mismatches become 'dma-debug' events carrying debug.c's
 * messages) and dma pools (mm/dmapool.c). CPU addresses equal physical addresses
 * (the emulator's linear map is the identity), and coherent buffers come from
 * one contiguous allocation (iommu_dma_alloc_pages(), not the remap path).
 */
import { DMA_BIDIRECTIONAL, DMA_FROM_DEVICE, DMA_TO_DEVICE, hex, hex16, IOMMU_CACHE, IOMMU_MMIO, IOMMU_READ, IOMMU_WRITE } from './events';
import { newGather } from './io-pgtable-arm';
import { Cookie, DebugEntry, Device, Domain, Machine, Pool, SgRecord } from './iommu';
import { getOrder } from './memory';
import { pnode, PNode } from './pmap';

/** What dma_map_* returns on failure (the kernel's is ~0; no DMA address is negative). */
export const DMA_MAPPING_ERROR = -1;
/** dma-iommu.c IOVA_DEFAULT_FQ_SIZE */
export const IOVA_DEFAULT_FQ_SIZE = 256;

const DIR_NAME = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'];
const fmtAddr = (a: number) => (a === DMA_MAPPING_ERROR ? '0xffffffffffffffff' : hex16(a));

/** dma_info_to_prot() for a coherent device */
export function dmaInfoToProt(dir: number, coherent = true): number {
  const prot = coherent ? IOMMU_CACHE : 0;
  switch (dir) {
    case DMA_BIDIRECTIONAL:
      return prot | IOMMU_READ | IOMMU_WRITE;
    case DMA_TO_DEVICE:
      return prot | IOMMU_READ;
    case DMA_FROM_DEVICE:
      return prot | IOMMU_WRITE;
    default:
      return 0;
  }
}

function typeOf(fn: string): DebugEntry['type'] {
  if (fn.includes('_sg')) return 'scatter-gather';
  if (fn.includes('coherent') || fn.includes('alloc') || fn.includes('free')) return 'coherent';
  if (fn.includes('resource')) return 'resource';
  return 'single';
}

export class DmaApi {
  constructor(public m: Machine) {}

  // ---- dma-debug -------------------------------------------------------------

  private err(dev: Device, code: string, msg: string, extra: Record<string, unknown> = {}): void {
    this.m.dmaDebugErrors++;
    // err_printk(): "DMA-API: <driver> <device>: <message>"
    this.m.log.emit({ kind: 'dma-debug', code, text: `DMA-API: ${dev.name}: ${msg}`, dev: dev.id, ...extra });
  }

  private debugRoot(dev: number): PNode<DebugEntry> | null {
    return this.m.debug.get(dev) ?? null;
  }

  private debugAdd(e: DebugEntry): void {
    const root = this.debugRoot(e.dev);
    this.m.debug.set(e.dev, pnode.set(root, e.addr, e, this.m.ctx.tok));
    this.m.liveMappingCount++;
  }

  private debugDel(dev: number, addr: number): void {
    const root = this.debugRoot(dev);
    const r = pnode.del(root, addr, this.m.ctx.tok);
    this.m.debug.set(dev, r);
    this.m.liveMappingCount--;
  }

  debugFind(dev: number, addr: number): DebugEntry | undefined {
    return pnode.get(this.debugRoot(dev), addr);
  }

  /** check_unmap(): compare a release with the live entry, then drop the entry. */
  checkUnmap(dev: Device, ref: { addr: number; size: number; dir: number; type: DebugEntry['type']; fn: string; paddr?: number; sgCallEnts?: number }): DebugEntry | undefined {
    const entry = this.debugFind(dev.id, ref.addr);
    if (!entry) {
      if (ref.addr === DMA_MAPPING_ERROR) this.err(dev, 'invalid-address', 'device driver tries to free an invalid DMA memory address', { fn: ref.fn });
      else this.err(dev, 'not-allocated', `device driver tries to free DMA memory it has not allocated [device address=${fmtAddr(ref.addr)}] [size=${ref.size} bytes]`, { fn: ref.fn, addr: ref.addr, size: ref.size });
      return undefined;
    }
    if (ref.size !== entry.size) this.err(dev, 'size-mismatch', `device driver frees DMA memory with different size [device address=${fmtAddr(ref.addr)}] [map size=${entry.size} bytes] [unmap size=${ref.size} bytes]`, { fn: ref.fn, addr: ref.addr, mapSize: entry.size, unmapSize: ref.size, mapFn: entry.fn });
    if (ref.type !== entry.type) this.err(dev, 'wrong-function', `device driver frees DMA memory with wrong function [device address=${fmtAddr(ref.addr)}] [size=${ref.size} bytes] [mapped as ${entry.type}] [unmapped as ${ref.type}]`, { fn: ref.fn, mapFn: entry.fn, addr: ref.addr });
    else if (entry.type === 'coherent' && ref.paddr !== undefined && ref.paddr !== entry.paddr) this.err(dev, 'cpu-address-mismatch', `device driver frees DMA memory with different CPU address [device address=${fmtAddr(ref.addr)}] [size=${ref.size} bytes] [cpu alloc address=${hex(entry.paddr)}] [cpu free address=${hex(ref.paddr)}]`, { fn: ref.fn, addr: ref.addr });
    if (ref.sgCallEnts && ref.type === 'scatter-gather' && ref.sgCallEnts !== entry.sgCallEnts) this.err(dev, 'sg-count-mismatch', `device driver frees DMA sg list with different entry count [map count=${entry.sgCallEnts}] [unmap count=${ref.sgCallEnts}]`, { fn: ref.fn, mapCount: entry.sgCallEnts, unmapCount: ref.sgCallEnts });
    if (ref.dir !== entry.dir) this.err(dev, 'direction-mismatch', `device driver frees DMA memory with different direction [device address=${fmtAddr(ref.addr)}] [size=${ref.size} bytes] [mapped with ${DIR_NAME[entry.dir]}] [unmapped with ${DIR_NAME[ref.dir]}]`, { fn: ref.fn, addr: ref.addr, mapDir: entry.dir, unmapDir: ref.dir });
    if (entry.mapErr === 'not-checked') this.err(dev, 'map-error-not-checked', `device driver failed to check map error[device address=${fmtAddr(ref.addr)}] [size=${ref.size} bytes] [mapped as ${entry.type}]`, { fn: ref.fn, addr: ref.addr, mapFn: entry.fn });
    this.debugDel(dev.id, ref.addr);
    return entry;
  }

  /** debug_dma_mapping_error(): marks the mapping checked; true for DMA_MAPPING_ERROR. */
  mappingError(devId: number, addr: number): boolean {
    const e = this.debugFind(devId, addr);
    if (e && e.mapErr === 'not-checked') {
      const root = this.debugRoot(devId);
      this.m.debug.set(devId, pnode.set(root, addr, { ...e, mapErr: 'checked' }, this.m.ctx.tok));
    }
    return addr === DMA_MAPPING_ERROR;
  }

  // ---- dma-iommu --------------------------------------------------------------

  private cookieOf(d: Domain): Cookie | null {
    return d.cookie && d.cookie.iovad ? d.cookie : null;
  }

  /** iommu_dma_alloc_iova(): IOVA (bytes) or 0. Platform devices: no PCI 32-bit workaround. */
  allocIova(d: Domain, size: number, dmaLimit: number): number {
    const c = this.cookieOf(d)!;
    const iovad = this.m.iovads.get(c.iovad)!;
    const shift = iovad.shift;
    const len = size / 2 ** shift;
    dmaLimit = Math.min(dmaLimit, d.apertureEnd); // force_aperture
    const pfn = iovad.allocIovaFast(len, Math.floor(dmaLimit / 2 ** shift), true);
    return pfn * 2 ** shift;
  }

  /** iommu_dma_free_iova(): to the flush queue when the unmap was queued. */
  freeIova(d: Domain, iova: number, size: number, queued: boolean): void {
    const c = this.cookieOf(d)!;
    const iovad = this.m.iovads.get(c.iovad)!;
    const pfn = Math.floor(iova / iovad.granule);
    const pages = size / iovad.granule;
    if (queued && c.fq) {
      const od = this.m.ownDomain(d.id);
      this.queueIova(od, od.cookie!, pfn, pages);
    }
    else iovad.freeIovaFast(pfn, pages);
  }

  /** queue_iova(): free what earlier flushes covered; a full ring forces a flush. */
  private queueIova(d: Domain, c: Cookie, pfn: number, pages: number): void {
    this.fqRingFree(c);
    if (c.fq!.length >= IOVA_DEFAULT_FQ_SIZE - 1) {
      this.fqFlushIotlb(d, c);
      this.fqRingFree(c);
    }
    c.fq!.push({ pfn, pages, counter: c.fqFlushStartCnt });
    this.m.log.emit({ kind: 'fq-queue', text: `flush queue: IOVA ${hex(pfn * 2 ** this.m.iovads.get(c.iovad)!.shift)} (${pages} pages) queued, IOTLB not yet invalidated`, domain: d.id, pfn, pages });
  }

  /** fq_ring_free_locked() */
  private fqRingFree(c: Cookie): void {
    const iovad = this.m.iovads.get(c.iovad)!;
    while (c.fq!.length && c.fq![0].counter < c.fqFlushFinishCnt) {
      const e = c.fq!.shift()!;
      iovad.freeIovaFast(e.pfn, e.pages);
    }
  }

  /** fq_flush_iotlb() */
  private fqFlushIotlb(d: Domain, c: Cookie): void {
    c.fqFlushStartCnt++;
    this.m.flushIotlbAll(d);
    c.fqFlushFinishCnt++;
  }

  /** fq_flush_timeout(): what the 10 ms timer does. */
  flushQueue(devId: number): void {
    const d = this.m.dmaDomainForDev(devId);
    if (!d) return;
    if (!this.cookieOf(d) || !d.cookie!.fq) return;
    const od = this.m.ownDomain(d.id);
    const c = od.cookie!;
    const n = c.fq!.length;
    this.fqFlushIotlb(d, c);
    this.fqRingFree(c);
    this.m.log.emit({ kind: 'fq-flush', text: `flush queue of domain ${d.id} flushed: IOTLB invalidated, ${n} IOVA range(s) freed`, domain: d.id, freed: n });
  }

  /** __iommu_dma_map(): IOVA + offset, or DMA_MAPPING_ERROR. */
  iommuDmaMap(dev: Device, d: Domain, phys: number, size: number, prot: number, dmaMask: number): number {
    const c = this.cookieOf(d);
    if (!c) return DMA_MAPPING_ERROR;
    const iovad = this.m.iovads.get(c.iovad)!;
    const off = phys % iovad.granule;
    size = Math.ceil((size + off) / iovad.granule) * iovad.granule;
    const iova = this.allocIova(d, size, dmaMask);
    if (!iova) return DMA_MAPPING_ERROR;
    if (this.m.iommuMap(d, iova, phys - off, size, prot)) {
      this.freeIova(d, iova, size, false);
      return DMA_MAPPING_ERROR;
    }
    return iova + off;
  }

  /** __iommu_dma_unmap(): unmaps and frees whatever size it is given, as the kernel does. */
  iommuDmaUnmap(d: Domain, addr: number, size: number): void {
    const c = this.cookieOf(d);
    if (!c) return;
    const iovad = this.m.iovads.get(c.iovad)!;
    const off = addr % iovad.granule;
    addr -= off;
    size = Math.ceil((size + off) / iovad.granule) * iovad.granule;
    const g = newGather(!!c.fq);
    const unmapped = this.m.iommuUnmapGather(d, addr, size, g);
    if (unmapped !== size) this.m.log.emit({ kind: 'warn', text: `WARN_ON(unmapped != size) in __iommu_dma_unmap: iova ${hex(addr)} size ${hex(size)} unmapped ${hex(unmapped)}`, domain: d.id, iova: addr, size, unmapped });
    if (!g.queued) this.m.iotlbSync(d, g);
    this.freeIova(d, addr, size, g.queued);
  }

  // ---- the DMA API ----------------------------------------------------------

  private dev(devId: number): Device | undefined {
    return this.m.devices.get(devId);
  }

  /**
   * dma_map_page/single/resource: DMA address or DMA_MAPPING_ERROR (unknown
   * device, no IOVA space, map failure). Identity default domains use dma-direct.
   */
  map(devId: number, paddr: number, size: number, dir: number, fn: string): number {
    const dev = this.dev(devId);
    if (!dev) return DMA_MAPPING_ERROR;
    const d = this.m.dmaDomainForDev(devId);
    const type = typeOf(fn);
    let addr: number;
    if (!d || d.type === 'identity') addr = paddr + size - 1 <= dev.dmaMask ? paddr : DMA_MAPPING_ERROR;
    else addr = this.iommuDmaMap(dev, d, paddr, size, dmaInfoToProt(dir) | (type === 'resource' ? IOMMU_MMIO : 0), dev.dmaMask);
    this.m.log.emitLazy({ kind: 'dma-map', dev: devId, fn, paddr, size, dir, addr }, () => `${fn}(${dev.name}, pa ${hex(paddr)}, ${size}, ${DIR_NAME[dir] ?? dir}) = ${fmtAddr(addr)}`);
    if (addr !== DMA_MAPPING_ERROR) this.debugAdd({ dev: devId, addr, size, dir, fn, type, paddr, mapErr: 'not-checked', sgCallEnts: 0, sgMappedEnts: 0 });
    return addr;
  }

  /** dma_unmap_page/single/resource: mismatches become dma-debug events; never throws. */
  unmap(devId: number, addr: number, size: number, dir: number, fn: string): void {
    const dev = this.dev(devId);
    if (!dev) return;
    this.checkUnmap(dev, { addr, size, dir, type: typeOf(fn), fn });
    this.m.log.emitLazy({ kind: 'dma-unmap', dev: devId, fn, addr, size, dir }, () => `${fn}(${dev.name}, ${fmtAddr(addr)}, ${size}, ${DIR_NAME[dir] ?? dir})`);
    const d = this.m.dmaDomainForDev(devId);
    if (d && d.type === 'dma' && addr !== DMA_MAPPING_ERROR) this.iommuDmaUnmap(d, addr, size);
  }

  /** dma_map_sg(): iommu_dma_map_sg() + __finalise_sg(); nents 0 on failure. */
  mapSg(devId: number, segs: { paddr: number; length: number }[], dir: number): { nents: number; addrs: number[]; lens: number[] } {
    const dev = this.dev(devId);
    const fail = { nents: 0, addrs: [], lens: [] };
    if (!dev || !segs.length) return fail;
    const d = this.m.dmaDomainForDev(devId);
    let rec: SgRecord;
    if (!d || d.type === 'identity') {
      rec = { segs: segs.map((s) => ({ ...s })), addrs: segs.map((s) => s.paddr), lens: segs.map((s) => s.length), iova: 0, iovaLen: 0 };
    } else {
      const c = this.cookieOf(d);
      if (!c) return fail;
      const iovad = this.m.iovads.get(c.iovad)!;
      const gran = iovad.granule;
      const mask = 0xffffffff; // dma_get_seg_boundary() default
      const maxLen = 0x10000; // dma_get_max_seg_size() default
      const offs: number[] = [];
      const ilen: number[] = [];
      let iovaLen = 0;
      let prev = -1;
      for (let i = 0; i < segs.length; i++) {
        const off = segs[i].paddr % gran;
        const len = Math.ceil((segs[i].length + off) / gran) * gran;
        const padLen = (mask - iovaLen + 1) % (mask + 1);
        if (padLen && padLen < len - 1 && prev >= 0) {
          ilen[prev] += padLen;
          iovaLen += padLen;
        }
        offs.push(off);
        ilen.push(len);
        iovaLen += len;
        prev = i;
      }
      const iova = this.allocIova(d, iovaLen, dev.dmaMask);
      if (!iova) return fail;
      // iommu_map_sg(): map each segment at its place in the IOVA range
      let cur = iova;
      for (let i = 0; i < segs.length; i++) {
        const r = this.m.iommuMap(d, cur, segs[i].paddr - offs[i], Math.ceil((segs[i].length + offs[i]) / gran) * gran, dmaInfoToProt(dir));
        if (r) {
          if (cur > iova) this.m.iommuUnmap(d, iova, cur - iova);
          this.freeIova(d, iova, iovaLen, false);
          return fail;
        }
        cur += ilen[i];
      }
      // __finalise_sg()
      const addrs: number[] = [];
      const lens: number[] = [];
      let dmaAddr = iova;
      let curLen = 0;
      for (let i = 0; i < segs.length; i++) {
        const sLen = segs[i].length;
        if (curLen && !offs[i] && dmaAddr % (mask + 1) && maxLen - curLen >= sLen) {
          curLen += sLen;
          lens[lens.length - 1] = curLen;
        } else {
          curLen = sLen;
          addrs.push(dmaAddr + offs[i]);
          lens.push(curLen);
        }
        dmaAddr += ilen[i];
        if (sLen + offs[i] < ilen[i]) curLen = 0;
      }
      rec = { segs: segs.map((s) => ({ ...s })), addrs, lens, iova, iovaLen };
    }
    const root = this.m.sg.get(devId) ?? null;
    this.m.sg.set(devId, pnode.set(root, rec.addrs[0], rec, this.m.ctx.tok));
    // debug_dma_map_sg(): one entry per mapped segment
    for (let i = 0; i < rec.addrs.length; i++) this.debugAdd({ dev: devId, addr: rec.addrs[i], size: rec.lens[i], dir, fn: 'dma_map_sg', type: 'scatter-gather', paddr: segs[i]?.paddr ?? 0, mapErr: 'not-applicable', sgCallEnts: segs.length, sgMappedEnts: rec.addrs.length });
    this.m.log.emit({ kind: 'dma-map', text: `dma_map_sg(${dev.name}, ${segs.length} segs, ${DIR_NAME[dir] ?? dir}) = ${rec.addrs.length} [${rec.addrs.map((a, i) => `${hex(a)}+${hex(rec.lens[i])}`).join(', ')}]`, dev: devId, fn: 'dma_map_sg', nents: rec.addrs.length, addr: rec.addrs[0] });
    return { nents: rec.addrs.length, addrs: rec.addrs.slice(), lens: rec.lens.slice() };
  }

  /** dma_unmap_sg(): nents must be the count passed to dma_map_sg. */
  unmapSg(devId: number, firstAddr: number, nents: number, dir: number): void {
    const dev = this.dev(devId);
    if (!dev) return;
    const root = this.m.sg.get(devId) ?? null;
    const rec = pnode.get(root, firstAddr);
    this.m.log.emit({ kind: 'dma-unmap', text: `dma_unmap_sg(${dev.name}, ${fmtAddr(firstAddr)}, ${nents}, ${DIR_NAME[dir] ?? dir})`, dev: devId, fn: 'dma_unmap_sg', addr: firstAddr, nents, dir });
    if (!rec) {
      this.checkUnmap(dev, { addr: firstAddr, size: 0, dir, type: 'scatter-gather', fn: 'dma_unmap_sg', sgCallEnts: nents });
      return;
    }
    // debug_dma_unmap_sg(): one check per mapped entry (no more than nents)
    for (let i = 0; i < rec.addrs.length && i < nents; i++) this.checkUnmap(dev, { addr: rec.addrs[i], size: rec.lens[i], dir, type: 'scatter-gather', fn: 'dma_unmap_sg', sgCallEnts: nents });
    this.m.sg.set(devId, pnode.del(root, firstAddr, this.m.ctx.tok));
    const d = this.m.dmaDomainForDev(devId);
    if (d && d.type === 'dma' && rec.iovaLen) {
      const n = Math.min(nents, rec.addrs.length);
      const end = rec.addrs[n - 1] + rec.lens[n - 1];
      this.iommuDmaUnmap(d, rec.addrs[0], end - rec.addrs[0]);
    }
  }

  /** dma_alloc_coherent(): {cpu, dma} or null when pages or IOVA space run out. */
  allocCoherent(devId: number, size: number, fn = 'dma_alloc_coherent'): { cpu: number; dma: number } | null {
    const dev = this.dev(devId);
    if (!dev || size <= 0) return null;
    const order = getOrder(size, this.m.alloc.pageShift);
    const pa = this.m.alloc.alloc(order);
    if (!pa) {
      this.m.log.emit({ kind: 'dma-alloc-fail', text: `${fn}(${dev.name}, ${size}) = NULL (out of pages)`, dev: devId, size });
      return null;
    }
    const d = this.m.dmaDomainForDev(devId);
    let dma: number;
    if (!d || d.type === 'identity') dma = pa + size - 1 <= dev.coherentDmaMask ? pa : DMA_MAPPING_ERROR;
    else dma = this.iommuDmaMap(dev, d, pa, size, dmaInfoToProt(DMA_BIDIRECTIONAL), dev.coherentDmaMask);
    if (dma === DMA_MAPPING_ERROR) {
      this.m.alloc.free(pa, order);
      this.m.log.emit({ kind: 'dma-alloc-fail', text: `${fn}(${dev.name}, ${size}) = NULL (no IOVA space)`, dev: devId, size });
      return null;
    }
    this.debugAdd({ dev: devId, addr: dma, size, dir: DMA_BIDIRECTIONAL, fn, type: 'coherent', paddr: pa, mapErr: 'not-applicable', sgCallEnts: 0, sgMappedEnts: 0 });
    this.m.log.emit({ kind: 'dma-alloc', text: `${fn}(${dev.name}, ${size}) = cpu ${hex(pa)} dma ${hex(dma)}`, dev: devId, fn, size, cpu: pa, dma });
    return { cpu: pa, dma };
  }

  /** dma_free_coherent(): debug checks, unmap, then free the pages at cpu. */
  freeCoherent(devId: number, size: number, cpu: number, dma: number, fn = 'dma_free_coherent'): void {
    const dev = this.dev(devId);
    if (!dev) return;
    this.checkUnmap(dev, { addr: dma, size, dir: DMA_BIDIRECTIONAL, type: 'coherent', fn, paddr: cpu });
    this.m.log.emit({ kind: 'dma-free', text: `${fn}(${dev.name}, ${size}, cpu ${hex(cpu)}, dma ${hex(dma)})`, dev: devId, fn, size, cpu, dma });
    const d = this.m.dmaDomainForDev(devId);
    if (d && d.type === 'dma') this.iommuDmaUnmap(d, dma, size);
    const r = this.m.alloc.free(cpu, getOrder(size, this.m.alloc.pageShift));
    if (!r.ok) this.m.log.emit({ kind: 'page-error', code: r.code, text: `${fn}: pages at ${hex(cpu)} ${r.code === 'wrong-order' ? `freed with order ${getOrder(size, this.m.alloc.pageShift)}, allocated with ${r.order}` : 'were not allocated'}`, pa: cpu });
  }

  /**
   * dma_sync_single_for_{cpu,device}(): check_sync(). A range that is not inside
   * one live mapping is reported ('sync-out-of-range' when it starts inside one).
   */
  sync(devId: number, addr: number, size: number, dir: number, fn: string): void {
    const dev = this.dev(devId);
    if (!dev) return;
    const toCpu = fn.includes('for_cpu');
    const root = this.debugRoot(devId);
    const f = pnode.floor(root, addr);
    const entry = f && addr + size <= f.v.addr + f.v.size ? f.v : undefined;
    this.m.log.emit({ kind: 'dma-sync', text: `${fn}(${dev.name}, ${fmtAddr(addr)}, ${size}, ${DIR_NAME[dir] ?? dir})`, dev: devId, fn, addr, size, dir });
    if (!entry) {
      const starts = f && addr < f.v.addr + f.v.size;
      this.err(dev, starts ? 'sync-out-of-range' : 'sync-not-allocated', `device driver tries to sync DMA memory it has not allocated [device address=${fmtAddr(addr)}] [size=${size} bytes]`, { fn, addr, size, mapSize: starts ? f!.v.size : undefined });
      return;
    }
    if (entry.dir === DMA_BIDIRECTIONAL) return;
    if (dir !== entry.dir) this.err(dev, 'sync-direction-mismatch', `device driver syncs DMA memory with different direction [device address=${fmtAddr(addr)}] [size=${entry.size} bytes] [mapped with ${DIR_NAME[entry.dir]}] [synced with ${DIR_NAME[dir]}]`, { fn, addr });
    if (toCpu && entry.dir !== DMA_FROM_DEVICE && dir !== DMA_TO_DEVICE) this.err(dev, 'sync-read-only', `device driver syncs device read-only DMA memory for cpu [device address=${fmtAddr(addr)}] [size=${entry.size} bytes] [mapped with ${DIR_NAME[entry.dir]}] [synced with ${DIR_NAME[dir]}]`, { fn, addr });
    if (!toCpu && entry.dir !== DMA_TO_DEVICE && dir !== DMA_FROM_DEVICE) this.err(dev, 'sync-write-only', `device driver syncs device write-only DMA memory to device [device address=${fmtAddr(addr)}] [size=${entry.size} bytes] [mapped with ${DIR_NAME[entry.dir]}] [synced with ${DIR_NAME[dir]}]`, { fn, addr });
  }

  // ---- dma pools (mm/dmapool.c) ---------------------------------------------

  /** dma_pool_create(): pool handle, or 0 for a bad size/align (the kernel's NULL). */
  poolCreate(devId: number, size: number, align: number): number {
    if (!this.dev(devId)) return 0;
    if (align === 0) align = 1;
    else if (align & (align - 1)) return 0;
    if (size <= 0 || size > 0x7fffffff) return 0;
    if (size < 16) size = 16; // sizeof(struct dma_block)
    size = Math.ceil(size / align) * align;
    const allocation = Math.max(size, this.m.alloc.pageSize);
    const id = this.m.nextId++;
    this.m.pools.set(id, { o: this.m.ctx.tok, id, dev: devId, size, align, allocation, boundary: allocation, pages: [], free: [], freed: false });
    this.m.log.emit({ kind: 'dma-pool', text: `dma_pool_create(pool${id}, ${this.dev(devId)!.name}, ${size}, ${align})`, pool: id });
    return id;
  }

  private ownPool(id: number): Pool | undefined {
    return this.m.pools.getMut(id, (p, tok) => ({ ...p, o: tok, pages: p.pages.slice(), free: p.free.slice() }));
  }

  /** dma_pool_alloc(): a block, or null when no page can be added. */
  poolAlloc(id: number): { cpu: number; dma: number } | null {
    const p = this.ownPool(id);
    if (!p || p.freed) return null;
    if (!p.free.length) {
      // pool_alloc_page() + pool_initialise_page(): blocks handed out lowest first
      const r = this.allocCoherent(p.dev, p.allocation, 'dma_pool_alloc');
      if (!r) return null;
      p.pages.push(r);
      const blocks: number[] = [];
      for (let off = 0; off + p.size <= p.allocation; off += p.size) blocks.push(r.cpu + off);
      for (let i = blocks.length - 1; i >= 0; i--) p.free.push(blocks[i]);
    }
    const cpu = p.free.pop()!;
    const page = p.pages.find((pg) => cpu >= pg.cpu && cpu < pg.cpu + p.allocation)!;
    const dma = page.dma + (cpu - page.cpu);
    this.m.log.emit({ kind: 'dma-pool-alloc', text: `dma_pool_alloc(pool${id}) = cpu ${hex(cpu)} dma ${hex(dma)}`, pool: id, cpu, dma });
    return { cpu, dma };
  }

  /** dma_pool_free(): a block of no page ("bad dma") or already free is reported. */
  poolFree(id: number, cpu: number, dma: number): void {
    const p = this.ownPool(id);
    if (!p || p.freed) {
      this.m.log.emit({ kind: 'dma-pool-error', text: `dma_pool_free: pool${id} does not exist`, pool: id });
      return;
    }
    const page = p.pages.find((pg) => dma >= pg.dma && dma < pg.dma + p.allocation);
    if (!page) {
      this.m.log.emit({ kind: 'dma-pool-error', code: 'bad-dma', text: `dma_pool_free pool${id}, ${hex(cpu)}/${hex16(dma)} (bad dma)`, pool: id, cpu, dma });
      return;
    }
    if (p.free.includes(cpu)) {
      this.m.log.emit({ kind: 'dma-pool-error', code: 'double-free', text: `dma_pool_free pool${id}, dma ${hex16(dma)} already free`, pool: id, cpu, dma });
      return;
    }
    if (cpu - page.cpu !== dma - page.dma) this.m.log.emit({ kind: 'dma-pool-error', code: 'mismatch', text: `dma_pool_free pool${id}: cpu ${hex(cpu)} and dma ${hex16(dma)} name different blocks`, pool: id, cpu, dma });
    p.free.push(cpu);
    this.m.log.emit({ kind: 'dma-pool-free', text: `dma_pool_free(pool${id}, cpu ${hex(cpu)}, dma ${hex(dma)})`, pool: id, cpu, dma });
  }

  /** dma_pool_destroy(): blocks still in use are reported ("dma_pool_destroy %s, %p busy"). */
  poolDestroy(id: number): void {
    const p = this.ownPool(id);
    if (!p || p.freed) return;
    const blocksPerPage = Math.floor(p.allocation / p.size);
    const busy = p.pages.length * blocksPerPage - p.free.length;
    if (busy) this.m.log.emit({ kind: 'dma-pool-error', code: 'busy', text: `dma_pool_destroy pool${id}, ${busy} block(s) busy`, pool: id, busy });
    else for (const pg of p.pages) this.freeCoherent(p.dev, p.allocation, pg.cpu, pg.dma, 'dma_pool_destroy');
    p.freed = true;
  }

  /** Every live mapping as dma-debug sees it. */
  live(): DebugEntry[] {
    const out: DebugEntry[] = [];
    this.m.debug.forEach((_dev, root) => pnode.forEach(root, (_a, e) => out.push(e)));
    return out;
  }
}
