/**
 * The SMMUv3 device model (Arm IHI 0070, as QEMU's hw/arm/smmuv3.c models it):
 * stream table (linear or 2-level), STE and CD decoding through a configuration
 * cache that stays stale until CMD_CFGI_*, the command queue and the event queue
 * in emulated memory, translation through the IOTLB and the walker (iotlb.ts,
 * ptw.ts), and PMCG-style counters. A bad configuration or a faulting access
 * becomes an event record in the event queue; nothing here throws.
 */
import { EventLog, hex } from './events';
import { Iotlb, IotlbEntry, s1Tag, s2Tag } from './iotlb';
import { PhysMemory } from './memory';
import { Ctx, PMap } from './pmap';
import { isFault, s1StartLevel, s2StartLevel, walk, WalkCfg, WalkFault, WalkLeaf } from './ptw';

/** Event record types (SMMUv3 spec 7.3; QEMU SMMUEventType). */
export const EVT = {
  F_UUT: 0x01,
  C_BAD_STREAMID: 0x02,
  F_STE_FETCH: 0x03,
  C_BAD_STE: 0x04,
  F_BAD_ATS_TREQ: 0x05,
  F_STREAM_DISABLED: 0x06,
  F_TRANSL_FORBIDDEN: 0x07,
  C_BAD_SUBSTREAMID: 0x08,
  F_CD_FETCH: 0x09,
  C_BAD_CD: 0x0a,
  F_WALK_EABT: 0x0b,
  F_TRANSLATION: 0x10,
  F_ADDR_SIZE: 0x11,
  F_ACCESS: 0x12,
  F_PERMISSION: 0x13,
  F_TLB_CONFLICT: 0x20,
  F_CFG_CONFLICT: 0x21,
} as const;
export type EventName = keyof typeof EVT;
const EVT_NAME: Record<number, EventName> = Object.fromEntries(Object.entries(EVT).map(([k, v]) => [v, k as EventName]));

/** Command opcodes (arm-smmu-v3.h CMDQ_OP_*). */
export const CMDQ_OP = {
  PREFETCH_CFG: 0x1,
  CFGI_STE: 0x3,
  CFGI_ALL: 0x4,
  CFGI_CD: 0x5,
  CFGI_CD_ALL: 0x6,
  TLBI_NH_ASID: 0x11,
  TLBI_NH_VA: 0x12,
  TLBI_S12_VMALL: 0x28,
  TLBI_S2_IPA: 0x2a,
  TLBI_NSNH_ALL: 0x30,
  PRI_RESP: 0x41,
  CMD_SYNC: 0x46,
} as const;
const CMD_NAME: Record<number, string> = Object.fromEntries(Object.entries(CMDQ_OP).map(([k, v]) => [v, k === 'CMD_SYNC' ? k : 'CMD_' + k]));

/** GERROR bits (arm-smmu-v3.h GERROR_*); GERROR_ERR_MASK is 0x1fd. */
export const GERROR = {
  CMDQ_ERR: 1 << 0,
  EVTQ_ABT_ERR: 1 << 2,
  PRIQ_ABT_ERR: 1 << 3,
  MSI_CMDQ_ABT_ERR: 1 << 4,
  MSI_EVTQ_ABT_ERR: 1 << 5,
  MSI_PRIQ_ABT_ERR: 1 << 6,
  MSI_GERROR_ABT_ERR: 1 << 7,
  SFM_ERR: 1 << 8,
} as const;
export type GerrorName = keyof typeof GERROR;
export const GERROR_ERR_MASK = 0x1fd;
/** CMDQ_CONS.ERR (CMDQ_CONS_ERR, bits [30:24]): CMDQ_ERR_CERROR_*_IDX. */
export const CERROR = { NONE: 0, ILL: 1, ABT: 2, ATC_INV_SYNC: 3 } as const;
/** __arm_smmu_cmdq_skip_err()'s cerror_str[] */
const CERROR_STR = ['No error', 'Illegal command', 'Abort on command fetch', 'ATC invalidate timeout'];
/** Q_OVERFLOW_FLAG: PROD.OVFLG / CONS.OVACKFLG, bit 31 of the queue index registers. */
export const Q_OVERFLOW_FLAG = 2 ** 31;
/** enum pri_resp */
export const PRI_RESP = { DENY: 0, FAIL: 1, SUCC: 2 } as const;
export type PriRespName = keyof typeof PRI_RESP;
const PRI_RESP_NAME = ['DENY', 'FAIL', 'SUCC'] as const;
// PRI queue records (PRIQ_ENT_DWORDS = 2): PRIQ_0_* / PRIQ_1_*
const PRIQ_0_PERM_PRIV = 1n << 58n;
const PRIQ_0_PERM_EXEC = 1n << 59n;
const PRIQ_0_PERM_READ = 1n << 60n;
const PRIQ_0_PERM_WRITE = 1n << 61n;
const PRIQ_0_PRG_LAST = 1n << 62n;
const PRIQ_0_SSID_V = 1n << 63n;
const PRIQ_1_ADDR_MASK = 0xfffffffffffff000n;

// STE fields (arm-smmu-v3.h STRTAB_STE_*)
export const STRTAB_STE_0_CFG_ABORT = 0;
export const STRTAB_STE_0_CFG_BYPASS = 4;
export const STRTAB_STE_0_CFG_S1_TRANS = 5;
export const STRTAB_STE_0_CFG_S2_TRANS = 6;
export const STRTAB_STE_0_CFG_NESTED = 7;
export const STRTAB_STE_1_S1DSS_TERMINATE = 0;
export const STRTAB_STE_1_S1DSS_BYPASS = 1;
export const STRTAB_STE_1_S1DSS_SSID0 = 2;
export const STRTAB_SPLIT = 8;
export const STRTAB_STE_DWORDS = 8;
export const CTXDESC_CD_DWORDS = 8;
export const CTXDESC_L2_ENTRIES = 1024;

/** Extract bits [hi:lo] of a 64-bit BigInt as a number. */
export function field(v: bigint, hi: number, lo: number): number {
  return Number((v >> BigInt(lo)) & ((1n << BigInt(hi - lo + 1)) - 1n));
}
/** FIELD_PREP for bits [hi:lo]. */
export function prep(x: number | bigint, hi: number, lo: number): bigint {
  return (BigInt(x) & ((1n << BigInt(hi - lo + 1)) - 1n)) << BigInt(lo);
}

