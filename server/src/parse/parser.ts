/**
 * tree-sitter C front end. One Parser per process (tree-sitter parsers are not re-entrant,
 * and the server and CLI are single-threaded). The native N-API binding is used: see README.
 *
 * Kernel C is first put through `sanitize` (sanitize.ts), which rewrites what tree-sitter-c
 * cannot parse (annotations, macros taking types, `#ifdef` inside bodies...) into text of the same
 * length with the same line breaks, so every position in the tree is a position in the original.
 */
import Parser = require('tree-sitter');
import { sanitize, SanitizeRule } from './sanitize';
// tree-sitter-c ships no type declarations; it is a tree-sitter Language object.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const C: Parser.Language = require('tree-sitter-c');

export type Tree = Parser.Tree;
export type SyntaxNode = Parser.SyntaxNode;

let parser: Parser | undefined;

/** The text each tree was parsed from (after sanitizing), to re-parse incrementally. */
const parsedText = new WeakMap<Tree, string>();
/** The raw text each tree was parsed from (to tell the sanitizer's rewrites from the user's edit). */
const parsedRaw = new WeakMap<Tree, string>();

function getParser(): Parser {
  if (!parser) {
    parser = new Parser();
    parser.setLanguage(C);
  }
  return parser;
}

/** The tree-sitter C language, for queries. */
export function cLanguage(): Parser.Language {
  return C;
}

export interface ParseOptions {
  /** Apply the sanitizer (default true). Off only to measure what it wins. */
  sanitize?: boolean;
  /** Only these sanitizer rules (default all), to measure what each wins. */
  rules?: ReadonlySet<SanitizeRule>;
}

/**
 * Parse C text. Never throws on bad input: tree-sitter returns a tree with ERROR nodes.
 * `previous`, when given, must already have had `tree.edit()` applied for the change.
 * Positions (index, row, column; index and column in UTF-16 code units, as the binding counts
 * them) are those of `text`, and `node.text` is the original text, not the sanitized one.
 */
export function parseC(text: string, previous?: Tree, options: ParseOptions = {}): Tree {
  const input = options.sanitize === false ? text : sanitize(text, options.rules);
  if (previous) {
    const old = parsedText.get(previous);
    if (old === undefined) previous = undefined; // not ours: no way to know what it was parsed from
    else if (input !== text || old !== parsedRaw.get(previous)) markRewritten(previous, old, input, parsedRaw.get(previous), text);
  }
  // The native binding reads strings in chunks; very long inputs go through a callback.
  const tree = getParser().parse(input, previous, { bufferSize: Math.max(32 * 1024, input.length * 2 + 1) });
  parsedText.set(tree, input);
  parsedRaw.set(tree, text);
  // node.text reads tree.input: make it the original text (same length, same positions).
  (tree as unknown as { input: string }).input = text;
  return tree;
}

/**
 * The sanitizer can rewrite text away from the user's edit (typing `#endif` changes how a whole
 * `#ifdef` block is blanked). tree-sitter reuses every subtree outside the edited ranges, so mark
 * the span where the old and new parser inputs differ as edited too: a same-length edit over the
 * span between their common prefix and common suffix. `previous` is already in new coordinates.
 */
function markRewritten(previous: Tree, old: string, now: string, oldRaw?: string, nowRaw?: string): void {
  const min = Math.min(old.length, now.length);
  let p = 0;
  while (p < min && old.charCodeAt(p) === now.charCodeAt(p)) p++;
  if (p === old.length && p === now.length) return;
  let s = 0;
  while (s < min - p && old.charCodeAt(old.length - 1 - s) === now.charCodeAt(now.length - 1 - s)) s++;
  // The sanitizer changed nothing beyond the user's own edit (the raw texts differ over the same
  // span): the caller's tree.edit() already covers it. Tree.edit costs milliseconds on a big tree.
  if (oldRaw !== undefined && nowRaw !== undefined && oldRaw.length === old.length && nowRaw.length === now.length) {
    const rmin = Math.min(oldRaw.length, nowRaw.length);
    let rp = 0;
    while (rp < rmin && oldRaw.charCodeAt(rp) === nowRaw.charCodeAt(rp)) rp++;
    let rs = 0;
    while (rs < rmin - rp && oldRaw.charCodeAt(oldRaw.length - 1 - rs) === nowRaw.charCodeAt(nowRaw.length - 1 - rs)) rs++;
    if (rp <= p && rs <= s) return;
  }
  const end = now.length - s;
  const start = pointAt(now, p);
  const stop = pointAt(now, end);
  previous.edit({
    startIndex: p, oldEndIndex: end, newEndIndex: end,
    startPosition: start, oldEndPosition: stop, newEndPosition: stop,
  });
}

/** Row and column (UTF-16 units) of offset `at` in `text`. */
function pointAt(text: string, at: number): Parser.Point {
  let row = 0;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < at; i = text.indexOf('\n', i + 1)) {
    row++;
    lineStart = i + 1;
  }
  return { row, column: at - lineStart };
}
