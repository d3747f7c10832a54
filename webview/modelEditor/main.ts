import '@vscode-elements/elements/dist/vscode-badge/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-progress-ring/index.js';
import '@vscode-elements/elements/dist/vscode-table/index.js';
import '@vscode-elements/elements/dist/vscode-table-body/index.js';
import '@vscode-elements/elements/dist/vscode-table-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-header/index.js';
import '@vscode-elements/elements/dist/vscode-table-header-cell/index.js';
import '@vscode-elements/elements/dist/vscode-table-row/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import { parseMessage } from '../../src/core/protocol/envelope';
import { HostMessage, type FindingView, type ModelSummary, type TensorSummary, type WebviewMessage } from '../../src/core/protocol/modelEditor';
import { GraphPanel, type GraphState } from '../graph/panel';

/**
 * The model editor: a Summary tab (inputs/outputs, op histogram, parameters, opset and the lint
 * findings grouped by severity) and a Graph tab (webview/graph). All text goes in through
 * textContent, never as HTML. The webview state (tab, graph expansion, selection, viewport)
 * survives hide/show and reload without retainContextWhenHidden.
 */

interface VsCodeApi {
  postMessage(msg: WebviewMessage): void;
  setState(s: unknown): void;
  getState(): unknown;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
const page = document.getElementById('root')!;

interface EditorState {
  tab?: number;
  graph?: GraphState;
}
let state: EditorState = (vscode.getState() as EditorState | undefined) ?? {};
const saveState = (patch: Partial<EditorState>) => {
  state = { ...state, ...patch };
  vscode.setState(state);
};

const tabs = document.createElement('vscode-tabs') as HTMLElement & { selectedIndex: number };
const summaryHeader = document.createElement('vscode-tab-header');
summaryHeader.textContent = 'Summary';
const graphHeader = document.createElement('vscode-tab-header');
graphHeader.textContent = 'Graph';
const root = document.createElement('vscode-tab-panel');
root.className = 'summary-panel';
const graphTab = document.createElement('vscode-tab-panel');
graphTab.className = 'graph-tab';
tabs.append(summaryHeader, root, graphHeader, graphTab);
page.replaceChildren(tabs);
const graph = new GraphPanel(
  {
    post: (m) => vscode.postMessage(m),
    loadState: () => state.graph,
    saveState: (g) => saveState({ graph: g }),
    showTab: () => {
      tabs.selectedIndex = 1;
      graph.show();
    },
  },
  document.body.dataset.graphWorker ?? '',
);
graphTab.append(graph.root);
tabs.addEventListener('vsc-tabs-select', (ev: Event) => {
  const i = (ev as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
  saveState({ tab: i });
  if (i === 1) graph.show();
});
if (state.tab === 1) {
  tabs.selectedIndex = 1;
  graph.show();
}
(window as unknown as { hailoGraph: GraphPanel }).hailoGraph = graph;

type Child = Node | string | null | undefined | false;
function el<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Record<string, string>, ...children: Child[]): HTMLElementTagNameMap[K];
function el(tag: string, props?: Record<string, string>, ...children: Child[]): HTMLElement;
function el(tag: string, props: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

function shapeText(t: TensorSummary): string {
  return t.shape ? `[${t.shape.join(', ')}]` : 'unknown';
}

function table(headers: string[], rows: string[][], columns?: string[]): HTMLElement {
  const t = el('vscode-table', { zebra: '', 'bordered-rows': '', ...(columns ? { columns: JSON.stringify(columns) } : {}) });
  t.append(el('vscode-table-header', { slot: 'header' }, ...headers.map((h) => el('vscode-table-header-cell', {}, h))));
  t.append(el('vscode-table-body', { slot: 'body' }, ...rows.map((r) => el('vscode-table-row', {}, ...r.map((c) => el('vscode-table-cell', {}, c))))));
  return t;
}

const SEVERITY_TITLE: Record<keyof ModelSummary['findings'], string> = { error: 'Errors', warning: 'Warnings', info: 'Notes', hint: 'Hints' };

let selected: HTMLElement | undefined;

function findingCard(f: FindingView): HTMLElement {
  const card = el('div', { class: `finding ${f.severity}`, tabindex: '0', role: 'button', 'data-id': String(f.id) });
  // the rule docs ship with the extension: the host opens them at the rule
  const link = el('a', { href: '#', class: 'rule', title: `Explain ${f.code}` }, f.code);
  link.addEventListener('click', (ev) => {
    ev.preventDefault();
    vscode.postMessage({ type: 'explainRule', code: f.code });
  });
  card.append(el('div', { class: 'finding-head' }, el('vscode-badge', {}, f.severity), ' ', link, ' ', el('strong', {}, f.title)));
  card.append(el('p', { class: 'message' }, f.message));
  if (f.fix) card.append(el('p', { class: 'fix' }, el('strong', {}, 'Fix: '), f.fix));
  // the file name and line; the full path on hover (absolute paths crowd the card)
  if (f.source) card.append(el('p', { class: 'source', title: `${f.source.file}:${f.source.line}` }, `${f.source.file.split(/[\\/]/).pop()}:${f.source.line}`));
  if (f.nodes.length) {
    const shown = f.nodes.slice(0, 40);
    // a chip shows its node in the Graph tab (opened, selected, its group expanded)
    const chip = (n: string) => {
      const c = el('code', { class: 'node', tabindex: '0', role: 'link', title: `Show ${n} in the graph` }, n);
      const go = (ev: Event) => {
        ev.preventDefault();
        ev.stopPropagation();
        graph.handle({ type: 'reveal', node: n });
      };
      c.addEventListener('click', go);
      c.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') go(ev);
      });
      return c;
    };
    card.append(
      el('div', { class: 'nodes' }, ...shown.map(chip), f.nodes.length > shown.length ? el('span', {}, ` … ${f.nodes.length - shown.length} more`) : null),
    );
  }
  const activate = (ev: Event) => {
    if ((ev.target as HTMLElement).closest('a')) return;
    selected?.classList.remove('selected');
    selected = card;
    card.classList.add('selected');
    if (f.source) vscode.postMessage({ type: 'revealFinding', id: f.id });
  };
  card.addEventListener('click', activate);
  card.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      activate(ev);
    }
  });
  return card;
}

