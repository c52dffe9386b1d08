import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sanitize, SANITIZE_RULES } from '../../../server/src/parse/sanitize';
import { parseC, SyntaxNode } from '../../../server/src/parse/parser';
import { loopMacroCall } from '../../../server/src/parse/loops';
import { allocateTrashBuffer, tegraDrmAlloc, pvaDmaAllocAndMapAt } from './seed-snippets';

/** Same length, a line break exactly where the original has one. */
function assertShape(original: string, out: string): void {
  assert.equal(out.length, original.length, 'same length');
  for (let i = 0; i < original.length; i++) {
    const a = original[i] === '\n' || original[i] === '\r';
    const b = out[i] === '\n' || out[i] === '\r';
    if (a !== b) assert.fail(`line break moved at offset ${i}`);
    if (a) assert.equal(out[i], original[i]);
  }
}

function errors(root: SyntaxNode): string[] {
  const out: string[] = [];
  const walk = (n: SyntaxNode) => {
    if (!n.hasError) return;
    if (n.type === 'ERROR' || n.isMissing) out.push(`${n.isMissing ? 'MISSING' : 'ERROR'}@${n.startPosition.row + 1}:${n.startPosition.column + 1}`);
    for (const c of n.children) walk(c);
  };
  walk(root);
  return out;
}

const wrap = (body: string) => `static int f(struct device *dev)\n{\n${body}\n\treturn 0;\n}\n`;

/** Each construct: it breaks tree-sitter-c as written and parses cleanly after sanitizing. */
const CONSTRUCTS: Record<string, string> = {
  'annotation in a declaration': wrap('\tstruct device_reg __iomem *reg = ha->iobase;\n\tvoid __user *argp = (void __user *)arg;'),
  'annotation on a definition': 'static int __init probe_dma(struct device *dev)\n{\n\treturn 0;\n}\n',
  'lock annotations after the declarator':
    'static void done(struct ep *ep)\n__releases(ep->lock)\n__acquires(ep->lock)\n{\n\tdma_unmap_single(dev, a, n, DMA_TO_DEVICE);\n}\n',
  '__aligned(n) on a local': wrap('\tu8 addr[ETH_ALEN] __aligned(2);'),
  'container_of with a struct type': wrap('\tstruct foo *f = container_of(p, struct foo, member);'),
  'list_first_entry with a struct type': wrap('\tstruct bar *b = list_first_entry(&head, struct bar,\n\t\t\t\t\t    list);'),
  'min_t with a keyword type': wrap('\tn = min_t(unsigned int, a, b) + max_t(size_t, c, d);'),
  'sizeof_field and offsetofend': wrap('\tn = sizeof_field(struct foo, m) + offsetofend(struct foo, m);'),
  '#ifdef with unbalanced braces in a body': wrap('#ifdef CONFIG_X\n\tif (a) {\n#else\n\tif (b) {\n#endif\n\t\tx = 1;\n\t}'),
  '#if 0 keeps the #else branch': wrap('#if 0\n\tif (a) {\n#else\n\tif (b) {\n#endif\n\t\tx = 1;\n\t}'),
  'nested #if groups in a body': wrap('#ifdef A\n#ifdef B\n\tif (a) {\n#else\n\tif (b) {\n#endif\n#else\n\twhile (c) {\n#endif\n\t\tx = 1;\n\t}'),
  'two macros before a string': wrap('\tprintk(KERN_ERR PFX "unable to allocate %d\\n", n);'),
  'a macro call pasted into a string': wrap('\tprint_hex_dump_debug("jobdesc@"__stringify(__LINE__)": ", n);'),
  'double-parenthesised debug print': wrap('\tdlprintk((KERN_INFO MYNAM ": mpt_lan_close called\\n"));'),
  'token-pasting argument': wrap('\tif (tg3_flag(tp, 5701_DMA_BUG))\n\t\tx = 1;'),
  'scoped_guard block': wrap('\tscoped_guard(spinlock_irqsave, &q->lock) {\n\t\tx = 2;\n\t}'),
  'loop macro whose body starts with ident->': wrap('\tlist_for_each_entry(skb, &rx_list, list)\n\t\tskb->protocol = eth_type_trans(skb, ndev);'),
  'loop macro whose body starts with ident[': wrap('\tfor_each_sgt_page(page, sgt_iter, st)\n\t\tpages[i++] = page;'),
  'offsetof with a member path': wrap('\tx = dma + offsetof(struct ipr_cmnd, i.ioadl64);'),
  'statement inside a macro argument': wrap('\tIF_ERR(printk("bad packet");)\n\tx = 1;'),
};

for (const [name, src] of Object.entries(CONSTRUCTS)) {
  test(`sanitize: ${name}`, () => {
    assert.notDeepEqual(errors(parseC(src, undefined, { sanitize: false }).rootNode), [], 'breaks tree-sitter as written');
    const out = sanitize(src);
    assertShape(src, out);
    assert.deepEqual(errors(parseC(src).rootNode), []);
  });
}

