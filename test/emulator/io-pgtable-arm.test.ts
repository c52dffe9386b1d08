/**
 * io-pgtable-arm in the manner of io-pgtable-arm-selftests.c: for every granule,
 * input size and output size, map each page size, refuse an overlapping map with
 * -EEXIST, translate, unmap part of a block (split) and remap, unmap in full.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArmLpaeTable, IoPgtableEnv } from '../../emulator/src/io-pgtable-arm';
import { PageAllocator, PhysMemory, getOrder } from '../../emulator/src/memory';
import { Ctx, newToken } from '../../emulator/src/pmap';
import { EEXIST, IOMMU_CACHE, IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE } from '../../emulator/src/events';

const SZ_1G = 0x40000000;

function env(): { env: IoPgtableEnv; alloc: PageAllocator } {
  const ctx = new Ctx(newToken());
  const mem = new PhysMemory(ctx);
  const alloc = new PageAllocator(ctx, 0x100000000, 0x10000000, 12);
  return {
    alloc,
    env: {
      mem,
      allocTable: (size) => alloc.alloc(getOrder(size, 12)),
      freeTable: (pa, size) => {
        alloc.free(pa, getOrder(size, 12));
        mem.discard(pa, size);
      },
    },
  };
}

function sizesOf(bm: number): number[] {
  const out: number[] = [];
  for (let b = 12; b <= 42; b++) if (Math.floor(bm / 2 ** b) % 2 === 1) out.push(2 ** b);
  return out;
}

const GRANULES: [number, number][] = [
  [0x1000, 0x1000 + 0x200000 + SZ_1G],
  [0x4000, 0x4000 + 0x2000000],
  [0x10000, 0x10000 + 0x20000000],
];

for (const fmt of ['ARM_64_LPAE_S1', 'ARM_64_LPAE_S2'] as const) {
  for (const [granule, bitmap] of GRANULES) {
    for (const ias of [32, 36, 40, 42, 44, 48]) {
      for (const oas of [36, 40, 48]) {
        test(`${fmt} granule ${granule / 1024}K ias ${ias} oas ${oas}`, () => {
          const { env: e, alloc } = env();
          const t = ArmLpaeTable.alloc({ fmt, pgsizeBitmap: bitmap, ias, oas, pageSize: granule }, e);
          assert.ok(t, 'table allocated');
          const sizes = sizesOf(t.pgsizeBitmap);
          assert.deepEqual(sizes, sizesOf(bitmap));
          let iova = 0;
          const mapped = { n: 0 };
          for (const size of sizes) {
            assert.equal(t.mapPages(iova, iova, size, 1, IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC | IOMMU_CACHE, mapped), 0);
            // Overlapping mappings
            assert.equal(t.mapPages(iova, iova + size, size, 1, IOMMU_READ | IOMMU_NOEXEC, mapped), -EEXIST);
            assert.equal(t.iovaToPhys(iova + 42), iova + 42);
            iova += SZ_1G;
          }
          // Partial unmap: the second page size at 1G is a block; unmapping its second granule splits it
          const size = sizes[0];
          const before = alloc.allocatedBlocks;
          assert.equal(t.unmapPages(SZ_1G + size, size, 1, null), size);
          assert.equal(alloc.allocatedBlocks, before + 1, 'a table page replaced the block');
          assert.equal(t.iovaToPhys(SZ_1G + size + 42), 0);
          assert.equal(t.iovaToPhys(SZ_1G + 2 * size + 42), SZ_1G + 2 * size + 42, 'rest of the block still mapped');
          // Remap of partial unmap
          assert.equal(t.mapPages(SZ_1G + size, size, size, 1, IOMMU_READ, mapped), 0);
          assert.equal(t.iovaToPhys(SZ_1G + size + 42), size + 42);
          // Full unmap
          iova = 0;
          for (const sz of sizes) {
            assert.equal(t.unmapPages(iova, sz, 1, null), sz);
            assert.equal(t.iovaToPhys(iova + 42), 0);
            // Remap full block
            assert.equal(t.mapPages(iova, iova, sz, 1, IOMMU_WRITE, mapped), 0);
            assert.equal(t.iovaToPhys(iova + 42), iova + 42);
            iova += SZ_1G;
          }
        });
      }
    }
  }
}

test('descriptors hold the kernel bit layout', () => {
  const { env: e } = env();
  const t = ArmLpaeTable.alloc({ fmt: 'ARM_64_LPAE_S1', pgsizeBitmap: 0x40201000, ias: 48, oas: 48 }, e)!;
  t.mapPages(0x200000, 0x12345000, 0x1000, 1, IOMMU_READ | IOMMU_CACHE, { n: 0 });
  const leaf = t.lookup(0x200000)!;
  // page (3) | ATTRINDX 1 (4) | AP_UNPRIV (0x40) | AP_RDONLY (0x80) | SH_IS (0x300) | AF (0x400) | nG (0x800)
  assert.equal(leaf.lo, 0x12345000 + 0xfc7);
  assert.equal(leaf.hi, 0);
  const s2 = ArmLpaeTable.alloc({ fmt: 'ARM_64_LPAE_S2', pgsizeBitmap: 0x40201000, ias: 40, oas: 48 }, e)!;
  // 40-bit IPA with a 4K granule starts at level 1 with 2 concatenated tables
  assert.equal(s2.startLevel, 1);
  assert.equal(s2.pgdSize, 0x2000);
  s2.mapPages(0x1000, 0x2000, 0x1000, 1, IOMMU_WRITE | IOMMU_NOEXEC, { n: 0 });
  const l = s2.lookup(0x1000)!;
  // page | MEMATTR_NC (0x14) | HAP_WRITE (0x80) | SH_OS (0x200) | AF, XN in the high half
  assert.equal(l.lo, 0x2000 + 0x697);
  assert.equal(l.hi, 3 << 21);
});

test('64K granule packs PA bits 51:48 into descriptor bits 15:12', () => {
  const { env: e } = env();
  const t = ArmLpaeTable.alloc({ fmt: 'ARM_64_LPAE_S1', pgsizeBitmap: 0x20010000, ias: 48, oas: 52, pageSize: 0x10000 }, e)!;
  const pa = 2 ** 51 + 0x10000;
  assert.equal(t.mapPages(0x10000, pa, 0x10000, 1, IOMMU_READ, { n: 0 }), 0);
  assert.equal(t.iovaToPhys(0x10000 + 7), pa + 7);
  assert.equal((t.lookup(0x10000)!.lo >>> 12) & 0xf, 0x8);
});
