/**
 * Text of `iommu-lens run` and of the editor's Run Snippet output channel: each API call with
 * its arguments and result (addresses in hex), the emulator events it caused, and the state
 * at the end. syntaxes/iommu-lens-trace.tmLanguage.json highlights it.
 */
import type { FunctionResult, Range } from './engine/types';

export function formatRun(file: string, r: FunctionResult, failAt: number | null, selection?: Range): string {
  const out: string[] = [];
  const p = r.paths[0];
  const part = selection ? ` lines ${selection.start.line + 1}-${selection.end.line + 1} of` : '';
  out.push(`== ${file}:${r.range.start.line + 1}${part} ${r.name}() — ${p ? p.label : 'no path'}${failAt !== null ? ` (--fail ${failAt})` : ''}`);
  if (!p) {
    out.push('   the failure plan was not reached: the function has fewer fallible calls on this path');
    return out.join('\n') + '\n';
  }
  for (const s of p.steps) {
    out.push(`line ${s.line + 1}: ${s.call} ${s.result}`);
    for (const e of s.events) out.push(`    [${e.kind}] ${e.text}`);
  }
  out.push(`exit: ${p.exit}`);
  const findings = r.findings.filter((f) => f.pathIndex === 0 || f.rule === 'missing-error-path');
  for (const f of findings) out.push(`finding: line ${f.range.start.line + 1}: ${f.message} [${f.rule}]`);
  const last = p.snapshots[p.snapshots.length - 1];
  if (last) out.push('state at the end:', ...summariseState(last).map((l) => '    ' + l));
  return out.join('\n') + '\n';
}

/** A few lines of the emulator's inspection data: what a kernel developer looks for after a run. */
export function summariseState(s: Record<string, unknown>): string[] {
  const lines: string[] = [];
  const arr = (k: string) => (Array.isArray(s[k]) ? (s[k] as Record<string, any>[]) : []);
  for (const d of arr('domains')) {
    const leaves: string[] = [];
    const walk = (n: Record<string, any>) => {
      if (n.type === 'table') (n.children ?? []).forEach(walk);
      else leaves.push(`${n.iova}+${fmtSize(Number(n.size))} -> ${n.pa} ${n.type}${n.perm ? ' ' + n.perm : ''}`);
    };
    (d.pageTable ?? []).forEach(walk);
    lines.push(`domain #${d.id} ${d.type}${d.default ? ' (default)' : ''}, stage ${d.stage}, asid ${d.asid ?? '-'}: ${leaves.length} leaf entr${leaves.length === 1 ? 'y' : 'ies'}`);
    for (const l of leaves.slice(0, 8)) lines.push(`    ${l}`);
    if (leaves.length > 8) lines.push(`    ... ${leaves.length - 8} more`);
  }
  for (const v of arr('iovads')) {
    const ranges = (v.ranges ?? []) as Record<string, any>[];
    lines.push(`iovad #${v.id} (granule ${v.granule}): ${ranges.map((r) => `[${r.pfnLo}..${r.pfnHi}]${r.cached ? ' (rcache)' : ''}`).join(' ') || 'empty'}`);
  }
  lines.push(...systemLines(s));
  const live = arr('dmaDebug');
  lines.push(`live DMA mappings (dma-debug): ${live.length}${live.length ? ' — ' + live.slice(0, 4).map((m) => `${m.addr ?? m.dma ?? '?'}+${m.size ?? '?'} ${m.fn ?? m.type ?? ''}`.trim()).join(', ') : ''}`);
  const c = (s.counters ?? {}) as Record<string, number>;
  if (Object.keys(c).length) {
    lines.push(`counters: ${c.commands ?? 0} commands, ${c.cmdSyncs ?? 0} CMD_SYNC, ${c.tlbInvalidations ?? 0} TLB invalidations, ${c.faults ?? 0} faults, ${c.dmaDebugErrors ?? 0} dma-debug errors`);
  }
  if (typeof s.pendingEvents === 'number') lines.push(`event queue: ${s.pendingEvents} pending record(s)`);
  lines.push(...queueLines(s));
  return lines;
}

/**
 * How the system was booted, each device's stream, what its DMA reaches now, and its IOMMU group
 * as sysfs shows it (`cat /sys/kernel/iommu_groups/N/reserved_regions`).
 */
