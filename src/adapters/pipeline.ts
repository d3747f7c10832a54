import * as vscode from 'vscode';
import * as path from 'node:path';
import type { Model, Target } from '../core/project/schema';
import type { DfcStepName, RunRecord, RunStep, StepName } from '../core/remote/run';
import type { PipelineContext, PipelineEvents } from '../core/remote/pipeline';
import type { DfcLogSummary } from '../core/hailo/dfcLog';
import { harBeside } from './dfcDiagnostics';
import type { DeployOptions } from '../core/remote/device';
import { setting } from './config';
import type { RemoteService } from './remote';
import { command, requireTrust, signalFor, type Services } from './services';
import { isCancelled, loadCore } from './core';

export interface StepFinished {
  runDir: string;
  step: DfcStepName;
  model: string;
  ok: boolean;
}

/** Per-run hooks for a caller that shows the output itself (a task's terminal). */
export interface RunSink {
  onLine?(step: StepName, text: string): void;
  onStepFinished?(run: RunRecord, step: RunStep, runDir: string): void;
  onMessage?(text: string): void;
}

const ACTIVE_KEY = 'hailo.activeRuns';

/**
 * Runs the DFC steps on a target through the core pipeline: progress with cancel, the remote log
 * streamed to the output channel, reattach after a reload (active runs are remembered in
 * workspaceState and run.json), and an event when a step finishes.
 */
export class PipelineService implements vscode.Disposable {
  private readonly finished = new vscode.EventEmitter<StepFinished>();
  readonly onDidFinishStep = this.finished.event;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Runs list changed (a run started, a step finished). */
  readonly onDidChangeRuns = this.changed.event;
  private readonly active = new Map<string, { cancel: AbortController; detach: AbortController }>();
  private readonly deviceRunEnded = new vscode.EventEmitter<RunRecord>();
  /** A device run (deploy and benchmark) ended, followed in this window. */
  readonly onDidEndDeviceRun = this.deviceRunEnded.event;
  private readonly fidelityRunEnded = new vscode.EventEmitter<RunRecord>();
  /** A fidelity run that was reattached (after a reload or from the Runs view) ended: its check is compared by the fidelity feature. */
  readonly onDidEndFidelityRun = this.fidelityRunEnded.event;

  constructor(
    private readonly services: Services,
    readonly remote: RemoteService,
  ) {}

  get runsDir(): string | undefined {
    const root = this.services.project.root;
    return root ? path.join(root, '.hailo', 'runs') : undefined;
  }

  isActive(id: string): boolean {
    return this.active.has(id);
  }

  cancel(id: string): boolean {
    const a = this.active.get(id);
    if (!a) return false;
    a.cancel.abort();
    return true;
  }

  /** Stop a run nobody in this window follows: kill its remote process group. */
  async cancelDetached(id: string, host: string): Promise<RunRecord> {
    const { cancelDetachedRun } = (await loadCore()).remotePipeline;
    const run = await cancelDetachedRun({ host: await this.remote.host(host), runsDir: this.runsDir!, log: this.services.log }, id);
    const ids = this.services.context.workspaceState.get<string[]>(ACTIVE_KEY, []).filter((x) => x !== id);
    await this.services.context.workspaceState.update(ACTIVE_KEY, ids);
    this.changed.fire();
    return run;
  }

  requireProject() {
    return this.services.project.require();
  }

  async pickModel(arg: unknown): Promise<Model | undefined> {
    const { project } = this.requireProject();
    const name = typeof arg === 'string' ? arg : ((arg as { model?: Model })?.model?.name ?? (arg as Model | undefined)?.name);
    if (name) {
      const m = project.models.find((x) => x.name === name);
      if (!m) throw new Error(`No model named "${name}" in hailo.json`);
      return m;
    }
    if (!project.models.length) throw new Error('hailo.json has no models');
    if (project.models.length === 1) return project.models[0];
    const pick = await vscode.window.showQuickPick(
      project.models.map((m) => ({ label: m.name, description: m.onnx, model: m })),
      { title: 'Model to run on the compile target' },
    );
    return pick?.model;
  }

  async targetFor(model: Model): Promise<Target> {
    const { project } = this.requireProject();
    const { requireTarget } = (await loadCore()).remoteDfc;
    return requireTarget(project.targets, model.target);
  }

  /** A command: pick the model, run `steps` under a progress notification. */
  async runCommand(steps: DfcStepName[], arg: unknown): Promise<void> {
    if (!(await requireTrust('Running the Dataflow Compiler on a remote target'))) return;
    const model = await this.pickModel(arg);
    if (!model) return;
    const target = await this.targetFor(model);
    await this.withProgress(
      `Hailo ${steps.length > 1 ? 'pipeline' : steps[0]}: ${model.name} on ${target.name}`,
      (events, signal) => this.start(model, target, steps, events, signal),
      target.host,
    );
  }

