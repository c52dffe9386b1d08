/**
 * The driver side of drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.c: it allocates
 * the stream table, queues and CD tables in emulated memory, builds STEs and CDs
 * (arm_smmu_make_*), updates them with arm_smmu_write_entry()'s hitless or
 * breaking sequences (each step followed by CFGI + CMD_SYNC), allocates ASIDs and
 * VMIDs, and issues the TLB invalidations of arm_smmu_flush_ops.
 */
import { EventLog } from './events';
import { FlushOps, IotlbGather, ArmLpaeTable } from './io-pgtable-arm';
import { PageAllocator, PhysMemory, getOrder } from './memory';
import { CMDQ_OP, CTXDESC_CD_DWORDS, GERROR, GerrorName, prep, PRI_RESP, SmmuV3, STRTAB_SPLIT, STRTAB_STE_0_CFG_ABORT, STRTAB_STE_0_CFG_BYPASS, STRTAB_STE_0_CFG_S1_TRANS, STRTAB_STE_0_CFG_S2_TRANS, STRTAB_STE_1_S1DSS_SSID0, STRTAB_STE_DWORDS } from './smmu-v3';

const NUM_ENTRY_QWORDS = 8;
const M = (hi: number, lo: number): bigint => ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);

// STE field masks (arm-smmu-v3.h)
const STE_0_V = 1n;
const STE_0_CFG = M(3, 1);
const STE_0_S1FMT = M(5, 4);
const STE_0_S1CTXPTR = M(51, 6);
const STE_0_S1CDMAX = M(63, 59);
const STE_1_S1DSS = M(1, 0);
const STE_1_S1CIR = M(3, 2);
const STE_1_S1COR = M(5, 4);
const STE_1_S1CSH = M(7, 6);
const STE_1_S1STALLD = 1n << 27n;
const STE_1_EATS = M(29, 28);
const STE_1_STRW = M(31, 30);
const STE_1_SHCFG = M(45, 44);
const STE_2_S2VMID = M(15, 0);
const STE_2_VTCR = M(50, 32);
const STE_2_S2AA64 = 1n << 51n;
const STE_2_S2ENDI = 1n << 52n;
const STE_2_S2PTW = 1n << 54n;
const STE_2_S2S = 1n << 57n;
const STE_2_S2R = 1n << 58n;
const STE_3_S2TTB = M(51, 4);
// CD
const CD_0_V = 1n << 31n;
const CD_0_EPD0 = 1n << 14n;
const CD_0_EPD1 = 1n << 30n;
const CD_1_TTB0 = M(51, 4);

/** arm_smmu_get_ste_used() */
export function steUsed(ent: bigint[]): bigint[] {
  const used = new Array<bigint>(NUM_ENTRY_QWORDS).fill(0n);
  used[0] = STE_0_V;
  if (!(ent[0] & STE_0_V)) return used;
  used[0] |= STE_0_CFG;
  const cfg = Number((ent[0] & STE_0_CFG) >> 1n);
  if (cfg & 1) {
    used[0] |= STE_0_S1FMT | STE_0_S1CTXPTR | STE_0_S1CDMAX;
    used[1] |= STE_1_S1DSS | STE_1_S1CIR | STE_1_S1COR | STE_1_S1CSH | STE_1_S1STALLD | STE_1_STRW | STE_1_EATS;
    used[2] |= STE_2_S2VMID;
    if ((ent[1] & STE_1_S1DSS) === 1n) used[1] |= STE_1_SHCFG;
  }
  if (cfg & 2) {
    used[1] |= STE_1_EATS | STE_1_SHCFG;
    used[2] |= STE_2_S2VMID | STE_2_VTCR | STE_2_S2AA64 | STE_2_S2ENDI | STE_2_S2PTW | STE_2_S2S | STE_2_S2R;
    used[3] |= STE_3_S2TTB;
  }
  if (cfg === STRTAB_STE_0_CFG_BYPASS) used[1] |= STE_1_SHCFG;
  return used;
}

