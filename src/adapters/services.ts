import * as vscode from 'vscode';
import type { ChannelLogger } from './logger';
import type { ProjectService } from './project';
import type { ModelsView } from './modelsView';
import type { DfcDiagnostics } from './dfcDiagnostics';
import type { HostMessage } from '../core/protocol/modelEditor';
import { isCancelled } from './core';

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
  /** What the model editor shows for an open model (the message it posts to its webview); set by registerModelEditor. */
  modelEditorMessage?: (uri: vscode.Uri) => HostMessage | undefined;
  /** The DFC logs' diagnostics (set by registerDfcDiagnostics). */
  dfcDiagnostics?: DfcDiagnostics;
  runs?: { onDidFinishStep: vscode.Event<{ runDir: string; step: 'parse' | 'optimize' | 'compile'; model: string; ok: boolean }> };
  /** Sweeps: picks up the sweeps left running, as activation does (set by registerSweep). */
  sweeps?: { resumeAll(): Promise<void> };
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

/**
 * An AbortSignal that follows a CancellationToken: the core speaks AbortSignal, VS Code hands out
 * tokens. `dispose()` removes the listener from the token. `ac`: an existing controller to abort.
 */
export function signalFor(token: vscode.CancellationToken, ac = new AbortController()): { signal: AbortSignal; dispose(): void } {
  const sub = token.onCancellationRequested(() => ac.abort());
  if (token.isCancellationRequested) ac.abort();
  return { signal: ac.signal, dispose: () => sub.dispose() };
}

/** Run `fn` with a signal that follows `token`; the token listener is removed when it settles. */
export async function withSignal<T>(token: vscode.CancellationToken, fn: (signal: AbortSignal) => Promise<T>, ac?: AbortController): Promise<T> {
  const s = signalFor(token, ac);
  try {
    return await fn(s.signal);
  } finally {
    s.dispose();
  }
}

/** Run a command handler, log and show its error (never an unhandled rejection in the host). */
export function command<A extends unknown[]>(log: ChannelLogger, fn: (...args: A) => unknown): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (isCancelled(e)) {
        log.info('Cancelled');
        return;
      }
      log.error(message);
      const pick = await vscode.window.showErrorMessage(message, 'Show Log');
      if (pick) log.show();
    }
  };
}
