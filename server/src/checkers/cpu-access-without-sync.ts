/**
 * cpu-access-without-sync: the CPU reads or writes a streaming buffer while the device owns it:
 * between dma_map_single() (dma_map_page() of virt_to_page(p) at offset_in_page(p)) and
 * dma_unmap_*(), with no dma_sync_*_for_cpu() before the access, or after a
 * dma_sync_*_for_device() gave it back (Documentation/core-api/dma-api-howto.rst: "the device
 * owns the buffer" until the unmap or a _for_cpu sync). The "inconsistent DMA access" class of
 * SADA (USENIX Security 2021). Reported at the access, with the map and the last sync as related
 * information.
 *
 * What is an access (executor cpuAccess): a load or store through the pointer the map was given,
 * or that pointer plus a constant offset inside the mapped bytes (`buf[i]`, `*buf`, `hdr->len`
 * with `hdr = buf`, `*(buf + 4)`), a member of `&obj` mapped as a whole, or memcpy()/memmove()/
 * memset()/memcmp() of it (plus any offset).
 * What is reported: a write, whatever the direction (the map copied the buffer to a swiotlb
 * bounce buffer or wrote the cache back: the device does not see the write; for FROM_DEVICE the
 * dirty line can be evicted over what the device wrote); a read of a DMA_FROM_DEVICE or
 * DMA_BIDIRECTIONAL buffer (stale data).
 * Not: a read of a DMA_TO_DEVICE buffer (harmless on every architecture) or of a direction that
 * is not a constant; an access before the map, after the unmap or after _for_cpu; an access after
 * any call we cannot see or a helper of the file (it may have synced; executor NO_SYNC lists the
 * kernel calls that never do); an access through a pointer not provably the mapped one.
 * DMA-API debug says nothing: kernel/dma/debug.c sees API calls, never CPU loads and stores.
 */
import type { Finding } from '../engine/types';
import type { SiteRef } from '../exec/state';
import { CheckContext, finding, siteRange } from './common';

const DIR = ['DMA_BIDIRECTIONAL', 'DMA_TO_DEVICE', 'DMA_FROM_DEVICE', 'DMA_NONE'];

export function checkCpuAccessWithoutSync(ctx: CheckContext): Finding[] {
  // One finding per access site and mapping; a write wins over the read of the same statement (`buf[0] |= x`).
  const best = new Map<string, { f: Finding; write: boolean }>();
  // Per access site, the last write of the same buffer after it on any path (for the fix).
  const lastWrite = new Map<string, SiteRef>();
  ctx.exploration.paths.forEach((p, i) => {
    const events = p.state.events.toArray();
    events.forEach((e, ei) => {
      if (e.k !== 'cpu-access') return;
      const r = p.state.resources.find((x) => x.id === e.res);
      if (!r) return;
      // One finding per access (b44's retry maps the same buffer again: one line, one finding).
      const k = `${e.site.at}`;
      const write = e.detail?.access === 'write';
      // Written, then given to the device with dma_sync_*_for_device() (knav_init_acc_range():
      // memset(), then the sync): the sync writes the cache back / fills the bounce buffer, so the
      // device sees the write on every architecture.
      if (write && events.some((x, xi) => xi > ei && x.k === 'sync' && x.res === r.id && x.detail?.forCpu === false)) return;
      // The run of CPU writes this one belongs to ends at the last write of the buffer on the
      // path: that is where a dma_sync_*_for_device() gives all of them to the device (the fix).
      if (write) {
        let last: SiteRef | undefined;
        for (let xi = ei + 1; xi < events.length; xi++) {
          const x = events[xi];
          if (x.res !== r.id) continue;
          if (x.k === 'cpu-access') { if (x.site.line > e.site.line) last = x.site; continue; }
          if (x.k === 'sync' || x.k === 'release') break;
        }
        const prev = lastWrite.get(k);
        if (last && (!prev || last.line > prev.line)) lastWrite.set(k, last);
      }
      const had = best.get(k);
      if (had && (had.write || !write)) return;
      const dir = e.detail?.dir as number | undefined;
      const sync = e.detail?.sync as SiteRef | undefined;
      const dirName = dir !== undefined ? DIR[dir] ?? String(dir) : 'an unknown direction';
      const owned = sync
        ? `after ${sync.api}() at line ${sync.line + 1} gave the buffer ${r.api}() mapped (${dirName}, line ${r.site.line + 1}) back to the device`
        : `while the buffer ${r.api}() mapped at line ${r.site.line + 1} (${dirName}) is the device's, with no dma_sync_*_for_cpu() first`;
      const why = write
        ? dir === 1
          ? 'the device may never see the write (the map filled a swiotlb bounce buffer or wrote the CPU cache back); write the buffer before mapping it, or sync it for the CPU and then for the device'
          : 'the dirty cache line (or the bounce buffer copied back at the unmap) can overwrite what the device wrote; sync it for the CPU first, and for the device before giving it back'
        : 'it may read stale data (the CPU cache or a swiotlb bounce buffer holds what was there before the device wrote); call dma_sync_single_for_cpu() first, or read it after the unmap';
      const msg = `\`${e.detail?.text}\` ${write ? 'writes' : 'reads'} a streaming DMA buffer ${owned}: ${why}. `
        + 'DMA-API debug does not see CPU accesses: it says nothing';
      const related = [{ range: siteRange(r.site), message: `mapped here by ${r.api}() (${dirName})` }];
      if (sync) related.push({ range: siteRange(sync), message: `given to the device here by ${sync.api}()` });
      best.set(k, { f: finding('cpu-access-without-sync', 'warning', ctx, siteRange(e.site), msg, related, i), write });
    });
  });
  for (const [k, last] of lastWrite) {
    const b = best.get(k);
    if (b?.write) b.f.related.push({ range: siteRange(last), message: 'the last CPU write of the buffer before the device reads it' });
  }
  return [...best.values()].map((x) => x.f);
}
