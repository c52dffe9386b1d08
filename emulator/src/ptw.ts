/**
 * The SMMU's page-table walker (what hardware does, as QEMU's smmu_ptw_64_s1/_s2
 * in hw/arm/smmu-common.c): reads VMSAv8-64 descriptors from emulated memory and
 * reports a fault record ({type, addr, level}) instead of throwing.
 * Permissions are checked by the caller, so IOTLB hits are checked the same way.
 */
import { FRAME_SIZE, PhysMemory } from './memory';

const TWO32 = 4294967296;

export type WalkFaultType = 'F_TRANSLATION' | 'F_ADDR_SIZE' | 'F_ACCESS' | 'F_PERMISSION';

export interface WalkFault {
  type: WalkFaultType;
  /** input address of the faulting access */
  addr: number;
  level: number;
  /** TT: fault while fetching a table descriptor (nested); IN: on the input address */
  class: 'TT' | 'IN' | 'CD';
  s2: boolean;
  ipa?: number;
}

export interface WalkCfg {
  stage: 1 | 2;
  /** table base: TTB0 (stage 1) or S2TTB */
  ttb: number;
  /** input size in bits (64 - T0SZ) */
  inputSize: number;
  /** log2 granule: 12, 14 or 16 */
  gshift: number;
  /** level the walk starts at */
  startLevel: number;
  /** effective output address size in bits */
  oas: number;
  /** stage 1: AF faults unless hardware access-flag update is on (CD.HA) */
  ha: boolean;
}

export interface WalkLeaf {
  iova: number;
  pa: number;
  size: number;
  level: number;
  read: boolean;
  write: boolean;
}

/** Stage-1 start level from TG and T0SZ (VMSAv8-64 lookup start). */
export function s1StartLevel(inputSize: number, gshift: number): number {
  const stride = gshift - 3;
  return 4 - Math.ceil((inputSize - gshift) / stride);
}

/** Stage-2 start level from VTCR.SL0 (SMMUv3 STE.S2SL0). */
export function s2StartLevel(sl0: number, gshift: number): number {
  return gshift === 12 ? 2 - sl0 : 3 - sl0;
}

function blockAllowed(level: number, gshift: number, oas: number): boolean {
  if (gshift === 12) return level === 1 || level === 2;
  if (gshift === 14) return level === 2;
  return level === 2 || (level === 1 && oas > 48);
}

function oaOf(lo: number, hi: number, gshift: number): number {
  if (gshift < 16) return (hi & 0xffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
  return ((hi & 0xffff) + ((lo >>> 12) & 0xf) * 0x10000) * TWO32 + ((lo & 0xffff0000) >>> 0);
}

/**
 * Walk one stage. tableXlate (nested) turns a stage-1 table IPA into a PA or a
 * stage-2 fault. Returns the leaf or a fault record.
 */
export function walk(mem: PhysMemory, cfg: WalkCfg, iova: number, tableXlate?: (ipa: number) => number | WalkFault): WalkLeaf | WalkFault {
  const s2 = cfg.stage === 2;
  if (iova < 0 || iova >= 2 ** cfg.inputSize) return { type: 'F_TRANSLATION', addr: iova, level: cfg.startLevel, class: 'IN', s2 };
  const stride = cfg.gshift - 3;
  let base = cfg.ttb;
  for (let level = cfg.startLevel; level <= 3; level++) {
    const shift = cfg.gshift + (3 - level) * stride;
    const bits = level === cfg.startLevel ? cfg.inputSize - shift : stride;
    const idx = Math.floor(iova / 2 ** shift) % 2 ** bits;
    let ptep = base + idx * 8;
    if (tableXlate) {
      const x = tableXlate(ptep);
      if (typeof x !== 'number') return { ...x, class: 'TT', addr: iova };
      ptep = x;
    }
    const pfn = Math.floor(ptep / FRAME_SIZE);
    const d = mem.rframe(pfn);
    const w = (ptep - pfn * FRAME_SIZE) >>> 2;
    const lo = d[w];
    const hi = d[w + 1];
    if (!(lo & 1)) return { type: 'F_TRANSLATION', addr: iova, level, class: 'IN', s2 };
    const type = lo & 3;
    const oa = oaOf(lo, hi, cfg.gshift);
    if (level < 3 && type === 3) {
      if (oa >= 2 ** cfg.oas) return { type: 'F_ADDR_SIZE', addr: iova, level, class: 'IN', s2 };
      base = oa;
      continue;
    }
    if (level === 3 ? type !== 3 : !blockAllowed(level, cfg.gshift, cfg.oas)) return { type: 'F_TRANSLATION', addr: iova, level, class: 'IN', s2 };
    if (oa >= 2 ** cfg.oas) return { type: 'F_ADDR_SIZE', addr: iova, level, class: 'IN', s2 };
    if (!(lo & (1 << 10)) && !(cfg.ha && !s2)) return { type: 'F_ACCESS', addr: iova, level, class: 'IN', s2 };
    const size = 2 ** shift;
    let read: boolean;
    let write: boolean;
    if (s2) {
      read = !!(lo & (1 << 6)); // S2AP[0]
      write = !!(lo & (1 << 7)); // S2AP[1]
    } else {
      // Device transactions are taken as unprivileged: AP[1] must grant EL0 access.
      const el0 = !!(lo & (1 << 6));
      read = el0;
      write = el0 && !(lo & (1 << 7));
    }
    const start = iova - (iova % size);
    return { iova: start, pa: oa, size, level, read, write };
  }
  return { type: 'F_TRANSLATION', addr: iova, level: 3, class: 'IN', s2 };
}

export function isFault<T extends object>(x: T | WalkFault): x is WalkFault {
  return (x as WalkFault).type !== undefined;
}
