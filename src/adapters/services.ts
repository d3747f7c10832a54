import * as vscode from 'vscode';
import type { ChannelLogger } from './logger';
import type { ProjectService } from './project';
import type { ModelsView } from './modelsView';
import type { HostMessage } from '../core/protocol/modelEditor';

/** What every feature's register function receives. */
export interface Services {
  context: vscode.ExtensionContext;
  log: ChannelLogger;
  project: ProjectService;
  /** The Models view's data (one entry per model with its files and their state). */
  models: ModelsView;
  /** How long activate() took, in ms; set when activation has finished. */
  activationMs?: number;
  /** Remote pipeline runs: fires when a parse/optimize/compile step has finished (ok or not). */
  runs?: { onDidFinishStep: vscode.Event<{ runDir: string; step: 'parse' | 'optimize' | 'compile'; model: string; ok: boolean }> };
  /** What the model editor shows for an open file (summary, loading, or the typed error), for tests and tools. */
  modelEditor?: { shown(uri: vscode.Uri): HostMessage | undefined };
}

/**
 * Gate for anything that runs code (Python, SSH, remote tools): only in a trusted workspace.
 * Returns false (after telling the user why) when the workspace is not trusted.
 */
export async function requireTrust(what: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const choice = await vscode.window.showWarningMessage(
    `${what} runs code and is disabled in Restricted Mode. Trust this workspace to use it.`,
    'Manage Workspace Trust',
  );
  if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
  return false;
}

/** Run a command handler, log and show its error (never an unhandled rejection in the host). */
export function command<A extends unknown[]>(log: ChannelLogger, fn: (...args: A) => unknown): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if ((e as { code?: string })?.code === 'CANCELLED') {
        log.info('Cancelled');
        return;
      }
      log.error(message);
      const pick = await vscode.window.showErrorMessage(message, 'Show Log');
      if (pick) log.show();
    }
  };
}
