// The graph model through the UI: an ONNX model with If and Loop opens with their bodies as
// collapsed groups, a click opens the If's then-branch and shows its nodes; a comparison with a
// compiled HAR (the compiler's auto model script says which layer runs in which context) colours
// the graph by context with a legend; "Show in Graph" on a DFC error in a log selects the ONNX
// node it names, or the HN layer in the HAR beside the log.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { useWorkbench } from '../harness/e2e';
import { REPO_ROOT } from '../harness/codeServer';
import { runCommand, screenshot, waitFor, quickOpen, editorFrame } from '../harness/workbench';
import { CONTROL_FLOW, writeControlFlow } from '../fixtures/onnx/controlFlow';
import { writeWhisper, WHISPER_SIZES } from '../fixtures/onnx/gen';
import { writeCompiledHar } from '../fixtures/hailo/contexts';

const FIX = path.join(REPO_ROOT, 'test', 'fixtures', 'hailo');
// page.evaluate callbacks run in the webview; the project compiles without the DOM library
declare const window: unknown;

interface CanvasHandle {
  laidOut?: { boxes: Float64Array };
  graph?: { nodeCount: number; nodeId(i: number): string; groupId(g: number): string; groupIndex(id: string): number | undefined };
  marks: { node: ({ badge?: string; tint?: string } | undefined)[] };
  boxOf(k: string, i: number): number;
  boxRect(b: number): { x: number; y: number; w: number; h: number };
  centerOn(b: number): void;
  drawNow(): void;
  vp: { s: number; tx: number; ty: number };
}

/** The drawn boxes: closed and open groups by id, and the ids of the nodes drawn. */
async function drawn(view: Frame): Promise<{ closed: string[]; open: string[]; nodes: string[] }> {
  return view.evaluate(() => {
    const c = (window as { hailoGraph: { modelCanvas: CanvasHandle } }).hailoGraph.modelCanvas;
    const out = { closed: [] as string[], open: [] as string[], nodes: [] as string[] };
    const b = c.laidOut?.boxes ?? new Float64Array(0);
    for (let i = 0; i < b.length; i += 7) {
      if (b[i] === 0) out.nodes.push(c.graph!.nodeId(b[i + 1]!));
      else (b[i] === 2 ? out.open : out.closed).push(c.graph!.groupId(b[i + 1]!));
    }
    return out;
  });
}

async function openGraphTab(view: Frame): Promise<void> {
  await view.locator('vscode-tab-header', { hasText: 'Graph' }).click();
  await waitFor(async () => (await drawn(view).catch(() => ({ nodes: [] as string[] }))).nodes.length > 0, {
    what: 'the graph to be laid out',
    timeout: 30_000,
  });
}

async function clickGroup(page: Page, view: Frame, id: string): Promise<void> {
  const at = await view.evaluate((gid) => {
    const c = (window as { hailoGraph: { modelCanvas: CanvasHandle } }).hailoGraph.modelCanvas;
    const b = c.boxOf('group', c.graph!.groupIndex(gid) ?? -1);
    c.centerOn(b);
    c.drawNow();
    const r = c.boxRect(b);
    return { x: (r.x + 20) * c.vp.s + c.vp.tx, y: (r.y + 12) * c.vp.s + c.vp.ty };
  }, id);
  const box = (await view.locator('.graph-canvas').first().boundingBox())!;
  await page.mouse.click(box.x + at.x, box.y + at.y);
}

/** Parse the log `name` (open it, "Hailo: Parse DFC Log"), then Ctrl+. on its line `line` and take "Show <target> in Graph". */
async function showInGraphFromLog(page: Page, name: string, line: number, target: string): Promise<void> {
  const tabText = new RegExp(`^\\s*${name.replace(/\./g, '\\.')}(?!\\.md)`);
  await runCommand(page, 'View: Close All Editors', { id: 'workbench.action.closeAllEditors' });
  await quickOpen(page, name);
  await page.locator('.tabs-container .tab.active', { hasText: tabText }).waitFor({ timeout: 15_000 });
  await runCommand(page, 'Hailo: Parse DFC Log', { id: 'hailo.parseLog' });
  // back to the log (the summary opened in a preview tab), at the error's line
  await page.locator('.tabs-container .tab', { hasText: `Preview ${name}.md` }).waitFor({ timeout: 15_000 });
  await page.locator('.tabs-container .tab', { hasText: tabText }).first().click();
  await page.locator('.tabs-container .tab.active', { hasText: tabText }).waitFor({ timeout: 15_000 });
  const action = page.locator('.action-widget .monaco-list-row, .context-view .action-label', { hasText: `Show ${target} in Graph` }).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('Escape');
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+G');
    await page.keyboard.type(String(line));
    await page.keyboard.press('Enter');
    await page.keyboard.press('Control+.');
    try {
      await action.waitFor({ timeout: 8_000 });
      break;
    } catch (e) {
      // the diagnostics arrive after the parse; the first ask can come too early
      if (attempt >= 4) throw e;
    }
  }
  await action.click();
  await page.waitForTimeout(500);
  if (await action.isVisible().catch(() => false)) await page.keyboard.press('Enter');
}

