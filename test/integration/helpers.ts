import * as vscode from 'vscode';
import type { Services } from '../../src/adapters/services';

export const EXTENSION_ID = 'hailo-workbench.hailo-workbench';

/** Poll until `fn` returns something truthy; fail naming `what` after the timeout. */
export async function until<T>(fn: () => T | undefined | false | Promise<T | undefined | false>, what: string, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The extension's exported Services (activating it when needed). */
export async function extensionServices(): Promise<Services> {
  const ext = vscode.extensions.getExtension<Services>(EXTENSION_ID);
  if (!ext) throw new Error(`${EXTENSION_ID} is not installed in this VS Code`);
  return ext.isActive ? ext.exports : await ext.activate();
}
