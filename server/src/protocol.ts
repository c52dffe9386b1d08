/**
 * The custom LSP messages between the IOMMU Lens client and server. Both sides import this file
 * (the client through its bundle); it names each message once, with its parameter and result
 * types. No vscode import here, and only plain JSON data crosses. Each side turns a definition
 * into its own library's RequestType/NotificationType (the client and server bundle different
 * vscode-jsonrpc versions, whose classes do not mix).
 */
import type { FunctionResult, PathTrace, EmulatorSnapshot, Range } from './engine/types';

/** A request: its method name, with the parameter and result types attached for both sides. */
export interface RequestDef<P, R> {
  readonly method: string;
  /** Type carriers only; never set. */
  readonly _params?: P;
  readonly _result?: R;
}

/** A notification: method name and parameter type. */
export interface NotificationDef<P> {
  readonly method: string;
  readonly _params?: P;
}

function request<P, R>(method: string): RequestDef<P, R> {
  return { method };
}

function notification<P>(method: string): NotificationDef<P> {
  return { method };
}

/** 0-based line and UTF-16 character, as LSP counts them. */
export interface Pos { line: number; character: number }

/** Which function: by name, or the one that contains `position`. */
export interface FunctionRef {
  uri: string;
  functionName?: string;
  position?: Pos;
}

/** A short description of one explored path, for a quick pick. */
export interface PathSummary {
  index: number;
  label: string;
  failAt: number | null;
  exit: string;
  /** Rule ids of the findings this path shows. */
  findings: string[];
}

export interface FunctionPathsResult {
  uri: string;
  functionName: string;
  /** 0-based line of the function's name. */
  line: number;
  paths: PathSummary[];
  overBudget?: string;
}

/** `iommuLens/functionPaths`: the explored paths of a function from the latest analysis; null when there is no such function. */
export const FunctionPathsRequest = request<FunctionRef, FunctionPathsResult | null>('iommuLens/functionPaths');

export interface RunSnippetParams extends FunctionRef {
  /** Index of the fallible call to fail (PathTrace.failAt), or null for the all-succeed path. */
  failAt: number | null;
  /** Run only the statements these lines cover (the editor's selection), not the whole function. */
  selection?: Range;
}

export interface RunSnippetResult {
  uri: string;
  functionName: string;
  /** The path that was run (steps, events, snapshots). */
  path: PathTrace;
  /** Findings of the function (those on the path run carry pathIndex 0). */
  findings: FunctionResult['findings'];
  /** The trace as `iommu-lens run` prints it (server/src/run-format.ts), for the output channel. */
  text: string;
  millis: number;
}

/**
 * `iommuLens/runSnippet`: run one function on the emulator along the chosen path. The result is
 * also kept as the "last run" that the inspector shows. Null when no function is found.
 */
export const RunSnippetRequest = request<RunSnippetParams, RunSnippetResult | null>('iommuLens/runSnippet');

export interface InspectorStateParams {
  /** Index into the last run's PathTrace.snapshots; the last snapshot when absent. */
  snapshot?: number;
}

export interface InspectorStateResult {
  uri: string;
  functionName: string;
  pathLabel: string;
  snapshotIndex: number;
  snapshotCount: number;
  snapshot: EmulatorSnapshot | null;
}

/** `iommuLens/inspectorState`: the emulator state of the last run (null before any run). */
export const InspectorStateRequest = request<InspectorStateParams, InspectorStateResult | null>('iommuLens/inspectorState');

export type ServerState = 'starting' | 'ready' | 'analysing' | 'error';

export interface ServerStatusParams {
  state: ServerState;
  /** Open C documents the server tracks. */
  documents: number;
  /** Findings across those documents. */
  findings: number;
  /** Duration of the latest analysis, ms. */
  lastMillis?: number;
  /** A problem to show (bad settings file, engine error). */
  message?: string;
}

/** `iommuLens/status` (server -> client): health for the status bar item. */
export const ServerStatusNotification = notification<ServerStatusParams>('iommuLens/status');

/** `iommuLens/lastRunChanged` (server -> client): a run finished; views showing the last run refresh. */
export const LastRunChangedNotification = notification<{ uri: string; functionName: string }>('iommuLens/lastRunChanged');

/** What `Diagnostic.data` carries: the function and the index of a path that shows the finding. */
export interface DiagnosticData {
  function: string;
  pathIndex: number | null;
}

/** The command a code lens runs (client side: commands/run-snippet.ts); arguments: FunctionRef. */
export const RUN_SNIPPET_COMMAND = 'iommuLens.runSnippet';
