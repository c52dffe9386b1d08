/**
 * The facade the analysis engine drives: one emulated system (page allocator,
 * SMMUv3, IOMMU core, dma-iommu and the DMA API), built from a checked
 * configuration and forkable in O(changed state).
 */
import { DmaApi, DMA_MAPPING_ERROR } from './dma';
import { EmuEvent, hex } from './events';
import { IovaDomain, IovaRange } from './iova';
import { Domain, DomainType, Machine, MachineConfig, ResvRegion } from './iommu';
import { MAX_PAGE_ORDER } from './memory';

export interface SystemConfig {
  /** IOMMU granule, which is also the kernel's PAGE_SIZE (default 4096) */
  granule?: 4096 | 16384 | 65536;
  /** input address size of IOMMU domains, bits (default 48) */
  ias?: number;
  /** output (physical) address size, bits (default 48) */
  oas?: number;
  /** translation stage used by paging domains (default 1) */
  stage?: 1 | 2;
  /** strict invalidation (default true); false runs dma-iommu's flush queue */
  strict?: boolean;
  /** extra reserved regions; the SMMU's software MSI window is always there */
  reservedRegions?: { start: number; length: number; type: 'msi' | 'reserved' | 'direct' }[];
  streamTable?: 'linear' | '2level';
  sidBits?: number;
  ssidBits?: number;
  devices?: { name: string; streamId: number; ssidBits?: number }[];
  /** emulated DRAM (default 1 GiB at 0x40000000) */
  memoryBase?: number;
  memorySize?: number;
  /** IOTLB entries before it is flushed whole (default 4096) */
  iotlbSize?: number;
}

/** A rejected configuration; `field` names the offending field. */
export class ConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'ConfigError';
  }
}

export type { EmuEvent };

export interface System {
  fork(): System;
  device(name: string): number;
  allocPages(order: number): number;
  freePages(pa: number, order: number): void;
  initIovaDomain(granule: number, startPfn: number): number;
  allocIova(iovad: number, size: number, limitPfn: number, sizeAligned: boolean): { pfnLo: number; pfnHi: number } | null;
  reserveIova(iovad: number, pfnLo: number, pfnHi: number): { pfnLo: number; pfnHi: number } | null;
  findIova(iovad: number, pfn: number): { pfnLo: number; pfnHi: number } | null;
  freeIova(iovad: number, pfn: number): void;
  allocIovaFast(iovad: number, size: number, limitPfn: number, flushRcache: boolean): number;
  freeIovaFast(iovad: number, pfn: number, size: number): void;
  domainAlloc(type: 'blocked' | 'identity' | 'unmanaged' | 'dma'): number | null;
  domainFree(domain: number): void;
  attachDevice(domain: number, dev: number): number;
  detachDevice(domain: number, dev: number): void;
  getDomainForDev(dev: number): number | null;
  domainInfo(domain: number): { type: string; hasCookie: boolean; pgsizeBitmap: number; iovad: number | null };
  map(domain: number, iova: number, paddr: number, size: number, prot: number): number;
  unmap(domain: number, iova: number, size: number): number;
  iovaToPhys(domain: number, iova: number): number;
  dmaMap(dev: number, paddr: number, size: number, dir: number, fn: string): number;
  dmaUnmap(dev: number, addr: number, size: number, dir: number, fn: string): void;
  dmaMapSg(dev: number, segs: { paddr: number; length: number }[], dir: number): { nents: number; addrs: number[] };
  dmaUnmapSg(dev: number, firstAddr: number, nents: number, dir: number): void;
  dmaAllocCoherent(dev: number, size: number): { cpu: number; dma: number } | null;
  dmaFreeCoherent(dev: number, size: number, cpu: number, dma: number): void;
  dmaPoolCreate(dev: number, size: number, align: number): number;
  dmaPoolAlloc(pool: number): { cpu: number; dma: number } | null;
  dmaPoolFree(pool: number, cpu: number, dma: number): void;
  dmaSync(dev: number, addr: number, size: number, dir: number, fn: string): void;
  flushQueue(dev: number): void;
  translate(streamId: number, ssid: number, iova: number, access: 'read' | 'write'): { pa: number } | { fault: string };
  liveMappings(): { dev: number; addr: number; size: number; dir: number; fn: string }[];
  drainEvents(): EmuEvent[];
  inspect(): Record<string, unknown>;
  counters(): Record<string, number>;

