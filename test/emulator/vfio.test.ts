/**
 * VFIO type1 MAP_DMA (shared/seeds/000 "iova 地址分配"): the IOVA comes from the user as it
 * is, the pages behind vaddr are pinned and mapped chunk by chunk into the container's own
 * unmanaged domain, and a failing chunk is unpinned with everything before it unmapped and
 * unpinned (vfio_pin_map_dma() -> vfio_remove_dma()). Reserved regions bound the valid IOVAs,
 * and sysfs shows the group as the seed's `cat reserved_regions` does (seed 003).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSystem, IOMMU_READ, IOMMU_WRITE, SMMU_MODES } from '../../emulator/src/index';

const RW = IOMMU_READ | IOMMU_WRITE;

function container(extra: object = {}, memlock?: number) {
  const s = createSystem({ devices: [{ name: '0000:05:00.0', streamId: 0x500 }], ...extra });
  const dev = s.device('0000:05:00.0');
  const c = s.vfioOpen(dev, memlock);
  assert.ok(c > 0, `VFIO_SET_IOMMU: ${c}`);
  const dom = s.getDomainForDev(dev)!;
  return { s, dev, c, dom };
}

test('MAP_DMA maps the user IOVA as given, into the container\'s unmanaged domain; the device reaches the user pages', () => {
  const { s, dev, c, dom } = container();
  assert.equal(s.domainInfo(dom).type, 'unmanaged');
  assert.equal(s.vfioMapDma(c, 0x7f00_0000_0000, 0x5010_0000, 0x4000, RW), 0);
  const pa = s.iovaToPhys(dom, 0x5010_0000);
  assert.ok(pa > 0);
  assert.deepEqual(s.dmaAccess(dev, 0x5010_3008, 'write'), { pa: s.iovaToPhys(dom, 0x5010_3000) + 8, via: 'translated' });
  const snap = s.inspect() as { vfio: { dmas: { iova: string; size: number; chunks: unknown[] }[] }[]; pinnedPages: number };
  assert.deepEqual(snap.vfio[0].dmas.map((d) => [d.iova, d.size]), [['0x50100000', 0x4000]]);
  assert.equal(snap.pinnedPages, 4);
  // UNMAP_DMA: unmapped and unpinned
  assert.equal(s.vfioUnmapDma(c, 0x5010_0000, 0x4000), 0x4000);
  assert.equal(s.iovaToPhys(dom, 0x5010_0000), 0);
  assert.equal((s.inspect() as { pinnedPages: number }).pinnedPages, 0);
});

test('MAP_DMA refuses what vfio_dma_do_map() refuses', () => {
  const { s, c } = container({ reservedRegions: [{ start: 0xe000_0000, length: 0x17ff_0000, type: 'reserved' }] });
  const cases: [string, number, number, number, number, number][] = [
    ['no READ/WRITE', 0x1000_0000, 0x1000_0000, 0x1000, 0, -22],
    ['unaligned size', 0x1000_0000, 0x1000_0000, 0x1800, RW, -22],
    ['unaligned iova', 0x1000_0000, 0x1000_0800, 0x1000, RW, -22],
    ['zero size', 0x1000_0000, 0x1000_0000, 0, RW, -22],
    ['the MSI window (sw-msi reserved region)', 0x1000_0000, 0x0800_0000, 0x1000, RW, -22],
    ['a firmware reserved region', 0x1000_0000, 0xe000_1000, 0x1000, RW, -22],
    ['beyond the 48-bit aperture', 0x1000_0000, 2 ** 48, 0x1000, RW, -22],
  ];
  for (const [label, vaddr, iova, size, prot, want] of cases) assert.equal(s.vfioMapDma(c, vaddr, iova, size, prot), want, label);
  assert.equal(s.vfioMapDma(c, 0x1000_0000, 0x1000_0000, 0x2000, RW), 0);
  assert.equal(s.vfioMapDma(c, 0x2000_0000, 0x1000_1000, 0x2000, RW), -17, 'overlaps an earlier MAP_DMA: -EEXIST');
  assert.equal(s.vfioUnmapDma(c, 0x1000_1000, 0x1000), -22, 'UNMAP_DMA may not split a mapping');
  const why = s.drainEvents().filter((e) => e.kind === 'vfio').map((e) => String(e.text));
  assert.ok(why.some((t) => /overlaps the reserved region 0x8000000-0x80fffff \(msi\)/.test(t)), why.join('\n'));
});

test('pages that are not physically contiguous are mapped in several chunks', () => {
  const { s, c, dom } = container();
  // fault in the first user page, then let the kernel take the next physical page
  assert.equal(s.vfioMapDma(c, 0x1000_0000, 0x2000_0000, 0x1000, RW), 0);
  s.allocPages(0);
  assert.equal(s.vfioMapDma(c, 0x1000_0000, 0x3000_0000, 0x4000, RW), 0);
  const chunks = s.drainEvents().filter((e) => e.kind === 'vfio' && /chunk iova/.test(String(e.text))).map((e) => e.npage);
  // page 0 was faulted in long ago; pages 1-3 are faulted in as they are pinned, and the page
  // tables iommu_map() allocates for a chunk land between them: [0], [1], [2, 3]
  assert.deepEqual(chunks, [1, 1, 1, 2], 'the first MAP_DMA, then three chunks');
  // the same user page at two IOVAs
  assert.equal(s.iovaToPhys(dom, 0x2000_0000), s.iovaToPhys(dom, 0x3000_0000));
  assert.equal((s.inspect() as { pinnedPages: number }).pinnedPages, 4, 'page 0 pinned twice counts once');
});

test('a chunk that fails: unpinned, and the chunks before it unmapped and unpinned; sweep over the failing chunk', () => {
  for (const failing of [0, 1, 2]) {
    const { s, c, dom } = container();
    // three chunks of one page each: user pages 0, 1, 2 interleaved with kernel pages
    for (let i = 0; i < 3; i++) {
      assert.equal(s.vfioMapDma(c, 0x1000_0000 + i * 0x1000, 0x6000_0000 + i * 0x1000, 0x1000, RW), 0);
      s.allocPages(0);
    }
    s.vfioUnmapDma(c, 0x6000_0000, 0x3000);
    // something already maps the IOVA of the failing chunk in the container's domain
    assert.equal(s.map(dom, 0x4000_0000 + failing * 0x1000, s.allocPages(0), 0x1000, IOMMU_READ), 0);
    s.drainEvents();
    assert.equal(s.vfioMapDma(c, 0x1000_0000, 0x4000_0000, 0x3000, RW), -17, `chunk ${failing}`);
    const ev = s.drainEvents().map((e) => String(e.text));
    assert.equal(ev.filter((t) => /chunk iova .* pinned and mapped/.test(t)).length, failing, `chunk ${failing}: mapped before`);
    assert.ok(ev.some((t) => /vfio_pin_map_dma: iommu_map\(.*\) = -17: chunk unpinned/.test(t)));
    for (let i = 0; i < 3; i++) assert.equal(s.iovaToPhys(dom, 0x4000_0000 + i * 0x1000) !== 0, i === failing, `chunk ${failing}: page ${i}`);
    const snap = s.inspect() as { vfio: { dmas: unknown[]; lockedPages: number }[]; pinnedPages: number };
    assert.deepEqual([snap.vfio[0].dmas.length, snap.vfio[0].lockedPages, snap.pinnedPages], [0, 0, 0], `chunk ${failing}: nothing left pinned`);
  }
});

test('RLIMIT_MEMLOCK: pinning stops at the limit and the whole MAP_DMA is undone', () => {
  const { s, c, dom } = container({}, 0x2000);
  assert.equal(s.vfioMapDma(c, 0x1000_0000, 0x5000_0000, 0x4000, RW), -12);
  assert.ok(s.drainEvents().some((e) => String(e.text) === 'vfio_pin_pages_remote: RLIMIT_MEMLOCK (8192) exceeded'));
  assert.equal(s.iovaToPhys(dom, 0x5000_0000), 0);
  assert.equal(s.vfioMapDma(c, 0x1000_0000, 0x5000_0000, 0x2000, RW), 0, 'within the limit');
});

test('sysfs: the group and its reserved_regions in the kernel\'s format, in every mode', () => {
  for (const mode of SMMU_MODES) {
    const s = createSystem({ mode, strict: mode !== 'bypass', reservedRegions: [{ start: 0xe000_0000, length: 0x17ff_0000, type: 'reserved' }, { start: 0x800_0000_0000, length: 0x30_0000_0000, type: 'reserved' }] });
    const dev = s.device('0000:05:00.0');
    const g = s.iommuGroup(dev);
    if (mode === 'no-smmu') {
      assert.equal(g, null, 'no iommu_group link in sysfs');
      continue;
    }
    assert.deepEqual(g!.reservedRegions, [
      '0x0000000008000000 0x00000000080fffff msi',
      '0x00000000e0000000 0x00000000f7feffff reserved',
      '0x0000080000000000 0x0000082fffffffff reserved',
    ], mode);
    assert.equal(g!.type, mode === 'passthrough' ? 'identity' : mode === 'bypass' ? 'DMA-FQ' : 'DMA', mode);
    assert.deepEqual(g!.devices, ['0000:05:00.0']);
    const groups = (s.inspect() as { groups: { sysfs: string; reservedRegions: string[] }[] }).groups;
    assert.deepEqual(groups.map((x) => x.sysfs), ['/sys/kernel/iommu_groups/0', '/sys/kernel/iommu_groups/1'], 'dev0, then the new device');
  }
});

test('VFIO needs an IOMMU group, and a fork keeps its own containers and pins', () => {
  const n = createSystem({ mode: 'no-smmu' });
  assert.equal(n.vfioOpen(n.device('dev0')), -19);
  const { s, c, dom } = container();
  const f = s.fork();
  assert.equal(f.vfioMapDma(c, 0x1000_0000, 0x5000_0000, 0x2000, RW), 0);
  assert.equal(s.iovaToPhys(dom, 0x5000_0000), 0);
  assert.equal((s.inspect() as { pinnedPages: number }).pinnedPages, 0);
  assert.equal((f.inspect() as { pinnedPages: number }).pinnedPages, 2);
  assert.equal(s.vfioMapDma(c, 0x1000_0000, 0x5000_0000, 0x2000, RW), 0, 'the parent maps the same range itself');
});
