// Moved to src/core/finding.ts (beside errors.ts). Kept for code written against the old path.
export * from '../finding';
