/**
 * A plain-JavaScript copy of a function's syntax tree. The executor visits the same nodes
 * on every explored path; reading them through the native binding each time (marshalling a
 * node per property access) cost more than the analysis itself. One walk with a TreeCursor
 * copies the subtree into objects with the subset of the SyntaxNode API the lowering and the
 * executor use, so they run unchanged on either.
 */
import type { SyntaxNode } from '../parse/parser';

export interface Point { row: number; column: number }

export class PlainNode {
  children: PlainNode[] = [];
  private fieldsOf: (string | null)[] = [];
  parent: PlainNode | null = null;
  private _named?: PlainNode[];

  constructor(
    readonly type: string,
    readonly startIndex: number,
    readonly endIndex: number,
    readonly startPosition: Point,
    readonly endPosition: Point,
    readonly isNamed: boolean,
    readonly isMissing: boolean,
    private readonly source: string,
  ) {}

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
  const make = (): PlainNode => new PlainNode(
    cursor.nodeType, cursor.startIndex, cursor.endIndex, cursor.startPosition, cursor.endPosition,
    cursor.nodeIsNamed, cursor.nodeIsMissing, source);
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
