/** The fixture annotation format of shared/STYLE.md: `// expect: rule[, rule]` on the line, `// expect-none` at the top. */
export interface Expectation { line: number; rule: string }

/** Parse `// expect: a, b` annotations (1-based lines). */
export function extractAnnotations(text: string): { none: boolean; expected: Expectation[] } {
  const expected: Expectation[] = [];
  const lines = text.split('\n');
  const none = lines.slice(0, 5).some((l) => /\/\/\s*expect-none\b/.test(l));
  lines.forEach((l, i) => {
    const m = /\/\/\s*expect:\s*([a-z-]+(?:\s*,\s*[a-z-]+)*)/.exec(l);
    if (m) for (const r of m[1].split(',')) expected.push({ line: i + 1, rule: r.trim() });
  });
  return { none, expected };
}

