/**
 * VFIO type1 (drivers/vfio/vfio_iommu_type1.c), the path of shared/seeds/000 "iova 地址分配":
 * VFIO_SET_IOMMU gives a container its own unmanaged (paging) domain with the group attached;
 * VFIO_IOMMU_MAP_DMA takes a user IOVA as it is (no allocator), pins the user pages behind
 * vaddr and maps them with iommu_map() one physically contiguous chunk at a time
 * (vfio_pin_map_dma()); a chunk that fails to map is unpinned and everything mapped before
 * it is unmapped and unpinned (vfio_remove_dma()). Faults never throw: every refusal is the
 * kernel's errno, and the trace says why.
 */
import { EEXIST, EINVAL, ENODEV, ENOMEM, ENOSPC, hex, IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE } from './events';
import { Domain, Machine } from './iommu';

/** One VFIO_IOMMU_MAP_DMA: [iova, iova + size) -> the pinned pages behind vaddr. */
export interface VfioDma {
  iova: number;
  vaddr: number;
  size: number;
  prot: number;
  /** the pinned chunks: npage pages from pa, mapped at iova */
  chunks: { iova: number; pa: number; npage: number }[];
}

/** A type1 container (struct vfio_iommu) with one vfio_domain. */
export interface VfioContainer {
  o: number;
  id: number;
  domain: number;
  groups: number[];
  dmas: VfioDma[];
  /** vfio_iommu->pgsize_bitmap */
  pgsizeBitmap: number;
  /** dma_avail (the dma_entry_limit module parameter, 65535) */
  dmaAvail: number;
  /** RLIMIT_MEMLOCK in pages (Infinity: unlimited) and the pages locked (mm->locked_vm) */
  memlockPages: number;
  lockedPages: number;
}

/** vfio_iommu_type1.c dma_entry_limit */
export const DMA_ENTRY_LIMIT = 65535;

export class Vfio {
  constructor(public m: Machine) {}

  private own(id: number): VfioContainer | undefined {
    return this.m.vfio.getMut(id, (c, tok) => ({ ...c, o: tok, groups: c.groups.slice(), dmas: c.dmas.map((d) => ({ ...d, chunks: d.chunks.slice() })) }));
  }

  /** The user page behind a page-aligned vaddr: faulted in from the page allocator on first touch (0: out of memory). */
  private userPage(vaddr: number): number {
    const k = vaddr / this.m.alloc.pageSize;
    let pa = this.m.userMem.get(k);
    if (pa === undefined) {
      pa = this.m.alloc.alloc(0);
      if (!pa) return 0;
      this.m.mem.discard(pa, this.m.alloc.pageSize);
      this.m.userMem.set(k, pa);
    }
    return pa;
  }

  /**
   * open("/dev/vfio/vfio") + VFIO_GROUP_SET_CONTAINER + VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU):
   * vfio_iommu_type1_attach_group() allocates a paging domain and attaches the device's group.
   * The container id, or -ENODEV (no IOMMU group: no SMMU), or the attach error.
   */
  open(devId: number, memlockBytes = Infinity): number {
    const dev = this.m.devices.get(devId);
    if (!dev || !this.m.groups.has(dev.group)) {
      this.m.log.emit({ kind: 'vfio', text: `VFIO_SET_IOMMU: ${dev?.name ?? 'device'} has no IOMMU group = -ENODEV` });
      return -ENODEV;
    }
    const d = this.m.domainAlloc('unmanaged');
    if (!d) return -ENOMEM;
    const r = this.m.attachDevice(d.id, devId);
    if (r) {
      this.m.domainFree(d.id);
      this.m.log.emit({ kind: 'vfio', text: `VFIO_SET_IOMMU: iommu_attach_group(${dev.name}) = ${r}` });
      return r;
    }
    const id = this.m.nextId++;
    // vfio_update_pgsize_bitmap(): sub-page sizes are rounded up to PAGE_SIZE
    let bm = d.pgsizeBitmap;
    const ps = this.m.alloc.pageSize;
    if (bm % ps) bm = bm - (bm % ps) + ps;
    this.m.vfio.set(id, { o: this.m.ctx.tok, id, domain: d.id, groups: [dev.group], dmas: [], pgsizeBitmap: bm, dmaAvail: DMA_ENTRY_LIMIT, memlockPages: memlockBytes === Infinity ? Infinity : Math.floor(memlockBytes / ps), lockedPages: 0 });
    this.m.log.emit({ kind: 'vfio', text: `VFIO_SET_IOMMU(VFIO_TYPE1v2_IOMMU): container ${id}, ${dev.name}'s group ${this.m.groups.get(dev.group)!.sysfs} in unmanaged domain ${d.id}`, container: id, domain: d.id });
    return id;
  }

