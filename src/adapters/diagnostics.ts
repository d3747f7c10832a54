import * as vscode from 'vscode';
import type { Severity } from '../core/finding';
import type { Placement } from '../core/placement';

/**
 * Placements (src/core/placement.ts decides where each finding goes) as VS Code diagnostics, and
 * one publisher per owner of diagnostics (lint, rewrites, DFC logs, .alls scripts).
 */

export const SEVERITY: Record<Severity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

/** A placement's range: its columns, else the whole line. */
export function rangeOf(p: Pick<Placement, 'line' | 'column' | 'endLine' | 'endColumn'>): vscode.Range {
  if (p.column === undefined) return new vscode.Range(p.line, 0, p.line, Number.MAX_SAFE_INTEGER);
  return new vscode.Range(p.line, p.column, p.endLine ?? p.line, p.endColumn ?? p.column + 1);
}

export function toDiagnostic(p: Placement, source: string, code: vscode.Diagnostic['code'] = p.code): vscode.Diagnostic {
  const d = new vscode.Diagnostic(rangeOf(p), p.message, SEVERITY[p.severity]);
  d.source = source;
  d.code = code;
  if (p.related.length)
    d.relatedInformation = p.related.map(
      (r) => new vscode.DiagnosticRelatedInformation(new vscode.Location(vscode.Uri.file(r.file), rangeOf({ line: r.line })), r.message),
    );
  return d;
}

export interface Published {
  uri: vscode.Uri;
  diagnostic: vscode.Diagnostic;
  placement?: Placement;
  /** What the owner attaches (the DFC logs: the hailo.json model a recommendation is for). */
  tag?: string;
}

/**
 * One owner's diagnostics. Each publication has a key (a model, a log, a script); publishing under
 * a key replaces what that key published before on every file, and keys that share a file (two
 * models exported from one .py) are shown there together.
 */
export class DiagnosticsPublisher implements vscode.Disposable {
  readonly collection: vscode.DiagnosticCollection;
  private readonly byKey = new Map<string, Map<string, Published[]>>();

  constructor(name: string) {
    this.collection = vscode.languages.createDiagnosticCollection(name);
  }

  /**
   * Replace what `key` published with `items`. `takeOver`: files on which this publication also
   * replaces what other keys had put (a new log of a model replaces the previous log's findings).
   */
  publish(key: string, items: Published[], takeOver: vscode.Uri[] = []): void {
    const next = new Map<string, Published[]>();
    for (const it of items) {
      const k = it.uri.toString();
      const list = next.get(k);
      if (list) list.push(it);
      else next.set(k, [it]);
    }
    const touched = new Set<string>([...(this.byKey.get(key)?.keys() ?? []), ...next.keys()]);
    for (const u of takeOver) {
      const k = u.toString();
      touched.add(k);
      for (const [other, files] of this.byKey) if (other !== key) files.delete(k);
    }
    this.byKey.set(key, next);
    this.refresh(touched);
  }

  /** What `key` published, by file (uri string). */
  files(key: string): ReadonlyMap<string, readonly Published[]> | undefined {
    return this.byKey.get(key);
  }

  /** Remove everything `key` published. */
  clear(key: string): void {
    const old = this.byKey.get(key);
    if (!old) return;
    this.byKey.delete(key);
    this.refresh(old.keys());
  }

  /** Remove every key's diagnostics on these files. */
  clearFiles(uris: vscode.Uri[]): void {
    const touched = new Set(uris.map((u) => u.toString()));
    for (const files of this.byKey.values()) for (const k of touched) files.delete(k);
    this.refresh(touched);
  }

  has(key: string): boolean {
    return this.byKey.has(key);
  }

  keys(): string[] {
    return [...this.byKey.keys()];
  }

  /** Everything published now, on one file. */
  on(uri: vscode.Uri): Published[] {
    const k = uri.toString();
    return [...this.byKey.values()].flatMap((files) => files.get(k) ?? []);
  }

  private refresh(uris: Iterable<string>): void {
    for (const u of uris) {
      const all: vscode.Diagnostic[] = [];
      for (const files of this.byKey.values()) for (const it of files.get(u) ?? []) all.push(it.diagnostic);
      if (all.length) this.collection.set(vscode.Uri.parse(u), all);
      else this.collection.delete(vscode.Uri.parse(u));
    }
  }

  dispose(): void {
    this.byKey.clear();
    this.collection.dispose();
  }
}