export interface SmmuV3Config {
  sidBits: number;
  ssidBits: number;
  ias: number;
  oas: number;
  /** supported granules (IDR5.GRAN4K/16K/64K) */
  granules: number[];
  cmdqLog2: number;
  evtqLog2: number;
  /** SMMU_IDR0.PRI: a PRI queue exists (ARM_SMMU_FEAT_PRI) */
  pri?: boolean;
  priqLog2?: number;
  iotlbSize: number;
}

/** A page request as the driver's priq thread reads it (arm_smmu_handle_ppr). */
export interface PriRecord {
  sid: number;
  ssid: number | null;
  grpid: number;
  last: boolean;
  priv: boolean;
  read: boolean;
  write: boolean;
  exec: boolean;
  iova: number;
  raw: string[];
}

/** A global error the SMMU raised (GERROR bit toggled), with what the driver printed. */
export interface GerrorRecord {
  name: GerrorName;
  bit: number;
  text: string;
}

export interface DecodedSte {
  config: number;
  s1fmt: number;
  s1ctxptr: number;
  s1cdmax: number;
  s1dss: number;
  vmid: number;
  s2?: WalkCfg;
  s2r: boolean;
  raw: string[];
}

export interface DecodedCd {
  asid: number;
  walk: WalkCfg;
  epd0: boolean;
  record: boolean;
  raw: string[];
}

/** An event record as the driver's evtq thread reads it (arm_smmu_evtq_thread). */
export interface EventRecord {
  type: EventName;
  id: number;
  sid: number;
  ssid: number | null;
  addr?: number;
  ipa?: number;
  rnw?: boolean;
  s2?: boolean;
  class?: string;
  raw: string[];
}

export type TranslateResult = { pa: number; hit: boolean } | { fault: string; record: boolean };

/** PMCG architected events (SMMUv3 spec 10.x). */
export interface SmmuCounters {
  transactions: number;
  tlbHits: number;
  tlbMisses: number;
  tableWalks: number;
  configCacheHits: number;
  configCacheMisses: number;
  configStructAccesses: number;
  faults: number;
  eventsRecorded: number;
  eventsLost: number;
  priRequests: number;
  priLost: number;
  priResponses: number;
  gerrors: number;
  commands: number;
  cmdSyncs: number;
  tlbInvalidations: number;
  cfgInvalidations: number;
}

function zeroCounters(): SmmuCounters {
  return { transactions: 0, tlbHits: 0, tlbMisses: 0, tableWalks: 0, configCacheHits: 0, configCacheMisses: 0, configStructAccesses: 0, faults: 0, eventsRecorded: 0, eventsLost: 0, priRequests: 0, priLost: 0, priResponses: 0, gerrors: 0, commands: 0, cmdSyncs: 0, tlbInvalidations: 0, cfgInvalidations: 0 };
}

interface Queue {
  base: number;
  log2: number;
  /** index with its wrap bit, 0 .. 2^(log2+1) - 1 */
  prod: number;
  cons: number;
  /** overflow condition: PROD.OVFLG differs from CONS.OVACKFLG (output queues) */
  overflow: boolean;
  /** PROD.OVFLG as the register holds it (toggled on entering the overflow condition) */
  ovflg: boolean;
  /** CMDQ_CONS.ERR of the command queue */
  err: number;
}

const TG_SHIFT: Record<number, number> = { 0: 12, 1: 16, 2: 14 }; // CD TG0 / STE S2TG encodings
const PS_BITS = [32, 36, 40, 42, 44, 48, 52];
const LEAF_SIZES: Record<number, number[]> = {
  12: [4096, 2 ** 21, 2 ** 30],
  14: [16384, 2 ** 25],
  16: [65536, 2 ** 29, 2 ** 42],
};

/** A queue is full when PROD and CONS index the same slot with different wrap bits. */
function queueFull(q: Queue): boolean {
  const n = 2 ** q.log2;
  return q.prod % n === q.cons % n && Math.floor(q.prod / n) % 2 !== Math.floor(q.cons / n) % 2;
}

/** %08x */
function hex8(n: number): string {
  return '0x' + n.toString(16).padStart(8, '0');
}

function hexes(v: bigint[]): string[] {
  return v.map((x) => '0x' + x.toString(16).padStart(16, '0'));
}

/** The SMMUv3 device. Its "registers" are plain fields written by the driver model. */
export class SmmuV3 {
  // Registers (STRTAB_BASE, STRTAB_BASE_CFG, CMDQ_*, EVTQ_*)
  strtabBase = 0;
  strtabFmt: 'linear' | '2level' = 'linear';
  strtabLog2Size = 0;
  cmdq: Queue;
  evtq: Queue;
  priq: Queue;
  /** SMMU_GERROR and SMMU_GERRORN: an error is active while their bits differ */
  gerror = 0;
  gerrorn = 0;
  /** every global error raised so far, oldest first (replaced, never mutated: forks share it) */
  gerrorLog: readonly GerrorRecord[] = [];
  /** a probe (inspection) in progress: no cache fills, no records, counters restored */
  private dry = false;
  private steCache: PMap<DecodedSte>;
  private cdCache: PMap<DecodedCd>;
  iotlb: Iotlb;
  counters: SmmuCounters;

  constructor(
    public ctx: Ctx,
    public mem: PhysMemory,
    public log: EventLog,
    readonly cfg: SmmuV3Config,
  ) {
    this.cmdq = { base: 0, log2: cfg.cmdqLog2, prod: 0, cons: 0, overflow: false, ovflg: false, err: 0 };
    this.evtq = { base: 0, log2: cfg.evtqLog2, prod: 0, cons: 0, overflow: false, ovflg: false, err: 0 };
    this.priq = { base: 0, log2: cfg.priqLog2 ?? 6, prod: 0, cons: 0, overflow: false, ovflg: false, err: 0 };
    this.steCache = new PMap(ctx);
    this.cdCache = new PMap(ctx);
    this.iotlb = new Iotlb(ctx, cfg.iotlbSize);
    this.counters = zeroCounters();
  }

