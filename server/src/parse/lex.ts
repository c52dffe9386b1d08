/**
 * A one-pass C lexical scan that finds what the parser must not look inside: comments, string
 * and character literals, and preprocessor directive lines (with their `\` continuations).
 * Used by the sanitizer and by the corpus statistics; cheap enough to run on every keystroke.
 */

/** Kinds of region the scan reports. */
export type RegionKind = 'comment' | 'string' | 'directive';

export interface Region { kind: RegionKind; start: number; end: number }

const NL = 10, CR = 13, SLASH = 47, STAR = 42, DQ = 34, SQ = 39, BSL = 92, HASH = 35,
  SP = 32, TAB = 9;

/**
 * Comments, literals and directive lines of `text`, in order, as [start, end) offsets in UTF-16
 * code units. Never throws; an unterminated comment or literal runs to the end of the text (a
 * literal to the end of its line).
 */
export function scanRegions(text: string): Region[] {
  const out: Region[] = [];
  const n = text.length;
  let i = 0;
  let lineStart = true; // only whitespace seen since the last newline
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === NL) { lineStart = true; i++; continue; }
    if (c === SP || c === TAB || c === CR || c === 12 || c === 11) { i++; continue; }
    if (c === HASH && lineStart) {
      // A directive runs to the end of the line, continued by a backslash-newline. Comments
      // inside it are part of it; a block comment may carry it over lines.
      const start = i;
      while (i < n) {
        const d = text.charCodeAt(i);
        if (d === NL) {
          let k = i - 1;
          if (k >= start && text.charCodeAt(k) === CR) k--;
          if (k >= start && text.charCodeAt(k) === BSL) { i++; continue; }
          break;
        }
        if (d === SLASH && text.charCodeAt(i + 1) === STAR) {
          const e = text.indexOf('*/', i + 2);
          i = e < 0 ? n : e + 2;
          continue;
        }
        if (d === SLASH && text.charCodeAt(i + 1) === SLASH) {
          // a line comment ends the directive (a continuation inside it still continues)
          while (i < n && text.charCodeAt(i) !== NL) i++;
          if (text.charCodeAt(i - 1) === BSL) { i++; continue; }
          break;
        }
        if (d === DQ || d === SQ) { i = skipLiteral(text, i, d); continue; }
        i++;
      }
      out.push({ kind: 'directive', start, end: i });
      continue;
    }
    lineStart = false;
    if (c === SLASH) {
      const d = text.charCodeAt(i + 1);
      if (d === STAR) {
        const e = text.indexOf('*/', i + 2);
        const end = e < 0 ? n : e + 2;
        out.push({ kind: 'comment', start: i, end });
        i = end;
        continue;
      }
      if (d === SLASH) {
        const start = i;
        while (i < n) {
          const x = text.charCodeAt(i);
          if (x === NL && text.charCodeAt(i - 1) !== BSL) break;
          i++;
        }
        out.push({ kind: 'comment', start, end: i });
        continue;
      }
      i++;
      continue;
    }
    if (c === DQ || c === SQ) {
      const end = skipLiteral(text, i, c);
      out.push({ kind: 'string', start: i, end });
      i = end;
      continue;
    }
    i++;
  }
  return out;
}

function skipLiteral(text: string, i: number, quote: number): number {
  const n = text.length;
  i++;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === BSL) { i += 2; continue; }
    if (c === quote) return i + 1;
    if (c === NL) return i; // unterminated: stop at the line's end
    i++;
  }
  return n;
}

/**
 * `text` with every comment, literal and directive replaced by spaces (newlines kept), so a
 * regular expression over it sees code only. Same length as `text`.
 */
export function codeOnly(text: string, regions: Region[] = scanRegions(text)): string {
  return blankSpans(text, regions);
}

/** `text` with every character but line breaks inside the [start, end) spans made a space. */
export function blankSpans(text: string, spans: readonly { start: number; end: number }[]): string {
  if (spans.length === 0) return text;
  // One native copy, blanked in place: much faster than slicing and joining per span.
  const buf = Buffer.from(text, 'utf16le');
  const units = buf.byteOffset % 2 === 0 ? new Uint16Array(buf.buffer, buf.byteOffset, text.length) : undefined;
  for (const r of spans) {
    for (let i = r.start; i < r.end; i++) {
      const c = text.charCodeAt(i);
      if (c === NL || c === CR) continue;
      if (units) units[i] = SP;
      else buf.writeUInt16LE(SP, 2 * i);
    }
  }
  return buf.toString('utf16le');
}

/** `text[start, end)` with every character but line breaks made a space. */
export function blank(text: string, start: number, end: number): string {
  return text.slice(start, end).replace(/[^\r\n]/g, ' ');
}

/**
 * The argument texts of the call whose `(` is at `open` in `text` (already blanked of comments and
 * literals): split at top-level commas; `f()` has none.
 */
export function callArgs(text: string, open: number): string[] {
  const out: string[] = [];
  let depth = 0, start = open + 1;
  for (let j = open; j < text.length; j++) {
    const c = text[j];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') { if (--depth === 0) { out.push(text.slice(start, j)); break; } }
    else if (c === ',' && depth === 1) { out.push(text.slice(start, j)); start = j + 1; }
  }
  if (out.length === 1 && out[0].trim() === '') return [];
  return out;
}
