/**
 * Lowering of one C function body (a tree-sitter node) to a control-flow graph.
 *
 * Statements become blocks of straight-line instructions ending in a terminator. Conditions
 * are split on `&&`, `||` and `!` into chains of branches, so the right operand of a
 * short-circuit only runs on the edge that reaches it (the kernel writes
 * `if (!p || dma_mapping_error(dev, d))`). `goto` and labels are edges, which is what
 * the kernel's unwind ladders need; loops carry the variables their body assigns so the
 * executor can widen them when it stops unrolling.
 *
 * Error nodes are skipped locally: an ERROR child of a compound statement is lowered as
 * the statements tree-sitter recovered inside it, where there are any.
 */
import type { SyntaxNode } from '../parse/parser';
import { loopMacroCall } from '../parse/loops';

export type Instr =
  /** Evaluate an expression for its effects (calls, assignments). */
  | { k: 'eval'; node: SyntaxNode }
  /** The loop variable of a loop macro takes the next element: an unknown. */
  | { k: 'havoc'; target: SyntaxNode }
  /** `left = right` (a ternary assignment split into its two arms). */
  | { k: 'assign'; left: SyntaxNode; right: SyntaxNode }
  /** Declare a local; `init` is the initialiser expression, if any. */
  | { k: 'decl'; name: string; node: SyntaxNode; init: SyntaxNode | null; aggregate: boolean; union?: boolean }
  /** The true side of `if (WARN_ON(x))`: a path the developer asserts does not happen, followed but marked. */
  | { k: 'warned'; node: SyntaxNode };

export type Term =
  | { k: 'jump'; to: number }
  /** A path the code asserts cannot happen (`BUG_ON(x);`, a bare `WARN_ON(x);`): not followed. */
  | { k: 'unreachable' }
  /** Branch on an expression's truth. */
  | { k: 'branch'; cond: SyntaxNode; t: number; f: number }
  | { k: 'return'; node: SyntaxNode | null; stmt: SyntaxNode }
  /** Switch: compare `value` with each case in order. */
  | { k: 'switch'; value: SyntaxNode; cases: { value: SyntaxNode | null; to: number }[]; otherwise: number };

export interface Block {
  id: number;
  instrs: Instr[];
  term: Term;
  /** Set on a loop head: the variables (as written) the loop assigns, for widening. */
  loop?: { assigned: string[]; node: SyntaxNode; exit: number };
}

export interface Cfg {
  blocks: Block[];
  entry: number;
  /** Blocks with more than one predecessor: where identical states are merged. */
  joins: Set<number>;
  /** Labels by name, for fixes that insert code under an unwind label. */
  labels: Map<string, { block: number; node: SyntaxNode }>;
  /** Blocks of labels that follow a return or a goto: only their gotos reach them. */
  jumpedOnly?: Set<number>;
}


class Builder {
  blocks: Block[] = [];
  labels = new Map<string, { block: number; node: SyntaxNode }>();
  /** Each label's block and the block before it that falls into it. */
  fallIn: [number, number][] = [];
  private pendingGotos: { block: number; label: string }[] = [];
  private breakTargets: number[] = [];
  private continueTargets: number[] = [];

  private dottedCache = new Map<number, Set<string>>();
  /** Names used as `name.member` in a block (not `a->name.member`, not `a.name.member`). */
  dotted(block: SyntaxNode | null): Set<string> {
    if (!block) return new Set();
    let d = this.dottedCache.get(block.id);
    if (!d) {
      d = new Set();
      for (const m of block.text.matchAll(/(?<![\w.>])([A-Za-z_]\w*)\s*\.\s*[A-Za-z_]/g)) d.add(m[1]);
      this.dottedCache.set(block.id, d);
    }
    return d;
  }

  newBlock(): number {
    const id = this.blocks.length;
    this.blocks.push({ id, instrs: [], term: { k: 'return', node: null, stmt: null as unknown as SyntaxNode } });
    (this.blocks[id] as { open?: boolean }).open = true;
    return id;
  }

  /** Close `from` with a terminator (if not already closed). */
  close(from: number, term: Term): void {
    const b = this.blocks[from] as Block & { open?: boolean };
    if (!b.open) return;
    b.term = term;
    b.open = false;
  }

  isOpen(id: number): boolean {
    return !!(this.blocks[id] as { open?: boolean }).open;
  }

