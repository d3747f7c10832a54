import { runProcess } from './main';

// The process entry of `hailo-workbench` (dist/cli/main.mjs, started by dist/cli.js): exit codes,
// EPIPE and pending reads are handled by runProcess.
runProcess(process.argv.slice(2));
