import * as vscode from 'vscode';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Sweep } from '../core/project/schema';
import type { SweepMessage } from '../core/protocol/sweepResults';
import type { SweepContext, SweepOptions, SweepRecord } from '../core/slurm/sweepRun';
import type { RunRecord } from '../core/remote/run';
import { setting } from './config';
import { pythonFromExtension } from './export';
import type { PipelineService } from './pipeline';
import type { RemoteService } from './remote';
import { command, requireTrust, signalFor, type Services } from './services';
import { PROJECT_FILE_NAME, isCancelled, loadCore } from './core';

/**
 * Hailo: Run Sweep and the sweep results panel. The sweep itself (export and lint of each variant,
 * the job array or the one-by-one runs, the record in .hailo/sweeps/) is the core's `runSweep`;
 * this file picks the sweep, shows progress with cancel and draws the record in a webview.
 */
export class SweepService implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private shown: SweepRecord | undefined;
  /** Fired when the window goes away: sweeps stop being followed, their jobs keep running. */
  private readonly detach = new AbortController();
  /** Sweeps followed in this window (by record id). */
  private readonly following = new Set<string>();

  constructor(
    private readonly services: Services,
    private readonly pipeline: PipelineService,
  ) {}

  private get remote(): RemoteService {
    return this.pipeline.remote;
  }

  private sweepsDir(root: string): string {
    return path.join(root, '.hailo', 'sweeps');
  }

  private async pickSweep(arg: unknown): Promise<Sweep | undefined> {
    const { project } = this.services.project.require();
    const sweeps = project.sweeps ?? [];
    if (!sweeps.length) throw new Error('hailo.json has no sweeps; add one under "sweeps" (name, model, matrix)');
    const name = typeof arg === 'string' ? arg : undefined;
    if (name) {
      const s = sweeps.find((x) => x.name === name);
      if (!s) throw new Error(`No sweep named "${name}" in hailo.json`);
      return s;
    }
    if (sweeps.length === 1) return sweeps[0];
    return (
      await vscode.window.showQuickPick(
        sweeps.map((s) => ({ label: s.name, description: `${s.model}${s.target ? ` on ${s.target}` : ''}`, s })),
        { title: 'Sweep to run' },
      )
    )?.s;
  }

  /** What runSweep / resumeSweep take for a sweep of hailo.json: model, target, device, the export, the fidelity check. */
  private async options(sweep: Sweep, signal: () => AbortSignal | undefined): Promise<{ opts: SweepOptions; root: string }> {
    const { project, root } = this.services.project.require();
    const core = await loadCore();
    const model = core.projectLoad.findModel(project, sweep.model);
    const target = core.remoteDfc.requireTarget(project.targets, sweep.target ?? model.target);
    const device = core.slurmSweepRun.sweepDevice(sweep, project.devices);
    const interpreter = await core.exportInterpreter.resolveEditorInterpreter({
      pythonExtension: () => pythonFromExtension(undefined, this.services.log),
      setting: setting('pythonPath'),
    });
    const dist = path.join(this.services.context.extensionPath, 'dist');
    const driverPath = core.exportRun.findDriver([dist, __dirname]);
    const log = this.services.log;
    const fidelity = core.slurmSweep.sweepFidelityStages(sweep, model)
      ? {
          interpreter,
          chooseHint: core.exportInterpreter.howToChooseInterpreter('editor'),
          driverPath: core.fidelityDriver.findFidelityDriver([dist, __dirname]),
          wasmDir: core.fidelityOnnx.findOrtWasmDir([dist, __dirname]),
          onnxWorker: core.fidelityOnnx.findOnnxWorker([dist, __dirname]),
        }
      : undefined;
    return {
      root,
      opts: {
        projectRoot: root,
        projectFile: path.join(root, PROJECT_FILE_NAME),
        sweep,
        model,
        target,
        ...(device ? { device } : {}),
        ...(fidelity ? { fidelity } : {}),
        exportVariant: async (spec) => {
          await core.exportRun.runExport({
            interpreter,
            driverPath,
            spec,
            chooseHint: core.exportInterpreter.howToChooseInterpreter('editor'),
            signal: signal(),
            log,
          });
        },
      },
    };
  }

  /**
   * Follow a sweep under a cancellable notification: the panel opens with the first record and
   * fills in as the variants run. Variant runs and device runs left by an earlier window are
   * reattached through the pipeline service (or waited for when it already follows them).
   */
  private async follow(title: string, sweep: Sweep, fn: (ctx: SweepContext, opts: SweepOptions) => Promise<SweepRecord>, id?: string): Promise<void> {
    let signal: AbortSignal | undefined;
    const { opts, root } = await this.options(sweep, () => signal);
    const host = await this.remote.hostFor(opts.target);
    const deviceHost = opts.device ? await this.remote.host(opts.device.host) : undefined;
    const log = this.services.log;
    let opened = false;
    let recId = id;
    if (recId) this.following.add(recId);
    try {
      const rec = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        const s = signalFor(token);
        signal = s.signal;
        try {
          return await fn(
            {
              host,
              ...(deviceHost ? { deviceHost } : {}),
              sweepsDir: this.sweepsDir(root),
              runsDir: path.join(root, '.hailo', 'runs'),
              log,
              signal: s.signal,
              detach: this.detach.signal,
              onProgress: (m) => progress.report({ message: m }),
              onUpdate: (r) => {
                if (!recId) this.following.add((recId = r.id));
                void this.show(r, !opened);
                opened = true;
              },
              runEvents: {
                onStepStarted: (run, step) => log.info(`── ${step.step} of ${run.model} on ${run.target.host} (sweep ${sweep.name}) ──`),
              },
              followRun: (runId) => this.followRun(runId, s.signal),
            },
            opts,
          );
        } finally {
          s.dispose();
        }
      });
      const ok = rec.results.filter((r) => r.steps.compile === 'succeeded').length;
      const msg = `Sweep ${sweep.name}: ${ok} of ${rec.results.length} variants compiled.`;
      log.info(msg);
      void vscode.window.showInformationMessage(msg, 'Show Results').then((p) => p && this.show(rec, true));
    } catch (e) {
      if (isCancelled(e)) {
        log.info(this.detach.signal.aborted ? `Sweep ${sweep.name}: left running for the next window` : `Sweep ${sweep.name} cancelled`);
        return;
      }
      throw e;
    } finally {
      if (recId) this.following.delete(recId);
    }
  }

  /** A recorded run to its end: reattached here, or waited for when the pipeline service follows it already. */
  private async followRun(id: string, signal: AbortSignal): Promise<RunRecord> {
    const core = await loadCore();
    const file = path.join(this.pipeline.runsDir!, id, 'run.json');
    if (!this.pipeline.isActive(id)) {
      try {
        return await this.pipeline.resume(id, {}, signal);
      } catch (e) {
        if (!this.pipeline.isActive(id)) throw e;
      }
    }
    for (;;) {
      const run = core.remoteRun.readRun(file);
      if (run.status !== 'running' && run.status !== 'detached') return run;
      if (this.detach.signal.aborted || signal.aborted) throw new core.errors.HailoError('CANCELLED', `Stopped waiting for run ${id}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async run(arg: unknown): Promise<void> {
    if (!(await requireTrust('Running a sweep (exports run Python, steps run over SSH)'))) return;
    const sweep = await this.pickSweep(arg);
    if (!sweep) return;
    const core = await loadCore();
    await this.follow(`Hailo sweep ${sweep.name}`, sweep, (ctx, opts) => core.slurmSweepRun.runSweep(ctx, opts));
  }

  /**
   * Pick up every sweep the previous window left running (its record in .hailo/sweeps/ says
   * `running`): the job array is followed again by its id, SSH variant runs are reattached, the
   * panel shows the record and fills in.
   */
  async resumeAll(): Promise<void> {
    const root = this.services.project.root;
    const project = this.services.project.project;
    if (!root || !project || !vscode.workspace.isTrusted) return;
    const core = await loadCore();
    for (const rec of core.slurmSweepRun.listSweeps(this.sweepsDir(root))) {
      if (rec.status !== 'running' || this.following.has(rec.id)) continue;
      const sweep = project.sweeps?.find((x) => x.name === rec.name);
      if (!sweep) {
        this.services.log.warn(`Sweep ${rec.name} (${rec.id}) was left running but hailo.json has no sweep of that name any more; not picked up`);
        continue;
      }
      this.services.log.info(`Picking up sweep ${rec.name} (${rec.id})${rec.jobId ? `: Slurm job array ${rec.jobId}` : ''}`);
      void this.follow(`Hailo sweep ${rec.name} (picked up again)`, sweep, (ctx, opts) => core.slurmSweepRun.resumeSweep(ctx, opts, rec), rec.id).catch((e) =>
        this.services.log.error(e instanceof Error ? e : String(e)),
      );
    }
  }

  /** The latest record of a sweep (or a picked one) in the panel. */
  async showLatest(arg: unknown): Promise<void> {
    const { root } = this.services.project.require();
    const { listSweeps } = (await loadCore()).slurmSweepRun;
    const all = listSweeps(this.sweepsDir(root));
    const name = typeof arg === 'string' ? arg : undefined;
    const pick = name
      ? all.find((r) => r.name === name)
      : all.length <= 1
        ? all[0]
        : (
            await vscode.window.showQuickPick(
              all.map((r) => ({ label: r.name, description: `${r.status} · ${r.createdAt}`, detail: r.id, r })),
              { title: 'Sweep results' },
            )
          )?.r;
    if (!pick) {
      if (!all.length) throw new Error('No sweep has run yet: Hailo: Run Sweep');
      return;
    }
    await this.show(pick, true);
  }

  private async message(rec: SweepRecord): Promise<SweepMessage> {
    const core = await loadCore();
    const rows = core.slurmSweep.sweepRows(core.slurmSweepRun.variantResults(rec), rec.latencyBudgetMs);
    return {
      type: 'sweep',
      id: rec.id,
      name: rec.name,
      model: rec.model,
      target: rec.target.name,
      status: rec.status,
      ...(rec.jobId ? { jobId: rec.jobId } : {}),
      ...(rec.latencyBudgetMs !== undefined ? { budgetMs: rec.latencyBudgetMs } : {}),
      columns: core.slurmSweep.SWEEP_COLUMNS,
      rows,
    };
  }

  /** Draw a record; `reveal` opens the panel, otherwise only an open panel showing this sweep is updated. */
  async show(rec: SweepRecord, reveal: boolean): Promise<void> {
    if (!reveal && (!this.panel || (this.shown && this.shown.id !== rec.id))) return;
    this.shown = rec;
    if (!this.panel) {
      const ext = this.services.context.extensionUri;
      const dist = vscode.Uri.joinPath(ext, 'dist');
      this.attach(
        vscode.window.createWebviewPanel('hailo.sweepResults', `Sweep: ${rec.name}`, vscode.ViewColumn.Active, {
          enableScripts: true,
          localResourceRoots: [vscode.Uri.joinPath(dist, 'webview'), vscode.Uri.joinPath(ext, 'media')],
        }),
      );
      return;
    }
    this.panel.title = `Sweep: ${rec.name}`;
    if (reveal) this.panel.reveal();
    await this.panel.webview.postMessage(await this.message(rec));
  }

  /** Take a panel (new or restored): its page, its messages; it asks for the record with "ready". */
  private attach(panel: vscode.WebviewPanel): void {
    const ext = this.services.context.extensionUri;
    const dist = vscode.Uri.joinPath(ext, 'dist');
    this.panel = panel;
    panel.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(dist, 'webview'), vscode.Uri.joinPath(ext, 'media')] };
    panel.webview.html = html(panel.webview, vscode.Uri.joinPath(dist, 'webview', 'sweepResults.js'), vscode.Uri.joinPath(ext, 'media', 'sweepResults.css'));
    panel.onDidDispose(() => {
      this.panel = undefined;
      this.shown = undefined;
    });
    panel.webview.onDidReceiveMessage((data: unknown) => void this.onMessage(data).catch((e) => this.services.log.error(e instanceof Error ? e : String(e))));
  }

  private async onMessage(data: unknown): Promise<void> {
    const core = await loadCore();
    const msg = core.envelope.parseMessage(core.sweepResultsProtocol.WebviewMessage, data);
    const rec = this.shown;
    if (!msg || !rec || !this.panel) return;
    if (msg.type === 'ready') await this.panel.webview.postMessage(await this.message(rec));
    else if (msg.type === 'exportCsv') {
      const { root } = this.services.project.require();
      const uri = await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(path.join(root, `sweep-${rec.name}.csv`)), filters: { CSV: ['csv'] } });
      if (!uri) return;
      const csv = core.slurmSweep.sweepCsv(core.slurmSweep.sweepRows(core.slurmSweepRun.variantResults(rec), rec.latencyBudgetMs));
      await vscode.workspace.fs.writeFile(uri, Buffer.from(csv, 'utf8'));
      this.services.log.info(`Sweep ${rec.name}: table written to ${uri.fsPath}`);
    } else if (msg.type === 'openLog') {
      const { root } = this.services.project.require();
      const r = rec.results.find((x) => x.variant.id === msg.variantId);
      if (!r) return;
      const file = r.runId ? path.join(root, '.hailo', 'runs', r.runId, 'run.json') : path.join(this.sweepsDir(root), rec.id, msg.variantId, 'dfc.log');
      if (fs.existsSync(file)) await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
      else
        void vscode.window.showInformationMessage(
          `${r.variant.label || r.variant.id}: no DFC log (${r.firstError ?? 'the variant did not run on the target'}).`,
        );
    }
  }

  /** A sweep panel VS Code restores after a reload: the same record, redrawn as it fills in. */
  async restorePanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const root = this.services.project.root;
    const id =
      state && typeof state === 'object' && typeof (state as { sweepId?: unknown }).sweepId === 'string' ? (state as { sweepId: string }).sweepId : undefined;
    const core = await loadCore();
    let rec: SweepRecord | undefined;
    try {
      rec =
        root && id ? core.slurmSweepRun.readSweep(path.join(core.slurmSweepRun.sweepDir(this.sweepsDir(root), id), core.slurmSweepRun.SWEEP_FILE)) : undefined;
    } catch (e) {
      this.services.log.warn(`Sweep panel not restored: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!rec || this.panel) {
      panel.dispose();
      return;
    }
    this.attach(panel);
    this.shown = rec;
  }

  dispose(): void {
    // leave the sweeps' jobs running: the next window picks them up
    this.detach.abort();
    this.panel?.dispose();
  }
}

