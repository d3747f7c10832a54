import * as vscode from 'vscode';
import type { Device, Target } from '../core/project/schema';
import type { TargetCheck } from '../core/remote/dfc';
import type { DeviceCheck, DeviceProblem } from '../core/remote/device';
import type { RemoteService } from './remote';
import { command, requireTrust, type Services } from './services';
import { isHailoError, loadCore } from './core';
import { NO_PROJECT_MESSAGE } from './project';

/** What the view knows of a compile target's or a device's last check. */
type HostState<C> = { kind: 'checking' } | { kind: 'checked'; check: C; at: Date } | { kind: 'error'; code?: string; message: string; at: Date };
type TargetState = HostState<TargetCheck>;
type DeviceState = HostState<DeviceCheck>;

/**
 * What a target row and a device row share: the host, then "not checked", "checking…" or the SSH
 * failure (with its message in the tooltip); a finished check is described by `checked`, which
 * sets the icon and adds its own description parts and tooltip lines.
 */
function hostRow<C>(
  item: vscode.TreeItem,
  host: string,
  idleIcon: string,
  state: HostState<C> | undefined,
  tip: vscode.MarkdownString,
  checked: (check: C, parts: string[]) => void,
): void {
  const parts = [host];
  if (!state) {
    item.iconPath = new vscode.ThemeIcon(idleIcon);
    parts.push('not checked');
  } else if (state.kind === 'checking') {
    item.iconPath = new vscode.ThemeIcon('loading~spin');
    parts.push('checking…');
  } else if (state.kind === 'error') {
    item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
    parts.push(
      state.code === 'SSH_UNREACHABLE'
        ? 'unreachable'
        : state.code?.startsWith('SSH_HOST_KEY')
          ? 'host key not trusted'
          : state.code === 'SSH_AUTH_FAILED'
            ? 'login failed'
            : 'error',
    );
    tip.appendMarkdown(`\n$(error) ${state.message}`);
  } else checked(state.check, parts);
  item.description = parts.join(' · ');
  item.tooltip = tip;
}

class TargetItem extends vscode.TreeItem {
  constructor(
    readonly target: Target,
    state: TargetState | undefined,
  ) {
    super(target.name, vscode.TreeItemCollapsibleState.None);
    this.contextValue = 'hailo.target';
    const env = target.dfc?.kind === 'venv' ? `venv ${target.dfc.path}` : target.dfc?.kind === 'docker' ? `docker ${target.dfc.container}` : 'PATH';
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**${target.name}** — \`${target.host}\`\n\nWork dir: \`${target.workDir ?? '~/hailo-workbench'}\`  \nDFC environment: ${env}  \n`);
    if (target.hwArch) tip.appendMarkdown(`Default hw-arch: ${target.hwArch}  \n`);
    if (target.memoryLimitGB) tip.appendMarkdown(`Memory limit: ${target.memoryLimitGB} GB  \n`);
    hostRow(this, target.host, 'remote', state, tip, (check, parts) => {
      if (check.slurm) {
        const bad = check.slurm.filter((i) => i.level === 'error');
        const warn = check.slurm.filter((i) => i.level === 'warning');
        this.iconPath = bad.length
          ? new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'))
          : warn.length
            ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
            : new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
        parts.push(`Slurm ${target.slurm?.partition ?? ''}`.trim());
        parts.push(
          bad.length ? `${bad.length} problem${bad.length > 1 ? 's' : ''}` : check.dfc ? `DFC ${check.dfc}` : warn.length ? 'not fully checked' : 'ok',
        );
        for (const i of check.slurm) {
          const icon = i.level === 'ok' ? '$(pass)' : i.level === 'warning' ? '$(warning)' : i.level === 'error' ? '$(error)' : '$(circle-slash)';
          tip.appendMarkdown(`\n${icon} **${i.title}**: ${i.detail}${i.fix ? ` _${i.fix}_` : ''}  `);
        }
      } else if (check.problem) {
        this.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
        parts.push('reachable · DFC missing');
        tip.appendMarkdown(`\n$(warning) ${check.problem}`);
      } else {
        this.iconPath = new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
        parts.push(`DFC ${check.dfc}`);
        if (check.hailort) parts.push(`HailoRT ${check.hailort}`);
        if (check.resolved) tip.appendMarkdown(`Connects to: \`${check.resolved}\`  \n`);
        tip.appendMarkdown(`\n$(pass) reachable — DFC ${check.dfc}${check.hailort ? `, HailoRT ${check.hailort}` : ''}`);
      }
    });
  }
}

