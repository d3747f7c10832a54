import * as path from 'node:path';
import { HailoError } from '../errors';
import type { Model } from '../project/schema';
import { modelPaths } from '../project/load';

export type InputDtype = 'float32' | 'float16' | 'int64' | 'int32';

/** What to export; everything the driver needs, with absolute paths. */
export interface ExportSpec {
  /** `package.module:factory`. */
  entry: string;
  inputs: { name: string; shape: number[]; dtype?: InputDtype }[];
  outputNames: string[];
  opset: number;
  /** ONNX file to write (absolute). */
  out: string;
  /** Folder put first on the driver's sys.path and used as its working directory. */
  root: string;
  /** `{input: {axis: label}}`; omitted for static shapes (what Hailo needs). */
  dynamicAxes?: Record<string, Record<string, string>>;
  sourceMap?: boolean;
  /** Run the module once and report its outputs instead of exporting (Add Model). */
  probe?: boolean;
  /** Keyword arguments of the factory (a sweep variant's values). */
  kwargs?: Record<string, unknown>;
}

const ENTRY = /^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/;
const DTYPES: readonly InputDtype[] = ['float32', 'float16', 'int64', 'int32'];

export function checkEntry(entry: string): string {
  if (!ENTRY.test(entry)) throw new HailoError('INVALID_ARGUMENT', `entry "${entry}" is not of the form package.module:factory`);
  return entry;
}

/** "1x80x3000" (or "1,80,3000") -> [1, 80, 3000]. */
export function parseShape(text: string): number[] {
  const parts = text.trim().split(/[x,×]/);
  if (!text.trim() || parts.some((p) => !/^\d+$/.test(p.trim()) || Number(p) <= 0)) {
    throw new HailoError('INVALID_ARGUMENT', `shape "${text}" is not a list of positive integers like 1x80x3000`);
  }
  if (parts.length > 8) throw new HailoError('INVALID_ARGUMENT', `shape "${text}" has more than 8 dimensions`);
  return parts.map((p) => Number(p));
}

/** "mel:1x80x3000" or "ids:1x448:int64" -> an input. */
export function parseInputSpec(text: string): ExportSpec['inputs'][number] {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3 || !parts[0]) {
    throw new HailoError('INVALID_ARGUMENT', `--input "${text}": expected NAME:SHAPE[:DTYPE], e.g. mel:1x80x3000`);
  }
  const dtype = parts[2];
  if (dtype !== undefined && !DTYPES.includes(dtype as InputDtype)) {
    throw new HailoError('INVALID_ARGUMENT', `--input "${text}": dtype must be one of ${DTYPES.join(', ')}`);
  }
  return { name: parts[0], shape: parseShape(parts[1]!), ...(dtype ? { dtype: dtype as InputDtype } : {}) };
}

/** The export of a model entry of hailo.json. */
export function specFromModel(model: Model, projectRoot: string): ExportSpec {
  if (!model.entry) {
    throw new HailoError('INVALID_ARGUMENT', `model "${model.name}" has no "entry" (package.module:factory) in the project file, so it cannot be exported`);
  }
  return {
    entry: model.entry,
    inputs: model.inputs.map((i) => ({ name: i.name, shape: i.shape, ...(i.dtype ? { dtype: i.dtype } : {}) })),
    outputNames: (model.outputs ?? []).map((o) => o.name),
    opset: model.opset ?? 17,
    out: modelPaths(model, projectRoot).onnx,
    root: path.resolve(projectRoot),
    ...(model.dynamicAxes && Object.keys(model.dynamicAxes).length ? { dynamicAxes: model.dynamicAxes } : {}),
  };
}

/** The driver's command line (after the interpreter). Never passed through a shell. */
export function buildDriverArgv(driverPath: string, spec: ExportSpec): string[] {
  checkEntry(spec.entry);
  if (!spec.inputs.length) throw new HailoError('INVALID_ARGUMENT', 'at least one input is needed');
  const argv = ['-u', driverPath, '--entry', spec.entry];
  for (const i of spec.inputs) {
    if (i.name.includes(':')) throw new HailoError('INVALID_ARGUMENT', `input name "${i.name}" contains ":"`);
    // `--opt=value`: argparse would take a separate value starting with "-" for an option
    // (an output named "--no-sourcemap", or "--dynamic-axes=..."), `=` keeps it a value
    argv.push(`--input=${i.name}:${i.shape.join('x')}${i.dtype ? `:${i.dtype}` : ''}`);
  }
  for (const o of spec.outputNames) argv.push(`--output-name=${o}`);
  argv.push('--opset', String(spec.opset), '--out', path.resolve(spec.out), '--root', spec.root);
  if (spec.dynamicAxes) argv.push('--dynamic-axes', JSON.stringify(spec.dynamicAxes));
  if (spec.sourceMap === false) argv.push('--no-sourcemap');
  if (spec.probe) argv.push('--probe');
  if (spec.kwargs && Object.keys(spec.kwargs).length) argv.push(`--kwargs=${JSON.stringify(spec.kwargs)}`);
  return argv;
}
