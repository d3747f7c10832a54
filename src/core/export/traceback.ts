import { stripAnsi } from '../format';
/**
 * Python tracebacks as data. The export driver reports structured frames, but a Python that dies
 * before the driver runs (a syntax error in a `sitecustomize`, an interpreter too old for the
 * driver) only leaves a traceback on stderr; both end up here.
 */

export interface PyFrame {
  file: string;
  line: number;
  /** Function name; "<module>" for module level; undefined for a SyntaxError location. */
  fn?: string;
  /** Set by the driver: the file is the user's (not torch, not the standard library). */
  user?: boolean;
}

export interface PyTraceback {
  /** Outermost first, as Python prints them. */
  frames: PyFrame[];
  /** "ModuleNotFoundError", "torch.onnx.errors.UnsupportedOperatorError"... */
  errorClass: string;
  message: string;
}

const FRAME = /^\s*File "(.+)", line (\d+)(?:, in (.+))?\s*$/;
const HEADER = /^Traceback \(most recent call last\):\s*$/;
const EXCEPTION = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Warning|Iteration|[A-Z]\w*))(?::\s?(.*))?$/;

/**
 * Parse the last traceback in `text` (chained exceptions print several; the last one is what
 * was raised). Tolerates ANSI colours, CRLF and `\r` progress output mixed into stderr.
 * Undefined when the text holds no traceback.
 */
export function parseTraceback(text: string): PyTraceback | undefined {
  const lines = stripAnsi(text).split(/\r?\n|\r/);
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (HEADER.test(lines[i]!)) {
      start = i;
      break;
    }
  }
  if (start < 0) return undefined;
  const frames: PyFrame[] = [];
  let i = start + 1;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    const m = FRAME.exec(l);
    if (m) {
      frames.push({ file: m[1]!, line: Number(m[2]), ...(m[3] ? { fn: m[3].trim() } : {}) });
      continue;
    }
    // source lines, caret markers and "[Previous line repeated N more times]" are indented
    if (/^\s/.test(l) || l === '' || /^\s*\^+\s*$/.test(l)) continue;
    const e = EXCEPTION.exec(l.trim());
    if (e) {
      // the message may span several lines, up to the next blank line
      const rest: string[] = [];
      for (let j = i + 1; j < lines.length && lines[j] !== '' && !HEADER.test(lines[j]!) && !/^\[hailo-export\]/.test(lines[j]!); j++) rest.push(lines[j]!);
      const message = [e[2] ?? '', ...rest].join('\n').trim();
      return { frames, errorClass: e[1]!, message };
    }
    break;
  }
  return { frames, errorClass: 'Error', message: lines.slice(i).join('\n').trim() };
}

/**
 * The innermost frame that lies in the user's own files: the line to put a diagnostic on. Frames
 * carrying the driver's `user` flag decide by it; otherwise a file counts as the user's when
 * `isUserFile` says so (default: inside `root` and not in an installed package).
 */
export function innermostUserFrame(frames: readonly PyFrame[], isUserFile: (file: string) => boolean): PyFrame | undefined {
  for (let i = frames.length - 1; i >= 0; i--) {
    const f = frames[i]!;
    const user = f.user ?? isUserFile(f.file);
    if (user) return f;
  }
  return undefined;
}

/** A file is the user's when it is under `root` and not inside a virtualenv or installed package. */
export function userFileTest(root: string): (file: string) => boolean {
  const norm = (p: string) => p.replace(/\\/g, '/').replace(/\/+$/, '');
  const r = norm(root) + '/';
  return (file) => {
    const f = norm(file);
    if (f.startsWith('<')) return false;
    if (/\/(site|dist)-packages\//.test(f)) return false;
    return f.startsWith(r);
  };
}