  // ---- beyond the contract -------------------------------------------------
  /** dma_mapping_error(): true for DMA_MAPPING_ERROR; marks the mapping checked for dma-debug. */
  dmaMappingError(dev: number, addr: number): boolean;
  /** dma_set_mask_and_coherent(): 0, or -EIO (5) for fewer than 12 or more than 64 bits. */
  dmaSetMask(dev: number, bits: number): number;
  /** dma_pool_destroy() */
  dmaPoolDestroy(pool: number): void;
  /** dma_alloc_attrs()/dma_free_attrs() with the function name recorded. */
  dmaAllocAttrs(dev: number, size: number, fn: string): { cpu: number; dma: number } | null;
  dmaFreeAttrs(dev: number, size: number, cpu: number, dma: number, fn: string): void;
  /** StreamID of a device handle, or -1. */
  streamIdOf(dev: number): number;
  /** iommu_get_resv_regions() for a device (kernel IOMMU_RESV_* types, lower-case). */
  resvRegions(dev: number): { start: number; length: number; type: string }[];
  /** The events not yet drained, without draining them. */
  peekEvents(): EmuEvent[];
  /** The whole machine, for tests and tools that need the lower layers. */
  readonly machine: Machine;
}

const VALID_OAS = [32, 36, 40, 42, 44, 48, 52];

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

/** Check a configuration and fill in defaults. Throws ConfigError naming the field. */
export function resolveConfig(c: SystemConfig = {}): MachineConfig & { devices: { name: string; streamId: number; ssidBits: number }[] } {
  const granule = c.granule ?? 4096;
  if (![4096, 16384, 65536].includes(granule)) throw new ConfigError('granule', `must be 4096, 16384 or 65536, not ${granule}`);
  const ias = c.ias ?? 48;
  if (!isInt(ias) || ias < 32 || ias > 52) throw new ConfigError('ias', `must be an integer from 32 to 52, not ${ias}`);
  if (ias > 48 && granule !== 65536) throw new ConfigError('ias', `above 48 bits needs the 64K granule (io-pgtable-arm limits ${granule} to 48)`);
  const oas = c.oas ?? 48;
  if (!VALID_OAS.includes(oas)) throw new ConfigError('oas', `must be one of ${VALID_OAS.join(', ')} (the PS encodings), not ${oas}`);
  if (oas > 48 && granule !== 65536) throw new ConfigError('oas', `52 bits needs the 64K granule`);
  const stage = c.stage ?? 1;
  if (stage !== 1 && stage !== 2) throw new ConfigError('stage', `must be 1 or 2, not ${stage}`);
  const strict = c.strict ?? true;
  if (typeof strict !== 'boolean') throw new ConfigError('strict', 'must be true or false');
  const streamTable = c.streamTable ?? '2level';
  if (streamTable !== 'linear' && streamTable !== '2level') throw new ConfigError('streamTable', `must be 'linear' or '2level', not ${String(streamTable)}`);
  const sidBits = c.sidBits ?? 16;
  if (!isInt(sidBits) || sidBits < 1 || sidBits > 32) throw new ConfigError('sidBits', `must be an integer from 1 to 32, not ${sidBits}`);
  if (streamTable === 'linear' && sidBits > 16) throw new ConfigError('sidBits', `a linear stream table holds at most 2^16 STEs here; use streamTable '2level' for ${sidBits} bits`);
  const ssidBits = c.ssidBits ?? 20;
  if (!isInt(ssidBits) || ssidBits < 0 || ssidBits > 20) throw new ConfigError('ssidBits', `must be an integer from 0 to 20, not ${ssidBits}`);
  const memoryBase = c.memoryBase ?? 0x40000000;
  const memorySize = c.memorySize ?? 0x40000000;
  if (!isInt(memoryBase) || memoryBase < 0 || memoryBase % granule) throw new ConfigError('memoryBase', `must be a non-negative multiple of the granule, not ${memoryBase}`);
  if (!isInt(memorySize) || memorySize < granule * 64 || memorySize % granule || memorySize > 2 ** 40) throw new ConfigError('memorySize', `must be a multiple of the granule from 64 pages to 1 TiB, not ${memorySize}`);
  if (memoryBase + memorySize > 2 ** oas) throw new ConfigError('memorySize', `memory ends at ${hex(memoryBase + memorySize)}, beyond the ${oas}-bit output address size`);
  const iotlbSize = c.iotlbSize ?? 4096;
  if (!isInt(iotlbSize) || iotlbSize < 1) throw new ConfigError('iotlbSize', `must be a positive integer, not ${iotlbSize}`);
  const resv: ResvRegion[] = [];
  (c.reservedRegions ?? []).forEach((r, i) => {
    const f = `reservedRegions[${i}]`;
    if (!r || !isInt(r.start) || r.start < 0) throw new ConfigError(`${f}.start`, 'must be a non-negative integer');
    if (!isInt(r.length) || r.length <= 0) throw new ConfigError(`${f}.length`, 'must be a positive integer');
    if (r.start + r.length > 2 ** ias) throw new ConfigError(`${f}.length`, `region ends beyond the ${ias}-bit input address size`);
    if (!['msi', 'reserved', 'direct'].includes(r.type)) throw new ConfigError(`${f}.type`, `must be 'msi', 'reserved' or 'direct', not ${String(r.type)}`);
    if (r.type === 'direct' && (r.start % granule || r.length % granule)) throw new ConfigError(`${f}.start`, 'a direct region must be granule-aligned');
    resv.push({ start: r.start, length: r.length, type: r.type, prot: r.type === 'msi' ? 2 | 8 | 16 : 1 | 2 });
  });
  const devices: { name: string; streamId: number; ssidBits: number }[] = [];
  const names = new Set<string>();
  const sids = new Set<number>();
  (c.devices ?? []).forEach((d, i) => {
    const f = `devices[${i}]`;
    if (!d || typeof d.name !== 'string' || !d.name) throw new ConfigError(`${f}.name`, 'must be a non-empty string');
    if (names.has(d.name)) throw new ConfigError(`${f}.name`, `duplicate device name ${d.name}`);
    if (!isInt(d.streamId) || d.streamId < 0 || d.streamId >= 2 ** sidBits) throw new ConfigError(`${f}.streamId`, `must be an integer below 2^sidBits (${2 ** sidBits})`);
    if (sids.has(d.streamId)) throw new ConfigError(`${f}.streamId`, `StreamID ${hex(d.streamId)} is used twice`);
    const sb = d.ssidBits ?? 0;
    if (!isInt(sb) || sb < 0 || sb > ssidBits) throw new ConfigError(`${f}.ssidBits`, `must be an integer from 0 to ssidBits (${ssidBits})`);
    names.add(d.name);
    sids.add(d.streamId);
    devices.push({ name: d.name, streamId: d.streamId, ssidBits: sb });
  });
  if (!names.has('dev0')) {
    if (sids.has(0x10)) throw new ConfigError('devices', `StreamID 0x10 belongs to the default device dev0`);
    if (0x10 >= 2 ** sidBits) throw new ConfigError('sidBits', `the default device dev0 needs StreamID 0x10`);
    devices.unshift({ name: 'dev0', streamId: 0x10, ssidBits: 0 });
  }
  return { granule, ias, oas, stage, strict, reservedRegions: resv, streamTable, sidBits, ssidBits, memoryBase, memorySize, iotlbSize, devices };
}