  clone(ctx: Ctx, mem: PhysMemory, log: EventLog): SmmuV3 {
    // Field by field: Object.assign() of this many fields is several times slower, and forks are hot.
    const c = Object.create(SmmuV3.prototype) as SmmuV3;
    c.ctx = ctx;
    c.mem = mem;
    c.log = log;
    (c as { cfg: SmmuV3Config }).cfg = this.cfg;
    c.strtabBase = this.strtabBase;
    c.strtabFmt = this.strtabFmt;
    c.strtabLog2Size = this.strtabLog2Size;
    c.cmdq = { ...this.cmdq };
    c.evtq = { ...this.evtq };
    c.priq = { ...this.priq };
    c.gerror = this.gerror;
    c.gerrorn = this.gerrorn;
    c.gerrorLog = this.gerrorLog;
    c.dry = false;
    c.steCache = this.steCache.clone(ctx);
    c.cdCache = this.cdCache.clone(ctx);
    c.iotlb = this.iotlb.clone(ctx);
    c.counters = { ...this.counters };
    c.onGerror = null; // the fork's driver installs its own handlers
    c.onPriq = null;
    c.lastPriResp = this.lastPriResp;
    return c;
  }

  // ---- configuration fetch and decode -------------------------------------

  /** Address of the STE for sid, or the event the lookup raises. */
  steAddr(sid: number, count = true): number | EventName {
    if (sid < 0 || sid >= 2 ** Math.min(this.strtabLog2Size, this.cfg.sidBits)) return 'C_BAD_STREAMID';
    if (this.strtabFmt === 'linear') return this.strtabBase + sid * 64;
    const l1 = this.mem.read64(this.strtabBase + Math.floor(sid / 2 ** STRTAB_SPLIT) * 8);
    if (count) this.counters.configStructAccesses++;
    const span = field(l1, 4, 0);
    if (span === 0) return 'C_BAD_STREAMID'; // L2 table not valid
    const l2idx = sid % 2 ** STRTAB_SPLIT;
    if (l2idx >= 2 ** (span - 1)) return 'C_BAD_STE';
    return Number(l1 & 0x000ffffffffffc0n) + l2idx * 64;
  }

  readSte(addr: number): bigint[] {
    const out: bigint[] = [];
    for (let i = 0; i < STRTAB_STE_DWORDS; i++) out.push(this.mem.read64(addr + 8 * i));
    return out;
  }

  /** decode_ste(): the decoded STE or the event name (C_BAD_STE). */
  decodeSte(ste: bigint[]): DecodedSte | EventName {
    const d0 = ste[0];
    const d1 = ste[1];
    const d2 = ste[2];
    const d3 = ste[3];
    if (!(d0 & 1n)) return 'C_BAD_STE';
    const config = field(d0, 3, 1);
    if (config !== 0 && config < 4) return 'C_BAD_STE'; // reserved encodings
    const dec: DecodedSte = {
      config,
      s1fmt: field(d0, 5, 4),
      s1ctxptr: Number(d0 & 0x000ffffffffffc0n),
      s1cdmax: field(d0, 63, 59),
      s1dss: field(d1, 1, 0),
      vmid: field(d2, 15, 0),
      s2r: !!(d2 & (1n << 58n)),
      raw: hexes(ste.slice(0, 4)),
    };
    if (config & 1) {
      if (dec.s1cdmax > this.cfg.ssidBits) return 'C_BAD_STE';
      if (dec.s1fmt !== 0 && dec.s1fmt !== 2) return 'C_BAD_STE';
      if (dec.s1ctxptr >= 2 ** this.cfg.oas) return 'C_BAD_STE';
    }
    if (config & 2) {
      const t0sz = field(d2, 37, 32);
      const sl0 = field(d2, 39, 38);
      const tg = field(d2, 47, 46);
      const ps = field(d2, 50, 48);
      const aa64 = !!(d2 & (1n << 51n));
      const gshift = TG_SHIFT[tg];
      if (!aa64 || gshift === undefined || !this.cfg.granules.includes(2 ** gshift)) return 'C_BAD_STE';
      const inputSize = 64 - t0sz;
      if (inputSize > Math.max(this.cfg.ias, this.cfg.oas) || inputSize < 24) return 'C_BAD_STE';
      const startLevel = s2StartLevel(sl0, gshift);
      if (startLevel < 0 || startLevel > 3) return 'C_BAD_STE';
      // the concatenated first-level table may span at most 16 pages
      const shift = gshift + (3 - startLevel) * (gshift - 3);
      if (inputSize - shift > gshift - 3 + 4 || inputSize <= shift) return 'C_BAD_STE';
      const oas = Math.min(PS_BITS[ps] ?? 48, this.cfg.oas);
      const ttb = Number(d3 & 0x000ffffffffffff0n);
      dec.s2 = { stage: 2, ttb, inputSize, gshift, startLevel, oas, ha: false };
    }
    return dec;
  }

  /** decode_cd(): the decoded CD or the event name. */
  decodeCd(cd: bigint[]): DecodedCd | EventName {
    const d0 = cd[0];
    if (!(d0 & (1n << 31n))) return 'C_BAD_CD';
    if (!(d0 & (1n << 41n))) return 'C_BAD_CD'; // AA64
    const t0sz = field(d0, 5, 0);
    const gshift = TG_SHIFT[field(d0, 7, 6)];
    if (gshift === undefined || !this.cfg.granules.includes(2 ** gshift)) return 'C_BAD_CD';
    const inputSize = 64 - t0sz;
    const maxIn = gshift === 16 ? 52 : 48;
    if (inputSize > maxIn || inputSize < 25) return 'C_BAD_CD';
    const ips = field(d0, 34, 32);
    const oas = Math.min(PS_BITS[ips] ?? 48, this.cfg.oas);
    const ttb = Number(cd[1] & 0x000ffffffffffff0n);
    return {
      asid: field(d0, 63, 48),
      epd0: !!(d0 & (1n << 14n)),
      record: !!(d0 & (1n << 45n)),
      walk: { stage: 1, ttb, inputSize, gshift, startLevel: s1StartLevel(inputSize, gshift), oas, ha: !!(d0 & (1n << 43n)) },
      raw: hexes(cd.slice(0, 4)),
    };
  }

  /** The STE through the configuration cache. */
  private steFor(sid: number): DecodedSte | EventName {
    const c = this.steCache.get(sid);
    if (c !== undefined) {
      this.counters.configCacheHits++;
      return c;
    }
    this.counters.configCacheMisses++;
    const a = this.steAddr(sid);
    if (typeof a === 'string') return a;
    this.counters.configStructAccesses++;
    const d = this.decodeSte(this.readSte(a));
    if (typeof d !== 'string' && !this.dry) this.steCache.set(sid, d);
    return d;
  }

