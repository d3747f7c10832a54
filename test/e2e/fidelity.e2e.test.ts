// Check Fidelity through the UI on the example workspace: the command from the palette (real
// PyTorch with /usr/bin/python3 through hailo.pythonPath, the ONNX in onnxruntime-web), the results
// panel with its table and per-step chart, and a limit the ONNX cannot meet in the Problems panel.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { useWorkbench } from '../harness/e2e';
import { runCommand, step, waitForNotification } from '../harness/workbench';

const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';

/** A version 1.0 .npy of float32 [1, 80, 3000]. */
function writeMel(file: string, seed: number): void {
  let s = seed;
  const data = Float32Array.from({ length: 80 * 3000 }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
  let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 80, 3000), }";
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  pre.writeUInt16LE(header.length, 8);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), Buffer.from(data.buffer)]));
}

describe('e2e: fidelity', function () {
  before(function () {
    if (spawnSync(PY, ['-c', 'import torch, numpy']).status !== 0) {
      console.log(`    skipping fidelity e2e tests: ${PY} has no torch/numpy`);
      this.skip();
    }
  });

  const wb = useWorkbench({ workspace: 'example', settings: { 'hailo.pythonPath': PY } });

  before(function () {
    const projectFile = path.join(wb.workspace, 'hailo.json');
    const text = fs.readFileSync(projectFile, 'utf8');
    // a limit no ONNX export meets (float32 agrees to ~130 dB): an error on the model's limits
    const changed = text.replace(
      '"onnx": "build/encoder.onnx",',
      '"onnx": "build/encoder.onnx",\n      "fidelity": { "inputs": "fidelity-inputs", "thresholds": { "minSnrDb": 300 } },',
    );
    assert.notEqual(changed, text);
    fs.writeFileSync(projectFile, changed);
    writeMel(path.join(wb.workspace, 'fidelity-inputs', 'speech1.npy'), 1);
  });

  it('Check Fidelity from the palette: the results panel with its per-step chart; the failing limit in Problems', async function () {
    this.timeout(240_000);
    const page = wb.page;
    await runCommand(page, 'Hailo: Check Fidelity', { id: 'hailo.checkFidelity' });
    await waitForNotification(page, /Fidelity of whisper_tiny_encoder fails: .*SNR/, { timeout: 180_000 });
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe');
    await frame.locator('h1', { hasText: 'Fidelity: whisper_tiny_encoder' }).waitFor({ timeout: 30_000 });
    await frame.locator('.curves .chart canvas').first().waitFor({ timeout: 10_000 });
    const rows = frame.locator('table.history tbody tr');
    assert.equal(await rows.count(), 1);
    assert.match(await rows.first().innerText(), /onnx\s+torch\s+\S+\s+(1\.0+|0\.99\d+)\s+\d+\.\d dB/);
    assert.match((await frame.locator('.chart').first().getAttribute('aria-label')) ?? '', /Error per time step/);
    assert.match(await frame.locator('.findings').innerText(), /FID002/);
    await step(page, 'fidelity-results-panel');
    await runCommand(page, 'View: Focus Problems', { id: 'workbench.panel.markers.view.focus' });
    const row = page.locator('.markers-panel .monaco-list-row', { hasText: /SNR/ }).first();
    await row.waitFor({ timeout: 20_000 });
    assert.match(await row.innerText(), /below|SNR/);
    await step(page, 'fidelity-problems');
  });
});
