/**
 * SMMUv3 behaviour a user can see: translations through the IOTLB (stale entries
 * until invalidated), a fault record for each fault class, and STE/CD updates
 * counted in CMD_SYNCs as arm-smmu-v3-test.c counts them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSystem, IOMMU_READ, IOMMU_WRITE, EVT, CMDQ_OP } from '../../emulator/src/index';
import { makeAbortSte, makeBypassSte, makeCdtableSte, makeS2DomainSte } from '../../emulator/src/arm-smmu-v3';
import { prep } from '../../emulator/src/smmu-v3';

function setup(config = {}) {
  const s = createSystem(config);
  const dev = s.device('dev0');
  const sid = s.streamIdOf(dev);
  const dom = s.domainAlloc('unmanaged')!;
  assert.equal(s.attachDevice(dom, dev), 0);
  const pa = s.allocPages(0);
  return { s, dev, sid, dom, pa };
}

test('a device access translates through the page table and then hits the IOTLB', () => {
  const { s, sid, dom, pa } = setup();
  assert.equal(s.map(dom, 0x100000, pa, 0x1000, IOMMU_READ | IOMMU_WRITE), 0);
  assert.deepEqual(s.translate(sid, 0, 0x100123, 'read'), { pa: pa + 0x123 });
  const c1 = s.counters();
  assert.deepEqual(s.translate(sid, 0, 0x100456, 'write'), { pa: pa + 0x456 });
  const c2 = s.counters();
  assert.equal(c2.tlbHits - c1.tlbHits, 1);
  assert.equal(c2.tableWalks - c1.tableWalks, 0);
});

test('a missing TLB invalidation leaves a stale translation; CMD_TLBI_NH_VA removes it', () => {
  const { s, sid, dom, pa } = setup();
  s.map(dom, 0x100000, pa, 0x1000, IOMMU_READ | IOMMU_WRITE);
  s.translate(sid, 0, 0x100000, 'read'); // warm the IOTLB
  // Clear the PTE without any invalidation (what a driver bug looks like).
  const m = s.machine;
  const d = m.domains.get(dom)!;
  const table = m.pt(d).withEnv({ ...m.pgtableEnvBase() }); // no flush ops
  assert.equal(table.unmapPages(0x100000, 0x1000, 1, null), 0x1000);
  assert.equal(s.iovaToPhys(dom, 0x100000), 0);
  assert.deepEqual(s.translate(sid, 0, 0x100000, 'read'), { pa }, 'stale IOTLB entry still translates');
  m.smmu.submit([[prep(CMDQ_OP.TLBI_NH_VA, 7, 0) | prep(d.tag, 63, 48), BigInt(0x100000)], [prep(CMDQ_OP.CMD_SYNC, 7, 0), 0n]]);
  assert.deepEqual(s.translate(sid, 0, 0x100000, 'read'), { fault: 'F_TRANSLATION' });
  // With the normal path (iommu_unmap) there is no window at all.
  s.map(dom, 0x200000, pa, 0x1000, IOMMU_READ);
  s.translate(sid, 0, 0x200000, 'read');
  assert.equal(s.unmap(dom, 0x200000, 0x1000), 0x1000);
  assert.deepEqual(s.translate(sid, 0, 0x200000, 'read'), { fault: 'F_TRANSLATION' });
});

test('the configuration cache is stale until CMD_CFGI_STE', () => {
  const { s, sid, dom, pa } = setup();
  s.map(dom, 0x100000, pa, 0x1000, IOMMU_READ);
  assert.ok('pa' in s.translate(sid, 0, 0x100000, 'read'));
  const m = s.machine;
  const a = m.drv.steAddr(sid);
  const ste = makeAbortSte();
  for (let i = 0; i < 8; i++) m.mem.write64(a + 8 * i, ste[i]); // no CFGI
  assert.ok('pa' in s.translate(sid, 0, 0x100000, 'read'), 'cached STE still used');
  m.drv.cmdWithSync([prep(CMDQ_OP.CFGI_STE, 7, 0) | prep(sid, 63, 32), 1n]);
  assert.deepEqual(s.translate(sid, 0, 0x100000, 'read'), { fault: 'ABORT' });
});

function lastRecord(s: ReturnType<typeof createSystem>) {
  const recs = s.machine.smmu.drainEvtq();
  return recs[recs.length - 1];
}

test('each fault class writes its event record with the spec number', () => {
  const { s, sid, dom, pa } = setup({ oas: 40, memoryBase: 0x40000000 });
  const m = s.machine;
  // F_TRANSLATION: nothing mapped
  assert.deepEqual(s.translate(sid, 0, 0x500000, 'read'), { fault: 'F_TRANSLATION' });
  let r = lastRecord(s);
  assert.equal(r.id, EVT.F_TRANSLATION);
  assert.equal(r.sid, sid);
  assert.equal(r.addr, 0x500000);
  assert.equal(r.rnw, true);
  // F_PERMISSION: write to a read-only page
  s.map(dom, 0x100000, pa, 0x1000, IOMMU_READ);
  assert.deepEqual(s.translate(sid, 0, 0x100000, 'write'), { fault: 'F_PERMISSION' });
  r = lastRecord(s);
  assert.equal(r.id, EVT.F_PERMISSION);
  assert.equal(r.rnw, false);
  // F_ACCESS: a page whose AF bit is clear
  s.map(dom, 0x101000, pa, 0x1000, IOMMU_READ);
  const d = m.domains.get(dom)!;
  const leaf = m.pt(d).lookup(0x101000)!;
  m.mem.write32(leaf.ptep, leaf.lo & ~(1 << 10));
  assert.deepEqual(s.translate(sid, 0, 0x101000, 'read'), { fault: 'F_ACCESS' });
  assert.equal(lastRecord(s).id, EVT.F_ACCESS);
  // F_ADDR_SIZE: output address beyond the 40-bit OAS
  s.map(dom, 0x102000, pa, 0x1000, IOMMU_READ);
  const leaf2 = m.pt(d).lookup(0x102000)!;
  m.mem.write32(leaf2.ptep + 4, 0x100); // PA bit 40
  assert.deepEqual(s.translate(sid, 0, 0x102000, 'read'), { fault: 'F_ADDR_SIZE' });
  assert.equal(lastRecord(s).id, EVT.F_ADDR_SIZE);
  // C_BAD_STREAMID: a StreamID with no level-2 stream table
  assert.deepEqual(s.translate(0x4000, 0, 0x100000, 'read'), { fault: 'C_BAD_STREAMID' });
  r = lastRecord(s);
  assert.equal(r.id, EVT.C_BAD_STREAMID);
  assert.equal(r.sid, 0x4000);
  // C_BAD_SUBSTREAMID: a SubstreamID on a stream with one context descriptor
  assert.deepEqual(s.translate(sid, 5, 0x100000, 'read'), { fault: 'C_BAD_SUBSTREAMID' });
  r = lastRecord(s);
  assert.equal(r.id, EVT.C_BAD_SUBSTREAMID);
  assert.equal(r.ssid, 5);
  // C_BAD_CD: CD 0 cleared (V=0), invalidated with CFGI_CD
  const master = m.drv.master(sid)!;
  m.drv.clearCd(master, 0);
  assert.deepEqual(s.translate(sid, 0, 0x100000, 'read'), { fault: 'C_BAD_CD' });
  assert.equal(lastRecord(s).id, EVT.C_BAD_CD);
  // F_STREAM_DISABLED: S1DSS = terminate for transactions without a SubstreamID (S1DSS counts
  // only with substreams enabled, S1CDMax > 0)
  m.drv.writeSte(sid, makeCdtableSte(master.cdtab, 0, 2, 0));
  assert.deepEqual(s.translate(sid, 0, 0x100000, 'read'), { fault: 'F_STREAM_DISABLED' });
  assert.equal(lastRecord(s).id, EVT.F_STREAM_DISABLED);
  // C_BAD_STE: a reserved STE.Config value
  m.drv.writeSte(sid, [1n | (1n << 1n), 0n, 0n, 0n, 0n, 0n, 0n, 0n]);
  assert.deepEqual(s.translate(sid, 0, 0x100000, 'read'), { fault: 'C_BAD_STE' });
  assert.equal(lastRecord(s).id, EVT.C_BAD_STE);
  // Faults are also in the event trace.
  const kinds = s.drainEvents().filter((e) => e.kind === 'fault').map((e) => e.type);
  assert.deepEqual(kinds, ['F_TRANSLATION', 'F_PERMISSION', 'F_ACCESS', 'F_ADDR_SIZE', 'C_BAD_STREAMID', 'C_BAD_SUBSTREAMID', 'C_BAD_CD', 'F_STREAM_DISABLED', 'C_BAD_STE']);
});

test('a linear stream table rejects StreamIDs beyond its size', () => {
  const s = createSystem({ streamTable: 'linear', sidBits: 8 });
  assert.deepEqual(s.translate(0x100, 0, 0, 'read'), { fault: 'C_BAD_STREAMID' });
  // an STE never configured is abort: terminated without a record
  assert.deepEqual(s.translate(0x20, 0, 0, 'read'), { fault: 'ABORT' });
});

test('STE and CD transitions issue the CMD_SYNCs of arm_smmu_write_entry()', () => {
  const { s, sid } = setup();
  const m = s.machine;
  const master = m.drv.master(sid)!;
  const syncs = (f: () => void) => {
    const before = s.counters().cmdSyncs;
    f();
    return s.counters().cmdSyncs - before;
  };
  const cdtable = m.drv.cdtableSte(master);
  const d = m.domainAlloc('unmanaged')!;
  s.drainEvents();
  // (arm-smmu-v3-test.c: cdtable -> abort 2, abort -> cdtable 2, cdtable <-> s2 3)
  assert.equal(syncs(() => m.drv.writeSte(sid, makeAbortSte())), 2);
  assert.equal(syncs(() => m.drv.writeSte(sid, cdtable)), 2);
  const s2 = makeS2DomainSte(m.pt(d), 7);
  assert.equal(syncs(() => m.drv.writeSte(sid, s2)), 3);
  assert.equal(syncs(() => m.drv.writeSte(sid, cdtable)), 3);
  // same value: nothing to do
  assert.equal(syncs(() => m.drv.writeSte(sid, cdtable)), 0);
  // abort -> bypass changes only CFG in qword 0: one hitless step
  m.drv.writeSte(sid, makeAbortSte());
  assert.equal(syncs(() => m.drv.writeSte(sid, makeBypassSte())), 1);
  // each CMD_SYNC of an STE update follows the CMD_CFGI_STE it completes
  const ev = s.drainEvents().filter((e) => e.kind === 'cfgi' || e.kind === 'sync');
  const syncsAfterCfgi = ev.filter((e, i) => e.kind === 'sync' && i > 0 && ev[i - 1].cmd === 'CMD_CFGI_STE').length;
  assert.equal(syncsAfterCfgi, 2 + 2 + 3 + 3 + 2 + 1);
});

test('attach and detach rewrite the STE and CD through the command queue', () => {
  const s = createSystem();
  const dev = s.device('dev0');
  const def = s.getDomainForDev(dev)!;
  const dom = s.domainAlloc('identity')!;
  assert.equal(s.attachDevice(dom, dev), 0);
  assert.equal(s.getDomainForDev(dev), dom);
  assert.deepEqual(s.translate(0x10, 0, 0x1234, 'read'), { pa: 0x1234 }, 'bypass');
  const blocked = s.domainAlloc('blocked')!;
  assert.equal(s.attachDevice(blocked, dev), -16, 'not from the default domain: -EBUSY');
  s.detachDevice(dom, dev);
  assert.equal(s.getDomainForDev(dev), def);
  assert.equal(s.attachDevice(blocked, dev), 0);
  assert.deepEqual(s.translate(0x10, 0, 0x1234, 'read'), { fault: 'ABORT' });
  const ste = (s.inspect().devices as { ste: { config: string } }[])[0].ste;
  assert.equal(ste.config, 'abort');
});

test('stage 2 domains translate by VMID and are invalidated with CMD_TLBI_S2_IPA', () => {
  const s = createSystem({ stage: 2 });
  const dev = s.device('dev0');
  const dom = s.domainAlloc('unmanaged')!;
  assert.equal(s.attachDevice(dom, dev), 0);
  const pa = s.allocPages(0);
  assert.equal(s.map(dom, 0x300000, pa, 0x1000, IOMMU_READ | IOMMU_WRITE), 0);
  assert.deepEqual(s.translate(0x10, 0, 0x300010, 'write'), { pa: pa + 0x10 });
  s.unmap(dom, 0x300000, 0x1000);
  assert.deepEqual(s.translate(0x10, 0, 0x300010, 'write'), { fault: 'F_TRANSLATION' });
  const rec = s.machine.smmu.drainEvtq();
  assert.equal(rec[rec.length - 1].s2, true, 'a stage-2 fault record');
  assert.equal(rec[rec.length - 1].ipa, 0x300000);
  const ev = s.drainEvents();
  assert.ok(ev.some((e) => e.kind === 'tlbi' && String(e.text).startsWith('CMD_TLBI_S2_IPA')));
});

test('the event queue overflows instead of overwriting records', () => {
  const { s, sid } = setup();
  for (let i = 0; i < 130; i++) s.translate(sid, 0, 0x900000 + i * 0x1000, 'read');
  assert.equal(s.counters().eventsLost, 2); // 128 entries; PROD's wrap bit tells full from empty
  assert.equal(s.machine.smmu.drainEvtq().length, 128);
});

test('iommu_unmap_fast() leaves the IOTLB stale until iommu_iotlb_sync(); the range is listed as unsynced', () => {
  const { s, sid, dom, pa } = setup();
  assert.equal(s.map(dom, 0x100000, pa, 0x2000, IOMMU_READ | IOMMU_WRITE), 0);
  s.translate(sid, 0, 0x100000, 'read'); // warm the IOTLB
  assert.equal(s.unmapFast(dom, 0x100000, 0x2000, 'line 12'), 0x2000);
  // ... with the physical pages it mapped, which must not be freed before the sync.
  assert.deepEqual(s.unsyncedRanges(dom), [{ iova: 0x100000, size: 0x2000, tag: 'line 12', pages: [[pa, 0x2000]] }]);
  assert.deepEqual(s.unsyncedAt(pa + 0x1000, 0x1000), { domain: dom, iova: 0x100000, size: 0x2000, tag: 'line 12' });
  assert.equal(s.unsyncedAt(pa + 0x2000, 0x1000), undefined, 'the page after the range');
  // The page table no longer maps it, but the device still reaches the old page.
  assert.equal(s.iovaToPhys(dom, 0x100000), 0);
  assert.deepEqual(s.translate(sid, 0, 0x100010, 'read'), { pa: pa + 0x10 }, 'stale IOTLB entry');
  // A fork sees the same pending range; syncing one does not sync the other.
  const f = s.fork();
  assert.equal(s.iotlbSync(dom), 1);
  assert.deepEqual(s.unsyncedRanges(dom), []);
  assert.ok('fault' in s.translate(sid, 0, 0x100010, 'read'), 'after the sync: a translation fault');
  assert.equal(f.unsyncedRanges(dom).length, 1, 'the fork still has it');
  assert.equal(s.unsyncedAt(pa, 0x1000), undefined, 'synced: the pages may be freed');
  // flush_iotlb_all() also ends it.
  assert.equal(f.iotlbSync(dom, true), 1);
  assert.ok('fault' in f.translate(sid, 0, 0x100010, 'read'));
  // A strict iommu_unmap() leaves nothing gathered.
  assert.equal(s.map(dom, 0x200000, pa, 0x1000, IOMMU_READ), 0);
  assert.equal(s.unmap(dom, 0x200000, 0x1000), 0x1000);
  assert.deepEqual(s.unsyncedRanges(dom), []);
});
