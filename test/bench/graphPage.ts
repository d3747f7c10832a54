/**
 * The model editor webview outside VS Code, for the graph bench: a page on 127.0.0.1 that loads
 * the built webview bundle and layout worker with VS Code's theme variables (dark or light), and
 * an in-page stand-in for the extension host that answers the webview's requests with a graph
 * view given by the caller (as an object, or as the JSON text the host would post). Timing marks: `graph:posted` (the host posts the graph) and the
 * webview's own `graph:received` / `graph:painted`.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { AddressInfo } from 'node:net';

const ROOT = path.resolve(__dirname, '..', '..');

const DARK: Record<string, string> = {
  'editor-background': '#1e1e1e',
  'editor-foreground': '#d4d4d4',
  foreground: '#cccccc',
  descriptionForeground: '#9d9d9d',
  'editorWidget-background': '#252526',
  'editorWidget-border': '#454545',
  'badge-background': '#4d4d4d',
  'badge-foreground': '#ffffff',
  'sideBar-background': '#252526',
  'editorGroupHeader-tabsBackground': '#2d2d2d',
  'input-background': '#3c3c3c',
  'panel-border': '#80808059',
  'editorLineNumber-foreground': '#858585',
  focusBorder: '#007fd4',
  'charts-yellow': '#cca700',
  'charts-blue': '#3794ff',
  'charts-red': '#f14c4c',
  'charts-orange': '#d18616',
  'charts-green': '#89d185',
  'charts-purple': '#b180d7',
  'editorError-foreground': '#f14c4c',
  'editorWarning-foreground': '#cca700',
  'editorInfo-foreground': '#3794ff',
  'textLink-foreground': '#3794ff',
  'button-background': '#0e639c',
  'button-foreground': '#ffffff',
  'button-secondaryBackground': '#3a3d41',
  'button-secondaryForeground': '#ffffff',
  'font-family': 'system-ui, sans-serif',
  'font-size': '13px',
  'editor-font-family': 'monospace',
};
const LIGHT: Record<string, string> = {
  ...DARK,
  'editor-background': '#ffffff',
  'editor-foreground': '#000000',
  foreground: '#616161',
  descriptionForeground: '#717171',
  'editorWidget-background': '#f3f3f3',
  'editorWidget-border': '#c8c8c8',
  'badge-background': '#c4c4c4',
  'badge-foreground': '#333333',
  'sideBar-background': '#f3f3f3',
  'editorGroupHeader-tabsBackground': '#f3f3f3',
  'input-background': '#ffffff',
  'panel-border': '#80808059',
  'editorLineNumber-foreground': '#6e7681',
  focusBorder: '#0090f1',
  'button-secondaryBackground': '#5f6a79',
  'textLink-foreground': '#006ab1',
};

export function pageHtml(theme: 'dark' | 'light'): string {
  const vars = Object.entries(theme === 'dark' ? DARK : LIGHT)
    .map(([k, v]) => `--vscode-${k}: ${v};`)
    .join(' ');
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/media/modelEditor.css"><link rel="stylesheet" href="/media/graph.css">
<style>html { ${vars} }</style>
<script>
  window.__state = undefined;
  window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__host(m), setState: (s) => { window.__state = s; }, getState: () => window.__state });
  window.__sent = [];
  window.__host = (m) => {
    window.__sent.push(m);
    const reply = (x) => window.postMessage(x, '*');
    if (m.type === 'ready' && window.__summary) reply({ type: 'summary', summary: window.__summary });
    // the extension host sends the graph as JSON text, made there (another process): __viewText is
    // that text, made before the timing starts; __view is stringified here
    if (m.type === 'graphRequest') window.__answerGraph = () => { const text = window.__viewText ?? JSON.stringify(window.__view); performance.mark('graph:posted'); reply({ type: 'graph', requestId: m.requestId, view: text, ms: 0 }); };
    if (m.type === 'graphRequest' && (window.__view || window.__viewText) && !window.__holdGraph) window.__answerGraph();
    if (m.type === 'nodeDetailsRequest') reply({ type: 'nodeDetails', requestId: m.requestId, side: m.side, details: (window.__details || {})[m.id] || null });
    if (m.type === 'diffRequest' && window.__diff) reply({ type: 'diff', requestId: m.requestId, hn: JSON.stringify(window.__diff.hn), ledger: window.__diff.ledger });
  };
</script></head>
<body class="vscode-${theme}" data-graph-worker="/dist/webview/graphLayout.js"><main id="root"></main>
<script src="/data.js"></script>
<script src="/dist/webview/modelEditor.js"></script></body></html>`;
}

export interface GraphPage {
  url: string;
  /** Replace what /data.js sets (window.__view or __viewText, __summary, __details, __diff, __state). */
  setData(js: string): void;
  close(): Promise<void>;
}

export async function startGraphPage(theme: 'dark' | 'light' = 'dark'): Promise<GraphPage> {
  let data = '';
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (type: string, body: string | Buffer) => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    };
    if (url.pathname === '/' || url.pathname === '/index.html')
      return send('text/html', pageHtml((url.searchParams.get('theme') as 'dark' | 'light') ?? theme));
    if (url.pathname === '/data.js') return send('text/javascript', data);
    const rel = url.pathname.replace(/^\/+/, '');
    if (!/^(dist\/webview|media)\/[\w.-]+\.(js|css)$/.test(rel)) {
      res.writeHead(404);
      return res.end();
    }
    const f = path.join(ROOT, rel);
    if (!fs.existsSync(f)) {
      res.writeHead(404);
      return res.end();
    }
    send(rel.endsWith('.css') ? 'text/css' : 'text/javascript', fs.readFileSync(f));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/`,
    setData: (js) => (data = js),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
