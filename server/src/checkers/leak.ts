/**
 * leak: a resource acquired in the function (IOVA range, DMA mapping, coherent buffer, pool
 * block, pages, IOMMU mapping, domain, attachment) is neither released nor handed off on
 * some path that leaves the function. Reported at the acquiring call (shared/DESIGN.md §2).
 *
 * Handed off: stored where the caller can reach it, returned, or taken by a helper. A
 * resource handed off and then abandoned by a failing return is still a leak when the
 * function releases that resource on another failing path: the function has shown that it
 * owns the unwind. An IOMMU mapping lives in its domain and leaks only on a failing exit.
 * Mirrors DMA-API debug's "DMA-API: device driver has pending DMA allocations while
 * released from device" (kernel/dma/debug.c), found statically on every path.
 */
import { API, KIND_NAME, releasersFor } from '../model/api';
import type { SyntaxNode } from '../parse/parser';
import type { Finding } from '../engine/types';
import { key } from '../exec/value';
import { CheckContext, finding, lineRange, pathPhrase, siteRange } from './common';
import type { PathRecord } from '../exec/executor';
import { describe, holds, isFresh, memberChain, rootOf } from '../exec/ownership';
import type { Resource } from '../exec/state';

const VERB: Record<string, string> = {
  'iova': 'freed', 'iova-fast': 'freed', 'dma-iova': 'freed', 'dma-mapping': 'unmapped', 'dma-sg': 'unmapped',
  'dma-sgtable': 'unmapped', 'coherent': 'freed', 'pool-block': 'freed', 'pages': 'freed', 'domain': 'freed',
  'attachment': 'detached', 'iommu-mapping': 'unmapped', 'pinned-pages': 'unpinned',
};

/** What an unwind label's name says it releases, by kind: `err_unmap`, `free_desc`, `out_dealloc`. */
const UNMAP = /^(unmap\w*|dma_?unmap\w*|unmapping)$/;
const FREE = /^(free\w*|dealloc\w*|release\w*|put)$/;
const LABEL_VERB: Record<string, RegExp> = {
  'dma-mapping': UNMAP, 'dma-sg': UNMAP, 'dma-sgtable': UNMAP, 'iommu-mapping': UNMAP,
  'coherent': FREE, 'pool-block': FREE, 'pages': FREE, 'iova': FREE, 'iova-fast': FREE, 'dma-iova': FREE,
  'domain': FREE, 'attachment': /^detach\w*$/, 'pinned-pages': /^unpin\w*$/,
};
/** Words of a label that name no object: `err`, `out`, `fail`, `dma`, numbers, the kind itself (`err_free_coherent`). */
const LABEL_NOISE = /^(err\w*|out|fail\w*|error|exit|done|cleanup|undo|unwind|bail|abort|dma|buf|mem|memory|and|all|\d+|coherent|consistent|pages?|iova|mapping|map)$/;

/**
 * A release is the unwind of a failing path when it comes after the failure (one before it is a
 * retry: free, then allocate again); on a path that failed on a test of its own, any release is.
 */
function unwinding(p: PathRecord, r: Resource): boolean {
  return p.state.failSeq === undefined || (r.relSeq ?? 0) > p.state.failSeq;
}

/** What does not happen after an entry point fails: "probe nothing calls remove". */
function entryWhat(ctx: CheckContext): string {
  const e = typeof ctx.entryPoint === 'string' ? ctx.entryPoint : /open/.test(ctx.fn) ? 'open' : 'probe';
  if (/^(ndo_)?open$/.test(e)) return 'open nothing calls stop';
  if (e === 'probe') return 'probe nothing calls remove';
  return `${e} nothing undoes it`;
}

