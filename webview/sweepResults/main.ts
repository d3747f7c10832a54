import { parseMessage } from '../../src/core/protocol/envelope';
import { HostMessage, type SweepMessage, type SweepRowView, type WebviewMessage } from '../../src/core/protocol/sweepResults';

/**
 * Sweep results: one row per variant (lint errors, parse/optimize/compile outcome with the first
 * error, contexts, estimate, latency and fidelity when measured), sortable by any column, the best
 * variant within the budget marked. All text goes in through textContent.
 */

interface VsCodeApi {
  postMessage(msg: WebviewMessage): void;
  /** Kept by VS Code across a reload: the restored panel asks for the same sweep. */
  setState(state: { sweepId: string }): void;
}
declare function acquireVsCodeApi(): VsCodeApi;
const vscode = acquireVsCodeApi();
const root = document.getElementById('root')!;

type Child = Node | string | null | undefined | false;
function el(tag: string, props: Record<string, string> = {}, ...children: Child[]): HTMLElement {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(typeof c === 'string' ? document.createTextNode(c) : c);
  return e;
}

let last: SweepMessage | undefined;
type Column = Exclude<keyof SweepRowView, 'notes'>;
let sortKey: Column | undefined;
let sortDir: 1 | -1 = 1;

/** Empty cells last in either direction; numbers as numbers, and the numbers inside text too. */
function sorted(rows: readonly SweepRowView[]): SweepRowView[] {
  if (!sortKey) return [...rows];
  const k = sortKey;
  return [...rows].sort((a, b) => {
    const x = a[k];
    const y = b[k];
    if (x === '' && y !== '') return 1;
    if (y === '' && x !== '') return -1;
    if (typeof x === 'number' && typeof y === 'number') return (x - y) * sortDir;
    // "width=8" before "width=24": digits compare as numbers
    return String(x).localeCompare(String(y), 'en', { numeric: true }) * sortDir;
  });
}

const VISIBLE: Column[] = [
  'best',
  'label',
  'lintErrors',
  'rewrites',
  'parse',
  'optimize',
  'compile',
  'firstError',
  'contexts',
  'estimatedFps',
  'estimatedLatencyMs',
  'latencyMs',
  'fidelity',
  'meetsBudget',
  'slurmJob',
];

/** The note of a column whose empty cell says why (tooltip): rewrites, estimate, latency, fidelity. */
function noteOf(r: SweepRowView, k: Column): string | undefined {
  if (k === 'rewrites') return r.notes.rewrites;
  if (k === 'estimatedFps' || k === 'estimatedLatencyMs') return r.notes.estimate;
  if (k === 'latencyMs') return r.notes.latencyMs;
  if (k === 'fidelity') return r.notes.fidelity;
  return undefined;
}

function cell(r: SweepRowView, k: Column): HTMLElement {
  const v = r[k];
  const why = v === '' ? noteOf(r, k) : undefined;
  if (why?.startsWith('pending')) return el('td', { title: why }, '');
  if (why) return el('td', { class: 'note', title: why }, /^not measured/.test(why) ? 'not measured' : 'not available');
  if (k === 'best') return el('td', { class: 'best' }, r.best ? '★' : '');
  if (k === 'parse' || k === 'optimize' || k === 'compile') return el('td', { class: `outcome ${String(v)}` }, String(v));
  if (k === 'firstError') return el('td', { class: 'error-text', title: String(v) }, String(v).length > 160 ? `${String(v).slice(0, 160)}…` : String(v));
  if (k === 'label') {
    const a = el('a', { href: '#', title: `Open the DFC log of ${r.id}` }, String(v) || r.id);
    a.addEventListener('click', (e) => {
      e.preventDefault();
      vscode.postMessage({ type: 'openLog', variantId: r.id });
    });
    return el('td', {}, a);
  }
  // a measured figure may say what it is (the fidelity cell: which stage and output)
  const about = noteOf(r, k);
  return el('td', about ? { title: about } : {}, typeof v === 'number' ? String(Number(v.toFixed(3))) : String(v));
}

function render(m: SweepMessage): void {
  last = m;
  vscode.setState({ sweepId: m.id });
  const cols = VISIBLE.map((k) => ({ key: k, title: m.columns.find((c) => c.key === k)?.title ?? k }))
    .filter((c) => c.key !== 'slurmJob' || m.rows.some((r) => r.slurmJob))
    // latency and fidelity only when the sweep measured them for some variant (or says why not for one that compiled)
    .filter(
      (c) =>
        !['latencyMs', 'fidelity'].includes(c.key) ||
        m.rows.some((r) => r[c.key] !== '' || (r.compile === 'succeeded' && !/names no device|runs no fidelity/.test(noteOf(r, c.key) ?? ''))),
    );
  const head = el('tr');
  for (const c of cols) {
    const th = el(
      'th',
      { scope: 'col', role: 'button', tabindex: '0', 'aria-sort': sortKey === c.key ? (sortDir === 1 ? 'ascending' : 'descending') : 'none' },
      c.title,
      sortKey === c.key ? (sortDir === 1 ? ' ▲' : ' ▼') : '',
    );
    const sort = () => {
      if (sortKey === c.key) sortDir = sortDir === 1 ? -1 : 1;
      else {
        sortKey = c.key;
        sortDir = 1;
      }
      render(last!);
    };
    th.addEventListener('click', sort);
    th.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && sort());
    head.append(th);
  }
  const body = el('tbody');
  for (const r of sorted(m.rows)) {
    const tr = el('tr', r.best ? { class: 'best-row' } : {});
    for (const c of cols) tr.append(cell(r, c.key));
    body.append(tr);
  }
  const best = m.rows.find((r) => r.best);
  const compiled = m.rows.filter((r) => r.compile === 'succeeded').length;
  const csv = el('button', {}, 'Export CSV');
  csv.addEventListener('click', () => vscode.postMessage({ type: 'exportCsv' }));
  root.replaceChildren(
    el('h1', {}, `Sweep ${m.name}: ${m.model} on ${m.target}`),
    el(
      'p',
      {},
      `${m.status} · ${m.rows.length} variants, ${compiled} compiled${m.jobId ? ` · Slurm job array ${m.jobId}` : ''}${m.budgetMs !== undefined ? ` · budget ${m.budgetMs} ms` : ''}`,
    ),
    el(
      'p',
      { class: 'best-line' },
      best
        ? `Best within the budget: ${best.label || best.id}`
        : m.budgetMs !== undefined
          ? 'No variant meets the budget (or none has a latency yet).'
          : 'No latency budget: set latencyBudgetMs on the sweep to mark the best variant.',
    ),
    csv,
    el('table', {}, el('thead', {}, head), body),
  );
}

window.addEventListener('message', (e: MessageEvent) => {
  const msg = parseMessage(HostMessage, e.data);
  if (!msg) return;
  if (msg.type === 'sweep') render(msg);
  else root.replaceChildren(el('p', { class: 'error' }, msg.message));
});
vscode.postMessage({ type: 'ready' });
