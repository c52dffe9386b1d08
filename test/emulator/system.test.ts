/**
 * The facade: configuration checks, iommu_map's alignment check and page-size
 * splitting, reserved regions, inspection, and fork isolation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, createSystem, DMA_BIDIRECTIONAL, DMA_TO_DEVICE, EEXIST, EINVAL, IOMMU_READ, IOMMU_WRITE, MSI_IOVA_BASE } from '../../emulator/src/index';
import type { PteView, System } from '../../emulator/src/index';

function rejects(config: object, field: string) {
  assert.throws(
    () => createSystem(config),
    (e: unknown) => e instanceof ConfigError && e.field === field && e.message.startsWith(field + ':'),
    `expected a ConfigError naming ${field}`,
  );
}

test('bad configurations are rejected naming the field', () => {
  rejects({ granule: 8192 }, 'granule');
  rejects({ ias: 60 }, 'ias');
  rejects({ ias: 52 }, 'ias');
  rejects({ oas: 47 }, 'oas');
  rejects({ stage: 3 }, 'stage');
  rejects({ streamTable: 'hashed' }, 'streamTable');
  rejects({ sidBits: 0 }, 'sidBits');
  rejects({ streamTable: 'linear', sidBits: 24 }, 'sidBits');
  rejects({ ssidBits: 21 }, 'ssidBits');
  rejects({ reservedRegions: [{ start: 0, length: 0, type: 'reserved' }] }, 'reservedRegions[0].length');
  rejects({ reservedRegions: [{ start: 0, length: 4096, type: 'weird' }] }, 'reservedRegions[0].type');
  rejects({ devices: [{ name: 'a', streamId: 1 }, { name: 'a', streamId: 2 }] }, 'devices[1].name');
  rejects({ devices: [{ name: 'a', streamId: 0x10 }] }, 'devices');
  rejects({ oas: 32, memoryBase: 0xc0000000, memorySize: 0x80000000 }, 'memorySize');
  assert.doesNotThrow(() => createSystem({ granule: 65536, ias: 52, oas: 52 }));
});

test('iommu_map rejects unaligned requests with the kernel message', () => {
  const s = createSystem();
  const dom = s.domainAlloc('unmanaged')!;
  assert.equal(s.domainInfo(dom).pgsizeBitmap, 0x1000 + 0x200000 + 0x40000000);
  s.drainEvents();
  assert.equal(s.map(dom, 0x1001, 0x40000000, 0x1000, IOMMU_READ), -EINVAL);
  const ev = s.drainEvents().find((e) => e.code === 'unaligned')!;
  assert.equal(ev.text, 'unaligned: iova 0x1001 pa 0x0000000040000000 size 0x1000 min_pagesz 0x1000');
  assert.equal(s.map(dom, 0x1000, 0x40000000, 0x1000, 0), -EINVAL, 'no read/write permission');
});

function leaves(v: PteView[], out: PteView[] = []): PteView[] {
  for (const e of v) {
    if (e.children) leaves(e.children, out);
    else out.push(e);
  }
  return out;
}

test('iommu_map splits a range into the largest pages alignment allows', () => {
  const s = createSystem();
  const dom = s.domainAlloc('unmanaged')!;
  // 8K below a 2M boundary, one 2M block, 8K above: iova and pa share the offset in 2M
  assert.equal(s.map(dom, 0x1fe000, 0x401fe000, 0x204000, IOMMU_READ | IOMMU_WRITE), 0);
  const d = (s.inspect().domains as { id: number; pageTable: PteView[] }[]).find((x) => x.id === dom)!;
  const l = leaves(d.pageTable).map((e) => `${e.type}@${e.iova}`);
  assert.deepEqual(l, ['page@0x1fe000', 'page@0x1ff000', 'block@0x200000', 'page@0x400000', 'page@0x401000']);
  assert.equal(s.map(dom, 0x300000, 0x50000000, 0x1000, IOMMU_READ), -EEXIST);
  // unmapping 4K in the middle of the block splits it and returns 4K
  assert.equal(s.unmap(dom, 0x300000, 0x1000), 0x1000);
  assert.equal(s.iovaToPhys(dom, 0x300000), 0);
  assert.equal(s.iovaToPhys(dom, 0x301000), 0x40301000);
  // iommu_unmap stops at the first hole and returns what it unmapped
  assert.equal(s.unmap(dom, 0x1fe000, 0x102000), 0x102000);
  assert.equal(s.unmap(dom, 0x300000, 0x2000), 0, 'starts at a hole');
});

test('reserved regions are reserved in the DMA cookie, except the software MSI window', () => {
  const s = createSystem({ reservedRegions: [{ start: 0xf0000000, length: 0x200000, type: 'reserved' }] });
  const dev = s.device('dev0');
  const info = s.domainInfo(s.getDomainForDev(dev)!);
  assert.equal(info.hasCookie, true);
  const iovad = info.iovad!;
  assert.deepEqual(s.findIova(iovad, 0xf0000), { pfnLo: 0xf0000, pfnHi: 0xf01ff });
  // iova_reserve_iommu_regions() skips IOMMU_RESV_SW_MSI: dma-iommu manages it itself
  assert.equal(s.findIova(iovad, MSI_IOVA_BASE / 0x1000), null);
  assert.deepEqual(s.resvRegions(dev).map((r) => r.type), ['sw-msi', 'reserved']);
  // the allocator walks around the reservation
  const p = s.allocPages(0);
  let a = 0;
  for (let i = 0; i < 3; i++) a = s.dmaMap(dev, p, 0x100000, DMA_TO_DEVICE, 'dma_map_single');
  assert.ok(a + 0x100000 <= 0xf0000000 || a >= 0xf0200000);
});

test('devices get their own StreamID, group and default DMA domain', () => {
  const s = createSystem({ devices: [{ name: 'nic', streamId: 0x40 }] });
  const dev0 = s.device('dev0');
  const nic = s.device('nic');
  const gpu = s.device('gpu');
  assert.equal(s.streamIdOf(dev0), 0x10);
  assert.equal(s.streamIdOf(nic), 0x40);
  assert.equal(s.streamIdOf(gpu), 0x41);
  assert.equal(s.device('gpu'), gpu);
  assert.notEqual(s.getDomainForDev(nic), s.getDomainForDev(gpu));
  assert.equal(s.domainInfo(s.getDomainForDev(gpu)!).type, 'dma');
});

test('inspect() is plain JSON with raw descriptors as hex', () => {
  const s = createSystem();
  const dev = s.device('dev0');
  s.dmaMap(dev, s.allocPages(0), 0x1000, DMA_BIDIRECTIONAL, 'dma_map_single');
  const snap = s.inspect();
  const round = JSON.parse(JSON.stringify(snap));
  assert.deepEqual(round, snap);
  const dom = (snap.domains as { pageTable: PteView[] }[])[0];
  const leaf = leaves(dom.pageTable)[0];
  assert.match(leaf.desc, /^0x[0-9a-f]{16}$/);
  assert.equal(leaf.iova, '0xfffff000');
  assert.equal(leaf.perm, 'rwx');
});

function snapshot(s: System): string {
  return JSON.stringify({ inspect: s.inspect(), live: s.liveMappings(), events: s.peekEvents().length });
}

test('fork: mutating a fork deeply leaves the parent unchanged, and the other way round', () => {
  const parent = createSystem({ strict: false });
  const dev = parent.device('dev0');
  const addrs: number[] = [];
  for (let i = 0; i < 300; i++) {
    const p = parent.allocPages(0);
    addrs.push(parent.dmaMap(dev, p, 0x1000, DMA_BIDIRECTIONAL, 'dma_map_single'));
  }
  const iovad = parent.initIovaDomain(0x1000, 1);
  parent.allocIova(iovad, 8, 0xfffff, true);
  parent.translate(0x10, 0, addrs[0], 'read');
  const before = snapshot(parent);

  const child = parent.fork();
  assert.equal(snapshot(child), before);
  // deep mutations in the child: page tables, IOTLB, IOVA trees, rcaches, dma-debug, pages,
  // STEs/CDs, domains and attachments, flush queue, event trace
  for (let i = 0; i < 100; i++) child.dmaUnmap(dev, addrs[i], 0x1000, DMA_BIDIRECTIONAL, 'dma_unmap_single');
  child.flushQueue(dev);
  child.dmaMap(dev, child.allocPages(3), 0x8000, DMA_TO_DEVICE, 'dma_map_page');
  child.allocIova(iovad, 4, 0xfffff, false);
  child.freeIova(iovad, 0xffff8);
  const dom = child.domainAlloc('unmanaged')!;
  child.attachDevice(dom, dev);
  child.map(dom, 0x200000, 0x40000000, 0x200000, IOMMU_READ);
  child.translate(0x10, 0, 0x200000, 'write');
  child.freePages(0x40000000, 0);
  child.dmaPoolAlloc(child.dmaPoolCreate(dev, 64, 8));
  child.drainEvents();
  assert.equal(snapshot(parent), before, 'parent unchanged by the child');
  assert.deepEqual(parent.translate(0x10, 0, addrs[0], 'read'), { pa: parent.liveMappings()[0] && parent.iovaToPhys(parent.getDomainForDev(dev)!, addrs[0]) });

  // and the other way round
  const childBefore = snapshot(child);
  const c2 = child.fork();
  for (let i = 100; i < 200; i++) parent.dmaUnmap(dev, addrs[i], 0x1000, DMA_BIDIRECTIONAL, 'dma_unmap_single');
  parent.flushQueue(dev);
  parent.allocIova(iovad, 16, 0xfffff, true);
  c2.dmaUnmap(dev, addrs[250], 0x1000, DMA_BIDIRECTIONAL, 'dma_unmap_single');
  assert.equal(snapshot(child), childBefore, 'child unchanged by the parent and by its own fork');
  assert.equal(child.liveMappings().length, 300 - 100 + 1 + 1); // + dma_map_page + the pool's coherent page
  assert.equal(parent.liveMappings().length, 200);
});
