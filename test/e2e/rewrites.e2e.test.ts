// The rewrite ledger through the UI: "Hailo: Compare Model with HAR" from the command palette,
// answering its file dialogs and log pick with an ONNX written by the fixture generator and the
// repository's synthetic HAR + parse log; the Rewrites view lists the entries grouped by kind and
// scope; clicking an entry with a source-map line opens that Python line.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { useWorkbench } from '../harness/e2e';
import { REPO_ROOT } from '../harness/codeServer';
import { openActivity, readmePicture, runCommand, step, treeRows, viewPane, waitFor } from '../harness/workbench';
import { WHISPER_SIZES, writeWhisper } from '../fixtures/onnx/gen';

const FIX = path.join(REPO_ROOT, 'test', 'fixtures', 'hailo');

/** Answer VS Code's file dialog (the quick-input "simple" dialog of the browser) with a full path. */
async function answerFileDialog(page: Page, title: RegExp, file: string): Promise<void> {
  const widget = page.locator('.quick-input-widget', { has: page.locator('.quick-input-title', { hasText: title }) });
  await widget.waitFor({ state: 'visible', timeout: 15_000 });
  const input = widget.locator('.quick-input-box input').first();
  // the dialog first fills in its start folder and lists it: type only after that, or it overwrites the text
  await widget.locator('.quick-input-list .monaco-list-row', { hasText: '..' }).first().waitFor({ timeout: 10_000 });
  await waitFor(async () => (await input.inputValue()).endsWith('/'), { what: 'the dialog to show its start folder' });
  await input.fill(file);
  await waitFor(async () => (await input.inputValue()) === file, { what: `the dialog to take ${file}` });
  // the dialog lists the folder of what was typed; accept with its OK button once it does
  await widget
    .locator('.quick-input-list .monaco-list-row', { hasText: path.basename(file) })
    .first()
    .waitFor({ timeout: 10_000 });
  assert.equal(await input.inputValue(), file);
  await widget.locator('.quick-input-action .monaco-button', { hasText: 'OK' }).first().click();
  await waitFor(async () => !(await widget.isVisible()), { what: `the dialog to accept ${file}`, timeout: 10_000 });
}