  /** Address of the CD for ssid under ste, or the event. */
  cdAddr(ste: DecodedSte, ssid: number, count = true): number | EventName {
    if (ste.s1fmt === 0) return ste.s1ctxptr + ssid * 64;
    const l1 = this.mem.read64(ste.s1ctxptr + Math.floor(ssid / CTXDESC_L2_ENTRIES) * 8);
    if (count) this.counters.configStructAccesses++;
    if (!(l1 & 1n)) return 'C_BAD_SUBSTREAMID';
    return Number(l1 & 0x000ffffffffff000n) + (ssid % CTXDESC_L2_ENTRIES) * 64;
  }

  private cdFor(sid: number, ssid: number, ste: DecodedSte): DecodedCd | EventName {
    const k = sid * 1048576 + ssid;
    const c = this.cdCache.get(k);
    if (c !== undefined) {
      this.counters.configCacheHits++;
      return c;
    }
    this.counters.configCacheMisses++;
    let a = this.cdAddr(ste, ssid);
    if (typeof a === 'string') return a;
    this.counters.configStructAccesses++;
    if (ste.config === STRTAB_STE_0_CFG_NESTED && ste.s2) {
      const x = walk(this.mem, ste.s2, a);
      if (isFault(x)) return 'C_BAD_CD';
      a = x.pa + (a - x.iova);
    }
    const raw: bigint[] = [];
    for (let i = 0; i < CTXDESC_CD_DWORDS; i++) raw.push(this.mem.read64(a + 8 * i));
    const d = this.decodeCd(raw);
    if (typeof d !== 'string' && !this.dry) this.cdCache.set(k, d);
    return d;
  }

  // ---- translation ---------------------------------------------------------

  /**
   * A device access by (sid, ssid) to iova. ssid 0 is a transaction without a
   * SubstreamID (IOMMU_NO_PASID). Accesses are taken as unprivileged data
   * accesses. Returns the PA, or the fault name after queueing the event
   * record; STE.Config = abort terminates silently ('ABORT'), as the spec says.
   */
  translate(sid: number, ssid: number, iova: number, access: 'read' | 'write'): TranslateResult {
    const c = this.counters;
    c.transactions++;
    const ssv = ssid !== 0;
    const ste = this.steFor(sid);
    if (typeof ste === 'string') return this.fault(ste, sid, ssid, iova, access);
    if (ste.config === STRTAB_STE_0_CFG_ABORT) return { fault: 'ABORT', record: false };
    // STE.S1Fmt: with stage 1 disabled (Config 0b1x0) a SubstreamID is C_BAD_SUBSTREAMID
    if (ssv && !(ste.config & 1)) return this.fault('C_BAD_SUBSTREAMID', sid, ssid, iova, access);
    if (ste.config === STRTAB_STE_0_CFG_BYPASS) return { pa: iova, hit: false };
    let cd: DecodedCd | null = null;
    let tag: number;
    if (ste.config & 1) {
      let useCd = true;
      if (!ssv) {
        // STE.S1DSS governs transactions without a SubstreamID only when substreams are enabled
        if (ste.s1cdmax > 0 && ste.s1dss === STRTAB_STE_1_S1DSS_TERMINATE) return this.fault('F_STREAM_DISABLED', sid, ssid, iova, access);
        if (ste.s1cdmax > 0 && ste.s1dss === STRTAB_STE_1_S1DSS_BYPASS) {
          if (!(ste.config & 2)) return { pa: iova, hit: false };
          useCd = false;
        }
      } else if (ste.s1cdmax === 0 || ssid >= 2 ** ste.s1cdmax) return this.fault('C_BAD_SUBSTREAMID', sid, ssid, iova, access);
      if (useCd) {
        const d = this.cdFor(sid, ssid, ste);
        if (typeof d === 'string') return this.fault(d, sid, ssid, iova, access);
        cd = d;
      }
    }
    const s2 = ste.config & 2 ? ste.s2! : null;
    if (cd) tag = s1Tag(ste.config & 2 ? ste.vmid : 0, cd.asid);
    else tag = s2Tag(ste.vmid);
    const sizes = cd ? (s2 ? LEAF_SIZES[Math.min(cd.walk.gshift, s2.gshift)].concat(LEAF_SIZES[Math.max(cd.walk.gshift, s2.gshift)]) : LEAF_SIZES[cd.walk.gshift]) : LEAF_SIZES[s2!.gshift];
    let e = this.iotlb.lookup(tag, iova, sizes);
    let hit = true;
    if (e === undefined) {
      hit = false;
      c.tlbMisses++;
      const w = this.walkFor(cd, s2, iova);
      if (isFault(w)) {
        const record = w.s2 ? ste.s2r : cd ? cd.record : true;
        return this.fault(w.type, sid, ssid, iova, access, w, record);
      }
      e = w;
      if (!this.dry) this.iotlb.insert(tag, e);
    } else c.tlbHits++;
    const ok = access === 'write' ? e.write : e.read;
    if (!ok) {
      const s1deny = e.stage === 1 || (e.stage === 3 && !(access === 'write' ? e.s1write : e.s1read));
      const rec = s1deny ? (cd ? cd.record : true) : ste.s2r;
      return this.fault('F_PERMISSION', sid, ssid, iova, access, { type: 'F_PERMISSION', addr: iova, level: 3, class: 'IN', s2: !s1deny, ipa: e.stage === 3 ? e.ipa + (iova - e.iova) : undefined }, rec);
    }
    return { pa: e.pa + (iova - e.iova), hit };
  }

