import * as vscode from 'vscode';
import * as path from 'node:path';
import type { ArtifactStatus } from '../core/project/artifacts';
import type { Model } from '../core/project/schema';
import type { ProjectService } from './project';
import { loadCore } from './core';

type Item = { type: 'model'; model: Model } | { type: 'artifact'; model: Model; status: ArtifactStatus };

const KIND_LABEL: Record<ArtifactStatus['kind'], string> = { source: 'PyTorch', onnx: 'ONNX', har: 'HAR', hef: 'HEF' };

/** The Models view: one entry per model of hailo.json, with its files and their state. */
export class ModelsView implements vscode.TreeDataProvider<Item>, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<Item | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [this.emitter];

  constructor(private readonly project: ProjectService) {
    project.onDidChange(() => this.refresh(), undefined, this.disposables);
    // artifacts appear and change as exports and compiles run
    const w = vscode.workspace.createFileSystemWatcher('**/*.{onnx,har,hef,py}');
    const r = () => this.refresh();
    w.onDidCreate(r, undefined, this.disposables);
    w.onDidChange(r, undefined, this.disposables);
    w.onDidDelete(r, undefined, this.disposables);
    this.disposables.push(w);
  }

  refresh(): void {
    this.emitter.fire(undefined);
  }

  getTreeItem(item: Item): vscode.TreeItem {
    if (item.type === 'model') {
      const t = new vscode.TreeItem(item.model.name, vscode.TreeItemCollapsibleState.Expanded);
      t.id = `model:${item.model.name}`;
      t.description = [item.model.hwArch ?? 'hailo8l', item.model.inputs.map((i) => i.shape.join('x')).join(', ')].join(' · ');
      t.tooltip = new vscode.MarkdownString(
        `**${item.model.name}**\n\n` +
          (item.model.entry ? `Entry: \`${item.model.entry}\`\n\n` : '') +
          item.model.inputs.map((i) => `- input \`${i.name}\`: \`[${i.shape.join(', ')}]\``).join('\n'),
      );
      t.iconPath = new vscode.ThemeIcon('circuit-board');
      t.contextValue = 'hailoModel';
      return t;
    }
    const s = item.status;
    const root = this.project.root ?? '';
    const t = new vscode.TreeItem(KIND_LABEL[s.kind], vscode.TreeItemCollapsibleState.None);
    t.id = `artifact:${item.model.name}:${s.kind}`;
    t.description = `${path.relative(root, s.file)} · ${s.state}`;
    t.resourceUri = vscode.Uri.file(s.file);
    t.tooltip =
      s.state === 'stale'
        ? `${s.file}\nStale: ${path.relative(root, s.staleBecause ?? '')} changed after it was made${s.kind === 'onnx' ? ' (its content differs from what the export ran)' : ''}.`
        : s.state === 'missing'
          ? `${s.file}\nNot made yet.`
          : `${s.file}\n${((s.size ?? 0) / 1e6).toFixed(1)} MB, ${new Date(s.mtimeMs ?? 0).toLocaleString()}${s.freshness === 'unknown' ? '\nWhether it matches the current Python is unknown: its source map records no source hashes (export it again to record them).' : s.freshness === 'content' ? '\nMatches the Python it was exported from (by content).' : ''}`;
    t.iconPath = new vscode.ThemeIcon(
      s.state === 'missing' ? 'circle-outline' : s.state === 'stale' ? 'warning' : 'pass',
      new vscode.ThemeColor(s.state === 'missing' ? 'disabledForeground' : s.state === 'stale' ? 'problemsWarningIcon.foreground' : 'testing.iconPassed'),
    );
    t.contextValue = `hailoArtifact.${s.kind}.${s.state}`;
    if (s.state !== 'missing') t.command = { command: 'vscode.open', title: 'Open', arguments: [vscode.Uri.file(s.file)] };
    return t;
  }

  async getChildren(item?: Item): Promise<Item[]> {
    const project = this.project.project;
    const root = this.project.root;
    if (!project || !root) return [];
    if (!item) return project.models.map((model) => ({ type: 'model', model }));
    if (item.type === 'model') {
      // loaded on first use: it pulls in the project schema (zod), which activation does not need
      const { artifactStates } = (await loadCore()).artifacts;
      const states = await artifactStates(item.model, root);
      return states.map((status) => ({ type: 'artifact', model: item.model, status }));
    }
    return [];
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
