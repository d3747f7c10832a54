import type * as CoreApi from '../core/api';
import type { ErrorCode, HailoError } from '../core/errors';

/**
 * The adapters' one door to the core's values. The extension bundle (dist/extension.js) holds only
 * the VS Code glue so activation stays fast; the core (zod, protobuf, execa, the parsers) is a
 * second bundle, dist/core.js, built from src/core/api.ts and loaded here on first use, once.
 * Everywhere else in src/adapters core imports are type-only (enforced by the `hailo/layering`
 * lint rule): a value import would silently put a second copy of the module into the extension
 * bundle, and `instanceof HailoError` against that copy would always be false.
 */

export type Core = typeof CoreApi;

let loading: Promise<Core> | undefined;
let loaded: Core | undefined;

/** The core bundle, loaded on the first call. */
export function loadCore(): Promise<Core> {
  return (loading ??= import('../core/api').then((m) => (loaded = m)));
}

/**
 * The core, for code that holds a core result already (so the core has loaded): tree views and
 * publishers drawing ledgers and findings synchronously.
 */
export function loadedCore(): Core {
  if (!loaded) throw new Error('the core bundle is not loaded yet (call loadCore() first)');
  return loaded;
}

/** A core error (with `code`, when given). No core error exists before the core has loaded. */
export function isHailoError(e: unknown, code?: ErrorCode): e is HailoError {
  return loaded ? loaded.errors.isHailoError(e, code) : false;
}

/** The core's `CANCELLED`, or an `AbortError` from Node. */
export function isCancelled(e: unknown): boolean {
  return loaded ? loaded.errors.isCancelled(e) : e instanceof Error && e.name === 'AbortError';
}

// The one static value import: a constant-only module needed at activation (file watchers), before
// the core loads.
export { PROJECT_FILE_NAME } from '../core/project/fileName';
