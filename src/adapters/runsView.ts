import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ListedRun, RunRecord, RunStep } from '../core/remote/run';
import type { RunFacts } from '../core/remote/runCompare';
import { fmtGB, type PipelineService } from './pipeline';
import { command, requireTrust, type Services } from './services';
import { loadCore } from './core';
import { NO_PROJECT_MESSAGE } from './project';

const STATUS_ICON: Record<string, [string, string?]> = {
  running: ['sync~spin'],
  detached: ['debug-disconnect', 'problemsWarningIcon.foreground'],
  succeeded: ['pass', 'testing.iconPassed'],
  failed: ['error', 'problemsErrorIcon.foreground'],
  'memory-limit': ['error', 'problemsErrorIcon.foreground'],
  cancelled: ['circle-slash'],
  pending: ['circle-outline'],
  skipped: ['circle-outline'],
};

function icon(status: string): vscode.ThemeIcon {
  const [id, color] = STATUS_ICON[status] ?? ['question'];
  return new vscode.ThemeIcon(id, color ? new vscode.ThemeColor(color) : undefined);
}

class RunItem extends vscode.TreeItem {
  constructor(
    readonly dir: string,
    readonly run: RunRecord | undefined,
    error: string | undefined,
    following: boolean,
  ) {
    super(
      run ? `${run.model} · ${run.steps.map((s) => s.step).join(' → ')}` : path.basename(dir),
      run ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None,
    );
    this.id = `run:${dir}`;
    if (!run) {
      this.description = 'unreadable run.json';
      this.tooltip = error;
      this.iconPath = new vscode.ThemeIcon('warning');
      this.contextValue = 'hailo.run.invalid';
      return;
    }
    const when = new Date(run.createdAt);
    this.description = `${run.status}${following ? ' (following)' : ''} · ${run.kind === 'device' ? 'device ' : run.kind === 'fidelity' ? 'fidelity on ' : ''}${run.target.name} · ${when.toLocaleString()}`;
    this.iconPath = icon(run.status);
    this.contextValue = run.status === 'running' || run.status === 'detached' ? (following ? 'hailo.run.following' : 'hailo.run.active') : 'hailo.run';
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${run.id}**  \n${run.model} (${run.netName}, ${run.hwArch}) on \`${run.target.host}\`  \n`);
    if (run.toolVersions.dfc) md.appendMarkdown(`DFC ${run.toolVersions.dfc}${run.toolVersions.hailort ? `, HailoRT ${run.toolVersions.hailort}` : ''}  \n`);
    if (run.device)
      md.appendMarkdown(
        `Device ${run.device.name}: ${[run.device.architecture, run.device.firmware ? `firmware ${run.device.firmware}` : '', run.device.hailort ? `HailoRT ${run.device.hailort}` : '', run.device.pcie ? `PCIe ${run.device.pcie}` : ''].filter(Boolean).join(', ')}  \n`,
      );
    if (run.commit) md.appendMarkdown(`Commit \`${run.commit}\`  \n`);
    md.appendMarkdown(`Sent ${(run.bytesSent / 1e6).toFixed(1)} MB (${run.inputs.filter((i) => !i.sent).length} of ${run.inputs.length} inputs were cached)`);
    this.tooltip = md;
  }
}

