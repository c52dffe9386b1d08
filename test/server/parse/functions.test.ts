import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseC } from '../../../server/src/parse/parser';
import { listFunctions, findDefines, FunctionInfo } from '../../../server/src/parse/functions';
import { API_NAMES, isApiName } from '../../../server/src/parse/api-names';
import { allocateTrashBuffer, tegraDrmAlloc, pvaDmaAllocAndMapAt } from './seed-snippets';

function fns(text: string): FunctionInfo[] {
  return listFunctions(parseC(text), text);
}

/** 0-based line and column of the first `needle` in `text`. */
function pos(text: string, needle: string, from = 0): { line: number; character: number } {
  const at = text.indexOf(needle, from);
  assert.ok(at >= 0, needle);
  const before = text.slice(0, at);
  return { line: before.split('\n').length - 1, character: at - (before.lastIndexOf('\n') + 1) };
}

test('listFunctions: allocate_trash_buffer (ipu6-mmu.c)', () => {
  const text = '/* ipu6 */\n\n' + allocateTrashBuffer;
  const [f, ...rest] = fns(text);
  assert.equal(rest.length, 0);
  assert.equal(f.name, 'allocate_trash_buffer');
  assert.equal(f.isStatic, true);
  assert.equal(f.returnsPointer, false);
  assert.equal(f.returnType, 'int');
  assert.deepEqual(f.params, [{ name: 'mmu', type: 'struct ipu6_mmu *' }]);
  assert.deepEqual(f.apiCalls, ['alloc_iova', 'dma_map_page', 'dma_mapping_error', 'dma_unmap_page', '__free_iova']);
  const head = 'static int allocate_trash_buffer';
  const start = pos(text, head);
  assert.deepEqual(f.range.start, start);
  assert.deepEqual(f.nameRange.start, pos(text, 'allocate_trash_buffer', text.indexOf(head)));
  assert.deepEqual(f.nameRange.end, { line: start.line, character: head.length });
  assert.equal(f.startIndex, text.indexOf(head));
  assert.equal(f.endIndex, text.indexOf('\n}', f.startIndex) + 2);
  assert.equal(f.node.type, 'function_definition');
  assert.equal(f.node.text, text.slice(f.startIndex, f.endIndex));
});

test('listFunctions: tegra_drm_alloc returns a pointer', () => {
  const [f] = fns(tegraDrmAlloc);
  assert.equal(f.name, 'tegra_drm_alloc');
  assert.equal(f.isStatic, false);
  assert.equal(f.returnsPointer, true);
  assert.equal(f.returnType, 'void *');
  assert.deepEqual(f.params, [
    { name: 'tegra', type: 'struct tegra_drm *' },
    { name: 'size', type: 'size_t' },
    { name: 'dma', type: 'dma_addr_t *' },
  ]);
  assert.deepEqual(f.apiCalls, ['__get_free_pages', 'alloc_iova', 'iommu_map', '__free_iova', 'free_pages']);
});

test('listFunctions: pva_dma_alloc_and_map_at (a comment before it, parameters over lines)', () => {
  const [f] = fns(pvaDmaAllocAndMapAt);
  assert.equal(f.name, 'pva_dma_alloc_and_map_at');
  assert.equal(f.isStatic, true);
  assert.equal(f.returnsPointer, true);
  assert.deepEqual(f.params.map((p) => p.name), ['dev', 'size', 'iova', 'flags', 'attrs']);
  assert.equal(f.params[4].type, 'unsigned long');
  assert.deepEqual(f.apiCalls, [
    'iommu_dma_alloc_iova', 'dma_alloc_attrs', 'iommu_map', 'iommu_unmap', 'iommu_dma_free_iova',
    'iommu_unmap', 'dma_free_attrs', 'iommu_dma_free_iova',
  ]);
});

