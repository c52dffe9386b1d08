/**
 * The language server's state: open documents, their syntax trees and their latest results.
 *
 * - Each change is applied to the text and to the tree with `tree.edit()`, and the next parse
 *   re-uses the old tree (elm-language-server's way), so a keystroke re-parses only around it.
 * - The engine's ResultCache keys each function's result by its text and the settings, so only
 *   the functions whose text changed are analysed again.
 * - Analysis waits `config.diagnostics.delayMs` after the last change; a newer change cancels the
 *   pending work (its token), and a result computed for an older version is dropped.
 * - Diagnostics are published only when they differ from the ones last sent for that document.
 * - Settings: VS Code's `iommuLens.*` merged under `.iommu-lens.json` at the workspace root; a
 *   bad file gets diagnostics on that file and its good parts still apply, never a crash.
 *
 * Knows LSP types (for diagnostics) but not the connection: server.ts wires it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Diagnostic, TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { Config, ConfigError, DEFAULT_CONFIG, parseConfig, parseConfigText } from './config';
import { configDiagnostics, fileDiagnostics } from './diagnostics';
import type { Range, FileResult, FunctionResult } from './engine/types';
import { parseC, Tree } from './parse/parser';

/** A cancellation flag the engine polls between functions. */
export interface CancelToken { readonly isCancelled: boolean }

/** The engine API the analyser drives (server/src/engine/index.ts; injectable for tests). */
export interface EngineApi {
  analyzeText(text: string, uri: string, opts: { config: Config; cache?: unknown; tree?: Tree; token?: CancelToken; keys?: Set<string> }): FileResult;
  runFunction(text: string, functionName: string, opts: { config: Config; failAt?: number | null; tree?: Tree; selection?: Range }): FunctionResult | undefined;
  ResultCache: new (maxEntries?: number) => unknown;
}

/** Name of the per-workspace settings file (also read by the CLI). */
export const SETTINGS_FILE = '.iommu-lens.json';

/** How the analyser reports results (server.ts: connection.sendDiagnostics and the status item). */
export interface AnalyserHost {
  publish(uri: string, diagnostics: Diagnostic[], version?: number): void;
  /** After each analysis (whether or not diagnostics changed). */
  analysed?(uri: string, result: FileResult, millis: number): void;
  /** An engine exception: our bug, reported, never fatal. */
  error?(uri: string, error: unknown): void;
}

interface DocState {
  uri: string;
  version: number;
  text: string;
  /** Line start offsets of `text`, computed lazily. */
  lineStarts?: number[];
  /** The tree of the last parse, with `edit()` applied for every change since. */
  tree?: Tree;
  /** True when `tree` does not reflect `text` yet. */
  stale: boolean;
  result?: FileResult;
  resultVersion?: number;
  /** The result-cache keys of its functions at the last analysis: forgotten on close. */
  keys?: Set<string>;
  timer?: NodeJS.Timeout;
  token?: { isCancelled: boolean };
  /** Waiters for the analysis of a version >= theirs. */
  waiters: { version: number; resolve(r: FileResult): void }[];
  lastPublished?: string;
}

/** Line start offsets of `text` (UTF-16 units). */
function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** Row and column reached after inserting `s` at (row, column). */
function advance(row: number, column: number, s: string): { row: number; column: number } {
  const lastNl = s.lastIndexOf('\n');
  if (lastNl < 0) return { row, column: column + s.length };
  let n = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) n++;
  return { row: row + n, column: s.length - lastNl - 1 };
}

/** Deep merge of plain objects: `over` wins; arrays and scalars replace. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? deepMerge(out[k], v) : v;
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Removes the fields named by `errors` from a copy of `input` (so the rest still applies). */
function prune(input: unknown, errors: ConfigError[]): unknown {
  if (!isPlainObject(input)) return {};
  const copy = structuredClone(input) as Record<string, unknown>;
  for (const e of errors) {
    const keys = e.path.split('.');
    if (keys[0] === '(root)' || keys[0] === '(file)') return {};
    let obj: any = copy;
    for (const k of keys.slice(0, -1)) obj = isPlainObject(obj?.[k]) || Array.isArray(obj?.[k]) ? obj[k] : undefined;
    if (obj && typeof obj === 'object') delete obj[keys[keys.length - 1]];
  }
  return copy;
}

