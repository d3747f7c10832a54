import * as path from 'node:path';
import { HailoError } from '../errors';
import type { ModelSummary } from '../protocol/modelEditor';
import type { Finding } from '../finding';
import { summarizeHailo } from './hailo';
import { summarizeOnnx } from './onnx';
import type { ReaderLimits } from '../limits';
import type { GraphModel, SourceLocation } from '../graph/model';

/**
 * What the model editor shows for a model file, whatever its kind: one summarizer per kind, in
 * its own file in this folder, listed by file extension below. The editor calls `summarize` and
 * renders the result. A new kind is a new file here and a row in SUMMARIZERS.
 */
export interface SummarizeOptions {
  hwArch?: string;
  projectFile?: string;
  modelName?: string;
  signal?: AbortSignal;
  /** Reader limits raised by settings (src/core/limits.ts). */
  limits?: ReaderLimits;
}

export interface Summarized {
  summary: ModelSummary;
  /** The findings behind `summary.findings` (with related locations), in FindingView id order. */
  findings: Finding[];
  /** The graph read (for the graph view), and where its nodes came from when a source map says so. */
  graph?: GraphModel;
  source?: (nodeId: string) => SourceLocation | undefined;
}

export type Summarizer = (file: string, opts: SummarizeOptions) => Promise<Summarized>;

/** File extension (lower case, with the dot) -> summarizer. */
const SUMMARIZERS: Record<string, Summarizer> = {
  '.onnx': summarizeOnnx,
  // HAR archives and HN files
  '.har': summarizeHailo,
  '.hn': summarizeHailo,
};

export function summarizerFor(file: string): Summarizer | undefined {
  return SUMMARIZERS[path.extname(file).toLowerCase()];
}

/** Summarize a model file; throws INVALID_ARGUMENT for a kind without a summarizer, else the reader's typed errors. */
export async function summarize(file: string, opts: SummarizeOptions = {}): Promise<Summarized> {
  const fn = summarizerFor(file);
  if (!fn) throw new HailoError('INVALID_ARGUMENT', `${file}: no summary for ${path.extname(file) || 'files without an extension'}`, { file });
  return fn(file, opts);
}

export { findingLocation } from './shared';
