/**
 * SARIF 2.1.0 output for CI (OASIS SARIF v2.1.0): one run, `tool.driver.rules` describing
 * every rule, one result per finding with its location, related locations, and the path
 * that shows it as a code flow.
 */
import * as path from 'node:path';
import type { FileResult, Range } from './engine/types';
import { RULES } from './rules';

const LEVEL = { error: 'error', warning: 'warning', information: 'note' } as const;

function region(r: Range) {
  return { startLine: r.start.line + 1, startColumn: r.start.character + 1, endLine: r.end.line + 1, endColumn: r.end.character + 1 };
}

function uriOf(file: string): string {
  const rel = path.isAbsolute(file) ? path.relative(process.cwd(), file) : file;
  return rel.split(path.sep).map(encodeURIComponent).join('/');
}

export function toSarif(results: FileResult[], version: string): object {
  const ruleIndex = new Map(RULES.map((r, i) => [r.id as string, i]));
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'iommu-lens',
          semanticVersion: version.replace(/^iommu-lens\s*/, '') || '0.0.0',
          rules: RULES.map((r) => ({
            id: r.id,
            name: r.id.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase()),
            shortDescription: { text: r.short },
            fullDescription: { text: r.short },
            helpUri: undefined,
            help: { text: `See docs/rules.md#${r.id}` },
            defaultConfiguration: { level: LEVEL[r.severity] },
          })),
        },
      },
      columnKind: 'utf16CodeUnits',
      results: results.flatMap((fr) => fr.functions.flatMap((fn) => fn.findings.map((f) => {
        const loc = { physicalLocation: { artifactLocation: { uri: uriOf(fr.uri) }, region: region(f.range) } };
        const p = f.pathIndex !== undefined ? fn.paths[f.pathIndex] : undefined;
        return {
          ruleId: f.rule,
          ruleIndex: ruleIndex.get(f.rule),
          level: LEVEL[f.severity],
          message: { text: f.message },
          locations: [loc],
          relatedLocations: f.related.map((r, i) => ({
            id: i + 1,
            message: { text: r.message },
            physicalLocation: { artifactLocation: { uri: uriOf(fr.uri) }, region: region(r.range) },
          })),
          partialFingerprints: { 'iommuLens/v1': `${fn.name}:${f.rule}:${f.message.replace(/line \d+/g, 'line')}` },
          ...(p && p.steps.length ? {
            codeFlows: [{
              message: { text: p.label },
              threadFlows: [{
                locations: p.steps.map((s) => ({
                  location: {
                    physicalLocation: { artifactLocation: { uri: uriOf(fr.uri) }, region: { startLine: s.line + 1 } },
                    message: { text: `${s.call} ${s.result}` },
                  },
                })),
              }],
            }],
          } : {}),
        };
      }))),
    }],
  };
}
