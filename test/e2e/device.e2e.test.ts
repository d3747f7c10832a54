// Devices through the UI, against a real sshd on 127.0.0.1 started by the test with the stand-in
// hailortcli (test/fixtures/standins) as a Raspberry Pi 5 + Hailo-8L: the Devices section of the
// Targets view with Check Device and its PCIe explanation, Deploy and Benchmark from the Models
// view's context menu with its progress, the device run in the Runs view with its figures, the
// status bar item, and the results panel with its history and chart.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { useWorkbench } from '../harness/e2e';
import { openActivity, readmePicture, readmePicturesRequested, runCommand, step, treeRows, viewPane, waitFor, waitForNotification } from '../harness/workbench';
import { startSshd, sshdUnavailableReason, type TestSshd } from '../harness/sshd';
import { controlDirFor } from '../../src/core/remote/ssh';
import { REFERENCE_DIR } from '../reference';

async function pickIfAsked(page: Page, label: string): Promise<void> {
  const row = page
    .locator('.quick-input-widget .quick-input-list .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^\\s*${label}\\s*$`) }) })
    .first();
  if (
    await row.waitFor({ timeout: 3_000 }).then(
      () => true,
      () => false,
    )
  )
    await row.click();
}

describe('e2e: devices', function () {
  let sshd: TestSshd | undefined;
  const settings: Record<string, unknown> = { 'hailo.device.benchmarkSeconds': 1 };
  const control = (c: Record<string, unknown>) =>
    fs.writeFileSync(
      sshd!.controlFile,
      JSON.stringify({ ...(fs.existsSync(REFERENCE_DIR) ? { referenceDir: REFERENCE_DIR } : {}), hailortcli: { delay: 0.01, ...c } }),
    );

  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipping device e2e tests: ${why}`);
      this.skip();
    }
    sshd = await startSshd();
    settings['hailo.ssh.configFile'] = sshd.clientConfig;
    const dev = path.join(sshd.sysfs, 'bus', 'pci', 'devices', '0001:01:00.0');
    fs.mkdirSync(dev, { recursive: true });
    fs.writeFileSync(path.join(dev, 'vendor'), '0x1e60\n');
    fs.writeFileSync(path.join(dev, 'current_link_speed'), '5.0 GT/s PCIe\n');
    fs.writeFileSync(path.join(dev, 'max_link_speed'), '8.0 GT/s PCIe\n');
    fs.writeFileSync(path.join(dev, 'current_link_width'), '1\n');
    fs.mkdirSync(path.join(sshd.sysfs, 'firmware', 'devicetree', 'base'), { recursive: true });
    fs.writeFileSync(path.join(sshd.sysfs, 'firmware', 'devicetree', 'base', 'model'), 'Raspberry Pi 5 Model B Rev 1.0\0');
    fs.mkdirSync(path.join(sshd.sysfs, 'module', 'hailo_pci'), { recursive: true });
    fs.writeFileSync(path.join(sshd.sysfs, 'module', 'hailo_pci', 'version'), '4.20.0\n');
    control({ device: 'hailo8l', holdSeconds: 2 });
  });

  const wb = useWorkbench({ workspace: 'example', settings });

  before(function () {
    const projectFile = path.join(wb.workspace, 'hailo.json');
    let text = fs.readFileSync(projectFile, 'utf8');
    assert.ok(text.includes('"hwArch": "hailo8l"\n'));
    text = text.replace('"hwArch": "hailo8l"\n', '"hwArch": "hailo8l", "device": "pi5", "latencyBudgetMs": 10\n');
    text = text.replace(
      '"devices": [',
      `"devices": [\n    { "name": "pi5", "host": "${sshd!.alias}", "workDir": ${JSON.stringify(path.join(sshd!.dir, 'pi'))}, "hwArch": "hailo8l" }`,
    );
    fs.writeFileSync(projectFile, text);
    // the compiled model (a test HEF the stand-in reads as a Hailo-8L one)
    fs.mkdirSync(path.join(wb.workspace, 'build'), { recursive: true });
    fs.writeFileSync(path.join(wb.workspace, 'build', 'encoder.hef'), 'HWB-TEST-HEF arch=hailo8l\ne2e\n');
    // an earlier compile run whose folder holds the profiler's console output (its estimate)
    const id = '20200101-000000-whisper_tiny_encoder-e2e0';
    const dir = path.join(wb.workspace, '.hailo', 'runs', id);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(
      path.join(dir, 'run.json'),
      JSON.stringify({
        version: 1,
        id,
        kind: 'compile',
        model: 'whisper_tiny_encoder',
        netName: 'whisper_tiny_encoder',
        hwArch: 'hailo8l',
        target: { name: 'box', host: 'box', workDir: '/w' },
        remoteDir: `/w/runs/${id}`,
        createdAt: '2020-01-01T00:00:00.000Z',
        status: 'succeeded',
        steps: [],
        inputs: [],
        bytesSent: 0,
        toolVersions: {},
      }),
    );
    fs.copyFileSync(path.join(__dirname, '..', 'fixtures', 'dfc', 'hailomz-profile-whisper-enc-hailo8l-estimate.log'), path.join(dir, 'profile.log'));
  });

  after(async function () {
    if (sshd)
      spawnSync('ssh', ['-F', sshd.clientConfig, '-o', `ControlPath=${path.join(controlDirFor(), '%C')}`, '-O', 'exit', sshd.alias], {
        stdio: 'ignore',
        timeout: 5000,
      });
    await sshd?.stop();
  });

  it('the Devices section of the Targets view: Check Device shows the Hailo-8L and explains the PCIe Gen 2 link', async function () {
    this.timeout(120_000);
    const page = wb.page;
    await openActivity(page, 'Hailo');
    await waitFor(async () => (await treeRows(page, 'Targets')).find((x) => x.startsWith('pi5')), { what: 'the device in the Targets view', timeout: 20_000 });
    await runCommand(page, 'Hailo: Check Device', { id: 'hailo.checkDevice' });
    const row = await waitFor(async () => (await treeRows(page, 'Targets')).find((x) => x.startsWith('pi5') && /HAILO8L/.test(x)), {
      what: 'the checked device',
      timeout: 60_000,
    });
    assert.match(row, /^pi5 hwtest · HAILO8L · fw 4\.20\.0 · HailoRT 4\.20\.0 · PCIe Gen 2$/);
    const problem = await waitFor(async () => (await treeRows(page, 'Targets')).find((x) => /PCIe link runs at 5\.0 GT\/s PCIe x1 \(Gen 2\)/.test(x)), {
      what: 'the PCIe explanation',
      timeout: 10_000,
    });
    assert.match(problem, /dtparam=pciex1_gen=3/);
    await waitForNotification(page, /pi5: HAILO8L, firmware 4\.20\.0, HailoRT 4\.20\.0, 0001:01:00\.0, PCIe Gen 2 x1/, { timeout: 10_000 });
    await step(page, 'device-checked');
  });

  it('Deploy and Benchmark from the Models view: progress, the run in the Runs view, the status bar, the results panel', async function () {
    this.timeout(240_000);
    const page = wb.page;
    const model = viewPane(page, 'Models').locator('.monaco-list-row', { hasText: 'whisper_tiny_encoder' }).first();
    await model.click({ button: 'right' });
    const item = page.locator('.context-view .action-label', { hasText: 'Deploy and Benchmark' }).first();
    // the menu ignores a click that comes right after it opened: hover, let it settle, then choose
    await item.hover();
    await page.waitForTimeout(500);
    await item.click();
    await waitForNotification(page, /Hailo: deploy and benchmark whisper_tiny_encoder on pi5/, { timeout: 30_000 });
    await waitFor(
      async () =>
        /benchmark/.test(
          await page
            .locator('.notification-toast', { hasText: 'deploy and benchmark' })
            .first()
            .innerText()
            .catch(() => ''),
        ),
      { what: 'the benchmark step in the progress', timeout: 60_000 },
    );
    await step(page, 'device-deploy-progress');
    await waitForNotification(page, /whisper_tiny_encoder on pi5: [\d.]+ ms HW latency, [\d.]+ FPS streaming/, { timeout: 120_000 });
    const run = await waitFor(
      async () => (await treeRows(page, 'Runs')).find((x) => x.startsWith('whisper_tiny_encoder · parse-hef → benchmark') && /succeeded/.test(x)),
      { what: 'the device run in the Runs view', timeout: 20_000 },
    );
    assert.match(run, /succeeded · device pi5 · /);
    const runRow = viewPane(page, 'Runs').locator('.monaco-list-row', { hasText: 'parse-hef → benchmark' }).first();
    if ((await runRow.getAttribute('aria-expanded')) !== 'true') await runRow.click();
    const bench = await waitFor(
      async () => (await treeRows(page, 'Runs')).find((x) => /^benchmark succeeded · [\d.]+ s · exit 0 · [\d.]+ FPS · [\d.]+ ms$/.test(x)),
      { what: 'the benchmark step with its figures', timeout: 10_000 },
    );
    assert.ok(bench);
    // the status bar: last latency of the model against its 10 ms budget
    const status = page.locator('.statusbar-item', { hasText: 'whisper_tiny_encoder' }).first();
    await status.waitFor({ timeout: 20_000 });
    assert.match(await status.innerText(), /whisper_tiny_encoder [\d.]+ ms \/ 10\.0 ms/);
    await step(page, 'device-runs-view');
    // a second, slower run: the regression warning
    control({ device: 'hailo8l', benchmark: 'slow' });
    await runCommand(page, 'Hailo: Deploy and Benchmark', { id: 'hailo.deployBenchmark' });
    await pickIfAsked(page, 'whisper_tiny_encoder');
    await waitForNotification(page, /whisper_tiny_encoder: latency regressed by 50\.0 %/, { timeout: 120_000 });
    // the results panel from the status bar item
    await status.click();
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe');
    await frame.locator('h1', { hasText: 'Device results: whisper_tiny_encoder' }).waitFor({ timeout: 30_000 });
    await frame.locator('.chart canvas').first().waitFor({ timeout: 10_000 });
    assert.equal(await frame.locator('table.history tbody tr').count(), 2);
    assert.equal(await frame.locator('table.history tbody tr.regressed').count(), 1);
    assert.match(await frame.locator('.warning').innerText(), /Latency regressed by 50\.0 %/);
    assert.match(await frame.locator('.cards').innerText(), /Real-time factor/);
    // the compiler's estimate beside the measurement, with the ratios
    const est = await frame.locator('table.estimate-table').innerText();
    assert.match(est, /FPS\s+21\.87 fps\s+[\d.]+ fps\s+[\d.]+×/);
    assert.match(est, /Latency\s+142\.4 ms\s+[\d.]+ ms\s+0\.\d+×/);
    assert.match(await frame.locator('section.estimate').innerText(), /hailo profiler \(Pre Placement\), profile\.log/);
    await frame.locator('section.estimate').scrollIntoViewIfNeeded();
    await step(page, 'device-results-estimate');
    await frame.locator('h1').scrollIntoViewIfNeeded();
    await step(page, 'device-results-panel');
    if (readmePicturesRequested()) {
      // the README's picture without the regression toast over the history
      await runCommand(page, 'Notifications: Clear All Notifications', { id: 'notifications.clearAll' });
      await page
        .locator('.notification-toast')
        .first()
        .waitFor({ state: 'hidden', timeout: 10_000 })
        .catch(() => undefined);
      await page
        .locator('.quick-input-widget')
        .first()
        .waitFor({ state: 'hidden', timeout: 10_000 })
        .catch(() => undefined);
      // the palette and the toast fade out
      await page.waitForTimeout(800);
    }
    await readmePicture(page, 'device-results');
  });
});