class SystemImpl implements System {
  private dma: DmaApi;
  constructor(readonly machine: Machine) {
    this.dma = new DmaApi(machine);
  }

  fork(): System {
    return new SystemImpl(this.machine.clone());
  }

  private get m(): Machine {
    return this.machine;
  }

  device(name: string): number {
    const id = this.m.devByName.get(name);
    if (id !== undefined) return id;
    let sid = this.m.nextSid;
    const used = new Set([...this.m.devices.values()].map((d) => d.sid));
    while (used.has(sid)) sid++;
    if (sid >= 2 ** this.m.cfg.sidBits) return -19; // -ENODEV: no StreamID left
    const d = this.m.addDevice(name, sid);
    return d ? d.id : -12;
  }

  streamIdOf(dev: number): number {
    return this.m.devices.get(dev)?.sid ?? -1;
  }

  allocPages(order: number): number {
    const pa = this.m.alloc.alloc(order);
    if (pa) this.m.mem.discard(pa, 2 ** (this.m.alloc.pageShift + order));
    this.m.log.emit({ kind: pa ? 'page-alloc' : 'page-alloc-fail', text: `alloc_pages(order ${order}) = ${pa ? hex(pa) : 'NULL'}`, order, pa });
    return pa;
  }

  freePages(pa: number, order: number): void {
    const r = this.m.alloc.free(pa, order);
    if (r.ok) {
      this.m.log.emit({ kind: 'page-free', text: `free_pages(${hex(pa)}, order ${order})`, pa, order });
      return;
    }
    const text =
      r.code === 'wrong-order'
        ? `free_pages(${hex(pa)}, order ${order}): block was allocated with order ${r.order}`
        : r.code === 'double-free'
          ? `free_pages(${hex(pa)}, order ${order}): double free (already freed)`
          : `free_pages(${hex(pa)}, order ${order}): not an allocated block (Bad page state)`;
    this.m.log.emit({ kind: 'page-error', code: r.code, text, pa, order, allocatedOrder: r.order });
  }

