/**
 * The IOMMU core of drivers/iommu/iommu.c over the arm-smmu-v3 driver model:
 * devices, groups, domains (blocked, identity, unmanaged, DMA with an IOVA
 * cookie), attach/detach, reserved regions, iommu_map/iommu_unmap with the
 * kernel's alignment check and page-size splitting (iommu_pgsize), and the
 * machine state every other layer works on.
 */
import { ArmSmmuV3Driver, makeAbortSte, makeBypassSte, makeS1Cd, makeS2DomainSte } from './arm-smmu-v3';
import { EBUSY, EINVAL, ENODEV, ENOMEM, EventLog, hex, hex16, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE } from './events';
import { ArmLpaeTable, IoPgtableEnv, IotlbGather, newGather } from './io-pgtable-arm';
import { IovaDomain } from './iova';
import { getOrder, PageAllocator, PhysMemory } from './memory';
import { Ctx, newToken, PMap, PNode } from './pmap';
import type { VfioContainer } from './vfio';
import { SmmuV3, STRTAB_STE_1_S1DSS_BYPASS, STRTAB_STE_1_S1DSS_TERMINATE } from './smmu-v3';

export type DomainType = 'blocked' | 'identity' | 'unmanaged' | 'dma';
/**
 * How the machine was booted (shared/seeds/002 "smmu和iommu的bypass"):
 * - translate: IOMMU_DOMAIN_DMA default domains; a stream no domain is attached to aborts
 *   (arm-smmu-v3.disable_bypass=1, the old default and the only behaviour of 6.12);
 * - passthrough: iommu.passthrough=1, identity default domains (STE bypass, dma-direct);
 * - bypass: arm-smmu-v3.disable_bypass=0 (kernels before it was removed): a stream no domain
 *   is attached to bypasses the SMMU; devices still get DMA default domains;
 * - no-smmu: no SMMU node in DT/IORT: no IOMMU at all, devices DMA to physical addresses.
 */
export type SmmuMode = 'translate' | 'passthrough' | 'bypass' | 'no-smmu';
export const SMMU_MODES: readonly SmmuMode[] = ['translate', 'passthrough', 'bypass', 'no-smmu'];
/** include/linux/iommu.h IOMMU_NO_PASID */
export const IOMMU_NO_PASID = 0;
const EOPNOTSUPP = 95;
/** include/linux/iommu.h IOMMU_RESV_* */
export type ResvType = 'direct' | 'direct-relaxable' | 'reserved' | 'msi' | 'sw-msi';

export interface ResvRegion {
  start: number;
  length: number;
  type: ResvType;
  prot: number;
}

/** arm-smmu-v3.h: MSI_IOVA_BASE, MSI_IOVA_LENGTH */
export const MSI_IOVA_BASE = 0x8000000;
export const MSI_IOVA_LENGTH = 0x100000;

export interface FqEntry {
  pfn: number;
  pages: number;
  counter: number;
}

/** struct iommu_dma_cookie (IOMMU_DMA_IOVA_COOKIE) */
export interface Cookie {
  iovad: number;
  /** flush queue (non-strict mode), null in strict mode */
  fq: FqEntry[] | null;
  fqFlushStartCnt: number;
  fqFlushFinishCnt: number;
}

export interface Domain {
  /** owner token (copy-on-write across forks) */
  o: number;
  id: number;
  type: DomainType;
  stage: 1 | 2;
  pgtbl: ArmLpaeTable | null;
  /** ASID (stage 1) or VMID (stage 2) */
  tag: number;
  pgsizeBitmap: number;
  apertureEnd: number;
  cookie: Cookie | null;
  devices: number[];
  /** true for a group's default domain */
  isDefault: boolean;
  freed: boolean;
  /** PASID attachments (iommu_attach_device_pasid) */
  pasids: { dev: number; pasid: number }[];
  /**
   * Ranges iommu_unmap_fast() took out of the page table whose IOTLB invalidation is still
   * gathered (iommu_iotlb_sync() / flush_iotlb_all not yet called): the IOTLB may still translate
   * them to the old pages. `tag` is the caller's label for the unmap.
   */
  unsynced?: { iova: number; size: number; tag: string; pages?: [number, number][] }[];
  /** The gather of those unmaps (struct iommu_iotlb_gather). */
  gather?: IotlbGather;
}

export interface Device {
  o: number;
  id: number;
  name: string;
  sid: number;
  ssidBits: number;
  /** its iommu_group, 0 when it has none (no SMMU) */
  group: number;
  dmaMask: number;
  coherentDmaMask: number;
  /** PCIe PRI (and ATS) capability enabled */
  pri: boolean;
  /** PASID -> domain id of iommu_attach_device_pasid() */
  pasids: Record<number, number>;
}

export interface Group {
  o: number;
  id: number;
  /** the number under /sys/kernel/iommu_groups/ (iommu_group_alloc()'s ida, from 0) */
  sysfs: number;
  devices: number[];
  domain: number | null;
  defaultDomain: number | null;
}

