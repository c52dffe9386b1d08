/**
 * tsconfig.base.json resolves modules the "node" (node10) way, which ignores package.json
 * "exports"; vscode-languageserver 10 and its protocol/jsonrpc packages declare their entry points
 * only there. These declarations map each public specifier to the file its "exports" names, so the
 * types match what Node and esbuild load at run time. (With "moduleResolution": "node16" this
 * file can go.)
 */
declare module 'vscode-languageserver' { export * from 'vscode-languageserver/lib/common/api'; }
declare module 'vscode-languageserver/node' { export * from 'vscode-languageserver/lib/node/main'; }
declare module 'vscode-languageserver-protocol' { export * from 'vscode-languageserver-protocol/lib/common/api'; }
declare module 'vscode-languageserver-protocol/node' { export * from 'vscode-languageserver-protocol/lib/node/main'; }
declare module 'vscode-jsonrpc' { export * from 'vscode-jsonrpc/lib/common/api'; }
declare module 'vscode-jsonrpc/node' { export * from 'vscode-jsonrpc/lib/node/main'; }
