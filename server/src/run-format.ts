/**
 * Text of `iommu-lens run` and of the editor's Run Snippet output channel: each API call with
 * its arguments and result (addresses in hex), the emulator events it caused, and the state
 * at the end. syntaxes/iommu-lens-trace.tmLanguage.json highlights it.
 */
import type { FunctionResult } from './engine/types';

export function formatRun(file: string, r: FunctionResult, failAt: number | null): string {
  const out: string[] = [];
  const p = r.paths[0];
  out.push(`== ${file}:${r.range.start.line + 1} ${r.name}() — ${p ? p.label : 'no path'}${failAt !== null ? ` (--fail ${failAt})` : ''}`);
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

/** A few lines of the emulator's inspection data. */
export function summariseState(s: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(s)) {
    if (k === 'config' || k === 'smmu' || k === 'pages') continue;
    if (Array.isArray(v)) lines.push(`${k}: ${v.length} entr${v.length === 1 ? 'y' : 'ies'}${v.length ? ' — ' + short(v.slice(0, 3)) : ''}`);
    else if (v && typeof v === 'object') lines.push(`${k}: ${short(v)}`);
    else lines.push(`${k}: ${String(v)}`);
  }
  return lines;
}

function short(v: unknown): string {
  const s = JSON.stringify(v);
  return s.length > 160 ? s.slice(0, 157) + '...' : s;
}
