import * as vscode from 'vscode';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Device, Model } from '../core/project/schema';
import type { RunRecord } from '../core/remote/run';
import type { ResultsMessage } from '../core/protocol/deviceResults';
import { setting } from './config';
import type { PipelineService } from './pipeline';
import { command, requireTrust, type Services } from './services';
import { loadCore } from './core';

/**
 * Deploy and Benchmark on a device, the device results panel (history, chart, budget, real-time
 * factor, regression) and the status bar item with the last latency of the active model.
 */

function gitCommit(root: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: root, timeout: 5000 }, (err, stdout) => {
      const c = String(stdout ?? '').trim();
      resolve(!err && /^[0-9a-f]{7,40}$/.test(c) ? c : undefined);
    });
  });
}

export class DeviceService implements vscode.Disposable {
  private readonly status: vscode.StatusBarItem;
  private panel: vscode.WebviewPanel | undefined;
  private panelModel: string | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly services: Services,
    private readonly pipeline: PipelineService,
  ) {
    this.status = vscode.window.createStatusBarItem('hailo.deviceLatency', vscode.StatusBarAlignment.Left, 50);
    this.status.name = 'Hailo Device Latency';
    this.status.command = 'hailo.showDeviceResults';
    this.disposables.push(
      this.status,
      pipeline.onDidEndDeviceRun((run) => void this.announce(run)),
      pipeline.onDidChangeRuns(() => void this.refresh()),
      services.project.onDidChange(() => void this.refresh()),
      vscode.window.onDidChangeActiveTextEditor(() => void this.refreshStatus()),
    );
  }

  private models(): Model[] {
    return this.services.project.project?.models ?? [];
  }

  /** The model the user works on: the one whose files the active editor shows, else the only one. */
  activeModel(): Model | undefined {
    const models = this.models();
    const root = this.services.project.root;
    const active = vscode.window.activeTextEditor?.document.uri.fsPath;
    if (active && root) {
      for (const m of models) {
        const files = [m.onnx, m.har, m.hef, m.modelScript].filter((f): f is string => !!f).map((f) => path.resolve(root, f));
        if (files.includes(active) || path.basename(active, path.extname(active)) === path.basename(m.onnx, path.extname(m.onnx))) return m;
      }
    }
    if (this.panelModel) return models.find((m) => m.name === this.panelModel) ?? models[0];
    return models.length === 1 ? models[0] : (models.find((m) => m.device) ?? models[0]);
  }

  async refresh(): Promise<void> {
    await this.refreshStatus();
    if (this.panel && this.panelModel) await this.postResults(this.panelModel);
  }

  async view(model: Model): Promise<ResultsMessage | undefined> {
    const runsDir = this.pipeline.runsDir;
    if (!runsDir) return undefined;
    const { resultsView } = (await loadCore()).remoteResults;
    return resultsView(runsDir, model);
  }

  /** `$(pulse) enc 125.9 ms / 200 ms` — the last measured latency of the active model and its budget state. */
  async refreshStatus(): Promise<void> {
    const model = this.activeModel();
    const v = model ? await this.view(model).catch(() => undefined) : undefined;
    const last = v?.rows.filter((r) => r.latencyMs !== undefined || r.status === 'succeeded').pop();
    if (!model || !v || !last) {
      this.status.hide();
      return;
    }
    const lat = last.latencyMs;
    const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
    const icon = last.regression?.regressed ? '$(warning)' : last.budget === 'over' ? '$(error)' : last.budget === 'within' ? '$(pass)' : '$(pulse)';
    this.status.text = `${icon} ${model.name} ${lat !== undefined ? `${fmt(lat)} ms` : 'latency not measured'}${v.budgetMs ? ` / ${fmt(v.budgetMs)} ms` : ''}`;
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**${model.name}** on ${last.device}${last.architecture ? ` (${last.architecture})` : ''}  \n`);
    tip.appendMarkdown(
      lat !== undefined
        ? `Last latency: ${lat.toFixed(2)} ms (${last.latencyKind === 'hw' ? 'HW' : 'overall'})  \n`
        : `Latency not measured: ${'notMeasured' in last.hwLatencyMs ? last.hwLatencyMs.notMeasured : ''}  \n`,
    );
    if (v.budgetMs)
      tip.appendMarkdown(`Budget ${v.budgetMs} ms: **${last.budget === 'within' ? 'within' : last.budget === 'over' ? 'OVER' : 'not measured'}**  \n`);
    if (last.rtf !== undefined) tip.appendMarkdown(`Real-time factor ${last.rtf.toFixed(4)} (${v.windowSeconds} s of audio)  \n`);
    if (last.regression?.regressed)
      tip.appendMarkdown(
        `$(warning) ${last.regression.metric} regressed ${(last.regression.change * 100).toFixed(1)} % against ${last.regression.previous}  \n`,
      );
    tip.appendMarkdown('Click for the results panel');
    this.status.tooltip = tip;
    this.status.backgroundColor =
      last.budget === 'over'
        ? new vscode.ThemeColor('statusBarItem.errorBackground')
        : last.regression?.regressed
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : undefined;
    this.status.show();
  }

  /** After a device run: its figures, the budget and a regression warning. */
  private async announce(run: RunRecord): Promise<void> {
    await this.refresh();
    const model = this.models().find((m) => m.name === run.model);
    if (!model) return;
    const v = await this.view(model);
    const row = v?.rows.find((r) => r.runId === run.id);
    if (!row) return;
    const fig = (f: ResultsMessage['rows'][number]['fpsStreaming'], unit = '') => ('value' in f ? `${Number(f.value.toFixed(2))}${unit}` : 'not measured');
    const text = `${run.model} on ${run.target.name}: ${row.latencyMs !== undefined ? `${row.latencyMs.toFixed(2)} ms ${row.latencyKind === 'hw' ? 'HW ' : 'overall '}latency, ` : 'latency not measured, '}${fig(row.fpsStreaming, ' FPS')} streaming, ${fig(row.fpsHwOnly, ' FPS')} HW-only${v?.budgetMs ? `; budget ${v.budgetMs} ms ${row.budget === 'within' ? 'met' : row.budget === 'over' ? 'EXCEEDED' : 'not checked'}` : ''}${row.partial ? ' (partial: the run failed part-way)' : ''}.`;
    this.services.log.info(text);
    if (row.regression?.regressed) {
      const r = row.regression;
      const msg = `${run.model}: ${r.metric === 'latency' ? 'latency' : 'FPS'} regressed by ${(r.change * 100).toFixed(1)} % against run ${r.previous} on ${row.device} (${r.before.toFixed(2)} → ${r.after.toFixed(2)}; noise ${(r.noise * 100).toFixed(1)} % from ${r.noiseFrom === 'repeats' ? 'the spread of the benchmark repetitions' : 'the spread of earlier runs'}).`;
      this.services.log.warn(msg);
      void vscode.window.showWarningMessage(msg, 'Show Results').then((p) => p && this.show(model));
    } else if (run.status === 'succeeded') {
      void vscode.window.showInformationMessage(text, 'Show Results').then((p) => p && this.show(model));
    }
  }

  private async postResults(modelName: string): Promise<void> {
    const model = this.models().find((m) => m.name === modelName);
    if (!model || !this.panel) return;
    const v = await this.view(model);
    if (v) await this.panel.webview.postMessage(v);
  }

  /** The results panel for a model (one panel, reused). */
  async show(model: Model): Promise<void> {
    this.panelModel = model.name;
    if (this.panel) {
      this.panel.title = `Device Results: ${model.name}`;
      this.panel.reveal();
      await this.postResults(model.name);
      await this.refreshStatus();
      return;
    }
    const ext = this.services.context.extensionUri;
    const dist = vscode.Uri.joinPath(ext, 'dist');
    const panel = vscode.window.createWebviewPanel('hailo.deviceResults', `Device Results: ${model.name}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(dist, 'webview'), vscode.Uri.joinPath(ext, 'media')],
      retainContextWhenHidden: false,
    });
    this.panel = panel;
    panel.webview.html = html(panel.webview, vscode.Uri.joinPath(dist, 'webview', 'deviceResults.js'), [
      vscode.Uri.joinPath(ext, 'media', 'deviceResults.css'),
    ]);
    panel.onDidDispose(() => {
      this.panel = undefined;
    });
    panel.webview.onDidReceiveMessage(async (data: unknown) => {
      const { parseMessage } = (await loadCore()).envelope;
      const { WebviewMessage } = (await loadCore()).deviceResultsProtocol;
      const msg = parseMessage(WebviewMessage, data);
      if (!msg) return;
      if (msg.type === 'ready') await this.postResults(this.panelModel ?? model.name);
      else if (msg.type === 'openRun') {
        const file = path.join(this.pipeline.runsDir ?? '', msg.runId, 'run.json');
        if (fs.existsSync(file)) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
      } else if (msg.type === 'deploy') await vscode.commands.executeCommand('hailo.deployBenchmark', this.panelModel);
    });
    await this.refreshStatus();
  }

  /** Which model, HEF and device a Deploy and Benchmark invocation means. */
  async resolveDeploy(arg: unknown): Promise<{ model: Model; device: Device; hef: string; dfcVersion?: string } | undefined> {
    const { project, root } = this.pipeline.requireProject();
    const { modelPaths } = (await loadCore()).projectLoad;
    let model: Model | undefined;
    let hef: string | undefined;
    const run = (arg as { run?: RunRecord })?.run;
    if (arg instanceof vscode.Uri) {
      hef = arg.fsPath;
      model = project.models.find((m) => path.resolve(modelPaths(m, root).hef) === path.resolve(hef!));
    } else if (run && typeof run.id === 'string') {
      model = project.models.find((m) => m.name === run.model);
      const dir = path.join(this.pipeline.runsDir!, run.id);
      const fromRun = run.steps.flatMap((s) => s.artifacts).find((a) => a.kind === 'hef' && a.local);
      if (fromRun?.local) hef = path.join(dir, fromRun.local);
      else if (run.kind === 'device') hef = run.inputs.find((i) => i.role === 'hef')?.local;
    } else {
      model = await this.pipeline.pickModel(arg);
    }
    if (!model) {
      if (!project.models.length) throw new Error('hailo.json has no models');
      const pick =
        project.models.length === 1
          ? project.models[0]
          : (
              await vscode.window.showQuickPick(
                project.models.map((m) => ({ label: m.name, model: m })),
                { title: 'Model this HEF belongs to' },
              )
            )?.model;
      if (!pick) return undefined;
      model = pick;
    }
    hef ??= modelPaths(model, root).hef;
    if (!fs.existsSync(hef)) throw new Error(`${hef}: no HEF yet; compile ${model.name} first (Hailo: Compile)`);
    const devices = project.devices ?? [];
    if (!devices.length) throw new Error('hailo.json has no devices; add one under "devices" (name, host: the SSH host of the Raspberry Pi, hwArch)');
    let device = model.device ? devices.find((d) => d.name === model!.device) : undefined;
    if (!device)
      device =
        devices.length === 1
          ? devices[0]
          : (
              await vscode.window.showQuickPick(
                devices.map((d) => ({ label: d.name, description: d.host, d })),
                { title: 'Device to run on' },
              )
            )?.d;
    if (!device) return undefined;
    // the DFC version that compiled this model most recently, for the compatibility check
    const { listRuns } = (await loadCore()).remoteRun;
    const compiled = listRuns(this.pipeline.runsDir!).find(
      (r) => r.run?.kind !== 'device' && r.run?.model === model!.name && r.run.steps.some((s) => s.step === 'compile' && s.status === 'succeeded'),
    );
    const dfcVersion = compiled?.run?.toolVersions.dfc;
    return { model, device, hef, ...(dfcVersion ? { dfcVersion } : {}) };
  }

  async deployCommand(arg: unknown): Promise<void> {
    if (!(await requireTrust('Deploying to a device over SSH'))) return;
    const r = await this.resolveDeploy(arg);
    if (!r) return;
    const commit = await gitCommit(this.pipeline.requireProject().root);
    await this.pipeline.withProgress(
      `Hailo: deploy and benchmark ${r.model.name} on ${r.device.name}`,
      (events, signal) =>
        this.pipeline.deploy(
          {
            model: r.model,
            device: r.device,
            hef: r.hef,
            seconds: setting('deviceBenchmarkSeconds'),
            measureRun: setting('deviceMeasureLatencyRun'),
            ...(r.dfcVersion ? { dfcVersion: r.dfcVersion } : {}),
            ...(commit ? { commit } : {}),
          },
          events,
          signal,
        ),
      r.device.host,
    );
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

function html(webview: vscode.Webview, script: vscode.Uri, css: vscode.Uri[]): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${css.map((c) => `<link rel="stylesheet" href="${webview.asWebviewUri(c).toString()}" nonce="${nonce}">`).join('\n')}
<title>Device results</title>
</head>
<body>
<main id="root" aria-live="polite"></main>
<script nonce="${nonce}" src="${webview.asWebviewUri(script).toString()}"></script>
</body>
</html>`;
}

export function registerDevice(services: Services, pipeline: PipelineService): DeviceService {
  const device = new DeviceService(services, pipeline);
  const { context, log } = services;
  context.subscriptions.push(
    device,
    vscode.commands.registerCommand(
      'hailo.deployBenchmark',
      command(log, (arg?: unknown) => device.deployCommand(arg)),
    ),
    vscode.commands.registerCommand(
      'hailo.showDeviceResults',
      command(log, async (arg?: unknown) => {
        const run = (arg as { run?: RunRecord })?.run;
        const model = run
          ? services.project.project?.models.find((m) => m.name === run.model)
          : arg === undefined
            ? device.activeModel()
            : await pipeline.pickModel(arg);
        if (!model) throw new Error('No model to show device results for; add one to hailo.json');
        await device.show(model);
      }),
    ),
  );
  void device.refreshStatus();
  return device;
}