/** "Devices": the section under the compile targets. */
class DevicesSection extends vscode.TreeItem {
  constructor(count: number) {
    super('Devices', count ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    this.id = 'devices';
    this.contextValue = 'hailo.devices';
    this.iconPath = new vscode.ThemeIcon('circuit-board');
    this.description = count ? `${count}` : 'none in hailo.json';
    this.tooltip = 'Devices with a Hailo NPU and HailoRT (the "devices" of hailo.json), e.g. a Raspberry Pi 5 with a Hailo-8L';
  }
}

const PROBLEM_ICON: Record<DeviceProblem['severity'], [string, string]> = {
  error: ['error', 'problemsErrorIcon.foreground'],
  warning: ['warning', 'problemsWarningIcon.foreground'],
  info: ['info', 'problemsInfoIcon.foreground'],
};

class DeviceProblemItem extends vscode.TreeItem {
  constructor(device: string, p: DeviceProblem, i: number) {
    super(p.message, vscode.TreeItemCollapsibleState.None);
    this.id = `device:${device}:problem:${i}`;
    this.contextValue = 'hailo.deviceProblem';
    const [icon, color] = PROBLEM_ICON[p.severity];
    this.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
    this.description = p.fix;
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**${p.message}**\n\n${p.fix}`);
    this.tooltip = md;
  }
}

class DeviceItem extends vscode.TreeItem {
  constructor(
    readonly device: Device,
    readonly state: DeviceState | undefined,
  ) {
    const problems = state?.kind === 'checked' ? state.check.problems : [];
    super(device.name, problems.length ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    // a new id per check result, so a row with problems opens expanded even if it was shown collapsed before
    this.id = `device:${device.name}:${state?.kind ?? 'unchecked'}:${problems.length}`;
    this.contextValue = 'hailo.device';
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(
      `**${device.name}** — \`${device.host}\`\n\nWork dir: \`${device.workDir ?? '~/hailo-workbench'}\`  \nhw-arch in hailo.json: ${device.hwArch ?? 'hailo8l'}  \nBenchmark repetitions per run: ${device.benchmarkRepeats ?? 3}  \n`,
    );
    hostRow(this, device.host, 'circuit-board', state, tip, (c, parts) => {
      const id = c.identify;
      const worst = c.problems.some((p) => p.severity === 'error') ? 'error' : c.problems.some((p) => p.severity === 'warning') ? 'warning' : undefined;
      this.iconPath = worst
        ? new vscode.ThemeIcon(worst, new vscode.ThemeColor(worst === 'error' ? 'problemsErrorIcon.foreground' : 'problemsWarningIcon.foreground'))
        : new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed'));
      if (id?.architecture) parts.push(id.architecture);
      if (id?.firmwareVersion) parts.push(`fw ${id.firmwareVersion}`);
      if (c.hailortCli) parts.push(`HailoRT ${c.hailortCli}`);
      if (c.pcie?.gen) parts.push(`PCIe Gen ${c.pcie.gen}`);
      if (!id && !c.problems.length) parts.push('no device');
      tip.appendMarkdown(
        [
          c.resolved ? `Connects to: \`${c.resolved}\`` : undefined,
          c.platform ? `Platform: ${c.platform}` : undefined,
          id?.boardName ? `Board: ${id.boardName}` : undefined,
          id?.architecture ? `Architecture: **${id.architecture}**` : undefined,
          id?.firmwareVersion ? `Firmware: ${id.firmwareVersion}` : undefined,
          c.hailortCli ? `HailoRT: ${c.hailortCli}${c.libhailort ? ` (libhailort ${c.libhailort})` : ''}` : undefined,
          c.driver ? `Driver (hailo_pci): ${c.driver}` : undefined,
          (id?.deviceId ?? c.devices[0]?.id) ? `PCIe address: \`${id?.deviceId ?? c.devices[0]?.id}\`` : undefined,
          c.pcie
            ? `PCIe link: ${c.pcie.currentSpeed}${c.pcie.width ? ` x${c.pcie.width}` : ''}${c.pcie.maxSpeed ? ` (max ${c.pcie.maxSpeed})` : ''}`
            : undefined,
          id?.partNumber ? `Part: ${id.partNumber}` : undefined,
        ]
          .filter(Boolean)
          .join('  \n'),
      );
      for (const p of c.problems) tip.appendMarkdown(`\n\n$(${PROBLEM_ICON[p.severity][0]}) ${p.message}. ${p.fix}`);
    });
  }
}

type Node = TargetItem | DevicesSection | DeviceItem | DeviceProblemItem;

