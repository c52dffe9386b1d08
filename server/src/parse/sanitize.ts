/**
 * The offset-preserving pre-pass: rewrites kernel C that tree-sitter-c cannot parse into text of
 * the SAME length with the SAME line breaks, so that every index, row and column of the tree is a
 * position in the original text. Each rule only writes spaces, identifier characters, or moves one
 * bracket or `;` into whitespace; a clean file comes back byte-identical.
 *
 * Rules (each measured on the 6.12 corpus by `node scripts/corpus.mjs --parse-stats --ablate`):
 *   annotations   `__iomem`, `__user`, `__init`, `__acquires(x)`, `__aligned(n)`... -> spaces
 *   type-args     `container_of(p, struct foo, m)` -> `struct_foo`; `min_t(unsigned int, ..)`
 *                 -> `unsigned_int`; `offsetof(struct foo, a.b)` -> `OFFSETOF(struct_foo, a.b)`
 *   preproc       `#if`/`#ifdef` groups inside a function body that tree-sitter cannot take as
 *                 they are (unbalanced braces, a statement cut in two): the first branch is kept
 *                 (the `#else` one for `#if 0`), the others and the directive lines blanked
 *   strings       `KERN_ERR PFX "x"`, `"x" __stringify(__LINE__)` -> the macros become literals
 *   guard-blocks  `scoped_guard(lock, &l) {` -> `scoped_guard(lock, &l);{`: a call, then the block
 *                 (the `;` takes the place of a blank)
 *   loop-macros   `list_for_each_entry(skb, &l, list)\n\t\tskb->protocol = x;`: tree-sitter glues a
 *                 body that starts `ident->`, `ident[`, `*p`, `(` to the macro call (an ERROR, or a
 *                 silent multiplication); a `;` in the first blank after the `)` separates them.
 *                 Loop macros followed by `{` or by a call keep tree-sitter's call + MISSING `;`
 *                 shape. loops.ts `loopMacroCall` recognises both.
 *   digit-args    token-pasting arguments such as `tg3_flag(tp, 5701_DMA_BUG)` -> `_701_DMA_BUG`
 *   stmt-macros   `IF_ERR(printk("x");)` -> `IF_ERR(printk("x"));`
 */
import { Region, scanRegions, codeOnly } from './lex';
import { LOOP_MACRO } from './loops';

export type SanitizeRule =
  | 'annotations' | 'type-args' | 'preproc' | 'strings' | 'guard-blocks' | 'loop-macros'
  | 'digit-args' | 'stmt-macros';

export const SANITIZE_RULES: readonly SanitizeRule[] = [
  'annotations', 'type-args', 'preproc', 'strings', 'guard-blocks', 'loop-macros', 'digit-args',
  'stmt-macros',
];

const ALL_RULES: ReadonlySet<SanitizeRule> = new Set(SANITIZE_RULES);

/** A same-length replacement of text[start, start + text.length). */
interface Edit { start: number; text: string }

/**
 * Sanitize kernel C for tree-sitter-c. The result has the same length as `text` and a line break
 * wherever `text` has one. Never throws; unknown constructs are left as they are.
 */
export function sanitize(text: string, rules: ReadonlySet<SanitizeRule> = ALL_RULES): string {
  const regions = scanRegions(text);
  const code = codeOnly(text, regions);
  const edits: Edit[] = [];
  const on = (r: SanitizeRule) => rules.has(r);
  // Blanked #if branches first: later rules must not write into them.
  const blanked: Array<[number, number]> = on('preproc') ? preprocBranches(text, code, regions, edits) : [];
  const dead = (at: number) => inSpans(blanked, at);
  if (on('annotations')) annotations(code, edits, dead);
  if (on('type-args')) typeArgs(code, edits, dead);
  if (on('strings')) strings(text, code, regions, edits, dead);
  if (on('guard-blocks')) guardBlocks(text, code, edits, dead);
  if (on('loop-macros')) loopMacros(text, code, edits, dead);
  if (on('digit-args')) digitArgs(code, edits, dead);
  if (on('stmt-macros')) stmtMacros(code, edits, dead);
  return apply(text, edits);
}