/** arm_smmu_get_cd_used() */
export function cdUsed(ent: bigint[]): bigint[] {
  const used = new Array<bigint>(NUM_ENTRY_QWORDS).fill(0n);
  used[0] = CD_0_V;
  if (!(ent[0] & CD_0_V)) return used;
  const all = (1n << 64n) - 1n;
  used.fill(all);
  if (ent[0] & CD_0_EPD0) {
    used[0] &= ~(M(5, 0) | M(7, 6) | M(9, 8) | M(11, 10) | M(13, 12));
    used[1] &= ~CD_1_TTB0;
  }
  return used;
}

/**
 * arm_smmu_write_entry(): move entry to target in the fewest steps that never
 * expose a torn entry; each step that changes memory calls sync(). Returns the
 * number of syncs issued.
 */
export function writeEntry(read: () => bigint[], write: (i: number, v: bigint) => void, target: bigint[], getUsed: (e: bigint[]) => bigint[], sync: () => void): number {
  let syncs = 0;
  const entrySet = (vals: bigint[], start: number, len: number): void => {
    const cur = read();
    let changed = false;
    for (let i = start; len !== 0; len--, i++) {
      if (cur[i] !== vals[i]) {
        write(i, vals[i]);
        changed = true;
      }
    }
    if (changed) {
      sync();
      syncs++;
    }
  };
  const entry = read();
  const curUsed = getUsed(entry);
  const targetUsed = getUsed(target);
  const unusedUpdate: bigint[] = [];
  let diff = 0;
  for (let i = 0; i < NUM_ENTRY_QWORDS; i++) {
    // Bits can change because they are not currently being used
    unusedUpdate[i] = (entry[i] & curUsed[i]) | (target[i] & ~curUsed[i]);
    if ((unusedUpdate[i] & targetUsed[i]) !== target[i]) diff |= 1 << i;
  }
  const weight = diff.toString(2).split('').filter((c) => c === '1').length;
  if (weight === 1) {
    // hitless: unused bits first, then the one critical qword, then clean up
    const critical = Math.log2(diff & -diff);
    unusedUpdate[critical] = entry[critical];
    entrySet(unusedUpdate, 0, NUM_ENTRY_QWORDS);
    entrySet(target, critical, 1);
    entrySet(target, 0, NUM_ENTRY_QWORDS);
  } else if (diff) {
    // breaking: V=0, fill the rest, then qword 0
    unusedUpdate[0] = 0n;
    entrySet(unusedUpdate, 0, 1);
    entrySet(target, 1, NUM_ENTRY_QWORDS - 1);
    entrySet(target, 0, 1);
  } else {
    entrySet(target, 0, NUM_ENTRY_QWORDS);
  }
  return syncs;
}

