import * as path from 'node:path';

/** The repository root (this file is at test/reference.ts). */
export const REPO_ROOT = path.resolve(__dirname, '..');

/**
 * The shared Hailo reference pack (real logs, .alls scripts), read in place, never copied into the
 * repository: `HAILO_REFERENCE_DIR` (relative paths from the repository root), else
 * `../shared/reference` beside the repository. Tests that need it skip with a visible reason when
 * it is absent.
 */
export const REFERENCE_DIR = path.resolve(REPO_ROOT, process.env.HAILO_REFERENCE_DIR ?? path.join('..', 'shared', 'reference'));