  /** Start a run (no UI): used by the commands and by tasks. */
  async start(model: Model, target: Target, steps: DfcStepName[], events: PipelineEvents & RunSink, signal?: AbortSignal): Promise<RunRecord> {
    const { root } = this.requireProject();
    const host = await this.remote.hostFor(target);
    const { startRun } = (await loadCore()).remotePipeline;
    const { ctx, done } = this.trackedContext(host, events, signal);
    return startRun(ctx, { projectRoot: root, model, target, steps }).finally(done);
  }

  /** Deploy a HEF to a device and benchmark it there (no UI): a device run in the Runs view. */
  async deploy(opts: DeployOptions, events: PipelineEvents & RunSink, signal?: AbortSignal): Promise<RunRecord> {
    const host = await this.remote.host(opts.device.host);
    const { startDeploy } = (await loadCore()).remoteDevice;
    const { ctx, done } = this.trackedContext(host, events, signal);
    return startDeploy(ctx, opts).finally(done);
  }

  /**
   * The run engine's context for a run started by another command (the fidelity stages): followed,
   * cancellable, remembered for reattach and shown in the Runs view like a compile or deploy run.
   * Call `done()` when the run has ended.
   */
  async runnerContext(hostName: string, events: PipelineEvents & RunSink, signal?: AbortSignal): Promise<{ ctx: PipelineContext; done: () => void }> {
    return this.trackedContext(await this.remote.host(hostName), events, signal);
  }

  /**
   * A run engine context whose run is followed, cancellable (by `signal` or Cancel Run) and
   * remembered for reattach from its first event; `done()` forgets it.
   */
  private trackedContext(host: PipelineContext['host'], events: PipelineEvents & RunSink, signal?: AbortSignal): { ctx: PipelineContext; done: () => void } {
    const cancel = new AbortController();
    const detach = new AbortController();
    signal?.addEventListener('abort', () => cancel.abort(), { once: true });
    let id: string | undefined;
    const ctx: PipelineContext = {
      host,
      runsDir: this.runsDir!,
      log: this.services.log,
      signal: cancel.signal,
      detach: detach.signal,
      keep: setting('runsKeep'),
      events: this.wrapEvents(events, (run) => {
        if (id) return;
        id = run.id;
        this.track(run.id, cancel, detach);
      }),
    };
    return { ctx, done: () => void (id && this.untrack(id)) };
  }

  /** Reattach to a run that is still going on its target. */
  async resume(id: string, events: PipelineEvents & RunSink = {}, signal?: AbortSignal): Promise<RunRecord> {
    if (this.active.has(id)) throw new Error(`Run ${id} is already being followed`);
    const { project, root } = this.requireProject();
    const { readRun, runDir } = (await loadCore()).remoteRun;
    const run = readRun(path.join(runDir(this.runsDir!, id), 'run.json'));
    const model = project.models.find((m) => m.name === run.model);
    const target = project.targets?.find((t) => t.name === run.target.name);
    const host = await this.remote.host(run.target.host);
    const { resumeRun } = (await loadCore()).remotePipeline;
    const cancel = new AbortController();
    const detach = new AbortController();
    signal?.addEventListener('abort', () => cancel.abort(), { once: true });
    this.track(id, cancel, detach);
    try {
      return await resumeRun(
        { host, runsDir: this.runsDir!, log: this.services.log, signal: cancel.signal, detach: detach.signal, events: this.wrapEvents(events) },
        id,
        { projectRoot: root, ...(model ? { model } : {}), ...(target ? { target } : {}) },
      );
    } finally {
      this.untrack(id);
    }
  }

  /** Reattach, with progress, to every run that was still running when the window went away. */
  async resumeAll(): Promise<void> {
    const dir = this.runsDir;
    if (!dir || !vscode.workspace.isTrusted) return;
    const { listRuns } = (await loadCore()).remoteRun;
    const remembered = new Set(this.services.context.workspaceState.get<string[]>(ACTIVE_KEY, []));
    const runs = listRuns(dir).filter((r) => r.run && (r.run.status === 'running' || (r.run.status === 'detached' && remembered.has(r.run.id))));
    for (const r of runs) {
      const run = r.run!;
      if (this.active.has(run.id)) continue;
      this.services.log.info(`Reattaching to run ${run.id} (${run.model} on ${run.target.host})`);
      void this.withProgress(
        `Hailo: reattached to ${run.model} on ${run.target.name}`,
        (events, signal) => this.resume(run.id, events, signal),
        run.target.host,
      ).catch((e) => this.services.log.error(e instanceof Error ? e : String(e)));
    }
  }

