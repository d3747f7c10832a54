// Moved to src/core/graph/sourceMap.ts. Kept for code written against the old path.
export * from '../graph/sourceMap';
