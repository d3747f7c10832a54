/**
 * Limits on what a reader accepts from a file, so that a corrupt or hostile input ends in a clear
 * error instead of a crash, a hang or gigabytes of memory. Each limit is a named constant; the
 * ones a real model could legitimately need more of can be raised by a setting (README, Settings)
 * or a CLI option, and are passed down as `ReaderLimits`.
 */

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

/** Deepest JSON nesting accepted (HN, HAR metadata, hailo.json). Real files stay under 20 levels. */
export const MAX_JSON_DEPTH = 256;
/** Most JSON values (objects, arrays, strings, numbers...) in one JSON text read into memory. */
export const MAX_JSON_VALUES = 8_000_000;
/** Largest HN / JSON text read into memory, per member or file. Setting `hailo.limits.maxJsonMiB`. */
export const DEFAULT_MAX_JSON_BYTES = 64 * MiB;
/** Total bytes of all HAR members read into memory (HN, variants, metadata, scripts): twice the per-member limit. */
export const JSON_TOTAL_FACTOR = 2;
/** Bytes a gzip HAR may inflate to, weights included. Setting `hailo.limits.archiveMaxInflatedGiB`. */
export const DEFAULT_MAX_INFLATED_BYTES = 32 * GiB;
/** Inflated / compressed ratio above which a gzip HAR is refused as a bomb. Setting `hailo.limits.archiveMaxCompressionRatio`. */
export const DEFAULT_MAX_COMPRESSION_RATIO = 100;
/** The ratio is judged only once this much has been inflated (small tar files compress very well). */
export const COMPRESSION_RATIO_GRACE_BYTES = 64 * MiB;
/** Most members in a HAR. */
export const MAX_HAR_MEMBERS = 10_000;
/** Most nodes in an ONNX graph (all subgraphs included). Setting `hailo.limits.maxOnnxNodes`. */
export const DEFAULT_MAX_ONNX_NODES = 2_000_000;
/** Most `metadata_props` entries in an ONNX model. */
export const MAX_ONNX_METADATA = 100_000;

/** Limits a caller may raise (settings, CLI options). Unset fields use the defaults above. */
export interface ReaderLimits {
  maxJsonBytes?: number;
  maxInflatedBytes?: number;
  maxCompressionRatio?: number;
  maxOnnxNodes?: number;
}

/** What is wrong with a JSON text's shape, found without building it. */
export interface JsonShapeProblem {
  message: string;
  /** Character offset where the limit was crossed. */
  offset: number;
}

/**
 * One linear pass over a JSON (or JSONC) text that measures nesting depth and value count before
 * any parser builds it: `JSON.parse` of 60 MB of `[[[[...` would take gigabytes, and recursive
 * consumers (jsonc-parser, validators, JSON.stringify) overflow the stack far sooner.
 * Returns undefined when the text is within the limits; syntax is not checked here.
 */
export function checkJsonShape(text: string, opts: { maxDepth?: number; maxValues?: number; comments?: boolean } = {}): JsonShapeProblem | undefined {
  const maxDepth = opts.maxDepth ?? MAX_JSON_DEPTH;
  const maxValues = opts.maxValues ?? MAX_JSON_VALUES;
  let depth = 0;
  let values = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      values++;
      // skip the string
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      values++;
      if (++depth > maxDepth) return { message: `nested deeper than ${maxDepth} levels`, offset: i };
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      if (depth > 0) depth--;
    } else if (c === 0x2c /* , */) {
      values++;
    } else if (opts.comments && c === 0x2f /* / */ && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d === 0x2f) {
        const nl = text.indexOf('\n', i + 2);
        i = nl < 0 ? n : nl;
      } else if (d === 0x2a /* * */) {
        const close = text.indexOf('*/', i + 2);
        i = close < 0 ? n : close + 1;
      }
    }
    if (values > maxValues) return { message: `more than ${maxValues.toLocaleString('en-US')} JSON values`, offset: i };
  }
  return undefined;
}
