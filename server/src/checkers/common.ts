/**
 * What every checker gets: the function's exploration, and helpers to turn the executor's
 * sites and exits into the engine's Finding shape.
 */
import type { Exploration, PathRecord } from '../exec/executor';
import type { SiteRef } from '../exec/state';
import type { Finding, Range, RuleId, Severity } from '../engine/types';
import type { Config } from '../config';
import type { SyntaxNode } from '../parse/parser';

/** The callers' cleanup after a function fails: how many call sites, the kinds they release. */
export interface CallerCleanup {
  callers: number;
  kinds: Set<string>;
  /** Every call site's failure handling was read (else nothing is concluded from it). */
  understood: boolean;
  /**
   * By kind, the fields the cleanup names in its releases (`he_dev->rbrq_base` gives `rbrq_base`),
   * or '*' when some release of that kind names no field (a helper's loop, a local).
   */
  fields?: Map<string, Set<string> | '*'>;
}

export interface CheckContext {
  fn: string;
  exploration: Exploration;
  config: Config;
  /**
   * The function's definition (a plain copy of its tree-sitter node, positions in the file), for
   * the rules that read its declarations and loops rather than its paths (dma-on-stack).
   */
  node?: SyntaxNode;
  /**
   * The function is an entry point whose failure nobody unwinds for it: a driver's probe or a
   * netdev/file open (the driver core calls no remove after a failed probe, no stop after a failed
   * open), so everything it acquired and did not release is leaked when it fails. A string names
   * the ops field it is installed in (`create_cq`, `start_streaming`).
   */
  entryPoint?: boolean | string;
  /**
   * The function handles one request for a framework (a netdev's ndo_start_xmit, a SCSI host's
   * queuecommand, a crypto engine's do_one_request): when one of its calls fails and it gives up,
   * nothing unwinds for it, whatever code it returns (NETDEV_TX_OK for a dropped packet).
   */
  requestHandler?: boolean;
  /** The function returns nothing: a caller cannot know it failed, so it cannot undo for it. */
  returnsVoid?: boolean;
  /** What the callers in the same file do after this function fails (engine: cleanedByCaller). */
  callers?: CallerCleanup;
}

export type Checker = (ctx: CheckContext) => Finding[];

export function siteRange(s: SiteRef): Range {
  return { start: { line: s.line, character: s.col }, end: { line: s.endLine, character: s.endCol } };
}

export function lineRange(line: number, col = 0): Range {
  return { start: { line, character: col }, end: { line, character: col } };
}

/** "when iommu_map() fails at line 29" / "on the path that ends at `return 0;` (line 40)". */
export function pathPhrase(p: PathRecord): string {
  if (p.state.failed) return `when ${p.state.failed.api}() fails at line ${p.state.failed.line + 1}`;
  return `on the path that leaves at line ${p.exit.line + 1} (\`${p.exit.text}\`)`;
}

export function finding(rule: RuleId, severity: Severity, ctx: CheckContext, range: Range, message: string,
  related: Finding['related'], pathIndex?: number): Finding {
  return { rule, severity, message, range, function: ctx.fn, related, pathIndex };
}

/** First path index per key, keeping the first finding of each site. */
export function firstBy<T>(items: T[], keyOf: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((t) => {
    const k = keyOf(t);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