/** The Targets view: compile targets from hailo.json with reachability and tool versions. */
export class TargetsView implements vscode.TreeDataProvider<Node>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly states = new Map<string, TargetState>();
  private readonly deviceStates = new Map<string, DeviceState>();

  constructor(
    private readonly services: Services,
    private readonly remote: RemoteService,
  ) {}

  refresh(): void {
    this.emitter.fire();
  }

  getTreeItem(e: Node): vscode.TreeItem {
    return e;
  }

  getChildren(e?: Node): Node[] {
    const devices = this.services.project.project?.devices ?? [];
    if (e instanceof DevicesSection) return devices.map((d) => new DeviceItem(d, this.deviceStates.get(d.name)));
    if (e instanceof DeviceItem) return e.state?.kind === 'checked' ? e.state.check.problems.map((p, i) => new DeviceProblemItem(e.device.name, p, i)) : [];
    if (e) return [];
    const targets: Node[] = (this.services.project.project?.targets ?? []).map((t) => new TargetItem(t, this.states.get(t.name)));
    // nothing at all: the view's welcome text (Add Target) shows instead
    return this.services.project.project && (targets.length || devices.length) ? [...targets, new DevicesSection(devices.length)] : targets;
  }

  deviceStateOf(name: string): DeviceState | undefined {
    return this.deviceStates.get(name);
  }

  /** "Check Device": scan, identify, versions, the PCIe link; problems become child items. */
  async checkDevice(device: Device, interactive: boolean): Promise<DeviceState> {
    return this.runCheck(this.deviceStates, device.name, device.host, 'Device', interactive, async () => {
      const host = await this.remote.host(device.host);
      const { checkDevice, describeDevice } = (await loadCore()).remoteDevice;
      const check = await checkDevice(host, device);
      const errors = check.problems.filter((p) => p.severity === 'error');
      this.services.log.info(
        `Device ${device.name} (${device.host}): ${describeDevice(check) || 'no device'}${check.problems.length ? `; ${check.problems.map((p) => `${p.severity}: ${p.message}`).join('; ')}` : ''}`,
      );
      if (interactive) {
        if (errors.length)
          void vscode.window
            .showErrorMessage(`${device.name}: ${errors[0]!.message}. ${errors[0]!.fix}`, 'Show Log')
            .then((p) => p && this.services.log.show());
        else
          void vscode.window.showInformationMessage(
            `${device.name}: ${describeDevice(check)}${check.problems.length ? ` (${check.problems.map((p) => p.message).join('; ')})` : ''}.`,
          );
      }
      return check;
    });
  }

  /**
   * One check of a target or a device: the row shows "checking…", then the result, or the SSH
   * failure (explained interactively by the remote service; logged otherwise).
   */
  private async runCheck<C>(
    states: Map<string, HostState<C>>,
    name: string,
    host: string,
    what: 'Target' | 'Device',
    interactive: boolean,
    run: () => Promise<C>,
  ): Promise<HostState<C>> {
    states.set(name, { kind: 'checking' });
    this.refresh();
    let state: HostState<C>;
    try {
      state = { kind: 'checked', check: await run(), at: new Date() };
    } catch (e) {
      state = { kind: 'error', code: isHailoError(e) ? e.code : undefined, message: e instanceof Error ? e.message : String(e), at: new Date() };
      if (interactive && !(await this.remote.showError(e, host))) throw e;
      if (!interactive) this.services.log.warn(`${what} ${name}: ${state.message}`);
    }
    states.set(name, state);
    this.refresh();
    return state;
  }

  stateOf(name: string): TargetState | undefined {
    return this.states.get(name);
  }

  async check(target: Target, interactive: boolean): Promise<TargetState> {
    return this.runCheck(this.states, target.name, target.host, 'Target', interactive, async () => {
      const host = await this.remote.hostFor(target);
      const { checkTarget } = (await loadCore()).remoteDfc;
      const check = await checkTarget(host, target);
      this.services.log.info(
        `Target ${target.name} (${target.host}): ${check.problem ?? `DFC ${check.dfc}${check.hailort ? `, HailoRT ${check.hailort}` : ''}`}`,
      );
      if (interactive) {
        if (check.slurm && check.problem)
          void vscode.window
            .showWarningMessage(`${target.name}: ${check.problem}`, 'Open Project File')
            .then((p) => p && vscode.commands.executeCommand('hailo.openProjectFile'));
        else if (check.slurm)
          void vscode.window.showInformationMessage(
            `${target.name}: Slurm partition ${target.slurm?.partition ?? ''} fits the request; DFC ${check.dfc ?? 'found'} on a compute node; work folder shared.`,
          );
        else if (check.problem)
          void vscode.window
            .showWarningMessage(
              `${target.name}: ${check.problem}. Set "dfc" for this target in hailo.json (a venv to activate, or a Docker container).`,
              'Open Project File',
            )
            .then((p) => p && vscode.commands.executeCommand('hailo.openProjectFile'));
        else void vscode.window.showInformationMessage(`${target.name}: reachable; DFC ${check.dfc}${check.hailort ? `, HailoRT ${check.hailort}` : ''}.`);
      }
      return check;
    });
  }

  dispose(): void {
    this.emitter.dispose();
  }
}

