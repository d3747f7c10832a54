// "Add to hailo.json" through the UI: the CodeLens above an nn.Module asks for a name and the input
// shapes, runs the module once (real torch) and proposes the output names and shapes it returned;
// accepted, they land in hailo.json as the model's outputs.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { useWorkbench } from '../harness/e2e';
import { step, waitFor } from '../harness/workbench';
import { parseProjectText } from '../../src/core/project/load';

const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';

describe('e2e: add a model', function () {
  const wb = useWorkbench({ workspace: 'example' });

  before(function () {
    if (spawnSync(PY, ['-c', 'import torch, onnx'], { encoding: 'utf8' }).status !== 0) {
      console.log(`    skipping: ${PY} has no torch/onnx`);
      this.skip();
    }
  });

  it('runs the module once and proposes its outputs, which go into hailo.json', async function () {
    const page = wb.page;
    const settings = path.join(wb.workspace, '.vscode', 'settings.json');
    fs.mkdirSync(path.dirname(settings), { recursive: true });
    fs.writeFileSync(settings, JSON.stringify({ 'hailo.pythonPath': PY }));
    const py = path.join(wb.workspace, 'tiny_whisper', 'pooled.py');
    fs.writeFileSync(
      py,
      [
        'import torch',
        'from torch import nn',
        '',
        '',
        'class Pooled(nn.Module):',
        '    def __init__(self):',
        '        super().__init__()',
        '        self.proj = nn.Conv1d(80, 16, 3, stride=2, padding=1)',
        '',
        '    def forward(self, mel):',
        '        return self.proj(mel)',
        '',
      ].join('\n'),
    );
    // open the file (Quick Open) and click the CodeLens
    await page.keyboard.press('Control+P');
    const input = page.locator('.quick-input-widget .quick-input-box input').first();
    await input.waitFor({ timeout: 10_000 });
    await input.fill('pooled.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'pooled.py' }).first().click();
    const lens = page.locator('.contentWidgets .codelens-decoration a', { hasText: 'Add to hailo.json' }).first();
    await lens.waitFor({ timeout: 30_000 });
    await lens.click();
    const box = page.locator('.quick-input-widget .quick-input-box input').first();
    const title = page.locator('.quick-input-widget .quick-input-title');
    await waitFor(async () => /\(1\/3\)/.test(await title.innerText().catch(() => '')), { what: 'the name box' });
    assert.equal(await box.inputValue(), 'pooled');
    await page.keyboard.press('Enter');
    await waitFor(async () => /\(2\/3\)/.test(await title.innerText().catch(() => '')), { what: 'the inputs box' });
    await box.fill('mel:1x80x3000');
    await page.keyboard.press('Enter');
    // the module ran once: its output is proposed
    await waitFor(async () => /\(3\/3\)/.test(await title.innerText().catch(() => '')), { what: 'the outputs box', timeout: 60_000 });
    assert.equal(await box.inputValue(), 'features:1x16x1500');
    assert.match(await page.locator('.quick-input-widget').innerText(), /Pooled returned \[1, 16, 1500\] for mel \[1, 80, 3000\]/);
    await step(page, 'add-model-outputs');
    await page.keyboard.press('Enter');
    const file = path.join(wb.workspace, 'hailo.json');
    const model = await waitFor(() => parseProjectText(fs.readFileSync(file, 'utf8'), file).project?.models.find((m) => m.name === 'pooled'), {
      what: 'the model in hailo.json',
      timeout: 15_000,
    });
    assert.equal(model.entry, 'tiny_whisper.pooled:Pooled');
    assert.deepEqual(model.outputs, [{ name: 'features', shape: [1, 16, 1500] }]);
  });
});