/** arm_smmu_make_abort_ste() */
export function makeAbortSte(): bigint[] {
  const t = new Array<bigint>(8).fill(0n);
  t[0] = STE_0_V | prep(STRTAB_STE_0_CFG_ABORT, 3, 1);
  return t;
}
/** arm_smmu_make_bypass_ste() (no ATTR_TYPES_OVR) */
export function makeBypassSte(): bigint[] {
  const t = new Array<bigint>(8).fill(0n);
  t[0] = STE_0_V | prep(STRTAB_STE_0_CFG_BYPASS, 3, 1);
  return t;
}
/** arm_smmu_make_cdtable_ste() (NS-EL1 StreamWorld, no ATS, no stalls) */
export function makeCdtableSte(cdtab: number, s1fmt: number, s1cdmax: number, s1dss: number): bigint[] {
  const t = new Array<bigint>(8).fill(0n);
  t[0] = STE_0_V | prep(STRTAB_STE_0_CFG_S1_TRANS, 3, 1) | prep(s1fmt, 5, 4) | (BigInt(cdtab) & STE_0_S1CTXPTR) | prep(s1cdmax, 63, 59);
  t[1] = prep(s1dss, 1, 0) | prep(1, 3, 2) | prep(1, 5, 4) | prep(3, 7, 6) | prep(0, 31, 30);
  t[2] = prep(0, 15, 0);
  return t;
}
/** arm_smmu_make_s2_domain_ste() */
export function makeS2DomainSte(pgtbl: ArmLpaeTable, vmid: number): bigint[] {
  const t = new Array<bigint>(8).fill(0n);
  t[0] = STE_0_V | prep(STRTAB_STE_0_CFG_S2_TRANS, 3, 1);
  const v = pgtbl.tcr;
  const vtcr = prep(v.tsz, 5, 0) | prep(v.sl, 7, 6) | prep(v.irgn, 9, 8) | prep(v.orgn, 11, 10) | prep(v.sh, 13, 12) | prep(v.tg, 15, 14) | prep(v.ips, 18, 16);
  t[2] = prep(vmid, 15, 0) | (vtcr << 32n) | STE_2_S2AA64 | STE_2_S2PTW | STE_2_S2R;
  t[3] = BigInt(pgtbl.pgd) & STE_3_S2TTB;
  return t;
}
/** arm_smmu_make_s1_cd() */
export function makeS1Cd(pgtbl: ArmLpaeTable, asid: number): bigint[] {
  const t = new Array<bigint>(8).fill(0n);
  const tcr = pgtbl.tcr;
  t[0] = prep(tcr.tsz, 5, 0) | prep(tcr.tg, 7, 6) | prep(tcr.irgn, 9, 8) | prep(tcr.orgn, 11, 10) | prep(tcr.sh, 13, 12) | CD_0_EPD1 | CD_0_V | prep(tcr.ips, 34, 32) | (1n << 41n) /* AA64 */ | (1n << 45n) /* R */ | (1n << 46n) /* A */ | (1n << 47n) /* ASET */ | prep(asid, 63, 48);
  t[1] = BigInt(pgtbl.pgd) & CD_1_TTB0;
  t[3] = 0x00f4_0004_ff44n; // MAIR as arm_64_lpae_alloc_pgtable_s1() builds it
  return t;
}

export interface Master {
  sid: number;
  /** CD table (0 until allocated) */
  cdtab: number;
  s1fmt: number;
  s1cdmax: number;
  /** 2-level CD table: L2 tables allocated, by L1 index */
  cdL2: Record<number, number>;
  ssidBits: number;
}

export interface DriverCounters {
  steWrites: number;
  cdWrites: number;
}

/** Allocates structure memory for the driver (dmam_alloc_coherent of the real one). */
export interface DriverEnv {
  mem: PhysMemory;
  alloc: PageAllocator;
  log: EventLog;
}

interface DriverState {
  o: number;
  masters: Map<number, Master>;
  asids: Set<number>;
  vmids: Set<number>;
}

export class ArmSmmuV3Driver {
  private st: DriverState;
  asidBits = 16;
  vmidBits = 16;
  /** syncs issued by the last STE/CD update (arm-smmu-v3-test.c counts these) */
  lastSyncs = 0;
  /**
   * The STE of a stream no domain is attached to: abort (arm_smmu_init_initial_stes() in 6.12,
   * and disable_bypass=1 before it), or bypass (arm-smmu-v3.disable_bypass=0 of older kernels).
   */
  initialSte: 'abort' | 'bypass' = 'abort';

  constructor(
    public smmu: SmmuV3,
    public env: DriverEnv,
  ) {
    this.st = { o: smmu.ctx.tok, masters: new Map(), asids: new Set(), vmids: new Set() };
    // the driver's interrupt handlers (arm_smmu_setup_irqs()), run as the SMMU raises them
    smmu.onGerror = () => this.gerrorHandler();
    smmu.onPriq = () => this.priqThread();
  }

