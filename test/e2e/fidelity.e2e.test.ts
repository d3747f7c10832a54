// Check Fidelity through the UI on the example workspace: the command from the palette (real
// PyTorch with /usr/bin/python3 through hailo.pythonPath, the ONNX in onnxruntime-web), the results
// panel with its table and per-step chart, and a limit the ONNX cannot meet in the Problems panel.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { useWorkbench } from '../harness/e2e';
import { runCommand, step, waitForNotification } from '../harness/workbench';
import { startSshd, sshdUnavailableReason, STANDIN_DIR, type TestSshd } from '../harness/sshd';

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

// The remote stages through the UI: a real sshd on 127.0.0.1 as compile target and device, with the
// stand-in hailo_sdk_client / hailo_platform on its PYTHONPATH (the device zeroes the last 100 steps).
describe('e2e: fidelity on the compile target and the device', function () {
  let sshd: TestSshd | undefined;
  const settings: Record<string, unknown> = {};

  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipping remote fidelity e2e tests: ${why}`);
      this.skip();
    }
    if (spawnSync('python3', ['-c', 'import numpy']).status !== 0) {
      console.log('    skipping remote fidelity e2e tests: python3 with numpy is needed on the test sshd');
      this.skip();
    }
    sshd = await startSshd({ env: { PYTHONPATH: path.join(path.dirname(STANDIN_DIR), 'fidelity', 'standins') } });
    settings['hailo.ssh.configFile'] = sshd.clientConfig;
  });

  const wb = useWorkbench({ workspace: 'example', settings });

  before(function () {
    const projectFile = path.join(wb.workspace, 'hailo.json');
    const json = JSON.parse(fs.readFileSync(projectFile, 'utf8').replace(/^\s*\/\/.*$/gm, '')) as {
      models: Record<string, unknown>[];
      targets?: unknown[];
      devices?: unknown[];
    };
    const m = json.models[0]!;
    Object.assign(m, {
      target: 'box',
      device: 'pi5',
      outputs: [{ name: 'features' }],
      fidelity: { inputs: 'fidelity-inputs', stages: ['fp-optimized', 'quantized', 'device'], thresholds: { minSnrDb: 30 } },
    });
    json.targets = [{ name: 'box', host: sshd!.alias, workDir: path.join(sshd!.dir, 'box') }];
    json.devices = [{ name: 'pi5', host: sshd!.alias, workDir: path.join(sshd!.dir, 'pi'), hwArch: 'hailo8l' }];
    fs.writeFileSync(projectFile, JSON.stringify(json, null, 2));
    writeMel(path.join(wb.workspace, 'fidelity-inputs', 'speech1.npy'), 1);
    const build = path.join(wb.workspace, 'build');
    fs.mkdirSync(build, { recursive: true });
    const standin = (name: string, spec: Record<string, unknown>) =>
      fs.writeFileSync(path.join(build, name), JSON.stringify({ standin: true, net: 'fid', ...spec }));
    standin('encoder.har', {});
    standin('encoder_optimized.har', { quantize_bits: 8 });
    standin('encoder.hef', { quantize_bits: 8, zero_last: 100 });
  });

  after(async function () {
    await sshd?.stop();
  });

  it('Check Fidelity runs the emulator and device stages: the per-step chart shows steps 1400-1499, the device limit fails', async function () {
    this.timeout(240_000);
    const page = wb.page;
    await runCommand(page, 'Hailo: Check Fidelity', { id: 'hailo.checkFidelity' });
    await waitForNotification(page, /Fidelity of whisper_tiny_encoder fails: .*device/i, { timeout: 180_000 });
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe');
    await frame.locator('h1', { hasText: 'Fidelity: whisper_tiny_encoder' }).waitFor({ timeout: 30_000 });
    await frame.locator('.curves .chart canvas').first().waitFor({ timeout: 10_000 });
    const table = await frame.locator('table.history tbody').innerText();
    assert.match(table, /device\s+fp-optimized\s+\S+\s+0\.\d+\s+-?\d+\.\d dB/);
    assert.match(table, /quantized\s+fp-optimized\s+\S+\s+0\.99\d+\s+\d+\.\d dB/);
    const findings = await frame.locator('.findings').innerText();
    assert.match(findings, /FID002/);
    assert.match(findings, /1400.1499/);
    await step(page, 'fidelity-remote-results');
    // the per-step chart of the device against the reference, with the damaged steps shaded
    await runCommand(page, 'Notifications: Clear All Notifications', { id: 'notifications.clearAll' });
    await frame.locator('.curves .chart').first().scrollIntoViewIfNeeded();
    assert.match(await frame.locator('.curves').first().innerText(), /Steps 1400–1499 \(0\.0 dB\) of 1500 diverge/);
    await step(page, 'fidelity-remote-chart');
  });
});
