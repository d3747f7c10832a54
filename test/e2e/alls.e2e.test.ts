// .alls model scripts through the UI: a script that is a model's `modelScript` in hailo.json,
// next to a HAR holding the repository's synthesised HN, shows a misspelt layer name as an error
// squiggle and in the Problems panel; Ctrl+Space offers the HN's layer names with their ONNX node
// and Python line; hovering a command shows its documentation.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as tar from 'tar-stream';
import { useWorkbench } from '../harness/e2e';
import { REPO_ROOT } from '../harness/codeServer';
import { runCommand, step, waitFor, quickOpen } from '../harness/workbench';

const FIX = path.join(REPO_ROOT, 'test', 'fixtures', 'alls');

async function tarOf(members: { name: string; data: Buffer }[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = (async () => {
    for await (const c of pack) chunks.push(c as Buffer);
  })();
  for (const m of members) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name: m.name, size: m.data.length, mtime: new Date(0) }, m.data, (e) => (e ? reject(e) : resolve())),
    );
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const SCRIPT = ['quantization_param(matmull1, precision_mode=a16_w16)', 'model_optimization_config(calibration, batch_size=2)', ''].join('\n');

describe('e2e: alls model scripts', function () {
  const wb = useWorkbench({ workspace: 'example' });

  before(async function () {
    // a second model whose model script and HAR are the fixtures; its ONNX source map gives the Python lines
    const dir = path.join(wb.workspace, 'alls-e2e');
    fs.mkdirSync(dir, { recursive: true });
    const hn = fs.readFileSync(path.join(FIX, 'whisper_enc.hn'));
    fs.writeFileSync(path.join(dir, 'whisper_enc.har'), await tarOf([{ name: 'whisper_enc.hn', data: hn }]));
    fs.copyFileSync(path.join(FIX, 'whisper_enc.onnx.sourcemap.json'), path.join(dir, 'whisper_enc.onnx.sourcemap.json'));
    fs.writeFileSync(path.join(dir, 'encoder.alls'), SCRIPT);
    const projectFile = path.join(wb.workspace, 'hailo.json');
    const text = fs.readFileSync(projectFile, 'utf8');
    const anchor = '"hwArch": "hailo8l"\n    }';
    assert.ok(text.includes(anchor), 'the example hailo.json has the expected layout');
    const model = [
      '{',
      '      "name": "whisper_enc",',
      '      "inputs": [{ "name": "mel", "shape": [1, 80, 3000] }],',
      '      "onnx": "alls-e2e/whisper_enc.onnx",',
      '      "har": "alls-e2e/whisper_enc.har",',
      '      "modelScript": "alls-e2e/encoder.alls"',
      '    }',
    ].join('\n');
    fs.writeFileSync(projectFile, text.replace(anchor, `${anchor},\n    ${model}`));
  });

  it('a misspelt layer name is squiggled and listed in Problems', async function () {
    const page = wb.page;
    await quickOpen(page, 'encoder.alls');
    await page.locator('.tabs-container .tab', { hasText: 'encoder.alls' }).first().waitFor({ timeout: 15_000 });
    // the language mode in the status bar
    await page.locator('.statusbar-item', { hasText: 'Hailo Model Script' }).first().waitFor({ timeout: 15_000 });
    await page.locator('.editor-instance .monaco-editor .squiggly-error').first().waitFor({ timeout: 30_000 });
    await runCommand(page, 'View: Focus Problems', { id: 'workbench.panel.markers.view.focus' });
    const row = page.locator('.markers-panel .monaco-list-row', { hasText: 'matmull1' }).first();
    await row.waitFor({ timeout: 20_000 });
    const text = await row.innerText();
    assert.match(text, /matmul1/, `did you mean: ${text}`);
    assert.match(text, /hailo-alls/, text);
    assert.match(text, /ALLS006/, text);
    await step(page, 'alls-problems');
  });

  it('Ctrl+Space offers layer names with their ONNX node and Python line', async function () {
    const page = wb.page;
    // back in the editor: a new line with an open command
    await page.locator('.editor-instance .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type('quantization_param(');
    await page.keyboard.press('Control+Space');
    const widget = page.locator('.editor-widget.suggest-widget.visible');
    await widget.waitFor({ timeout: 15_000 });
    const conv1 = widget.locator('.monaco-list-row', { has: page.locator('.label-name', { hasText: /^conv1$/ }) }).first();
    await conv1.waitFor({ timeout: 15_000 });
    const labels = await widget.locator('.monaco-list-row .label-name').allInnerTexts();
    assert.ok(labels.includes('conv2') && labels.includes('matmul1'), `completion labels: ${labels.join(', ')}`);
    // select conv1 to show its detail (the details line of the focused row)
    for (let i = 0; i < 30; i++) {
      const focused = await widget
        .locator('.monaco-list-row.focused .label-name')
        .first()
        .innerText()
        .catch(() => '');
      if (focused === 'conv1') break;
      await page.keyboard.press('ArrowDown');
    }
    const detail = await waitFor(
      async () => {
        const t = await widget
          .locator('.monaco-list-row.focused .details-label')
          .first()
          .innerText()
          .catch(() => '');
        return /\/conv1\/Conv/.test(t) ? t : undefined;
      },
      { what: 'the detail of conv1', timeout: 10_000 },
    );
    assert.match(detail, /model\.py:21/, detail);
    await step(page, 'alls-completion');
    // drop the half-written line again
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Shift+K');
    await waitFor(async () => !(await page.locator('.editor-instance .monaco-editor .view-line', { hasText: /^quantization_param\(\)?$/ }).count()), {
      what: 'the line to go',
    });
  });

  it('hovering a command shows its documentation', async function () {
    const page = wb.page;
    const token = page.locator('.editor-instance .monaco-editor .view-line span span', { hasText: /^model_optimization_config$/ }).first();
    await token.waitFor({ timeout: 10_000 });
    await token.hover();
    const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: 'model_optimization_config' }).first();
    await hover.waitFor({ state: 'visible', timeout: 15_000 });
    const text = await hover.innerText();
    assert.match(text, /Configures one part of the optimizer/, text);
    // the sections are named once (the doc already lists them all)
    assert.equal(text.match(/negative_exponent/g)?.length, 1, text);
    await step(page, 'alls-hover');
  });
});
