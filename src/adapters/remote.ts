import * as vscode from 'vscode';
import type { SshHost, SshSettings } from '../core/remote/ssh';
import type { Target } from '../core/project/schema';
import { setting } from './config';
import type { ChannelLogger } from './logger';
import { isHailoError, loadCore } from './core';

/**
 * The extension's SSH hosts: one `SshHost` per host string, built from the `hailo.ssh.*`
 * settings, dropped when they change. SSH errors get their own UI: a host key problem offers a
 * terminal running `ssh <host>` so the user checks and accepts the key themselves.
 */
/** Live services, so deactivate can close their SSH master connections (see closeSshMasters). */
const live = new Set<RemoteService>();

/**
 * Close every SSH master connection the extension opened (`ssh -O exit`), so none outlives the
 * window (ControlPersist would keep it for minutes). Returned from deactivate, which VS Code awaits.
 */
export async function closeSshMasters(): Promise<void> {
  await Promise.all([...live].map((r) => r.closeAll()));
}

export class RemoteService implements vscode.Disposable {
  private readonly hosts = new Map<string, SshHost>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(readonly log: ChannelLogger) {
    live.add(this);
    vscode.workspace.onDidChangeConfiguration(
      (e) => {
        // other settings, other connections: close the old masters
        if (e.affectsConfiguration('hailo.ssh')) void this.closeAll();
      },
      undefined,
      this.disposables,
    );
  }

  settings(): SshSettings {
    const configFile = setting('sshConfigFile');
    return { sshPath: setting('sshPath') || 'ssh', connectTimeout: setting('sshConnectTimeout'), log: this.log, ...(configFile ? { configFile } : {}) };
  }

  async host(name: string): Promise<SshHost> {
    let h = this.hosts.get(name);
    if (!h) {
      const { SshHost } = (await loadCore()).remoteSsh;
      h = new SshHost(name, this.settings());
      this.hosts.set(name, h);
    }
    return h;
  }

  async hostFor(target: Target): Promise<SshHost> {
    return this.host(target.host);
  }

  /** Open a terminal running `ssh <host>` (no shell in between, nothing built from strings). */
  openTerminal(host: string): void {
    const s = this.settings();
    const args = [...(s.configFile ? ['-F', s.configFile] : []), host];
    const term = vscode.window.createTerminal({ name: `ssh ${host}`, shellPath: s.sshPath, shellArgs: args });
    term.show();
  }

  /**
   * Show an SSH error with what the user can do about it. Returns true when it was one (shown),
   * false for any other error (the caller rethrows it).
   */
  async showError(e: unknown, host: string): Promise<boolean> {
    const code = isHailoError(e) ? e.code : undefined;
    const message = e instanceof Error ? e.message : String(e);
    switch (code) {
      case 'SSH_HOST_KEY_UNKNOWN':
      case 'SSH_HOST_KEY_CHANGED':
      case 'SSH_AUTH_FAILED': {
        this.log.error(message);
        const pick = await vscode.window.showErrorMessage(message, 'Open Terminal', 'Show Log');
        if (pick === 'Open Terminal') this.openTerminal(host);
        if (pick === 'Show Log') this.log.show();
        return true;
      }
      case 'SSH_UNREACHABLE':
      case 'SSH_FAILED': {
        this.log.error(message);
        const pick = await vscode.window.showErrorMessage(message, 'Show Log');
        if (pick) this.log.show();
        return true;
      }
      default:
        return false;
    }
  }

  /** Close the master connection of every host used so far. */
  async closeAll(): Promise<void> {
    const hosts = [...this.hosts.values()];
    this.hosts.clear();
    await Promise.all(
      hosts.map((h) =>
        h.close().then(
          () => this.log.info(`Closed the SSH master connection to ${h.host}`),
          (e: unknown) => this.log.warn(`Closing the SSH connection to ${h.host} failed: ${e instanceof Error ? e.message : String(e)}`),
        ),
      ),
    );
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    // deactivate has closed the masters (closeSshMasters); a late dispose still ends them
    if (this.hosts.size) void this.closeAll();
    live.delete(this);
  }
}
