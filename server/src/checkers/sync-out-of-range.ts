/**
 * sync-out-of-range: a dma_sync_single_for_*() / dma_sync_single_range_for_*() whose offset plus
 * size is provably past the mapped size, or a dma_sync_sg_for_*() with an entry count other than
 * the nents given to dma_map_sg() (the count it returned is never right). Reported at the sync.
 * Mirrors kernel/dma/debug.c check_sync(): an out-of-range sync is not contained in any mapping
 * (bucket_find_contain() needs containment), so 6.12 prints "device driver tries to sync DMA memory
 * it has not allocated"; a wrong count, "device driver syncs DMA sg list with different entry count".
 *
 * The direction checks of check_sync() ("syncs DMA memory with different direction", "syncs device
 * read-only DMA memory for cpu", "syncs device write-only DMA memory to device") are reported as
 * direction-mismatch, the rule of every direction bug (checkSyncDirection below): one rule per bug.
 * Sizes are compared symbolically: only a provable excess is reported (`len` against `len * 2`,
 * constants), never two unknowns.
 */
import type { Finding } from '../engine/types';
import type { ExecEvent } from '../exec/state';
import type { Resource } from '../exec/state';
import { CheckContext, finding, siteRange } from './common';

const DIR = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'];
const dirName = (d: unknown) => DIR[d as number] ?? String(d);

function problems(ctx: CheckContext, keep: (what: string) => boolean,
  emit: (e: ExecEvent, r: Resource, i: number) => Finding): Finding[] {
  const out: Finding[] = [];
  const done = new Set<string>();
  ctx.exploration.paths.forEach((p, i) => {
    for (const e of p.state.events) {
      if (e.k !== 'sync-problem' || !keep(String(e.detail?.what))) continue;
      const k = `${e.site.at}:${e.detail?.what}`;
      if (done.has(k)) continue;
      const r = p.state.resources.find((x) => x.id === e.res);
      if (!r) continue;
      done.add(k);
      out.push(emit(e, r, i));
    }
  });
  return out;
}

export function checkSyncOutOfRange(ctx: CheckContext): Finding[] {
  return problems(ctx, (w) => w === 'range' || w === 'nents' || w === 'nents-returned', (e, r, i) => {
    const d = Object.fromEntries(Object.entries(e.detail ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v.replace(/ \+ -(?=\d)/g, ' - ') : v])) as Record<string, string>;
    const mapLine = r.site.line + 1;
    let msg: string;
    if (d.what === 'range') {
      const at = d.offset && d.offset !== '0' ? `${d.size} bytes at offset ${d.offset}` : `${d.size} bytes`;
      msg = `${e.site.api}() syncs ${at} (to ${d.end}) but ${r.api}() at line ${mapLine} mapped ${d.mapped}: `
        + 'DMA-API debug: "device driver tries to sync DMA memory it has not allocated" (the range is not inside the mapping)';
    } else if (d.what === 'nents-returned') {
      const simple = d.mapped.length <= 32 && !/[()]/.test(d.mapped);
      msg = `${e.site.api}() is given the count that ${r.api}() returned; pass the nents given to ${r.api}() at line ${mapLine}${simple ? ` (${d.mapped})` : ''}: `
        + 'DMA-API debug: "device driver syncs DMA sg list with different entry count" whenever the IOMMU merged entries';
    } else {
      msg = `${e.site.api}() syncs ${d.synced} entries but ${r.api}() at line ${mapLine} mapped ${d.mapped}: `
        + 'DMA-API debug: "device driver syncs DMA sg list with different entry count"';
    }
    return finding('sync-out-of-range', 'error', ctx, siteRange(e.site), msg,
      [{ range: siteRange(r.site), message: `mapped here by ${r.api}() with ${d.what === 'range' ? 'size' : 'nents'} ${d.mapped}` }], i);
  });
}

/** direction-mismatch at a sync: check_sync()'s direction messages. */
export function checkSyncDirection(ctx: CheckContext): Finding[] {
  return problems(ctx, (w) => w === 'direction', (e, r, i) => {
    const d = e.detail as { mapped: number; synced: number; forCpu: boolean };
    const debug = ['"device driver syncs DMA memory with different direction"'];
    // check_sync(): a DMA_TO_DEVICE mapping synced for the CPU other than DMA_TO_DEVICE, a
    // DMA_FROM_DEVICE one for the device other than DMA_FROM_DEVICE.
    if (d.forCpu && d.mapped === 1) debug.push('"device driver syncs device read-only DMA memory for cpu"');
    if (!d.forCpu && d.mapped === 2) debug.push('"device driver syncs device write-only DMA memory to device"');
    const msg = `${e.site.api}() syncs with ${dirName(d.synced)} but ${r.api}() at line ${r.site.line + 1} mapped with ${dirName(d.mapped)}: `
      + `DMA-API debug: ${debug.join(' and ')}`;
    return finding('direction-mismatch', 'error', ctx, siteRange(e.site), msg,
      [{ range: siteRange(r.site), message: `mapped here by ${r.api}() with ${dirName(d.mapped)}` }], i);
  });
}