/** The resolved emulator configuration. */
export interface MachineConfig {
  granule: number;
  ias: number;
  oas: number;
  stage: 1 | 2;
  strict: boolean;
  reservedRegions: ResvRegion[];
  streamTable: 'linear' | '2level';
  sidBits: number;
  ssidBits: number;
  memoryBase: number;
  memorySize: number;
  iotlbSize: number;
  mode: SmmuMode;
  /** SMMU_IDR0.PRI: the SMMU has a PRI queue */
  pri: boolean;
}

/** DMA-debug record of a live mapping (kernel/dma/debug.c struct dma_debug_entry). */
export interface DebugEntry {
  dev: number;
  addr: number;
  size: number;
  dir: number;
  fn: string;
  type: 'single' | 'scatter-gather' | 'coherent' | 'resource';
  paddr: number;
  mapErr: 'not-applicable' | 'not-checked' | 'checked';
  sgCallEnts: number;
  sgMappedEnts: number;
}

export interface SgRecord {
  segs: { paddr: number; length: number }[];
  addrs: number[];
  lens: number[];
  iova: number;
  iovaLen: number;
}

export interface Pool {
  o: number;
  id: number;
  dev: number;
  size: number;
  align: number;
  allocation: number;
  boundary: number;
  pages: { cpu: number; dma: number }[];
  /** free blocks, next to hand out last */
  free: number[];
  freed: boolean;
}

/** All emulator state. {@link Machine.clone} is the fork. */
export class Machine {
  ctx: Ctx;
  log: EventLog;
  mem: PhysMemory;
  alloc: PageAllocator;
  smmu: SmmuV3;
  drv: ArmSmmuV3Driver;
  iovads = new Map<number, IovaDomain>();
  domains = new Map<number, Domain>();
  groups = new Map<number, Group>();
  devices = new Map<number, Device>();
  devByName = new Map<string, number>();
  nextId = 1;
  nextSid = 0x10;
  nextGroup = 0;
  /** dev -> (dma addr -> entry) */
  debug: PMap<PNode<DebugEntry> | null>;
  /** dev -> (first dma addr -> sg record) */
  sg: PMap<PNode<SgRecord> | null>;
  pools: PMap<Pool>;
  /** VFIO type1 containers (vfio.ts) */
  vfio: PMap<VfioContainer>;
  /** the user process's memory: page index of a vaddr -> pa (faulted in on first pin) */
  userMem: PMap<number>;
  /** pin counts of pinned user pages, by pa */
  pins: PMap<number>;
  dmaDebugErrors = 0;
  liveMappingCount = 0;
  /** page tables bound to this instance's memory, by domain */
  private bound = new Map<number, ArmLpaeTable>();

  constructor(
    readonly cfg: MachineConfig) {
    this.ctx = new Ctx(newToken());
    this.log = new EventLog();
    this.mem = new PhysMemory(this.ctx);
    this.alloc = new PageAllocator(this.ctx, cfg.memoryBase, cfg.memorySize, Math.log2(cfg.granule));
    this.smmu = new SmmuV3(this.ctx, this.mem, this.log, { sidBits: cfg.sidBits, ssidBits: cfg.ssidBits, ias: cfg.ias, oas: cfg.oas, granules: [4096, 16384, 65536], cmdqLog2: 8, evtqLog2: 7, pri: cfg.pri, priqLog2: 6, iotlbSize: cfg.iotlbSize });
    this.drv = new ArmSmmuV3Driver(this.smmu, { mem: this.mem, alloc: this.alloc, log: this.log });
    this.drv.initialSte = cfg.mode === 'bypass' ? 'bypass' : 'abort';
    this.debug = new PMap(this.ctx);
    this.sg = new PMap(this.ctx);
    this.pools = new PMap(this.ctx);
    this.vfio = new PMap(this.ctx);
    this.userMem = new PMap(this.ctx);
    this.pins = new PMap(this.ctx);
  }

  /** The fork: O(number of domains, devices and IOVA domains); all large state is shared. */
  clone(): Machine {
    this.ctx.tok = newToken(); // everything existing is now shared and copy-on-write
    // Field by field: Object.assign() of this many fields is several times slower, and forks are hot.
    const c = Object.create(Machine.prototype) as Machine;
    (c as { cfg: MachineConfig }).cfg = this.cfg;
    c.nextId = this.nextId;
    c.nextSid = this.nextSid;
    c.nextGroup = this.nextGroup;
    c.dmaDebugErrors = this.dmaDebugErrors;
    c.liveMappingCount = this.liveMappingCount;
    c.ctx = new Ctx(newToken());
    c.log = this.log.clone();
    c.mem = this.mem.clone(c.ctx);
    c.alloc = this.alloc.clone(c.ctx);
    c.smmu = this.smmu.clone(c.ctx, c.mem, c.log);
    c.drv = this.drv.clone(c.smmu, { mem: c.mem, alloc: c.alloc, log: c.log });
    c.iovads = new Map();
    for (const [k, v] of this.iovads) c.iovads.set(k, v.clone(c.ctx, c.log));
    c.domains = new Map(this.domains);
    c.groups = new Map(this.groups);
    c.devices = new Map(this.devices);
    c.bound = new Map();
    c.devByName = new Map(this.devByName);
    c.debug = this.debug.clone(c.ctx);
    c.sg = this.sg.clone(c.ctx);
    c.pools = this.pools.clone(c.ctx);
    c.vfio = this.vfio.clone(c.ctx);
    c.userMem = this.userMem.clone(c.ctx);
    c.pins = this.pins.clone(c.ctx);
    return c;
  }