export function checkLeak(ctx: CheckContext): Finding[] {
  const paths = ctx.exploration.paths;
  // A failing exit: one whose value says so, or in a request handler (ndo_start_xmit, a SCSI
  // queuecommand, a crypto engine's do_one_request) a path where one of its calls failed and the
  // function gave up on the request: it drops the packet and says NETDEV_TX_OK, or asks for a
  // retry with a positive code; nothing unwinds the request for it.
  // Gave up: it leaves by a return that no run without a failure takes (a check that only stops
  // the queue, `if (tx_avail(lp) < 0) netif_stop_queue(dev);`, goes on to the usual return).
  const usualExits = new Set<number>();
  if (ctx.requestHandler) for (const p of paths) if (!p.state.failed && p.exit.failure !== true && !p.exit.text.startsWith('path cut')) usualExits.add(p.exit.line);
  const fails = (p: PathRecord): boolean => p.exit.failure === true
    || (!!ctx.requestHandler && !!p.state.failed && !p.exit.text.startsWith('path cut') && !usualExits.has(p.exit.line));
  const succeeds = (p: PathRecord): boolean => p.exit.failure === false && !fails(p);
  // The function owns the unwind of a resource (docs/ownership.md, "Failing exits") when
  // (1) some failing path releases that resource after it had been handed off, or
  // (2) the failing exit releases another resource that the function hands off on success:
  //     its unwind ladder undoes its outputs, so one it passes over is a leak, not the caller's.
  //     Only a release after this resource was acquired is an unwind: one before it is a retry
  //     (free, then allocate again) or the end of an earlier object's use.
  // Per acquisition (site and loop iteration): the put_page() of this iteration's page after its
  // mapping failed is not the unwind of the pages earlier iterations left in the ring.
  const unwound = new Set<string>();
  const keptOnSuccess = new Set<number>();
  for (const p of paths) {
    if (fails(p)) {
      for (const r of p.state.resources) if (r.state === 'released' && r.releasedAfterEscape && unwinding(p, r)) unwound.add(r.id);
    } else if (succeeds(p)) {
      for (const r of p.state.resources) if (r.state === 'live' && r.escaped) keptOnSuccess.add(r.site.at);
    }
  }
  const ladder = (p: PathRecord, r: Resource): Resource | undefined => p.state.resources.find((o) =>
    o !== r && o.site.at !== r.site.at && o.state === 'released' && o.releasedAfterEscape && (o.relSeq ?? 0) > r.seq
    && unwinding(p, o) && keptOnSuccess.has(o.site.at));
  // (3) after the failure, the path hands the object that holds it to a helper of the file
  //     (`err_free: bar_free_buf(p);`): that is its unwind, and the helper's body did not release it.
  const unwindHelper = (p: PathRecord, r: Resource): string | undefined => {
    const holder = r.escaped?.startsWith('stored in ') ? rootOf(r.escaped.slice(10)) : undefined;
    if (!holder) return undefined;
    const after = p.state.failSeq ?? r.seq;
    let i = 0;
    for (const e of p.state.events) {
      if (i++ >= after && e.k === 'helper-call' && e.detail?.label && (e.detail?.roots as string[]).includes(holder)) return e.site.api;
    }
    return undefined;
  };
  // A callee that the function releases the resource after, on some path, only used it
  // (mhi_fw_load_bhi(cntrl, dma, size); dma_free_coherent(...)): it keeps nothing on the others.
  // Only a release on an exit that does not fail says so: an unwind that unmaps after a failure
  // undoes a descriptor store as well (dpaa2_sg_set_addr(sgt, addr); ... err: dma_unmap_single()).
  const transient = new Map<string, 'released' | 'read'>();
  for (const p of paths) {
    const kept = p.state.kept.toArray();
    if (!kept.length) continue;
    if (!fails(p)) {
      for (const r of p.state.resources) {
        if (r.state !== 'released' || r.relSeq === undefined) continue;
        // Its own handles, not a loop's widened variable that every iteration's mapping shares
        // (mlx5e_xdp_xmit: the frame before pushed its frags to the fifo, this one unmaps its own).
        const own = r.handles.filter((h) => !h.includes('widened:'));
        for (const k of kept) if ((k.seq ?? 0) < r.relSeq && own.some((h) => holds(k.key, h))) transient.set(`${r.id}|${k.by}`, 'released');
      }
    }
    // A buffer the function reads back after a callee had it (`get_flash(ha, info_dma, ...);
    // memcpy(ha->mac, info->mac, 6)`): the callee filled it and returned; it kept nothing.
    for (const r of p.state.resources) {
      if (r.readAt === undefined) continue;
      for (const k of kept) if (k.at !== undefined && k.at < r.readAt && r.handles.some((h) => holds(k.key, h))) {
        if (!transient.has(`${r.id}|${k.by}`)) transient.set(`${r.id}|${k.by}`, 'read');
      }
    }
  }
  // Resources some path of each failure plan releases: a sibling path of the same plan that
  // does not is most likely infeasible (a condition we could not correlate), not a leak.
  const releasedInPlan = new Set<string>();
  const escapedInPlan = new Set<string>();
  for (const p of paths) {
    for (const r of p.state.resources) {
      const k = `${p.failAt}|${p.exit.line}|${p.exit.value ? key(p.exit.value) : ''}|${r.id}`;
      if (r.state !== 'live') releasedInPlan.add(k);
      else if (r.escaped) escapedInPlan.add(k);
    }
  }
  // What the file's callers do after this function fails: a caller whose cleanup releases this
  // kind of resource (directly or by a helper's summary) takes what was left in its structs;
  // (5) when every caller is read and none does, the function owns its unwind.
  const cc = ctx.callers;
  // A call failed on the path: an injected failure, or the NULL branch of a kernel allocator's
  // result (`if (!priv->ntfy_blocks) goto abort_with_irq_db_indices;` after kvzalloc()), which
  // the driver tests because it happens.
  const callFailedOn = (p: PathRecord): boolean => !!p.state.failed
    || [...p.state.facts].some(([k, f]) => f.zero === true && isFresh(k.replace(/\+0$/, '')));
  // Whether the fields that hold it on the path are ones the callers' cleanup names (`fs`):
  // 'named' when one is (any field counts: a coherent buffer is in `pdr` and `pdr_pa`), 'other'
  // when it is held only in fields the cleanup does not name, 'none' when no field holds it.
  const cleanupNames = (r: Resource, p: PathRecord, fs: Set<string>): 'named' | 'other' | 'none' => {
    let held = false;
    for (const [at, v] of p.state.mem) {
      if (at.startsWith('local:') || !r.handles.some((h) => holds(key(v), h))) continue;
      if (fieldNamed(at, fs)) return 'named';
      held = true;
    }
    return held ? 'other' : 'none';
  };
  // Of that kind, and (when the cleanup names the fields it releases) of this field: he_start()'s
  // cleanup frees rbpl_base, not the rbrq_base he_init_group() left.
  const callerReleases = (r: Resource, cur: PathRecord) => {
    if (!cc || !cc.kinds.has(r.kind)) return false;
    const fs = cc.fields?.get(r.kind);
    // Only on a path where a call failed: a test of the function's own (`dma & (size - 1)` through
    // a header's macro) may be one we cannot see is never true.
    if (!fs || fs === '*' || r.via !== 'field' || !callFailedOn(cur)) return true;
    return cleanupNames(r, cur, fs) !== 'other';
  };
  // Not a slot the path stored to again (`[~1]`: the analysis saw a later store at the same
  // cursor, `tbi = tq->buf_info + tq->tx_ring.next2fill`, after a call that advanced it): the ring
  // moved on and keeps the slot for its teardown (vmxnet3's tq_cleanup walks next2comp..next2fill).
  // (The field itself read as an array, `priv->irq_db_indices[i].index`, is not a slot of a ring:
  // its `[~N]` echoes the field that holds the handle.)
  const restoredSlot = (r: Resource): boolean => paths.some((p) => [...p.state.mem].some(([at, v]) => {
    if (!/\[~\d+\]$/.test(at) || !r.handles.some((h) => holds(key(v), h))) return false;
    const base = p.state.mem.get(at.replace(/\[~\d+\]$/, ''));
    return !(base && r.handles.some((h) => holds(key(base), h)));
  }));
  // (5) at the field: the callers release this kind, but by fields that are not this one's
  // (erdma_cmdq_init() frees `cmdq->sq.qbuf` after erdma_cmdq_cq_init() fails, not `cq.qbuf`).
  const fieldsElsewhere = (r: Resource, p: PathRecord) => {
    const fs = cc?.fields?.get(r.kind);
    if (!fs || fs === '*' || r.via !== 'field' || !callFailedOn(p)) return false;
    // ... and the function itself does not release this kind after the failure by a handle it
    // cannot name (iwl_pcie_alloc_rxq_dma()'s `err:` loop frees every queue through a helper).
    if (unnamedRelease(p, r) || walks(p, r) || cleanupCalled(p, r)) return false;
    // A loop of the function that releases this kind, or calls a cleanup-named function, may be
    // the unwind (on the path that runs it zero times, which the analysis cannot rule out).
    if (ctx.node && (loopReleases(ctx.node, r.kind) || loopCalls(ctx.node, isCleanupName))) return false;
    // The handle itself is a field the cleanup names (a scatterlist mapping is known by the
    // caller's `req->src`, which kmb_ocs_aead_dma_cleanup() unmaps).
    if (r.handles.some((h) => /->|\./.test(h) && !h.startsWith('local:') && fieldNamed(h, fs))) return false;
    return cleanupNames(r, p, fs) === 'other';
  };
  const callersLeaveIt = (r: Resource, p: PathRecord) => !!cc && cc.understood && cc.callers > 0 && (!cc.kinds.has(r.kind) || fieldsElsewhere(r, p))
    && (r.via === 'field' || r.via === 'global' || r.via === 'object') && !r.alsoKeptBy && !restoredSlot(r);
  // Allocated only because the caller's slot was empty (`if (!np->queue_mem) np->queue_mem =
  // dma_alloc_coherent(...)`): a buffer cached in the struct across calls, its teardown's to free.
  const lazy = (p: PathRecord, r: Resource) => [...p.state.mem].some(([at, v]) =>
    !at.startsWith('local:') && p.state.facts.get(at + '+0')?.zero === true && r.handles.some((h) => holds(key(v), h)));
  // (6) an init's contract (coding-style.rst, "Centralized exiting of functions"): a function that
  //     fails undoes what it set up. A resource it stored at a fixed field of the caller's struct,
  //     followed by the failure of a later step, is its to release, unless a caller of the file
  //     is seen to clean that kind up (5 decides when every caller is read). Not for what a loop
  //     acquired (a ring refill leaves the slots it filled to the ring's teardown) nor a slot
  //     at a computed index.
  const loopSites = new Set<number>();
  for (const p of paths) for (const r of p.state.resources) if (r.occurrence > 0) loopSites.add(r.site.at);
  //     And only in a function seen to unwind: some failing path releases something after its
  //     failure. One that never does leaves its partial setup to the caller's teardown by
  //     design (hantro's codec init, whose caller runs the codec's exit after a failure).
  //     Or one whose failing paths pass a label that releases something of the function's (a DMA
  //     channel, an irq, a kmalloc'd table: `rel_rx: dma_release_channel(...)`), a label no
  //     success path passes: its unwind ladder.
  const successLabels = new Set<number>();
  for (const p of paths) if (!fails(p)) for (const b of ctx.exploration.releasingLabels ?? []) if (p.state.visits.has(b)) successLabels.add(b);
  const ladderLabel = (p: PathRecord) => [...ctx.exploration.releasingLabels ?? []].some((b) => !successLabels.has(b) && p.state.visits.has(b));
  const unwindsSomething = paths.some((p) => fails(p) && ((p.state.failSeq !== undefined
    && p.state.resources.some((o) => o.state === 'released' && (o.relSeq ?? 0) > p.state.failSeq!)) || ladderLabel(p)));
  // The failing path passes an unwind label that releases something the function set up before
  // r (`err: vfree(rx_ring->rx_buffer_info);` with `rx_ring->rx_buffer_info = vmalloc(...)` above
  // the ring's allocation): its ladder passes over r. One that only undoes what came after r
  // (`err_free_irq: free_irq(irq, r);`) leaves r to the caller by design.
  const passesOver = (p: PathRecord, r: Resource): boolean => {
    if (!ctx.node) return false;
    const fnText = ctx.node.text;
    const before = fnText.split('\n').slice(0, Math.max(0, r.site.line - ctx.node.startPosition.row)).join('\n');
    const visited = new Set([...ctx.exploration.labels ?? []].filter(([, b]) => p.state.visits.has(b)).map(([n]) => n));
    let hit = false;
    const visit = (n: SyntaxNode) => {
      if (hit) return;
      if (n.type === 'labeled_statement' && visited.has(n.childForFieldName('label')?.text ?? '')) {
        const m = /^\s*[A-Za-z_]\w*\s*\(([^;]*)\)\s*;/.exec(n.namedChildren[1]?.text ?? '');
        for (const a of m ? m[1].split(',') : []) {
          const x = a.trim().replace(/^&/, '');
          if (!/^[A-Za-z_][\w.>-]*$/.test(x) || !/->|\./.test(x)) continue;
          if (new RegExp(`${x.replace(/[.>-]/g, (c) => '\\' + c)}\\s*=(?!=)`).test(before)) { hit = true; return; }
        }
      }
      for (const c of n.namedChildren) visit(c);
    };
    visit(ctx.node);
    return hit;
  };
  const initContract = (p: PathRecord, r: Resource) => unwindsSomething && !!cc && (!cc.understood || cc.callers === 0)
    && (r.via === 'field' || r.via === 'global') && !r.alsoKeptBy && !loopSites.has(r.site.at)
    // A later step failed: an injected failure after r, or a test of its own (`if
    //     (xdp_rxq_info_reg(...) < 0) goto err;`) on a path that leaves failing and unwinds on the
    //     way out (it releases something acquired after r, or passes an unwind label).
    && (p.state.failSeq !== undefined ? p.state.failSeq > r.seq : p.exit.failure === true
      && (passesOver(p, r) || p.state.resources.some((o) => o !== r && o.state === 'released' && o.seq < r.seq && (o.relSeq ?? 0) > r.seq)))
    && !!r.escaped?.startsWith('stored in ') && !/\[(?!\d+\])/.test(r.escaped) && !lazy(p, r);
  // (7) the failing path passes an unwind label whose name says it releases this kind of
  //     resource (`err_unmap:`, `free_rx_ring:`), naming it or nothing in particular, and
  //     nothing of that kind is released after the failure: what the label is for is what the
  //     path abandons.
  const promisedBy = (p: PathRecord, r: Resource): string | undefined => {
    // After the failure: an injected one, or (a test of its own, `if (err) goto ...`) after r.
    const after = p.state.failSeq ?? r.seq + 1;
    if (after <= r.seq) return undefined;
    const verb = LABEL_VERB[r.kind];
    if (!verb) return undefined;
    // A loop's slots go to a helper's or a loop's unwind the analysis may not name one by one.
    if (loopSites.has(r.site.at)) return undefined;
    // Another release of this kind after the failure may be the one the label is for, unless the
    // label names this resource's own field (`free_dq:` for `ctx->dma_dq` in a ladder that goes
    // on to free dp, q and p).
    const sameKindAfter = p.state.resources.some((o) => o !== r && o.kind === r.kind && o.state !== 'live' && (o.relSeq ?? 0) > after);
    let n = 0;
    for (const e of p.state.events) {
      if (n++ < after) continue;
      if (e.k === 'unknown-release' && ((e.detail?.kinds as string[] | undefined) ?? []).includes(r.kind)) return undefined;
    }
    const where = (r.escaped ?? '').toLowerCase();
    const field = /(?:->|\.)([a-z_]\w*)(?:\+\d+)?(?:\[[^\]]*\])*$/.exec(where)?.[1];
    const fieldWords = new Set(field ? [field, ...field.split('_').filter((w) => w.length > 1)] : []);
    for (const [name, block] of ctx.exploration.labels ?? []) {
      if (!p.state.visits.has(block)) continue;
      const words = name.toLowerCase().split(/_+/).filter(Boolean);
      if (!words.some((w) => verb.test(w))) continue;
      const objects = words.filter((w) => !verb.test(w) && !LABEL_NOISE.test(w) && w.length > 1);
      if (objects.length === 0 ? !sameKindAfter
        : objects.some((w) => where.includes(w)) && (!sameKindAfter || objects.some((w) => fieldWords.has(w)))) return name;
    }
    return undefined;
  };
  // After the failure the path releases this kind by a handle it cannot name: a walk over the
  // ring that undoes the request's slots (`while (ring->next_to_use != first) dma_unmap_page(dev,
  // ring->desc_cb[...].dma, ...)`, a helper of the file that frees a chain of descriptors).
  const unnamedRelease = (p: PathRecord, r: Resource): boolean => {
    const after = p.state.failSeq ?? r.seq + 1;
    let n = 0;
    for (const e of p.state.events) {
      if (n++ < after) continue;
      if (e.k === 'unknown-release' && ((e.detail?.kinds as string[] | undefined) ?? []).includes(r.kind)) return true;
    }
    return false;
  };
  // (4) an entry point (a probe, an open, a create_cq...): nothing undoes what it left in its
  //     struct or gave a callee; a request handler that gave up: what it stored at a fixed place
  //     (a slot at a computed index goes back by the ring's own walk, which cannot be matched).
  const entryOwns = (p: PathRecord, r: Resource): boolean => !lazy(p, r) && (
    (!!ctx.entryPoint && (r.via === 'field' || r.via === 'global' || r.via === 'object' || r.via === 'callee')
      // A constructor callback (create_qp) that calls its own destroy after a late failure
      // (`irdma_destroy_qp(&iwqp->ibqp, udata); return err_code;`) hands the object to it.
      && (typeof ctx.entryPoint !== 'string' || /^(probe|open|ndo_open)$/.test(ctx.entryPoint) || !unnamedRelease(p, r) && !cleanupCalled(p, r)))
    || (!!ctx.requestHandler && (r.via === 'field' || r.via === 'global' || r.via === 'object') && !loopSites.has(r.site.at)
      && !unnamedRelease(p, r) && !walks(p, r) && !/\[(?!\d+\])/.test(r.escaped ?? '')));
  // After the failure the path calls a cleanup helper of the file (one whose body releases
  // something, or whose name says it does) with the object that holds it.
  const cleanupCalled = (p: PathRecord, r: Resource): boolean => {
    const holder = r.escaped?.startsWith('stored in ') ? rootOf(r.escaped.slice(10)) : undefined;
    const after = p.state.failSeq ?? r.seq + 1;
    let n = 0;
    for (const e of p.state.events) {
      if (n++ < after || e.k !== 'helper-call') continue;
      if (!holder || (e.detail?.roots as string[]).includes(holder)) return true;
    }
    return false;
  };
  // The exit's block walks back over a ring or an array releasing this kind (`while
  // (ring->next_to_use != ring_end) { ...; dma_unmap_single(dev, tx_buffer->dma, ...); }` before
  // `return -ENOSPC;`): the walk's handles cannot be matched, and a path that took it zero times
  // is not one the driver can take after a fragment failed. Read from the source, not the path.
  const walks = (p: PathRecord, r: Resource): boolean => {
    if (!ctx.node) return false;
    const block = enclosingBlock(ctx.node, p.exit.line, p.exit.col);
    return (!!block && block !== ctx.node.childForFieldName('body') && loopReleases(block, r.kind)) || walksBackTo(p, r);
  };
  // After the failure the path went through a loop that releases (itself or through a helper of
  // the file) and stops at the object holding this resource (`for (;;) { tx_bi = &ring->tx_bi[i];
  // i40e_unmap_and_free_tx_resource(ring, tx_bi); if (tx_bi == first) break; ... }`, the resource
  // stored in first->dma): its last iteration releases it, at a slot the path cannot match to it.
  const walksBackTo = (p: PathRecord, r: Resource): boolean => {
    const m = r.escaped?.startsWith('stored in ') ? /^[*&(]*(?:param:|local:|g:)?([A-Za-z_]\w*)/.exec(r.escaped.slice(10)) : null;
    if (!m || !ctx.node || p.state.failSeq === undefined) return false;
    const stops = new RegExp(`(==|!=)\\s*${m[1]}\\b(?!\\s*(->|\\.|\\[))|\\b${m[1]}\\s*(==|!=)`);
    const lines: number[] = [];
    let n = 0;
    for (const e of p.state.events) {
      if (n++ >= p.state.failSeq && (e.k === 'release' || e.k === 'unknown-release' || e.k === 'helper-call')) lines.push(e.site.line);
    }
    if (!lines.length) return false;
    let found = false;
    const visit = (x: SyntaxNode) => {
      if (found) return;
      // The test that stops the walk comes after a release in it: a walk that stops before it
      // releases (`if (tx_bi == first) break; unmap(tx_bi);`) leaves the holder's resource alone.
      const at = /^(for|while|do)_statement$/.test(x.type) ? x.text.search(stops) : -1;
      const stopRow = at < 0 ? -1 : x.startPosition.row + (x.text.slice(0, at).match(/\n/g)?.length ?? 0);
      if (at >= 0 && lines.some((l) => l >= x.startPosition.row && l < stopRow)) { found = true; return; }
      for (const c of x.namedChildren) visit(c);
    };
    visit(ctx.node);
    return found;
  };
  const out: Finding[] = [];
  const done = new Set<number>();
  // A failure injected into a call whose result no path tests is missing-error-path's finding;
  // what the path does after it is not an unwind the driver wrote.
  const untested = new Set<number>();
  for (const [at, s] of ctx.exploration.fallibleSites) if (!s.checked) untested.add(at);
  paths.forEach((p, i) => {
    if (p.exit.text.startsWith('path cut')) return;
    if (p.state.failed && untested.has(p.state.failed.at)) return;
    // `if (WARN_ON(...)) return -EINVAL;`: the developer asserts this path does not happen.
    if (p.state.warned) return;
    for (const r of p.state.resources) {
      if (r.state !== 'live' || done.has(r.site.at)) continue;
      // A loop's VFIO pins are undone by range (vfio_unpin_pages(iova, npage) over pages pinned
      // one by one, type1's unwind walk over the chunks), which is not split per pin.
      if (r.kind === 'pinned-pages' && (loopSites.has(r.site.at) || r.handles.some((h) => h.includes('widened:')))) continue;
      let leaked: boolean;
      let unwinder: Resource | undefined;
      let helperName: string | undefined;
      let uncleaned = false;
      let usedOnly = false;
      let contract = false;
      let label: string | undefined;
      let voidObject = false;
      // Another path of the same failure to the same exit handles it: this one is most likely a
      // combination of conditions the analysis could not correlate (a switch default, a flag).
      const k = `${p.failAt}|${p.exit.line}|${p.exit.value ? key(p.exit.value) : ''}|${r.id}`;
      const sibling = releasedInPlan.has(k) || (!r.escaped && escapedInPlan.has(k));
      if (sibling) leaked = false;
      else if (r.leaksOnlyOnFailure) leaked = fails(p);
      else if (r.via === 'callee' && r.keptBy && transient.has(`${r.id}|${r.keptBy}`)) leaked = usedOnly = true;
      else if (r.escaped || r.ownedByContainer) {
        // Handed off where the caller can reach it: the caller's, unless this failing exit abandons
        // what the function has shown it unwinds itself. Returned and out-parameter copies count
        // only on exits that do not fail (exec/ownership.ts).
        // (8) a void function that fails leaves its caller's objects (its sg list) as they were
        //     given: the caller cannot know to unmap them.
        const owns = !!(label = promisedBy(p, r)) || (voidObject = !!ctx.returnsVoid && (r.via === 'object' || r.via === 'caller-object'))
          || !callerReleases(r, p) && (entryOwns(p, r) || unwound.has(r.id) || !!(unwinder = ladder(p, r))
            || !!(helperName = unwindHelper(p, r)) || (uncleaned = callersLeaveIt(r, p) && !lazy(p, r) && !walks(p, r))
            || (contract = initContract(p, r) && !walks(p, r)));
        // What a void function stored in its caller's structs stays there for the caller's
        // teardown, which runs as usual: the caller never learns of the failure (a ring refill
        // leaves the buffers it filled in their slots).
        const voidKeeps = !!ctx.returnsVoid && (r.via === 'field' || r.via === 'global');
        leaked = fails(p) && r.via !== 'returned' && owns && !voidKeeps && !releasedInPlan.has(k);
      }
      // The caller's sg list after a failure: its caller's cleanup unmaps what the request holds.
      else if (r.callerObject && callerReleases(r, p) && fails(p)) leaked = false;
      // On an exit that does not fail, only a handle that never left the locals is surely lost:
      // one written somewhere (a macro's descriptor store, a helper in a header) most likely lives on.
      else leaked = fails(p) || !r.copied;
      if (!leaked) continue;
      done.add(r.site.at);
      // The driver's own release wrappers first (ipu6_mmu_unmap for ipu6_mmu_map), then the kernel's.
      const kernel = releasersFor(r.api, r.kind);
      const own = Object.entries(ctx.config.wrappers)
        .filter(([, w]) => kernel.includes(typeof w === 'string' ? w : w.api)).map(([n]) => n);
      const rel = [...own, ...kernel].slice(0, 2).map((n) => n + '()').join(' or ');
      const how = r.escaped?.startsWith('belongs') || r.escaped?.startsWith('its ') ? r.escaped : `it was ${describe(r.escaped ?? '')}`;
      const also = r.lostTo ? ` (it was passed to ${r.lostTo}(), which failed)`
        : usedOnly ? ` (${r.keptBy}() only uses it: ${transient.get(`${r.id}|${r.keptBy}`) === 'read'
          ? 'the function reads the buffer back after that call' : 'another path releases it after that call'})`
        : r.escaped ? ` (${how}, but this failing return abandons it${unwinder ? `, while it releases the ${KIND_NAME[unwinder.kind]} from line ${unwinder.site.line + 1}`
          : helperName ? `; its unwind calls ${helperName}(), which does not release it`
          : ctx.entryPoint ? `; after a failed ${entryWhat(ctx)}`
          : ctx.requestHandler ? `; nothing unwinds a request ${ctx.fn}() gives up on`
          : uncleaned ? `; no caller in this file releases it after ${ctx.fn}() fails`
          : contract ? `; a function that fails undoes what it set up`
          : label ? `; the unwind passes ${label}:, and nothing after the failure releases a ${KIND_NAME[r.kind]}`
          : voidObject ? `; ${ctx.fn}() returns void, so its caller cannot know to undo it` : ''})` : '';
      const related: Finding['related'] = [
        { range: lineRange(p.exit.line, p.exit.col), message: `the path leaves here: ${p.exit.text}` },
      ];
      if (p.state.failed) related.unshift({ range: siteRange(p.state.failed), message: `${p.state.failed.api}() fails here` });
      out.push(finding('leak', 'warning', ctx, siteRange(r.site),
        `${KIND_NAME[r.kind]} from ${r.api}() at line ${r.site.line + 1} is not ${VERB[r.kind]} ${pathPhrase(p)}${also}; release it with ${rel}`,
        related, i));
    }
  });
  return out;
}

