/**
 * The one configuration schema (shared/DESIGN.md §2). It is the single source of defaults:
 * VS Code settings (`iommuLens.*`, mirrored in package.json `contributes.configuration` and
 * pinned there by a test) and `.iommu-lens.json` at the workspace root are both parsed here.
 * A bad value never throws out of this module: `parseConfig` returns the errors with the field
 * path, and the defaults for what could not be read.
 */
import { z } from 'zod';
import { createSystem } from '../../emulator/src/index';

/** A number, or a string in C notation ("0x8000000", "4096"). */
const addr = z.union([
  z.number().int().nonnegative(),
  z.string().regex(/^\s*(0[xX][0-9a-fA-F]+|\d+)\s*$/, 'expected a number or a hex string like "0x8000000"')
    .transform((s) => Number(s.trim())),
]);

export const ReservedRegionSchema = z.object({
  start: addr,
  length: addr,
  type: z.enum(['msi', 'reserved', 'direct']).default('reserved'),
}).strict();

export const WrapperSchema = z.union([
  z.string(),
  z.object({
    /** The kernel API the wrapper behaves like, e.g. "iommu_map". */
    api: z.string(),
    /** For each argument of the API, the wrapper's argument index that carries it (-1: absent). */
    args: z.array(z.number().int().min(-1)).optional(),
  }).strict(),
]);

export const SeveritySchema = z.enum(['off', 'error', 'warning', 'information']);

export const ConfigSchema = z.object({
  smmu: z.object({
    /** Translation granule in bytes: 4K, 16K or 64K. */
    granule: z.union([z.literal(4096), z.literal(16384), z.literal(65536)]).default(4096),
    /** Input (IOVA) address size in bits. */
    ias: z.number().int().min(32).max(52).default(48),
    /** Output (physical) address size in bits. */
    oas: z.number().int().min(32).max(52).default(48),
    stage: z.union([z.literal(1), z.literal(2)]).default(1),
    /** Strict: every unmap invalidates the IOTLB. Non-strict: a flush queue defers it. */
    strict: z.boolean().default(true),
    /**
     * How the emulated system was booted (emulator/src/iommu.ts SmmuMode): DMA default domains,
     * iommu.passthrough=1, arm-smmu-v3.disable_bypass=0, or no SMMU node at all.
     */
    mode: z.enum(['translate', 'passthrough', 'bypass', 'no-smmu']).default('translate'),
    reservedRegions: z.array(ReservedRegionSchema)
      .default([{ start: 0x8000000, length: 0x100000, type: 'msi' }]),
  }).strict().prefault({}),
  budget: z.object({
    /** Paths explored per function before it is reported as over budget. */
    maxPaths: z.number().int().min(1).max(100000).default(256),
    /** Iterations a loop is unrolled (0, 1, ... this many). */
    loopUnroll: z.number().int().min(1).max(8).default(2),
    /**
     * Steps (statements and branch decisions, over all paths) per function: the budget that
     * makes two runs of the same tree give the same answer. A helper read for its summary gets
     * an eighth of it.
     */
    maxSteps: z.number().int().min(100).max(100000000).default(60000),
    /**
     * Wall-clock guard per function, in milliseconds: a last resort for a machine far slower than
     * the step budget assumes, reported as such (results may then differ between runs).
     */
    timeMsPerFunction: z.number().int().min(10).max(60000).default(2000),
  }).strict().prefault({}),
  /** A driver's own functions that behave like a kernel API: "ipu6_mmu_map": "iommu_map". */
  wrappers: z.record(z.string(), WrapperSchema).default({}),
  /** Per-rule severity override, or "off". */
  rules: z.record(z.string(), SeveritySchema).default({}),
  diagnostics: z.object({
    /** Delay after the last edit before diagnostics are refreshed, in milliseconds. */
    delayMs: z.number().int().min(0).max(10000).default(300),
  }).strict().prefault({}),
}).strict();

export type Config = z.output<typeof ConfigSchema>;
export type ConfigInput = z.input<typeof ConfigSchema>;

export interface ConfigError { path: string; message: string }

export const DEFAULT_CONFIG: Config = ConfigSchema.parse({});

/**
 * Parse a settings object. On failure the offending fields are dropped and reported,
 * and their defaults used; the rest of the object still applies.
 */
export function parseConfig(input: unknown): { config: Config; errors: ConfigError[] } {
  const r = parseSchema(input);
  return emulable(r.config, r.errors);
}

/**
 * Settings the schema accepts but the emulator cannot model (`ias` 52 with a 4K granule, an
 * `oas` that is no PS encoding, a direct region not aligned to the granule): said once, on the
 * settings, and the default SMMU used, rather than every function failing.
 */
function emulable(config: Config, errors: ConfigError[]): { config: Config; errors: ConfigError[] } {
  const s = config.smmu;
  try {
    createSystem({ granule: s.granule, ias: s.ias, oas: s.oas, stage: s.stage, strict: s.strict, mode: s.mode, reservedRegions: s.reservedRegions });
    return { config, errors };
  } catch (e) {
    return {
      config: { ...config, smmu: DEFAULT_CONFIG.smmu },
      errors: [...errors, { path: 'smmu', message: `the SMMU emulator cannot model these settings (${(e as Error).message})` }],
    };
  }
}

function parseSchema(input: unknown): { config: Config; errors: ConfigError[] } {
  const first = ConfigSchema.safeParse(input ?? {});
  if (first.success) return { config: first.data, errors: [] };
  const errors: ConfigError[] = first.error.issues.map((i) => ({
    path: i.path.length ? i.path.join('.') : '(root)',
    message: i.message,
  }));
  // Drop each bad field and retry, so one typo does not discard the whole file.
  const pruned = structuredClone(typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  for (const issue of first.error.issues) {
    if (issue.path.length === 0) continue;
    let obj: any = pruned;
    for (const key of issue.path.slice(0, -1)) obj = obj?.[key as any];
    if (obj && typeof obj === 'object') delete obj[issue.path[issue.path.length - 1] as any];
  }
  const second = ConfigSchema.safeParse(pruned);
  return { config: second.success ? second.data : DEFAULT_CONFIG, errors };
}

/** Parse the text of a `.iommu-lens.json` file. */
export function parseConfigText(text: string): { config: Config; errors: ConfigError[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { config: DEFAULT_CONFIG, errors: [{ path: '(file)', message: `not valid JSON: ${(e as Error).message}` }] };
  }
  return parseConfig(json);
}

/** A stable key of the settings that affect analysis results (for the result cache). */
export function configKey(c: Config): string {
  return JSON.stringify({ smmu: c.smmu, budget: c.budget, wrappers: c.wrappers });
}
