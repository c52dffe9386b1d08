/**
 * unreleased-at-remove: a resource a driver's probe (or ndo_open, or file open) acquires and, when
 * it succeeds, leaves in a field of the driver's object (through platform_set_drvdata(),
 * pci_set_drvdata(), netdev_priv()... or any struct the caller reaches), that no teardown of the
 * driver releases: the remove (ndo_stop, release) function the same initialiser installs, and the
 * file's functions it reaches (engine/driver-structure.ts). At unbind DMA-API debug prints
 * "device driver has pending DMA allocations while released from device"
 * (kernel/dma/debug.c dma_debug_device_change()). Reported at the acquiring call.
 *
 * Not reported: a file without a teardown for the entry point (it may be in another file);
 * devres (dmam_*, devm_*: not resources); a resource also given to a callee that keeps it (a
 * framework registration); a field whose name some release of the same kind in the teardown
 * closure names (also through a local copy or a helper's parameter), or a kind the closure releases
 * by a handle it cannot name; a teardown that hands the object to a function of another file that
 * may release it; IOMMU mappings (they live in their domain).
 */
import { KIND_NAME } from '../model/api';
import type { Finding, Range } from '../engine/types';
import type { TeardownInfo } from '../engine/driver-structure';
import { lastMember } from '../engine/driver-structure';
import { key, pretty } from '../exec/value';
import { holds } from '../exec/ownership';
import { CheckContext, finding, siteRange } from './common';

/** Kinds DMA-API debug tracks per device (dma_debug_device_change() counts them at unbind). */
const DEBUG_TRACKED = new Set(['coherent', 'dma-mapping', 'dma-sg', 'dma-sgtable']);

const VERB: Record<string, string> = {
  'coherent': 'dma_free_coherent()', 'dma-mapping': 'dma_unmap_single()/dma_unmap_page()', 'dma-sg': 'dma_unmap_sg()',
  'dma-sgtable': 'dma_unmap_sgtable()', 'pool-block': 'dma_pool_free()', 'pages': '__free_pages()', 'iova': '__free_iova()',
  'iova-fast': 'free_iova_fast()', 'domain': 'iommu_domain_free()', 'attachment': 'iommu_detach_device()',
  'pinned-pages': 'unpin_user_pages()', 'dma-iova': 'iommu_dma_free_iova()',
};

/**
 * `via`: the function is a helper an entry point calls (`foo_alloc_rings(priv)` in foo_probe()),
 * checked against that entry point's teardown; what the entry point (and what it reaches)
 * releases itself is not reported, nor what the helper leaves on a path that fails.
 */
