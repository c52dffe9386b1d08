/**
 * dma-iommu and the DMA API: strict and non-strict unmaps, dma-debug's reports,
 * scatterlists, coherent buffers, pools and the page allocator.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSystem, DMA_MAPPING_ERROR, DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL } from '../../emulator/src/index';
import type { EmuEvent } from '../../emulator/src/index';

const debugCodes = (ev: EmuEvent[]) => ev.filter((e) => e.kind === 'dma-debug').map((e) => e.code);

test('dma_map_single hands out IOVAs top-down below the 32-bit mask and translates them', () => {
  const s = createSystem();
  const dev = s.device('dev0');
  const pa = s.allocPages(1);
  const a = s.dmaMap(dev, pa + 0x10, 0x1800, DMA_TO_DEVICE, 'dma_map_single');
  // 0x1810 bytes at offset 0x10 need 2 pages: alloc_iova_fast(2) -> pfn 0xffffe
  assert.equal(a, 0xffffe010);
  assert.deepEqual(s.translate(0x10, 0, a + 0x1000, 'read'), { pa: pa + 0x1010 });
  assert.deepEqual(s.translate(0x10, 0, a, 'write'), { fault: 'F_PERMISSION' }, 'DMA_TO_DEVICE maps read-only');
  assert.deepEqual(s.liveMappings(), [{ dev, addr: a, size: 0x1800, dir: DMA_TO_DEVICE, fn: 'dma_map_single' }]);
  assert.equal(s.dmaMappingError(dev, a), false);
  s.dmaUnmap(dev, a, 0x1800, DMA_TO_DEVICE, 'dma_unmap_single');
  assert.deepEqual(debugCodes(s.drainEvents()), []);
  assert.deepEqual(s.liveMappings(), []);
  assert.deepEqual(s.translate(0x10, 0, a, 'read'), { fault: 'F_TRANSLATION' });
});

test('non-strict: the IOTLB keeps a stale entry and the IOVA stays allocated until the flush queue runs', () => {
  const s = createSystem({ strict: false });
  const dev = s.device('dev0');
  const pa = s.allocPages(0);
  const a = s.dmaMap(dev, pa, 0x1000, DMA_BIDIRECTIONAL, 'dma_map_page');
  s.dmaMappingError(dev, a);
  assert.deepEqual(s.translate(0x10, 0, a, 'write'), { pa });
  s.drainEvents();
  s.dmaUnmap(dev, a, 0x1000, DMA_BIDIRECTIONAL, 'dma_unmap_page');
  const ev = s.drainEvents();
  assert.ok(!ev.some((e) => e.kind === 'tlbi'), 'no invalidation at unmap');
  assert.ok(ev.some((e) => e.kind === 'fq-queue'));
  assert.deepEqual(s.translate(0x10, 0, a, 'write'), { pa }, 'stale translation still works');
  // the IOVA is not free yet, so the next mapping gets another one
  const b = s.dmaMap(dev, pa, 0x1000, DMA_BIDIRECTIONAL, 'dma_map_page');
  assert.notEqual(b, a);
  s.dmaMappingError(dev, b);
  s.flushQueue(dev);
  const ev2 = s.drainEvents();
  assert.ok(ev2.some((e) => e.kind === 'tlbi' && String(e.text).startsWith('CMD_TLBI_NH_ASID')));
  assert.deepEqual(s.translate(0x10, 0, a, 'write'), { fault: 'F_TRANSLATION' });
  // after the flush the range went to the rcache and comes back first
  assert.equal(s.dmaMap(dev, pa, 0x1000, DMA_BIDIRECTIONAL, 'dma_map_page'), a);
});

test('dma-debug reports what kernel/dma/debug.c reports', () => {
  const s = createSystem();
  const dev = s.device('dev0');
  const pa = s.allocPages(2);
  // different size
  let a = s.dmaMap(dev, pa, 0x800, DMA_TO_DEVICE, 'dma_map_single');
  s.dmaMappingError(dev, a);
  s.drainEvents();
  s.dmaUnmap(dev, a, 0x400, DMA_TO_DEVICE, 'dma_unmap_single');
  let ev = s.drainEvents().filter((e) => e.kind === 'dma-debug');
  assert.equal(ev.length, 1);
  assert.equal(ev[0].code, 'size-mismatch');
  assert.equal(ev[0].text, `DMA-API: dev0: device driver frees DMA memory with different size [device address=0x${a.toString(16).padStart(16, '0')}] [map size=2048 bytes] [unmap size=1024 bytes]`);
  // double free: the second unmap finds nothing
  s.dmaUnmap(dev, a, 0x800, DMA_TO_DEVICE, 'dma_unmap_single');
  assert.deepEqual(debugCodes(s.drainEvents()), ['not-allocated']);
  // different direction, and the map error was never checked
  a = s.dmaMap(dev, pa, 0x100, DMA_TO_DEVICE, 'dma_map_page');
  s.dmaUnmap(dev, a, 0x100, DMA_FROM_DEVICE, 'dma_unmap_page');
  ev = s.drainEvents();
  assert.deepEqual(debugCodes(ev), ['direction-mismatch', 'map-error-not-checked']);
  assert.match(String(ev.find((e) => e.code === 'direction-mismatch')!.text), /\[mapped with DMA_TO_DEVICE\] \[unmapped with DMA_FROM_DEVICE\]/);
  // wrong function: mapped single, freed as a coherent buffer
  a = s.dmaMap(dev, pa, 0x100, DMA_BIDIRECTIONAL, 'dma_map_single');
  s.dmaMappingError(dev, a);
  s.drainEvents();
  s.dmaFreeCoherent(dev, 0x100, pa, a);
  ev = s.drainEvents();
  assert.deepEqual(debugCodes(ev), ['wrong-function']);
  assert.match(String(ev.find((e) => e.kind === 'dma-debug')!.text), /\[mapped as single\] \[unmapped as coherent\]/);
  // unmapping DMA_MAPPING_ERROR
  s.dmaUnmap(dev, DMA_MAPPING_ERROR, 0x100, DMA_TO_DEVICE, 'dma_unmap_single');
  assert.deepEqual(debugCodes(s.drainEvents()), ['invalid-address']);
});

test('coherent buffers: a different CPU address on free is reported and the wrong pages freed', () => {
  const s = createSystem();
  const dev = s.device('dev0');
  const buf = s.dmaAllocCoherent(dev, 0x3000)!;
  assert.ok(buf);
  assert.deepEqual(s.translate(0x10, 0, buf.dma + 0x2000, 'write'), { pa: buf.cpu + 0x2000 });
  s.drainEvents();
  s.dmaFreeCoherent(dev, 0x3000, buf.cpu + 0x1000, buf.dma);
  const ev = s.drainEvents();
  assert.deepEqual(debugCodes(ev), ['cpu-address-mismatch']);
  assert.ok(ev.some((e) => e.kind === 'page-error' && e.code === 'bad-free'));
});

test('dma_map_sg merges page-aligned segments and dma_unmap_sg checks the entry count', () => {
  const s = createSystem();
  const dev = s.device('dev0');
  const p = s.allocPages(2);
  const r = s.dmaMapSg(dev, [{ paddr: p, length: 0x1000 }, { paddr: p + 0x2000, length: 0x1000 }, { paddr: p + 0x3000, length: 0x200 }], DMA_TO_DEVICE);
  // 3 pages of IOVA (pfn 0xffffc after rounding 3 up to 4); all three segments start on a
  // page boundary, so __finalise_sg() concatenates them into one DMA segment
  assert.equal(r.nents, 1);
  assert.equal(r.addrs[0], 0xffffc000);
  assert.deepEqual(s.translate(0x10, 0, 0xffffd000, 'read'), { pa: p + 0x2000 });
  s.drainEvents();
  s.dmaUnmapSg(dev, r.addrs[0], 2, DMA_TO_DEVICE);
  assert.deepEqual(debugCodes(s.drainEvents()), ['sg-count-mismatch']);
  assert.deepEqual(s.translate(0x10, 0, 0xffffd000, 'read'), { fault: 'F_TRANSLATION' });
});

test('dma_sync outside a mapping is reported', () => {
  const s = createSystem();
  const dev = s.device('dev0');
  const p = s.allocPages(0);
  const a = s.dmaMap(dev, p, 0x200, DMA_FROM_DEVICE, 'dma_map_single');
  s.drainEvents();
  s.dmaSync(dev, a, 0x200, DMA_FROM_DEVICE, 'dma_sync_single_for_cpu');
  assert.deepEqual(debugCodes(s.drainEvents()), []);
  s.dmaSync(dev, a + 0x100, 0x200, DMA_FROM_DEVICE, 'dma_sync_single_for_cpu');
  assert.deepEqual(debugCodes(s.drainEvents()), ['sync-out-of-range']);
  // mapped DMA_FROM_DEVICE, synced for the device as DMA_TO_DEVICE: check_sync() reports
  // the direction and the write-only sync
  s.dmaSync(dev, a, 0x100, DMA_TO_DEVICE, 'dma_sync_single_for_device');
  assert.deepEqual(debugCodes(s.drainEvents()), ['sync-direction-mismatch', 'sync-write-only']);
});

test('dma pools hand out blocks of one coherent page and report bad and double frees', () => {
  const s = createSystem();
  const dev = s.device('dev0');
  const pool = s.dmaPoolCreate(dev, 100, 64); // ALIGN(100, 64) = 128-byte blocks
  const b1 = s.dmaPoolAlloc(pool)!;
  const b2 = s.dmaPoolAlloc(pool)!;
  assert.equal(b2.cpu - b1.cpu, 128);
  assert.equal(b2.dma - b1.dma, 128);
  assert.deepEqual(s.translate(0x10, 0, b2.dma, 'write'), { pa: b2.cpu });
  s.dmaPoolFree(pool, b2.cpu, b2.dma);
  s.drainEvents();
  s.dmaPoolFree(pool, b2.cpu, b2.dma);
  assert.ok(s.drainEvents().some((e) => e.kind === 'dma-pool-error' && e.code === 'double-free'));
  s.dmaPoolFree(pool, 0x1234, 0x5678);
  assert.ok(s.drainEvents().some((e) => e.kind === 'dma-pool-error' && e.code === 'bad-dma'));
  assert.deepEqual(s.dmaPoolAlloc(pool), b2, 'last freed block comes back first');
  assert.equal(s.dmaPoolCreate(dev, 100, 3), 0, 'align not a power of two');
});

test('pages freed with the wrong order, or twice, are reported', () => {
  const s = createSystem();
  const pa = s.allocPages(2);
  s.drainEvents();
  s.freePages(pa, 1);
  let ev = s.drainEvents();
  assert.equal(ev[0].kind, 'page-error');
  assert.equal(ev[0].code, 'wrong-order');
  s.freePages(pa, 2);
  ev = s.drainEvents();
  assert.equal(ev[0].code, 'double-free');
  // the buddy allocator hands the same block out again
  assert.equal(s.allocPages(2), pa);
});

test('a failed mapping returns DMA_MAPPING_ERROR', () => {
  const s = createSystem({ memorySize: 0x1000000 });
  const dev = s.device('dev0');
  // 33 bits of size cannot fit below a 32-bit mask
  assert.equal(s.dmaMap(dev, 0x40000000, 2 ** 33, DMA_TO_DEVICE, 'dma_map_single'), DMA_MAPPING_ERROR);
  assert.equal(s.dmaMappingError(dev, DMA_MAPPING_ERROR), true);
  assert.deepEqual(s.liveMappings(), []);
});
