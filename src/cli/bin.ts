import type { CliIO } from './args';
import { main } from './main';

// The process entry of `hailo-workbench` (dist/cli/main.mjs, started by dist/cli.js).
const io: CliIO = {
  out: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
  err: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
  cwd: process.cwd(),
  env: process.env,
};
const ac = new AbortController();
process.once('SIGINT', () => ac.abort());
io.signal = ac.signal;
main(process.argv.slice(2), io).then(
  (code) => { process.exitCode = code; },
  (e) => { io.err(String(e)); process.exitCode = 2; },
);