async function shot(page: Page, name: string): Promise<void> {
  console.log(`      screenshot ${path.relative(REPO_ROOT, await screenshot(page, name))}`);
}

describe('e2e: graph model (If/Loop bodies, Hailo contexts)', function () {
  const wb = useWorkbench({ workspace: 'example', settings: { 'workbench.colorTheme': 'Default Dark Modern' } });

  it('an ONNX model with If and Loop: the bodies are collapsed groups; a click opens the then-branch and shows its nodes', async function () {
    const page = wb.page;
    const dir = path.join(wb.workspace, 'control-flow');
    fs.mkdirSync(dir, { recursive: true });
    writeControlFlow(path.join(dir, 'control_flow.onnx'));
    await quickOpen(page, 'control_flow.onnx');
    const view = await editorFrame(page, 'control_flow.onnx');
    // the summary lists the bodies
    assert.match(await view.locator('body').innerText(), /\/If\.then_branch \(2 nodes\)/);
    await openGraphTab(view);
    const first = await drawn(view);
    assert.deepEqual(first.closed.sort(), ['If.else_branch', 'If.then_branch', 'Loop.body']);
    assert.deepEqual(first.open, []);
    for (const id of CONTROL_FLOW.mainNodes) assert.ok(first.nodes.includes(id), `${id} drawn: ${first.nodes.join(', ')}`);
    for (const id of CONTROL_FLOW.thenNodes) assert.ok(!first.nodes.includes(id), `${id} hidden in its closed body`);

    await clickGroup(page, view, 'If.then_branch');
    const opened = await waitFor(
      async () => {
        const d = await drawn(view);
        return d.open.includes('If.then_branch') && CONTROL_FLOW.thenNodes.every((id) => d.nodes.includes(id)) ? d : undefined;
      },
      { what: 'the then-branch open with its nodes' },
    );
    assert.ok(opened.closed.includes('If.else_branch') && opened.closed.includes('Loop.body'), JSON.stringify(opened));
    await shot(page, 'graph-model-if-then-open');

    // search finds a node inside a closed body and opens the body to show it
    const search = view.locator('.graph-search input');
    await search.fill('acc_out');
    await search.press('Enter');
    await waitFor(
      async () =>
        (
          await view
            .locator('.graph-details .node-id')
            .innerText()
            .catch(() => '')
        ).trim() === CONTROL_FLOW.loopNodes[0],
      {
        what: 'the Loop body node selected',
      },
    );
    assert.ok((await drawn(view)).open.includes('Loop.body'));
    await shot(page, 'graph-model-loop-body-search');
  });

  it('"Show in Graph" on a DFC parser error in the log selects the ONNX node it names in the graph', async function () {
    const page = wb.page;
    const node = '/blocks.0/attn/Softmax';
    fs.writeFileSync(
      path.join(wb.workspace, 'dfc-parse.log'),
      [
        '[info] Translation started on ONNX model whisper_tiny_encoder',
        'hailo_sdk_client.model_translator.exceptions.ParsingWithRecommendationException: Parsing failed. The errors found in the graph are:',
        ` UnsupportedOperationError in op ${node}: Softmax operation is unsupported`,
        '',
      ].join('\n'),
    );
    await showInGraphFromLog(page, 'dfc-parse.log', 3, node);
    const view = await editorFrame(page, 'encoder.onnx');
    await waitFor(
      async () =>
        (
          await view
            .locator('.graph-details .node-id')
            .innerText()
            .catch(() => '')
        ).trim() === node,
      {
        what: 'the node selected in the graph',
        timeout: 30_000,
      },
    );
    assert.ok((await drawn(view)).open.includes('blocks.0.attn'), 'the groups holding the node are open');
    await shot(page, 'graph-model-dfc-show-in-graph');
  });

  it('"Show in Graph" on an optimizer error naming an HN layer selects the layer in the graph of the HAR beside the log', async function () {
    const page = wb.page;
    const run = path.join(wb.workspace, 'run-opt');
    fs.mkdirSync(run, { recursive: true });
    fs.copyFileSync(path.join(FIX, 'gen-whisper-toy-op17.har'), path.join(run, 'whisper_toy_gen17.har'));
    const layer = 'whisper_toy_gen17/conv1';
    // the line as the optimizer prints it (log-samples/optimize-bad-inputs-shape.log), naming a layer of this HAR
    fs.writeFileSync(
      path.join(run, 'optimize.log'),
      `  hailo_model_optimization.acceleras.utils.acceleras_exceptions.BadInputsShape: Data shape (80, 200) for layer ${layer} doesn't match network's input shape (1, 200, 80)\n`,
    );
    await showInGraphFromLog(page, 'optimize.log', 1, layer);
    const view = await editorFrame(page, 'whisper_toy_gen17.har');
    await waitFor(
      async () =>
        (
          await view
            .locator('.graph-details .node-id')
            .innerText()
            .catch(() => '')
        ).trim() === layer,
      {
        what: 'the layer selected in the HAR graph',
        timeout: 30_000,
      },
    );
    await shot(page, 'graph-model-dfc-layer-in-har');
  });

  it('compared with a compiled HAR: the Hailo contexts overlay colours each node by its context, with a legend', async function () {
    const page = wb.page;
    const dir = path.join(wb.workspace, 'contexts');
    fs.mkdirSync(dir, { recursive: true });
    const onnx = path.join(dir, 'toy_encoder.onnx');
    writeWhisper(onnx, { ...WHISPER_SIZES.toy, opset: 17, frames: 200 });
    const har = await writeCompiledHar(path.join(FIX, 'gen-whisper-toy-op17.har'), path.join(dir, 'toy_compiled.har'), 3);
    await runCommand(page, 'View: Close All Editors', { id: 'workbench.action.closeAllEditors' });
    await quickOpen(page, 'toy_encoder.onnx');
    const view = await editorFrame(page, 'toy_encoder.onnx');
    await openGraphTab(view);
    await view.locator('vscode-button', { hasText: 'Compare with HAR' }).click();
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'toy_compiled.har' }).first();
    await row.waitFor({ timeout: 15_000 });
    await row.click();
    await waitFor(async () => /compared with toy_compiled\.har/.test(await view.locator('.graph-status').innerText()), {
      what: 'the comparison',
      timeout: 30_000,
    });
    await view.evaluate(() => {
      const sel = (window as { document: { querySelector(s: string): { value: string; dispatchEvent(e: unknown): void } } }).document.querySelector(
        '.graph-overlay',
      );
      sel.value = 'contexts';
      sel.dispatchEvent(new (window as { Event: new (t: string) => unknown }).Event('change'));
    });
    const legend = await waitFor(
      async () => {
        const t = await view.locator('.graph-legend').innerText();
        return /Contexts/.test(t) ? t : undefined;
      },
      { what: 'the contexts legend' },
    );
    assert.match(legend, /context 0[\s\S]*context 1[\s\S]*context 2/);
    assert.doesNotMatch(legend, /context 3/);
    // every node of the view has its mark, drawn or inside a closed group
    const marks = await waitFor(
      async () => {
        const m = await view.evaluate(() => {
          const c = (window as { hailoGraph: { modelCanvas: CanvasHandle } }).hailoGraph.modelCanvas;
          return Array.from({ length: c.graph!.nodeCount }, (_, i) => [c.graph!.nodeId(i), c.marks.node[i]?.badge ?? '', c.marks.node[i]?.tint ?? ''] as const);
        });
        return m.some(([, b]) => b === 'ctx 2') ? m : undefined;
      },
      { what: 'nodes marked with their context' },
    );
    const badges = new Set(marks.map(([, b]) => b).filter(Boolean));
    assert.deepEqual([...badges].sort(), ['ctx 0', 'ctx 1', 'ctx 2']);
    assert.ok(
      marks.every(([, b, t]) => !b || t),
      'a marked node is tinted',
    );
    // the first conv runs in context 0, the last LayerNormalization in the last context (layers split in graph order)
    const badgeOf = (id: string) => marks.find(([n]) => n === id)?.[1];
    assert.equal(badgeOf('/conv1/Conv'), `ctx ${har.contextOf.get('conv1')}`);
    assert.equal(har.contextOf.get('conv1'), 0);
    assert.equal(badgeOf('/ln_post/LayerNormalization'), 'ctx 2');
    await shot(page, 'graph-model-contexts');
  });
});
