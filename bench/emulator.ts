/**
 * Emulator benchmarks: each figure is the median of several timed runs.
 */
import { createSystem, DMA_BIDIRECTIONAL, IOMMU_READ, IOMMU_WRITE } from '../emulator/src/index';
import type { System } from '../emulator/src/index';

export interface BenchResult {
  name: string;
  median: number;
  unit: string;
}

const RUNS = 7;

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function now(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** ops per second of body(n), median over RUNS runs after a warm-up run. */
function rate(n: number, setup: () => unknown, body: (ctx: never, n: number) => void): number {
  const out: number[] = [];
  for (let r = 0; r <= RUNS; r++) {
    const ctx = setup() as never;
    const t0 = now();
    body(ctx, n);
    const dt = now() - t0;
    if (r > 0) out.push(n / dt);
  }
  return median(out);
}

function unmanaged(): { s: System; dom: number } {
  const s = createSystem();
  const dom = s.domainAlloc('unmanaged')!;
  return { s, dom };
}

export function benchEmulator(): BenchResult[] {
  const results: BenchResult[] = [];
  const prot = IOMMU_READ | IOMMU_WRITE;

  // iommu_map + iommu_unmap of 4K pages (strict: each unmap issues TLBI + CMD_SYNC)
  results.push({
    name: 'iommu_map+iommu_unmap 4K page',
    median: rate(20000, unmanaged, ({ s, dom }: { s: System; dom: number }, n: number) => {
      for (let i = 0; i < n; i++) {
        const iova = 0x100000000 + (i % 4096) * 0x1000;
        s.map(dom, iova, 0x40000000 + (i % 1024) * 0x1000, 0x1000, prot);
        s.unmap(dom, iova, 0x1000);
        if ((i & 1023) === 0) s.drainEvents();
      }
    }),
    unit: 'pairs/s',
  });

  results.push({
    name: 'iommu_map+iommu_unmap 2M block',
    median: rate(20000, unmanaged, ({ s, dom }: { s: System; dom: number }, n: number) => {
      for (let i = 0; i < n; i++) {
        const iova = 0x100000000 + (i % 256) * 0x200000;
        s.map(dom, iova, 0x40000000 + (i % 64) * 0x200000, 0x200000, prot);
        s.unmap(dom, iova, 0x200000);
        if ((i & 1023) === 0) s.drainEvents();
      }
    }),
    unit: 'pairs/s',
  });

  // alloc_iova + free_iova with ~1000 live ranges in the tree
  const iovaSetup = () => {
    const s = createSystem();
    const iovad = s.initIovaDomain(0x1000, 1);
    for (let i = 0; i < 1000; i++) s.allocIova(iovad, 1 + (i % 7), 0xfffff, true);
    s.drainEvents();
    return { s, iovad };
  };
  results.push({
    name: 'alloc_iova+free_iova (1000 live ranges)',
    median: rate(50000, iovaSetup, ({ s, iovad }: { s: System; iovad: number }, n: number) => {
      for (let i = 0; i < n; i++) {
        const r = s.allocIova(iovad, 4, 0xfffff, true)!;
        s.freeIova(iovad, r.pfnLo);
        if ((i & 1023) === 0) s.drainEvents();
      }
    }),
    unit: 'pairs/s',
  });
  results.push({
    name: 'alloc_iova_fast+free_iova_fast',
    median: rate(100000, iovaSetup, ({ s, iovad }: { s: System; iovad: number }, n: number) => {
      for (let i = 0; i < n; i++) {
        const pfn = s.allocIovaFast(iovad, 4, 0xfffff, true);
        s.freeIovaFast(iovad, pfn, 4);
        if ((i & 1023) === 0) s.drainEvents();
      }
    }),
    unit: 'pairs/s',
  });

  // translations with a warm IOTLB: 256 mapped pages, each touched before timing
  results.push({
    name: 'translate (warm IOTLB)',
    median: rate(
      500000,
      () => {
        const s = createSystem();
        const dev = s.device('dev0');
        const dom = s.domainAlloc('unmanaged')!;
        s.attachDevice(dom, dev);
        s.map(dom, 0x10000000, 0x40000000, 0x100000, prot);
        for (let i = 0; i < 256; i++) s.translate(0x10, 0, 0x10000000 + i * 0x1000, 'read');
        return s;
      },
      (s: System, n: number) => {
        for (let i = 0; i < n; i++) s.translate(0x10, 0, 0x10000000 + (i & 255) * 0x1000 + 8, 'read');
      },
    ),
    unit: 'translations/s',
  });

  // fork of a system holding ~1000 live DMA mappings
  const forkSetup = () => {
    const s = createSystem();
    const dev = s.device('dev0');
    for (let i = 0; i < 1000; i++) {
      const a = s.dmaMap(dev, 0x40000000 + i * 0x1000, 0x1000, DMA_BIDIRECTIONAL, 'dma_map_single');
      s.dmaMappingError(dev, a);
    }
    s.drainEvents();
    return { s, dev };
  };
  const forkUs = (n: number) => 1e6 / n;
  results.push({
    name: 'fork (1000 live mappings)',
    median: forkUs(
      rate(20000, forkSetup, ({ s }: { s: System }, n: number) => {
        for (let i = 0; i < n; i++) s.fork();
      }),
    ),
    unit: 'us',
  });
  results.push({
    name: 'fork + dma_map_single in the fork',
    median: forkUs(
      rate(5000, forkSetup, ({ s, dev }: { s: System; dev: number }, n: number) => {
        for (let i = 0; i < n; i++) {
          const f = s.fork();
          f.dmaMap(dev, 0x50000000, 0x1000, DMA_BIDIRECTIONAL, 'dma_map_single');
        }
      }),
    ),
    unit: 'us',
  });
  return results;
}
