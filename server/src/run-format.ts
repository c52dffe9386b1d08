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
  const live = arr('dmaDebug');
  lines.push(`live DMA mappings (dma-debug): ${live.length}${live.length ? ' — ' + live.slice(0, 4).map((m) => `${m.addr ?? m.dma ?? '?'}+${m.size ?? '?'} ${m.fn ?? m.type ?? ''}`.trim()).join(', ') : ''}`);
  const c = (s.counters ?? {}) as Record<string, number>;
  if (Object.keys(c).length) {
    lines.push(`counters: ${c.commands ?? 0} commands, ${c.cmdSyncs ?? 0} CMD_SYNC, ${c.tlbInvalidations ?? 0} TLB invalidations, ${c.faults ?? 0} faults, ${c.dmaDebugErrors ?? 0} dma-debug errors`);
  }
  if (typeof s.pendingEvents === 'number') lines.push(`event queue: ${s.pendingEvents} pending record(s)`);
  return lines;
}

function fmtSize(n: number): string {
  if (!Number.isFinite(n)) return '?';
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)}G`;
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)}M`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024}K`;
  return String(n);
}