  /** Shares all state with the original; the first change copies it. */
  clone(smmu: SmmuV3, env: DriverEnv): ArmSmmuV3Driver {
    const c = new ArmSmmuV3Driver(smmu, env);
    c.st = this.st;
    c.lastSyncs = this.lastSyncs;
    c.initialSte = this.initialSte;
    return c;
  }

  private initial(): bigint[] {
    return this.initialSte === 'bypass' ? makeBypassSte() : makeAbortSte();
  }

  /** arm_smmu_gerror_handler(): report every active error, skip a bad command, acknowledge. */
  gerrorHandler(): void {
    const s = this.smmu;
    const active = s.gerrorActive;
    if (!active) return;
    const say = (text: string) => this.env.log.emit({ kind: 'gerror', text: 'arm-smmu-v3: ' + text });
    say(`unexpected global error reported (0x${active.toString(16).padStart(8, '0')}), this could be serious`);
    const msgs: [GerrorName, string][] = [
      ['SFM_ERR', 'device has entered Service Failure Mode!'],
      ['MSI_GERROR_ABT_ERR', 'GERROR MSI write aborted'],
      ['MSI_PRIQ_ABT_ERR', 'PRIQ MSI write aborted'],
      ['MSI_EVTQ_ABT_ERR', 'EVTQ MSI write aborted'],
      ['MSI_CMDQ_ABT_ERR', 'CMDQ MSI write aborted'],
      ['PRIQ_ABT_ERR', 'PRIQ write aborted -- events may have been lost'],
      ['EVTQ_ABT_ERR', 'EVTQ write aborted -- events may have been lost'],
    ];
    for (const [k, m] of msgs) if (active & GERROR[k]) say(m);
    if (active & GERROR.CMDQ_ERR) s.skipCmdqErr();
    s.ackGerror();
  }

  /** arm_smmu_priq_thread() + arm_smmu_handle_ppr(): 6.12 has no page-fault handler for PRI, so it denies. */
  priqThread(): void {
    const s = this.smmu;
    for (let r = s.popPri(); r; r = s.popPri()) {
      const sid = r.sid.toString(16).padStart(8, '0');
      const ssid = (r.ssid ?? 0).toString(16).padStart(5, '0');
      this.env.log.emit({ kind: 'pri', text: 'arm-smmu-v3: unexpected PRI request received:' });
      this.env.log.emit({ kind: 'pri', text: `arm-smmu-v3:  sid 0x${sid}.0x${ssid}: [${r.grpid}${r.last ? 'L' : ''}] ${r.priv ? '' : 'un'}privileged ${r.read ? 'R' : ''}${r.write ? 'W' : ''}${r.exec ? 'X' : ''} access at iova 0x${r.iova.toString(16).padStart(16, '0')}` });
      if (r.last) {
        // arm_smmu_cmdq_issue_cmd(CMDQ_OP_PRI_RESP, PRI_RESP_DENY)
        const d0 = prep(CMDQ_OP.PRI_RESP, 7, 0) | (r.ssid !== null ? 1n << 11n : 0n) | prep(r.ssid ?? 0, 31, 12) | prep(r.sid, 63, 32);
        s.submit([[d0, prep(r.grpid, 8, 0) | prep(PRI_RESP.DENY, 13, 12)]]);
      }
    }
    if (s.priq.overflow) {
      this.env.log.emit({ kind: 'pri', text: 'arm-smmu-v3: PRIQ overflow detected -- requests lost' });
      s.priq.overflow = false;
    }
  }

  /** The state, owned by this instance (copied on the first write after a fork). */
  private w(): DriverState {
    const tok = this.smmu.ctx.tok;
    if (this.st.o !== tok) {
      const s = this.st;
      this.st = { o: tok, masters: new Map([...s.masters].map(([k, m]) => [k, { ...m, cdL2: { ...m.cdL2 } }])), asids: new Set(s.asids), vmids: new Set(s.vmids) };
    }
    return this.st;
  }

