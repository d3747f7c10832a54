// The Hailo lint through the UI: an .onnx opens in the model editor with its summary and the
// findings grouped by severity; clicking a finding with a source-map entry opens the Python line;
// the Problems panel lists the findings with their codes; an unreadable model shows the error view.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { useWorkbench } from '../harness/e2e';
import { readmePicture, runCommand, step, waitFor, quickOpen } from '../harness/workbench';
import { WHISPER_SIZES, writeWhisper } from '../fixtures/onnx/gen';

/** The webview content frame that shows `selector` with `text` (webviews live in nested iframes outside the editor DOM). */
async function webviewWith(page: Page, selector: string, text: string): Promise<Frame> {
  return waitFor(
    async () => {
      for (const f of page.frames()) {
        if (
          await f
            .locator(selector, { hasText: text })
            .count()
            .catch(() => 0)
        )
          return f;
      }
      return undefined;
    },
    { what: `a webview showing ${selector} "${text}"`, timeout: 30_000, interval: 250 },
  );
}

describe('e2e: lint', function () {
  const wb = useWorkbench({ workspace: 'example' });

  it('the model editor shows the summary and findings; a finding opens its Python line; a node chip shows the node in the Graph tab', async function () {
    const dir = path.join(wb.workspace, 'lint-e2e');
    fs.mkdirSync(dir, { recursive: true });
    const py = path.join(dir, 'attention_model.py');
    fs.writeFileSync(py, Array.from({ length: 40 }, (_, i) => `x${i + 1} = ${i + 1}`).join('\n') + '\n');
    writeWhisper(path.join(dir, 'lint_enc.onnx'), { ...WHISPER_SIZES.toy, opset: 13, frames: 400 });
    fs.writeFileSync(
      path.join(dir, 'lint_enc.onnx.sourcemap.json'),
      JSON.stringify({ version: 1, model: 'lint_enc.onnx', nodes: { '/blocks.0/attn/Softmax': { file: 'attention_model.py', line: 25 } } }),
    );

    await quickOpen(wb.page, 'lint_enc.onnx');
    const view = await webviewWith(wb.page, 'h1', 'lint_enc.onnx');
    await view.locator('vscode-table-cell', { hasText: '[1, 200, 32]' }).first().waitFor({ timeout: 10_000 });
    const headings = await view.locator('vscode-collapsible').evaluateAll((els) => els.map((e) => e.getAttribute('heading')));
    assert.ok(
      headings.some((h) => /^Warnings \(\d+\)$/.test(h ?? '')),
      headings.join(', '),
    );
    assert.ok(
      headings.some((h) => /^Notes \(\d+\)$/.test(h ?? '')),
      headings.join(', '),
    );
    // the exporter-decomposed LayerNorm (opset 13) is a note now; the Conv1d front end a warning
    await view.locator('.finding', { hasText: 'HW011' }).first().waitFor({ state: 'attached' });
    await view.locator('.finding', { hasText: 'HW019' }).first().waitFor();
    await step(wb.page, 'lint-model-editor');
    await readmePicture(wb.page, 'model-editor');

    // the Softmax finding sits in the (closed) Notes group: open it, click the finding
    await view.locator('vscode-collapsible[heading^="Notes"]').click({ position: { x: 40, y: 10 } });
    const softmax = view.locator('.finding', { hasText: 'HW012' }).first();
    await softmax.waitFor({ state: 'visible', timeout: 10_000 });
    await softmax.locator('.message').click();
    await wb.page.locator('.tabs-container .tab', { hasText: 'attention_model.py' }).first().waitFor({ timeout: 15_000 });
    await wb.page.locator('.editor-instance .monaco-editor .current-line').first().waitFor({ timeout: 10_000 });
    const lineNumber = await wb.page.locator('.editor-instance .monaco-editor .active-line-number').first().innerText();
    assert.equal(lineNumber.trim(), '25');
    await step(wb.page, 'lint-reveal-source');

    // the editor's "Show in Problems panel" link opens the Problems panel with the findings
    await view.locator('.problems-link').click();
    const problems = wb.page.locator('.markers-panel .monaco-list-row');
    await problems.filter({ hasText: 'HW011' }).first().waitFor({ timeout: 15_000 });
    assert.match(await problems.filter({ hasText: 'HW011' }).first().innerText(), /Hailo lint/);
    await step(wb.page, 'lint-problems');

    // a node chip of a finding shows its node in the Graph tab, selected
    const chip = softmax.locator('code.node').first();
    const chipNode = (await chip.innerText()).trim();
    assert.match(chipNode, /Softmax/);
    await chip.click();
    await waitFor(
      async () =>
        (
          await view
            .locator('.graph-details .node-id')
            .innerText()
            .catch(() => '')
        ).trim() === chipNode,
      { what: `${chipNode} selected in the Graph tab`, timeout: 30_000 },
    );
    assert.ok(await view.locator('.graph-panel').isVisible(), 'the Graph tab is shown');
    await step(wb.page, 'lint-chip-in-graph');
  });

  it('on a PyTorch line, Ctrl+. offers Explain and the quick fix; Explain opens the shipped rule docs; the status bar counts what Problems shows', async function () {
    // lint the example's model (it has a source map): findings land on tiny_whisper/encoder.py
    await runCommand(wb.page, 'View: Close All Editors', { id: 'workbench.action.closeAllEditors' });
    // the Problems indicator counts the whole workspace: the previous test's model goes, and its findings with it
    fs.rmSync(path.join(wb.workspace, 'lint-e2e', 'lint_enc.onnx'), { force: true });
    await runCommand(wb.page, 'Hailo: Lint Model for Hailo', { id: 'hailo.lintModel' });
    const pick = wb.page.locator('.quick-input-list .monaco-list-row', { hasText: 'whisper_tiny_encoder' }).first();
    await pick.waitFor({ timeout: 10_000 });
    await pick.click();
    // the status bar after the lint says what the Problems panel counts (its status bar indicator)
    const message = wb.page.locator('.statusbar-item', { hasText: 'Hailo lint: encoder.onnx:' }).first();
    await message.waitFor({ timeout: 30_000 });
    const said = (await message.innerText()).match(/(\d+) errors?, (\d+) warnings?, (\d+) notes? in Problems \((\d+) findings? on (\d+) files?\)/);
    assert.ok(said, await message.innerText());
    const [errors, warnings, notes] = [Number(said[1]), Number(said[2]), Number(said[3])];
    assert.ok(warnings > 0 && notes > 0, 'the example has warnings and notes to count');
    assert.ok(Number(said[4]) < warnings + notes + errors, 'a finding on the model and its Python lines counts once per entry, as Problems does');
    const indicator = wb.page.locator('#status\\.problems').first();
    const shown = await waitFor(
      async () => {
        const n = ((await indicator.innerText().catch(() => '')).match(/\d+/g) ?? []).map(Number);
        return n.length >= 2 && n[0] === errors && n[1] === warnings && (n.length < 3 || n[2] === notes) ? n : undefined;
      },
      {
        what: `the Problems counts ${errors}/${warnings}/${notes} (status bar said "${await message.innerText()}", Problems shows "${await indicator.innerText().catch(() => '?')}")`,
        timeout: 15_000,
      },
    );
    assert.equal(shown.length, 3, 'the Problems indicator shows notes too');
    await wb.page.keyboard.press('Escape');
    await quickOpen(wb.page, 'encoder.py');
    await wb.page.locator('.tabs-container .tab.active', { hasText: 'encoder.py' }).first().waitFor({ timeout: 15_000 });
    // the Problems panel: findings on the PyTorch lines, with their codes
    await runCommand(wb.page, 'Problems: Focus on Problems View', { id: 'workbench.panel.markers.view.focus' });
    const problems = wb.page.locator('.markers-panel .monaco-list-row');
    await problems.filter({ hasText: 'HW019' }).first().waitFor({ timeout: 20_000 });
    const texts = (await problems.allInnerTexts()).join('\n');
    assert.match(texts, /encoder\.py/);
    assert.doesNotMatch(texts, /rather than a hand-written erf|--tensor-shapes/);
    await readmePicture(wb.page, 'problems-on-pytorch-lines');
    // narrow the list to the LayerNorm finding
    await wb.page.locator('.panel .viewpane-filter input, .panel .markers-panel-action-filter input').first().fill('HW010');
    // go to the LayerNorm line (HW010) and ask for code actions
    // the entry on encoder.py (not the one on the .onnx): its line is in the row
    const onPy = problems.filter({ hasText: /HW010\)?\s*\[Ln 53,/ }).first();
    await onPy.waitFor({ timeout: 10_000 });
    await onPy.click();
    await wb.page.locator('.editor-instance .monaco-editor .current-line').first().waitFor({ timeout: 10_000 });
    await wb.page.locator('.editor-instance .monaco-editor .view-line', { hasText: 'self.attn(self.attn_ln(x))' }).first().click();
    await runCommand(wb.page, 'Quick Fix...', { id: 'editor.action.quickFix' });
    const menu = wb.page.locator('.action-widget').first();
    await menu.locator('.monaco-list-row, li', { hasText: 'Explain HW010' }).first().waitFor({ timeout: 15_000 });
    assert.match(await menu.innerText(), /Add Hailo's LayerNorm recipe/);
    await readmePicture(wb.page, 'quick-fix-explain');
    await menu.locator('.monaco-list-row, li', { hasText: 'Explain HW010' }).first().click();
    // the markdown preview of media/docs/rules.md, at the rule
    const preview = await webviewWith(wb.page, 'h3', 'HW010 — LayerNormalization is decomposed');
    await preview.locator('h3', { hasText: 'HW010' }).first().waitFor();
    await step(wb.page, 'lint-explain-preview');
  });

  it('an unreadable model shows the error view with the reason', async function () {
    const bad = path.join(wb.workspace, 'lint-e2e', 'broken_model.onnx');
    fs.writeFileSync(bad, 'this is not an ONNX model\n');
    await quickOpen(wb.page, 'broken_model.onnx');
    const view = await webviewWith(wb.page, '.failed h1', 'Cannot read this model');
    const text = await view.locator('.failed').innerText();
    assert.match(text, /broken_model\.onnx/);
    assert.match(text, /Reason: MODEL_/);
    await step(wb.page, 'lint-error-view');
  });
});
