/**
 * The page-table inspector's tree, built from the emulator's own inspect() data: the PRI queue
 * and GERROR beside the event queue, one CD per SSID (PASID), the IOMMU groups as sysfs shows
 * them, VFIO containers, and what each device's DMA reaches, in every boot mode.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { snapshotToNodes } from '../../../client/src/views/snapshot-model';
import type { InspectorNode } from '../../../client/src/views/snapshot-model';
import { createSystem, DMA_BIDIRECTIONAL, IOMMU_READ, IOMMU_WRITE, SMMU_MODES } from '../../../emulator/src/index';

function find(nodes: InspectorNode[] | undefined, label: RegExp): InspectorNode | undefined {
  for (const n of nodes ?? []) {
    if (label.test(n.label)) return n;
    const c = find(n.children, label);
    if (c) return c;
  }
  return undefined;
}

function labels(n: InspectorNode | undefined): string[] {
  return (n?.children ?? []).map((c) => c.label);
}

test('SMMU section: PRI queue and GERROR beside the event queue', () => {
  const s = createSystem({ devices: [{ name: 'nic', streamId: 0x20, ssidBits: 2, pri: true }] });
  const nic = s.device('nic');
  s.pageRequest(nic, 1, 0x4000_0000, 'write', { grpid: 5 });
  s.machine.smmu.submit([[0x7fn, 0n]]); // an illegal command
  s.dmaAccess(nic, 0x7000_0000, 'read'); // a translation fault
  const roots = snapshotToNodes(s.inspect());
  const smmu = roots.find((r) => r.label === 'SMMU')!;
  const kids = labels(smmu);
  const evq = kids.indexOf('Event queue');
  assert.ok(evq >= 0 && kids.includes('PRI queue') && kids.includes('Global errors (GERROR)'), kids.join(', '));
  const priq = smmu.children!.find((c) => c.label === 'PRI queue')!;
  assert.deepEqual(labels(priq), ['sid 0x20 ssid 1 [5L] W', 'CMD_PRI_RESP DENY']);
  assert.match(priq.children![0].description!, /^iova 0x40000000 · #0$/);
  const g = smmu.children!.find((c) => c.label === 'Global errors (GERROR)')!;
  assert.equal(g.description, '1 raised, none active');
  assert.ok(labels(g).includes('GERROR.CMDQ_ERR raised'), labels(g).join(' | '));
  const ev = smmu.children!.find((c) => c.label === 'Event queue')!;
  assert.deepEqual(labels(ev), ['F_TRANSLATION']);
  assert.match(ev.children![0].description!, /^SID 0x20 · 0x70000000 · pending$/);
  // the driver's evtq thread reads it; the record stays in the ring, shown as read
  s.drainEvents();
  const ev2 = find(snapshotToNodes(s.inspect()), /^Event queue$/)!;
  assert.match(ev2.children![0].description!, /read by the driver$/);
});

test('Streams: one context descriptor per SSID, each with its ASID and its own page table', () => {
  const s = createSystem({ devices: [{ name: 'accel', streamId: 0x30, ssidBits: 3 }] });
  const dev = s.device('accel');
  const a = s.domainAlloc('unmanaged')!;
  const b = s.domainAlloc('unmanaged')!;
  s.attachDevicePasid(a, dev, 1);
  s.attachDevicePasid(b, dev, 2);
  s.map(a, 0x1000_0000, s.allocPages(0), 0x1000, IOMMU_READ | IOMMU_WRITE);
  s.map(b, 0x2000_0000, s.allocPages(0), 0x2000, IOMMU_READ);
  const stream = find(snapshotToNodes(s.inspect()), /^SID 48$/)!;
  const cds = stream.children!.find((c) => c.label === 'Context descriptors')!;
  assert.deepEqual(labels(cds), ['SSID 0 (no PASID)', 'SSID 1 (PASID)', 'SSID 2 (PASID)']);
  const asids = cds.children!.map((c) => /ASID (\d+)/.exec(c.description ?? '')?.[1]);
  assert.equal(new Set(asids).size, 3, 'three ASIDs');
  const leafCount = (cd: InspectorNode) => {
    let n = 0;
    const walk = (x: InspectorNode) => { if (x.kind === 'entry' && !x.children?.some((c) => c.kind === 'entry')) n++; x.children?.forEach(walk); };
    walk(cd);
    return n;
  };
  assert.deepEqual(cds.children!.slice(1).map(leafCount), [1, 2], 'PASID 1 maps one page, PASID 2 two');
  const now = stream.children!.find((c) => c.label === 'DMA now')!;
  assert.deepEqual(labels(now).map((l) => l.split(' → ')[0]), ['0x10000000', '0x20000000']);
});

test('IOMMU groups and VFIO containers, as sysfs and the container show them', () => {
  const s = createSystem({ devices: [{ name: '0000:05:00.0', streamId: 0x500 }], reservedRegions: [{ start: 0xe000_0000, length: 0x17ff_0000, type: 'reserved' }] });
  const dev = s.device('0000:05:00.0');
  const c = s.vfioOpen(dev);
  s.vfioMapDma(c, 0x7f00_0000_0000, 0x5010_0000, 0x2000, IOMMU_READ | IOMMU_WRITE);
  const roots = snapshotToNodes(s.inspect());
  const groups = roots.find((r) => r.label === 'IOMMU groups')!;
  assert.deepEqual(labels(groups), ['/sys/kernel/iommu_groups/0', '/sys/kernel/iommu_groups/1']);
  const g1 = groups.children![1];
  assert.equal(g1.description, 'unmanaged · 0000:05:00.0'.replace('unmanaged', 'DMA'));
  assert.deepEqual(labels(g1.children!.find((x) => x.label === 'reserved_regions')), ['0x0000000008000000 0x00000000080fffff msi', '0x00000000e0000000 0x00000000f7feffff reserved']);
  const vfio = roots.find((r) => r.label === 'VFIO containers')!;
  const cont = vfio.children![0];
  assert.match(cont.description!, /2 pinned/);
  assert.equal(cont.children![0].label, 'MAP_DMA 0x50100000–0x50101fff');
  assert.ok(cont.children![0].children!.every((x) => /^chunk 0x5010[01]000 → 0x/.test(x.label)));
});

test('every mode gives a tree, and says what a device\'s DMA reaches', () => {
  for (const mode of SMMU_MODES) {
    const s = createSystem({ mode });
    const dev = s.device('dev0');
    const pa = s.allocPages(0);
    const dma = s.dmaMap(dev, pa, 0x1000, DMA_BIDIRECTIONAL, 'dma_map_single');
    const roots = snapshotToNodes(s.inspect());
    const access = find(roots, new RegExp(`^0x${dma.toString(16)} → `));
    assert.ok(access, mode);
    assert.equal(access!.label, `0x${dma.toString(16)} → pa 0x${pa.toString(16)}`, mode);
    assert.match(access!.description!, mode === 'no-smmu' ? /no-smmu/ : mode === 'passthrough' ? /bypass/ : /translated/, mode);
  }
});
