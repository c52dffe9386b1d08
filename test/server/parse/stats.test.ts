import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseC } from '../../../server/src/parse/parser';
import { findApiCallSites, parseStats, countErrorNodes } from '../../../server/src/parse/stats';
import { scanRegions, codeOnly } from '../../../server/src/parse/lex';

test('lex: comments, literals and directives (with continuations) are found', () => {
  const text = '#define A(x) \\\n\tfoo(x)\nint a = 1; /* c */ // d\nchar *s = "a\\"b", c = \'"\';\n  # if X\n';
  const kinds = scanRegions(text).map((r) => [r.kind, text.slice(r.start, r.end)]);
  assert.deepEqual(kinds, [
    ['directive', '#define A(x) \\\n\tfoo(x)'], ['comment', '/* c */'], ['comment', '// d'],
    ['string', '"a\\"b"'], ['string', '\'"\''], ['directive', '# if X'],
  ]);
  const code = codeOnly(text);
  assert.equal(code.length, text.length);
  assert.doesNotMatch(code, /foo|"|\/\*/);
});

test('findApiCallSites: calls only, not declarations, comments, strings or macro bodies', () => {
  const text = 'struct iova *alloc_iova(struct iova_domain *d);\n#define M dma_map_single(a)\n' +
    'int f(void)\n{\n\t/* iommu_map( */ x = iommu_map (d, 0, 0, 1, 0);\n\tpr_err("free_pages(");\n' +
    '\treturn dma_mapping_error(dev, a) ? 0 : __free_pages(p, 0), ops->alloc_iova(x);\n}\n';
  assert.deepEqual(findApiCallSites(text).map((s) => s.name), ['iommu_map', 'dma_mapping_error', '__free_pages']);
});

test('parseStats: calls lost to errors, with and without the sanitizer', () => {
  const text = 'static int f(struct device *dev)\n{\n\tstruct foo *p = container_of(dev, struct foo, dev);\n' +
    '\tdma_addr_t a = dma_map_single(dev, p->buf, sizeof_field(struct foo, buf), DMA_TO_DEVICE);\n' +
    '\tlist_for_each_entry(e, &p->list, node)\n\t\tdma_unmap_single(dev, e->a, e->n, DMA_TO_DEVICE);\n\treturn 0;\n}\n';
  const raw = parseStats(parseC(text, undefined, { sanitize: false }), text);
  assert.equal(raw.apiCalls, 2);
  assert.equal(raw.apiFunctions, 1);
  assert.equal(raw.apiFunctionsWithErrors, 1);
  assert.equal(raw.damagedStatement, 1); // dma_map_single: its declaration holds an ERROR
  assert.equal(raw.damagedLoop, 1); // dma_unmap_single: in the loop macro's body
  const clean = parseStats(parseC(text), text);
  assert.equal(clean.damagedStatement + clean.lostInError + clean.lostNotCall + clean.lostNoFunction, 0);
  assert.equal(clean.apiFunctionsWithErrors, 1); // the loop macro's MISSING `;` remains...
  assert.equal(clean.apiFunctionsWithOtherErrors, 0); // ...and is all there is
});

test('countErrorNodes: the MISSING `;` after a loop macro can be left out', () => {
  const text = 'int f(void)\n{\n\tfor_each_sg(sgl, sg, n, i) {\n\t\tx++;\n\t}\n\treturn 0;\n}\n';
  const root = parseC(text).rootNode;
  assert.equal(countErrorNodes(root), 1);
  assert.equal(countErrorNodes(root, true), 0);
});