  // ---- IOVA allocator -----------------------------------------------------
  initIovaDomain(granule: number, startPfn: number): number {
    if (!(granule > 0 && (granule & (granule - 1)) === 0) || granule > this.m.cfg.granule) {
      // BUG_ON((granule > PAGE_SIZE) || !is_power_of_2(granule))
      this.m.log.emit({ kind: 'bug', text: `init_iova_domain: BUG_ON(granule ${granule} > PAGE_SIZE || !is_power_of_2)`, granule });
      return 0;
    }
    const id = this.m.nextId++;
    this.m.iovads.set(id, new IovaDomain(this.m.ctx, granule, startPfn, this.m.log, id));
    this.m.log.emit({ kind: 'iova-init', text: `init_iova_domain(iovad${id}, ${hex(granule)}, ${hex(startPfn)})`, iovad: id });
    return id;
  }
  private iovad(h: number) {
    const v = this.m.iovads.get(h);
    if (!v) this.m.log.emit({ kind: 'iova-error', text: `iovad ${h} does not exist`, iovad: h });
    return v;
  }
  allocIova(iovad: number, size: number, limitPfn: number, sizeAligned: boolean): IovaRange | null {
    return this.iovad(iovad)?.allocIova(size, limitPfn, sizeAligned) ?? null;
  }
  reserveIova(iovad: number, pfnLo: number, pfnHi: number): IovaRange | null {
    return this.iovad(iovad)?.reserveIova(pfnLo, pfnHi) ?? null;
  }
  findIova(iovad: number, pfn: number): IovaRange | null {
    return this.iovad(iovad)?.findIova(pfn) ?? null;
  }
  freeIova(iovad: number, pfn: number): void {
    this.iovad(iovad)?.freeIova(pfn);
  }
  allocIovaFast(iovad: number, size: number, limitPfn: number, flushRcache: boolean): number {
    return this.iovad(iovad)?.allocIovaFast(size, limitPfn, flushRcache) ?? 0;
  }
  freeIovaFast(iovad: number, pfn: number, size: number): void {
    this.iovad(iovad)?.freeIovaFast(pfn, size);
  }

  // ---- IOMMU core -----------------------------------------------------------
  domainAlloc(type: 'blocked' | 'identity' | 'unmanaged' | 'dma'): number | null {
    if (!['blocked', 'identity', 'unmanaged', 'dma'].includes(type)) return null;
    return this.m.domainAlloc(type as DomainType)?.id ?? null;
  }
  domainFree(domain: number): void {
    this.m.domainFree(domain);
  }
  attachDevice(domain: number, dev: number): number {
    return this.m.attachDevice(domain, dev);
  }
  detachDevice(domain: number, dev: number): void {
    this.m.detachDevice(domain, dev);
  }
  getDomainForDev(dev: number): number | null {
    return this.m.domainForDev(dev)?.id ?? null;
  }
  domainInfo(domain: number): { type: string; hasCookie: boolean; pgsizeBitmap: number; iovad: number | null; strict: boolean; stage: number } {
    const d = this.m.domains.get(domain);
    if (!d) return { type: 'none', hasCookie: false, pgsizeBitmap: 0, iovad: null, strict: true, stage: 0 };
    return { type: d.type, hasCookie: !!d.cookie, pgsizeBitmap: d.pgsizeBitmap, iovad: d.cookie && d.cookie.iovad ? d.cookie.iovad : null, strict: !d.cookie?.fq, stage: d.pgtbl ? d.stage : 0 };
  }
  private dom(domain: number): Domain | undefined {
    return this.m.domains.get(domain);
  }
  map(domain: number, iova: number, paddr: number, size: number, prot: number): number {
    const d = this.dom(domain);
    if (!d) return -22;
    return this.m.iommuMap(d, iova, paddr, size, prot);
  }
  unmap(domain: number, iova: number, size: number): number {
    const d = this.dom(domain);
    if (!d) return 0;
    return this.m.iommuUnmap(d, iova, size);
  }
  iovaToPhys(domain: number, iova: number): number {
    const d = this.dom(domain);
    if (!d) return 0;
    if (d.type === 'identity') return iova;
    return d.pgtbl ? this.m.pt(d).iovaToPhys(iova) : 0;
  }
  resvRegions(_dev: number): { start: number; length: number; type: string }[] {
    return this.m.resvRegions().map((r) => ({ start: r.start, length: r.length, type: r.type }));
  }

