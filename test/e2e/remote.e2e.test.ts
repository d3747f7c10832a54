// Remote compile through the UI, against a real sshd on 127.0.0.1 started by the test with the
// stand-in DFC tools (test/fixtures/standins): a target in hailo.json shows in the Targets view,
// "Check Target" puts its DFC version there, "Hailo: Parse" from the palette shows its progress
// notification and then the run in the Runs view.
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { useWorkbench } from '../harness/e2e';
import { openActivity, runCommand, step, treeRows, viewPane, waitFor, waitForNotification } from '../harness/workbench';
import { startSshd, sshdUnavailableReason, type TestSshd } from '../harness/sshd';
import { addTargetToText } from '../../src/core/remote/targets';
import { controlDirFor } from '../../src/core/remote/ssh';

/** When a command asks which item (model, target) with a quick pick, pick `label`. */
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

describe('e2e: remote compile', function () {
  let sshd: TestSshd | undefined;
  const settings: Record<string, unknown> = {};

  // before the workbench starts: the sshd, and the user setting that points ssh at its client config
  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipping remote e2e tests: ${why}`);
      this.skip();
    }
    sshd = await startSshd();
    settings['hailo.ssh.configFile'] = sshd.clientConfig;
    // the stand-in `hailo` paces its log and holds a little so the progress notification can be seen
    fs.writeFileSync(sshd.controlFile, JSON.stringify({ delay: 0.05, holdSeconds: 2 }));
  });

  const wb = useWorkbench({ workspace: 'example', settings });

  before(function () {
    // a target on the test sshd in hailo.json; the example's model compiles there
    const projectFile = path.join(wb.workspace, 'hailo.json');
    let text = fs.readFileSync(projectFile, 'utf8');
    text = addTargetToText(text, { name: 'e2e-box', host: sshd!.alias, workDir: path.join(sshd!.dir, 'work'), dfc: { kind: 'venv', path: sshd!.venv } });
    assert.ok(text.includes('"name": "whisper_tiny_encoder",'));
    text = text.replace('"name": "whisper_tiny_encoder",', '"name": "whisper_tiny_encoder", "target": "e2e-box",');
    fs.writeFileSync(projectFile, text);
  });

  after(async function () {
    // the extension's master connection outlives the window (ControlPersist): close it, then the server
    if (sshd)
      spawnSync('ssh', ['-F', sshd.clientConfig, '-o', `ControlPath=${path.join(controlDirFor(), '%C')}`, '-O', 'exit', sshd.alias], {
        stdio: 'ignore',
        timeout: 5000,
      });
    await sshd?.stop();
  });

  it('the Targets view shows the target and, after Check Target, its DFC version', async function () {
    const page = wb.page;
    await openActivity(page, 'Hailo');
    const first = await waitFor(
      async () => {
        const r = await treeRows(page, 'Targets');
        return r.find((x) => x.startsWith('e2e-box'));
      },
      { what: 'the target in the Targets view', timeout: 20_000 },
    );
    assert.match(first, /^e2e-box hwtest · not checked$/);
    await runCommand(page, 'Hailo: Check Target', { id: 'hailo.checkTarget' });
    await pickIfAsked(page, 'e2e-box');
    const checked = await waitFor(
      async () => {
        const r = await treeRows(page, 'Targets');
        return r.find((x) => /DFC/.test(x));
      },
      { what: 'the DFC version in the Targets view', timeout: 60_000 },
    );
    assert.match(checked, /^e2e-box hwtest · DFC 3\.33\.0( · HailoRT \S+)?$/);
    await waitForNotification(page, /e2e-box: reachable; DFC 3\.33\.0/, { timeout: 10_000 });
    // a passed check has the green "pass" icon
    const row = viewPane(page, 'Targets').locator('.monaco-list-row', { hasText: 'e2e-box' }).first();
    assert.equal(await row.locator('.codicon-pass').count(), 1);
    await step(page, 'remote-target-checked');
  });

  it('Hailo: Parse from the palette shows progress, then the run in the Runs view', async function () {
    this.timeout(180_000);
    const page = wb.page;
    await runCommand(page, 'Hailo: Parse', { id: 'hailo.parse' });
    await pickIfAsked(page, 'whisper_tiny_encoder');
    await waitForNotification(page, /Hailo parse: whisper_tiny_encoder on e2e-box/, { timeout: 30_000 });
    // a progress toast (with its bar) that can be cancelled, showing the step
    const toast = page.locator('.notification-toast', { hasText: 'Hailo parse: whisper_tiny_encoder on e2e-box' }).first();
    await toast.locator('.monaco-button', { hasText: 'Cancel' }).waitFor({ timeout: 5_000 });
    assert.ok(await toast.locator('.monaco-progress-container').count(), 'the notification has a progress bar');
    await waitFor(async () => /on e2e-box: parse/.test(await toast.innerText().catch(() => '')), { what: 'the step in the progress message', timeout: 20_000 });
    await step(page, 'remote-parse-progress');
    await waitForNotification(page, /whisper_tiny_encoder: parse done on e2e-box/, { timeout: 120_000 });
    const runs = await waitFor(
      async () => {
        const r = await treeRows(page, 'Runs');
        return r.find((x) => x.startsWith('whisper_tiny_encoder · parse') && /succeeded/.test(x));
      },
      { what: 'the run in the Runs view', timeout: 20_000 },
    );
    assert.match(runs, /^whisper_tiny_encoder · parse succeeded · e2e-box · /);
    // the run expands to its step with the duration
    const runRow = viewPane(page, 'Runs').locator('.monaco-list-row', { hasText: 'whisper_tiny_encoder · parse' }).first();
    if ((await runRow.getAttribute('aria-expanded')) !== 'true') await runRow.click();
    const stepRow = await waitFor(
      async () => {
        const r = await treeRows(page, 'Runs');
        return r.find((x) => /^parse succeeded · [\d.]+ s · exit 0/.test(x));
      },
      { what: 'the parse step in the Runs view', timeout: 10_000 },
    );
    assert.ok(stepRow);
    await step(page, 'remote-runs-view');
  });
});