  /** Walk stage 1 and/or stage 2 for iova; the combined leaf or a fault. */
  private walkFor(cd: DecodedCd | null, s2: WalkCfg | null, iova: number): IotlbEntry | WalkFault {
    const c = this.counters;
    if (cd) {
      if (cd.epd0) return { type: 'F_TRANSLATION', addr: iova, level: cd.walk.startLevel, class: 'IN', s2: false };
      c.tableWalks++;
      const tableXlate = s2
        ? (ipa: number): number | WalkFault => {
            const t = walk(this.mem, s2, ipa);
            if (isFault(t)) return { ...t, ipa };
            return t.pa + (ipa - t.iova);
          }
        : undefined;
      const l1 = walk(this.mem, cd.walk, iova, tableXlate);
      if (isFault(l1)) return l1;
      if (!s2) return { iova: l1.iova, pa: l1.pa, size: l1.size, ipa: l1.pa, read: l1.read, write: l1.write, stage: 1 };
      const ipa = l1.pa + (iova - l1.iova);
      c.tableWalks++;
      const l2 = walk(this.mem, s2, ipa);
      if (isFault(l2)) return { ...l2, addr: iova, ipa, class: 'IN' };
      return this.combine(l1, l2, iova, ipa);
    }
    c.tableWalks++;
    const l2 = walk(this.mem, s2!, iova);
    if (isFault(l2)) return { ...l2, ipa: iova };
    return { iova: l2.iova, pa: l2.pa, size: l2.size, ipa: l2.iova, read: l2.read, write: l2.write, stage: 2 };
  }

  /** Nested leaf: the smaller of the two leaves, permissions of both. */
  private combine(l1: WalkLeaf, l2: WalkLeaf, iova: number, ipa: number): IotlbEntry {
    const size = Math.min(l1.size, l2.size);
    const inBase = iova - (iova % size);
    const ipaBase = ipa - (ipa % size);
    return { iova: inBase, pa: l2.pa + (ipaBase - l2.iova), size, ipa: ipaBase, read: l1.read && l2.read, write: l1.write && l2.write, stage: 3, s1read: l1.read, s1write: l1.write };
  }

  private fault(type: EventName | WalkFault['type'], sid: number, ssid: number, iova: number, access: 'read' | 'write', w?: WalkFault, record = true): TranslateResult {
    this.counters.faults++;
    if (record && !this.dry) this.recordEvent(type as EventName, sid, ssid, iova, access, w);
    return { fault: type, record };
  }

  /**
   * What translate() would answer now, through the same caches (a stale IOTLB entry shows),
   * without filling them, writing an event record or counting: for views and the run summary.
   */
  probe(sid: number, ssid: number, iova: number, access: 'read' | 'write'): TranslateResult {
    const saved = { ...this.counters };
    this.dry = true;
    try {
      return this.translate(sid, ssid, iova, access);
    } finally {
      this.dry = false;
      this.counters = saved;
    }
  }

  /** Write an event record into the event queue (full queue: overflow, record lost). */
  recordEvent(type: EventName, sid: number, ssid: number, iova: number, access: 'read' | 'write', w?: WalkFault): void {
    const id = EVT[type];
    const ssv = ssid !== 0;
    const d0 = prep(id, 7, 0) | (ssv ? 1n << 11n : 0n) | prep(ssid, 31, 12) | prep(sid, 63, 32);
    let d1 = 0n;
    let d2 = 0n;
    let d3 = 0n;
    if (id >= EVT.F_TRANSLATION && id <= EVT.F_PERMISSION) {
      const cls = w?.class === 'CD' ? 0 : w?.class === 'TT' ? 1 : 2;
      d1 = (access === 'read' ? 1n << 35n : 0n) | (w?.s2 ? 1n << 39n : 0n) | prep(cls, 41, 40) | (1n << 33n); // PnU: unprivileged
      d2 = BigInt(iova);
      if (w?.s2 && w.ipa !== undefined) d3 = BigInt(w.ipa) & 0x000ffffffffff000n;
    }
    const q = this.evtq;
    const n = 2 ** q.log2;
    const text = `${type} sid ${hex(sid)}${ssv ? ` ssid ${hex(ssid)}` : ''}${id >= EVT.F_TRANSLATION && id <= EVT.F_PERMISSION ? ` iova ${hex(iova)} ${access}${w?.s2 ? ' stage 2' : ''}${w ? ` level ${w.level}` : ''}` : ''}`;
    if (!q.base) {
      // no event queue memory: the record write aborts (GERROR.EVTQ_ABT_ERR)
      this.counters.eventsLost++;
      this.log.emit({ kind: 'fault', text: text + ' (event queue write aborted: record lost)', type, sid, ssid, iova, access, lost: true });
      this.raiseGerror('EVTQ_ABT_ERR');
      return;
    }
    if (queueFull(q)) {
      // a full queue discards the record and enters the overflow condition (PROD.OVFLG toggles once)
      if (!q.overflow) q.ovflg = !q.ovflg;
      q.overflow = true;
      this.counters.eventsLost++;
      this.log.emit({ kind: 'fault', text: text + ' (event queue overflow: record lost)', type, sid, ssid, iova, access, lost: true });
      return;
    }
    const a = q.base + (q.prod % n) * 32;
    this.mem.write64(a, d0);
    this.mem.write64(a + 8, d1);
    this.mem.write64(a + 16, d2);
    this.mem.write64(a + 24, d3);
    q.prod = (q.prod + 1) % (2 * n);
    this.counters.eventsRecorded++;
    this.log.emit({ kind: 'fault', text, type, id, sid, ssid, iova, access, s2: !!w?.s2 });
  }

  /** Decode one event record from memory. */
  decodeEvent(a: number): EventRecord {
    const d = [0, 1, 2, 3].map((i) => this.mem.read64(a + 8 * i));
    const id = field(d[0], 7, 0);
    const rec: EventRecord = { type: EVT_NAME[id] ?? ('0x' + id.toString(16)) as EventName, id, sid: field(d[0], 63, 32), ssid: d[0] & (1n << 11n) ? field(d[0], 31, 12) : null, raw: hexes(d) };
    if (id >= EVT.F_TRANSLATION && id <= EVT.F_PERMISSION) {
      rec.addr = Number(d[2]);
      rec.rnw = !!(d[1] & (1n << 35n));
      rec.s2 = !!(d[1] & (1n << 39n));
      rec.class = ['CD', 'TT', 'IN', '?'][field(d[1], 41, 40)];
      if (rec.s2) rec.ipa = Number(d[3] & 0x000ffffffffff000n);
    }
    return rec;
  }