/** The entry a command was called on (its row, its name, or itself), else the only one, else a quick pick. */
async function pickNamed<T extends { name: string; host: string }>(
  items: T[],
  arg: unknown,
  fromRow: (arg: unknown) => T | undefined,
  what: { noun: string; none: string; title: string },
): Promise<T | undefined> {
  const name = fromRow(arg)?.name ?? (typeof arg === 'string' ? arg : (arg as T | undefined)?.name);
  if (name) {
    const found = items.find((x) => x.name === name);
    if (!found) throw new Error(`No ${what.noun} named "${name}" in hailo.json`);
    return found;
  }
  if (!items.length) throw new Error(what.none);
  if (items.length === 1) return items[0];
  const pick = await vscode.window.showQuickPick(
    items.map((x) => ({ label: x.name, description: x.host, item: x })),
    { title: what.title },
  );
  return pick?.item;
}

const pickDevice = (services: Services, arg: unknown): Promise<Device | undefined> =>
  pickNamed(services.project.project?.devices ?? [], arg, (a) => (a instanceof DeviceItem ? a.device : undefined), {
    noun: 'device',
    none: 'hailo.json has no devices; add one under "devices" (name, host: the SSH host of the Raspberry Pi, hwArch)',
    title: 'Device',
  });

const pickTarget = (services: Services, arg: unknown): Promise<Target | undefined> =>
  pickNamed(services.project.project?.targets ?? [], arg, (a) => (a instanceof TargetItem ? a.target : undefined), {
    noun: 'target',
    none: 'hailo.json has no compile targets; add one with "Hailo: Add Target"',
    title: 'Compile target',
  });

/** "Add Target": an alias from ~/.ssh/config (resolved with `ssh -G`) or a typed user@host. */
async function addTarget(services: Services, remote: RemoteService): Promise<void> {
  const uri = services.project.uri;
  if (!uri || !services.project.exists) throw new Error(NO_PROJECT_MESSAGE);
  const { listConfiguredHosts } = (await loadCore()).remoteSsh;
  const s = remote.settings();
  const hosts = s.configFile ? listConfiguredHosts(s.configFile) : listConfiguredHosts();
  const typed = '$(edit) Enter user@host…';
  const pick = await vscode.window.showQuickPick([...hosts.map((h) => ({ label: h, description: 'from ssh config' })), { label: typed, description: '' }], {
    title: 'Add Target: SSH host of the compile machine',
    placeHolder: hosts.length ? 'A Host from your SSH config, or type user@host' : 'No Host entries in your SSH config: type user@host',
  });
  if (!pick) return;
  let host = pick.label;
  if (pick.label === typed) {
    const v = await vscode.window.showInputBox({
      title: 'Add Target',
      prompt: 'SSH destination (user@host or an alias)',
      validateInput: (x) => (!x.trim() || /[\s\0]/.test(x.trim()) || x.trim().startsWith('-') ? 'user@host, without spaces' : undefined),
    });
    if (!v) return;
    host = v.trim();
  }
  // what OpenSSH will actually use (Include, Match, wildcards applied)
  const resolved = await (await remote.host(host)).resolve();
  const { targetNameFor, targetEdits } = (await loadCore()).remoteTargets;
  const taken = (services.project.project?.targets ?? []).map((t) => t.name);
  const name = await vscode.window.showInputBox({
    title: `Add Target: ${host} → ${resolved.user}@${resolved.hostname}:${resolved.port}`,
    prompt: 'Target name',
    value: targetNameFor(host, taken),
    validateInput: (x) =>
      !/^[A-Za-z0-9_.-]{1,128}$/.test(x) ? 'letters, digits, "_", "." and "-" only' : taken.includes(x) ? `a target named "${x}" exists already` : undefined,
  });
  if (!name) return;
  const workDir = await vscode.window.showInputBox({
    title: 'Add Target',
    prompt: 'Remote work directory (uploads, runs and cache live here)',
    value: '~/hailo-workbench',
  });
  if (!workDir) return;
  const envPick = await vscode.window.showQuickPick(
    [
      { label: 'Virtual environment', description: 'activate a venv that has the DFC installed', env: 'venv' as const },
      { label: 'Docker container', description: 'docker exec into a running container with the DFC', env: 'docker' as const },
      { label: 'PATH', description: '`hailo` is already on the remote PATH', env: 'path' as const },
    ],
    { title: 'Add Target: how to reach the Dataflow Compiler' },
  );
  if (!envPick) return;
  let dfc: Target['dfc'] = { kind: 'path' };
  if (envPick.env === 'venv') {
    const p = await vscode.window.showInputBox({ title: 'Add Target', prompt: 'Remote path of the virtual environment', value: '~/hailo_virtualenv' });
    if (!p) return;
    dfc = { kind: 'venv', path: p };
  } else if (envPick.env === 'docker') {
    const c = await vscode.window.showInputBox({ title: 'Add Target', prompt: 'Name of the running container', value: 'hailo8_ai_sw_suite' });
    if (!c) return;
    const inner = await vscode.window.showInputBox({
      title: 'Add Target',
      prompt: 'The work directory as seen inside the container (empty: same path)',
      value: '',
    });
    dfc = { kind: 'docker', container: c, ...(inner ? { workDir: inner } : {}) };
  }
  const target: Target = { name, host, workDir, dfc };
  const doc = await vscode.workspace.openTextDocument(uri);
  const edits = targetEdits(doc.getText(), target);
  const we = new vscode.WorkspaceEdit();
  for (const e of edits) we.replace(uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.content);
  if (!(await vscode.workspace.applyEdit(we))) throw new Error(`Could not edit ${uri.fsPath}`);
  await doc.save();
  services.log.info(`Added target ${name} (${host} → ${resolved.user}@${resolved.hostname}:${resolved.port})`);
  await services.project.reload();
  void vscode.window
    .showInformationMessage(`Added target "${name}". Check it now?`, 'Check Target')
    .then((p) => p && vscode.commands.executeCommand('hailo.checkTarget', name));
}