function html(webview: vscode.Webview, script: vscode.Uri, css: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const csp = ["default-src 'none'", `style-src ${webview.cspSource} 'nonce-${nonce}'`, `font-src ${webview.cspSource}`, `script-src 'nonce-${nonce}'`].join(
    '; ',
  );
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${webview.asWebviewUri(css).toString()}" nonce="${nonce}">
<title>Sweep results</title>
</head>
<body>
<main id="root" aria-live="polite"></main>
<script nonce="${nonce}" src="${webview.asWebviewUri(script).toString()}"></script>
</body>
</html>`;
}

export function registerSweep(services: Services, pipeline: PipelineService): SweepService {
  const sweep = new SweepService(services, pipeline);
  services.sweeps = sweep;
  const { context, log } = services;
  context.subscriptions.push(
    sweep,
    vscode.window.registerWebviewPanelSerializer('hailo.sweepResults', { deserializeWebviewPanel: (panel, state) => sweep.restorePanel(panel, state) }),
    vscode.commands.registerCommand(
      'hailo.runSweep',
      command(log, (arg?: unknown) => sweep.run(arg)),
    ),
    vscode.commands.registerCommand(
      'hailo.showSweepResults',
      command(log, (arg?: unknown) => sweep.showLatest(arg)),
    ),
  );
  // pick up the sweeps the previous window left running, once the project is known
  let resumed = false;
  const tryResume = () => {
    if (resumed || !services.project.root || !services.project.project) return;
    resumed = true;
    void sweep.resumeAll().catch((e) => log.error(e instanceof Error ? e : String(e)));
  };
  context.subscriptions.push(
    services.project.onDidChange(tryResume),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      resumed = false;
      tryResume();
    }),
  );
  tryResume();
  return sweep;
}
