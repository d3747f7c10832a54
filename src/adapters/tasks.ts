import * as vscode from 'vscode';
import * as path from 'node:path';
import type { DfcStepName as StepName } from '../core/remote/run';
import type { PipelineService } from './pipeline';
import type { Services } from './services';
import { isCancelled, loadCore } from './core';

/** `tasks.json`: `{ "type": "hailo", "step": "parse" | "optimize" | "compile" | "pipeline", "model": "enc" }` */
interface HailoTaskDefinition extends vscode.TaskDefinition {
  step: StepName | 'pipeline';
  model: string;
}

const STEP_LIST: (StepName | 'pipeline')[] = ['parse', 'optimize', 'compile', 'pipeline'];

/**
 * A remote step in a terminal: streams the remote log, prints the problems the log parser found
 * in the `$hailo` problem matcher's form, closes with the step's exit code. Closing the terminal
 * cancels the step (the remote process group is stopped).
 */
class StepTerminal implements vscode.Pseudoterminal {
  private readonly write = new vscode.EventEmitter<string>();
  private readonly closed = new vscode.EventEmitter<number>();
  readonly onDidWrite = this.write.event;
  readonly onDidClose = this.closed.event;
  private readonly ac = new AbortController();

  constructor(
    private readonly pipeline: PipelineService,
    private readonly def: HailoTaskDefinition,
  ) {}

  private line(text: string): void {
    this.write.fire(text.replace(/\r?\n/g, '\r\n') + '\r\n');
  }

  open(): void {
    void this.run().then(
      (code) => this.closed.fire(code),
      (e) => {
        const cancelled = isCancelled(e);
        this.line(`hailo: ${cancelled ? 'cancelled' : `error: ${e instanceof Error ? e.message : String(e)}`}`);
        this.closed.fire(cancelled ? 130 : 1);
      },
    );
  }

  private async run(): Promise<number> {
    const model = await this.pipeline.pickModel(this.def.model);
    if (!model) throw new Error(`No model named "${this.def.model}"`);
    if (!vscode.workspace.isTrusted) throw new Error('Remote steps are disabled in Restricted Mode; trust the workspace first');
    const target = await this.pipeline.targetFor(model);
    const steps: StepName[] = this.def.step === 'pipeline' ? ['parse', 'optimize', 'compile'] : [this.def.step];
    const { displayLine } = (await loadCore()).remoteLogLines;
    const { problemLines } = (await loadCore()).remoteProblems;
    const { loadSourceMap } = (await loadCore()).sourceMap;
    const { modelPaths } = (await loadCore()).projectLoad;
    const root = this.pipeline.requireProject().root;
    const paths = modelPaths(model, root);
    const sourceMap = await loadSourceMap(paths.onnx).catch(() => undefined);
    this.line(`hailo: ${steps.join(' → ')} of ${model.name} on ${target.name} (${target.host})`);
    const run = await this.pipeline.start(
      model,
      target,
      steps,
      {
        onProgress: (m) => this.line(`hailo: ${m}`),
        onLine: (_s, l) => this.line(displayLine(l)),
        onConnection: (state) => this.line(state === 'lost' ? 'hailo: connection lost, reconnecting (the step keeps running)' : 'hailo: reconnected'),
        onStepFinished: (_run, step, runDir) => {
          this.line(`hailo: ${step.step} ${step.status}${step.exitCode !== undefined ? ` (exit ${step.exitCode})` : ''}`);
          const summary = step.summary as Parameters<typeof problemLines>[0] | undefined;
          if (summary && Array.isArray(summary.errors)) {
            for (const p of problemLines(summary, {
              logFile: path.join(runDir, step.log ?? `${step.step}.log`),
              onnx: paths.onnx,
              ...(paths.modelScript ? { modelScript: paths.modelScript } : {}),
              ...(sourceMap ? { sourceMap } : {}),
            }))
              this.line(p);
          }
          if (step.status !== 'succeeded' && step.error) this.line(`hailo: error: ${step.error.message}`);
        },
      },
      this.ac.signal,
    );
    return run.status === 'succeeded' ? 0 : run.status === 'cancelled' ? 130 : 1;
  }

  /** The terminal was closed or the task terminated: stop the remote step. */
  close(): void {
    this.ac.abort();
  }
}

export function registerTasks(services: Services, pipeline: PipelineService): void {
  const make = (def: HailoTaskDefinition, scope: vscode.WorkspaceFolder | vscode.TaskScope) => {
    const title = def.step === 'pipeline' ? 'full pipeline' : def.step;
    const task = new vscode.Task(
      def,
      scope,
      `${title}: ${def.model}`,
      'hailo',
      new vscode.CustomExecution(async () => {
        return new StepTerminal(pipeline, def);
      }),
      ['$hailo'],
    );
    task.group = def.step === 'compile' || def.step === 'pipeline' ? vscode.TaskGroup.Build : undefined;
    task.detail = `Hailo DFC ${title} of ${def.model} on its compile target`;
    return task;
  };
  services.context.subscriptions.push(
    vscode.tasks.registerTaskProvider('hailo', {
      provideTasks: () => {
        const folder = vscode.workspace.workspaceFolders?.[0];
        const models = services.project.project?.models ?? [];
        if (!folder || !services.project.project?.targets?.length) return [];
        return models.flatMap((m) => STEP_LIST.map((step) => make({ type: 'hailo', step, model: m.name }, folder)));
      },
      resolveTask: (task) => {
        const def = task.definition as HailoTaskDefinition;
        if (!STEP_LIST.includes(def.step) || typeof def.model !== 'string') return undefined;
        return make(def, task.scope ?? vscode.TaskScope.Workspace);
      },
    }),
  );
}
