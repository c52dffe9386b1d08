/**
 * `iommu-lens run` on each driver function of the seeds (shared/seeds/, transcribed under
 * test/server/fixtures/seeds/): the trace a kernel developer would recognise, call by call,
 * and the state at the end (domains, the device's stream, its IOMMU group as sysfs shows it,
 * GERROR). Runs the bundled CLI, as a user would.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(ROOT, 'bin/iommu-lens.js');
const SEEDS = 'test/server/fixtures/seeds';

function run(target: string, extra: string[] = []): string {
  const r = spawnSync(process.execPath, [CLI, 'run', ...extra, `${SEEDS}/${target}`], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
  assert.ok(r.status === 0 || r.status === 1, `${target}: exit ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** The lines of a trace, matched in order (other lines may come between). */
function inOrder(out: string, res: RegExp[], label: string): void {
  const lines = out.split('\n');
  let i = 0;
  for (const re of res) {
    while (i < lines.length && !re.test(lines[i])) i++;
    assert.ok(i < lines.length, `${label}: no line matching ${re} (in order) in\n${out}`);
    i++;
  }
}

test('allocate_trash_buffer (seed 000, ipu6): alloc_iova, dma_map_page, the trash-page loop, then the unwind on a failing map', () => {
  const cfg = ['--config', `${SEEDS}/allocate_trash_buffer.iommu-lens.json`];
  const ok = run('allocate_trash_buffer.c', cfg);
  inOrder(ok, [
    /^== .*allocate_trash_buffer\(\) — all calls succeed/,
    /^line \d+: alloc_iova\(.*\) -> iova \[pfn 0x[0-9a-f]+\.\.0x[0-9a-f]+\]/,
    /^ {4}\[iova-alloc\] alloc_iova\(iovad\d+, 2048, /,
    /^line \d+: dma_map_page\(.*\) -> dma 0x[0-9a-f]+/,
    /^line \d+: ipu6_mmu_map\(.*\) -> 0/,
    /^ {4}\[pte-write\] page L3/,
    /^exit: .*\(success\)/,
    /^state at the end:/,
    /^ {4}\/sys\/kernel\/iommu_groups\/0 \(type DMA\)/,
    /^ {10}0x0000000008000000 0x00000000080fffff msi$/,
  ], 'success');
  // the third fallible call (the first ipu6_mmu_map) fails: the unwind runs as the seed writes it
  const fail = run('allocate_trash_buffer.c', [...cfg, '--fail', '2']);
  inOrder(fail, [/injected failure/, /^line \d+: ipu6_mmu_unmap\(/, /^line \d+: dma_unmap_page\(/, /^line \d+: __free_iova\(/, /^exit: .*return ret/], 'failure');
});

test('tegra_drm_alloc (seed 000): __get_free_pages, alloc_iova, iommu_map into the driver\'s own domain', () => {
  const out = run('tegra_drm_alloc.c');
  inOrder(out, [
    /^line \d+: __get_free_pages\(.*\) -> pa 0x[0-9a-f]+ \(order 0\)/,
    /^line \d+: alloc_iova\(.*\) -> iova \[pfn 0xfffff\.\.0xfffff\]/,
    /^line \d+: iommu_map\(tegra->domain, 0xfffff000, .*\) -> 0/,
    /^ {4}\[iommu-map\] iommu_map\(domain \d+, 0xfffff000 -> 0x[0-9a-f]+, size 0x1000, prot 0x3\)/,
    /^ {4}domain #\d+ unmanaged, stage 1, asid \d+: 1 leaf entry/,
    /^ {8}0xfffff000\+4K -> 0x[0-9a-f]+ page rwx/,
  ], 'tegra');
});

test('the fixed-IOVA loop (seed 000 test1 / 003): VBASE + j * PAGE_SIZE into the module\'s own domain', () => {
  const out = run('iommu_map_fixed_loop.c:iommu_test_map_own');
  inOrder(out, [
    /^line \d+: iommu_domain_alloc\(&pci_bus_type\) -> unmanaged domain #\d+/,
    /^line \d+: iommu_attach_device\(.*\) -> 0/,
    /^ {4}\[attach\] group \d+ attached to domain \d+ \(unmanaged\)/,
    /^line \d+: iommu_map\(.*, 0x50100000, .*\) -> 0/,
    /^line \d+: iommu_map\(.*, 0x50101000, .*\) -> 0/,
    /^ {8}0x50100000\+4K -> 0x[0-9a-f]+ page r-x/,
    // seed 003: the group and its reserved_regions as `cat .../reserved_regions` prints them
    /^ {4}\/sys\/kernel\/iommu_groups\/1 \(type DMA\): &t->pdev->dev/,
    /^ {10}0x0000000008000000 0x00000000080fffff msi$/,
  ], 'own domain');
  // into the default DMA domain the same loop is unreserved-iova
  const def = run('iommu_map_fixed_loop.c:iommu_test_map_default');
  assert.match(def, /finding: line \d+: .*\[unreserved-iova\]/);
});

test('pva_dma_alloc_and_map_at (seed 000): iommu_dma_alloc_iova at a chosen IOVA, and the leak when it lands elsewhere', () => {
  const out = run('pva_dma_alloc_and_map_at.c');
  inOrder(out, [
    /^line \d+: iommu_dma_alloc_iova\(.*\) -> iova 0x[0-9a-f]+/,
  ], 'pva');
  assert.match(out, /\[leak\]|exit:/);
});

test('vfio_pin_map_dma (seed 000 "iova 地址分配"): pin a chunk of user pages, clean under check', () => {
  const out = run('vfio_pin_map_dma.c:vfio_pin_map_dma');
  // Chunk by chunk: pin, then map the chunk into every domain of the container (the helper's body read).
  inOrder(out, [/^== .*vfio_pin_map_dma\(\) — all calls succeed/, /^line 61: vfio_pin_pages_remote\(dma, .*&pfn, /,
    // the pfn is the one the pin wrote through &pfn, not an uninitialised local
    /^line 71: vfio_iommu_map\(iommu, dma->iova \+ dma->size, vfio_pin_pages_remote:out, .*\) -> 0 \(a helper of this file: releases IOMMU mapping on some paths/,
    /^line 61: vfio_pin_pages_remote\(/, /^line 71: vfio_iommu_map\(/, /^exit: /], 'vfio');
  assert.doesNotMatch(out, /^finding:/m);
  // A chunk that fails to map: its pins are undone, and vfio_remove_dma() undoes the chunks before it.
  const failed = run('vfio_pin_map_dma.c:vfio_pin_map_dma', ['--fail', '1']);
  inOrder(failed, [/vfio_iommu_map\(\) at line 71 fails/, /^line 71: vfio_iommu_map\(.*\) -> -errno \(injected failure\)/,
    /^line 74: vfio_unpin_pages_remote\(/, /^line 88: vfio_remove_dma\(iommu, dma\)/, /^exit: leaves at line 90: return ret; \(failure\)/], 'vfio --fail 1');
  assert.doesNotMatch(failed, /^finding:/m);
  const helper = run('vfio_pin_map_dma.c:vfio_iommu_map');
  inOrder(helper, [/^line \d+: iommu_map\(iter:d->domain, iova, 4096\*pfn, 4096\*npage, .*\) -> 0/, /^ {4}\[iommu-map\] /], 'vfio_iommu_map');
  assert.doesNotMatch(helper, /unreserved-iova/, 'the container\'s own domain: no unreserved-iova');
});

test('the IOMMU_DOMAIN_DMA test module (seed 000): the module\'s own domain has no DMA cookie', () => {
  const out = run('iommu_domain_dma_test.c');
  inOrder(out, [
    /^line \d+: iommu_domain_alloc\(&pci_bus_type\) -> unmanaged domain #\d+/,
    /^line \d+: iommu_attach_device\(.*\) -> 0/,
    /^line \d+: iommu_dma_alloc_iova\(.*, 0x100000, 0xffffffff\) -> Oops \(NULL DMA cookie\)/,
    // The kernel's thread ends in the oops: the run stops there, as the seed's module did.
    /^exit: stops at line 40: kernel oops: iommu_dma_alloc_iova\(\) dereferences the NULL DMA cookie of the unmanaged domain$/,
    /^finding: line 40: .*\[no-dma-cookie\]$/,
  ], 'cookie');
  assert.doesNotMatch(out, /^line (4[1-9]|[5-9]\d):/m, 'nothing after the oops runs');
  assert.doesNotMatch(out, /missing-error-path/, 'an oopsing call is not an unchecked one');
});

test('smmu.mode: the same seed run in each boot mode', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iommu-lens-modes-'));
  try {
    const outs: Record<string, string> = {};
    for (const mode of ['translate', 'passthrough', 'bypass', 'no-smmu']) {
      const f = path.join(dir, `${mode}.json`);
      fs.writeFileSync(f, JSON.stringify({ smmu: { mode } }));
      outs[mode] = run('iommu_map_fixed_loop.c:iommu_test_map_own', ['--config', f]);
    }
    assert.match(outs['no-smmu'], /SMMU: none/);
    assert.match(outs.translate, /\(type DMA\)/);
    assert.match(outs.passthrough, /SMMU mode: iommu\.passthrough=1/);
    assert.match(outs.passthrough, /\(type identity\)/);
    assert.match(outs.bypass, /SMMU mode: arm-smmu-v3\.disable_bypass=0/);
    assert.match(outs['no-smmu'], /iommu_domain_alloc\(&pci_bus_type\) -> NULL/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