  /** vfio_iommu_iova_dma_valid(): inside the aperture and clear of every reserved region but direct-relaxable ones. */
  private iovaValid(d: Domain, start: number, end: number): string | null {
    if (end > d.apertureEnd) return `beyond the aperture ${hex(d.apertureEnd)}`;
    for (const r of this.m.resvRegions()) {
      if (r.type === 'direct-relaxable') continue;
      if (start <= r.start + r.length - 1 && r.start <= end) return `overlaps the reserved region ${hex(r.start)}-${hex(r.start + r.length - 1)} (${r.type === 'sw-msi' ? 'msi' : r.type})`;
    }
    return null;
  }

  /**
   * VFIO_IOMMU_MAP_DMA -> vfio_dma_do_map(): 0, -EINVAL (no READ/WRITE, size/iova/vaddr not
   * aligned to the smallest page size, wrap, IOVA outside the valid list), -EEXIST (overlaps
   * an earlier MAP_DMA), -ENOSPC (dma_entry_limit), or what pinning or iommu_map returned.
   */
  mapDma(container: number, vaddr: number, iova: number, size: number, prot: number): number {
    const c0 = this.m.vfio.get(container);
    if (!c0) return -EINVAL;
    const say = (text: string, ret?: number) => this.m.log.emit({ kind: 'vfio', text: `VFIO_IOMMU_MAP_DMA(iova ${hex(iova)}, vaddr ${hex(vaddr)}, size ${hex(size)})${ret !== undefined ? ` = ${ret}` : ''}: ${text}`, container, iova, size, ret });
    prot &= IOMMU_READ | IOMMU_WRITE;
    if (!prot) return say('no VFIO_DMA_MAP_FLAG_READ/WRITE', -EINVAL), -EINVAL;
    const pgsize = c0.pgsizeBitmap & -c0.pgsizeBitmap;
    if (!size || size % pgsize || iova % pgsize || vaddr % pgsize) return say(`not aligned to ${hex(pgsize)}`, -EINVAL), -EINVAL;
    if (iova + size - 1 >= 2 ** 64 || iova + size - 1 < iova) return say('IOVA wraps', -EINVAL), -EINVAL;
    if (c0.dmas.some((x) => iova < x.iova + x.size && x.iova < iova + size)) return say('overlaps an earlier MAP_DMA', -EEXIST), -EEXIST;
    if (!c0.dmaAvail) return say('dma_entry_limit reached', -ENOSPC), -ENOSPC;
    const d = this.m.domains.get(c0.domain);
    if (!d) return -ENODEV;
    const why = this.iovaValid(d, iova, iova + size - 1);
    if (why) return say(`IOVA ${why}`, -EINVAL), -EINVAL;
    const c = this.own(container)!;
    c.dmaAvail--;
    const dma: VfioDma = { iova, vaddr, size: 0, prot, chunks: [] };
    c.dmas.push(dma); // vfio_link_dma(): inserted zero-sized, grows as chunks are mapped
    c.dmas.sort((a, b) => a.iova - b.iova);
    const ps = this.m.alloc.pageSize;
    // vfio_pin_map_dma()
    let left = size;
    let ret = 0;
    while (left) {
      const r = this.pinPagesRemote(c, vaddr + dma.size, left / ps);
      if (r.npage <= 0) {
        ret = r.npage;
        break;
      }
      // vfio_iommu_map(): iommu_map() into each domain of the container (here one)
      const at = iova + dma.size;
      ret = this.m.iommuMap(d, at, r.pa, r.npage * ps, prot | IOMMU_CACHE);
      if (ret) {
        this.m.log.emit({ kind: 'vfio', text: `vfio_pin_map_dma: iommu_map(domain ${d.id}, ${hex(at)}, pa ${hex(r.pa)}, ${hex(r.npage * ps)}) = ${ret}: chunk unpinned`, container, iova: at, ret });
        this.unpinPagesRemote(c, at, r.pa, r.npage);
        break;
      }
      dma.chunks.push({ iova: at, pa: r.pa, npage: r.npage });
      this.m.log.emit({ kind: 'vfio', text: `vfio_pin_map_dma: chunk iova ${hex(at)} -> pa ${hex(r.pa)}, ${r.npage} page(s) pinned and mapped`, container, iova: at, pa: r.pa, npage: r.npage });
      left -= r.npage * ps;
      dma.size += r.npage * ps;
    }
    if (ret) {
      this.removeDma(c, dma);
      say(`failed, ${hex(dma.size)} bytes mapped before the failing chunk unmapped and unpinned (vfio_remove_dma)`, ret);
      return ret;
    }
    say(`${dma.chunks.length} chunk(s), ${size / ps} page(s) pinned`, 0);
    return 0;
  }

