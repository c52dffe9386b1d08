/**
 * The parts of a file the analysis reads, found lexically before anything is parsed
 * (docs/performance.md, "Focus"). A driver file of 5,000 lines typically has a dozen functions
 * that touch the DMA/IOMMU API; parsing the other few hundred costs most of a corpus run.
 *
 * A top-level function definition is kept when it
 *  - mentions an API name or a configured wrapper (it may be analysed),
 *  - mentions a function that uses the API, or a caller of one up to five levels (its cleanup
 *    after the call fails and the constants it passes are read, engine `cleanedByCaller`,
 *    `constParams`),
 *  - or is reached from a kept function by name (a helper read for its summary, an accessor
 *    inlined, transitively).
 * Every other definition is replaced by spaces, line breaks kept, so every offset, line and
 * column of what is kept stays where it was, and what is kept parses as it did in the whole file.
 * A definition that holds a preprocessor directive, or whose extent the scan is not sure of, is
 * never blanked. Declarations, structs, initializers, macros and directives are always kept.
 */
import { scanRegions, codeOnly, blankSpans } from './lex';
import { API_NAME_SET } from './api-names';

export interface Focus {
  /** The text to parse: `text` with the definitions that cannot matter blanked. */
  text: string;
  /** Top-level function definitions found, and of them blanked. */
  definitions: number;
  blanked: number;
}

const IDENT = /[A-Za-z_]\w*/g;
const OPEN_BRACE = 123, CLOSE_BRACE = 125, OPEN_PAREN = 40, CLOSE_PAREN = 41, SEMI = 59;

interface Def { start: number; end: number; names: string[]; safe: boolean; idents?: Set<string> }

/** Top-level function definitions of `text`, by a scan of braces, parentheses and semicolons. */
function definitions(text: string): Def[] {
  const regions = scanRegions(text);
  const code = codeOnly(text, regions);
  const dirs = regions.filter((r) => r.kind === 'directive');
  const defs: Def[] = [];
  let depth = 0, paren = 0, boundary = 0, prev = 0, d = 0;
  let inBody = false, names: string[] = [], safe = true;
  const n = code.length;
  for (let i = 0; i < n; i++) {
    if (d < dirs.length && i >= dirs[d].start) {
      // A directive at the top level between definitions starts the next one; anywhere inside a
      // definition (its signature or its body) makes that definition one not to blank.
      if (depth === 0 && paren === 0 && !inBody) { boundary = dirs[d].end; names = []; safe = true; prev = 0; }
      else safe = false;
      i = Math.max(i, dirs[d].end - 1);
      d++;
      continue;
    }
    const c = code.charCodeAt(i);
    if (c <= 32) continue;
    if (depth > 0) {
      if (c === OPEN_BRACE) depth++;
      else if (c === CLOSE_BRACE && --depth === 0) {
        if (inBody) defs.push({ start: boundary, end: i + 1, names, safe });
        inBody = false;
        boundary = i + 1; names = []; safe = true; prev = CLOSE_BRACE;
      }
      continue;
    }
    if (c === OPEN_PAREN) {
      if (paren++ === 0) {
        // the name before a top-level `(`: the function's, or a macro's before it
        let j = i - 1;
        while (j >= 0 && code.charCodeAt(j) <= 32) j--;
        let k = j;
        while (k >= 0 && /\w/.test(code[k])) k--;
        if (k < j) names.push(code.slice(k + 1, j + 1));
      }
    } else if (c === CLOSE_PAREN) {
      if (paren > 0) paren--;
    } else if (c === SEMI && paren === 0) {
      boundary = i + 1; names = []; safe = true;
    } else if (c === OPEN_BRACE) {
      inBody = prev === CLOSE_PAREN && paren === 0 && names.length > 0;
      depth = 1;
    } else if (c === CLOSE_BRACE) {
      // unbalanced: whatever came before is not a definition we are sure of
      boundary = i + 1; names = []; safe = true;
    }
    prev = c;
  }
  return defs;
}

function identsOf(text: string, d: Def): Set<string> {
  if (!d.idents) {
    d.idents = new Set();
    for (const m of text.slice(d.start, d.end).matchAll(IDENT)) d.idents.add(m[0]);
  }
  return d.idents;
}

/** `text` with the function definitions the analysis cannot need blanked (see the file comment). */
export function focusText(text: string, wrappers: Readonly<Record<string, unknown>> = {}): Focus {
  const defs = definitions(text);
  if (defs.length === 0) return { text, definitions: 0, blanked: 0 };
  const wrapperNames = Object.keys(wrappers);
  const isApi = (s: string) => API_NAME_SET.has(s) || (wrapperNames.length > 0 && Object.prototype.hasOwnProperty.call(wrappers, s));
  const byName = new Map<string, Def[]>();
  for (const d of defs) for (const nm of d.names) {
    const l = byName.get(nm);
    if (l) l.push(d); else byName.set(nm, [d]);
  }
  const keep = new Set<Def>();
  const work: Def[] = [];
  const add = (d: Def) => { if (!keep.has(d)) { keep.add(d); work.push(d); } };
  const apiNames = new Set<string>();
  for (const d of defs) {
    for (const s of identsOf(text, d)) {
      if (isApi(s)) { add(d); for (const nm of d.names) apiNames.add(nm); break; }
    }
  }
  // Callers of the functions that use the API, and their callers, up to the depth the engine
  // follows a failure upwards (engine `cleanedByCaller`, three levels) and one more.
  let level = apiNames;
  for (let depth = 0; depth < 5 && level.size; depth++) {
    const next = new Set<string>();
    for (const d of defs) {
      if (keep.has(d)) continue;
      for (const s of identsOf(text, d)) if (level.has(s)) { add(d); for (const nm of d.names) next.add(nm); break; }
    }
    level = next;
  }
  // Everything a kept function names, transitively.
  while (work.length) {
    const d = work.pop()!;
    for (const s of identsOf(text, d)) {
      const callees = byName.get(s);
      if (callees) for (const c of callees) add(c);
    }
  }
  const blank = defs.filter((d) => d.safe && !keep.has(d));
  return { text: blankSpans(text, blank), definitions: defs.length, blanked: blank.length };
}