class StepItem extends vscode.TreeItem {
  constructor(
    readonly runItem: RunItem,
    readonly step: RunStep,
    /** What the step produced (contexts, utilisation, SNR, rewrites by kind), in a few words. */
    produced?: string,
  ) {
    super(step.step, vscode.TreeItemCollapsibleState.None);
    this.id = `step:${runItem.dir}:${step.step}`;
    const bits: string[] = [step.status];
    if (step.durationMs !== undefined) bits.push(`${(step.durationMs / 1000).toFixed(1)} s`);
    if (step.exitCode !== undefined) bits.push(`exit ${step.exitCode}`);
    if (step.peakRssKB && runItem.run?.kind !== 'device') bits.push(`peak ${fmtGB(step.peakRssKB)}`);
    const figures = figuresText(step);
    if (figures) bits.push(figures);
    if (produced) bits.push(produced);
    const job = slurmText(step);
    if (job) bits.splice(step.status === 'running' ? 0 : 1, step.status === 'running' ? 1 : 0, job);
    this.description = bits.join(' · ');
    this.iconPath = step.status === 'running' && step.slurm?.phase === 'queued' ? new vscode.ThemeIcon('watch') : icon(step.status);
    const verdict =
      step.slurm?.verdict && !step.slurm.verdict.ok
        ? `Slurm: ${step.slurm.verdict.title}. ${step.slurm.verdict.detail}${step.slurm.verdict.change ? `\n${step.slurm.verdict.change}` : ''}`
        : undefined;
    this.tooltip = [
      produced,
      step.command.join(' '),
      step.slurm ? `Slurm job ${step.slurm.jobId}${step.slurm.state ? ` (${step.slurm.state})` : ''}` : undefined,
      step.error?.message,
      step.error?.message.includes(step.slurm?.verdict?.title ?? '\0') ? undefined : verdict,
    ]
      .filter(Boolean)
      .join('\n\n');
    this.contextValue = 'hailo.runStep';
    if (step.log) this.command = { command: 'hailo.openRunLog', title: 'Open Log', arguments: [this] };
  }
}

/** A Slurm step: `queued (Priority)`, `running on node1 · 3:04`, `completing`; `job 12` once finished. */
function slurmText(step: RunStep): string | undefined {
  const j = step.slurm;
  if (!j) return undefined;
  if (step.status !== 'running') return `job ${j.jobId}`;
  const el =
    j.elapsedSeconds !== undefined
      ? `${Math.floor(j.elapsedSeconds / 3600) ? `${Math.floor(j.elapsedSeconds / 3600)}:` : ''}${String(Math.floor((j.elapsedSeconds % 3600) / 60)).padStart(Math.floor(j.elapsedSeconds / 3600) ? 2 : 1, '0')}:${String(Math.floor(j.elapsedSeconds % 60)).padStart(2, '0')}`
      : undefined;
  const phase = j.phase ?? 'submitted';
  return [
    `job ${j.jobId} ${phase}${phase === 'queued' && j.reason ? ` (${j.reason})` : ''}${j.nodes && phase !== 'queued' ? ` on ${j.nodes}` : ''}`,
    phase !== 'queued' ? el : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
}

/** A device step's figures in a few words: `309.4 FPS · 6.66 ms` (a figure not measured is said so, never 0). */
function figuresText(step: RunStep): string | undefined {
  const fid = (
    step.summary as { figures?: { reference: string; cosine: number | null; snrDb: number | null; damaged: { from: number; to: number }[] } } | undefined
  )?.figures;
  if (fid) {
    const snr = fid.snrDb === null ? 'exact' : `SNR ${fid.snrDb.toFixed(1)} dB`;
    const dmg = fid.damaged.length ? ` · steps ${fid.damaged.map((d) => `${d.from}–${d.to}`).join(', ')} diverge` : '';
    return `vs ${fid.reference}: cosine ${fid.cosine === null ? '–' : fid.cosine.toFixed(5)} · ${snr}${dmg}`;
  }
  const f = step.summary as
    | { fpsStreaming?: { value?: number; notMeasured?: string }; hwLatencyMs?: { value?: number; notMeasured?: string }; overallLatencyMs?: { value?: number } }
    | undefined;
  if (!f || !f.fpsStreaming || !['benchmark', 'run', 'run2'].includes(step.step)) return undefined;
  const fps = f.fpsStreaming.value !== undefined ? `${f.fpsStreaming.value.toFixed(1)} FPS` : 'FPS not measured';
  const lat =
    f.hwLatencyMs?.value !== undefined
      ? `${f.hwLatencyMs.value.toFixed(2)} ms`
      : f.overallLatencyMs?.value !== undefined
        ? `${f.overallLatencyMs.value.toFixed(2)} ms overall`
        : 'latency not measured';
  return `${fps} · ${lat}`;
}

type Node = RunItem | StepItem;

/** The Runs view: `.hailo/runs/*` newest first, each with its steps. */
export class RunsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly pipeline: PipelineService) {}

  /** Debounced: run.json changes often while a step runs. */
  refresh(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.emitter.fire();
    }, 300);
  }

  getTreeItem(e: Node): vscode.TreeItem {
    return e;
  }

  async getChildren(e?: Node): Promise<Node[]> {
    if (e instanceof StepItem) return [];
    if (e instanceof RunItem) {
      const { readRunRewrites, stepFacts, stepFactsText } = (await loadCore()).runCompare;
      const rewrites = readRunRewrites(e.dir);
      return (e.run?.steps ?? []).map((s) => new StepItem(e, s, stepFactsText(stepFacts(s, rewrites))));
    }
    const dir = this.pipeline.runsDir;
    if (!dir) return [];
    const { listRuns } = (await loadCore()).remoteRun;
    return listRuns(dir).map((r: ListedRun) => new RunItem(r.dir, r.run, r.error, r.run ? this.pipeline.isActive(r.run.id) : false));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.emitter.dispose();
  }
}