/**
 * Whether a memory path is one a caller's cleanup names (`fs`: `sq.qbuf` or `qbuf`, from
 * engine/index.ts memberTail()): by its last two members when both sides have two, else by the last
 * (a one-member name may be an alias: `cq->qbuf` with `cq = &cmdq->cq`).
 */
function fieldNamed(at: string, fs: Set<string>): boolean {
  const parts = memberChain(at);
  if (parts.length < 2) return true;
  const last = parts[parts.length - 1];
  const two = parts.length >= 3 ? parts.slice(-2).join('.') : undefined;
  for (const f of fs) {
    const dot = f.lastIndexOf('.');
    if (dot < 0 ? f === last : two ? f === two : f.slice(dot + 1) === last) return true;
  }
  return false;
}

/** The innermost `{ ... }` of the function around a position. */
function enclosingBlock(fn: SyntaxNode, line: number, col: number): SyntaxNode | undefined {
  let best: SyntaxNode | undefined;
  const inside = (n: SyntaxNode) => (n.startPosition.row < line || (n.startPosition.row === line && n.startPosition.column <= col))
    && (n.endPosition.row > line || (n.endPosition.row === line && n.endPosition.column >= col));
  const visit = (n: SyntaxNode) => {
    if (!inside(n)) return;
    if (n.type === 'compound_statement') best = n;
    for (const c of n.namedChildren) visit(c);
  };
  visit(fn);
  return best;
}

