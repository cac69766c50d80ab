/** The savings panel's HTML page, kept free of `vscode` so its CSP can be tested in a real browser. */
import { randomBytes } from 'node:crypto';

export interface PanelHtmlInput {
  /** `webview.cspSource`: the origin the webview serves the extension's files from. */
  cspSource: string;
  /** `asWebviewUri` of dist/webview.js and dist/webview.css. */
  scriptUri: string;
  styleUri: string;
  title: string;
  /** A fresh random nonce per load unless a test fixes one. */
  nonce?: string;
}

/**
 * The page: scripts run only with the per-load nonce; styles, images and fonts come only from the
 * extension's own files. chart.js sizes its canvas through the CSSOM (`element.style.x = …`),
 * which `style-src` does not govern, so no 'unsafe-inline' is needed.
 *
 * @example panelHtml({ cspSource: webview.cspSource, scriptUri, styleUri, title: 'Isartor Savings' })
 */
export function panelHtml(input: PanelHtmlInput): string {
  const nonce = input.nonce ?? randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${input.cspSource}`,
    `img-src ${input.cspSource} data:`,
    `font-src ${input.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttribute(input.styleUri)}">
<title>${escapeAttribute(input.title)}</title>
</head>
<body>
<main id="app"><p>Loading savings…</p></main>
<script nonce="${nonce}" src="${escapeAttribute(input.scriptUri)}"></script>
</body>
</html>`;
}

function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