export function checkUnreleasedAtRemove(ctx: CheckContext, td: TeardownInfo,
  via?: { entry: string; released: Map<string, Set<string> | '*'> }): Finding[] {
  if (td.opaque) return [];
  const out: Finding[] = [];
  const done = new Set<number>();
  const open = td.entryField !== 'probe';
  ctx.exploration.paths.forEach((p, i) => {
    // A path that succeeds, or may (`rc = register_netdev(dev); if (rc < 0) goto err; ...
    // return rc;`: not known to be 0, but nothing failed on it).
    if (p.exit.failure === true || (p.exit.failure === undefined && p.state.failed) || p.state.warned) return;
    if (p.exit.text.startsWith('path cut')) return;
    for (const r of p.state.resources) {
      if (r.state !== 'live' || done.has(r.site.at)) continue;
      if (r.kind === 'iommu-mapping' || r.ownedByContainer || r.leaksOnlyOnFailure) continue;
      if (!r.escaped?.startsWith('stored in ') || !(r.via === 'field' || r.via === 'object' || r.via === 'global')) continue;
      if (r.alsoKeptBy) continue;
      const rel = td.released.get(r.kind);
      if (rel === '*') continue;
      // Every field that holds one of its handles at this exit (the CPU pointer and the bus address).
      const fields = new Map<string, string>();
      for (const [path, v] of p.state.mem) {
        if (path.startsWith('local:')) continue;
        const k = key(v);
        if (!r.handles.some((h) => holds(k, h))) continue;
        const f = lastMember(path.replace(/\+0/g, ''));
        if (f && !fields.has(f)) fields.set(f, path);
      }
      const stored = r.escaped.slice('stored in '.length);
      const f0 = lastMember(stored.replace(/\+0/g, ''));
      if (f0 && !fields.has(f0)) fields.set(f0, stored);
      if (fields.size === 0) continue;
      if (rel && [...fields.keys()].some((f) => rel.has(f))) continue;
      if (via) {
        const own = via.released.get(r.kind);
        if (own === '*' || (own && [...fields.keys()].some((f) => own.has(f)))) continue;
        // Only what the helper stores in its parameters' objects (the entry point's object).
        if (r.via !== 'field') continue;
      }
      // An open that allocates only the first time (`if (!np->queue_mem) np->queue_mem =
      // dma_alloc_coherent(...)`) keeps it across stop/open: remove frees it, not stop.
      if (open && lazily(ctx, r.site.at, [...fields.keys()])) continue;
      done.add(r.site.at);
      // `devm_kzalloc()->ring[0].desc` -> `->ring[0].desc` of the driver's object.
      const pr = pretty(stored);
      const cut = /->|\./.exec(pr.replace(/\([^()]*\)/g, (m) => ' '.repeat(m.length)));
      const where = cut ? `\`${pr.slice(cut.index + (cut[0] === '->' ? 2 : 1))}\`` : `\`${pr}\``;
      const names = [...fields.keys()].map((f) => `\`${f}\``).join(' / ');
      const tds = td.functions.filter((f) => td.roots.includes(f));
      const more = td.functions.length - tds.length;
      const teardown = `${tds.map((f) => `${f}()`).join(', ')}${more ? ` (and the ${more} function${more > 1 ? 's' : ''} of the file it reaches)` : ''}`;
      const what = KIND_NAME[r.kind];
      const consequence = open
        ? `each stop and open again leaks one (the next ${ctx.fn}() allocates a new one over it)`
        : DEBUG_TRACKED.has(r.kind)
        ? `at unbind DMA-API debug reports "device driver has pending DMA allocations while released from device"`
        : `it is leaked at every unbind`;
      const by = via ? ` (called by ${via.entry}())` : '';
      const msg = `the ${what} from ${r.api}() at line ${r.site.line + 1} is stored in ${where} when ${ctx.fn}()${by} succeeds, `
        + `and no teardown of the driver releases it: ${teardown} never ${VERB[r.kind] ? `calls ${VERB[r.kind]} on` : 'releases'} ${names}; `
        + `${consequence}; release it in ${tds[0]}() (or allocate it with the devres variant)`;
      const related: Finding['related'] = [{ range: siteRange(r.site), message: `stored in ${names}` }];
      for (const f of td.functions) {
        const l = td.lines.get(f);
        if (!l) continue;
        const range: Range = { start: { line: l.line, character: l.col }, end: { line: l.line, character: l.col + l.len } };
        related.push({ range, message: `${f}() read: it releases no ${names}` });
        if (related.length >= 6) break;
      }
      out.push(finding('unreleased-at-remove', 'warning', ctx, siteRange(r.site), msg, related, i));
    }
  });
  return out;
}

/** Whether the acquisition at `at` is under a test that the field is still unset (`if (!p->buf)`, `if (p->buf == NULL)`). */
function lazily(ctx: CheckContext, at: number, fields: string[]): boolean {
  const n = ctx.node;
  if (!n || at < n.startIndex || at > n.endIndex) return false;
  const before = n.text.slice(0, at - n.startIndex);
  return fields.some((f) => new RegExp(`\\bif\\s*\\(\\s*(!\\s*[\\w>.\\[\\]-]*\\b${f}\\s*\\)|[\\w>.\\[\\]-]*\\b${f}\\s*==\\s*(NULL|0)\\s*\\))`).test(before));
}