  // ---- DMA API --------------------------------------------------------------
  dmaMap(dev: number, paddr: number, size: number, dir: number, fn: string): number {
    return this.dma.map(dev, paddr, size, dir, fn);
  }
  dmaUnmap(dev: number, addr: number, size: number, dir: number, fn: string): void {
    this.dma.unmap(dev, addr, size, dir, fn);
  }
  dmaMappingError(dev: number, addr: number): boolean {
    return this.dma.mappingError(dev, addr);
  }
  dmaSetMask(dev: number, bits: number): number {
    if (!this.m.devices.has(dev) || !isInt(bits) || bits < 12 || bits > 64) return -5;
    const d = this.m.ownDevice(dev);
    const mask = bits >= 53 ? 2 ** 53 - 1 : 2 ** bits - 1;
    d.dmaMask = mask;
    d.coherentDmaMask = mask;
    return 0;
  }
  dmaMapSg(dev: number, segs: { paddr: number; length: number }[], dir: number): { nents: number; addrs: number[]; lens: number[] } {
    return this.dma.mapSg(dev, segs, dir);
  }
  dmaUnmapSg(dev: number, firstAddr: number, nents: number, dir: number): void {
    this.dma.unmapSg(dev, firstAddr, nents, dir);
  }
  dmaAllocCoherent(dev: number, size: number): { cpu: number; dma: number } | null {
    return this.dma.allocCoherent(dev, size);
  }
  dmaFreeCoherent(dev: number, size: number, cpu: number, dma: number): void {
    this.dma.freeCoherent(dev, size, cpu, dma);
  }
  dmaAllocAttrs(dev: number, size: number, fn: string): { cpu: number; dma: number } | null {
    return this.dma.allocCoherent(dev, size, fn);
  }
  dmaFreeAttrs(dev: number, size: number, cpu: number, dma: number, fn: string): void {
    this.dma.freeCoherent(dev, size, cpu, dma, fn);
  }
  dmaPoolCreate(dev: number, size: number, align: number): number {
    return this.dma.poolCreate(dev, size, align);
  }
  dmaPoolAlloc(pool: number): { cpu: number; dma: number } | null {
    return this.dma.poolAlloc(pool);
  }
  dmaPoolFree(pool: number, cpu: number, dma: number): void {
    this.dma.poolFree(pool, cpu, dma);
  }
  dmaPoolDestroy(pool: number): void {
    this.dma.poolDestroy(pool);
  }
  dmaSync(dev: number, addr: number, size: number, dir: number, fn: string): void {
    this.dma.sync(dev, addr, size, dir, fn);
  }
  flushQueue(dev: number): void {
    this.dma.flushQueue(dev);
  }

  translate(streamId: number, ssid: number, iova: number, access: 'read' | 'write'): { pa: number } | { fault: string } {
    const r = this.m.smmu.translate(streamId, ssid, iova, access);
    return 'pa' in r ? { pa: r.pa } : { fault: r.fault };
  }

  liveMappings(): { dev: number; addr: number; size: number; dir: number; fn: string }[] {
    return this.dma.live().map((e) => ({ dev: e.dev, addr: e.addr, size: e.size, dir: e.dir, fn: e.fn }));
  }

  drainEvents(): EmuEvent[] {
    // arm_smmu_evtq_thread(): the records were traced as 'fault' events when written
    this.m.smmu.drainEvtq();
    return this.m.log.drain();
  }
  peekEvents(): EmuEvent[] {
    return this.m.log.peek();
  }

  counters(): Record<string, number> {
    const s = this.m.smmu.counters;
    let iovaRanges = 0;
    for (const v of this.m.iovads.values()) iovaRanges += v.rangeCount;
    return {
      ...s,
      iotlbEntries: this.m.smmu.iotlb.entries,
      freePages: this.m.alloc.freePages,
      allocatedBlocks: this.m.alloc.allocatedBlocks,
      memoryFrames: this.m.mem.framesInUse,
      iovaDomains: this.m.iovads.size,
      iovaRanges,
      liveMappings: this.m.liveMappingCount,
      dmaDebugErrors: this.m.dmaDebugErrors,
      domains: this.m.domains.size,
      devices: this.m.devices.size,
      eventsEmitted: this.m.log.total,
    };
  }