  labelBlock(name: string, node: SyntaxNode): number {
    let l = this.labels.get(name);
    if (!l) {
      l = { block: this.newBlock(), node };
      this.labels.set(name, l);
    } else if (node.type === 'labeled_statement') {
      l.node = node;
    }
    return l.block;
  }

  /** Lower a condition: jump to t when it holds, to f otherwise. */
  cond(node: SyntaxNode, cur: number, t: number, f: number): void {
    node = stripParens(node);
    if (node.type === 'binary_expression') {
      const op = node.childForFieldName('operator')?.type ?? node.child(1)?.type;
      const left = node.childForFieldName('left');
      const right = node.childForFieldName('right');
      if (left && right && (op === '&&' || op === '||')) {
        const mid = this.newBlock();
        if (op === '&&') this.cond(left, cur, mid, f);
        else this.cond(left, cur, t, mid);
        this.cond(right, mid, t, f);
        return;
      }
    }
    if (node.type === 'unary_expression' && (node.childForFieldName('operator')?.type ?? node.child(0)?.type) === '!') {
      const arg = node.childForFieldName('argument');
      if (arg) { this.cond(arg, cur, f, t); return; }
    }
    // unlikely(x), likely(x), WARN_ON(x), WARN_ON_ONCE(x): the truth of x (the warning is a side effect).
    if (node.type === 'call_expression') {
      const fn = node.childForFieldName('function');
      const args = node.childForFieldName('arguments')?.namedChildren ?? [];
      if (fn?.type === 'identifier' && /^(unlikely|likely|WARN_ON|WARN_ON_ONCE|WARN|WARN_ONCE)$/.test(fn.text) && args.length >= 1) {
        if (fn.text.startsWith('WARN')) {
          // The warning's side: followed (its unwind is still read), but marked as asserted.
          const w = this.newBlock();
          this.blocks[w].instrs.push({ k: 'warned', node });
          this.close(w, { k: 'jump', to: t });
          this.cond(args[0], cur, w, f);
          return;
        }
        this.cond(args[0], cur, t, f);
        return;
      }
    }
    this.close(cur, { k: 'branch', cond: node, t, f });
  }

