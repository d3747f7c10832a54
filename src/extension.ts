import * as vscode from 'vscode';
import { ChannelLogger } from './adapters/logger';
import { effectiveSettings } from './adapters/config';
import { ProjectService } from './adapters/project';
import { ModelsView } from './adapters/modelsView';
import { command, type Services } from './adapters/services';
import { registerExport } from './adapters/export';
import { closeSshMasters, RemoteService } from './adapters/remote';
import { registerPipeline } from './adapters/pipeline';
import { registerTargetsView } from './adapters/targetsView';
import { registerRunsView } from './adapters/runsView';
import { registerTasks } from './adapters/tasks';
import { registerDevice } from './adapters/device';
import { registerSweep } from './adapters/sweep';
import { registerAlls } from './adapters/alls';
import { registerLint } from './adapters/lint';
import { registerModelEditor } from './adapters/modelEditor';
import { registerDfcDiagnostics } from './adapters/dfcDiagnostics';
import { registerRewrites } from './adapters/rewrites';
import { registerCodeActions } from './adapters/codeActions';
import { registerWalkthroughProgress } from './adapters/walkthroughProgress';
import { registerFidelity } from './adapters/fidelity';

/** Wiring only: build the logger and services, then let each feature register itself. */
export async function activate(context: vscode.ExtensionContext): Promise<Services> {
  const t0 = performance.now();
  const log = new ChannelLogger();
  context.subscriptions.push(log);
  try {
    const project = new ProjectService(log);
    context.subscriptions.push(project);
    const models = new ModelsView(project);
    const services: Services = { context, log, project, models };

    context.subscriptions.push(
      models,
      vscode.window.registerTreeDataProvider('hailo.models', models),
      vscode.commands.registerCommand(
        'hailo.createProjectFile',
        command(log, () => project.create()),
      ),
      vscode.commands.registerCommand(
        'hailo.openProjectFile',
        command(log, async () => (project.uri ? vscode.window.showTextDocument(project.uri) : undefined)),
      ),
      vscode.commands.registerCommand(
        'hailo.refreshModels',
        command(log, async () => {
          await project.reload();
          models.refresh();
        }),
      ),
      vscode.commands.registerCommand('hailo.showLog', () => log.show()),
    );

    registerExport(services);
    // remote: one SSH service; the compile pipeline, the views and the tasks get what they use
    const remote = new RemoteService(log);
    context.subscriptions.push(remote);
    const pipeline = registerPipeline(services, remote);
    registerTargetsView(services, remote);
    registerRunsView(services, pipeline);
    registerTasks(services, pipeline);
    registerDevice(services, pipeline);
    registerSweep(services, pipeline);
    registerAlls(services);
    registerModelEditor(services, registerLint(services));
    registerDfcDiagnostics(services);
    registerRewrites(services);
    registerCodeActions(services);
    registerWalkthroughProgress(context, project);
    registerFidelity(services, pipeline);
    void project.reload();
    const ms = performance.now() - t0;
    services.activationMs = ms;
    log.info(`Hailo Workbench ${context.extension.packageJSON.version} activated in ${ms.toFixed(1)} ms; settings ${JSON.stringify(effectiveSettings())}`);
    return services;
  } catch (e) {
    log.error(e instanceof Error ? e : String(e));
    void vscode.window.showErrorMessage(`Hailo Workbench failed to start: ${e instanceof Error ? e.message : String(e)}`);
    throw e;
  }
}

/** Close what would outlive the window: the SSH master connections. */
export function deactivate(): Promise<void> {
  return closeSshMasters();
}