  private wrapEvents(events: PipelineEvents & RunSink, onRun?: (run: RunRecord) => void): PipelineEvents {
    const log = this.services.log;
    return {
      ...events,
      onStepStarted: (run, step) => {
        onRun?.(run);
        this.changed.fire();
        log.info(`── ${step.step} of ${run.model} on ${run.target.host} ──`);
        if (step.step === 'parse-hef' || step.step === 'benchmark' || step.step === 'run' || step.step === 'run2') log.info(step.command.join(' '));
        events.onStepStarted?.(run, step);
      },
      onLine: (step, line) => {
        events.onLine?.(step, line);
      },
      onStepFinished: (run, step, runDir) => {
        this.changed.fire();
        if (step.step === 'parse' || step.step === 'optimize' || step.step === 'compile')
          this.finished.fire({ runDir, step: step.step, model: run.model, ok: step.status === 'succeeded' });
        events.onStepFinished?.(run, step, runDir);
        void this.publishStepDiagnostics(run, step, runDir).catch((e) =>
          log.warn(`Diagnostics for ${step.step} of ${run.model}: ${e instanceof Error ? e.message : String(e)}`),
        );
      },
    };
  }

  /** The step's parsed log as diagnostics: parser errors on the ONNX node and its PyTorch line, script errors on the .alls line. */
  private async publishStepDiagnostics(run: RunRecord, step: RunStep, runDir: string): Promise<void> {
    if (!step.summary) return;
    const project = this.services.project.project;
    const root = this.services.project.root;
    const model = project?.models.find((m) => m.name === run.model);
    const { modelPaths } = (await loadCore()).projectLoad;
    const { loadSourceMap } = (await loadCore()).sourceMap;
    const paths = model && root ? modelPaths(model, root) : undefined;
    const sourceMap = paths ? await loadSourceMap(paths.onnx).catch(() => undefined) : undefined;
    const runFile = vscode.Uri.file(path.join(runDir, step.log ?? `${step.step}.log`));
    const harFile = await harBeside(runFile, (step.summary as DfcLogSummary).netName);
    await this.services.dfcDiagnostics?.publish(step.summary as DfcLogSummary, {
      ...(paths ? { onnxFile: vscode.Uri.file(paths.onnx) } : {}),
      ...(paths?.modelScript ? { allsFile: vscode.Uri.file(paths.modelScript) } : {}),
      runFile,
      ...(harFile ? { harFile } : {}),
      ...(sourceMap ? { sourceMap } : {}),
      modelName: run.model,
    });
  }

  private track(id: string, cancel: AbortController, detach: AbortController): void {
    this.active.set(id, { cancel, detach });
    const ids = new Set(this.services.context.workspaceState.get<string[]>(ACTIVE_KEY, []));
    ids.add(id);
    void this.services.context.workspaceState.update(ACTIVE_KEY, [...ids]);
    this.changed.fire();
  }

  private untrack(id: string): void {
    const a = this.active.get(id);
    this.active.delete(id);
    // a detached run stays remembered so the next window reattaches
    if (!a?.detach.signal.aborted) {
      const ids = this.services.context.workspaceState.get<string[]>(ACTIVE_KEY, []).filter((x) => x !== id);
      void this.services.context.workspaceState.update(ACTIVE_KEY, ids);
    }
    this.changed.fire();
  }