  /** iommu_alloc_pages()/iommu_free_pages() for page tables, over the page allocator. */
  pgtableEnvBase(): IoPgtableEnv {
    return {
      mem: this.mem,
      log: this.log,
      allocTable: (size: number) => {
        const order = getOrder(size, this.alloc.pageShift);
        const pa = this.alloc.alloc(order);
        if (pa) this.mem.discard(pa, 2 ** (this.alloc.pageShift + order));
        return pa;
      },
      freeTable: (pa: number, size: number) => {
        const order = getOrder(size, this.alloc.pageShift);
        this.alloc.free(pa, order);
        this.mem.discard(pa, 2 ** (this.alloc.pageShift + order));
      },
    };
  }

  /** The domain's page table, bound to this instance's memory and allocator. */
  pt(d: Domain): ArmLpaeTable {
    let t = this.bound.get(d.id);
    if (t === undefined) {
      t = d.pgtbl!.withEnv({ ...this.pgtableEnvBase(), tlb: this.flushOpsFor(d) });
      this.bound.set(d.id, t);
    }
    return t;
  }

  /** The domain record, owned by this instance (copied on first write after a fork). */
  ownDomain(id: number): Domain {
    const d = this.domains.get(id)!;
    if (d.o === this.ctx.tok) return d;
    const c: Domain = { ...d, o: this.ctx.tok, devices: d.devices.slice(), pasids: d.pasids.slice(),
      unsynced: d.unsynced?.map((u) => ({ ...u, pages: u.pages?.map((x) => [x[0], x[1]] as [number, number]) })), gather: d.gather ? { ...d.gather } : undefined, cookie: d.cookie ? { ...d.cookie, fq: d.cookie.fq ? d.cookie.fq.slice() : null } : null };
    this.domains.set(id, c);
    return c;
  }
  ownGroup(id: number): Group {
    const g = this.groups.get(id)!;
    if (g.o === this.ctx.tok) return g;
    const c: Group = { ...g, o: this.ctx.tok, devices: g.devices.slice() };
    this.groups.set(id, c);
    return c;
  }
  ownDevice(id: number): Device {
    const d = this.devices.get(id)!;
    if (d.o === this.ctx.tok) return d;
    const c: Device = { ...d, o: this.ctx.tok, pasids: { ...d.pasids } };
    this.devices.set(id, c);
    return c;
  }

  flushOpsFor(d: Domain) {
    return this.drv.flushOps(d.stage, d.tag, d.pgsizeBitmap, (g) => this.iotlbSync(d, g));
  }

  // ---- devices, groups, domains --------------------------------------------

  /** The SMMU's pgsize_bitmap: every granule's page and block sizes (IDR5). */
  smmuPgsizeBitmap(): number {
    return 0x1000 + 0x200000 + 0x40000000 + 0x4000 + 0x2000000 + 0x10000 + 0x20000000;
  }