function renderSummary(s: ModelSummary): void {
  const counts = (Object.keys(SEVERITY_TITLE) as (keyof ModelSummary['findings'])[]).map((k) => [k, s.findings[k].length] as const);
  const head = el(
    'header',
    {},
    el('h1', {}, s.title, ' ', el('vscode-badge', { variant: 'counter' }, s.kind.toUpperCase())),
    el('p', { class: 'file' }, s.file),
    el(
      'p',
      { class: 'counts' },
      counts
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${n} ${SEVERITY_TITLE[k].toLowerCase()}`)
        .join(' · ') || 'No findings',
    ),
  );
  const facts = el('dl', { class: 'facts' }, ...s.facts.flatMap((f) => [el('dt', {}, f.key), el('dd', {}, f.value)]));
  const io = el(
    'section',
    {},
    el('h2', {}, 'Inputs and outputs'),
    table(
      ['', 'Name', 'Shape', 'Type'],
      [...s.inputs.map((t) => ['input', t.name, shapeText(t), t.dtype ?? '?']), ...s.outputs.map((t) => ['output', t.name, shapeText(t), t.dtype ?? '?'])],
      ['12%', '38%', '35%', '15%'],
    ),
  );
  const problems = el('a', { href: '#', class: 'problems-link' }, 'Show in Problems panel');
  problems.addEventListener('click', (ev) => {
    ev.preventDefault();
    vscode.postMessage({ type: 'showProblems' });
  });
  const findings = el('section', { class: 'findings' }, el('h2', {}, 'Hailo lint ', problems));
  for (const [k, n] of counts) {
    if (!n) continue;
    const c = el('vscode-collapsible', { heading: `${SEVERITY_TITLE[k]} (${n})`, ...(k === 'error' || k === 'warning' ? { open: '' } : {}) });
    c.append(el('div', { class: 'finding-list' }, ...s.findings[k].map(findingCard)));
    findings.append(c);
  }
  if (counts.every(([, n]) => n === 0)) findings.append(el('p', {}, 'Nothing the Hailo toolchain is known to reject or rewrite.'));
  const ops = el(
    'section',
    {},
    el('h2', {}, `Operators (${s.ops.reduce((a, o) => a + o.count, 0)} nodes)`),
    table(
      ['Operator', 'Count'],
      s.ops.map((o) => [o.op, String(o.count)]),
      ['70%', '30%'],
    ),
  );
  const warnings = s.warnings.length
    ? el('section', { class: 'warnings' }, el('h2', {}, 'Reader notes'), el('ul', {}, ...s.warnings.map((w) => el('li', {}, w))))
    : null;
  root.replaceChildren(head, facts, io, findings, ops, ...(warnings ? [warnings] : []));
}

function renderFailed(file: string, code: string, message: string): void {
  root.replaceChildren(
    el(
      'div',
      { class: 'failed', role: 'alert' },
      el('h1', {}, 'Cannot read this model'),
      el('p', { class: 'file' }, file),
      el('p', {}, message),
      el('p', { class: 'code' }, `Reason: ${code}`),
    ),
  );
}

function renderLoading(file: string): void {
  root.replaceChildren(el('div', { class: 'loading' }, el('vscode-progress-ring', {}), el('span', {}, `Reading ${file}…`)));
}

window.addEventListener('message', (ev: MessageEvent) => {
  const msg = parseMessage(HostMessage, ev.data);
  if (!msg) return;
  switch (msg.type) {
    case 'loading':
      renderLoading(msg.file);
      break;
    case 'summary':
      renderSummary(msg.summary);
      graph.setFindings(Object.values(msg.summary.findings).flat());
      graph.setModelKind(msg.summary.kind);
      break;
    case 'failed':
      renderFailed(msg.file, msg.code, msg.message);
      break;
    case 'error':
      if (graph.handle(msg)) break;
      root.prepend(el('div', { class: 'failed', role: 'alert' }, msg.message));
      break;
    default:
      graph.handle(msg);
  }
});

vscode.postMessage({ type: 'ready' });