test('listFunctions: several functions, in order, with kernel annotations and no API use', () => {
  const text = [
    'static int __init ring_init(void)\n{\n\treturn 0;\n}\n',
    'static void ring_done(struct ring *r)\n__releases(r->lock)\n{\n\tdma_unmap_single(r->dev, r->dma, r->len, DMA_TO_DEVICE);\n}\n',
    'int (*hook)(void);\n',
    'static inline struct ring *to_ring(struct device *dev, int (*cb)(int), const char name[], ...)\n{\n\treturn container_of(dev, struct ring, dev);\n}\n',
  ].join('\n');
  const list = fns(text);
  assert.deepEqual(list.map((f) => f.name), ['ring_init', 'ring_done', 'to_ring']);
  assert.deepEqual(list[0].params, []);
  assert.deepEqual(list[0].apiCalls, []);
  assert.deepEqual(list[1].apiCalls, ['dma_unmap_single']);
  assert.deepEqual(list[2].params, [
    { name: 'dev', type: 'struct device *' },
    { name: 'cb', type: 'int (*)(int)' },
    { name: 'name', type: 'const char[]' },
    { name: '...', type: '...' },
  ]);
  assert.equal(list[2].returnsPointer, true);
});

test('listFunctions: calls in a comment, a string or a macro body are not API calls', () => {
  const text = '#define MAP(d) dma_map_single(d, 0, 0, 0)\nint f(void)\n{\n\t/* dma_unmap_single(a) */\n' +
    '\tpr_info("dma_map_page(x)");\n\treturn ops->dma_map_sg(d);\n}\n';
  const [f] = fns(text);
  assert.deepEqual(f.apiCalls, []);
});

test('listFunctions: an empty or broken text gives what it can', () => {
  assert.deepEqual(fns(''), []);
  const list = fns('int f(void)\n{\n\tx = dma_map_page(d, p, 0, n, DIR);\n\tif (\n}\nint g(void) { return 0; }\n');
  assert.ok(list.some((f) => f.name === 'f'));
});

test('listFunctions: a 3,000-line file lists quickly', () => {
  const one = allocateTrashBuffer.replace('allocate_trash_buffer', 'fn_N');
  const text = Array.from({ length: 60 }, (_, i) => one.replace('fn_N', `fn_${i}`)).join('\n');
  assert.ok(text.split('\n').length >= 3000);
  const tree = parseC(text);
  const t0 = performance.now();
  const list = listFunctions(tree, text);
  const ms = performance.now() - t0;
  assert.equal(list.length, 60);
  assert.equal(list[59].apiCalls.length, 5);
  assert.ok(ms < 100, `took ${ms.toFixed(1)} ms`);
});

test('findDefines: object-like defines, first one wins, comments and continuations removed', () => {
  const text = '#define RING_SIZE 256 /* entries */\n#define TRASH  (SZ_8M)\n#define MAX(a, b) ((a) > (b) ? (a) : (b))\n' +
    '#define EMPTY\n#define LONG 1 + \\\n\t2 // two\n#ifdef X\n#define MODE 1\n#else\n#define MODE 2\n#endif\n' +
    'int f(void)\n{\n#define LOCAL 7\n\treturn LOCAL;\n}\n';
  const d = findDefines(parseC(text), text);
  assert.deepEqual([...d.entries()], [
    ['RING_SIZE', '256'], ['TRASH', '(SZ_8M)'], ['LONG', '1 + 2'], ['MODE', '1'], ['LOCAL', '7'],
  ]);
});

test('api-names: the brief\'s names are all there, no duplicates', () => {
  for (const n of ['dma_map_single', 'dma_map_page', 'dma_map_sg', 'dma_map_sgtable', 'dma_map_resource',
    'skb_frag_dma_map', 'dma_unmap_single', 'dma_unmap_page', 'dma_unmap_sg', 'dma_unmap_sgtable',
    'dma_unmap_resource', 'dma_alloc_coherent', 'dma_alloc_attrs', 'dma_free_coherent', 'dma_free_attrs',
    'dmam_alloc_coherent', 'dma_pool_alloc', 'dma_pool_zalloc', 'dma_pool_free', 'dma_mapping_error',
    'alloc_iova', 'alloc_iova_fast', 'reserve_iova', '__free_iova', 'free_iova', 'free_iova_fast', 'iommu_map',
    'iommu_unmap', 'iommu_domain_alloc', 'iommu_paging_domain_alloc', 'iommu_attach_device',
    'iommu_detach_device', 'iommu_domain_free', 'iommu_dma_alloc_iova', 'iommu_dma_free_iova',
    '__get_free_pages', 'free_pages', 'alloc_pages', '__free_pages']) {
    assert.ok(isApiName(n), n);
  }
  assert.equal(new Set(API_NAMES).size, API_NAMES.length);
});
