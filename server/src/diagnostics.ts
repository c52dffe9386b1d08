/**
 * Engine results -> LSP: diagnostics (shared/DESIGN.md §2: source `iommu-lens`, code = rule id,
 * codeDescription.href to the rule's section in docs/rules.md, relatedInformation, data = path),
 * hover on a resource, quick fixes from Finding.fix and code lenses on functions that use the API.
 * Pure functions of the engine's data: no connection, no documents.
 */
import {
  CodeAction, CodeActionKind, CodeLens, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity,
  Hover, MarkupKind, Position, Range,
} from 'vscode-languageserver';
import type { Config } from './config';
import type { FileResult, Finding, FunctionResult, ResourceInfo, Severity } from './engine/types';
import { DiagnosticData, FunctionRef, RUN_SNIPPET_COMMAND } from './protocol';

/** `source` of every diagnostic. */
export const SOURCE = 'iommu-lens';

/** Where the rule documentation lives; `rulesDocUri` may point it at the installed extension. */
let rulesDoc = 'https://github.com/iommu-lens/iommu-lens/blob/main/docs/rules.md';

/** Set the base of codeDescription.href (the docs/rules.md shipped with the extension). */
export function setRulesDocUri(uri: string): void {
  rulesDoc = uri;
}

/** The anchor of a rule's section: GitHub's slug of a `## \`leak\`` heading is `leak`. */
export function ruleHref(rule: string): string {
  return `${rulesDoc}#${rule.toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')}`;
}

function severityOf(s: Severity | 'off'): DiagnosticSeverity {
  switch (s) {
    case 'error': return DiagnosticSeverity.Error;
    case 'information': return DiagnosticSeverity.Information;
    default: return DiagnosticSeverity.Warning;
  }
}

/**
 * One finding as an LSP diagnostic, or null when the configuration turns its rule off.
 * `uri` is the document's, for relatedInformation.
 */
export function toDiagnostic(f: Finding, uri: string, config?: Config): Diagnostic | null {
  const override = config?.rules?.[f.rule];
  if (override === 'off') return null;
  const related: DiagnosticRelatedInformation[] = f.related.map((r) => ({
    location: { uri, range: r.range },
    message: r.message,
  }));
  const data: DiagnosticData = { function: f.function, pathIndex: f.pathIndex ?? null };
  const d: Diagnostic = {
    range: f.range,
    severity: severityOf(override ?? f.severity),
    source: SOURCE,
    code: f.rule,
    codeDescription: { href: ruleHref(f.rule) },
    message: f.message,
    data,
  };
  if (related.length) d.relatedInformation = related;
  return d;
}

/** Every finding of a file, in a stable order (by position, then rule). */
export function fileDiagnostics(result: FileResult, config?: Config): Diagnostic[] {
  const out: Diagnostic[] = [];
  const all = result.fileFindings.concat(...result.functions.map((fn) => fn.findings));
  for (const f of all) {
    const d = toDiagnostic(f, result.uri, config);
    if (d) out.push(d);
  }
  for (const fn of result.functions) {
    if (fn.overBudget && !fn.findings.some((f) => f.rule === 'budget')) {
      out.push({
        range: fn.nameRange, severity: DiagnosticSeverity.Information, source: SOURCE, code: 'budget',
        codeDescription: { href: ruleHref('budget') },
        message: `${fn.name}: exploration stopped early (${fn.overBudget}); findings may be incomplete`,
        data: { function: fn.name, pathIndex: null } satisfies DiagnosticData,
      });
    }
  }
  return out.sort(compareDiagnostics);
}

function compareDiagnostics(a: Diagnostic, b: Diagnostic): number {
  return a.range.start.line - b.range.start.line
    || a.range.start.character - b.range.start.character
    || String(a.code).localeCompare(String(b.code))
    || String(a.message).localeCompare(String(b.message));
}

/** True when `p` lies within `r` (inclusive of both ends, as a cursor at a token's end is on it). */
export function contains(r: Range, p: Position): boolean {
  if (p.line < r.start.line || p.line > r.end.line) return false;
  if (p.line === r.start.line && p.character < r.start.character) return false;
  if (p.line === r.end.line && p.character > r.end.character) return false;
  return true;
}

/** The function whose range contains `p`. */
export function functionAt(result: FileResult, p: Position): FunctionResult | undefined {
  return result.functions.find((fn) => contains(fn.range, p));
}

/** The identifier (or `a->b.c` member chain) under `p` in `lineText`. */
export function wordAt(lineText: string, character: number): { word: string; start: number; end: number } | null {
  const isWord = (c: string) => /[A-Za-z0-9_]/.test(c);
  let s = Math.min(character, lineText.length);
  let e = s;
  if (!(s < lineText.length && isWord(lineText[s])) && !(s > 0 && isWord(lineText[s - 1]))) return null;
  while (s > 0 && isWord(lineText[s - 1])) s--;
  while (e < lineText.length && isWord(lineText[e])) e++;
  // Extend left over member access so `mmu->iova` matches a holder written that way.
  let chainStart = s;
  for (;;) {
    const m = /([A-Za-z_][A-Za-z0-9_]*)\s*(->|\.)\s*$/.exec(lineText.slice(0, chainStart));
    if (!m) break;
    chainStart = m.index;
  }
  return { word: lineText.slice(chainStart, e).replace(/\s+/g, ''), start: chainStart, end: e };
}

