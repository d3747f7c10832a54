import * as vscode from 'vscode';
import type { ProjectService } from './project';

/**
 * Ticks the walkthrough's first step when hailo.json already exists. VS Code's walkthrough service
 * records an `onContext` completion event that is already true when it registers the walkthrough
 * as seen without marking the step done, and then ignores that key for the rest of the session; it
 * registers walkthroughs when the Getting Started editor first opens, which is after activation
 * has set `hailo.hasProject`. So a second key, `hailo.walkthroughHasProject`, stays unset until a
 * Getting Started tab is open and is set shortly after: a change the service counts.
 */
export const WALKTHROUGH_PROJECT_KEY = 'hailo.walkthroughHasProject';

function isGettingStartedTab(tab: vscode.Tab): boolean {
  return tab.input === undefined && /walkthrough|welcome|get started/i.test(tab.label);
}

export function registerWalkthroughProgress(context: vscode.ExtensionContext, project: ProjectService): void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let set = false;
  const check = () => {
    if (set || !project.project) return;
    if (!vscode.window.tabGroups.all.some((g) => g.tabs.some(isGettingStartedTab))) return;
    clearTimeout(timer);
    // after the service has registered the walkthrough (it does so when the editor opens)
    timer = setTimeout(() => {
      set = true;
      void vscode.commands.executeCommand('setContext', WALKTHROUGH_PROJECT_KEY, project.project !== undefined);
    }, 1500);
  };
  context.subscriptions.push(vscode.window.tabGroups.onDidChangeTabs(check), project.onDidChange(check), { dispose: () => clearTimeout(timer) });
  check();
}