  /** arm_smmu_evtq_thread(): read and consume every pending record. */
  drainEvtq(): EventRecord[] {
    const q = this.evtq;
    const n = 2 ** q.log2;
    const out: EventRecord[] = [];
    while (q.cons !== q.prod) {
      out.push(this.decodeEvent(q.base + (q.cons % n) * 32));
      q.cons = (q.cons + 1) % (2 * n);
    }
    if (q.overflow) {
      this.log.emit({ kind: 'evtq-overflow', text: 'arm-smmu-v3: EVTQ overflow detected -- events lost' });
      q.overflow = false; // queue_sync_cons_ovf(): CONS.OVACKFLG = PROD.OVFLG
    }
    return out;
  }

  /** The last records written to an output queue (consumed ones too: they stay in the ring), oldest first. */
  private recentSlots(q: Queue, max: number, written: number): { index: number; addr: number; pending: boolean }[] {
    const n = 2 ** q.log2;
    const count = Math.min(max, n, written);
    const out: { index: number; addr: number; pending: boolean }[] = [];
    const pendingCount = (q.prod - q.cons + 2 * n) % (2 * n);
    for (let i = count; i >= 1; i--) {
      const idx = (q.prod - i + 2 * n) % (2 * n);
      out.push({ index: idx % n, addr: q.base + (idx % n) * (q === this.priq ? 16 : 32), pending: i <= pendingCount });
    }
    return out;
  }

  /** The last event records written (pending or already read by the driver), for views. */
  recentEvents(max = 16): (EventRecord & { index: number; pending: boolean })[] {
    if (!this.evtq.base) return [];
    return this.recentSlots(this.evtq, max, this.counters.eventsRecorded).map((x) => ({ ...this.decodeEvent(x.addr), index: x.index, pending: x.pending }));
  }

  // ---- global errors (SMMU_GERROR) ----------------------------------------------

  /** Hooks the driver installs: its GERROR and PRIQ interrupt handlers (run at once, as an IRQ would). */
  onGerror: (() => void) | null = null;
  onPriq: (() => void) | null = null;

  /** Errors active now: GERROR ^ GERRORN (arm_smmu_gerror_handler()). */
  get gerrorActive(): number {
    return (this.gerror ^ this.gerrorn) & GERROR_ERR_MASK;
  }

  /** Raise a global error: its GERROR bit toggles unless it is already active; the IRQ handler runs. */
  raiseGerror(name: GerrorName, detail = ''): void {
    const bit = GERROR[name];
    if (!(this.gerrorActive & bit)) this.gerror ^= bit;
    this.counters.gerrors++;
    const text = `GERROR.${name} raised (GERROR ${hex8(this.gerror)}, GERRORN ${hex8(this.gerrorn)})${detail ? ': ' + detail : ''}`;
    this.gerrorLog = [...this.gerrorLog, { name, bit, text }];
    this.log.emit({ kind: 'gerror', text, gerror: name, bit });
    if (this.onGerror) this.onGerror();
  }

  /** The driver acknowledges: writel(gerror, GERRORN). */
  ackGerror(): void {
    this.gerrorn = this.gerror;
  }

  /** SMMU_CMDQ_CONS as the driver reads it: ERR in [30:24], the index with its wrap bit below. */
  get cmdqConsReg(): number {
    return this.cmdq.err * 2 ** 24 + this.cmdq.cons;
  }

  // ---- PRI queue -------------------------------------------------------------------

  /** The response the last CMD_PRI_RESP sent to a device. */
  lastPriResp: { sid: number; ssid: number | null; grpid: number; resp: PriRespName } | null = null;

  /**
   * A PCIe Page Request from an ATS/PRI endpoint: a PRI record in the PRI queue, then the
   * driver's priq thread. Returns what the device gets back: a PRG response (after the
   * request with `last`), 'pending' (no response yet), or 'lost' (no PRI queue, PRIQ full).
   */
  pageRequest(sid: number, ssid: number, iova: number, perm: { read?: boolean; write?: boolean; exec?: boolean; priv?: boolean }, grpid: number, last: boolean): PriRespName | 'pending' | 'lost' {
    const q = this.priq;
    this.counters.priRequests++;
    const ssv = ssid !== 0;
    const text = `PRI request sid ${hex(sid)}${ssv ? ` ssid ${hex(ssid)}` : ''} iova ${hex(iova)} ${perm.read ? 'R' : ''}${perm.write ? 'W' : ''}${perm.exec ? 'X' : ''} prg ${grpid}${last ? ' (last)' : ''}`;
    if (!this.cfg.pri || !q.base) {
      this.counters.priLost++;
      this.log.emit({ kind: 'pri', text: text + ' (no PRI queue: request lost)', sid, ssid, iova, lost: true });
      return 'lost';
    }
    if (queueFull(q)) {
      if (!q.overflow) q.ovflg = !q.ovflg;
      q.overflow = true;
      this.counters.priLost++;
      this.log.emit({ kind: 'pri', text: text + ' (PRI queue overflow: request lost)', sid, ssid, iova, lost: true });
      return 'lost';
    }
    const d0 = prep(sid, 31, 0) | prep(ssid, 51, 32) | (perm.priv ? PRIQ_0_PERM_PRIV : 0n) | (perm.exec ? PRIQ_0_PERM_EXEC : 0n) | (perm.read ? PRIQ_0_PERM_READ : 0n) | (perm.write ? PRIQ_0_PERM_WRITE : 0n) | (last ? PRIQ_0_PRG_LAST : 0n) | (ssv ? PRIQ_0_SSID_V : 0n);
    const d1 = prep(grpid, 8, 0) | (BigInt(iova) & PRIQ_1_ADDR_MASK);
    const n = 2 ** q.log2;
    const a = q.base + (q.prod % n) * 16;
    this.mem.write64(a, d0);
    this.mem.write64(a + 8, d1);
    q.prod = (q.prod + 1) % (2 * n);
    this.log.emit({ kind: 'pri', text, sid, ssid, iova, grpid, last });
    this.lastPriResp = null;
    if (this.onPriq) this.onPriq();
    const r = this.lastPriResp as { sid: number; ssid: number | null; grpid: number; resp: PriRespName } | null;
    return r && r.sid === sid && r.grpid === grpid ? r.resp : 'pending';
  }