/** Releasers of each kind, by name (dma_unmap_single, dma_unmap_page... for a mapping). */
const RELEASERS = new Map<string, Set<string>>();
for (const [name, spec] of API) for (const k of spec.releases?.kinds ?? []) {
  if (!RELEASERS.has(k)) RELEASERS.set(k, new Set());
  RELEASERS.get(k)!.add(name);
}

/** A function named for a cleanup (`iwl_pcie_free_rxq_dma`), not a kernel release of something else (an irq, a kmalloc()'d table, a device reference). */
const CLEANUP_WORD = /(^|_)(free|unmap|release|destroy|cleanup|clean|deinit|uninit|teardown|put)(_|$)/;
const OTHER_RELEASE = /^(free_irq|free_percpu_irq|k[vz]?free\w*|vfree|dev_kfree_skb\w*|kfree_skb\w*|consume_skb|put_device|iounmap|release_firmware|free_netdev|free_percpu|mempool_free|kmem_cache_free|clk_\w+|regulator_\w+|irq_\w+|pci_\w+)$/;
const isCleanupName = (name: string) => CLEANUP_WORD.test(name) && !OTHER_RELEASE.test(name);

/** A loop in the block whose body calls a function `callee` accepts. */
function loopCalls(block: SyntaxNode, callee: (name: string) => boolean): boolean {
  const calls = (n: SyntaxNode): boolean => {
    const f = n.type === 'call_expression' ? n.childForFieldName('function') : null;
    if (f && callee(f.text)) return true;
    return n.namedChildren.some(calls);
  };
  const visit = (n: SyntaxNode): boolean =>
    /^(for|while|do)_statement$/.test(n.type) ? calls(n) || n.namedChildren.some(visit) : n.namedChildren.some(visit);
  return visit(block);
}

/** A loop in the block whose body calls a release of this kind. */
function loopReleases(block: SyntaxNode, kind: string): boolean {
  const names = RELEASERS.get(kind);
  return !!names && loopCalls(block, (n) => names.has(n));
}