  /** Run under a cancellable notification showing the current line and live/peak memory. */
  async withProgress(
    title: string,
    fn: (events: PipelineEvents & RunSink, signal: AbortSignal) => Promise<RunRecord>,
    host: string,
  ): Promise<RunRecord | undefined> {
    const log = this.services.log;
    const { displayLine } = (await loadCore()).remoteLogLines;
    try {
      const run = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (progress, token) => {
        const cancel = signalFor(token);
        let step = '';
        let mem = '';
        let last = '';
        let lastReport = 0;
        let stepsDone = 0;
        let stepsTotal = 1;
        const report = (force = false, increment?: number) => {
          if (!force && Date.now() - lastReport < 250) return;
          lastReport = Date.now();
          progress.report({ message: [step, mem, last].filter(Boolean).join(' · ').slice(0, 200), ...(increment ? { increment } : {}) });
        };
        return fn(
          {
            onProgress: (m) => {
              last = m;
              report(true);
            },
            onStepStarted: (run, s) => {
              stepsTotal = run.steps.length;
              step = s.step;
              report(true);
            },
            onLine: (s, line) => {
              const text = displayLine(line);
              log.append(`${text}\n`);
              if (text.trim()) last = text.trim().replace(/^\[(info|warning|error)\]\s*/, '');
              report();
            },
            onPartialLine: (_s, text) => {
              const shown = displayLine(text).trim();
              if (shown) last = shown;
              report();
            },
            onMemory: (_s, rss, peak, avail) => {
              mem = `${fmtGB(rss)} (peak ${fmtGB(peak)}${avail !== undefined ? `, ${fmtGB(avail)} free` : ''})`;
              report();
            },
            onConnection: (state) => {
              last = state === 'lost' ? 'connection lost, reconnecting… (the step keeps running)' : 'reconnected';
              report(true);
            },
            onStepFinished: (_run, s) => {
              stepsDone++;
              last = `${s.step} ${s.status}`;
              report(true, 100 / Math.max(stepsTotal, stepsDone));
            },
          },
          cancel.signal,
        ).finally(() => cancel.dispose());
      });
      await this.announce(run);
      return run;
    } catch (e) {
      if (isCancelled(e)) {
        log.info('Stopped following the run');
        return undefined;
      }
      if (await this.remote.showError(e, host)) return undefined;
      throw e;
    }
  }

  private async announce(run: RunRecord): Promise<void> {
    const failed = run.steps.find((s) => s.status === 'failed' || s.status === 'memory-limit');
    const dur = run.steps.reduce((a, s) => a + (s.durationMs ?? 0), 0) / 1000;
    if (run.kind === 'device') {
      // the device results (figures, budget, regression) are announced by the device feature
      this.deviceRunEnded.fire(run);
      if (run.status === 'succeeded' || run.status === 'cancelled') return;
    }
    if (run.kind === 'fidelity') this.fidelityRunEnded.fire(run);
    if (run.status === 'succeeded') {
      void vscode.window
        .showInformationMessage(`${run.model}: ${run.steps.map((s) => s.step).join(' → ')} done on ${run.target.name} in ${dur.toFixed(0)} s.`, 'Open Run')
        .then((p) => {
          if (p) void vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(this.runsDir!, run.id, 'run.json')));
        });
    } else if (run.status === 'cancelled') {
      void vscode.window.showInformationMessage(`${run.model}: run cancelled; the remote processes were stopped.`);
    } else if (failed) {
      const msg = failed.error?.message ?? `${failed.step} failed`;
      this.services.log.error(msg);
      void vscode.window.showErrorMessage(msg, 'Open Log', 'Show Output').then(async (pick) => {
        if (pick === 'Open Log' && failed.log) await vscode.window.showTextDocument(vscode.Uri.file(path.join(this.runsDir!, run.id, failed.log)));
        if (pick === 'Show Output') this.services.log.show();
      });
    }
  }

  /** Stop following every run and leave the remote steps running (what closing the window does). */
  detachAll(): void {
    for (const a of this.active.values()) a.detach.abort();
  }

  dispose(): void {
    // leave remote steps running: the next window reattaches to them
    this.detachAll();
    this.finished.dispose();
    this.changed.dispose();
    this.deviceRunEnded.dispose();
    this.fidelityRunEnded.dispose();
  }
}

export function fmtGB(kb: number): string {
  const gb = kb / 1048576;
  return gb >= 1 ? `${gb.toFixed(2)} GB` : `${(kb / 1024).toFixed(0)} MB`;
}

/** The Parse / Optimize / Compile / Run Full Pipeline commands; returns the service for the views. */
export function registerPipeline(services: Services, remote: RemoteService): PipelineService {
  const pipeline = new PipelineService(services, remote);
  services.runs = pipeline;
  const { log, context } = services;
  context.subscriptions.push(
    pipeline,
    vscode.commands.registerCommand(
      'hailo.parse',
      command(log, (arg?: unknown) => pipeline.runCommand(['parse'], arg)),
    ),
    vscode.commands.registerCommand(
      'hailo.optimize',
      command(log, (arg?: unknown) => pipeline.runCommand(['optimize'], arg)),
    ),
    vscode.commands.registerCommand(
      'hailo.compile',
      command(log, (arg?: unknown) => pipeline.runCommand(['compile'], arg)),
    ),
    vscode.commands.registerCommand(
      'hailo.runPipeline',
      command(log, (arg?: unknown) => pipeline.runCommand(['parse', 'optimize', 'compile'], arg)),
    ),
  );
  // reattach to runs left running by the previous window, once the project is known
  let resumed = false;
  const tryResume = () => {
    if (resumed || !services.project.root) return;
    resumed = true;
    void pipeline.resumeAll().catch((e) => log.error(e instanceof Error ? e : String(e)));
  };
  context.subscriptions.push(
    services.project.onDidChange(tryResume),
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      resumed = false;
      tryResume();
    }),
  );
  tryResume();
  return pipeline;
}