function systemLines(s: Record<string, any>): string[] {
  const lines: string[] = [];
  const smmu = (s.smmu ?? {}) as Record<string, any>;
  const mode = smmu.mode ?? s.config?.mode;
  if (smmu.present === false) lines.push('SMMU: none (no SMMU node): no IOMMU groups, DMA addresses are physical');
  else if (mode && mode !== 'translate') lines.push(`SMMU mode: ${mode === 'passthrough' ? 'iommu.passthrough=1 (identity default domains)' : mode === 'bypass' ? 'arm-smmu-v3.disable_bypass=0 (streams without a domain bypass)' : mode}`);
  const groups = Array.isArray(s.groups) ? (s.groups as Record<string, any>[]) : [];
  for (const d of Array.isArray(s.devices) ? (s.devices as Record<string, any>[]) : []) {
    const ste = d.ste ?? {};
    const cds = Array.isArray(d.cds) ? (d.cds as Record<string, any>[]) : [];
    const pasids = cds.filter((c) => c.ssid).map((c) => `pasid ${c.ssid} asid ${c.asid ?? '?'}${c.domain !== undefined && c.domain !== null ? ` domain #${c.domain}` : ''}`);
    const where = d.iommu ? String(d.iommu) : `sid ${hexOf(d.streamId)}, STE ${ste.config ?? ste.error ?? '?'}${ste.config === 's1' && pasids.length ? ` (S1DSS ${['terminate', 'bypass', 'ssid0'][ste.s1dss] ?? ste.s1dss})` : ''}${d.group !== null && d.group !== undefined ? `, group ${d.group}` : ''}`;
    lines.push(`device ${d.name}: ${where}${pasids.length ? '; ' + pasids.join(', ') : ''}`);
    for (const a of (Array.isArray(d.accesses) ? d.accesses : []).slice(0, 4)) {
      lines.push(`    DMA ${a.addr}${a.fn ? ` (${a.fn})` : ''} -> ${a.result}${a.via ? ` (${a.via === 'translated' ? 'translated' : a.via === 'bypass' ? 'bypass: identity' : 'no SMMU: physical'})` : a.result === 'ABORT' ? ' (STE abort: terminated, no event)' : a.recorded ? ' (event recorded)' : ''}`);
    }
  }
  for (const g of groups) {
    lines.push(`${g.sysfs ?? 'iommu group ' + g.id} (type ${g.type ?? '?'}): ${(g.deviceNames ?? g.devices ?? []).join(' ')}`);
    const rr = Array.isArray(g.reservedRegions) ? (g.reservedRegions as string[]) : [];
    if (rr.length) lines.push('    reserved_regions:', ...rr.map((r) => '      ' + r));
  }
  for (const c of Array.isArray(s.vfio) ? (s.vfio as Record<string, any>[]) : []) {
    const dmas = (c.dmas ?? []) as Record<string, any>[];
    lines.push(`vfio container ${c.id}: domain #${c.domain}, ${c.lockedPages ?? 0} page(s) pinned, ${dmas.length} MAP_DMA: ${dmas.slice(0, 4).map((x) => `${x.iova}+${fmtSize(Number(x.size))} (${(x.chunks ?? []).length} chunk(s))`).join(', ') || 'none'}`);
  }
  return lines;
}

/** GERROR and the PRI queue, beside the event queue. */
function queueLines(s: Record<string, any>): string[] {
  const smmu = (s.smmu ?? {}) as Record<string, any>;
  if (smmu.present === false) return [];
  const lines: string[] = [];
  const g = smmu.gerror;
  if (g && typeof g === 'object') {
    const raised = Array.isArray(g.raised) ? (g.raised as string[]) : [];
    const active = Array.isArray(g.active) ? (g.active as string[]) : [];
    lines.push(`GERROR ${g.gerror} GERRORN ${g.gerrorn}: ${active.length ? 'active ' + active.join(' ') : 'no active error'}${raised.length ? `, ${raised.length} raised` : ''}`);
    for (const r of raised.slice(-4)) lines.push(`    ${r}`);
  }
  const e = smmu.evtq;
  if (e && typeof e === 'object' && Array.isArray(e.recent) && e.recent.length) {
    lines.push(`event queue records (last ${e.recent.length}${e.overflow ? ', overflow' : ''}): ${(e.recent as Record<string, any>[]).slice(-4).map((r) => `${r.type} sid ${hexOf(r.sid)}${r.ssid !== null && r.ssid !== undefined ? ` ssid ${r.ssid}` : ''}${r.addr !== undefined ? ` ${hexOf(r.addr)}` : ''}`).join(', ')}`);
  }
  const p = smmu.priq;
  if (p && typeof p === 'object' && p.present !== false) {
    const recent = Array.isArray(p.recent) ? (p.recent as Record<string, any>[]) : [];
    const pending = recent.filter((r) => r.pending).length;
    lines.push(`PRI queue: ${recent.length} record(s)${pending ? `, ${pending} pending` : ''}${p.overflow ? ', overflow' : ''}${p.lastResponse ? `; last CMD_PRI_RESP ${p.lastResponse.resp} (sid ${hexOf(p.lastResponse.sid)} grpid ${p.lastResponse.grpid})` : ''}`);
    for (const r of recent.slice(-4)) lines.push(`    sid ${hexOf(r.sid)}${r.ssid !== null && r.ssid !== undefined ? ` ssid ${r.ssid}` : ''} [${r.grpid}${r.last ? 'L' : ''}] ${r.read ? 'R' : ''}${r.write ? 'W' : ''}${r.exec ? 'X' : ''} ${hexOf(r.iova)}`);
  }
  return lines;
}

function hexOf(v: unknown): string {
  return typeof v === 'number' ? '0x' + v.toString(16) : String(v);
}

function fmtSize(n: number): string {
  if (!Number.isFinite(n)) return '?';
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)}G`;
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)}M`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}K`;
  return String(n);
}
