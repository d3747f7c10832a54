/**
 * Every error the core raises carries a stable reason code. Callers match on `code`, never on
 * message text; messages name the file and the problem so they can be shown to users as-is.
 */
export type ErrorCode =
  // project file
  | 'PROJECT_NOT_FOUND'
  | 'PROJECT_INVALID_JSON'
  | 'PROJECT_INVALID'
  // model files
  | 'MODEL_READ_FAILED'
  | 'MODEL_EMPTY'
  | 'MODEL_TRUNCATED'
  | 'MODEL_NOT_ONNX'
  | 'MODEL_INVALID'
  | 'MODEL_TOO_LARGE'
  | 'MODEL_CYCLE'
  | 'EXTERNAL_DATA_MISSING'
  | 'EXTERNAL_DATA_ESCAPES'
  | 'EXTERNAL_DATA_INVALID'
  // Hailo archives and logs
  | 'HAR_INVALID'
  | 'HAR_UNSAFE_MEMBER'
  | 'HAR_MEMBER_TOO_LARGE'
  | 'HN_INVALID'
  | 'ALLS_INVALID'
  | 'LOG_READ_FAILED'
  // processes and remote
  | 'PROCESS_FAILED'
  | 'PYTHON_NOT_FOUND'
  | 'PYTHON_MISSING_PACKAGE'
  | 'EXPORT_FAILED'
  | 'SSH_HOST_KEY_UNKNOWN'
  | 'SSH_HOST_KEY_CHANGED'
  | 'SSH_AUTH_FAILED'
  | 'SSH_UNREACHABLE'
  | 'SSH_FAILED'
  | 'REMOTE_TOOL_MISSING'
  | 'REMOTE_STEP_FAILED'
  | 'DEVICE_PROBLEM'
  | 'HEF_INCOMPATIBLE'
  | 'MEMORY_LIMIT'
  | 'RUN_INVALID'
  | 'CANCELLED'
  | 'UNTRUSTED_WORKSPACE'
  | 'INVALID_ARGUMENT'
  // numeric fidelity
  | 'NPY_INVALID'
  | 'FIDELITY_INPUT_INVALID'
  | 'FIDELITY_OUTPUT_MISSING'
  | 'FIDELITY_SHAPE_MISMATCH'
  | 'FIDELITY_DTYPE'
  | 'FIDELITY_NOT_FINITE'
  | 'FIDELITY_STAGE_FAILED'
  | 'FIDELITY_RECORD_INVALID';

export class HailoError extends Error {
  readonly code: ErrorCode;
  /** The file the error is about, when there is one. */
  readonly file: string | undefined;
  override readonly cause: unknown;

  constructor(code: ErrorCode, message: string, opts: { file?: string; cause?: unknown } = {}) {
    super(message);
    this.name = 'HailoError';
    this.code = code;
    this.file = opts.file;
    this.cause = opts.cause;
  }
}

export function isHailoError(e: unknown, code?: ErrorCode): e is HailoError {
  return e instanceof HailoError && (code === undefined || e.code === code);
}

export function isCancelled(e: unknown): boolean {
  return isHailoError(e, 'CANCELLED') || (e instanceof Error && e.name === 'AbortError');
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}

/** Throws CANCELLED when the signal is aborted; call at await points in long work. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new HailoError('CANCELLED', 'Cancelled');
}