  /**
   * iommu_paging_domain_alloc() / iommu_domain_alloc() + arm_smmu_domain_finalise().
   * null when an ASID/VMID or the page table cannot be allocated.
   */
  domainAlloc(type: DomainType, isDefault = false): Domain | null {
    if (this.cfg.mode === 'no-smmu') {
      // iommu_domain_alloc(): no IOMMU instance on the bus
      this.log.emit({ kind: 'iommu-error', text: `iommu_domain_alloc: no IOMMU (no SMMU node): NULL`, type });
      return null;
    }
    const id = this.nextId++;
    const d: Domain = { o: this.ctx.tok, id, type, stage: this.cfg.stage, pgtbl: null, tag: 0, pgsizeBitmap: 0, apertureEnd: 0, cookie: null, devices: [], isDefault, freed: false, pasids: [] };
    if (type === 'unmanaged' || type === 'dma') {
      const tag = d.stage === 1 ? this.drv.allocAsid() : this.drv.allocVmid();
      if (tag < 0) return null;
      d.tag = tag;
      // S1: ias = min(48 or 52, VA_BITS), oas = smmu->ias; S2: smmu ias/oas
      const ias = this.cfg.ias;
      const pgtbl = ArmLpaeTable.alloc({ fmt: d.stage === 1 ? 'ARM_64_LPAE_S1' : 'ARM_64_LPAE_S2', pgsizeBitmap: this.smmuPgsizeBitmap(), ias, oas: this.cfg.oas, pageSize: this.cfg.granule }, this.pgtableEnvBase());
      if (!pgtbl) {
        if (d.stage === 1) this.drv.freeAsid(tag);
        else this.drv.freeVmid(tag);
        return null;
      }
      d.pgtbl = pgtbl;
      d.pgsizeBitmap = pgtbl.pgsizeBitmap;
      d.apertureEnd = 2 ** pgtbl.ias - 1;
      if (type === 'dma') {
        // iommu_get_dma_cookie(); the iovad is initialised on first attach (iommu_dma_init_domain)
        d.cookie = { iovad: 0, fq: this.cfg.strict ? null : [], fqFlushStartCnt: 0, fqFlushFinishCnt: 0 };
      }
    }
    this.domains.set(id, d);
    this.log.emit({ kind: 'domain-alloc', text: `domain ${id} allocated (${type}${d.pgtbl ? `, stage ${d.stage}, ${d.stage === 1 ? 'asid' : 'vmid'} ${d.tag}, pgd ${hex(d.pgtbl.pgd)}` : ''})`, domain: id, type });
    return d;
  }

  /** iommu_domain_free(): an attached domain is reported and left alone. */
  domainFree(id: number): void {
    const d = this.domains.get(id);
    if (!d || d.freed) {
      this.log.emit({ kind: 'iommu-error', text: `iommu_domain_free: domain ${id} is not allocated`, domain: id });
      return;
    }
    if (d.devices.length || d.pasids.length) {
      this.log.emit({ kind: 'iommu-error', text: `iommu_domain_free: domain ${id} is still attached to ${d.devices.length + d.pasids.length} device(s)${d.pasids.length ? ' or PASIDs' : ''}`, domain: id });
      return;
    }
    if (d.pgtbl) {
      this.pt(d).free();
      this.drv.tlbInvContext(d.stage, d.tag);
      if (d.stage === 1) this.drv.freeAsid(d.tag);
      else this.drv.freeVmid(d.tag);
    }
    if (d.cookie && d.cookie.iovad) this.iovads.delete(d.cookie.iovad);
    this.domains.delete(id);
    this.bound.delete(id);
    this.log.emit({ kind: 'domain-free', text: `domain ${id} freed`, domain: id });
  }

  /**
   * A new device: StreamID, its own group, a default domain (DMA, or identity
   * when the SMMU is configured so) attached. Returns the device or null.
   */
  addDevice(name: string, sid: number, ssidBits = 0, pri = false): Device | null {
    if (this.cfg.mode === 'no-smmu') {
      // no "iommus" property / IORT node: no iommu_group, dma-direct
      const dev: Device = { o: this.ctx.tok, id: this.nextId++, name, sid, ssidBits: 0, group: 0, dmaMask: 2 ** 32 - 1, coherentDmaMask: 2 ** 32 - 1, pri: false, pasids: {} };
      this.devices.set(dev.id, dev);
      this.devByName.set(name, dev.id);
      if (sid >= this.nextSid) this.nextSid = sid + 1;
      this.log.emit({ kind: 'device-add', text: `device ${name}: no IOMMU (no SMMU node), DMA addresses are physical`, dev: dev.id, sid });
      return dev;
    }
    if (this.drv.addMaster(sid, ssidBits) < 0) return null;
    const g: Group = { o: this.ctx.tok, id: this.nextId++, sysfs: this.nextGroup++, devices: [], domain: null, defaultDomain: null };
    const dev: Device = { o: this.ctx.tok, id: this.nextId++, name, sid, ssidBits, group: g.id, dmaMask: 2 ** 32 - 1, coherentDmaMask: 2 ** 32 - 1, pri, pasids: {} };
    g.devices.push(dev.id);
    this.groups.set(g.id, g);
    this.devices.set(dev.id, dev);
    this.devByName.set(name, dev.id);
    if (sid >= this.nextSid) this.nextSid = sid + 1;
    this.log.emit({ kind: 'device-add', text: `device ${name} sid ${hex(sid)} in group ${g.id} (/sys/kernel/iommu_groups/${g.sysfs})`, dev: dev.id, sid });
    // iommu_group_alloc_default_domain(): identity with iommu.passthrough=1
    const dd = this.domainAlloc(this.cfg.mode === 'passthrough' ? 'identity' : 'dma', true);
    if (dd) {
      g.defaultDomain = dd.id;
      this.attachGroup(dd, g);
      // iommu_create_device_direct_mappings(): 1:1 maps of direct regions in the default domain
      for (const r of this.resvRegions()) {
        if (r.type === 'direct' || r.type === 'direct-relaxable') this.iommuMap(dd, r.start, r.start, r.length, r.prot);
      }
    }
    return dev;
  }

