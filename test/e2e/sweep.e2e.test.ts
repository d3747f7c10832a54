// Hailo: Run Sweep through the UI, against a real sshd on 127.0.0.1 started by the test (a plain
// SSH target: the Slurm cluster is covered by the core and CLI tests, where its minutes of
// scheduling do not hold up a browser): four variants of a PyTorch factory, one of which refuses
// its width; the stand-in `hailo` writes a real HAR (rewrites) and the stand-in `hailortcli` is the
// device (latency). The panel shows a row per variant, sorts by a column, marks the best variant
// and writes the CSV.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { useWorkbench } from '../harness/e2e';
import { REPO_ROOT } from '../harness/codeServer';
import { runCommand, screenshot, waitFor, waitForNotification } from '../harness/workbench';
import { startSshd, sshdUnavailableReason, STANDIN_DIR, type TestSshd } from '../harness/sshd';
import { controlDirFor } from '../../src/core/remote/ssh';

const PY = process.env.HAILO_TEST_PYTHON ?? '/usr/bin/python3';
const HAR = path.join(REPO_ROOT, 'test', 'fixtures', 'hailo', 'toy-op17.har');
const REFERENCE_DIR = process.env.HAILO_REFERENCE_DIR;

describe('e2e: sweep results panel', function () {
  let sshd: TestSshd | undefined;
  let venv = '';
  const settings: Record<string, unknown> = {};

  before(async function () {
    const why =
      sshdUnavailableReason() ?? (spawnSync(PY, ['-c', 'import torch, onnx']).status !== 0 ? `${PY} has no torch/onnx (set HAILO_TEST_PYTHON)` : undefined);
    if (why) {
      console.log(`    skipping sweep e2e tests: ${why}`);
      this.skip();
    }
    sshd = await startSshd();
    settings['hailo.ssh.configFile'] = sshd.clientConfig;
    settings['hailo.pythonPath'] = PY;
    // the device: a Pi 5 with a Hailo-8L as the device check reads it, the stand-in hailortcli
    const dev = path.join(sshd.sysfs, 'bus', 'pci', 'devices', '0001:01:00.0');
    fs.mkdirSync(dev, { recursive: true });
    fs.writeFileSync(path.join(dev, 'vendor'), '0x1e60\n');
    fs.writeFileSync(path.join(dev, 'current_link_speed'), '8.0 GT/s PCIe\n');
    fs.writeFileSync(path.join(dev, 'current_link_width'), '1\n');
    fs.mkdirSync(path.join(sshd.sysfs, 'firmware', 'devicetree', 'base'), { recursive: true });
    fs.writeFileSync(path.join(sshd.sysfs, 'firmware', 'devicetree', 'base', 'model'), 'Raspberry Pi 5 Model B Rev 1.0\0');
    fs.writeFileSync(
      sshd.controlFile,
      JSON.stringify({
        ...(REFERENCE_DIR && fs.existsSync(REFERENCE_DIR) ? { referenceDir: REFERENCE_DIR } : {}),
        hailortcli: { delay: 0.001, device: 'hailo8l' },
      }),
    );
    // the compile box's DFC: the stand-in, writing a real HAR as the parser's output
    venv = path.join(sshd.dir, 'venvs', 'sweep');
    fs.mkdirSync(path.join(venv, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(venv, 'control.json'), JSON.stringify({ delay: 0.001, har: HAR }));
    fs.writeFileSync(
      path.join(venv, 'bin', 'activate'),
      `PATH=${STANDIN_DIR}:$PATH\nexport PATH\nHAILO_STANDIN_CONTROL=${path.join(venv, 'control.json')}\nexport HAILO_STANDIN_CONTROL\n`,
    );
  });

  const wb = useWorkbench({ workspace: 'example', settings, viewport: { width: 1600, height: 900 } });

  before(function () {
    const root = wb.workspace;
    fs.cpSync(path.join(REPO_ROOT, 'test', 'fixtures', 'py', 'tinywhisper'), path.join(root, 'tinywhisper'), {
      recursive: true,
      filter: (f) => !f.includes('__pycache__'),
    });
    fs.writeFileSync(path.join(root, 'calib.npy'), Buffer.alloc(4096, 1));
    const file = path.join(root, 'hailo.json');
    const json = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '')) as Record<string, unknown[]>;
    json.models = [
      ...json.models!,
      { name: 'stack', entry: 'tinywhisper.sweep:build', inputs: [{ name: 'mel', shape: [1, 80, 100] }], onnx: 'build/stack.onnx', calibSet: 'calib.npy' },
    ];
    json.targets = [{ name: 'e2e-box', host: sshd!.alias, workDir: path.join(sshd!.dir, 'work'), dfc: { kind: 'venv', path: venv } }];
    json.devices = [{ name: 'pi5', host: sshd!.alias, workDir: path.join(sshd!.dir, 'pi'), hwArch: 'hailo8l' }];
    json.sweeps = [
      {
        name: 'widths',
        model: 'stack',
        target: 'e2e-box',
        matrix: { kwargs: { width: [8, 12, 16, 24] } },
        device: 'pi5',
        benchmarkSeconds: 1,
        latencyBudgetMs: 1000,
      },
    ];
    fs.writeFileSync(file, JSON.stringify(json, null, 2));
  });

  after(async function () {
    if (sshd)
      spawnSync('ssh', ['-F', sshd.clientConfig, '-o', `ControlPath=${path.join(controlDirFor(), '%C')}`, '-O', 'exit', sshd.alias], {
        stdio: 'ignore',
        timeout: 5000,
      });
    await sshd?.stop();
  });

  it('Run Sweep from the palette: a row per variant, sorted by latency, the best marked, CSV written', async function () {
    this.timeout(400_000);
    const page = wb.page;
    // the project reloads after hailo.json changed; the command waits for nothing else
    await new Promise((r) => setTimeout(r, 2000));
    await runCommand(page, 'Hailo: Run Sweep', { id: 'hailo.runSweep' });
    await waitForNotification(page, /Hailo sweep widths/, { timeout: 30_000 });
    const frame = page.frameLocator('iframe.webview.ready').frameLocator('iframe');
    await frame.locator('h1', { hasText: 'Sweep widths: stack on e2e-box' }).waitFor({ timeout: 60_000 });
    await screenshot(page, 'sweep-running');
    await waitForNotification(page, /Sweep widths: 3 of 4 variants compiled\./, { timeout: 360_000 });
    await waitFor(async () => /^succeeded · 4 variants, 3 compiled/.test(await frame.locator('p').first().innerText()), {
      what: 'the panel showing the finished sweep',
      timeout: 20_000,
    });
    const header = (await frame.locator('thead th').allInnerTexts()).map((t) => t.replace(/[▲▼]/g, '').trim());
    for (const col of ['Values', 'Lint errors', 'Parse', 'Compile', 'First error', 'Estimated FPS', 'Latency (ms)', 'Rewrites'])
      assert.ok(header.includes(col), `column ${col} in ${header.join(' | ')}`);
    const rows = frame.locator('tbody tr');
    assert.equal(await rows.count(), 4, 'a row per variant');
    const col = (name: string) => header.indexOf(name);
    const cells = async () => Promise.all((await rows.all()).map(async (r) => (await r.locator('td').allInnerTexts()).map((t) => t.trim())));
    const before = await cells();
    const failing = before.find((r) => r[col('Values')] === 'width=12')!;
    assert.equal(failing[col('Parse')], 'not-run');
    assert.match(failing[col('First error')]!, /width 12 is not a multiple of 8/);
    for (const r of before.filter((x) => x !== failing)) {
      assert.equal(r[col('Compile')], 'succeeded');
      assert.match(r[col('Rewrites')]!, /\w+ \d+/, `rewrites of ${r[col('Values')]}`);
      assert.match(r[col('Latency (ms)')]!, /^\d+(\.\d+)?$/);
      assert.equal(r[col('Estimated FPS')], 'not available');
    }
    // the empty estimate says why, as a tooltip
    assert.match((await frame.locator('td.note').first().getAttribute('title')) ?? '', /^not available: /);
    // the best variant within the budget: marked with a star and named above the table
    const best = frame.locator('tbody tr.best-row');
    assert.equal(await best.count(), 1);
    assert.equal((await best.locator('td').first().innerText()).trim(), '★');
    const bestLabel = (await best.locator('td').nth(col('Values')).innerText()).trim();
    assert.match(await frame.locator('.best-line').innerText(), new RegExp(`Best within the budget: ${bestLabel}`));
    // sort by latency: ascending, the variant without a latency last; the best has the lowest latency
    const th = (name: string) => frame.locator('thead th').filter({ hasText: new RegExp(`^${name.replace(/[()]/g, '\\$&')}`) });
    await th('Latency (ms)').click();
    await waitFor(async () => (await th('Latency (ms)').getAttribute('aria-sort')) === 'ascending', { what: 'the latency column sorted' });
    const sorted = await cells();
    const lat = sorted.map((r) => r[col('Latency (ms)')]!);
    const nums = lat.filter((x) => /^\d/.test(x)).map(Number);
    assert.equal(nums.length, 3);
    assert.deepEqual(
      nums,
      [...nums].sort((a, b) => a - b),
      `ascending: ${lat.join(', ')}`,
    );
    assert.equal(sorted[3]![col('Values')], 'width=12', 'the failed variant last');
    assert.equal(Number(before.find((r) => r[col('Values')] === bestLabel)![col('Latency (ms)')]), nums[0], 'the best variant has the lowest latency');
    // sort by the values, descending (a second click), numbers in the labels as numbers: the rows really move
    await th('Values').click();
    await th('Values').click();
    await waitFor(async () => (await th('Values').getAttribute('aria-sort')) === 'descending', { what: 'the values column sorted descending' });
    assert.deepEqual(
      (await cells()).map((r) => r[col('Values')]),
      ['width=24', 'width=16', 'width=12', 'width=8'],
    );
    assert.equal((await frame.locator('tbody tr').first().locator('td').nth(col('Values')).innerText()).trim(), 'width=24');
    await screenshot(page, 'sweep-sorted');
    // Export CSV: the save dialog proposes sweep-widths.csv in the workspace; accept it
    const csvFile = path.join(wb.workspace, 'sweep-widths.csv');
    await frame.locator('button', { hasText: 'Export CSV' }).click();
    const input = page.locator('.quick-input-widget .quick-input-box input').first();
    await input.waitFor({ timeout: 15_000 });
    await waitFor(async () => (await input.inputValue()).endsWith('sweep-widths.csv'), { what: 'the proposed file name' });
    await screenshot(page, 'sweep-save-csv');
    await page.keyboard.press('Enter');
    const csv: string = await waitFor(() => (fs.existsSync(csvFile) ? fs.readFileSync(csvFile, 'utf8') : ''), { what: 'the CSV file', timeout: 20_000 });
    const lines = csv.split('\r\n');
    assert.match(
      lines[0]!,
      /^Variant,Values,Lint errors,Rewrites,Parse,Optimize,Compile,First error,Contexts,Estimated FPS,Estimated latency \(ms\),Latency \(ms\)/,
    );
    assert.equal(lines.length, 6, 'header, 4 rows, final newline');
    const csvBest = lines.find((l) => l.includes(`,${bestLabel},`))!;
    assert.match(csvBest, /,yes,yes,$/, 'meets the budget, best');
    assert.match(
      lines.find((l) => l.includes(',width=12,'))!,
      /export: .*width 12 is not a multiple of 8/,
    );
    await screenshot(page, 'sweep-panel');
  });
});
