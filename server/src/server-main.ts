/**
 * Language server entry point (dist/server.js). The transport comes from the command line, as
 * vscode-languageserver reads it: `--node-ipc` (the VS Code client), `--stdio`, `--socket=N`.
 */
import * as v8 from 'node:v8';
import { startServer } from './server';

// The server lives as long as the editor and holds little (about 80 MB of live heap with 50
// large drivers open), but each analysis allocates a lot for a short time; V8's default growth
// (the next collection at up to four times what survived) let the heap reach 450 MB. A factor
// of 1.25 keeps it near what is live for a few percent more collection time, with no cap: a
// 50 MB file still gets all the memory it needs (docs/performance.md, "The editor's memory").
v8.setFlagsFromString(`--heap-growing-percent=${process.env.IOMMU_LENS_HEAP_GROWING ?? 25}`);

startServer();
