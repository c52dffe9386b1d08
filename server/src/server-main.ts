/**
 * Language server entry point (dist/server.js). The transport comes from the command line, as
 * vscode-languageserver reads it: `--node-ipc` (the VS Code client), `--stdio`, `--socket=N`.
 */
import { startServer } from './server';

startServer();