describe('e2e: rewrites', function () {
  const wb = useWorkbench({ workspace: 'example' });
  let dir = '';
  let onnx = '';
  let har = '';

  before(function () {
    dir = path.join(wb.workspace, 'ledger-e2e');
    fs.mkdirSync(dir, { recursive: true });
    onnx = path.join(dir, 'encoder.onnx');
    writeWhisper(onnx, { ...WHISPER_SIZES.toy, opset: 17, frames: 200 });
    for (const f of ['gen-whisper-toy-op17.har', 'gen-whisper-toy-op17.parse.log']) fs.copyFileSync(path.join(FIX, f), path.join(dir, f));
    har = path.join(dir, 'gen-whisper-toy-op17.har');
    fs.writeFileSync(
      path.join(dir, 'model.py'),
      [
        'import torch',
        '',
        'class Block(torch.nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        self.attn_ln = torch.nn.LayerNorm(32)',
        '',
      ].join('\n'),
    );
    fs.writeFileSync(
      `${onnx}.sourcemap.json`,
      JSON.stringify({
        version: 1,
        model: 'encoder.onnx',
        nodes: { '/blocks.0/attn_ln/LayerNormalization': { file: 'model.py', line: 6, module: 'blocks.0.attn_ln' } },
      }),
    );
  });

  it('Compare Model with HAR from the palette fills the Rewrites view, grouped by kind and scope', async function () {
    const page = wb.page;
    await openActivity(page, 'Hailo');
    await runCommand(page, 'Hailo: Compare Model with HAR', { id: 'hailo.compareModelWithHar' });
    await answerFileDialog(page, /the ONNX model/, onnx);
    await answerFileDialog(page, /the HAR/, har);
    // the logs beside the HAR: the parse log is offered and pre-selected
    const logRow = page.locator('.quick-input-list .monaco-list-row', { hasText: 'gen-whisper-toy-op17.parse.log' }).first();
    await logRow.waitFor({ timeout: 15_000 });
    assert.match(await logRow.innerText(), /parse/);
    await step(page, 'rewrites-log-pick');
    await page.locator('.quick-input-widget .quick-input-action .monaco-button', { hasText: 'OK' }).first().click();

    const pane = viewPane(page, 'Rewrites');
    await pane.locator('.monaco-list-row', { hasText: 'Decomposed' }).first().waitFor({ timeout: 30_000 });
    // the tree renders only the rows in sight: give the Rewrites view the side bar
    for (const other of ['Models', 'Targets', 'Runs']) {
      const header = viewPane(page, other).locator('.pane-header').first();
      if ((await header.getAttribute('aria-expanded')) === 'true') await header.click();
    }
    const rows = await waitFor(
      async () => {
        const r = await treeRows(page, 'Rewrites');
        return r.some((x) => /^Kept 1:1 \d+$/.test(x)) ? r : undefined;
      },
      { what: 'the kinds in the Rewrites view', timeout: 15_000 },
    );
    // kinds with their counts, in order
    const kinds = rows.filter((r) => /^(Decomposed|Fused|Removed|Added|Shape or layout|Moved to the host|Unmatched|Kept)/.test(r));
    assert.ok(kinds.length >= 4, `kind rows: ${rows.join(' | ')}`);
    for (const k of kinds) assert.match(k, / \d+$/, `a count on ${k}`);
    // the view's header says what was compared
    const header = await pane.locator('.pane-header').innerText();
    assert.match(header, /encoder\.onnx vs gen-whisper-toy-op17\.har/, header);
    // a kind with several scopes groups its entries by scope (blocks.0, blocks.1, …)
    const scopes = rows.filter((r) => /^blocks\.\d+ \d+$/.test(r));
    assert.ok(scopes.length >= 2, `scope rows: ${rows.join(' | ')}`);
    await step(page, 'rewrites-view');
    await readmePicture(page, 'rewrites-view');
  });

  it('clicking an entry opens its Python line; one without a source map opens the Graph tab at its node', async function () {
    const page = wb.page;
    const pane = viewPane(page, 'Rewrites');
    // the LayerNorm of blocks.0 is decomposed: open its scope under "Decomposed"
    const decomposedScope = pane.locator('.monaco-list-row[aria-level="2"]', { hasText: /^\s*blocks\.0/ }).first();
    await decomposedScope.click();
    const entry = pane.locator('.monaco-list-row[aria-level="3"]', { hasText: 'attn_ln' }).first();
    await entry.waitFor({ timeout: 10_000 });
    // named from inside its scope, so the part that tells the entries apart is not cut off
    assert.match(await entry.locator('.label-name').innerText(), /^LayerNormalization attn_ln\/LayerNormalization$/);
    await step(page, 'rewrites-scope-open');
    await entry.click();
    await page.locator('.tabs-container .tab', { hasText: 'model.py' }).first().waitFor({ timeout: 15_000 });
    await page.locator('.editor-instance .monaco-editor .current-line').first().waitFor({ timeout: 10_000 });
    const lineNumber = await page.locator('.editor-instance .monaco-editor .active-line-number').first().innerText();
    assert.equal(lineNumber.trim(), '6');
    await step(page, 'rewrites-python-line');

    // blocks.1's LayerNorm has no source-map line: the model editor opens at its node, in the Graph tab
    const otherScope = pane.locator('.monaco-list-row[aria-level="2"]', { hasText: /^\s*blocks\.1/ }).first();
    await otherScope.click();
    const noSource = pane.locator('.monaco-list-row[aria-level="3"]', { hasText: 'attn_ln' }).nth(1);
    await noSource.waitFor({ timeout: 10_000 });
    await noSource.click();
    const node = '/blocks.1/attn_ln/LayerNormalization';
    await waitFor(
      async () => {
        for (const f of page.frames()) {
          const id = await f
            .locator('.graph-details .node-id')
            .first()
            .innerText({ timeout: 500 })
            .catch(() => '');
          if (
            id.trim() === node &&
            (await f
              .locator('.graph-panel')
              .isVisible()
              .catch(() => false))
          )
            return true;
        }
        return undefined;
      },
      { what: `${node} selected in the model editor's Graph tab`, timeout: 30_000, interval: 500 },
    );
    await page.locator('.tabs-container .tab.active', { hasText: 'encoder.onnx' }).first().waitFor({ timeout: 5_000 });
    await step(page, 'rewrites-node-in-graph');
  });

  it('a comparison that fails shows the error, the file and a retry in the Rewrites view; the retry works', async function () {
    const page = wb.page;
    const bdir = path.join(dir, 'broken');
    fs.mkdirSync(bdir, { recursive: true });
    const bad = path.join(bdir, 'cut.har');
    const whole = fs.readFileSync(har);
    fs.writeFileSync(bad, whole.subarray(0, Math.floor(whole.length / 2)));
    if (!(await viewPane(page, 'Rewrites').isVisible())) await openActivity(page, 'Hailo');
    const header = viewPane(page, 'Rewrites').locator('.pane-header').first();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    await runCommand(page, 'Hailo: Compare Model with HAR', { id: 'hailo.compareModelWithHar' });
    await answerFileDialog(page, /the ONNX model/, onnx);
    await answerFileDialog(page, /the HAR/, bad);
    const rows = await waitFor(
      async () => {
        const r = await treeRows(page, 'Rewrites');
        return r.some((x) => x.startsWith('Failed:')) ? r : undefined;
      },
      { what: 'the failure in the Rewrites view', timeout: 30_000 },
    );
    assert.ok(
      rows.some((r) => /^cut\.har/.test(r)),
      rows.join(' | '),
    );
    assert.ok(
      rows.some((r) => /^Retry the comparison encoder\.onnx vs cut\.har$/.test(r)),
      rows.join(' | '),
    );
    await step(page, 'rewrites-failed');
    // the file is fixed: Retry fills the view
    fs.writeFileSync(bad, whole);
    await viewPane(page, 'Rewrites').locator('.monaco-list-row', { hasText: 'Retry the comparison' }).first().click();
    await viewPane(page, 'Rewrites').locator('.monaco-list-row', { hasText: 'Decomposed' }).first().waitFor({ timeout: 30_000 });
    await step(page, 'rewrites-retried');
  });
});
