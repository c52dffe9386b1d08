/**
 * A plain-JavaScript copy of a function's syntax tree. The executor visits the same nodes
 * on every explored path; reading them through the native binding each time (marshalling a
 * node per property access) cost more than the analysis itself. One walk with a TreeCursor
 * copies the subtree into objects with the subset of the SyntaxNode API the lowering and the
 * executor use, so they run unchanged on either.
 */
import type { SyntaxNode } from '../parse/parser';

export interface Point { row: number; column: number }

/**
 * Where each line of a text starts, for positions computed from offsets: reading them from the
 * cursor cost two native calls and two objects per node, and most nodes are never asked.
 * Rows count '\n' as tree-sitter does; columns are in the same UTF-16 units as the offsets.
 */
class Lines {
  private static last?: { source: string; lines: Lines };
  static of(source: string): Lines {
    const l = Lines.last;
    if (l && l.source === source) return l.lines;
    const lines = new Lines(source);
    Lines.last = { source, lines };
    return lines;
  }
  private readonly starts: number[] = [0];
  private constructor(source: string) {
    for (let i = source.indexOf('\n'); i >= 0; i = source.indexOf('\n', i + 1)) this.starts.push(i + 1);
  }
  at(index: number): Point {
    const s = this.starts;
    let lo = 0, hi = s.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (s[mid] <= index) lo = mid; else hi = mid - 1;
    }
    return { row: lo, column: index - s[lo] };
  }
}

export class PlainNode {
  children: PlainNode[] = [];
  private fieldsOf: (string | null)[] = [];
  parent: PlainNode | null = null;
  private _named?: PlainNode[];

  constructor(
    readonly type: string,
    readonly startIndex: number,
    readonly endIndex: number,
    readonly isNamed: boolean,
    readonly isMissing: boolean,
    private readonly source: string,
    private readonly lines: Lines,
  ) {}

  get startPosition(): Point { return this.lines.at(this.startIndex); }
  get endPosition(): Point { return this.lines.at(this.endIndex); }

  get text(): string {
    return this.source.slice(this.startIndex, this.endIndex);
  }

  /** The whole text the tree was parsed from (the file), for rules that read its declarations. */
  get sourceText(): string {
    return this.source;
  }

  get namedChildren(): PlainNode[] {
    return (this._named ??= this.children.filter((c) => c.isNamed));
  }

  get firstChild(): PlainNode | null { return this.children[0] ?? null; }
  get firstNamedChild(): PlainNode | null { return this.namedChildren[0] ?? null; }
  get lastChild(): PlainNode | null { return this.children[this.children.length - 1] ?? null; }
  get hasError(): boolean { return this.type === 'ERROR' || this.isMissing || this.children.some((c) => c.hasError); }

  child(i: number): PlainNode | null { return this.children[i] ?? null; }

  childForFieldName(name: string): PlainNode | null {
    const i = this.fieldsOf.indexOf(name);
    return i < 0 ? null : this.children[i];
  }

  childrenForFieldName(name: string): PlainNode[] {
    const out: PlainNode[] = [];
    this.fieldsOf.forEach((f, i) => { if (f === name) out.push(this.children[i]); });
    return out;
  }

  /** @internal */
  add(c: PlainNode, field: string | null): void {
    c.parent = this;
    this.children.push(c);
    this.fieldsOf.push(field);
  }
}

/** Copy a subtree (one TreeCursor walk). `source` must be the text the tree was parsed from. */
export function toPlain(node: SyntaxNode, source: string): SyntaxNode {
  const cursor = node.walk();
  const lines = Lines.of(source);
  const make = (): PlainNode => new PlainNode(
    cursor.nodeType, cursor.startIndex, cursor.endIndex, cursor.nodeIsNamed, cursor.nodeIsMissing, source, lines);
  const root = make();
  const stack: PlainNode[] = [root];
  if (cursor.gotoFirstChild()) {
    for (;;) {
      const n = make();
      stack[stack.length - 1].add(n, cursor.currentFieldName ?? null);
      if (cursor.gotoFirstChild()) { stack.push(n); continue; }
      while (!cursor.gotoNextSibling()) {
        if (!cursor.gotoParent() || stack.length === 1) return root as unknown as SyntaxNode;
        stack.pop();
      }
    }
  }
  return root as unknown as SyntaxNode;
}