export function registerTargetsView(services: Services, remote: RemoteService): TargetsView {
  const view = new TargetsView(services, remote);
  const { context, log } = services;
  const treeView = vscode.window.createTreeView('hailo.targets', { treeDataProvider: view });
  context.subscriptions.push(
    view,
    treeView,
    // check targets nobody has checked yet when the view is shown (trusted workspaces only)
    treeView.onDidChangeVisibility((e) => {
      if (!e.visible || !vscode.workspace.isTrusted) return;
      // a Slurm target's check submits a test job: only on request
      for (const t of services.project.project?.targets ?? []) if (!view.stateOf(t.name) && t.kind !== 'slurm') void view.check(t, false);
      for (const d of services.project.project?.devices ?? []) if (!view.deviceStateOf(d.name)) void view.checkDevice(d, false);
    }),
    vscode.commands.registerCommand(
      'hailo.checkDevice',
      command(log, async (arg?: unknown) => {
        if (!(await requireTrust('Checking a device over SSH'))) return;
        const d = await pickDevice(services, arg);
        if (d) await view.checkDevice(d, true);
      }),
    ),
    vscode.commands.registerCommand(
      'hailo.openDeviceTerminal',
      command(log, async (arg?: unknown) => {
        if (!(await requireTrust('Opening an SSH terminal'))) return;
        const d = await pickDevice(services, arg);
        if (d) remote.openTerminal(d.host);
      }),
    ),
    services.project.onDidChange(() => view.refresh()),
    vscode.commands.registerCommand('hailo.refreshTargets', () => view.refresh()),
    vscode.commands.registerCommand(
      'hailo.checkTarget',
      command(log, async (arg?: unknown) => {
        if (!(await requireTrust('Checking a target over SSH'))) return;
        const t = await pickTarget(services, arg);
        if (t) await view.check(t, true);
      }),
    ),
    vscode.commands.registerCommand(
      'hailo.addTarget',
      command(log, async () => {
        if (!(await requireTrust('Adding a target (runs ssh -G)'))) return;
        await addTarget(services, remote);
      }),
    ),
    vscode.commands.registerCommand(
      'hailo.openTargetTerminal',
      command(log, async (arg?: unknown) => {
        if (!(await requireTrust('Opening an SSH terminal'))) return;
        const t = await pickTarget(services, arg);
        if (t) remote.openTerminal(t.host);
      }),
    ),
  );
  return view;
}
