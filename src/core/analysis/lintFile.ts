import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { HailoError, errorMessage } from '../errors';
import { openOnnx, type OnnxModel } from '../onnx';
import { findModel, requireProject } from '../project/load';
import { modelPaths } from '../project/load';
import type { Model } from '../project/schema';
import type { Finding } from '../finding';
import { lintModel, readLintConstants } from './lint';
import { loadSourceMap, type SourceMap } from '../graph/sourceMap';

export interface LintFileOptions {
  /** Overrides the model entry's hwArch; default hailo8l. */
  hwArch?: string;
  /** hailo.json to take the expected shapes from. */
  projectFile?: string;
  /** Model name in the project file; default: the entry whose `onnx` is this file. */
  modelName?: string;
  /** The project file was found, not asked for: a broken one becomes a note instead of an error. */
  projectOptional?: boolean;
  signal?: AbortSignal;
  /** Most ONNX nodes read (default DEFAULT_MAX_ONNX_NODES). */
  maxNodes?: number;
}

export interface LintFileResult {
  file: string;
  model: OnnxModel;
  findings: Finding[];
  hwArch: string;
  sourceMap: SourceMap | undefined;
  /** The hailo.json model entry used for the contract, when there was one. */
  projectModel: { file: string; name: string; entry: Model } | undefined;
  /** Things that did not stop the lint (an unreadable source map...). */
  notes: string[];
}

/**
 * Open an ONNX file, its source map sidecar and (optionally) its hailo.json entry, and lint it.
 * Throws the reader's typed errors (MODEL_*, EXTERNAL_DATA_*) and PROJECT_* / INVALID_ARGUMENT for
 * a bad project file or model name.
 */
export async function lintOnnxFile(file: string, opts: LintFileOptions = {}): Promise<LintFileResult> {
  const abs = path.resolve(file);
  const notes: string[] = [];
  let projectModel: LintFileResult['projectModel'];
  let projectText: string | undefined;
  let loaded: Awaited<ReturnType<typeof requireProject>> | undefined;
  if (opts.projectFile) {
    try {
      loaded = await requireProject(opts.projectFile);
    } catch (e) {
      if (!opts.projectOptional) throw e;
      notes.push(`${errorMessage(e).split('\n')[0]!.replace(/:$/, '')}; shapes were not checked against it`);
    }
  }
  if (opts.projectFile && loaded) {
    const { project, root } = loaded;
    let entry: Model | undefined;
    if (opts.modelName !== undefined) entry = findModel(project, opts.modelName);
    else entry = project.models.find((m) => path.resolve(modelPaths(m, root).onnx) === abs);
    if (entry) {
      projectModel = { file: path.resolve(opts.projectFile), name: entry.name, entry };
      projectText = await fs.readFile(opts.projectFile, 'utf8').catch(() => undefined);
    } else notes.push(`${opts.projectFile}: no model has "onnx" pointing at ${abs}; shapes were not checked against the project file`);
  } else if (opts.modelName !== undefined) {
    throw new HailoError('INVALID_ARGUMENT', `--model ${opts.modelName} needs a project file (--config hailo.json)`);
  }
  const model = await openOnnx(abs, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.maxNodes !== undefined ? { maxNodes: opts.maxNodes } : {}) });
  let sourceMap: SourceMap | undefined;
  try {
    sourceMap = await loadSourceMap(abs);
  } catch (e) {
    notes.push(errorMessage(e));
  }
  const constants = await readLintConstants(model);
  const hwArch = opts.hwArch ?? projectModel?.entry.hwArch ?? 'hailo8l';
  const findings = lintModel(model, {
    hwArch,
    constants,
    ...(projectModel ? { expected: projectModel.entry } : {}),
    ...(sourceMap ? { sourceMap } : {}),
    ...(projectModel && projectText !== undefined ? { projectFile: { file: projectModel.file, text: projectText } } : {}),
  });
  return { file: abs, model, findings, hwArch, sourceMap, projectModel, notes };
}
