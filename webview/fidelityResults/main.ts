import uPlot from 'uplot';
import { parseMessage } from '../../src/core/protocol/envelope';
import { HostMessage, type FidelityComparisonView, type FidelityResultsMessage, type WebviewMessage } from '../../src/core/protocol/fidelityResults';

/**
 * Fidelity results of one check: per stage pair and output cosine / SNR / max / mean absolute
 * error (with the previous check's figures and a flag where SNR fell), the error of each time step
 * and of each channel drawn with uPlot, the damaged step ranges, and the findings. All text goes
 * in through textContent.
 */

interface VsCodeApi {
  postMessage(msg: WebviewMessage): void;
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

const snr = (x: number | null) => (x === null ? 'exact' : `${x.toFixed(1)} dB`);
const num = (x: number) => (x === 0 ? '0' : Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? x.toFixed(4) : x.toExponential(2));
const label = (c: FidelityComparisonView) => `${c.stage} vs ${c.reference} · ${c.output}`;
const cssVar = (name: string, fallback: string) => getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
/** The SNR drop that is flagged (the findings use fidelity.maxDropDb; this marks the table row). */
const dropped = (c: FidelityComparisonView) =>
  c.before !== undefined && c.metrics.snrDb !== null && (c.before.snrDb === null || c.before.snrDb - c.metrics.snrDb > 3);

const charts: uPlot[] = [];
/** Axis labels: errors of float32 exports are around 1e-7, SNR around 100 dB. */
const tick = (t: number) => (t === 0 ? '0' : Math.abs(t) < 0.01 || Math.abs(t) >= 1e5 ? t.toExponential(1) : String(Number(t.toPrecision(4))));

function curveChart(
  host: HTMLElement,
  title: string,
  xLabel: string,
  ys: { label: string; values: (number | null)[]; scale: string; color: string }[],
  marks: { from: number; to: number }[],
): void {
  const n = ys[0]?.values.length ?? 0;
  if (n < 2) {
    host.append(el('p', { class: 'hint' }, `${title}: one value only, no curve.`));
    return;
  }
  const fg = cssVar('--vscode-foreground', '#ccc');
  const grid = cssVar('--vscode-editorWidget-border', '#444');
  const xs = Array.from({ length: n }, (_, i) => i);
  const width = Math.max(320, Math.min(1100, host.clientWidth || 800));
  const scales = [...new Set(ys.map((y) => y.scale))];
  const opts: uPlot.Options = {
    title,
    width,
    height: 240,
    scales: Object.fromEntries([['x', { time: false }], ...scales.map((s) => [s, { auto: true }])]),
    axes: [
      { label: xLabel, stroke: fg, grid: { stroke: grid } },
      ...scales.map((s, i) => ({
        scale: s,
        label: s,
        side: i === 0 ? 3 : 1,
        stroke: fg,
        size: 70,
        grid: { show: i === 0, stroke: grid },
        values: (_u: uPlot, ticks: number[]) => ticks.map(tick),
      })),
    ],
    series: [{ label: xLabel }, ...ys.map((y) => ({ label: y.label, scale: y.scale, stroke: y.color, width: 1.5, points: { show: false } }))],
    hooks: {
      draw: [
        (u) => {
          // damaged ranges shaded
          const ctx = u.ctx;
          ctx.save();
          ctx.fillStyle = 'rgba(241, 76, 76, 0.15)';
          for (const m of marks) {
            const x0 = u.valToPos(m.from, 'x', true);
            const x1 = u.valToPos(m.to + 1, 'x', true);
            ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
          }
          ctx.restore();
        },
      ],
    },
  };
  const box = el('div', { class: 'chart', 'aria-label': title });
  host.append(box);
  charts.push(new uPlot(opts, [xs, ...ys.map((y) => y.values)] as uPlot.AlignedData, box));
}

function drawCurves(host: HTMLElement, c: FidelityComparisonView): void {
  for (const ch of charts.splice(0)) ch.destroy();
  host.replaceChildren();
  const red = cssVar('--vscode-charts-red', '#f14c4c');
  const blue = cssVar('--vscode-charts-blue', '#3794ff');
  host.append(el('p', {}, `${label(c)}: output ${JSON.stringify(c.shape)}, ${c.steps} time steps, ${c.channels} channels.`));
  if (c.damaged.length)
    host.append(
      el(
        'p',
        { class: 'warning', role: 'alert' },
        `Steps ${c.damaged.map((d) => `${d.from}–${d.to} (${d.snrDb.toFixed(1)} dB)`).join(', ')} of ${c.steps} diverge far more than the rest.`,
      ),
    );
  curveChart(
    host,
    'Error per time step',
    'time step',
    [
      { label: 'SNR (dB)', values: c.perStep.snrDb, scale: 'dB', color: blue },
      { label: 'mean abs error', values: c.perStep.meanAbs, scale: 'abs', color: red },
    ],
    c.damaged,
  );
  if (c.perChannel) {
    curveChart(
      host,
      'Error per channel',
      'channel',
      [
        { label: 'SNR (dB)', values: c.perChannel.snrDb, scale: 'dB', color: blue },
        { label: 'mean abs error', values: c.perChannel.meanAbs, scale: 'abs', color: red },
      ],
      [],
    );
  }
}

function render(m: FidelityResultsMessage): void {
  root.replaceChildren();
  const recheck = el('button', { type: 'button' }, 'Check Fidelity');
  recheck.addEventListener('click', () => vscode.postMessage({ type: 'recheck' }));
  const open = el('button', { type: 'button', class: 'secondary' }, 'Open fidelity.json');
  open.addEventListener('click', () => vscode.postMessage({ type: 'openRecord' }));
  root.append(el('header', {}, el('h1', {}, `Fidelity: ${m.model}`), recheck, open));
  root.append(
    el(
      'p',
      { class: 'hint' },
      `${m.samples} sample(s), ${new Date(m.createdAt).toLocaleString()}${m.commit ? `, commit ${m.commit.slice(0, 10)}` : ''}${m.baseline ? `; compared with the check of ${new Date(m.baseline.createdAt).toLocaleString()}${m.baseline.commit ? ` (commit ${m.baseline.commit.slice(0, 10)})` : ''}` : ''}`,
    ),
  );
  const stages = el(
    'ul',
    { class: 'stages' },
    ...m.stages.map((s) =>
      el(
        'li',
        { class: `stage-${s.status}` },
        el('strong', {}, s.stage),
        ` ${s.status}${s.where ? ` on ${s.where}` : ''}${s.seconds !== undefined ? `, ${s.seconds.toFixed(1)} s` : ''}${s.message ? `: ${s.message}` : ''}`,
      ),
    ),
  );
  root.append(el('section', {}, el('h2', {}, 'Stages'), stages));
  if (m.findings.length)
    root.append(
      el(
        'section',
        {},
        el('h2', {}, 'Findings'),
        el('ul', { class: 'findings' }, ...m.findings.map((f) => el('li', { class: `sev-${f.severity}` }, `${f.severity} ${f.code}: ${f.message}`))),
      ),
    );
  if (!m.comparisons.length) {
    root.append(el('p', { class: 'hint' }, 'No comparison: fewer than two stages produced outputs.'));
    return;
  }
  const head = el(
    'tr',
    {},
    ...['stage', 'against', 'output', 'cosine', 'SNR', 'max abs', 'mean abs', 'previous check', 'damaged steps'].map((h) => el('th', {}, h)),
  );
  const curves = el('section', { class: 'curves' });
  const select = el('select', { 'aria-label': 'comparison to draw' }) as HTMLSelectElement;
  const rows = m.comparisons.map((c, i) => {
    select.append(el('option', { value: String(i) }, label(c)));
    const flag = dropped(c);
    const tr = el(
      'tr',
      { class: `${flag ? 'regressed' : ''} ${c.damaged.length ? 'damaged' : ''}`, 'data-index': String(i) },
      el('td', {}, c.stage),
      el('td', {}, `${c.reference}${c.against === 'previous' ? ' (previous stage)' : ''}`),
      el('td', { class: 'mono' }, c.output),
      el('td', {}, c.metrics.cosine.toFixed(6)),
      el('td', {}, snr(c.metrics.snrDb)),
      el('td', {}, num(c.metrics.maxAbs)),
      el('td', {}, num(c.metrics.meanAbs)),
      el('td', {}, c.before ? `${flag ? '⚠ dropped from ' : ''}${snr(c.before.snrDb)}, cosine ${c.before.cosine.toFixed(6)}` : '—'),
      el('td', {}, c.damaged.length ? c.damaged.map((d) => `${d.from}–${d.to}`).join(', ') : '—'),
    );
    tr.addEventListener('click', () => {
      select.value = String(i);
      drawCurves(curves, c);
    });
    return tr;
  });
  root.append(el('section', {}, el('h2', {}, 'Stage pairs'), el('table', { class: 'history' }, el('thead', {}, head), el('tbody', {}, ...rows))));
  select.addEventListener('change', () => drawCurves(curves, m.comparisons[Number(select.value)]!));
  root.append(el('section', {}, el('h2', {}, 'Along the time axis'), select, curves));
  // first the pair that says most: a damaged range, else the lowest SNR against the reference
  const refs = m.comparisons.map((c, i) => ({ c, i })).filter((x) => x.c.against === 'reference');
  const first = refs.find((x) => x.c.damaged.length) ??
    refs.sort((a, b) => (a.c.metrics.snrDb ?? Infinity) - (b.c.metrics.snrDb ?? Infinity))[0] ?? { c: m.comparisons[0]!, i: 0 };
  select.value = String(first.i);
  drawCurves(curves, first.c);
}

window.addEventListener('message', (e: MessageEvent) => {
  const msg = parseMessage(HostMessage, e.data);
  if (!msg) return;
  if (msg.type === 'fidelity') render(msg);
  else root.replaceChildren(el('p', { class: 'error' }, msg.message));
});
vscode.postMessage({ type: 'ready' });
