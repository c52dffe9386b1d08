/**
 * The facade the analysis engine drives: one emulated system (page allocator,
 * SMMUv3, IOMMU core, dma-iommu and the DMA API), built from a checked
 * configuration and forkable in O(changed state).
 */
import { DmaApi, DMA_MAPPING_ERROR } from './dma';
import { EmuEvent, hex } from './events';
import { IovaDomain, IovaRange } from './iova';
import { Device, Domain, DomainType, Machine, MachineConfig, ResvRegion, SmmuMode, SMMU_MODES } from './iommu';
import { MAX_PAGE_ORDER } from './memory';
import { GERROR } from './smmu-v3';
import { Vfio } from './vfio';

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
  /**
   * How the system was booted (default 'translate'): 'passthrough' is iommu.passthrough=1
   * (identity default domains), 'bypass' is arm-smmu-v3.disable_bypass=0 (streams no domain
   * is attached to bypass), 'no-smmu' has no SMMU node at all (no translation).
   */
  mode?: SmmuMode;
  /** the SMMU has a PRI queue (SMMU_IDR0.PRI); default: when a device has `pri` */
  pri?: boolean;
  /** ssidBits: the device's PASID width (its CD table); pri: PCIe ATS/PRI enabled */
  devices?: { name: string; streamId: number; ssidBits?: number; pri?: boolean }[];
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
  /** iommu_unmap_fast(): unmapped, the IOTLB invalidation only gathered (`tag` labels the unmap). */
  unmapFast(domain: number, iova: number, size: number, tag: string): number;
  /** iommu_iotlb_sync(domain, gather), or iommu_flush_iotlb_all() when `all`: how many gathered unmaps it invalidated. */
  iotlbSync(domain: number, all?: boolean): number;
  /** The fast-unmapped ranges of the domain the IOTLB may still translate (not yet synced). */
  /** Ranges iommu_unmap_fast() took out whose IOTLB invalidation is only gathered, with the physical pages they mapped. */
  unsyncedRanges(domain: number): { iova: number; size: number; tag: string; pages: [number, number][] }[];
  /** Every domain's unsynced range that mapped the physical address `pa` (a page freed before the sync). */
  unsyncedAt(pa: number, bytes: number): { domain: number; iova: number; size: number; tag: string } | undefined;
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

  // ---- the seeds' remaining systems -----------------------------------------
  /** iommu_attach_device_pasid(): 0 or a negative errno (see Machine.attachDevicePasid). */
  attachDevicePasid(domain: number, dev: number, pasid: number): number;
  /** iommu_detach_device_pasid() */
  detachDevicePasid(domain: number, dev: number, pasid: number): void;
  /**
   * The device issues one DMA access (with a PASID, or 0 for none): the physical address and
   * how it got there, or the fault (an event record queued when the SMMU records one). Traced.
   */
  dmaAccess(dev: number, addr: number, access: 'read' | 'write', pasid?: number): DeviceAccess;
  /**
   * A PCIe page request (ATS/PRI) from the device: a PRI record, the driver's priq thread, and
   * the PRG response the device gets ('DENY' from 6.12's arm_smmu_handle_ppr()), 'pending',
   * 'lost' (no PRI queue, or it overflowed), or 'unsupported' (the device has no PRI).
   */
  pageRequest(dev: number, pasid: number, iova: number, access: 'read' | 'write', opts?: { grpid?: number; last?: boolean }): string;
  /** VFIO_SET_IOMMU for the device's group: a container id, or a negative errno. */
  vfioOpen(dev: number, memlockBytes?: number): number;
  /** VFIO_IOMMU_MAP_DMA: 0 or a negative errno (see Vfio.mapDma). */
  vfioMapDma(container: number, vaddr: number, iova: number, size: number, prot: number): number;
  /** VFIO_IOMMU_UNMAP_DMA: bytes unmapped, or a negative errno. */
  vfioUnmapDma(container: number, iova: number, size: number): number;
  /** What sysfs shows of the device's iommu_group, or null when it has none (no SMMU). */
  iommuGroup(dev: number): { group: number; type: string; devices: string[]; reservedRegions: string[] } | null;

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

/** The outcome of one device access (System.dmaAccess). */
export type DeviceAccess =
  | { pa: number; via: 'translated' | 'bypass' | 'no-smmu' }
  | { fault: string; recorded: boolean };

const VALID_OAS = [32, 36, 40, 42, 44, 48, 52];

function isInt(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x);
}

