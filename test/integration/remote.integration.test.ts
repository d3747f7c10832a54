// Remote compile inside a real VS Code, against a real sshd on 127.0.0.1 started by the test with
// stand-in DFC tools (test/fixtures/standins). Covers the Parse command with its finish event and
// run.json, a `hailo` task with its exit code, and a window reload mid-run. A test cannot reload
// its own window (workbench.action.reloadWindow would kill the test host), so the reload is
// simulated the way the extension experiences it: the pipeline service that started the run stops
// following it (exactly what disposing it on window close does), then a NEW pipeline service built
// from the persisted state (run.json + workspaceState) reattaches on "activation" and must finish
// the run with a log identical to the remote one.
import { strict as assert } from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';
import { PipelineService } from '../../src/adapters/pipeline';
import { RemoteService } from '../../src/adapters/remote';
import { addTargetToText } from '../../src/core/remote/targets';
import { listRuns, readRun } from '../../src/core/remote/run';
import { startSshd, sshdUnavailableReason, type TestSshd } from '../harness/sshd';
import { until as untilBase, extensionServices } from './helpers';
const until = <T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 60_000): Promise<T> =>
  untilBase(fn, what, timeoutMs);

const REFERENCE_DIR = process.env.HAILO_REFERENCE_DIR;

describe('remote compile over SSH', function () {
  this.timeout(180_000);
  let sshd: TestSshd | undefined;
  let services: Services;
  let root: string;
  let projectFile: string;
  let original: string;
  let modelName: string;
  let runsDir: string;

  const control = (c: Record<string, unknown>) =>
    fs.writeFileSync(
      sshd!.controlFile,
      JSON.stringify({ delay: 0.001, ...(REFERENCE_DIR && fs.existsSync(REFERENCE_DIR) ? { referenceDir: REFERENCE_DIR } : {}), ...c }),
    );

  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipping remote integration tests: ${why}`);
      this.skip();
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'a workspace folder is open');
    root = folder.uri.fsPath;
    projectFile = path.join(root, 'hailo.json');
    original = fs.readFileSync(projectFile, 'utf8');
    services = await extensionServices();
    await until(() => services.project.project, 'the project to load');
    assert.ok(services.runs, 'services.runs is set');
    sshd = await startSshd();
    // machine-scoped setting: written to the user settings of the throwaway test profile
    await vscode.workspace.getConfiguration('hailo').update('ssh.configFile', sshd.clientConfig, vscode.ConfigurationTarget.Global);
    // a target on the test sshd; the model compiles there
    let text = addTargetToText(original, { name: 'itest', host: sshd.alias, workDir: path.join(sshd.dir, 'work'), dfc: { kind: 'venv', path: sshd.venv } });
    modelName = services.project.project!.models[0]!.name;
    text = text.replace(`"name": "${modelName}",`, `"name": "${modelName}", "target": "itest",`);
    fs.writeFileSync(projectFile, text);
    await services.project.reload();
    await until(() => services.project.project?.models[0]?.target === 'itest' && services.project.project, 'the target in hailo.json');
    const onnx = path.join(root, services.project.project!.models[0]!.onnx);
    if (!fs.existsSync(onnx)) {
      fs.mkdirSync(path.dirname(onnx), { recursive: true });
      fs.writeFileSync(onnx, Buffer.from('stand-in input: the remote tool is a test double'));
    }
    runsDir = path.join(root, '.hailo', 'runs');
  });

  after(async function () {
    if (projectFile && original !== undefined) fs.writeFileSync(projectFile, original);
    await vscode.workspace.getConfiguration('hailo').update('ssh.configFile', undefined, vscode.ConfigurationTarget.Global);
    await services?.project.reload();
    await sshd?.stop();
  });

  it('Hailo: Parse runs on the target, fires onDidFinishStep and records run.json', async () => {
    control({});
    const events: { step: string; ok: boolean; runDir: string; model: string }[] = [];
    const sub = services.runs!.onDidFinishStep((e) => events.push(e));
    try {
      await vscode.commands.executeCommand('hailo.parse', modelName);
    } finally {
      sub.dispose();
    }
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.equal(events[0]!.step, 'parse');
    assert.equal(events[0]!.ok, true);
    assert.equal(events[0]!.model, modelName);
    const run = readRun(path.join(events[0]!.runDir, 'run.json'));
    assert.equal(run.status, 'succeeded');
    assert.equal(run.toolVersions.dfc, '3.33.0');
    assert.ok(fs.existsSync(path.join(events[0]!.runDir, `${run.netName}.har`)));
  });

  it('a failed parse puts the parser error on the ONNX model as a diagnostic', async () => {
    control({ fail: 'parse' });
    const events: { ok: boolean }[] = [];
    const sub = services.runs!.onDidFinishStep((e) => events.push(e));
    try {
      await vscode.commands.executeCommand('hailo.parse', modelName);
    } finally {
      sub.dispose();
    }
    assert.equal(events.length, 1);
    assert.equal(events[0]!.ok, false);
    const onnx = vscode.Uri.file(path.join(root, services.project.project!.models[0]!.onnx));
    const diags = await until(() => {
      const d = vscode.languages.getDiagnostics(onnx).filter((x) => /TopK/.test(x.message));
      return d.length ? d : undefined;
    }, 'the parser error on the ONNX file');
    assert.equal(diags[0]!.severity, vscode.DiagnosticSeverity.Error);
    assert.match(diags[0]!.message, /\/encoder\/TopK/);
  });

  it('Compare Runs puts what matters side by side (outcome, step time, the parser error), not a run.json diff', async () => {
    const runs = listRuns(runsDir).flatMap((r) =>
      r.run && r.run.steps.length === 1 && r.run.steps[0]!.step === 'parse' && r.run.status !== 'running' ? [r.run] : [],
    );
    const ok = runs.find((r) => r.status === 'succeeded');
    const failed = runs.find((r) => r.status === 'failed');
    assert.ok(ok && failed, `a succeeded and a failed parse run: ${runs.map((r) => r.status).join(', ')}`);
    await vscode.commands.executeCommand('hailo.compareRuns', undefined, [failed.id, ok.id]);
    const doc = await until(
      () => vscode.workspace.textDocuments.find((d) => d.isUntitled && d.languageId === 'markdown' && d.getText().startsWith('# Compare runs')),
      'the comparison document',
    );
    const text = doc.getText();
    // the older run is A whichever was clicked first
    const [older, newer] = ok.createdAt <= failed.createdAt ? [ok, failed] : [failed, ok];
    assert.ok(text.includes(`A: \`${older.id}\``) && text.includes(`B: \`${newer.id}\``), text);
    assert.match(text, new RegExp(`^\\| Outcome \\| ${older.status} \\| ${newer.status} \\| +\\|$`, 'm'));
    assert.match(text, /^\| parse: time \| [\d.]+ s \| [\d.]+ s \|/m);
    assert.match(text, new RegExp(`^\\| parse: outcome \\| ${older.status} \\| ${newer.status} \\|`, 'm'));
    assert.doesNotMatch(text, /remoteDir|logOffset|"createdAt"/, 'no raw run.json');
  });

  it('a hailo task runs a step in a terminal and ends with its exit code', async () => {
    control({});
    const tasks = await vscode.tasks.fetchTasks({ type: 'hailo' });
    const task = tasks.find((t) => t.definition.step === 'parse' && t.definition.model === modelName);
    assert.ok(task, `tasks: ${tasks.map((t) => t.name).join(', ')}`);
    const ended = new Promise<number | undefined>((resolve) => {
      const sub = vscode.tasks.onDidEndTaskProcess((e) => {
        if (e.execution.task.definition.type === 'hailo') {
          sub.dispose();
          resolve(e.exitCode);
        }
      });
    });
    await vscode.tasks.executeTask(task);
    assert.equal(await ended, 0);
  });

  it('window reload mid-run: a new pipeline service reattaches from run.json and loses no log line', async () => {
    control({ delay: 0.03, holdSeconds: 3 });
    const before = new Set(listRuns(runsDir).map((r) => r.dir));
    const first = services.runs as unknown as PipelineService;
    const started = vscode.commands.executeCommand('hailo.runPipeline', modelName);
    const dir = await until(() => {
      const r = listRuns(runsDir).find((x) => !before.has(x.dir) && x.run?.steps[0]?.status === 'running' && (x.run.steps[0].logOffset ?? 0) > 0);
      return r?.dir;
    }, 'the run to be running');
    // the window goes away: the service stops following, the remote step keeps going
    first.detachAll();
    await started;
    const mid = readRun(path.join(dir, 'run.json'));
    assert.ok(mid.status === 'running', `status after detach: ${mid.status}`);
    assert.ok(services.context.workspaceState.get<string[]>('hailo.activeRuns', []).includes(mid.id), 'the active run is remembered in workspaceState');
    // the new window: a fresh service from persisted state
    const remote = new RemoteService(services.log);
    const second = new PipelineService(services, remote);
    try {
      await second.resumeAll();
      const done = await until(
        () => {
          const r = readRun(path.join(dir, 'run.json'));
          return r.status !== 'running' && r;
        },
        'the reattached run to finish',
        120_000,
      );
      assert.equal(done.status, 'succeeded', JSON.stringify(done.steps.map((s) => s.error)));
      for (const s of done.steps) {
        const local = fs.readFileSync(path.join(dir, s.log!));
        const remoteLog = fs.readFileSync(path.join(done.remoteDir, 'jobs', s.step, 'log'));
        assert.ok(local.equals(remoteLog), `${s.step}.log differs from the remote log`);
      }
    } finally {
      second.dispose();
      remote.dispose();
    }
  });
});