function apply(text: string, edits: Edit[]): string {
  if (edits.length === 0) return text;
  edits.sort((a, b) => a.start - b.start);
  const parts: string[] = [];
  let at = 0;
  for (const e of edits) {
    if (e.start < at) continue; // overlaps an earlier edit: the first one wins
    parts.push(text.slice(at, e.start), e.text);
    at = e.start + e.text.length;
  }
  parts.push(text.slice(at));
  return parts.join('');
}

function inSpans(spans: Array<[number, number]>, at: number): boolean {
  // spans are few (one per blanked branch) and sorted
  let lo = 0, hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (at < spans[mid][0]) hi = mid - 1;
    else if (at >= spans[mid][1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Spaces for every character of text[start, end) but line breaks. */
function spaces(text: string, start: number, end: number): Edit {
  return { start, text: text.slice(start, end).replace(/[^\r\n]/g, ' ') };
}

// ---------------------------------------------------------------------------------------------
// annotations

/** Sparse/compiler annotations that stand alone (include/linux/compiler_types.h, init.h...). */
const BARE_ANNOTATIONS = [
  '__user', '__iomem', '__rcu', '__percpu', '__force', '__nocast', '__safe', '__private',
  '__bitwise', '__kernel', '__init', '__exit', '__initdata', '__initconst', '__exitdata',
  '__refdata', '__ref', '__devinit', '__devexit', '__devinitdata', '__must_check',
  '__always_inline', 'noinline', '__noinline', '__maybe_unused', '__always_unused', '__used',
  '__cold', '__hot', '__packed', '__weak', '__visible', 'notrace', '__sched', '__kprobes',
  '__noreturn', '__ro_after_init', '__read_mostly', '____cacheline_aligned',
  '____cacheline_aligned_in_smp', '__cacheline_aligned', '__cacheline_aligned_in_smp',
  '__randomize_layout', '__no_randomize_layout', '__latent_entropy', '__nocfi', 'asmlinkage',
  '__no_kcsan', '__no_sanitize_address', '__noinline_for_stack', 'noinline_for_stack',
  '__inline_maybe_unused', '__flatten', '__pure', '__attribute_const__', '__malloc',
];
/** Annotations that take an argument list: the whole `name(...)` is blanked. */
const CALL_ANNOTATIONS = [
  '__aligned', '__attribute__', '__attribute', '__releases', '__acquires', '__must_hold',
  '__printf', '__scanf', '__free', '__cleanup', '__counted_by', '__section', '__cond_acquires',
  '__cond_releases', '__alloc_size', '__assume_aligned', '__nonstring', '__guarded_by',
  '__pt_guarded_by', '__diagnose_as', '__no_sanitize_or_inline',
];

let annotationRegex: RegExp | undefined;

function annotations(code: string, edits: Edit[], dead: (at: number) => boolean): void {
  annotationRegex ??= new RegExp(
    `\\b(?:(${CALL_ANNOTATIONS.join('|')})\\s*\\(|(?:${BARE_ANNOTATIONS.join('|')})\\b)`, 'g');
  const re = annotationRegex;
  re.lastIndex = 0;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    if (dead(m.index)) continue;
    let end = m.index + m[0].length;
    if (m[1]) {
      const close = matchParen(code, end - 1);
      if (close < 0) continue;
      end = close + 1;
    }
    edits.push(spaces(code, m.index, end));
    re.lastIndex = end;
  }
}

/** Index of the `)` that closes the `(` at `open`, in code-only text; -1 if none. */
function matchParen(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const c = code.charCodeAt(i);
    if (c === 40) depth++;
    else if (c === 41) { if (--depth === 0) return i; }
    else if (c === 59 || c === 123 || c === 125) { if (depth <= 1 && c !== 59) return -1; }
  }
  return -1;
}

/** Index of the `(` that opens the `)` at `close`; -1 if none. */
function matchParenBack(code: string, close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    const c = code.charCodeAt(i);
    if (c === 41) depth++;
    else if (c === 40) { if (--depth === 0) return i; }
    else if (c === 123 || c === 125 || c === 59) return -1;
  }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// type-args

/** Identifiers before `(` whose parentheses take a type in valid C: left alone. */
const TYPE_TAKING = new Set([
  'sizeof', 'typeof', '__typeof__', '__typeof', 'offsetof', 'alignof', '_Alignof', '__alignof__',
  'va_arg', '_Generic', '__builtin_offsetof', '__builtin_types_compatible_p', 'if', 'while',
  'for', 'switch', 'return', 'case',
]);
/** tree-sitter-c keywords and primitive_type names a macro may take as an argument. */
const TYPE_WORDS = new Set([
  'struct', 'union', 'enum', 'const', 'volatile', 'unsigned', 'signed', 'int', 'long', 'short',
  'char', 'bool', 'void', 'float', 'double', 'size_t', 'ssize_t', 'ptrdiff_t', 'intptr_t',
  'uintptr_t', 'int8_t', 'int16_t', 'int32_t', 'int64_t', 'uint8_t', 'uint16_t', 'uint32_t',
  'uint64_t', '_Bool',
]);

const typeArgRegex =
  /[(,][ \t\r\n]*((?:(?:const|volatile)[ \t\r\n]+)*(?:(?:struct|union|enum)[ \t\r\n]+[A-Za-z_]\w*|(?:(?:unsigned|signed)[ \t\r\n]+)?(?:long[ \t\r\n]+long|long|int|short|char)(?:[ \t\r\n]+int)?|unsigned|signed|bool|_Bool|void|float|double|size_t|ssize_t|ptrdiff_t|u?intptr_t|u?int(?:8|16|32|64)_t)(?:[ \t\r\n]*\*)*)[ \t\r\n]*(?=[,)])/g;

function typeArgs(code: string, edits: Edit[], dead: (at: number) => boolean): void {
  typeArgRegex.lastIndex = 0;
  for (let m = typeArgRegex.exec(code); m; m = typeArgRegex.exec(code)) {
    const start = m.index + m[0].indexOf(m[1]);
    typeArgRegex.lastIndex = start + m[1].length; // the `,` or `)` may open the next match
    if (dead(start)) continue;
    const callee = enclosingCallee(code, m.index);
    if (!callee || (TYPE_TAKING.has(callee) && !(callee === 'offsetof' && offsetofPath(code, m.index, edits)))) continue;
    const id = typeAsIdentifier(m[1]);
    if (id !== undefined) edits.push({ start, text: id });
  }
}

/**
 * `offsetof(struct foo, a.b[2])`: tree-sitter's offsetof takes one field name only. When the
 * member is a path, rename the macro `OFFSETOF` (a call like any other) and say so.
 */
function offsetofPath(code: string, open: number, edits: Edit[]): boolean {
  if (code.charCodeAt(open) !== 40) return false;
  const close = matchParen(code, open);
  if (close < 0) return false;
  const args = code.slice(open + 1, close);
  const comma = args.lastIndexOf(',');
  if (comma < 0 || !/[.[\]]|->/.test(args.slice(comma + 1))) return false;
  let i = open - 1;
  while (i >= 0 && isBlank(code.charCodeAt(i))) i--;
  edits.push({ start: i - 7, text: 'OFFSETOF' });
  return true;
}

/**
 * The identifier before the `(` of the argument list that the `(` or `,` at `at` belongs to;
 * undefined when that parenthesis is not a call's (a cast, a condition, a declaration's).
 */
function enclosingCallee(code: string, at: number): string | undefined {
  let open = at;
  if (code.charCodeAt(at) === 44) {
    let depth = 0;
    for (open = at - 1; open >= 0; open--) {
      const c = code.charCodeAt(open);
      if (c === 41 || c === 93) depth++;
      else if (c === 40 || c === 91) { if (depth-- === 0) break; }
      else if (c === 59 || c === 123 || c === 125) return undefined;
    }
    if (open < 0 || code.charCodeAt(open) !== 40) return undefined;
  }
  let i = open - 1;
  while (i >= 0 && isBlank(code.charCodeAt(i))) i--;
  const end = i + 1;
  while (i >= 0 && isIdent(code.charCodeAt(i))) i--;
  const word = code.slice(i + 1, end);
  if (!word || isDigit(word.charCodeAt(0))) return undefined;
  // `int foo(void)`, `struct x *foo(int)`: a declarator, not a call
  while (i >= 0 && isBlank(code.charCodeAt(i))) i--;
  const before = code.charCodeAt(i);
  if (before === 42) return undefined;
  if (isIdent(before)) {
    let j = i;
    while (j >= 0 && isIdent(code.charCodeAt(j))) j--;
    if (!C_KEYWORDS.has(code.slice(j + 1, i + 1)) || TYPE_WORDS.has(code.slice(j + 1, i + 1))) return undefined;
  }
  return word;
}

/**
 * `struct foo *` -> `struct_foo  `, `unsigned int` -> `unsigned_int`, `int` -> `INT`; undefined
 * when the type's words are on different lines (a line break cannot become `_`).
 */
function typeAsIdentifier(type: string): string | undefined {
  const trimmed = type.replace(/[\s*]+$/, '');
  if (/[\r\n]/.test(trimmed)) return undefined;
  let id = trimmed.replace(/[ \t]/g, '_');
  if (TYPE_WORDS.has(id)) id = id.toUpperCase();
  return id + type.slice(trimmed.length).replace(/[^\r\n]/g, ' ');
}

// ---------------------------------------------------------------------------------------------
// preproc

interface Group {
  /** Opened inside braces (a function body, an initializer). */
  inBody: boolean;
  /** Index of the branch the preprocessor-like view keeps (1 for `#if 0`). */
  keep: number;
  /** The group's directive regions, #if first, #endif last (when seen). */
  directives: Region[];
  /** [start, end) of each branch's text, between its directive and the next. */
  branches: Array<[number, number]>;
  /** File-scope groups: brace depth at the #if, and at the end of the kept branch. */
  depthAtIf: number;
  depthAfterKept: number;
}

const DIRECTIVE = /^#[ \t]*(if|ifdef|ifndef|elif|elifdef|elifndef|else|endif)\b(.*)/s;

/**
 * Conditional groups inside braces that tree-sitter cannot take as they are (a branch with
 * unbalanced braces or parentheses, one that stops mid-statement, or a group inside an
 * expression): keep one branch, blank the others and the group's directive lines, as the
 * preprocessor would. Groups made of whole statements are left as preproc_if/preproc_ifdef
 * nodes, so no branch's calls are lost; groups at file scope are always left to tree-sitter.
 * Returns the blanked branches, sorted.
 */
function preprocBranches(text: string, code: string, regions: Region[], edits: Edit[]): Array<[number, number]> {
  const spans: Array<[number, number]> = [];
  const stack: Group[] = [];
  const done: Group[] = [];
  let depth = 0;
  let at = 0;
  // Brace depth as the preprocessor would leave it: only kept branches count.
  const counting = () => stack.every((g) => g.branches.length - 1 === g.keep);
  for (const r of regions) {
    if (r.kind !== 'directive') continue;
    const m = DIRECTIVE.exec(text.slice(r.start, Math.min(r.end, r.start + 200)));
    if (!m) continue;
    if (counting()) {
      for (let i = at; i < r.start; i++) {
        const c = code.charCodeAt(i);
        if (c === 123) depth++;
        else if (c === 125 && depth > 0) depth--;
      }
    }
    at = r.end;
    const kw = m[1];
    if (kw === 'if' || kw === 'ifdef' || kw === 'ifndef') {
      const never = kw === 'if' && /^[ \t]*0[ \t]*(?:\/[*/][^]*)?$/.test(m[2]);
      stack.push({
        inBody: depth > 0 || stack.some((s) => s.inBody), keep: never ? 1 : 0, directives: [r],
        branches: [[r.end, r.end]], depthAtIf: depth, depthAfterKept: depth,
      });
      continue;
    }
    const g = stack[stack.length - 1];
    if (!g) continue; // a stray #else or #endif
    const cur = g.branches[g.branches.length - 1];
    cur[1] = r.start;
    if (g.branches.length - 1 === g.keep) g.depthAfterKept = depth;
    g.directives.push(r);
    if (kw === 'endif') {
      stack.pop();
      done.push(g);
      depth = g.depthAfterKept;
    } else {
      g.branches.push([r.end, r.end]);
      if (g.branches.length - 1 === g.keep) depth = g.depthAtIf;
    }
  }
  // An unterminated group (the user is typing): its last branch runs to the end.
  for (const g of stack) {
    g.branches[g.branches.length - 1][1] = text.length;
    done.push(g);
  }
  for (const g of done) {
    if (!g.inBody || !needsFlattening(code, g)) continue;
    for (const d of g.directives) edits.push(spaces(text, d.start, d.end));
    g.branches.forEach(([start, end], k) => {
      if (k === g.keep || end <= start) return;
      spans.push([start, end]);
      edits.push(spaces(text, start, end));
    });
  }
  spans.sort((a, b) => a[0] - b[0]);
  return spans;
}

/** tree-sitter reads a group in a body well only when it stands between whole statements. */
function needsFlattening(code: string, g: Group): boolean {
  let i = g.directives[0].start - 1;
  while (i >= 0 && isBlank(code.charCodeAt(i))) i--;
  const before = i < 0 ? 59 : code.charCodeAt(i);
  if (before !== 59 && before !== 123 && before !== 125 && before !== 58) return true;
  for (const [start, end] of g.branches) {
    let braces = 0, parens = 0;
    for (let k = start; k < end; k++) {
      const c = code.charCodeAt(k);
      if (c === 123) braces++;
      else if (c === 125) braces--;
      else if (c === 40) parens++;
      else if (c === 41) parens--;
    }
    if (braces !== 0 || parens !== 0) return true;
    let e = end - 1;
    while (e >= start && isBlank(code.charCodeAt(e))) e--;
    if (e < start) continue; // empty (or only directives of nested groups)
    const last = code.charCodeAt(e);
    if (last !== 59 && last !== 125 && last !== 58) return true;
    let b = start;
    while (b < end && isBlank(code.charCodeAt(b))) b++;
    if (/^else\b/.test(code.slice(b, b + 5))) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// strings

const C_KEYWORDS = new Set([
  'return', 'case', 'else', 'do', 'if', 'while', 'for', 'switch', 'goto', 'sizeof', 'typeof',
  'static', 'const', 'extern', 'char', 'int', 'void', 'unsigned', 'signed', 'long', 'short',
  'struct', 'union', 'enum', 'default', 'break', 'continue', 'volatile', 'register', 'inline',
]);

interface Item { start: number; end: number; kind: 'string' | 'ident' | 'call' }

/**
 * Runs of string literals and macros next to each other (`KERN_ERR PFX "x"`, `"a" __stringify(b)`)
 * that tree-sitter's concatenated_string cannot take (it allows no two identifiers in a row and
 * no calls): every macro of such a run becomes a string literal of the same length.
 */
function strings(text: string, code: string, regions: Region[], edits: Edit[], dead: (at: number) => boolean): void {
  const byStart = new Map<number, Region>();
  for (const r of regions) if (r.kind !== 'directive') byStart.set(r.start, r);
  const isDq = (r: Region | undefined) => !!r && r.kind === 'string' && text.charCodeAt(r.start) !== 39;
  let doneUpTo = -1;
  for (const r of regions) {
    if (!isDq(r) || r.start < doneUpTo || dead(r.start)) continue;
    const items: Item[] = [{ start: r.start, end: r.end, kind: 'string' }];
    // leftwards, over identifiers and macro calls (an earlier string would have started the run)
    for (let i = r.start - 1; ;) {
      while (i >= 0 && isBlank(code.charCodeAt(i))) i--;
      if (i < 0) break;
      const c = code.charCodeAt(i);
      let j: number;
      let kind: Item['kind'];
      if (c === 41) {
        const open = matchParenBack(code, i);
        if (open < 0) break;
        j = open - 1;
        while (j >= 0 && (code.charCodeAt(j) === 32 || code.charCodeAt(j) === 9)) j--;
        kind = 'call';
      } else if (isIdent(c)) {
        j = i;
        kind = 'ident';
      } else break;
      const wEnd = j + 1;
      while (j >= 0 && isIdent(code.charCodeAt(j))) j--;
      const w = code.slice(j + 1, wEnd);
      if (!w || C_KEYWORDS.has(w) || isDigit(w.charCodeAt(0))) break;
      items.unshift({ start: j + 1, end: i + 1, kind });
      i = j;
    }
    // rightwards, over strings, identifiers and macro calls, skipping blanks and comments
    for (let i = r.end; ;) {
      for (;;) {
        const reg = byStart.get(i);
        if (reg && reg.kind === 'comment') { i = reg.end; continue; }
        if (i < text.length && isBlank(text.charCodeAt(i))) { i++; continue; }
        break;
      }
      if (i >= text.length) break;
      const reg = byStart.get(i);
      if (isDq(reg)) {
        items.push({ start: reg!.start, end: reg!.end, kind: 'string' });
        i = reg!.end;
        continue;
      }
      if (!isIdent(code.charCodeAt(i)) || isDigit(code.charCodeAt(i))) break;
      let j = i;
      while (j < code.length && isIdent(code.charCodeAt(j))) j++;
      if (C_KEYWORDS.has(code.slice(i, j))) break;
      let k = j;
      while (k < code.length && (code.charCodeAt(k) === 32 || code.charCodeAt(k) === 9)) k++;
      if (code.charCodeAt(k) === 40) {
        const close = matchParen(code, k);
        if (close < 0) break;
        items.push({ start: i, end: close + 1, kind: 'call' });
        i = close + 1;
      } else {
        items.push({ start: i, end: j, kind: 'ident' });
        i = j;
      }
    }
    doneUpTo = items[items.length - 1].end;
    if (!needsRewrite(items)) continue;
    for (const it of items) {
      if (it.kind === 'string' || it.end - it.start < 2) continue;
      const s = text.slice(it.start, it.end);
      if (/[\r\n]/.test(s)) continue;
      edits.push({ start: it.start, text: '"' + s.slice(1, -1).replace(/["\\]/g, '_') + '"' });
    }
  }
}

/** The run is not a concatenated_string tree-sitter-c accepts. */
function needsRewrite(items: Item[]): boolean {
  if (items.length < 2) return false;
  // A trailing identifier after the last string belongs to the run only if a string follows it;
  // the walk stops at anything else, so a run like `"x" foo` ends with a stray identifier: that
  // is `"x" PRIx64` style and tree-sitter accepts one identifier next to strings.
  for (let k = 0; k < items.length; k++) {
    if (items[k].kind === 'call') return true;
    if (k > 0 && items[k].kind === 'ident' && items[k - 1].kind === 'ident') return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// guard-blocks

const guardRegex = /\bscoped_(?:cond_)?guard[ \t]*\(/g;

/** `scoped_guard(...) {` at the start of a statement: a `;` in the blank before the block. */
function guardBlocks(text: string, code: string, edits: Edit[], dead: (at: number) => boolean): void {
  guardRegex.lastIndex = 0;
  for (let m = guardRegex.exec(code); m; m = guardRegex.exec(code)) {
    if (dead(m.index) || !atStatementStart(code, m.index)) continue;
    const close = matchParen(code, m.index + m[0].length - 1);
    if (close < 0) continue;
    // a space or tab of the original text (never a line break or a comment) before the body
    let slot = -1;
    let i = close + 1;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9) { if (slot < 0) slot = i; }
      else if (c !== 10 && c !== 13) break;
    }
    if (slot < 0 || i >= text.length || text.charCodeAt(i) !== 123) continue;
    edits.push({ start: slot, text: ';' });
    guardRegex.lastIndex = close + 1;
  }
}

/** A literal part of every loop macro's name: found first, then the name around it (no backtracking). */
const loopAnchor = /for_each|foreach|skb_queue_walk|skb_walk_frags|skb_list_walk_safe/g;

/** A loop macro at the start of a statement whose body tree-sitter would glue to the call. */
function loopMacros(text: string, code: string, edits: Edit[], dead: (at: number) => boolean): void {
  loopAnchor.lastIndex = 0;
  for (let a = loopAnchor.exec(code); a; a = loopAnchor.exec(code)) {
    let start = a.index;
    while (start > 0 && isIdent(code.charCodeAt(start - 1))) start--;
    let end = a.index + a[0].length;
    while (end < code.length && isIdent(code.charCodeAt(end))) end++;
    loopAnchor.lastIndex = end;
    let open = end;
    while (open < code.length && (code.charCodeAt(open) === 32 || code.charCodeAt(open) === 9)) open++;
    if (code.charCodeAt(open) !== 40) continue;
    const name = code.slice(start, end);
    if (!LOOP_MACRO.test(name) || dead(start) || !atStatementStart(code, start)) continue;
    const close = matchParen(code, open);
    if (close < 0) continue;
    loopAnchor.lastIndex = close + 1;
    let slot = -1;
    let i = close + 1;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9) { if (slot < 0) slot = i; }
      else if (c !== 10 && c !== 13) break;
    }
    if (slot < 0 || i >= text.length) continue;
    const c = text.charCodeAt(i);
    if (c !== 42 && c !== 40 && !(isIdent(c) && !isDigit(c))) continue; // `{`, `;`, a comment...
    if (isIdent(c)) {
      let j = i;
      while (j < text.length && isIdent(text.charCodeAt(j))) j++;
      if (C_KEYWORDS.has(text.slice(i, j))) continue;
      while (j < text.length && isBlank(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) === 40) continue; // a call: tree-sitter's MISSING `;` shape
    }
    edits.push({ start: slot, text: ';' });
  }
}

/** The code before `at` ends a statement or opens a block (`;`, `{`, `}`, `:`, `)`, `else`). */
function atStatementStart(code: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && isBlank(code.charCodeAt(i))) i--;
  if (i < 0) return false;
  const c = code.charCodeAt(i);
  if (c === 59 || c === 123 || c === 125 || c === 41) return true;
  if (c === 58) return code.charCodeAt(i - 1) !== 58; // a label, not `::`
  return i >= 3 && code.slice(i - 3, i + 1) === 'else' && !isIdent(code.charCodeAt(i - 4));
}

// ---------------------------------------------------------------------------------------------
// digit-args and stmt-macros

const digitTokenRegex = /(?<![\w.])\d\w*/g;
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|0[bB][01]+|\d+)(?:[uU](?:ll|LL|l|L)?|(?:ll|LL|l|L)[uU]?)?$/;

function digitArgs(code: string, edits: Edit[], dead: (at: number) => boolean): void {
  digitTokenRegex.lastIndex = 0;
  for (let m = digitTokenRegex.exec(code); m; m = digitTokenRegex.exec(code)) {
    const tok = m[0];
    if (NUMBER.test(tok) || /^\d+[eE]/.test(tok) || /[fF]$/.test(tok) && /^\d+[fF]$/.test(tok)) continue;
    if (!/[A-Za-z_]/.test(tok) || dead(m.index)) continue;
    // only as a macro argument: after `(` or `,`
    let i = m.index - 1;
    while (i >= 0 && isBlank(code.charCodeAt(i))) i--;
    const c = code.charCodeAt(i);
    if (c !== 40 && c !== 44) continue;
    if (code.charCodeAt(m.index + tok.length) === 46) continue; // a float like 1.5
    edits.push({ start: m.index, text: '_' });
  }
}

const stmtMacroRegex = /;([ \t]*)\)/g;

function stmtMacros(code: string, edits: Edit[], dead: (at: number) => boolean): void {
  stmtMacroRegex.lastIndex = 0;
  for (let m = stmtMacroRegex.exec(code); m; m = stmtMacroRegex.exec(code)) {
    if (dead(m.index)) continue;
    // not a `for (;;)` header: find the `(` this `)` closes and look before it
    const close = m.index + m[0].length - 1;
    const open = matchParenBackLoose(code, close);
    if (open < 0) continue;
    let j = open - 1;
    while (j >= 0 && isBlank(code.charCodeAt(j))) j--;
    const end = j + 1;
    while (j >= 0 && isIdent(code.charCodeAt(j))) j--;
    const w = code.slice(j + 1, end);
    if (!w || w === 'for' || C_KEYWORDS.has(w)) continue;
    edits.push({ start: m.index, text: ')' + m[1] + ';' });
  }
}

/** Like matchParenBack, but `;` inside does not stop it (a statement inside a macro argument). */
function matchParenBackLoose(code: string, close: number): number {
  let depth = 0;
  for (let i = close; i >= 0; i--) {
    const c = code.charCodeAt(i);
    if (c === 41) depth++;
    else if (c === 40) { if (--depth === 0) return i; }
    else if (c === 123 || c === 125) return -1;
  }
  return -1;
}

function isBlank(c: number): boolean { return c === 32 || c === 9 || c === 10 || c === 13 || c === 12 || c === 11; }
function isDigit(c: number): boolean { return c >= 48 && c <= 57; }
function isIdent(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95;
}