  /** iommu_get_resv_regions(): arm_smmu_get_resv_regions() + the configured ones. */
  resvRegions(): ResvRegion[] {
    if (this.cfg.mode === 'no-smmu') return []; // no IOMMU driver to report any
    const out: ResvRegion[] = [{ start: MSI_IOVA_BASE, length: MSI_IOVA_LENGTH, type: 'sw-msi', prot: IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_MMIO }];
    return out.concat(this.cfg.reservedRegions);
  }

  /**
   * /sys/kernel/iommu_groups/N/reserved_regions (iommu_group_show_resv_regions()): one line per
   * region, "0x%016llx 0x%016llx %s", sorted by start; IOMMU_RESV_SW_MSI prints as "msi".
   */
  sysfsReservedRegions(): string[] {
    const name: Record<ResvType, string> = { direct: 'direct', 'direct-relaxable': 'direct-relaxable', reserved: 'reserved', msi: 'msi', 'sw-msi': 'msi' };
    const lines = this.resvRegions().slice().sort((a, b) => a.start - b.start || a.length - b.length)
      .map((r) => `${hex16(r.start)} ${hex16(r.start + r.length - 1)} ${name[r.type]}`);
    return lines.filter((l, i) => lines.indexOf(l) === i);
  }

  /** /sys/kernel/iommu_groups/N/type (iommu_group_show_type()): the default domain's type. */
  groupType(g: Group): string {
    const d = g.defaultDomain !== null ? this.domains.get(g.defaultDomain) : undefined;
    if (!d) return 'unknown';
    return d.type === 'dma' ? (d.cookie?.fq ? 'DMA-FQ' : 'DMA') : d.type;
  }

  /** iommu_dma_init_domain(): set up the cookie's iovad on first use. */
  dmaInitDomain(dd: Domain): number {
    if (!dd.cookie) return -EINVAL;
    if (dd.cookie.iovad) return 0;
    const d = this.ownDomain(dd.id);
    const c = d.cookie;
    if (!c) return -EINVAL;
    if (c.iovad) return 0;
    const order = Math.log2(d.pgsizeBitmap & -d.pgsizeBitmap);
    const id = this.nextId++;
    const iovad = new IovaDomain(this.ctx, 2 ** order, 1, this.log, id);
    this.iovads.set(id, iovad);
    c.iovad = id;
    // iova_reserve_iommu_regions(): all but IOMMU_RESV_SW_MSI ("We ARE the software that manages these!")
    for (const r of this.resvRegions()) {
      if (r.type === 'sw-msi') continue;
      iovad.reserveIova(Math.floor(r.start / iovad.granule), Math.floor((r.start + r.length - 1) / iovad.granule));
    }
    return 0;
  }

  /** arm_smmu_attach_dev() and friends, for every device of a group. */
  private attachGroup(d: Domain, g: Group): number {
    for (const devId of g.devices) {
      const dev = this.devices.get(devId)!;
      const r = this.attachDev(d, dev);
      if (r) return r;
    }
    if (g.domain !== null && this.domains.has(g.domain)) {
      const old = this.ownDomain(g.domain);
      old.devices = old.devices.filter((x) => !g.devices.includes(x));
    }
    this.ownGroup(g.id).domain = d.id;
    const nd = this.ownDomain(d.id);
    for (const devId of g.devices) if (!nd.devices.includes(devId)) nd.devices.push(devId);
    this.log.emit({ kind: 'attach', text: `group ${g.id} attached to domain ${d.id} (${d.type})`, group: g.id, domain: d.id });
    return 0;
  }

  private attachDev(d: Domain, dev: Device): number {
    const m = this.drv.master(dev.sid);
    if (!m) return -ENODEV;
    const pasidsInUse = Object.keys(dev.pasids).length > 0; // arm_smmu_ssids_in_use()
    switch (d.type) {
      case 'blocked':
      case 'identity':
        // arm_smmu_attach_dev_ste(): with PASIDs in use the CD table stays, S1DSS says what the RID does
        if (pasidsInUse) this.drv.writeSte(dev.sid, this.drv.cdtableSte(m, d.type === 'identity' ? STRTAB_STE_1_S1DSS_BYPASS : STRTAB_STE_1_S1DSS_TERMINATE));
        else this.drv.writeSte(dev.sid, d.type === 'identity' ? makeBypassSte() : makeAbortSte());
        this.drv.clearCd(m, 0);
        return 0;
      default: {
        if (d.stage === 2 && pasidsInUse) return -EBUSY;
        if (d.type === 'dma') {
          const r = this.dmaInitDomain(d);
          if (r) return r;
        }
        if (d.stage === 1) {
          if (!this.drv.cdPtr(m, 0, true)) return -ENOMEM;
          this.drv.writeCd(m, 0, makeS1Cd(d.pgtbl!, d.tag));
          this.drv.writeSte(dev.sid, this.drv.cdtableSte(m));
        } else {
          this.drv.writeSte(dev.sid, makeS2DomainSte(d.pgtbl!, d.tag));
          this.drv.clearCd(m, 0);
        }
        return 0;
      }
    }
  }