async function pickRun(pipeline: PipelineService, arg: unknown, title: string, filter: (r: RunRecord) => boolean = () => true): Promise<RunRecord | undefined> {
  if (arg instanceof RunItem && arg.run) return arg.run;
  if (arg instanceof StepItem) return arg.runItem.run;
  const dir = pipeline.runsDir;
  if (!dir) throw new Error(NO_PROJECT_MESSAGE);
  const { listRuns, readRun, runDir } = (await loadCore()).remoteRun;
  if (typeof arg === 'string') return readRun(path.join(runDir(dir, arg), 'run.json'));
  const runs = listRuns(dir).flatMap((r) => (r.run && filter(r.run) ? [r.run] : []));
  if (!runs.length) throw new Error('No matching runs under .hailo/runs');
  const pick = await vscode.window.showQuickPick(
    runs.map((r) => ({ label: `${r.model} · ${r.steps.map((s) => s.step).join(' → ')}`, description: `${r.status} · ${r.target.name}`, detail: r.id, run: r })),
    { title },
  );
  return pick?.run;
}

export function registerRunsView(services: Services, pipeline: PipelineService): RunsView {
  const view = new RunsView(pipeline);
  const { context, log } = services;
  const runFile = (r: RunRecord) => vscode.Uri.file(path.join(pipeline.runsDir!, r.id, 'run.json'));
  // run.json, and rewrites.json (the ledger's counts, written after a step's ledger)
  const watcher = vscode.workspace.createFileSystemWatcher('**/.hailo/runs/*/{run,rewrites}.json');
  context.subscriptions.push(
    view,
    watcher,
    watcher.onDidCreate(() => view.refresh()),
    watcher.onDidChange(() => view.refresh()),
    watcher.onDidDelete(() => view.refresh()),
    pipeline.onDidChangeRuns(() => view.refresh()),
    services.project.onDidChange(() => view.refresh()),
    vscode.window.createTreeView('hailo.runs', { treeDataProvider: view, canSelectMany: true }),
    vscode.commands.registerCommand('hailo.refreshRuns', () => view.refresh()),
    vscode.commands.registerCommand(
      'hailo.openRun',
      command(log, async (arg?: unknown) => {
        const r = await pickRun(pipeline, arg, 'Open Run');
        if (r) await vscode.window.showTextDocument(runFile(r), { preview: true });
      }),
    ),
    vscode.commands.registerCommand(
      'hailo.revealRun',
      command(log, async (arg?: unknown) => {
        const r = await pickRun(pipeline, arg, 'Reveal Run Folder');
        if (r) await vscode.commands.executeCommand('revealFileInOS', runFile(r));
      }),
    ),
    vscode.commands.registerCommand(
      'hailo.openRunLog',
      command(log, async (arg?: unknown) => {
        let run: RunRecord | undefined;
        let step: RunStep | undefined;
        if (arg instanceof StepItem) {
          run = arg.runItem.run;
          step = arg.step;
        } else {
          run = await pickRun(pipeline, arg, 'Open Run Log');
          if (!run) return;
          const withLog = run.steps.filter((s) => s.log);
          step =
            withLog.length === 1
              ? withLog[0]
              : (
                  await vscode.window.showQuickPick(
                    withLog.map((s) => ({ label: s.step, description: s.status, s })),
                    { title: 'Log of step' },
                  )
                )?.s;
        }
        if (!run || !step?.log) return;
        const file = path.join(pipeline.runsDir!, run.id, step.log);
        if (!fs.existsSync(file)) throw new Error(`${file}: no log yet`);
        await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
      }),
    ),
    vscode.commands.registerCommand(
      'hailo.compareRuns',
      command(log, async (arg?: unknown, others?: unknown[]) => {
        // two runs selected in the view arrive as (clicked, [all selected]); from a command link or a test, as two run ids
        const selected = Array.isArray(others) ? others.filter((o): o is RunItem | string => (o instanceof RunItem && !!o.run) || typeof o === 'string') : [];
        let a: RunRecord | undefined;
        let b: RunRecord | undefined;
        if (selected.length === 2) [a, b] = await Promise.all(selected.map((o) => pickRun(pipeline, o, 'Compare Runs')));
        else {
          a = await pickRun(pipeline, arg, 'Compare Runs: first run');
          if (!a) return;
          const first = a;
          b = await pickRun(pipeline, undefined, `Compare ${a.id} with…`, (r) => r.id !== first.id);
        }
        if (!a || !b) return;
        const [older, newer] = a.createdAt <= b.createdAt ? [a, b] : [b, a];
        const { runFacts, readRunRewrites, fidelityOfRun, comparisonMarkdown } = (await loadCore()).runCompare;
        const { readFidelityRecord } = (await loadCore()).fidelityRecord;
        const root = services.project.root;
        const facts = (r: RunRecord): RunFacts => {
          const rewrites = readRunRewrites(path.join(pipeline.runsDir!, r.id));
          const fidelity = root ? fidelityOfRun([pipeline.runsDir!, path.join(root, '.hailo', 'fidelity')], r.id, readFidelityRecord) : undefined;
          return runFacts(r, { ...(rewrites ? { rewrites } : {}), ...(fidelity ? { fidelity } : {}) });
        };
        const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: comparisonMarkdown(facts(older), facts(newer)) });
        await vscode.commands.executeCommand('markdown.showPreview', doc.uri);
      }),
    ),
    vscode.commands.registerCommand(
      'hailo.rerun',
      command(log, async (arg?: unknown) => {
        const r = await pickRun(pipeline, arg, 'Re-run');
        if (!r) return;
        if (r.kind === 'device') {
          await vscode.commands.executeCommand('hailo.deployBenchmark', r.model);
          return;
        }
        await pipeline.runCommand(
          r.steps.flatMap((s) => (s.step === 'parse' || s.step === 'optimize' || s.step === 'compile' ? [s.step] : [])),
          r.model,
        );
      }),
    ),
    vscode.commands.registerCommand(
      'hailo.reattachRun',
      command(log, async (arg?: unknown) => {
        if (!(await requireTrust('Reattaching to a remote run'))) return;
        const r = await pickRun(pipeline, arg, 'Reattach to Run', (x) => x.status === 'running' || x.status === 'detached');
        if (!r) return;
        await pipeline.withProgress(
          `Hailo: reattached to ${r.model} on ${r.target.name}`,
          (events, signal) => pipeline.resume(r.id, events, signal),
          r.target.host,
        );
      }),
    ),
    vscode.commands.registerCommand(
      'hailo.cancelRun',
      command(log, async (arg?: unknown) => {
        const r = await pickRun(pipeline, arg, 'Cancel Run', (x) => x.status === 'running' || x.status === 'detached');
        if (!r) return;
        if (pipeline.cancel(r.id)) return;
        // not followed here: stop the remote process group directly
        if (!(await requireTrust('Cancelling a remote run'))) return;
        try {
          await pipeline.cancelDetached(r.id, r.target.host);
          void vscode.window.showInformationMessage(`${r.model}: run cancelled; the remote processes were stopped.`);
        } catch (e) {
          if (!(await pipeline.remote.showError(e, r.target.host))) throw e;
        }
      }),
    ),
  );
  return view;
}
