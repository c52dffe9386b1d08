/**
 * The IOVA allocator against hand-worked runs of drivers/iommu/iova.c (6.12).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IovaDomain, IOVA_MAG_SIZE } from '../../emulator/src/iova';
import { Ctx, newToken } from '../../emulator/src/pmap';

function domain(startPfn = 1): IovaDomain {
  return new IovaDomain(new Ctx(newToken()), 4096, startPfn);
}

test('alloc_iova follows cached32_node, leaving a hole above it', () => {
  // granule 4K: dma_32bit_pfn = 1 << 20 = 0x100000; limit_pfn 0xfffff is passed as 0x100000.
  const iovad = domain();
  // 1) size 1: cached32 is the anchor; high = 0x100000, new_pfn = 0xfffff.
  assert.deepEqual(iovad.allocIova(1, 0xfffff, true), { pfnLo: 0xfffff, pfnHi: 0xfffff });
  // 2) size 3 aligned: align_mask <<= fls_long(2) = 2 -> align 4; from cached32 (0xfffff):
  //    high = 0xfffff, (0xfffff - 3) & ~3 = 0xffffc.
  assert.deepEqual(iovad.allocIova(3, 0xfffff, true), { pfnLo: 0xffffc, pfnHi: 0xffffe });
  // 3) size 2 unaligned: from cached32 (0xffffc): high = 0xffffc, new = 0xffffa.
  assert.deepEqual(iovad.allocIova(2, 0xfffff, false), { pfnLo: 0xffffa, pfnHi: 0xffffb });
  // 4) free 0xffffc: it lies above cached32 (0xffffa) below 4G, so cached32 = rb_next = 0xfffff.
  iovad.freeIova(0xffffc);
  assert.equal(iovad.cached32Node, 0xfffff);
  // 5) size 2 aligned from 0xfffff: high = 0xfffff, (0xfffff - 2) & ~1 = 0xffffc; prev node
  //    0xffffa ends at 0xffffb < 0xffffc, so it fits: [0xffffc, 0xffffd].
  assert.deepEqual(iovad.allocIova(2, 0xfffff, true), { pfnLo: 0xffffc, pfnHi: 0xffffd });
  // 6) free [0xffffa-0xffffb]: below cached32 (0xffffc), so cached32 stays.
  iovad.freeIova(0xffffa);
  assert.equal(iovad.cached32Node, 0xffffc);
  // 7) size 1: the walk starts at cached32 0xffffc, so the hole at 0xffffe above it is
  //    skipped and 0xffffb is handed out (a plain top-down search would give 0xffffe).
  assert.deepEqual(iovad.allocIova(1, 0xfffff, false), { pfnLo: 0xffffb, pfnHi: 0xffffb });
});

test('a failed 32-bit allocation sets max32_alloc_size until something below 4G is freed', () => {
  // start_pfn 0xffff0 leaves 16 pfns below dma_32bit_pfn.
  const iovad = domain(0xffff0);
  // size 16 aligned: (0x100000 - 16) & ~15 = 0xffff0 >= start_pfn.
  assert.deepEqual(iovad.allocIova(16, 0xfffff, true), { pfnLo: 0xffff0, pfnHi: 0xfffff });
  // size 1: from cached32 (0xffff0) new_pfn 0xfffef < low; retry from iova_find_limit()
  // (the anchor) with low = retry_pfn + 1 = 0x100000 also fails: max32_alloc_size = 1.
  assert.equal(iovad.allocIova(1, 0xfffff, false), null);
  assert.equal(iovad.max32AllocSize, 1);
  // Any size >= max32_alloc_size now fails at once (iova32_full), without a walk.
  assert.equal(iovad.allocIova(1, 0xfffff, false), null);
  // Freeing a range below 4G resets max32_alloc_size to dma_32bit_pfn.
  iovad.freeIova(0xffff8);
  assert.equal(iovad.max32AllocSize, 0x100000);
  assert.deepEqual(iovad.allocIova(1, 0xfffff, false), { pfnLo: 0xfffff, pfnHi: 0xfffff });
});

test('limits above 4G use cached_node and the anchor', () => {
  const iovad = domain();
  // limit 0xffffffff (> dma_32bit_pfn): cached_node is the anchor; new = 0xffffffff.
  assert.deepEqual(iovad.allocIova(1, 0xffffffff, false), { pfnLo: 0xffffffff, pfnHi: 0xffffffff });
  assert.equal(iovad.cachedNode, 0xffffffff);
  // a 32-bit limit still starts from cached32 (the anchor), walks below the 64-bit node.
  assert.deepEqual(iovad.allocIova(1, 0xfffff, false), { pfnLo: 0xfffff, pfnHi: 0xfffff });
});

test('reserve_iova merges overlapping ranges and find_iova finds them', () => {
  const iovad = domain();
  assert.deepEqual(iovad.reserveIova(0x100, 0x1ff), { pfnLo: 0x100, pfnHi: 0x1ff });
  // overlaps [0x100-0x1ff] from below: the node grows down to 0x80, then [0x200-0x27f] is new
  assert.deepEqual(iovad.reserveIova(0x80, 0x27f), { pfnLo: 0x200, pfnHi: 0x27f });
  assert.deepEqual(iovad.findIova(0x90), { pfnLo: 0x80, pfnHi: 0x1ff });
  assert.deepEqual(iovad.findIova(0x27f), { pfnLo: 0x200, pfnHi: 0x27f });
  // fully inside an existing range: that range is returned
  assert.deepEqual(iovad.reserveIova(0x120, 0x130), { pfnLo: 0x80, pfnHi: 0x1ff });
  assert.equal(iovad.findIova(0x300), null);
  // allocations avoid reserved ranges: limit 0x27f has no room above, so it goes below 0x80
  assert.deepEqual(iovad.allocIova(0x10, 0x27f, true), { pfnLo: 0x70, pfnHi: 0x7f });
});

test('alloc_iova_fast rounds to a power of two and reuses a freed range from the rcache', () => {
  const iovad = domain();
  // size 3 < 2^(6-1): rounded to 4, then alloc_iova(4, 0xfffff, true) -> 0xffffc
  const pfn = iovad.allocIovaFast(3, 0xfffff, true);
  assert.equal(pfn, 0xffffc);
  assert.deepEqual(iovad.findIova(pfn), { pfnLo: 0xffffc, pfnHi: 0xfffff });
  iovad.freeIovaFast(pfn, 3); // order_base_2(3) = 2: the 4-page bin; the range stays in the tree
  assert.deepEqual(iovad.findIova(pfn), { pfnLo: 0xffffc, pfnHi: 0xfffff });
  assert.equal(iovad.allocIovaFast(4, 0xfffff, true), 0xffffc);
  // 64 pages is beyond the caches (log 6): free_iova_fast falls back to free_iova
  const big = iovad.allocIovaFast(64, 0xfffff, true);
  iovad.freeIovaFast(big, 64);
  assert.equal(iovad.findIova(big), null);
});

test('magazines fill, spill to the depot, and a failing alloc flushes the rcaches', () => {
  const iovad = domain(0xfff00); // 256 pfns below 4G
  const pfns: number[] = [];
  for (let i = 0; i < 256; i++) pfns.push(iovad.allocIovaFast(1, 0xfffff, true));
  assert.equal(new Set(pfns).size, 256);
  assert.equal(iovad.allocIovaFast(1, 0xfffff, false), 0); // full, no flush
  for (const p of pfns) iovad.freeIovaFast(p, 1);
  const rc = (iovad.inspect().rcaches as { depotMagazines: number; loaded: string[]; prev: string[] }[])[0];
  // loaded and prev hold IOVA_MAG_SIZE each; the rest went to a new loaded after a depot push
  assert.equal(rc.depotMagazines, 1);
  assert.equal(rc.prev.length + rc.loaded.length + IOVA_MAG_SIZE, 256);
  // A 2-page request finds no cached 2-page range and no gap: with flush_rcache the
  // cached 1-page ranges are returned to the tree and the retry succeeds.
  assert.equal(iovad.allocIovaFast(2, 0xfffff, false), 0);
  assert.notEqual(iovad.allocIovaFast(2, 0xfffff, true), 0);
});

test('free_iova_fast of a range already cached is reported', () => {
  const iovad = domain();
  const pfn = iovad.allocIovaFast(1, 0xfffff, true);
  iovad.freeIovaFast(pfn, 1);
  iovad.log.drain();
  iovad.freeIovaFast(pfn, 1);
  assert.ok(iovad.log.drain().some((e) => e.kind === 'iova-double-free'));
});