  inspect(): Record<string, unknown> {
    const m = this.m;
    const smmu = m.smmu;
    const devices = [...m.devices.values()].map((d) => {
      const ste = smmu.steDecoded(d.sid);
      const cds = typeof ste !== 'string' && ste.config & 1 ? [smmu.cdView(ste, 0)] : [];
      return { handle: d.id, name: d.name, streamId: d.sid, group: d.group, domain: m.domainForDev(d.id)?.id ?? null, dmaMask: hex(d.dmaMask), ste: smmu.steView(d.sid), cds };
    });
    const domains = [...m.domains.values()].map((d) => ({
      id: d.id,
      type: d.type,
      default: d.isDefault,
      stage: d.pgtbl ? d.stage : null,
      asid: d.pgtbl && d.stage === 1 ? d.tag : null,
      vmid: d.pgtbl && d.stage === 2 ? d.tag : null,
      pgsizeBitmap: hex(d.pgsizeBitmap),
      pgd: d.pgtbl ? hex(d.pgtbl.pgd) : null,
      startLevel: d.pgtbl?.startLevel ?? null,
      devices: d.devices.slice(),
      iovad: d.cookie?.iovad || null,
      strict: !d.cookie?.fq,
      flushQueue: d.cookie?.fq?.map((e) => ({ pfn: hex(e.pfn), pages: e.pages })) ?? [],
      ...((): { pageTable: unknown[]; pageTableTruncated?: boolean } => {
        // A snapshot lists at most 4,096 entries per domain (a 2 GiB mapping would be 68 MB of JSON).
        const pt = d.pgtbl ? m.pt(d).dump(4096) : [];
        return { pageTable: pt, ...((pt as { truncated?: boolean }).truncated ? { pageTableTruncated: true } : {}) };
      })(),
    }));
    return {
      config: { ...m.cfg, reservedRegions: m.cfg.reservedRegions.map((r) => ({ ...r, start: hex(r.start) })) },
      smmu: {
        strtab: { base: hex(smmu.strtabBase), format: smmu.strtabFmt, log2size: smmu.strtabLog2Size, split: 8 },
        cmdq: { base: hex(smmu.cmdq.base), prod: smmu.cmdq.prod, cons: smmu.cmdq.cons, entries: smmu.cmdqEntries() },
        evtq: { base: hex(smmu.evtq.base), prod: smmu.evtq.prod, cons: smmu.evtq.cons, overflow: smmu.evtq.overflow, pending: smmu.pendingEvents() },
        gerror: smmu.gerror,
        configCache: smmu.cachedConfig(),
        iotlb: smmu.iotlb.dump(),
      },
      devices,
      groups: [...m.groups.values()].map((g) => ({ id: g.id, devices: g.devices.slice(), domain: g.domain, defaultDomain: g.defaultDomain })),
      domains,
      iovads: [...m.iovads.values()].map((v) => v.inspect()),
      reservedRegions: m.resvRegions().map((r) => ({ start: hex(r.start), length: hex(r.length), type: r.type })),
      dmaDebug: this.dma.live().map((e) => ({ dev: e.dev, addr: hex(e.addr), size: e.size, dir: e.dir, fn: e.fn, type: e.type, paddr: hex(e.paddr), mapErr: e.mapErr })),
      pages: m.alloc.blocks().map((b) => ({ pa: hex(b.pa), order: b.order })),
      counters: this.counters(),
      pendingEvents: m.log.pending,
    };
  }
}

/**
 * Build a system: page allocator, SMMUv3 (probed and reset), dev0 at StreamID
 * 0x10 and the configured devices, each in its own group with a default DMA
 * domain. Throws ConfigError (naming the field) for a bad configuration; this is
 * the only place the emulator throws.
 */
export function createSystem(config?: SystemConfig): System {
  const cfg = resolveConfig(config);
  const m = new Machine(cfg);
  if (!m.drv.probe(cfg.streamTable)) throw new ConfigError('memorySize', 'too small for the stream table and queues');
  for (const d of cfg.devices) {
    if (!m.addDevice(d.name, d.streamId, d.ssidBits)) throw new ConfigError('memorySize', `too small to set up device ${d.name}`);
  }
  m.log.drain(); // start with an empty trace
  return new SystemImpl(m);
}

export { DMA_MAPPING_ERROR, MAX_PAGE_ORDER };