  /** Lower a statement starting in block `cur`; returns the block where control continues. */
  stmt(node: SyntaxNode, cur: number): number {
    if (!this.isOpen(cur)) cur = this.newBlock(); // unreachable code after a jump: keep lowering it
    switch (node.type) {
      case 'compound_statement':
      case 'translation_unit':
        return this.seq(node.namedChildren, cur);
      case 'ERROR':
        return this.seq(node.namedChildren.filter((c) => isStatement(c)), cur);
      case 'declaration':
        for (const d of node.childrenForFieldName('declarator')) {
          const init = d.type === 'init_declarator' ? d.childForFieldName('value') : null;
          const declr = d.type === 'init_declarator' ? d.childForFieldName('declarator') : d;
          const name = declaratorName(declr);
          if (!name || declr?.type === 'function_declarator') continue;
          const typeNode = node.childForFieldName('type');
          const aggregate = declr!.type === 'array_declarator' || init?.type === 'initializer_list' ||
            (declr!.type === 'identifier' && !!typeNode && (/^(struct_specifier|union_specifier)$/.test(typeNode.type)
              // A typedef'd struct (`CONFIGPARMS cfg;`, the typedef in a header): its members are used.
              || (typeNode.type === 'type_identifier' && this.dotted(node.parent).has(name))));
          // A union's members share their storage: what one holds, the others read (octeon's ring entry).
          const union = declr!.type === 'identifier' && typeNode?.type === 'union_specifier' || undefined;
          this.blocks[cur].instrs.push({ k: 'decl', name, node: d, init, aggregate, union });
        }
        return cur;
      case 'expression_statement': {
        const e = node.namedChildren[0];
        // `x = c ? a : b;` is an if/else: each arm keeps what it assigns (frag = page ? page_address(page) : NULL).
        const right = e?.type === 'assignment_expression' && e.child(1)?.type === '=' ? e.childForFieldName('right') : null;
        const tern = right ? stripParens(right) : null;
        if (e && tern?.type === 'conditional_expression') {
          const c = tern.childForFieldName('condition');
          const a = tern.childForFieldName('consequence');
          const b = tern.childForFieldName('alternative');
          const left = e.childForFieldName('left');
          if (c && a && b && left) {
            const tB = this.newBlock();
            const fB = this.newBlock();
            const join = this.newBlock();
            this.cond(c, cur, tB, fB);
            this.blocks[tB].instrs.push({ k: 'assign', left, right: a });
            this.close(tB, { k: 'jump', to: join });
            this.blocks[fB].instrs.push({ k: 'assign', left, right: b });
            this.close(fB, { k: 'jump', to: join });
            return join;
          }
        }
        // `WARN_ON(x);` / `BUG_ON(x);` as a statement: the developer asserts x is false; a path on
        // which it holds is one the analysis does not follow (the warning would fire first).
        const fn = e?.type === 'call_expression' ? e.childForFieldName('function') : null;
        const asserted = fn?.type === 'identifier' && /^(WARN_ON|WARN_ON_ONCE|BUG_ON)$/.test(fn.text)
          ? e!.childForFieldName('arguments')?.namedChildren[0] : undefined;
        if (asserted) {
          const dead = this.newBlock();
          const next = this.newBlock();
          this.close(dead, { k: 'unreachable' });
          this.cond(asserted, cur, dead, next);
          return next;
        }
        if (e) this.blocks[cur].instrs.push({ k: 'eval', node: e });
        return cur;
      }
      case 'if_statement': {
        const cond = node.childForFieldName('condition');
        const cons = node.childForFieldName('consequence');
        let alt = node.childForFieldName('alternative');
        if (alt?.type === 'else_clause') alt = alt.namedChildren[0] ?? null;
        const tB = this.newBlock();
        const fB = this.newBlock();
        const join = this.newBlock();
        if (cond) this.cond(cond, cur, tB, fB); else this.close(cur, { k: 'jump', to: tB });
        const tEnd = cons ? this.stmt(cons, tB) : tB;
        this.close(tEnd, { k: 'jump', to: join });
        const fEnd = alt ? this.stmt(alt, fB) : fB;
        this.close(fEnd, { k: 'jump', to: join });
        return join;
      }
      case 'while_statement':
      case 'for_statement': {
        let init: SyntaxNode | null = null;
        if (node.type === 'for_statement') {
          init = node.childForFieldName('initializer');
          if (init) {
            if (init.type === 'declaration') cur = this.stmt(init, cur);
            else this.blocks[cur].instrs.push({ k: 'eval', node: init });
          }
        }
        const cond = node.childForFieldName('condition');
        const update = node.type === 'for_statement' ? node.childForFieldName('update') : null;
        const head = this.newBlock();
        const body = this.newBlock();
        const cont = this.newBlock();
        const exit = this.newBlock();
        this.close(cur, { k: 'jump', to: head });
        if (cond) this.cond(cond, head, body, exit); else this.close(head, { k: 'jump', to: body });
        this.blocks[head].loop = { assigned: assignedIn(node), node, exit };
        this.loopBody(node.childForFieldName('body'), body, exit, cont);
        if (update) this.blocks[cont].instrs.push({ k: 'eval', node: update });
        this.close(cont, { k: 'jump', to: head });
        return exit;
      }
      case 'do_statement': {
        const body = this.newBlock();
        const cont = this.newBlock();
        const exit = this.newBlock();
        this.close(cur, { k: 'jump', to: body });
        this.blocks[body].loop = { assigned: assignedIn(node), node, exit };
        this.loopBody(node.childForFieldName('body'), body, exit, cont);
        const cond = node.childForFieldName('condition');
        if (cond) this.cond(cond, cont, body, exit); else this.close(cont, { k: 'jump', to: exit });
        return exit;
      }
      case 'switch_statement': {
        const value = node.childForFieldName('condition');
        const body = node.childForFieldName('body');
        const exit = this.newBlock();
        const cases: { value: SyntaxNode | null; to: number }[] = [];
        let otherwise = exit;
        this.breakTargets.push(exit);
        let prevEnd: number | null = null;
        for (const c of body?.namedChildren ?? []) {
          if (c.type !== 'case_statement') {
            // statements before the first case are unreachable; still lower them
            prevEnd = this.stmt(c, prevEnd ?? this.newBlock());
            continue;
          }
          const entry = this.newBlock();
          if (prevEnd !== null) this.close(prevEnd, { k: 'jump', to: entry }); // fallthrough
          const v = c.childForFieldName('value');
          if (v) cases.push({ value: v, to: entry }); else otherwise = entry;
          prevEnd = this.seq(c.namedChildren.filter((x) => x !== v), entry);
        }
        if (prevEnd !== null) this.close(prevEnd, { k: 'jump', to: exit });
        this.breakTargets.pop();
        this.close(cur, { k: 'switch', value: value ? stripParens(value) : (value as unknown as SyntaxNode), cases, otherwise });
        return exit;
      }
      case 'preproc_if':
      case 'preproc_ifdef':
      case 'preproc_elif': {
        // #ifdef CONFIG_X inside a body: either branch may be compiled; branch on an unknown.
        const cond = node.childForFieldName('condition') ?? node.childForFieldName('name');
        const alt = node.childForFieldName('alternative');
        const body = node.namedChildren.filter((c) => c !== cond && c !== alt && isStatement(c));
        const tB = this.newBlock();
        const fB = this.newBlock();
        const join = this.newBlock();
        if (cond) this.close(cur, { k: 'branch', cond, t: tB, f: fB }); else this.close(cur, { k: 'jump', to: tB });
        this.close(this.seq(body, tB), { k: 'jump', to: join });
        const fEnd = alt ? this.stmt(alt, fB) : fB;
        this.close(fEnd, { k: 'jump', to: join });
        return join;
      }
      case 'preproc_else':
        return this.seq(node.namedChildren.filter((c) => isStatement(c)), cur);
      case 'return_statement': {
        const v = node.namedChildren[0] ?? null;
        const tern = v ? stripParens(v) : null;
        if (tern?.type === 'conditional_expression') {
          // return c ? a : b;  ->  if (c) return a; else return b;
          const c = tern.childForFieldName('condition');
          const a = tern.childForFieldName('consequence');
          const b = tern.childForFieldName('alternative');
          if (c && a && b) {
            const tB = this.newBlock();
            const fB = this.newBlock();
            this.cond(c, cur, tB, fB);
            this.close(tB, { k: 'return', node: a, stmt: node });
            this.close(fB, { k: 'return', node: b, stmt: node });
            return this.newBlock();
          }
        }
        this.close(cur, { k: 'return', node: v, stmt: node });
        return this.newBlock();
      }
      case 'goto_statement': {
        const label = node.childForFieldName('label')?.text ?? '';
        this.pendingGotos.push({ block: cur, label });
        this.close(cur, { k: 'jump', to: -1 });
        return this.newBlock();
      }
      case 'break_statement':
        if (this.breakTargets.length) this.close(cur, { k: 'jump', to: this.breakTargets[this.breakTargets.length - 1] });
        return this.newBlock();
      case 'continue_statement':
        if (this.continueTargets.length) this.close(cur, { k: 'jump', to: this.continueTargets[this.continueTargets.length - 1] });
        return this.newBlock();
      case 'labeled_statement': {
        const name = node.childForFieldName('label')?.text ?? '';
        const lb = this.labelBlock(name, node);
        this.fallIn.push([cur, lb]);
        this.close(cur, { k: 'jump', to: lb });
        const inner = node.namedChildren.filter((c) => c.type !== 'statement_identifier');
        return this.seq(inner, lb);
      }
      default:
        return cur; // comments, preprocessor lines, type definitions, empty statements
    }
  }