  /**
   * iommu_attach_device(): 0, -ENODEV for an unknown device or domain, -EINVAL
   * for a device that shares its group, -EBUSY when the group is not in its
   * default domain.
   */
  attachDevice(domainId: number, devId: number): number {
    const d = this.domains.get(domainId);
    const dev = this.devices.get(devId);
    if (!d || !dev) return -ENODEV;
    const g = this.groups.get(dev.group);
    if (!g) return -ENODEV;
    if (g.devices.length !== 1) return -EINVAL;
    // __iommu_attach_group(): only from the default domain
    if (g.domain !== g.defaultDomain && g.domain !== d.id) return -EBUSY;
    if (g.domain === d.id) return 0;
    return this.attachGroup(d, g);
  }

  /** iommu_detach_device(): back to the group's default domain. */
  detachDevice(domainId: number, devId: number): void {
    const dev = this.devices.get(devId);
    if (!dev) return;
    const g = this.groups.get(dev.group);
    if (!g) return;
    if (g.domain !== domainId) {
      this.log.emit({ kind: 'iommu-error', text: `iommu_detach_device: device ${dev.name} is not attached to domain ${domainId}`, domain: domainId, dev: devId });
      return;
    }
    const def = g.defaultDomain !== null ? this.domains.get(g.defaultDomain) : undefined;
    if (def) this.attachGroup(def, g);
    else {
      const blocked = this.domainAlloc('blocked');
      if (blocked) this.attachGroup(blocked, g);
    }
  }

  // ---- iommu_map / iommu_unmap ---------------------------------------------

  /** iommu_pgsize(): the largest page size alignment allows, and how many of it. */
  pgsize(d: Domain, iova: number, paddr: number, size: number): { pgsize: number; count: number } {
    const sizes = pgsizesOf(d.pgsizeBitmap);
    const align = Math.min(lowbit(iova), lowbit(paddr)); // __ffs(paddr | iova)
    let pgsize = 0;
    let next = 0;
    for (let i = 0; i < sizes.length; i++) {
      const sz = sizes[i];
      if (sz <= size && sz <= align) pgsize = sz;
      else {
        if (pgsize) next = sz;
        break;
      }
    }
    if (!pgsize) return { pgsize: 0, count: 0 }; // the kernel BUG()s here
    // There's no point trying a bigger page size unless the virtual and
    // physical addresses are similarly offset within the larger page.
    if (next && iova % next === paddr % next) {
      const offset = next - (iova % next);
      if (offset + next <= size) size = offset;
    }
    return { pgsize, count: Math.floor(size / pgsize) };
  }

  /**
   * iommu_map(): 0, -EINVAL (not a paging domain, no read/write, or unaligned:
   * the kernel's "unaligned: ..." message goes to the trace), -EEXIST, -ENOMEM,
   * -ERANGE. A failed map unmaps what it mapped.
   */
  iommuMap(d: Domain, iova: number, paddr: number, size: number, prot: number): number {
    if (!d.pgtbl) return -EINVAL;
    const minPagesz = d.pgsizeBitmap & -d.pgsizeBitmap;
    if (iova % minPagesz || paddr % minPagesz || size % minPagesz || size <= 0) {
      const text = `unaligned: iova ${hex(iova)} pa ${'0x' + paddr.toString(16).padStart(16, '0')} size ${hex(size)} min_pagesz ${hex(minPagesz)}`;
      this.log.emit({ kind: 'iommu-error', text, code: 'unaligned', domain: d.id, iova, paddr, size, minPagesz });
      return -EINVAL;
    }
    const origIova = iova;
    const origSize = size;
    let ret = 0;
    const mapped = { n: 0 };
    while (size) {
      const { pgsize, count } = this.pgsize(d, iova, paddr, size);
      mapped.n = 0;
      ret = this.pt(d).mapPages(iova, paddr, pgsize, count, prot, mapped);
      size -= mapped.n;
      if (ret) break;
      iova += mapped.n;
      paddr += mapped.n;
    }
    if (ret) {
      // unroll mapping in case something went wrong
      this.iommuUnmap(d, origIova, origSize - size);
      this.log.emit({ kind: 'iommu-map-fail', text: `iommu_map(domain ${d.id}, ${hex(origIova)}, size ${hex(origSize)}) = ${ret}`, domain: d.id, iova: origIova, size: origSize, ret });
    } else {
      this.log.emitLazy({ kind: 'iommu-map', domain: d.id, iova: origIova, size: origSize }, () => `iommu_map(domain ${d.id}, ${hex(origIova)} -> ${hex(paddr - origSize)}, size ${hex(origSize)}, prot ${hex(prot)})`);
    }
    return ret;
  }

