/**
 * How the system was booted decides what a device's DMA does (shared/seeds/002, 2.4 "smmu和
 * iommu的bypass"): translate (DMA default domains), iommu.passthrough=1 (identity default
 * domains), arm-smmu-v3.disable_bypass=0 (streams with no domain bypass) and no SMMU node at
 * all. Each test sweeps every mode, as the kernel's selftests sweep their configurations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, createSystem, DMA_BIDIRECTIONAL, IOMMU_READ, IOMMU_WRITE, SMMU_MODES } from '../../emulator/src/index';
import type { SmmuMode, System } from '../../emulator/src/index';

function boot(mode: SmmuMode, extra: object = {}): { s: System; dev: number } {
  const s = createSystem({ mode, ...extra });
  return { s, dev: s.device('dev0') };
}

test('smmu.mode is checked: an unknown mode names the field', () => {
  assert.throws(() => createSystem({ mode: 'off' as SmmuMode }), (e: unknown) => e instanceof ConfigError && e.field === 'mode');
  for (const mode of SMMU_MODES) assert.doesNotThrow(() => createSystem({ mode }));
});

test('each mode: the default domain, the group type and what dma_map_single returns', () => {
  const want: Record<SmmuMode, { domain: string | null; type: string | null; iova: boolean }> = {
    translate: { domain: 'dma', type: 'DMA', iova: true },
    passthrough: { domain: 'identity', type: 'identity', iova: false },
    bypass: { domain: 'dma', type: 'DMA', iova: true },
    'no-smmu': { domain: null, type: null, iova: false },
  };
  for (const mode of SMMU_MODES) {
    const { s, dev } = boot(mode);
    const dom = s.getDomainForDev(dev);
    assert.equal(dom === null ? null : s.domainInfo(dom).type, want[mode].domain, mode);
    assert.equal(s.iommuGroup(dev)?.type ?? null, want[mode].type, mode);
    const pa = s.allocPages(0);
    const dma = s.dmaMap(dev, pa, 0x1000, DMA_BIDIRECTIONAL, 'dma_map_single');
    if (want[mode].iova) assert.notEqual(dma, pa, `${mode}: an IOVA from the DMA cookie`);
    else assert.equal(dma, pa, `${mode}: dma-direct, the bus address is the physical address`);
  }
});

test('each mode: a device access to its DMA address, and to an address nothing mapped', () => {
  for (const mode of SMMU_MODES) {
    const { s, dev } = boot(mode);
    const pa = s.allocPages(0);
    const dma = s.dmaMap(dev, pa + 0x40, 0x100, DMA_BIDIRECTIONAL, 'dma_map_single');
    const ok = s.dmaAccess(dev, dma, 'write');
    assert.deepEqual(ok, { pa: pa + 0x40, via: mode === 'translate' || mode === 'bypass' ? 'translated' : mode === 'passthrough' ? 'bypass' : 'no-smmu' }, mode);
    s.drainEvents();
    const stray = s.dmaAccess(dev, 0x7000_0000, 'read');
    const ev = s.drainEvents();
    if (mode === 'translate' || mode === 'bypass') {
      assert.deepEqual(stray, { fault: 'F_TRANSLATION', recorded: true }, mode);
      assert.ok(ev.some((e) => e.kind === 'fault' && e.type === 'F_TRANSLATION'), `${mode}: the event record is in the trace`);
    } else {
      // identity: whatever the device asks for is what it gets
      assert.deepEqual(stray, { pa: 0x7000_0000, via: mode === 'passthrough' ? 'bypass' : 'no-smmu' }, mode);
      assert.ok(!ev.some((e) => e.kind === 'fault'), mode);
    }
    assert.ok(ev.some((e) => e.kind === 'device-access' && String(e.text).startsWith('dev0 ')), `${mode}: the access is traced`);
  }
});

test('each mode: a stream no driver set up aborts, bypasses, or has no STE at all', () => {
  // 0x11 shares dev0's level-2 stream table (256 StreamIDs); 0x4000 has none.
  for (const mode of SMMU_MODES) {
    for (const streamTable of ['linear', '2level'] as const) {
      const s = createSystem({ mode, streamTable, sidBits: 16 });
      s.device('dev0');
      const near = s.translate(0x11, 0, 0x1234000, 'read');
      const far = s.translate(0x4000, 0, 0x1234000, 'read');
      const label = `${mode} ${streamTable}`;
      if (mode === 'no-smmu') {
        assert.deepEqual(near, { pa: 0x1234000 }, label);
        assert.deepEqual(far, { pa: 0x1234000 }, label);
        continue;
      }
      // disable_bypass=1 (6.12): abort STEs, terminated with no event record (STE.Config = 0b000)
      assert.deepEqual(near, mode === 'bypass' ? { pa: 0x1234000 } : { fault: 'ABORT' }, label);
      if (streamTable === 'linear') assert.deepEqual(far, mode === 'bypass' ? { pa: 0x1234000 } : { fault: 'ABORT' }, label);
      else assert.deepEqual(far, { fault: 'C_BAD_STREAMID' }, `${label}: no level-2 table, whatever the mode`);
      const recs = s.machine.smmu.drainEvtq().map((r) => r.type);
      assert.deepEqual(recs, streamTable === '2level' ? ['C_BAD_STREAMID'] : [], label);
    }
  }
});

test('each mode: what the IOMMU API lets a driver do', () => {
  for (const mode of SMMU_MODES) {
    const { s, dev } = boot(mode);
    const dom = s.domainAlloc('unmanaged');
    if (mode === 'no-smmu') {
      assert.equal(dom, null, 'iommu_domain_alloc() has no IOMMU to ask: NULL');
      assert.equal(s.getDomainForDev(dev), null);
      assert.deepEqual(s.resvRegions(dev), []);
      assert.equal(s.iommuGroup(dev), null);
      continue;
    }
    assert.equal(s.attachDevice(dom!, dev), 0, mode);
    const pa = s.allocPages(0);
    assert.equal(s.map(dom!, 0x5010_0000, pa, 0x1000, IOMMU_READ | IOMMU_WRITE), 0, mode);
    assert.deepEqual(s.dmaAccess(dev, 0x5010_0010, 'read'), { pa: pa + 0x10, via: 'translated' }, mode);
    // iommu_map() into the identity default domain is refused (not a paging domain)
    s.detachDevice(dom!, dev);
    const def = s.getDomainForDev(dev)!;
    assert.equal(s.map(def, 0x6000_0000, pa, 0x1000, IOMMU_READ), mode === 'passthrough' ? -22 : 0, mode);
  }
});