  /** A loop body from `entry`: `break` leaves to `exit`, `continue` and the end go to `cont`. */
  loopBody(body: SyntaxNode | null, entry: number, exit: number, cont: number): void {
    this.breakTargets.push(exit);
    this.continueTargets.push(cont);
    const end = body ? this.stmt(body, entry) : entry;
    this.breakTargets.pop();
    this.continueTargets.pop();
    this.close(end, { k: 'jump', to: cont });
  }

  /** Lower a list of statements; a `for_each...(…)` macro call followed by a statement is a loop. */
  seq(nodes: SyntaxNode[], cur: number): number {
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      const next = nodes[i + 1];
      const call = loopMacroCall(n);
      if (call && next && isStatement(next)) {
        cur = this.macroLoop(call, next, cur);
        i++;
        continue;
      }
      // `err_alloc: list_for_each_entry_safe(...) { ... }`: the label holds the macro's head.
      const inner = n.type === 'labeled_statement' ? n.namedChildren.find((c) => c.type !== 'statement_identifier') : undefined;
      const labelled = inner ? loopMacroCall(inner) : undefined;
      if (labelled && next && isStatement(next)) {
        if (!this.isOpen(cur)) cur = this.newBlock();
        const lb = this.labelBlock(n.childForFieldName('label')?.text ?? '', n);
        this.close(cur, { k: 'jump', to: lb });
        cur = this.macroLoop(labelled, next, lb);
        i++;
        continue;
      }
      cur = this.stmt(n, cur);
    }
    return cur;
  }

  /** `list_for_each_entry(pos, head, member) body`: the body runs 0, 1, 2... times. */
  macroLoop(call: SyntaxNode, body: SyntaxNode, cur: number): number {
    const head = this.newBlock();
    const bodyB = this.newBlock();
    const exit = this.newBlock();
    this.close(cur, { k: 'jump', to: head });
    // The loop variable is the first argument; evaluate the macro for its side effects (none)
    // and branch on an unknown (the loop condition is opaque).
    this.close(head, { k: 'branch', cond: call, t: bodyB, f: exit });
    // The cursor: list_for_each_entry(pos, ...) and most for_each_* name it first, for_each_sg(sgl, sg, ...)
    // second. Only a plain variable is given fresh values (never `areq->src`).
    const name = call.childForFieldName('function')?.text ?? '';
    const args = call.childForFieldName('arguments')?.namedChildren ?? [];
    const sg = /^for_each_sg/.test(name);
    // The cursor is the first plain variable among the first two arguments
    // (list_for_each_entry(pos, ...), v4l2_m2m_for_each_dst_buf(ctx->m2m_ctx, buf)).
    const cursorArg = sg ? args[1] : args.slice(0, 2).find((a) => a.type === 'identifier');
    // The scatterlist walkers also count: for_each_sg(sgl, sg, nents, i), for_each_sgtable_sg(sgt, sg, i);
    // `&desc->hw[i]` is another slot each time round.
    const counterArg = sg ? args[/^for_each_sgtable/.test(name) ? 2 : 3] : undefined;
    const vars = [cursorArg, counterArg].filter((a): a is SyntaxNode => a?.type === 'identifier');
    this.blocks[head].loop = { assigned: [...assignedIn(body), ...vars.map((v) => v.text)], node: call, exit };
    this.breakTargets.push(exit);
    this.continueTargets.push(head);
    for (const v of vars) this.blocks[bodyB].instrs.push({ k: 'havoc', target: v });
    const end = this.stmt(body, bodyB);
    this.breakTargets.pop();
    this.continueTargets.pop();
    this.close(end, { k: 'jump', to: head });
    return exit;
  }

  finish(): void {
    for (const g of this.pendingGotos) {
      const l = this.labels.get(g.label);
      const b = this.blocks[g.block];
      // A goto to a label we never saw (cut by a parse error) ends the path like a return.
      b.term = l ? { k: 'jump', to: l.block } : { k: 'return', node: null, stmt: null as unknown as SyntaxNode };
    }
    for (const b of this.blocks) {
      const ob = b as Block & { open?: boolean };
      if (ob.open) ob.term = { k: 'return', node: null, stmt: null as unknown as SyntaxNode };
      delete ob.open;
    }
  }
}

