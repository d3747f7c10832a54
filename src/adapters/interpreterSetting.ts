import * as vscode from 'vscode';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * `hailo.pythonPath` is machine-overridable: in a remote window the User tab does not show it
 * ("No Settings Found"). These helpers open the tab where it applies (the workspace) and write a
 * chosen interpreter there directly.
 */

/** Open the Workspace settings tab at `hailo.pythonPath` (shown there in local and remote windows). */
export async function openPythonPathSetting(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openWorkspaceSettings', { query: 'hailo.pythonPath' });
}

/** Interpreters worth offering: the workspace's virtual environments, then the usual system ones. */
function candidates(): string[] {
  const out: string[] = [];
  for (const f of vscode.workspace.workspaceFolders ?? []) {
    for (const venv of ['.venv', 'venv', 'env']) {
      for (const bin of [path.join(venv, 'bin', 'python'), path.join(venv, 'Scripts', 'python.exe')]) out.push(path.join(f.uri.fsPath, bin));
    }
  }
  out.push('/usr/bin/python3', '/usr/local/bin/python3', '/opt/homebrew/bin/python3');
  return [...new Set(out)].filter((p) => {
    try {
      return fs.statSync(p).isFile();
    } catch {
      return false;
    }
  });
}

/**
 * Select Interpreter: the Python extension's picker when it is installed; otherwise a pick of the
 * interpreters found (or a typed path) written to `hailo.pythonPath` in the workspace settings.
 * Returns the path written, if any.
 */
export async function selectInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const all = await vscode.commands.getCommands(true);
  if (all.includes('python.setInterpreter')) {
    await vscode.commands.executeCommand('python.setInterpreter');
    return undefined;
  }
  const items: (vscode.QuickPickItem & { path?: string })[] = candidates().map((p) => ({ label: p, path: p }));
  items.push({ label: '$(edit) Enter a path…' });
  const pick = await vscode.window.showQuickPick(items, {
    title: 'Python for exports (hailo.pythonPath, workspace settings)',
    placeHolder: 'An interpreter with torch and onnx',
  });
  if (!pick) return undefined;
  const chosen =
    pick.path ??
    (
      await vscode.window.showInputBox({
        prompt: 'Path of the Python interpreter (with torch and onnx)',
        validateInput: (v) => (v.trim() ? undefined : 'A path'),
      })
    )?.trim();
  if (!chosen) return undefined;
  await vscode.workspace.getConfiguration('hailo', resource).update('pythonPath', chosen, vscode.ConfigurationTarget.Workspace);
  void vscode.window.showInformationMessage(`hailo.pythonPath set to ${chosen} in the workspace settings.`);
  return chosen;
}