  /** __iommu_unmap(): bytes unmapped, stopping at the first hole. */
  iommuUnmapGather(d: Domain, iova: number, size: number, gather: IotlbGather): number {
    if (!d.pgtbl) return 0;
    const minPagesz = d.pgsizeBitmap & -d.pgsizeBitmap;
    if (iova % minPagesz || size % minPagesz) {
      this.log.emit({ kind: 'iommu-error', text: `unaligned: iova ${hex(iova)} size ${hex(size)} min_pagesz ${hex(minPagesz)}`, code: 'unaligned', domain: d.id, iova, size, minPagesz });
      return 0;
    }
    let unmapped = 0;
    while (unmapped < size) {
      const { pgsize, count } = this.pgsize(d, iova, iova, size - unmapped);
      const u = this.pt(d).unmapPages(iova, pgsize, count, gather);
      if (!u) break;
      iova += u;
      unmapped += u;
    }
    return unmapped;
  }

  /** iommu_unmap(): bytes unmapped; the IOTLB is invalidated before returning. */
  iommuUnmap(d: Domain, iova: number, size: number): number {
    const g = newGather();
    const n = this.iommuUnmapGather(d, iova, size, g);
    this.iotlbSync(d, g);
    this.log.emitLazy({ kind: 'iommu-unmap', domain: d.id, iova, size, unmapped: n }, () => `iommu_unmap(domain ${d.id}, ${hex(iova)}, size ${hex(size)}) = ${hex(n)}`);
    return n;
  }

  /**
   * iommu_unmap_fast(): __iommu_unmap() into the caller's gather, no invalidation: until
   * iommu_iotlb_sync() the IOTLB may still hold the range (include/linux/iommu.h).
   */
  iommuUnmapFast(id: number, iova: number, size: number, tag: string): number {
    const d = this.ownDomain(id);
    d.gather ??= newGather();
    // The physical pages the range mapped, which the IOTLB may still translate to until the sync
    // ([pa, bytes] runs, read before the PTEs go; at most 512 pages are looked at).
    const pages: [number, number][] = [];
    if (d.pgtbl) {
      const g = d.pgsizeBitmap & -d.pgsizeBitmap;
      for (let off = 0; off < size && off < 512 * g; off += g) {
        const pa = this.pt(d).iovaToPhys(iova + off);
        if (!pa) continue;
        const last = pages[pages.length - 1];
        if (last && last[0] + last[1] === pa) last[1] += g; else pages.push([pa, g]);
      }
    }
    const n = this.iommuUnmapGather(d, iova, size, d.gather);
    if (n) (d.unsynced ??= []).push({ iova, size: n, tag, pages });
    this.log.emitLazy({ kind: 'iommu-unmap', domain: d.id, iova, size, unmapped: n }, () => `iommu_unmap_fast(domain ${d.id}, ${hex(iova)}, size ${hex(size)}) = ${hex(n)}; IOTLB invalidation gathered, not yet done`);
    return n;
  }

  /** iommu_iotlb_sync() of the gathered fast unmaps (or flush_iotlb_all when `all`): the stale entries go. */
  syncGathered(id: number, all: boolean): number {
    const d0 = this.domains.get(id);
    if (!d0 || (!d0.unsynced?.length && !all)) return 0;
    const d = this.ownDomain(id);
    const n = d.unsynced?.length ?? 0;
    if (all) this.flushIotlbAll(d);
    else if (d.gather) this.iotlbSync(d, d.gather);
    d.unsynced = [];
    d.gather = undefined;
    return n;
  }

  /** iommu_iotlb_sync() -> arm_smmu_iotlb_sync(), then iommu_iotlb_gather_init(). */
  iotlbSync(d: Domain, g: IotlbGather): void {
    if (g.pgsize) this.drv.tlbInvRange(d.stage, d.tag, g.start, g.end - g.start + 1, g.pgsize, true, d.pgsizeBitmap);
    g.start = Infinity;
    g.end = 0;
    g.pgsize = 0;
  }

  /** flush_iotlb_all -> arm_smmu_tlb_inv_context() */
  flushIotlbAll(d: Domain): void {
    if (d.pgtbl) this.drv.tlbInvContext(d.stage, d.tag);
  }

  domainForDev(devId: number): Domain | null {
    const dev = this.devices.get(devId);
    if (!dev) return null;
    const g = this.groups.get(dev.group);
    if (!g) return null;
    return g.domain !== null ? this.domains.get(g.domain) ?? null : null;
  }

  // ---- PASIDs (several context descriptors on one stream) -------------------