/** Build the CFG of a list of statements (a selection inside a function): run in order, then return. */
export function buildCfgFromStatements(stmts: SyntaxNode[]): Cfg {
  const b = new Builder();
  const entry = b.newBlock();
  const end = b.seq(stmts, entry);
  b.close(end, { k: 'return', node: null, stmt: null as unknown as SyntaxNode });
  b.finish();
  return finishCfg(b, entry);
}

/** Build the CFG of a function_definition node (or of any statement, for a selection). */
export function buildCfg(body: SyntaxNode): Cfg {
  const b = new Builder();
  const entry = b.newBlock();
  const end = b.stmt(body, entry);
  b.close(end, { k: 'return', node: null, stmt: null as unknown as SyntaxNode });
  b.finish();
  return finishCfg(b, entry);
}

function finishCfg(b: Builder, entry: number): Cfg {
  const preds = new Map<number, number>();
  const add = (to: number) => preds.set(to, (preds.get(to) ?? 0) + 1);
  for (const blk of b.blocks) {
    const t = blk.term;
    if (t.k === 'jump') add(t.to);
    else if (t.k === 'branch') { add(t.t); add(t.f); }
    else if (t.k === 'switch') { for (const c of t.cases) add(c.to); add(t.otherwise); }
  }
  const joins = new Set<number>();
  for (const [id, n] of preds) if (n > 1) joins.add(id);
  // A label after a return or a goto (its fall-in block has no predecessor) is reached only by
  // its gotos: an unwind.
  const jumpedOnly = new Set(b.fallIn.filter(([from]) => from !== entry && !preds.get(from)).map(([, lb]) => lb));
  return { blocks: b.blocks, entry, joins, labels: b.labels, jumpedOnly };
}