test('sanitize: a clean file comes back byte-identical', () => {
  for (const src of [allocateTrashBuffer, tegraDrmAlloc, pvaDmaAllocAndMapAt,
    '#include <linux/dma-mapping.h>\n#define RING 16 /* entries */\n\nstatic int x = sizeof(struct foo);\n' +
    '#ifdef CONFIG_PM\nstatic int suspend(struct device *d) { return 0; }\n#else\n#define suspend NULL\n#endif\n' +
    'int g(void)\n{\n\tconst char *s = DRV_NAME ": " "x";\n\tfor (;;)\n\t\tbreak;\n\treturn (int)sizeof(struct foo *);\n}\n']) {
    assert.equal(sanitize(src), src);
  }
});

test('sanitize: every rule keeps the shape on a mixed file', () => {
  const src = Object.values(CONSTRUCTS).join('\r\n/* ü 😀 */\n');
  for (const r of SANITIZE_RULES) assertShape(src, sanitize(src, new Set([r])));
  assertShape(src, sanitize(src));
});

test('sanitize: comments and strings are left alone', () => {
  const src = wrap('\t/* container_of(p, struct foo, m) __iomem */\n\ts = "KERN_ERR PFX __user";\n\t// #ifdef X {');
  assert.equal(sanitize(src), src);
});

test('sanitize: #if groups at file scope are left to tree-sitter', () => {
  const src = '#ifdef CONFIG_PM\nstatic int s(void)\n{\n\treturn dma_map_single(d, p, n, 0);\n}\n#else\nstatic int s(void)\n{\n\treturn 0;\n}\n#endif\n';
  assert.equal(sanitize(src), src);
});

test('sanitize: an unterminated #else in a body (while typing) blanks to the end', () => {
  const src = 'int f(void)\n{\n#ifdef A\n\tx = 1;\n#else\n\tx = 2;\n}\n';
  const out = sanitize(src);
  assertShape(src, out);
  assert.match(out, /x = 1;/);
  assert.doesNotMatch(out, /x = 2;/);
});

test('parseC: positions are those of the original text, node.text is the original', () => {
  const src = '// ü😀 non-ASCII before the function\n' + wrap(
    '\tstruct foo *f = container_of(p, struct foo, member);\n\tdma_addr_t a = dma_map_single(dev, f, sizeof(*f), DMA_TO_DEVICE);');
  const tree = parseC(src);
  const at = src.indexOf('dma_map_single');
  const node = tree.rootNode.descendantForIndex(at, at + 'dma_map_single'.length);
  assert.equal(node.type, 'identifier');
  assert.equal(node.text, 'dma_map_single');
  assert.equal(node.parent?.type, 'call_expression');
  const line = src.slice(0, at).split('\n').length - 1;
  assert.equal(node.startPosition.row, line);
  assert.equal(node.startPosition.column, at - (src.lastIndexOf('\n', at - 1) + 1));
  const arg = tree.rootNode.descendantForIndex(src.indexOf('struct foo, member'));
  assert.equal(arg.text, 'struct foo'); // the sanitized `struct_foo`, read from the original
});

test('parseC: an incremental re-parse sees rewrites away from the edit', () => {
  // Typing the `#endif` changes how the lines above it are blanked.
  const before = 'int f(void)\n{\n#ifdef A\n\tif (a) {\n#else\n\tif (b) {\n#\n\t\tdma_unmap_page(d, x, n, 0);\n\t}\n\treturn 0;\n}\n';
  const after = before.replace('#\n', '#endif\n');
  const at = before.indexOf('#\n') + 1;
  const old = parseC(before);
  old.edit({
    startIndex: at, oldEndIndex: at, newEndIndex: at + 5,
    startPosition: { row: 6, column: 1 }, oldEndPosition: { row: 6, column: 1 }, newEndPosition: { row: 6, column: 6 },
  });
  const incremental = parseC(after, old);
  assert.equal(incremental.rootNode.toString(), parseC(after).rootNode.toString());
  assert.deepEqual(errors(incremental.rootNode), []);
});

test('parseC: sanitize: false parses the text as it is', () => {
  const src = wrap('\tstruct device_reg __iomem *reg = ha->iobase;');
  assert.notDeepEqual(errors(parseC(src, undefined, { sanitize: false }).rootNode), []);
  assert.deepEqual(errors(parseC(src).rootNode), []);
});

test('loop macros: both shapes are recognised as loop heads', () => {
  const src = wrap('\tfor_each_sg(sgl, sg, n, i) {\n\t\tx++;\n\t}\n\tlist_for_each_entry(e, &h, node)\n\t\te->a = 0;\n' +
    '\tskb_queue_walk(&q, skb)\n\t\tkfree(skb);\n\tfor_each_thing(x);\n\ty = 1;');
  const body = parseC(src).rootNode.descendantsOfType('compound_statement')[0];
  const heads = body.namedChildren.map((n) => loopMacroCall(n)?.childForFieldName('function')?.text).filter(Boolean);
  assert.deepEqual(heads, ['for_each_sg', 'list_for_each_entry', 'skb_queue_walk']);
});