  decodePri(a: number): PriRecord {
    const d0 = this.mem.read64(a);
    const d1 = this.mem.read64(a + 8);
    const ssv = !!(d0 & PRIQ_0_SSID_V);
    return { sid: field(d0, 31, 0), ssid: ssv ? field(d0, 51, 32) : null, grpid: field(d1, 8, 0), last: !!(d0 & PRIQ_0_PRG_LAST), priv: !!(d0 & PRIQ_0_PERM_PRIV), read: !!(d0 & PRIQ_0_PERM_READ), write: !!(d0 & PRIQ_0_PERM_WRITE), exec: !!(d0 & PRIQ_0_PERM_EXEC), iova: Number(d1 & PRIQ_1_ADDR_MASK), raw: hexes([d0, d1]) };
  }

  /** queue_remove_raw() on the PRI queue: the next record, or null when empty. */
  popPri(): PriRecord | null {
    const q = this.priq;
    if (q.cons === q.prod) return null;
    const n = 2 ** q.log2;
    const r = this.decodePri(q.base + (q.cons % n) * 16);
    q.cons = (q.cons + 1) % (2 * n);
    return r;
  }

  /** The last PRI records written, for views. */
  recentPri(max = 16): (PriRecord & { index: number; pending: boolean })[] {
    if (!this.priq.base) return [];
    return this.recentSlots(this.priq, max, this.counters.priRequests - this.counters.priLost).map((x) => ({ ...this.decodePri(x.addr), index: x.index, pending: x.pending }));
  }

  /** Pending records without consuming them. */
  pendingEvents(): EventRecord[] {
    const q = this.evtq;
    const n = 2 ** q.log2;
    const out: EventRecord[] = [];
    for (let c = q.cons; c !== q.prod; c = (c + 1) % (2 * n)) out.push(this.decodeEvent(q.base + (c % n) * 32));
    return out;
  }

  // ---- command queue -------------------------------------------------------

  /**
   * The driver writes a command at CMDQ_PROD and advances it; the SMMU consumes
   * everything up to PROD at once. An unknown opcode sets GERROR.CMDQ_ERR
   * (CERROR_ILL) and is skipped, as arm_smmu_cmdq_skip_err() would.
   */
  submit(cmds: [bigint, bigint][]): void {
    const q = this.cmdq;
    const n = 2 ** q.log2;
    for (const [d0, d1] of cmds) {
      const a = q.base + (q.prod % n) * 16;
      this.mem.write64(a, d0);
      this.mem.write64(a + 8, d1);
      q.prod = (q.prod + 1) % (2 * n);
    }
    while (q.cons !== q.prod) {
      // a command error stops consumption at CONS until GERRORN acknowledges it
      if (this.gerrorActive & GERROR.CMDQ_ERR) break;
      const a = q.base + (q.cons % n) * 16;
      const err = this.execute(this.mem.read64(a), this.mem.read64(a + 8));
      if (err) {
        q.err = err;
        this.raiseGerror('CMDQ_ERR', `CMDQ_CONS.ERR = CERROR_${['NONE', 'ILL', 'ABT', 'ATC_INV_SYNC'][err]} at index ${q.cons % n}`);
        continue; // the handler has rewritten the entry at CONS (or the queue stays stalled)
      }
      q.cons = (q.cons + 1) % (2 * n);
    }
  }

  /**
   * __arm_smmu_cmdq_skip_err(), the driver's half of a command error: print it, and for
   * CERROR_ILL replace the command at CONS with a CMD_SYNC.
   */
  skipCmdqErr(): void {
    const q = this.cmdq;
    const n = 2 ** q.log2;
    const idx = q.err;
    this.log.emit({ kind: 'cmdq-error', text: `arm-smmu-v3: CMDQ error (cons ${hex8(this.cmdqConsReg)}): ${CERROR_STR[idx] ?? 'Unknown'}`, cerror: idx });
    if (idx !== CERROR.ILL) return;
    const a = q.base + (q.cons % n) * 16;
    const raw = hexes([this.mem.read64(a), this.mem.read64(a + 8)]);
    this.log.emit({ kind: 'cmdq-error', text: `arm-smmu-v3: skipping command in error state: ${raw.join(' ')}`, raw });
    this.mem.write64(a, prep(CMDQ_OP.CMD_SYNC, 7, 0));
    this.mem.write64(a + 8, 0n);
  }