export function stripParens(n: SyntaxNode): SyntaxNode {
  while (n.type === 'parenthesized_expression' && n.namedChildren.length === 1) n = n.namedChildren[0];
  return n;
}

/** The identifier a declarator declares (`*p`, `a[4]`, `(*fn)(void)` ...). */
export function declaratorName(d: SyntaxNode | null): string | null {
  while (d) {
    if (d.type === 'identifier') return d.text;
    const inner = d.childForFieldName('declarator');
    if (!inner) return d.namedChildren.find((c) => c.type === 'identifier')?.text ?? null;
    d = inner;
  }
  return null;
}

function isStatement(n: SyntaxNode): boolean {
  return /statement$|^declaration$|^ERROR$|^preproc_(if|ifdef|else|elif)$/.test(n.type);
}

/** The lvalues (as written) assigned or incremented inside a node. */
function assignedIn(node: SyntaxNode): string[] {
  const out = new Set<string>();
  const walk = (n: SyntaxNode) => {
    if (n.type === 'assignment_expression') {
      const l = n.childForFieldName('left');
      if (l) out.add(l.text);
    } else if (n.type === 'update_expression') {
      const a = n.childForFieldName('argument');
      if (a) out.add(a.text);
    } else if (n.type === 'declaration') {
      for (const d of n.childrenForFieldName('declarator')) {
        const name = declaratorName(d.type === 'init_declarator' ? d.childForFieldName('declarator') : d);
        if (name) out.add(name);
      }
    }
    for (const c of n.namedChildren) walk(c);
  };
  walk(node);
  return [...out];
}

/** The blocks a block's terminator (or a loop's widened exit) can go to. */
export function successors(b: Block): number[] {
  const t = b.term;
  const out = t.k === 'jump' ? [t.to] : t.k === 'branch' ? [t.t, t.f]
    : t.k === 'switch' ? [...t.cases.map((c) => c.to), t.otherwise] : [];
  if (b.loop) out.push(b.loop.exit);
  return out;
}

const IDENT = /[A-Za-z_]\w*/g;

/**
 * For each join block, the names any block reachable from it mentions (`extra` added to each):
 * a local no later statement mentions cannot change what happens after the join, so two states
 * that differ only in such locals have the same future (the executor's merge key leaves them
 * out). Mentions are read from the statements' text, so a name used in a macro's arguments
 * counts; names a macro's body uses behind the call are the caller's to pass in `extra`.
 */
export function liveAtJoins(cfg: Cfg, extra: Iterable<string> = []): Map<number, Set<string>> {
  const mentions = cfg.blocks.map((b) => {
    const s = new Set<string>();
    const add = (n: SyntaxNode | null | undefined) => { if (n) for (const m of n.text.matchAll(IDENT)) s.add(m[0]); };
    for (const i of b.instrs) {
      if (i.k === 'eval' || i.k === 'warned') add(i.node);
      else if (i.k === 'havoc') add(i.target);
      else if (i.k === 'assign') { add(i.left); add(i.right); }
      else { s.add(i.name); add(i.init); }
    }
    const t = b.term;
    if (t.k === 'branch') add(t.cond);
    else if (t.k === 'return') add(t.node);
    else if (t.k === 'switch') { add(t.value); for (const c of t.cases) add(c.value); }
    return s;
  });
  const extras = [...extra];
  const out = new Map<number, Set<string>>();
  for (const j of cfg.joins) {
    const live = new Set<string>(extras);
    const seen = new Set<number>([j]);
    const stack = [j];
    while (stack.length) {
      const b = stack.pop()!;
      for (const n of mentions[b]) live.add(n);
      for (const s of successors(cfg.blocks[b])) if (!seen.has(s)) { seen.add(s); stack.push(s); }
    }
    out.set(j, live);
  }
  return out;
}