  get masters(): ReadonlyMap<number, Master> {
    return this.st.masters;
  }
  /** The master of sid, owned for writing. */
  master(sid: number): Master | undefined {
    return this.w().masters.get(sid);
  }
  freeAsid(a: number): void {
    this.w().asids.delete(a);
  }
  freeVmid(v: number): void {
    this.w().vmids.delete(v);
  }

  private allocZeroed(size: number): number {
    const pageShift = this.env.alloc.pageShift;
    const pa = this.env.alloc.alloc(getOrder(size, pageShift));
    if (pa) this.env.mem.discard(pa, 2 ** (pageShift + getOrder(size, pageShift)));
    return pa;
  }

  /**
   * arm_smmu_init_structures() + arm_smmu_device_reset(): queues, stream table
   * (every STE abort), CFGI_ALL and TLBI_NSNH_ALL. Returns false when memory
   * runs out.
   */
  probe(fmt: 'linear' | '2level'): boolean {
    const s = this.smmu;
    const cmdq = this.allocZeroed(16 * 2 ** s.cfg.cmdqLog2);
    const evtq = this.allocZeroed(32 * 2 ** s.cfg.evtqLog2);
    if (!cmdq || !evtq) return false;
    s.cmdq.base = cmdq;
    s.evtq.base = evtq;
    // arm_smmu_init_queues(): the PRI queue only with ARM_SMMU_FEAT_PRI
    if (s.cfg.pri) {
      const priq = this.allocZeroed(16 * 2 ** s.priq.log2);
      if (!priq) return false;
      s.priq.base = priq;
    }
    const sidBits = s.cfg.sidBits;
    if (fmt === 'linear') {
      const n = 2 ** sidBits;
      const base = this.allocZeroed(n * 64);
      if (!base) return false;
      for (let i = 0; i < n; i++) this.writeRaw(base + i * 64, this.initial());
      s.strtabBase = base;
      s.strtabFmt = 'linear';
      s.strtabLog2Size = sidBits;
    } else {
      const l1 = Math.max(1, 2 ** Math.max(0, sidBits - STRTAB_SPLIT));
      const base = this.allocZeroed(l1 * 8);
      if (!base) return false;
      s.strtabBase = base;
      s.strtabFmt = '2level';
      s.strtabLog2Size = sidBits;
    }
    this.cmdWithSync([prep(CMDQ_OP.CFGI_ALL, 7, 0), prep(31, 4, 0)]);
    this.cmdWithSync([prep(CMDQ_OP.TLBI_NSNH_ALL, 7, 0), 0n]);
    return true;
  }

  private writeRaw(a: number, v: bigint[]): void {
    for (let i = 0; i < v.length; i++) if (v[i] !== 0n) this.env.mem.write64(a + 8 * i, v[i]);
  }

  /** arm_smmu_cmdq_issue_cmd_with_sync() */
  cmdWithSync(cmd: [bigint, bigint]): void {
    this.smmu.submit([cmd, [prep(CMDQ_OP.CMD_SYNC, 7, 0) | prep(2, 13, 12) /* CS_SEV */, 0n]]);
  }

  /** arm_smmu_probe_device() (+ arm_smmu_init_l2_strtab()): -ENOMEM or 0. */
  addMaster(sid: number, ssidBits: number): number {
    if (this.st.masters.has(sid)) return 0;
    const s = this.smmu;
    if (s.strtabFmt === '2level') {
      const l1a = s.strtabBase + Math.floor(sid / 2 ** STRTAB_SPLIT) * 8;
      if (this.env.mem.read64(l1a) === 0n) {
        const l2 = this.allocZeroed(2 ** STRTAB_SPLIT * 64);
        if (!l2) return -12;
        for (let i = 0; i < 2 ** STRTAB_SPLIT; i++) this.writeRaw(l2 + i * 64, this.initial());
        // arm_smmu_write_strtab_l1_desc(): SPAN = STRTAB_SPLIT + 1
        this.env.mem.write64(l1a, prep(STRTAB_SPLIT + 1, 4, 0) | (BigInt(l2) & M(51, 6)));
      }
    }
    this.w().masters.set(sid, { sid, cdtab: 0, s1fmt: 0, s1cdmax: Math.min(ssidBits, s.cfg.ssidBits), cdL2: {}, ssidBits });
    return 0;
  }