/** Check a configuration and fill in defaults. Throws ConfigError naming the field. */
export function resolveConfig(c: SystemConfig = {}): MachineConfig & { devices: { name: string; streamId: number; ssidBits: number; pri: boolean }[] } {
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
  const mode = c.mode ?? 'translate';
  if (!SMMU_MODES.includes(mode)) throw new ConfigError('mode', `must be one of ${SMMU_MODES.join(', ')}, not ${String(mode)}`);
  const devices: { name: string; streamId: number; ssidBits: number; pri: boolean }[] = [];
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
    if (d.pri !== undefined && typeof d.pri !== 'boolean') throw new ConfigError(`${f}.pri`, 'must be true or false');
    names.add(d.name);
    sids.add(d.streamId);
    devices.push({ name: d.name, streamId: d.streamId, ssidBits: sb, pri: !!d.pri });
  });
  if (!names.has('dev0')) {
    if (sids.has(0x10)) throw new ConfigError('devices', `StreamID 0x10 belongs to the default device dev0`);
    if (0x10 >= 2 ** sidBits) throw new ConfigError('sidBits', `the default device dev0 needs StreamID 0x10`);
    devices.unshift({ name: 'dev0', streamId: 0x10, ssidBits: 0, pri: false });
  }
  if (c.pri !== undefined && typeof c.pri !== 'boolean') throw new ConfigError('pri', 'must be true or false');
  const pri = c.pri ?? devices.some((d) => d.pri);
  if (!pri && devices.some((d) => d.pri)) throw new ConfigError('pri', 'a device has PRI but the SMMU has no PRI queue');
  return { granule, ias, oas, stage, strict, reservedRegions: resv, streamTable, sidBits, ssidBits, memoryBase, memorySize, iotlbSize, mode, pri, devices };
}

