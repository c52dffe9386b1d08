/**
 * package.json `contributes.configuration` mirrors server/src/config.ts's ConfigSchema exactly:
 * the same settings, types, defaults, enums and bounds (bash-language-server pins its settings the
 * same way). The schema is the single source; this fails when the two drift apart.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ConfigSchema, DEFAULT_CONFIG } from '../../../server/src/config';
import { ROOT } from './lsp-harness';

type Json = Record<string, any>;
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const props: Record<string, Json> = pkg.contributes.configuration.properties;

/** Leaf settings of the schema: the JSON Schema of each, keyed by its dotted path. */
function leaves(): Map<string, Json> {
  const schema = z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  const out = new Map<string, Json>();
  const walk = (s: Json, prefix: string) => {
    if (s.type === 'object' && s.properties && !s.additionalProperties?.anyOf && prefix.split('.').length < 2 && !['wrappers', 'rules'].includes(prefix)) {
      for (const [k, v] of Object.entries<Json>(s.properties)) walk(v, prefix ? `${prefix}.${k}` : k);
      return;
    }
    out.set(prefix, s);
  };
  walk(schema, '');
  return out;
}

function getDefault(dotted: string): unknown {
  return dotted.split('.').reduce<any>((o, k) => o?.[k], DEFAULT_CONFIG);
}

/** The values a schema admits when it is an enum of literals (z.union of z.literal). */
function enumOf(s: Json): unknown[] | undefined {
  if (s.enum) return s.enum;
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.every((a: Json) => 'const' in a)) return alts.map((a: Json) => a.const);
  return undefined;
}

test('every schema setting is contributed and every contributed setting is in the schema', () => {
  const fromSchema = [...leaves().keys()].map((k) => `iommuLens.${k}`).sort();
  assert.deepEqual(Object.keys(props).sort(), fromSchema);
});

test('defaults are the schema\'s defaults', () => {
  for (const key of leaves().keys()) {
    assert.deepEqual(props[`iommuLens.${key}`].default, getDefault(key), key);
  }
});

test('enums, bounds and types match', () => {
  for (const [key, s] of leaves()) {
    const p = props[`iommuLens.${key}`];
    const e = enumOf(s);
    if (e) assert.deepEqual(p.enum, e, `${key} enum`);
    else assert.equal(p.enum, undefined, `${key} has no enum in the schema`);
    if (s.minimum !== undefined) assert.equal(p.minimum, s.minimum, `${key} minimum`);
    if (s.maximum !== undefined) assert.equal(p.maximum, s.maximum, `${key} maximum`);
    const type = s.type ?? (e && typeof e[0]);
    if (type === 'integer') assert.equal(p.type, 'integer', key);
    else if (type === 'number') assert.ok(p.type === 'number' || p.type === 'integer', key);
    else if (type) assert.equal(p.type, type, key);
    assert.ok(p.markdownDescription || p.description, `${key} is described`);
  }
});

test('rule severities offer exactly the schema\'s values', () => {
  const sev = z.toJSONSchema(z.object({ s: z.enum(['off', 'error', 'warning', 'information']) })) as Json;
  assert.deepEqual(props['iommuLens.rules'].additionalProperties.enum, sev.properties.s.enum);
});

test('reserved regions items allow what the schema allows', () => {
  const item = props['iommuLens.smmu.reservedRegions'].items;
  assert.deepEqual(Object.keys(item.properties).sort(), ['length', 'start', 'type']);
  assert.deepEqual(item.properties.type.enum, ['msi', 'reserved', 'direct']);
  assert.equal(item.properties.type.default, 'reserved');
});

test('each command the client registers is contributed, and each view has its container', () => {
  const src = fs.readdirSync(path.join(ROOT, 'client', 'src', 'commands')).map((f) => fs.readFileSync(path.join(ROOT, 'client', 'src', 'commands', f), 'utf8')).join('\n');
  const registered = [...src.matchAll(/registerCommand\('([^']+)'/g)].map((m) => m[1]).sort();
  const contributed = pkg.contributes.commands.map((c: Json) => c.command).sort();
  assert.deepEqual(contributed, registered);
  for (const [container, views] of Object.entries<Json[]>(pkg.contributes.views)) {
    assert.ok(pkg.contributes.viewsContainers.activitybar.some((c: Json) => c.id === container), container);
    assert.ok(views.length > 0);
  }
});
