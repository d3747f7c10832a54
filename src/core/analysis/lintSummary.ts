// Moved to src/core/summary/ (one file per kind). Kept for code written against the old path;
// import from '../summary/summarize' instead.
export * from '../summary/summarize';
export { groupFindings, opHistogram, tensorSummaries } from '../summary/shared';
export { summarizeOnnx } from '../summary/onnx';