  steAddr(sid: number): number {
    const a = this.smmu.steAddr(sid);
    return typeof a === 'number' ? a : 0;
  }

  /** arm_smmu_write_ste(): returns the CMD_SYNCs it issued. */
  writeSte(sid: number, target: bigint[]): number {
    const a = this.steAddr(sid);
    if (!a) return 0;
    const mem = this.env.mem;
    const n = writeEntry(
      () => Array.from({ length: STRTAB_STE_DWORDS }, (_, i) => mem.read64(a + 8 * i)),
      (i, v) => mem.write64(a + 8 * i, v),
      target,
      steUsed,
      () => this.cmdWithSync([prep(CMDQ_OP.CFGI_STE, 7, 0) | prep(sid, 63, 32), 1n /* leaf */]),
    );
    // It's likely that we'll want to use the new STE soon
    this.smmu.submit([[prep(CMDQ_OP.PREFETCH_CFG, 7, 0) | prep(sid, 63, 32), 0n]]);
    this.lastSyncs = n;
    this.env.log.emit({ kind: 'ste-write', text: `STE sid ${'0x' + sid.toString(16)} written (${n} CMD_SYNC)`, sid, syncs: n, raw: target.slice(0, 4).map((x) => '0x' + x.toString(16).padStart(16, '0')) });
    return n;
  }

  /** arm_smmu_alloc_cd_tables() / arm_smmu_alloc_cd_ptr(): CD address or 0. */
  cdPtr(m: Master, ssid: number, alloc: boolean): number {
    const maxContexts = 2 ** m.s1cdmax;
    if (!m.cdtab) {
      if (!alloc) return 0;
      if (maxContexts <= 1024) {
        m.s1fmt = 0;
        m.cdtab = this.allocZeroed(maxContexts * 64);
      } else {
        m.s1fmt = 2; // STRTAB_STE_0_S1FMT_64K_L2
        m.cdtab = this.allocZeroed(Math.ceil(maxContexts / 1024) * 8);
      }
      if (!m.cdtab) return 0;
    }
    if (ssid >= maxContexts) return 0;
    if (m.s1fmt === 0) return m.cdtab + ssid * 64;
    const idx = Math.floor(ssid / 1024);
    if (!m.cdL2[idx]) {
      if (!alloc) return 0;
      const l2 = this.allocZeroed(1024 * 64);
      if (!l2) return 0;
      m.cdL2[idx] = l2;
      // arm_smmu_write_cd_l1_desc(): V | L2PTR, then sync the CD
      this.env.mem.write64(m.cdtab + idx * 8, (BigInt(l2) & M(51, 12)) | 1n);
    }
    return m.cdL2[idx] + (ssid % 1024) * 64;
  }

  /** arm_smmu_write_cd_entry(): returns the CMD_SYNCs it issued. */
  writeCd(m: Master, ssid: number, target: bigint[]): number {
    const a = this.cdPtr(m, ssid, true);
    if (!a) return 0;
    const mem = this.env.mem;
    const n = writeEntry(
      () => Array.from({ length: CTXDESC_CD_DWORDS }, (_, i) => mem.read64(a + 8 * i)),
      (i, v) => mem.write64(a + 8 * i, v),
      target,
      cdUsed,
      // arm_smmu_sync_cd(): CFGI_CD for the master's stream, then sync
      () => this.cmdWithSync([prep(CMDQ_OP.CFGI_CD, 7, 0) | prep(ssid, 31, 12) | prep(m.sid, 63, 32), 1n]),
    );
    this.lastSyncs = n;
    this.env.log.emit({ kind: 'cd-write', text: `CD sid ${'0x' + m.sid.toString(16)} ssid ${ssid} written (${n} CMD_SYNC)`, sid: m.sid, ssid, syncs: n });
    return n;
  }

