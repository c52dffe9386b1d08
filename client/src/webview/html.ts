/**
 * HTML shell shared by the webviews: a strict CSP (`default-src 'none'`; styles and images only
 * from the extension's media/ via the webview's own source; scripts only with this page's nonce)
 * and the media/ stylesheet and script named by the caller.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/** Webview options limiting local resources to media/. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'media')] };
}

/** A fresh nonce for one page. */
export function nonce(): string {
  return randomBytes(16).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

/** The page: `css` and `js` are file names in media/; `body` is trusted static markup. */
export function pageHtml(webview: vscode.Webview, extensionUri: vscode.Uri, title: string, css: string, js: string, body: string): string {
  const n = nonce();
  const media = (f: string) => webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', f));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${n}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${media(css)}" rel="stylesheet">
<title>${title}</title>
</head>
<body>
${body}
<script nonce="${n}" src="${media(js)}"></script>
</body>
</html>`;
}