  /** Execute one command; a CERROR_* code when it is illegal (0 when it ran). */
  private execute(d0: bigint, d1: bigint): number {
    const op = field(d0, 7, 0);
    const c = this.counters;
    c.commands++;
    const name = CMD_NAME[op] ?? `opcode ${hex(op)}`;
    let text = name;
    let removed = 0;
    switch (op) {
      case CMDQ_OP.PREFETCH_CFG:
        break;
      case CMDQ_OP.CFGI_STE: {
        const sid = field(d0, 63, 32);
        this.steCache.delete(sid);
        const ks: number[] = [];
        this.cdCache.range(sid * 1048576, sid * 1048576 + 1048575, (k) => ks.push(k));
        for (const k of ks) this.cdCache.delete(k);
        c.cfgInvalidations++;
        text += ` sid ${hex(sid)}`;
        break;
      }
      case CMDQ_OP.CFGI_ALL:
        this.steCache.clear();
        this.cdCache.clear();
        c.cfgInvalidations++;
        break;
      case CMDQ_OP.CFGI_CD: {
        const sid = field(d0, 63, 32);
        const ssid = field(d0, 31, 12);
        this.cdCache.delete(sid * 1048576 + ssid);
        c.cfgInvalidations++;
        text += ` sid ${hex(sid)} ssid ${hex(ssid)}`;
        break;
      }
      case CMDQ_OP.CFGI_CD_ALL: {
        const sid = field(d0, 63, 32);
        const ks: number[] = [];
        this.cdCache.range(sid * 1048576, sid * 1048576 + 1048575, (k) => ks.push(k));
        for (const k of ks) this.cdCache.delete(k);
        c.cfgInvalidations++;
        text += ` sid ${hex(sid)}`;
        break;
      }
      case CMDQ_OP.TLBI_NH_ASID: {
        const asid = field(d0, 63, 48);
        const vmid = field(d0, 47, 32);
        removed = this.iotlb.invTag(s1Tag(vmid, asid));
        c.tlbInvalidations++;
        text += ` asid ${asid}`;
        break;
      }
      case CMDQ_OP.TLBI_NH_VA:
      case CMDQ_OP.TLBI_S2_IPA: {
        const asid = field(d0, 63, 48);
        const vmid = field(d0, 47, 32);
        const num = field(d0, 16, 12);
        const scale = field(d0, 24, 20);
        const tg = field(d1, 11, 10);
        const addr = op === CMDQ_OP.TLBI_NH_VA ? Number(d1 & 0xfffffffffffff000n) : Number(d1 & 0x000ffffffffff000n);
        // TG = 0: a single address; else a range of (NUM+1) << SCALE pages of TG size
        const len = tg === 0 ? 1 : (num + 1) * 2 ** scale * 2 ** [0, 12, 14, 16][tg];
        if (op === CMDQ_OP.TLBI_NH_VA) {
          removed = this.iotlb.invRange(s1Tag(vmid, asid), addr, len);
          text += ` asid ${asid} va ${hex(addr)}`;
        } else {
          removed = this.iotlb.invRange(s2Tag(vmid), addr, len) + this.iotlb.invIpaNested(vmid, addr, len);
          text += ` vmid ${vmid} ipa ${hex(addr)}`;
        }
        if (len > 1) text += ` len ${hex(len)}`;
        c.tlbInvalidations++;
        break;
      }
      case CMDQ_OP.TLBI_S12_VMALL: {
        const vmid = field(d0, 47, 32);
        removed = this.iotlb.invVmid(vmid);
        c.tlbInvalidations++;
        text += ` vmid ${vmid}`;
        break;
      }
      case CMDQ_OP.TLBI_NSNH_ALL:
        removed = this.iotlb.invAll();
        c.tlbInvalidations++;
        break;
      case CMDQ_OP.PRI_RESP: {
        // CMD_PRI_RESP is illegal without PRI (IDR0.PRI == 0) and with the reserved Resp 0b11
        const resp = field(d1, 13, 12);
        if (!this.cfg.pri || resp > PRI_RESP.SUCC) return CERROR.ILL;
        const sid = field(d0, 63, 32);
        const ssv = !!(d0 & (1n << 11n));
        const ssid = ssv ? field(d0, 31, 12) : null;
        const grpid = field(d1, 8, 0);
        this.lastPriResp = { sid, ssid, grpid, resp: PRI_RESP_NAME[resp] };
        c.priResponses++;
        text += ` sid ${hex(sid)}${ssid !== null ? ` ssid ${hex(ssid)}` : ''} grpid ${grpid} ${PRI_RESP_NAME[resp]}`;
        this.log.emit({ kind: 'pri-resp', text, opcode: op, cmd: name, sid, ssid, grpid, resp: PRI_RESP_NAME[resp] });
        return CERROR.NONE;
      }
      case CMDQ_OP.CMD_SYNC:
        c.cmdSyncs++;
        break;
      default:
        return CERROR.ILL;
    }
    if (op >= 0x10 && op < 0x40) text += ` (${removed} IOTLB entr${removed === 1 ? 'y' : 'ies'} removed)`;
    this.log.emit({ kind: op >= 0x10 && op < 0x40 ? 'tlbi' : op === CMDQ_OP.CMD_SYNC ? 'sync' : 'cfgi', text, opcode: op, cmd: name, removed });
    return CERROR.NONE;
  }

  /** The command-queue ring as plain data (last entries written, newest last). */
  cmdqEntries(max = 32): { index: number; op: string; raw: string[] }[] {
    const q = this.cmdq;
    const n = 2 ** q.log2;
    const out: { index: number; op: string; raw: string[] }[] = [];
    const count = Math.min(max, n);
    for (let i = count; i >= 1; i--) {
      const idx = (q.prod - i + 2 * n) % (2 * n);
      const a = q.base + (idx % n) * 16;
      const d0 = this.mem.read64(a);
      if (d0 === 0n) continue;
      out.push({ index: idx % n, op: CMD_NAME[field(d0, 7, 0)] ?? hex(field(d0, 7, 0)), raw: hexes([d0, this.mem.read64(a + 8)]) });
    }
    return out;
  }

  /** Cached configuration, for views. */
  cachedConfig(): { stes: { sid: number; config: number; raw: string[] }[]; cds: { sid: number; ssid: number; asid: number; raw: string[] }[] } {
    const stes: { sid: number; config: number; raw: string[] }[] = [];
    this.steCache.forEach((sid, d) => stes.push({ sid, config: d.config, raw: d.raw }));
    const cds: { sid: number; ssid: number; asid: number; raw: string[] }[] = [];
    this.cdCache.forEach((k, d) => cds.push({ sid: Math.floor(k / 1048576), ssid: k % 1048576, asid: d.asid, raw: d.raw }));
    return { stes, cds };
  }

  /** Decode the STE of sid straight from memory (not through the cache), for views. */
  steView(sid: number): Record<string, unknown> {
    const a = this.steAddr(sid, false);
    if (typeof a === 'string') return { sid, error: a };
    const raw = this.readSte(a);
    const d = this.decodeSte(raw);
    const cfgName = ['abort', '?', '?', '?', 'bypass', 's1', 's2', 'nested'];
    if (typeof d === 'string') return { sid, addr: hex(a), error: d, raw: hexes(raw.slice(0, 4)) };
    return { sid, addr: hex(a), valid: true, config: cfgName[d.config], s1ctxptr: hex(d.s1ctxptr), s1cdmax: d.s1cdmax, s1dss: d.s1dss, vmid: d.vmid, s2ttb: d.s2 ? hex(d.s2.ttb) : null, raw: d.raw };
  }

  /** Decode a CD from memory, for views. */
  cdView(ste: DecodedSte, ssid: number): Record<string, unknown> {
    const a = this.cdAddr(ste, ssid, false);
    if (typeof a === 'string') return { ssid, error: a };
    const raw: bigint[] = [];
    for (let i = 0; i < 4; i++) raw.push(this.mem.read64(a + 8 * i));
    const d = this.decodeCd(raw.concat([0n, 0n, 0n, 0n]));
    if (typeof d === 'string') return { ssid, addr: hex(a), error: d, raw: hexes(raw) };
    return { ssid, addr: hex(a), asid: d.asid, ttb0: hex(d.walk.ttb), t0sz: 64 - d.walk.inputSize, granule: 2 ** d.walk.gshift, raw: d.raw };
  }

  /** Public decode of an STE in memory (no caching). */
  steDecoded(sid: number): DecodedSte | EventName {
    const a = this.steAddr(sid, false);
    if (typeof a === 'string') return a;
    return this.decodeSte(this.readSte(a));
  }
}
