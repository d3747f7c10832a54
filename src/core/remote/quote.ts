/**
 * The one quoting function for the remote POSIX shell. OpenSSH sends a single command string that
 * the remote user's shell parses, so every argv element is wrapped in single quotes; a single
 * quote inside is closed, escaped and reopened (`'\''`). Inside single quotes nothing is special
 * to a POSIX shell: no `$()`, backticks, globbing or word splitting, and newlines are literal.
 */
export function shQuote(arg: string): string {
  if (arg.includes('\0')) throw new TypeError('a shell argument cannot contain a NUL byte');
  if (arg !== '' && /^[A-Za-z0-9_\-+=/.,:@%]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** An argv array as one remote command line. */
export function shJoin(argv: readonly string[]): string {
  if (!argv.length) throw new TypeError('empty command');
  return argv.map(shQuote).join(' ');
}

/**
 * A remote path that may start with `~/`: the tilde is replaced with the given home directory
 * (quoting would otherwise stop the shell from expanding it).
 */
export function expandHome(p: string, home: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return `${home.replace(/\/+$/, '')}/${p.slice(2)}`;
  return p;
}

/** POSIX join for remote paths (the local `path` module may be Windows'). */
export function rjoin(...parts: string[]): string {
  return parts
    .filter((p) => p !== '')
    .map((p, i) => (i === 0 ? p.replace(/\/+$/, '') : p.replace(/^\/+|\/+$/g, '')))
    .join('/');
}
