/**
 * Several context descriptors on one stream (shared/seeds/002, 1.2: "SubstreamID(pasid)"):
 * each PASID attached with iommu_attach_device_pasid() gets its own CD with its own ASID
 * and page table; the STE stays a CD-table one whose S1DSS says what the RID does
 * (arm_smmu_attach_dev_ste(), arm_smmu_set_pasid() in 6.12).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CMDQ_OP, createSystem, IOMMU_READ, IOMMU_WRITE } from '../../emulator/src/index';
import { prep } from '../../emulator/src/smmu-v3';

const RW = IOMMU_READ | IOMMU_WRITE;

function setup(ridDomain: 'dma' | 'identity' | 'blocked' | 'unmanaged') {
  const s = createSystem({ devices: [{ name: 'accel', streamId: 0x30, ssidBits: 5 }] });
  const dev = s.device('accel');
  if (ridDomain !== 'dma') {
    const d = s.domainAlloc(ridDomain)!;
    assert.equal(s.attachDevice(d, dev), 0);
  }
  return { s, dev };
}

type Snap = { devices: { name: string; cds: { ssid: number; asid: number; domain: number | null; error?: string }[]; pasids: { pasid: number; domain: number }[]; ste: { config: string; s1dss: number } }[] };

test('two PASIDs on one stream: two CDs, two ASIDs, two tables, and the RID as before; for every RID domain', () => {
  for (const rid of ['dma', 'identity', 'blocked', 'unmanaged'] as const) {
    const { s, dev } = setup(rid);
    const a = s.domainAlloc('unmanaged')!;
    const b = s.domainAlloc('unmanaged')!;
    assert.equal(s.attachDevicePasid(a, dev, 1), 0, rid);
    assert.equal(s.attachDevicePasid(b, dev, 2), 0, rid);
    const pa1 = s.allocPages(0);
    const pa2 = s.allocPages(0);
    s.map(a, 0x1000_0000, pa1, 0x1000, RW);
    s.map(b, 0x1000_0000, pa2, 0x1000, RW);
    // the same IOVA under each PASID reaches that PASID's page
    assert.deepEqual(s.dmaAccess(dev, 0x1000_0008, 'read', 1), { pa: pa1 + 8, via: 'translated' }, rid);
    assert.deepEqual(s.dmaAccess(dev, 0x1000_0008, 'read', 2), { pa: pa2 + 8, via: 'translated' }, rid);
    // a PASID nobody attached: its CD is not valid
    assert.deepEqual(s.dmaAccess(dev, 0x1000_0000, 'read', 3), { fault: 'C_BAD_CD', recorded: true }, rid);
    // and beyond the CD table (ssidBits 5: 32 contexts)
    assert.deepEqual(s.dmaAccess(dev, 0x1000_0000, 'read', 40), { fault: 'C_BAD_SUBSTREAMID', recorded: true }, rid);
    // the RID: no PASID in the transaction
    const ridAccess = s.dmaAccess(dev, 0x1000_0000, 'read');
    const want = rid === 'identity' ? { pa: 0x1000_0000, via: 'bypass' } : rid === 'blocked' ? { fault: 'F_STREAM_DISABLED', recorded: true } : { fault: 'F_TRANSLATION', recorded: true };
    assert.deepEqual(ridAccess, want, rid);
    const snap = s.inspect() as unknown as Snap;
    const d = snap.devices.find((x) => x.name === 'accel')!;
    assert.equal(d.ste.config, 's1', `${rid}: a CD-table STE`);
    assert.equal(d.ste.s1dss, rid === 'identity' ? 1 : rid === 'blocked' ? 0 : 2, `${rid}: S1DSS`);
    const cds = d.cds.filter((c) => c.ssid !== 0);
    assert.deepEqual(cds.map((c) => [c.ssid, c.domain]), [[1, a], [2, b]], rid);
    assert.notEqual(cds[0].asid, cds[1].asid, `${rid}: one ASID each`);
    assert.deepEqual(d.pasids, [{ pasid: 1, domain: a }, { pasid: 2, domain: b }]);
  }
});

test('a TLB invalidation by one PASID\'s ASID leaves the other PASID\'s entries', () => {
  const { s, dev } = setup('identity');
  const a = s.domainAlloc('unmanaged')!;
  const b = s.domainAlloc('unmanaged')!;
  s.attachDevicePasid(a, dev, 1);
  s.attachDevicePasid(b, dev, 2);
  const p = s.allocPages(0);
  s.map(a, 0x2000_0000, p, 0x1000, RW);
  s.map(b, 0x2000_0000, p, 0x1000, RW);
  s.dmaAccess(dev, 0x2000_0000, 'read', 1);
  s.dmaAccess(dev, 0x2000_0000, 'read', 2);
  const m = s.machine;
  const asidA = m.domains.get(a)!.tag;
  const before = s.counters().tlbHits;
  m.smmu.submit([[prep(CMDQ_OP.TLBI_NH_ASID, 7, 0) | prep(asidA, 63, 48), 0n], [prep(CMDQ_OP.CMD_SYNC, 7, 0), 0n]]);
  s.dmaAccess(dev, 0x2000_0000, 'read', 1);
  s.dmaAccess(dev, 0x2000_0000, 'read', 2);
  assert.equal(s.counters().tlbHits - before, 1, 'only PASID 2 still hits');
});

test('iommu_attach_device_pasid refuses what the kernel refuses', () => {
  const { s, dev } = setup('dma');
  const a = s.domainAlloc('unmanaged')!;
  assert.equal(s.attachDevicePasid(a, dev, 0), -22, 'IOMMU_NO_PASID');
  assert.equal(s.attachDevicePasid(a, dev, 32), -22, 'beyond max_pasids');
  assert.equal(s.attachDevicePasid(s.domainAlloc('identity')!, dev, 1), -95, 'identity has no set_dev_pasid');
  assert.equal(s.attachDevicePasid(a, dev, 1), 0);
  assert.equal(s.attachDevicePasid(s.domainAlloc('unmanaged')!, dev, 1), -16, 'PASID taken');
  // a device without PASIDs has a one-entry CD table
  const dev0 = s.device('dev0');
  assert.equal(s.attachDevicePasid(s.domainAlloc('unmanaged')!, dev0, 1), -12);
  // stage 2 domains cannot take a PASID, and a stage-2 RID attach is refused while PASIDs are in use
  const s2 = createSystem({ stage: 2, devices: [{ name: 'accel', streamId: 0x30, ssidBits: 5 }] });
  const d2 = s2.device('accel');
  assert.equal(s2.attachDevicePasid(s2.domainAlloc('unmanaged')!, d2, 1), -22);
});

test('detaching the last PASID turns a blocked RID back into a plain abort STE', () => {
  const { s, dev } = setup('blocked');
  const a = s.domainAlloc('unmanaged')!;
  s.attachDevicePasid(a, dev, 4);
  s.domainFree(a);
  assert.ok(s.drainEvents().some((e) => e.kind === 'iommu-error' && /still attached/.test(String(e.text))), 'a domain with a PASID cannot be freed');
  s.detachDevicePasid(a, dev, 4);
  assert.deepEqual(s.dmaAccess(dev, 0x1000, 'read', 4), { fault: 'ABORT', recorded: false }, 'a plain abort STE: no CD table any more');
  const snap = s.inspect() as unknown as Snap;
  assert.equal(snap.devices.find((x) => x.name === 'accel')!.ste.config, 'abort');
  assert.deepEqual(s.dmaAccess(dev, 0x1000, 'read'), { fault: 'ABORT', recorded: false });
  s.detachDevicePasid(a, dev, 4);
  assert.ok(s.drainEvents().some((e) => e.kind === 'iommu-error' && /not attached/.test(String(e.text))));
});

test('PASID state forks copy-on-write', () => {
  const { s, dev } = setup('identity');
  const a = s.domainAlloc('unmanaged')!;
  const f = s.fork();
  assert.equal(f.attachDevicePasid(a, dev, 1), 0);
  const pa = f.allocPages(0);
  f.map(a, 0x3000_0000, pa, 0x1000, RW);
  assert.deepEqual(f.dmaAccess(dev, 0x3000_0000, 'read', 1), { pa, via: 'translated' });
  assert.deepEqual(s.dmaAccess(dev, 0x3000_0000, 'read', 1), { fault: 'C_BAD_SUBSTREAMID', recorded: true }, 'the parent never installed a CD table');
  assert.equal(Object.keys(s.machine.devices.get(dev)!.pasids).length, 0);
});