  /**
   * iommu_attach_device_pasid() -> arm_smmu_s1_set_dev_pasid() -> arm_smmu_set_pasid(): the
   * domain's CD at SubstreamID `pasid`, the STE a CD-table one. 0, -ENODEV (no group),
   * -EOPNOTSUPP (not a paging domain), -EINVAL (PASID 0, beyond the device's PASIDs, a stage-2
   * domain, or a RID domain that is neither stage 1 nor identity/blocked), -EBUSY (taken),
   * -ENOMEM (no CD table).
   */
  attachDevicePasid(domainId: number, devId: number, pasid: number): number {
    const d = this.domains.get(domainId);
    const dev = this.devices.get(devId);
    if (!d || !dev) return -ENODEV;
    const g = this.groups.get(dev.group);
    if (!g) return -ENODEV;
    if (!d.pgtbl) return -EOPNOTSUPP; // no set_dev_pasid in identity/blocked ops
    const maxPasids = dev.ssidBits ? 2 ** dev.ssidBits : 0;
    if (pasid === IOMMU_NO_PASID || !Number.isInteger(pasid) || pasid < 0 || (maxPasids > 0 && pasid >= maxPasids)) return -EINVAL;
    if (dev.pasids[pasid] !== undefined) return -EBUSY; // xa_insert()
    if (d.stage !== 1) return -EINVAL;
    const rid = this.domainForDev(devId);
    const m = this.drv.master(dev.sid);
    if (!m) return -ENODEV;
    const inSte = (rid && rid.pgtbl && rid.stage === 1) || Object.keys(dev.pasids).length > 0;
    if (!inSte && rid && rid.type !== 'identity' && rid.type !== 'blocked') return -EINVAL;
    if (!this.drv.cdPtr(m, pasid, true)) return -ENOMEM;
    this.drv.writeCd(m, pasid, makeS1Cd(this.pt(d), d.tag));
    // arm_smmu_update_ste(): install the CD table with the RID's behaviour as S1DSS
    if (!inSte) this.drv.writeSte(dev.sid, this.drv.cdtableSte(m, rid?.type === 'identity' ? STRTAB_STE_1_S1DSS_BYPASS : STRTAB_STE_1_S1DSS_TERMINATE));
    this.ownDevice(devId).pasids[pasid] = d.id;
    this.ownDomain(d.id).pasids.push({ dev: devId, pasid });
    this.log.emit({ kind: 'attach', text: `${dev.name} pasid ${pasid} attached to domain ${d.id} (${d.type}, asid ${d.tag})`, domain: d.id, dev: devId, pasid });
    return 0;
  }

  /** iommu_detach_device_pasid() -> arm_smmu_remove_dev_pasid(): the CD cleared; the last one downgrades the STE. */
  detachDevicePasid(domainId: number, devId: number, pasid: number): void {
    const dev = this.devices.get(devId);
    if (!dev || dev.pasids[pasid] !== domainId) {
      this.log.emit({ kind: 'iommu-error', text: `iommu_detach_device_pasid: pasid ${pasid} of ${dev?.name ?? 'device ' + devId} is not attached to domain ${domainId}`, domain: domainId, dev: devId, pasid });
      return;
    }
    const m = this.drv.master(dev.sid)!;
    this.drv.clearCd(m, pasid);
    const od = this.ownDevice(devId);
    delete od.pasids[pasid];
    if (this.domains.has(domainId)) {
      const d = this.ownDomain(domainId);
      d.pasids = d.pasids.filter((x) => !(x.dev === devId && x.pasid === pasid));
    }
    this.log.emit({ kind: 'detach', text: `${dev.name} pasid ${pasid} detached from domain ${domainId}`, domain: domainId, dev: devId, pasid });
    if (!Object.keys(od.pasids).length) {
      const rid = this.domainForDev(devId);
      if (rid && (rid.type === 'identity' || rid.type === 'blocked')) this.attachDev(rid, od);
    }
  }

  /** iommu_get_dma_domain(): the group's default domain, which the DMA API uses. */
  dmaDomainForDev(devId: number): Domain | null {
    const dev = this.devices.get(devId);
    if (!dev) return null;
    const g = this.groups.get(dev.group);
    if (!g) return null;
    return g.defaultDomain !== null ? this.domains.get(g.defaultDomain) ?? null : null;
  }
}

const TWO32 = 4294967296;

/** Largest power of two dividing x (Infinity for 0). */
function lowbit(x: number): number {
  if (x === 0) return Infinity;
  const lo = x % TWO32;
  if (lo !== 0) return (lo & -lo) >>> 0 || TWO32 / 2;
  const hi = Math.floor(x / TWO32);
  return ((hi & -hi) >>> 0 || TWO32 / 2) * TWO32;
}

const sizesCache = new Map<number, number[]>();
/** The page sizes of a pgsize_bitmap, ascending. */
function pgsizesOf(bm: number): number[] {
  let v = sizesCache.get(bm);
  if (v === undefined) {
    v = [];
    for (let b = 12; b <= 42; b++) if (Math.floor(bm / 2 ** b) % 2 === 1) v.push(2 ** b);
    sizesCache.set(bm, v);
  }
  return v;
}

export { EBUSY, IOMMU_READ };