  /** arm_smmu_clear_cd() */
  clearCd(m: Master, ssid: number): void {
    if (!m.cdtab || !this.cdPtr(m, ssid, false)) return;
    this.writeCd(m, ssid, new Array<bigint>(8).fill(0n));
  }

  cdtableSte(m: Master, s1dss = STRTAB_STE_1_S1DSS_SSID0): bigint[] {
    return makeCdtableSte(m.cdtab, m.s1fmt, m.s1cdmax, s1dss);
  }

  /** arm_smmu_domain_finalise_s1(): xa_alloc(1 .. 2^asid_bits - 1), or -ENOSPC. */
  allocAsid(): number {
    const st = this.w();
    for (let a = 1; a < 2 ** this.asidBits; a++) if (!st.asids.has(a)) return st.asids.add(a), a;
    return -28;
  }
  /** arm_smmu_domain_finalise_s2(): VMID 0 is reserved for stage-2 bypass STEs. */
  allocVmid(): number {
    const st = this.w();
    for (let v = 1; v < 2 ** this.vmidBits; v++) if (!st.vmids.has(v)) return st.vmids.add(v), v;
    return -28;
  }

  /** arm_smmu_flush_ops for a domain: stage 1 by ASID, stage 2 by VMID. */
  flushOps(stage: 1 | 2, id: number, pgsizeBitmap: number, sync: (g: IotlbGather) => void): FlushOps {
    return {
      tlbFlushWalk: (iova, size, granule) => this.tlbInvRange(stage, id, iova, size, granule, false, pgsizeBitmap),
      tlbAddPage: (gather, iova, granule) => {
        // iommu_iotlb_gather_add_page()
        if ((gather.pgsize && gather.pgsize !== granule) || (gather.end !== 0 && (iova + granule < gather.start || iova > gather.end + 1))) sync(gather);
        gather.pgsize = granule;
        if (gather.start > iova) gather.start = iova;
        if (gather.end < iova + granule - 1) gather.end = iova + granule - 1;
      },
    };
  }

  /** arm_smmu_tlb_inv_range_domain(): one TLBI per granule step (no RIL), then sync. */
  tlbInvRange(stage: 1 | 2, id: number, iova: number, size: number, granule: number, leaf: boolean, _pgsize: number): void {
    if (!size) return;
    const cmds: [bigint, bigint][] = [];
    const end = iova + size;
    for (let a = iova; a < end; a += granule) {
      if (stage === 1) cmds.push([prep(CMDQ_OP.TLBI_NH_VA, 7, 0) | prep(0, 47, 32) | prep(id, 63, 48), (BigInt(a) & M(63, 12)) | (leaf ? 1n : 0n)]);
      else cmds.push([prep(CMDQ_OP.TLBI_S2_IPA, 7, 0) | prep(id, 47, 32), (BigInt(a) & M(51, 12)) | (leaf ? 1n : 0n)]);
    }
    cmds.push([prep(CMDQ_OP.CMD_SYNC, 7, 0) | prep(2, 13, 12), 0n]);
    this.smmu.submit(cmds);
  }

  /** arm_smmu_tlb_inv_context(): TLBI_NH_ASID or TLBI_S12_VMALL, then sync. */
  tlbInvContext(stage: 1 | 2, id: number): void {
    if (stage === 1) this.cmdWithSync([prep(CMDQ_OP.TLBI_NH_ASID, 7, 0) | prep(id, 63, 48), 0n]);
    else this.cmdWithSync([prep(CMDQ_OP.TLBI_S12_VMALL, 7, 0) | prep(id, 47, 32), 0n]);
  }
}