/** Drops null/undefined leaves (VS Code reports unset object settings as null). */
function dropNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v;
  if (!isPlainObject(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = dropNulls(x);
  return out;
}

/** How many documents keep their syntax tree between analyses (Analyser.touchTree). */
export const TREES_KEPT = 4;

export class Analyser {
  private readonly docs = new Map<string, DocState>();
  private cache: unknown;
  private configValue: Config = DEFAULT_CONFIG;
  private settingsErrors: ConfigError[] = [];
  private fileErrors: ConfigError[] = [];
  /** URI of the settings file that has diagnostics published, to clear them when fixed. */
  private configFileWithDiagnostics?: string;

  constructor(private readonly engine: EngineApi, private readonly host: AnalyserHost, private readonly cacheEntries = 20_000) {
    this.cache = new engine.ResultCache(cacheEntries);
  }

  /** The settings in force. */
  get config(): Config {
    return this.configValue;
  }

  /** Problems in the editor's `iommuLens.*` settings (the settings file's go to that file). */
  get settingsProblems(): readonly ConfigError[] {
    return this.settingsErrors;
  }

  /** Problems in `.iommu-lens.json`. */
  get settingsFileProblems(): readonly ConfigError[] {
    return this.fileErrors;
  }

  /**
   * Recompute the settings from the editor's `iommuLens` section and `<root>/.iommu-lens.json`
   * (which wins where both set a value). Re-analyses every open document when they changed.
   * Never throws: an unreadable or invalid file gets diagnostics on that file.
   */
  loadSettings(editorSettings: unknown, workspaceRoot?: string): Config {
    const editor = dropNulls(editorSettings ?? {});
    const editorParsed = parseConfig(editor);
    this.settingsErrors = editorParsed.errors;
    let merged = prune(editor, editorParsed.errors);

    this.fileErrors = [];
    let fileUri: string | undefined;
    if (workspaceRoot) {
      const file = path.join(workspaceRoot, SETTINGS_FILE);
      fileUri = pathToUri(file);
      let text: string | undefined;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
          this.fileErrors = [{ path: '(file)', message: `cannot read: ${(e as Error).message}` }];
        }
      }
      if (text !== undefined) {
        const parsed = parseConfigText(text);
        this.fileErrors = parsed.errors;
        let raw: unknown = {};
        try { raw = JSON.parse(text); } catch { /* reported by parseConfigText */ }
        merged = deepMerge(merged, prune(raw, parsed.errors));
        const diags = configDiagnostics(text, parsed.errors);
        if (diags.length || this.configFileWithDiagnostics === fileUri) {
          this.host.publish(fileUri, diags);
          this.configFileWithDiagnostics = diags.length ? fileUri : undefined;
        }
      } else if (this.fileErrors.length) {
        this.host.publish(fileUri, configDiagnostics('', this.fileErrors));
        this.configFileWithDiagnostics = fileUri;
      } else if (this.configFileWithDiagnostics === fileUri) {
        this.host.publish(fileUri, []);
        this.configFileWithDiagnostics = undefined;
      }
    }
    const final = parseConfig(merged);
    this.setConfig(final.config);
    return final.config;
  }

  /** Replace the settings; re-analyses open documents when anything changed. */
  setConfig(config: Config): void {
    if (JSON.stringify(config) === JSON.stringify(this.configValue)) return;
    // The engine applies `rules` to the findings it caches, but its cache key (configKey) leaves
    // them out: start a fresh cache when they change, or stale per-rule results come back.
    if (JSON.stringify(config.rules) !== JSON.stringify(this.configValue.rules)) this.cache = new this.engine.ResultCache(this.cacheEntries);
    this.configValue = config;
    for (const d of this.docs.values()) {
      d.result = undefined;
      d.resultVersion = undefined;
      this.schedule(d, 0);
    }
  }

  /** Open (or re-open) a document: analysed at once. */
  open(uri: string, version: number, text: string): void {
    this.close(uri);
    const d: DocState = { uri, version, text, stale: true, waiters: [] };
    this.docs.set(uri, d);
    this.schedule(d, 0);
  }

  /**
   * Apply LSP content changes (incremental or whole-text) for `version`. The tree is edited in
   * step so the next parse is incremental. Analysis follows after the configured delay.
   */
  change(uri: string, version: number, changes: TextDocumentContentChangeEvent[]): void {
    const d = this.docs.get(uri);
    if (!d) return;
    for (const c of changes) {
      if (!('range' in c) || !c.range) {
        d.text = c.text;
        d.lineStarts = undefined;
        d.tree = undefined;
        continue;
      }
      const starts = (d.lineStarts ??= lineStartsOf(d.text));
      const offsetAt = (line: number, character: number) => {
        if (line >= starts.length) return d.text.length;
        const lineEnd = line + 1 < starts.length ? starts[line + 1] : d.text.length;
        return Math.min(starts[line] + character, lineEnd);
      };
      const startIndex = offsetAt(c.range.start.line, c.range.start.character);
      const oldEndIndex = Math.max(startIndex, offsetAt(c.range.end.line, c.range.end.character));
      const startPosition = { row: c.range.start.line, column: startIndex - starts[Math.min(c.range.start.line, starts.length - 1)] };
      const endLine = Math.min(c.range.end.line, starts.length - 1);
      const oldEndPosition = { row: endLine, column: oldEndIndex - starts[endLine] };
      d.text = d.text.slice(0, startIndex) + c.text + d.text.slice(oldEndIndex);
      d.tree?.edit({
        startIndex, oldEndIndex, newEndIndex: startIndex + c.text.length,
        startPosition, oldEndPosition, newEndPosition: advance(startPosition.row, startPosition.column, c.text),
      });
      // Line starts after the edit: shift those past it, recompute only when lines were added or removed.
      if (c.text.includes('\n') || c.range.start.line !== c.range.end.line) d.lineStarts = undefined;
      else for (let i = c.range.start.line + 1; i < starts.length; i++) starts[i] += c.text.length - (oldEndIndex - startIndex);
    }
    d.version = version;
    d.stale = true;
    this.schedule(d, this.configValue.diagnostics.delayMs);
  }

  /** Forget a document, clearing its diagnostics. */
  close(uri: string): void {
    const d = this.docs.get(uri);
    if (!d) return;
    this.cancel(d);
    this.docs.delete(uri);
    this.dropTree(d);
    // What it held: its tree and results go with it; so do its functions' cached results, but
    // for those another open document shares.
    const cache = this.cache as { forget?: (keys: Iterable<string>) => void };
    if (d.keys && cache.forget) {
      const shared = new Set<string>();
      for (const o of this.docs.values()) for (const k of o.keys ?? []) shared.add(k);
      cache.forget([...d.keys].filter((k) => !shared.has(k)));
    }
    if (d.lastPublished && d.lastPublished !== '[]') this.host.publish(uri, []);
  }

  /** URIs of the open documents. */
  documents(): string[] {
    return [...this.docs.keys()];
  }

  /** The current text of an open document. */
  text(uri: string): string | undefined {
    return this.docs.get(uri)?.text;
  }

  /** The latest result for a document, if it is up to date with its text. */
  current(uri: string): FileResult | undefined {
    const d = this.docs.get(uri);
    return d && d.resultVersion === d.version ? d.result : undefined;
  }

  /** The latest result, even if computed for an older version (for hover while typing). */
  latest(uri: string): FileResult | undefined {
    return this.docs.get(uri)?.result;
  }

  /** The result for the document's current version: analyses now if needed (cancelling a pending delay). */
  async resultFor(uri: string): Promise<FileResult | undefined> {
    const d = this.docs.get(uri);
    if (!d) return undefined;
    if (d.result && d.resultVersion === d.version) return d.result;
    return new Promise((resolve) => {
      d.waiters.push({ version: d.version, resolve });
      this.schedule(d, 0);
    });
  }

  /** An up-to-date tree for the document's text (re-parsing incrementally when needed). */
  tree(uri: string): Tree | undefined {
    const d = this.docs.get(uri);
    if (!d) return undefined;
    this.reparse(d);
    return d.tree;
  }

  /** Run one function on the emulator (engine.runFunction) against the current text. */
  runFunction(uri: string, functionName: string, failAt: number | null, selection?: Range): FunctionResult | undefined {
    const d = this.docs.get(uri);
    if (!d) return undefined;
    this.reparse(d);
    return this.engine.runFunction(d.text, functionName, { config: this.configValue, failAt, tree: d.tree, selection });
  }

  /** Stop all timers (server shutdown). */
  dispose(): void {
    for (const d of this.docs.values()) this.cancel(d);
  }

  private cancel(d: DocState): void {
    if (d.timer) clearTimeout(d.timer);
    d.timer = undefined;
    if (d.token) d.token.isCancelled = true;
    d.token = undefined;
  }

  private schedule(d: DocState, delayMs: number): void {
    this.cancel(d);
    const token = { isCancelled: false };
    d.token = token;
    const run = () => {
      d.timer = undefined;
      if (token.isCancelled || this.docs.get(d.uri) !== d) return;
      this.analyse(d, token);
    };
    // A zero delay still yields once, so a burst of changes already queued is applied first.
    d.timer = delayMs > 0 ? setTimeout(run, delayMs) : setTimeout(run, 0);
  }

  private reparse(d: DocState): void {
    if (!d.stale && d.tree) { this.touchTree(d); return; }
    // The native binding frees trees when they are collected (no tree.delete() to call).
    d.tree = parseC(d.text, d.tree);
    d.stale = false;
    this.touchTree(d);
  }

  /**
   * Documents holding a tree, least recently used first. A tree of a large driver takes about
   * 7 MB of native memory (750 bytes a line), so only the last TREES_KEPT documents parsed or
   * edited keep theirs for incremental re-parsing; another document's next edit parses it whole
   * (about 40 ms for 10,000 lines), once.
   */
  private readonly treeOrder: DocState[] = [];
  private touchTree(d: DocState): void {
    const i = this.treeOrder.indexOf(d);
    if (i >= 0) this.treeOrder.splice(i, 1);
    this.treeOrder.push(d);
    while (this.treeOrder.length > TREES_KEPT) {
      const old = this.treeOrder.shift()!;
      old.tree = undefined;
      old.stale = true;
    }
  }

  private dropTree(d: DocState): void {
    const i = this.treeOrder.indexOf(d);
    if (i >= 0) this.treeOrder.splice(i, 1);
    d.tree = undefined;
  }

  private analyse(d: DocState, token: { isCancelled: boolean }): void {
    const version = d.version;
    const t0 = performance.now();
    let result: FileResult;
    try {
      this.reparse(d);
      const keys = new Set<string>();
      result = this.engine.analyzeText(d.text, d.uri, { config: this.configValue, cache: this.cache, tree: d.tree, token, keys });
      d.keys = keys;
    } catch (e) {
      this.host.error?.(d.uri, e);
      result = { uri: d.uri, functions: [], fileFindings: [], parse: { errorNodes: 0, apiCallsInErrors: 0, apiCalls: 0, millis: 0 } };
    }
    if (token.isCancelled || d.version !== version || this.docs.get(d.uri) !== d) return; // stale
    if (d.token === token) d.token = undefined;
    d.result = result;
    d.resultVersion = version;
    const millis = performance.now() - t0;
    const diagnostics = fileDiagnostics(result, this.configValue);
    const key = JSON.stringify(diagnostics);
    if (key !== d.lastPublished) {
      d.lastPublished = key;
      this.host.publish(d.uri, diagnostics, version);
    }
    this.host.analysed?.(d.uri, result, millis);
    const ready = d.waiters.filter((w) => w.version <= version);
    d.waiters = d.waiters.filter((w) => w.version > version);
    for (const w of ready) w.resolve(result);
  }
}

/** file:// URI of an absolute path (percent-encoding as VS Code does for the common characters). */
export function pathToUri(p: string): string {
  return 'file://' + path.resolve(p).split('/').map((s) => encodeURIComponent(s)).join('/');
}

/** Absolute path of a file:// URI, or undefined for other schemes. */
export function uriToPath(uri: string): string | undefined {
  if (!uri.startsWith('file://')) return undefined;
  return decodeURIComponent(uri.slice('file://'.length).replace(/^\/([A-Za-z]:)/, '$1'));
}
