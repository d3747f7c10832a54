/** Small text helpers shared across the core: one definition each. */

/**
 * ANSI terminal escapes: CSI (colours, cursor moves, `[?25l`), OSC (titles, links, ended by BEL or
 * ST), character-set selection and the keypad/save/restore codes. Global: use with `replace`.
 */
// eslint-disable-next-line no-control-regex -- terminal escape sequences are what this matches
export const ANSI_RE = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][A-Za-z0-9]|\x1b[=>78]/g;

/** Text without ANSI escape sequences. */
export function stripAnsi(s: string): string {
  return s.includes('\x1b') ? s.replace(ANSI_RE, '') : s;
}

const MB = 1024 * 1024;

/** A byte count for people: `512 B`, `1.5 KB`, `12.3 MB`, `420 MB`. */
export function formatBytes(n: number): string {
  if (n >= MB) return `${(n / MB).toFixed(n >= 100 * MB ? 0 : 1)} MB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${n} B`;
}
