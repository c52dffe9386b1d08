/**
 * The SMMU's IOTLB, kept apart from STE/CD decoding and queues as QEMU's
 * hw/arm/smmu-common.c keeps it. Entries are tagged by VMID and ASID and
 * indexed by the size and aligned input address of the leaf that produced them
 * (QEMU keys by level and granule; a size says both). Entries stay until an
 * invalidation command removes them, so a missing invalidation is observable.
 *
 * When the table is full every entry is dropped, as QEMU's smmu_iotlb_insert()
 * does at SMMU_IOTLB_MAX_SIZE.
 */
import { Ctx, PMap, PNode, pnode } from './pmap';

export interface IotlbEntry {
  /** input address of the start of the leaf */
  iova: number;
  /** output address of the start of the leaf */
  pa: number;
  size: number;
  /** IPA of the start of the leaf, for nested entries */
  ipa: number;
  read: boolean;
  write: boolean;
  /** stage(s) that produced the entry: 1, 2 or 3 (nested) */
  stage: number;
  /** nested entries: the stage-1 permissions alone, to tell which stage denies */
  s1read?: boolean;
  s1write?: boolean;
}

/** Tag of stage-1 (or nested) entries: VMID and ASID. */
export function s1Tag(vmid: number, asid: number): number {
  return vmid * 131072 + asid + 1;
}
/** Tag of stage-2-only entries: VMID alone. */
export function s2Tag(vmid: number): number {
  return vmid * 131072;
}

const SIZES = [12, 14, 16, 21, 25, 29, 30, 42].map((s) => 2 ** s);

function key(iova: number, size: number): number {
  // aligned-address / size * 64 + log2(size)
  return Math.floor(iova / size) * 64 + Math.log2(size);
}

export class Iotlb {
  private tags: PMap<PNode<IotlbEntry> | null>;
  entries = 0;

  constructor(
    public ctx: Ctx,
    readonly capacity = 4096,
  ) {
    this.tags = new PMap(ctx);
  }

  clone(ctx: Ctx): Iotlb {
    const c = new Iotlb(ctx, this.capacity);
    c.tags = this.tags.clone(ctx);
    c.entries = this.entries;
    return c;
  }

  /** smmu_iotlb_lookup(): the entry covering iova under tag, trying each leaf size. */
  lookup(tag: number, iova: number, sizes: readonly number[]): IotlbEntry | undefined {
    const root = this.tags.get(tag);
    if (!root) return undefined;
    for (let i = 0; i < sizes.length; i++) {
      const e = pnode.get(root, key(iova, sizes[i]));
      if (e !== undefined) return e;
    }
    return undefined;
  }

  /** smmu_iotlb_insert() */
  insert(tag: number, e: IotlbEntry): void {
    if (this.entries >= this.capacity) this.invAll();
    const root = this.tags.get(tag) ?? null;
    const k = key(e.iova, e.size);
    const had = pnode.get(root, k) !== undefined;
    this.tags.set(tag, pnode.set(root, k, e, this.ctx.tok));
    if (!had) this.entries++;
  }

  /** CMD_TLBI_NSNH_ALL */
  invAll(): number {
    const n = this.entries;
    this.tags.clear();
    this.entries = 0;
    return n;
  }

  /** CMD_TLBI_NH_ASID: every entry of (vmid, asid). */
  invTag(tag: number): number {
    const root = this.tags.get(tag);
    if (root === undefined) return 0;
    const n = pnode.size(root);
    this.tags.delete(tag);
    this.entries -= n;
    return n;
  }

  /** CMD_TLBI_S12_VMALL: every entry of a VMID, stage 1 and stage 2. */
  invVmid(vmid: number): number {
    let n = 0;
    const tags: number[] = [];
    this.tags.range(s2Tag(vmid), s2Tag(vmid) + 131071, (t) => tags.push(t));
    for (const t of tags) n += this.invTag(t);
    return n;
  }

  /**
   * Remove the entries under tag whose input range overlaps [addr, addr+len)
   * (CMD_TLBI_NH_VA, and CMD_TLBI_S2_IPA on stage-2 entries). A single-page
   * range probes each leaf size; a longer one scans the tag.
   */
  invRange(tag: number, addr: number, len: number): number {
    let root: PNode<IotlbEntry> | null | undefined = this.tags.get(tag);
    if (!root) return 0;
    let n = 0;
    const tok = this.ctx.tok;
    if (len <= 65536) {
      for (const s of SIZES) {
        for (let a = addr - (addr % s); a < addr + len; a += s) {
          const k = key(a, s);
          if (pnode.get(root, k) !== undefined) {
            root = pnode.del(root, k, tok);
            n++;
          }
        }
      }
    } else {
      const ks: number[] = [];
      pnode.forEach(root, (k, e) => {
        if (e.iova < addr + len && e.iova + e.size > addr) ks.push(k);
      });
      for (const k of ks) root = pnode.del(root, k, tok);
      n = ks.length;
    }
    if (n) {
      if (root) this.tags.set(tag, root);
      else this.tags.delete(tag);
      this.entries -= n;
    }
    return n;
  }

  /** Nested entries of a VMID whose IPA overlaps [ipa, ipa+len) (CMD_TLBI_S2_IPA). */
  invIpaNested(vmid: number, ipa: number, len: number): number {
    const tags: number[] = [];
    this.tags.range(s2Tag(vmid) + 1, s2Tag(vmid) + 131071, (t) => tags.push(t));
    let n = 0;
    for (const t of tags) {
      let root: PNode<IotlbEntry> | null = this.tags.get(t)!;
      const ks: number[] = [];
      pnode.forEach(root, (k, e) => {
        if (e.stage === 3 && e.ipa < ipa + len && e.ipa + e.size > ipa) ks.push(k);
      });
      for (const k of ks) root = pnode.del(root, k, this.ctx.tok);
      if (ks.length) {
        if (root) this.tags.set(t, root);
        else this.tags.delete(t);
        this.entries -= ks.length;
        n += ks.length;
      }
    }
    return n;
  }

  /** Plain data for views. */
  dump(): { vmid: number; asid: number | null; iova: string; pa: string; size: number; perm: string }[] {
    const out: { vmid: number; asid: number | null; iova: string; pa: string; size: number; perm: string }[] = [];
    this.tags.forEach((tag, root) => {
      const vmid = Math.floor(tag / 131072);
      const a = tag % 131072;
      pnode.forEach(root, (_k, e) => {
        out.push({ vmid, asid: a === 0 ? null : a - 1, iova: '0x' + e.iova.toString(16), pa: '0x' + e.pa.toString(16), size: e.size, perm: (e.read ? 'r' : '-') + (e.write ? 'w' : '-') });
      });
    });
    return out;
  }
}