  /**
   * vfio_pin_pages_remote(): pin from vaddr while the pages are physically contiguous, up to
   * npage and RLIMIT_MEMLOCK. The first pa and the count, or a negative errno.
   */
  private pinPagesRemote(c: VfioContainer, vaddr: number, npage: number): { pa: number; npage: number } {
    const ps = this.m.alloc.pageSize;
    let pinned = 0;
    let base = 0;
    while (pinned < npage) {
      if (c.lockedPages + 1 > c.memlockPages) {
        if (!pinned) {
          this.m.log.emit({ kind: 'vfio', text: `vfio_pin_pages_remote: RLIMIT_MEMLOCK (${c.memlockPages * ps}) exceeded` });
          return { pa: 0, npage: -ENOMEM };
        }
        break;
      }
      const pa = this.userPage(vaddr + pinned * ps);
      if (!pa) return pinned ? { pa: base, npage: pinned } : { pa: 0, npage: -ENOMEM };
      if (!pinned) base = pa;
      else if (pa !== base + pinned * ps) break; // not contiguous: the chunk ends here
      this.m.pins.set(pa, (this.m.pins.get(pa) ?? 0) + 1);
      c.lockedPages++;
      pinned++;
    }
    return { pa: base, npage: pinned };
  }

  /** vfio_unpin_pages_remote(): drop the pins of npage pages from pa. */
  private unpinPagesRemote(c: VfioContainer, _iova: number, pa: number, npage: number): void {
    const ps = this.m.alloc.pageSize;
    for (let i = 0; i < npage; i++) {
      const k = pa + i * ps;
      const n = (this.m.pins.get(k) ?? 0) - 1;
      if (n > 0) this.m.pins.set(k, n);
      else this.m.pins.delete(k);
    }
    c.lockedPages -= npage;
  }

  /** vfio_remove_dma() -> vfio_unmap_unpin(): unmap each chunk, unpin it, unlink the dma. */
  private removeDma(c: VfioContainer, dma: VfioDma): void {
    const d = this.m.domains.get(c.domain);
    const ps = this.m.alloc.pageSize;
    for (const ch of dma.chunks) {
      if (d) this.m.iommuUnmap(d, ch.iova, ch.npage * ps);
      this.unpinPagesRemote(c, ch.iova, ch.pa, ch.npage);
    }
    dma.chunks = [];
    dma.size = 0;
    c.dmas = c.dmas.filter((x) => x !== dma);
    c.dmaAvail++;
  }

  /**
   * VFIO_IOMMU_UNMAP_DMA -> vfio_dma_do_unmap(): every MAP_DMA inside [iova, iova + size) is
   * unmapped and unpinned; the bytes unmapped, or -EINVAL when the range cuts one in two.
   */
  unmapDma(container: number, iova: number, size: number): number {
    const c0 = this.m.vfio.get(container);
    if (!c0) return -EINVAL;
    const end = iova + size;
    if (c0.dmas.some((x) => (x.iova < iova && x.iova + x.size > iova) || (x.iova < end && x.iova + x.size > end))) {
      this.m.log.emit({ kind: 'vfio', text: `VFIO_IOMMU_UNMAP_DMA(iova ${hex(iova)}, size ${hex(size)}) = -EINVAL: the range splits a mapping`, container });
      return -EINVAL;
    }
    const c = this.own(container)!;
    let unmapped = 0;
    for (const x of c.dmas.filter((y) => y.iova >= iova && y.iova + y.size <= end)) {
      unmapped += x.size;
      this.removeDma(c, x);
    }
    this.m.log.emit({ kind: 'vfio', text: `VFIO_IOMMU_UNMAP_DMA(iova ${hex(iova)}, size ${hex(size)}) = ${hex(unmapped)} bytes unmapped and unpinned`, container });
    return unmapped;
  }

  /** The container as plain data, for views. */
  view(c: VfioContainer): Record<string, unknown> {
    return {
      id: c.id,
      domain: c.domain,
      groups: c.groups.map((g) => this.m.groups.get(g)?.sysfs ?? null),
      pgsizeBitmap: hex(c.pgsizeBitmap),
      lockedPages: c.lockedPages,
      memlockLimit: c.memlockPages === Infinity ? 'unlimited' : c.memlockPages * this.m.alloc.pageSize,
      dmas: c.dmas.map((x) => ({ iova: hex(x.iova), vaddr: hex(x.vaddr), size: x.size, prot: hex(x.prot), chunks: x.chunks.map((ch) => ({ iova: hex(ch.iova), pa: hex(ch.pa), npage: ch.npage })) })),
    };
  }
}