class SystemImpl implements System {
  private dma: DmaApi;
  private vfio: Vfio;
  constructor(readonly machine: Machine) {
    this.dma = new DmaApi(machine);
    this.vfio = new Vfio(machine);
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
  unmapFast(domain: number, iova: number, size: number, tag: string): number {
    const d = this.dom(domain);
    if (!d) return 0;
    return this.m.iommuUnmapFast(d.id, iova, size, tag);
  }
  iotlbSync(domain: number, all = false): number {
    return this.dom(domain) ? this.m.syncGathered(domain, all) : 0;
  }
  unsyncedRanges(domain: number): { iova: number; size: number; tag: string; pages: [number, number][] }[] {
    return (this.dom(domain)?.unsynced ?? []).map((r) => ({ iova: r.iova, size: r.size, tag: r.tag, pages: (r.pages ?? []).map((x) => [x[0], x[1]] as [number, number]) }));
  }
  unsyncedAt(pa: number, bytes: number): { domain: number; iova: number; size: number; tag: string } | undefined {
    for (const [id, d] of this.m.domains) {
      for (const u of d.unsynced ?? []) {
        if ((u.pages ?? []).some(([p, n]) => p < pa + bytes && pa < p + n)) return { domain: id, iova: u.iova, size: u.size, tag: u.tag };
      }
    }
    return undefined;
  }
  iovaToPhys(domain: number, iova: number): number {
    const d = this.dom(domain);
    if (!d) return 0;
    if (d.type === 'identity') return iova;
    return d.pgtbl ? this.m.pt(d).iovaToPhys(iova) : 0;
  }
  resvRegions(dev: number): { start: number; length: number; type: string }[] {
    const d = this.m.devices.get(dev);
    if (d && !this.m.groups.has(d.group)) return [];
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
    if (this.m.cfg.mode === 'no-smmu') return { pa: iova }; // nothing between the device and memory
    const r = this.m.smmu.translate(streamId, ssid, iova, access);
    return 'pa' in r ? { pa: r.pa } : { fault: r.fault };
  }

  /** One access by dev; `dry` (for views) neither records, caches nor traces. */
  private access(d: Device, addr: number, access: 'read' | 'write', pasid: number, dry: boolean): DeviceAccess {
    if (this.m.cfg.mode === 'no-smmu') return { pa: addr, via: 'no-smmu' };
    const smmu = this.m.smmu;
    const r = dry ? smmu.probe(d.sid, pasid, addr, access) : smmu.translate(d.sid, pasid, addr, access);
    if ('fault' in r) return { fault: r.fault, recorded: r.record };
    const ste = smmu.steDecoded(d.sid);
    const bypass = typeof ste !== 'string' && (ste.config === 4 || (ste.config === 5 && !pasid && ste.s1dss === 1));
    return { pa: r.pa, via: bypass ? 'bypass' : 'translated' };
  }

  dmaAccess(dev: number, addr: number, access: 'read' | 'write', pasid = 0): DeviceAccess {
    const d = this.m.devices.get(dev);
    if (!d) return { fault: 'no such device', recorded: false };
    const r = this.access(d, addr, access, pasid, false);
    this.m.log.emit({ kind: 'device-access', text: `${d.name} (sid ${hex(d.sid)}${pasid ? ` pasid ${pasid}` : ''}) ${access} ${hex(addr)} -> ${accessText(r)}`, dev, addr, access, pasid, ...r });
    return r;
  }

  pageRequest(dev: number, pasid: number, iova: number, access: 'read' | 'write', opts: { grpid?: number; last?: boolean } = {}): string {
    const d = this.m.devices.get(dev);
    if (!d || this.m.cfg.mode === 'no-smmu' || !d.pri) {
      this.m.log.emit({ kind: 'pri', text: `${d?.name ?? 'device ' + dev}: no PRI capability: page request not sent`, dev });
      return 'unsupported';
    }
    return this.m.smmu.pageRequest(d.sid, pasid, iova, { read: access === 'read', write: access === 'write' }, opts.grpid ?? 1, opts.last ?? true);
  }

  attachDevicePasid(domain: number, dev: number, pasid: number): number {
    return this.m.attachDevicePasid(domain, dev, pasid);
  }
  detachDevicePasid(domain: number, dev: number, pasid: number): void {
    this.m.detachDevicePasid(domain, dev, pasid);
  }

  vfioOpen(dev: number, memlockBytes?: number): number {
    return this.vfio.open(dev, memlockBytes);
  }
  vfioMapDma(container: number, vaddr: number, iova: number, size: number, prot: number): number {
    return this.vfio.mapDma(container, vaddr, iova, size, prot);
  }
  vfioUnmapDma(container: number, iova: number, size: number): number {
    return this.vfio.unmapDma(container, iova, size);
  }

  iommuGroup(dev: number): { group: number; type: string; devices: string[]; reservedRegions: string[] } | null {
    const d = this.m.devices.get(dev);
    const g = d ? this.m.groups.get(d.group) : undefined;
    if (!g) return null;
    return { group: g.sysfs, type: this.m.groupType(g), devices: g.devices.map((x) => this.m.devices.get(x)?.name ?? String(x)), reservedRegions: this.m.sysfsReservedRegions() };
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
    const noSmmu = m.cfg.mode === 'no-smmu';
    const live = this.dma.live();
    // A snapshot lists at most 4,096 entries per domain (a 2 GiB mapping would be 68 MB of JSON).
    const dumps = new Map<number, ReturnType<ReturnType<Machine['pt']>['dump']>>();
    for (const d of m.domains.values()) dumps.set(d.id, d.pgtbl ? m.pt(d).dump(4096) : []);
    const devices = [...m.devices.values()].map((d) => {
      const g = m.groups.get(d.group);
      const base = { handle: d.id, name: d.name, streamId: d.sid, group: g ? g.sysfs : null, domain: m.domainForDev(d.id)?.id ?? null, dmaMask: hex(d.dmaMask) };
      // what the device's DMA does now: its live DMA-API addresses (the first few), probed without side effects
      const accesses = live.filter((e) => e.dev === d.id).slice(0, 4).map((e) => ({ addr: hex(e.addr), fn: e.fn, ...accessView(this.access(d, e.addr, 'read', 0, true)) }));
      if (noSmmu) return { ...base, iommu: 'none (no SMMU node)', accesses };
      const ste = smmu.steDecoded(d.sid);
      // every context descriptor in use: SSID 0 (the RID's domain) and each attached PASID
      const ssids = [0, ...Object.keys(d.pasids).map(Number).sort((a, b) => a - b)];
      const cds = typeof ste !== 'string' && ste.config & 1 ? ssids.filter((x) => x || ste.s1dss === 2).map((x) => ({ ...smmu.cdView(ste, x), domain: x ? d.pasids[x] : (m.domainForDev(d.id)?.id ?? null) })) : [];
      for (const [p, domId] of Object.entries(d.pasids)) {
        const leaf = firstLeaf(dumps.get(domId)?.[0]);
        if (leaf !== undefined) accesses.push({ addr: hex(leaf), fn: `pasid ${p}`, ...accessView(this.access(d, leaf, 'read', Number(p), true)) });
      }
      return { ...base, pri: d.pri, pasids: Object.entries(d.pasids).map(([p, x]) => ({ pasid: Number(p), domain: x })), ste: smmu.steView(d.sid), cds, accesses };
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
      pasids: d.pasids.map((x) => ({ dev: x.dev, pasid: x.pasid })),
      iovad: d.cookie?.iovad || null,
      strict: !d.cookie?.fq,
      flushQueue: d.cookie?.fq?.map((e) => ({ pfn: hex(e.pfn), pages: e.pages })) ?? [],
      ...((): { pageTable: unknown[]; pageTableTruncated?: boolean } => {
        const pt = dumps.get(d.id)!;
        return { pageTable: pt, ...((pt as { truncated?: boolean }).truncated ? { pageTableTruncated: true } : {}) };
      })(),
    }));
    const q = (x: { prod: number; cons: number; ovflg: boolean }) => ({ prod: hex(x.prod + (x.ovflg ? 2 ** 31 : 0)), cons: x.cons });
    const active = smmu.gerrorActive;
    return {
      config: { ...m.cfg, reservedRegions: m.cfg.reservedRegions.map((r) => ({ ...r, start: hex(r.start) })) },
      smmu: noSmmu ? { present: false, mode: m.cfg.mode, note: 'no SMMU node: devices reach memory untranslated' } : {
        mode: m.cfg.mode,
        strtab: { base: hex(smmu.strtabBase), format: smmu.strtabFmt, log2size: smmu.strtabLog2Size, split: 8 },
        cmdq: { base: hex(smmu.cmdq.base), prod: smmu.cmdq.prod, cons: smmu.cmdq.cons, consReg: '0x' + smmu.cmdqConsReg.toString(16).padStart(8, '0'), err: ['CERROR_NONE', 'CERROR_ILL', 'CERROR_ABT', 'CERROR_ATC_INV_SYNC'][smmu.cmdq.err], entries: smmu.cmdqEntries() },
        evtq: { base: hex(smmu.evtq.base), ...q(smmu.evtq), overflow: smmu.evtq.overflow, pending: smmu.pendingEvents(), recent: smmu.recentEvents() },
        priq: smmu.cfg.pri ? { base: hex(smmu.priq.base), ...q(smmu.priq), overflow: smmu.priq.overflow, recent: smmu.recentPri(), lastResponse: smmu.lastPriResp } : { present: false },
        gerror: {
          gerror: '0x' + smmu.gerror.toString(16).padStart(8, '0'),
          gerrorn: '0x' + smmu.gerrorn.toString(16).padStart(8, '0'),
          active: Object.entries(GERROR).filter(([, b]) => active & b).map(([k]) => k),
          raised: smmu.gerrorLog.map((e) => e.text),
        },
        configCache: smmu.cachedConfig(),
        iotlb: smmu.iotlb.dump(),
      },
      devices,
      groups: [...m.groups.values()].map((g) => ({ id: g.id, sysfs: `/sys/kernel/iommu_groups/${g.sysfs}`, type: m.groupType(g), devices: g.devices.slice(), deviceNames: g.devices.map((x) => m.devices.get(x)?.name ?? String(x)), domain: g.domain, defaultDomain: g.defaultDomain, reservedRegions: m.sysfsReservedRegions() })),
      vfio: m.vfio.entries().map(([, c]) => this.vfio.view(c)),
      pinnedPages: m.pins.size,
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
  if (cfg.mode !== 'no-smmu' && !m.drv.probe(cfg.streamTable)) throw new ConfigError('memorySize', 'too small for the stream table and queues');
  for (const d of cfg.devices) {
    if (!m.addDevice(d.name, d.streamId, d.ssidBits, d.pri)) throw new ConfigError('memorySize', `too small to set up device ${d.name}`);
  }
  m.log.drain(); // start with an empty trace
  return new SystemImpl(m);
}

function accessText(r: DeviceAccess): string {
  if ('pa' in r) return `pa ${hex(r.pa)} (${r.via === 'translated' ? 'translated' : r.via === 'bypass' ? 'bypass: identity' : 'no SMMU: physical'})`;
  return `${r.fault}${r.fault === 'ABORT' ? ' (STE.Config abort: terminated, no event)' : r.recorded ? ' (event recorded)' : ' (no event recorded)'}`;
}

function accessView(r: DeviceAccess): Record<string, unknown> {
  return 'pa' in r ? { result: `pa ${hex(r.pa)}`, via: r.via } : { result: r.fault, recorded: r.recorded };
}

/** The first leaf's IOVA of a page-table dump entry. */
function firstLeaf(e: unknown): number | undefined {
  let n = e as { type?: string; iova?: string; children?: unknown[] } | undefined;
  while (n && n.type === 'table') n = n.children?.[0] as typeof n;
  return n && n.iova ? Number(n.iova) : undefined;
}

export { DMA_MAPPING_ERROR, MAX_PAGE_ORDER };