function holderMatches(holder: string, word: string): boolean {
  const h = holder.replace(/\s+/g, '').replace(/^&/, '');
  if (h === word) return true;
  // `dev->dma` hovered on `dma`, or `dma` hovered on a holder `dev->dma`.
  const last = (s: string) => s.split(/->|\./).pop();
  return last(h) === last(word) && (h.endsWith(word) || word.endsWith(h));
}

/** The resources of `fn` that the cursor is on: on the acquiring call, or on the holder's name. */
export function resourcesAt(fn: FunctionResult, p: Position, lineText: string): ResourceInfo[] {
  const onCall = (fn.resources ?? []).filter((r) => contains(r.range, p));
  if (onCall.length) return onCall;
  const w = wordAt(lineText, p.character);
  if (!w) return [];
  return (fn.resources ?? []).filter((r) => holderMatches(r.holder, w.word));
}

/** Hover text for the resources under the cursor: where acquired, and its fate on each path. */
export function hoverFor(result: FileResult, p: Position, lineText: string): Hover | null {
  const fn = functionAt(result, p);
  if (!fn) return null;
  const found = resourcesAt(fn, p, lineText);
  if (!found.length) return null;
  const parts = found.map((r) => {
    const head = `**${r.kind}** \`${r.holder}\` — acquired by \`${r.acquiredBy}\` at line ${r.range.start.line + 1}`;
    const fates = r.fates.length
      ? '\n\n| path | fate |\n|---|---|\n' + r.fates.map((f) => `| ${escapeCell(f.path)} | ${escapeCell(f.fate)} |`).join('\n')
      : '\n\n_no explored path reaches it_';
    return head + fates;
  });
  const first = found[0];
  return {
    contents: { kind: MarkupKind.Markdown, value: parts.join('\n\n---\n\n') },
    range: found.length === 1 && contains(first.range, p) ? first.range : undefined,
  };
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function sameRange(a: Range, b: Range): boolean {
  return a.start.line === b.start.line && a.start.character === b.start.character
    && a.end.line === b.end.line && a.end.character === b.end.character;
}

/** The finding a diagnostic came from (same rule, range and function). */
export function findingFor(result: FileResult, d: Diagnostic): Finding | undefined {
  const fnName = (d.data as DiagnosticData | undefined)?.function;
  const all = result.fileFindings.concat(...result.functions.map((fn) => fn.findings));
  return all.find((f) => f.rule === d.code && sameRange(f.range, d.range) && (!fnName || f.function === fnName));
}

/** Quick fixes for the diagnostics in the request's context, from Finding.fix. */
export function codeActionsFor(result: FileResult, uri: string, diagnostics: Diagnostic[]): CodeAction[] {
  const actions: CodeAction[] = [];
  for (const d of diagnostics) {
    if (d.source !== SOURCE) continue;
    const f = findingFor(result, d);
    if (!f?.fix) continue;
    actions.push({
      title: f.fix.title,
      kind: CodeActionKind.QuickFix,
      diagnostics: [d],
      isPreferred: true,
      edit: { changes: { [uri]: f.fix.edits.map((e) => ({ range: e.range, newText: e.newText })) } },
    });
  }
  return actions;
}

/** A "Run Snippet" code lens on each function that uses the IOMMU/DMA API. */
export function codeLensesFor(result: FileResult): CodeLens[] {
  return result.functions.filter((fn) => fn.usesApi).map((fn) => {
    const arg: FunctionRef = { uri: result.uri, functionName: fn.name };
    const n = fn.paths.length;
    const issues = fn.findings.filter((f) => f.rule !== 'budget').length;
    const title = `▶ Run Snippet (${n} path${n === 1 ? '' : 's'}${issues ? `, ${issues} finding${issues === 1 ? '' : 's'}` : ''})`;
    return { range: fn.nameRange, command: { title, command: RUN_SNIPPET_COMMAND, arguments: [arg] } };
  });
}

/** Diagnostics for a bad `.iommu-lens.json`: each error placed on the key it names, when found. */
export function configDiagnostics(text: string, errors: { path: string; message: string }[]): Diagnostic[] {
  const lines = text.split('\n');
  const locate = (path: string): Range => {
    const key = path.split('.').filter((k) => !/^\d+$/.test(k)).pop();
    if (key && key !== '(root)' && key !== '(file)') {
      for (let i = 0; i < lines.length; i++) {
        const c = lines[i].indexOf(`"${key}"`);
        if (c >= 0) return Range.create(i, c, i, c + key.length + 2);
      }
    }
    const m = /at position (\d+)|line (\d+) column (\d+)/.exec(errors.find((e) => e.path === path)?.message ?? '');
    if (m?.[1]) {
      const off = Number(m[1]);
      let line = 0, start = 0;
      for (let i = 0; i < off && i < text.length; i++) if (text[i] === '\n') { line++; start = i + 1; }
      return Range.create(line, off - start, line, off - start + 1);
    }
    if (m?.[2]) return Range.create(Number(m[2]) - 1, Number(m[3]) - 1, Number(m[2]) - 1, Number(m[3]));
    return Range.create(0, 0, 0, Math.max(1, lines[0]?.length ?? 1));
  };
  return errors.map((e) => ({
    range: locate(e.path),
    severity: DiagnosticSeverity.Error,
    source: SOURCE,
    code: 'config',
    codeDescription: { href: ruleHref('config') },
    message: `${e.path}: ${e.message} (the default is used instead)`,
  }));
}
