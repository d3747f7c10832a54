import uPlot from 'uplot';
import { parseMessage } from '../../src/core/protocol/envelope';
import { HostMessage, type FigureView, type ResultRow, type ResultsMessage, type WebviewMessage } from '../../src/core/protocol/deviceResults';

/**
 * Device results of one model: the latest run's figures against the budget (and the real-time
 * factor of an audio encoder), a chart of latency and FPS over the runs (uPlot), and the history
 * table by run and git commit with the regression flag. All text goes in through textContent.
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

const n2 = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(2));
function fig(f: FigureView): HTMLElement {
  if ('value' in f) return el('span', { class: 'value', title: `from the ${f.source}` }, `${n2(f.value)} ${f.unit}`);
  return el('span', { class: 'not-measured', title: f.notMeasured }, 'not measured');
}

function card(label: string, value: Child, detail?: string, cls = ''): HTMLElement {
  return el(
    'div',
    { class: `card ${cls}` },
    el('div', { class: 'label' }, label),
    el('div', { class: 'big' }, value),
    detail ? el('div', { class: 'detail' }, detail) : null,
  );
}

let chart: uPlot | undefined;

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

function drawChart(host: HTMLElement, m: ResultsMessage): void {
  chart?.destroy();
  chart = undefined;
  const rows = m.rows.filter((r) => r.latencyMs !== undefined || 'value' in r.fpsStreaming || 'value' in r.fpsHwOnly);
  if (rows.length === 0) {
    host.append(el('p', { class: 'hint' }, 'No measured run yet: the chart appears after the first benchmark that printed a figure.'));
    return;
  }
  const xs = rows.map((_, i) => i + 1);
  const val = (f: FigureView) => ('value' in f ? f.value : null);
  const fg = cssVar('--vscode-foreground', '#ccc');
  const grid = cssVar('--vscode-editorWidget-border', '#444');
  const data: uPlot.AlignedData = [xs, rows.map((r) => r.latencyMs ?? null), rows.map((r) => val(r.fpsStreaming)), rows.map((r) => val(r.fpsHwOnly))];
  const width = Math.max(320, Math.min(900, host.clientWidth || 700));
  const opts: uPlot.Options = {
    width,
    height: 260,
    scales: { x: { time: false }, ms: { auto: true }, fps: { auto: true } },
    axes: [
      { stroke: fg, grid: { stroke: grid }, values: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) && rows[t - 1] ? `#${t}` : '')) },
      { scale: 'ms', label: 'latency (ms)', stroke: fg, grid: { stroke: grid } },
      { scale: 'fps', label: 'FPS', side: 1, stroke: fg, grid: { show: false } },
    ],
    series: [
      { label: 'run', value: (_u, v) => (v == null || !rows[v - 1] ? '' : `#${v} ${rows[v - 1]!.commit ?? rows[v - 1]!.runId.slice(0, 15)}`) },
      { label: 'latency (ms)', scale: 'ms', stroke: cssVar('--vscode-charts-red', '#f14c4c'), width: 2, points: { size: 7 }, spanGaps: false },
      { label: 'FPS streaming', scale: 'fps', stroke: cssVar('--vscode-charts-blue', '#3794ff'), width: 2, points: { size: 6 } },
      { label: 'FPS HW-only', scale: 'fps', stroke: cssVar('--vscode-charts-green', '#89d185'), width: 1, dash: [4, 4], points: { size: 5 } },
    ],
  };
  if (m.budgetMs) {
    const budget = m.budgetMs;
    opts.hooks = {
      draw: [
        (u) => {
          const y = u.valToPos(budget, 'ms', true);
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = cssVar('--vscode-charts-orange', '#d18616');
          ctx.setLineDash([6, 4]);
          ctx.beginPath();
          ctx.moveTo(u.bbox.left, y);
          ctx.lineTo(u.bbox.left + u.bbox.width, y);
          ctx.stroke();
          ctx.restore();
        },
      ],
    };
    opts.scales!.ms = { range: (_u, min, max) => [0, Math.max(max ?? 0, budget) * 1.15 || 1] };
  }
  const box = el('div', { class: 'chart', 'aria-label': 'latency and FPS over runs' });
  host.append(box);
  chart = new uPlot(opts, data, box);
}

function historyTable(m: ResultsMessage): HTMLElement {
  const head = el(
    'tr',
    {},
    ...['#', 'run', 'commit', 'device', 'status', 'HW latency', 'overall latency', 'FPS streaming', 'FPS HW-only', 'power', 'budget', 'RTF', 'vs previous'].map(
      (h) => el('th', {}, h),
    ),
  );
  const body = m.rows.map((r, i) => {
    const reg = r.regression;
    const runLink = el('a', { href: '#', title: r.runId }, new Date(r.createdAt).toLocaleString());
    runLink.addEventListener('click', (e) => {
      e.preventDefault();
      vscode.postMessage({ type: 'openRun', runId: r.runId });
    });
    return el(
      'tr',
      { class: `${reg?.regressed ? 'regressed' : ''} ${r.partial ? 'partial' : ''}`, 'data-run': r.runId },
      el('td', {}, String(i + 1)),
      el('td', {}, runLink),
      el('td', { class: 'mono' }, r.commit ?? '—'),
      el('td', {}, `${r.device}${r.architecture ? ` (${r.architecture})` : ''}`),
      el('td', { title: r.refused ?? '' }, `${r.status}${r.partial ? ' (partial)' : ''}${r.refused ? ' (refused)' : ''}`),
      el('td', {}, fig(r.hwLatencyMs)),
      el('td', {}, fig(r.overallLatencyMs)),
      el('td', {}, fig(r.fpsStreaming)),
      el('td', {}, fig(r.fpsHwOnly)),
      el('td', {}, fig(r.powerAvgW)),
      el(
        'td',
        { class: `budget-${r.budget}` },
        r.budget === 'within' ? 'within' : r.budget === 'over' ? 'OVER' : r.budget === 'not-measured' ? 'not measured' : '—',
      ),
      el('td', {}, r.rtf !== undefined ? r.rtf.toFixed(4) : '—'),
      el(
        'td',
        {
          title: reg
            ? `noise band ±${(reg.noise * 100).toFixed(1)} % (${reg.noiseFrom === 'repeats' ? 'spread of the benchmark repetitions' : 'spread of earlier runs'})${r.repetitions ? `; ${r.repetitions.length} repetitions` : ''}`
            : r.repetitions
              ? `${r.repetitions.length} repetitions`
              : '',
        },
        reg
          ? `${reg.regressed ? '⚠ regressed ' : ''}${reg.change >= 0 ? '+' : ''}${(reg.change * 100).toFixed(1)} % ${reg.metric === 'latency' ? 'latency' : 'FPS drop'}`
          : '—',
      ),
    );
  });
  return el('table', { class: 'history' }, el('thead', {}, head), el('tbody', {}, ...body));
}

function render(m: ResultsMessage): void {
  root.replaceChildren();
  const deploy = el('button', { type: 'button' }, 'Deploy and Benchmark');
  deploy.addEventListener('click', () => vscode.postMessage({ type: 'deploy' }));
  root.append(el('header', {}, el('h1', {}, `Device results: ${m.model}`), deploy));
  const last: ResultRow | undefined = m.rows[m.rows.length - 1];
  if (!last) {
    root.append(el('p', { class: 'hint' }, `No device runs of ${m.model} yet. "Deploy and Benchmark" uploads its HEF to the device and measures it.`));
    return;
  }
  const cards = el('section', { class: 'cards' });
  const items: Child[] = [
    card(
      'Latency',
      last.latencyMs !== undefined ? `${n2(last.latencyMs)} ms` : 'not measured',
      last.latencyMs !== undefined
        ? last.latencyKind === 'hw'
          ? 'HW latency'
          : 'overall latency'
        : 'notMeasured' in last.hwLatencyMs
          ? last.hwLatencyMs.notMeasured
          : undefined,
      last.budget === 'over' ? 'bad' : last.budget === 'within' ? 'good' : '',
    ),
    card(
      'Budget',
      m.budgetMs ? `${n2(m.budgetMs)} ms` : 'none',
      m.budgetMs
        ? last.budget === 'within'
          ? 'met'
          : last.budget === 'over'
            ? 'EXCEEDED'
            : 'latency not measured'
        : 'set latencyBudgetMs for the model in hailo.json',
    ),
    card('FPS (streaming)', fig(last.fpsStreaming), 'value' in last.fpsHwOnly ? `HW-only ${n2(last.fpsHwOnly.value)}` : undefined),
    m.windowSeconds
      ? card(
          'Real-time factor',
          last.rtf !== undefined ? last.rtf.toFixed(4) : 'not measured',
          `${m.windowSeconds} s of audio per inference${last.rtf ? `: ${(1 / last.rtf).toFixed(0)}× faster than real time` : ''}`,
          last.rtf !== undefined && last.rtf < 1 ? 'good' : '',
        )
      : null,
    card('Power', fig(last.powerAvgW), 'notMeasured' in last.powerAvgW ? last.powerAvgW.notMeasured : 'average, streaming'),
  ];
  for (const c of items) if (c) cards.append(c);
  root.append(cards);
  if (last.regression?.regressed) {
    const r = last.regression;
    root.append(
      el(
        'p',
        { class: 'warning', role: 'alert' },
        `⚠ ${r.metric === 'latency' ? 'Latency' : 'FPS'} regressed by ${(r.change * 100).toFixed(1)} % against the previous comparable run (${n2(r.before)} → ${n2(r.after)}), beyond the noise band of ±${(r.noise * 100).toFixed(1)} % (${r.noiseFrom === 'repeats' ? 'the spread of the benchmark repetitions of the two runs' : 'the spread of earlier runs'}).`,
      ),
    );
  }
  if (last.partial) root.append(el('p', { class: 'hint' }, 'The last run failed part-way; the figures it printed before failing are kept.'));
  const est = el('section', { class: 'estimate' }, el('h2', {}, 'Estimate vs measurement'));
  if (m.estimate) {
    const e = m.estimate;
    const measuredFps = 'value' in last.fpsStreaming ? last.fpsStreaming.value : 'value' in last.fpsHwOnly ? last.fpsHwOnly.value : undefined;
    const ratio = (meas: number | undefined, estd: number | undefined) => (meas !== undefined && estd !== undefined && estd > 0 ? meas / estd : undefined);
    const row = (what: string, estd: number | undefined, meas: number | undefined, unit: string, why: string) => {
      const r = ratio(meas, estd);
      return el(
        'tr',
        {},
        el('td', {}, what),
        el('td', {}, estd !== undefined ? `${n2(estd)} ${unit}` : 'not estimated'),
        el('td', meas === undefined ? { class: 'not-measured', title: why } : {}, meas !== undefined ? `${n2(meas)} ${unit}` : 'not measured'),
        el('td', { class: 'ratio' }, r !== undefined ? `${r.toFixed(2)}×` : '—'),
      );
    };
    est.append(
      el(
        'p',
        {},
        `Compiler estimate from ${e.source}${e.runId ? ` (compile run ${e.runId})` : ''}${e.contexts !== undefined ? `, ${e.contexts} context(s)` : ''}; ratio = measured / estimated.`,
      ),
      el(
        'table',
        { class: 'estimate-table' },
        el('thead', {}, el('tr', {}, ...['', 'estimated', 'measured (last run)', 'ratio'].map((h) => el('th', {}, h)))),
        el(
          'tbody',
          {},
          row('FPS', e.fps, measuredFps, 'fps', 'notMeasured' in last.fpsStreaming ? last.fpsStreaming.notMeasured : ''),
          row('Latency', e.latencyMs, last.latencyMs, 'ms', 'notMeasured' in last.hwLatencyMs ? last.hwLatencyMs.notMeasured : ''),
        ),
      ),
    );
  } else est.append(el('p', { class: 'hint' }, `No estimate to compare with: ${m.estimateMissing ?? 'none found'}.`));
  const chartSec = el('section', {}, el('h2', {}, 'Latency and FPS over runs'));
  root.append(chartSec);
  drawChart(chartSec, m);
  root.append(el('section', {}, el('h2', {}, 'History'), historyTable(m)), est);
}

window.addEventListener('message', (e: MessageEvent) => {
  const msg = parseMessage(HostMessage, e.data);
  if (!msg) return;
  if (msg.type === 'results') render(msg);
  else root.replaceChildren(el('p', { class: 'error' }, msg.message));
});
vscode.postMessage({ type: 'ready' });
