#!/usr/bin/env node
// npm start: the extension in a real VS Code in your browser, on the built-in example.
//   npm start [-- --port N] [-- --folder DIR]
// Installs code-server into the test cache if needed (test/setup/install.sh --server-only), builds
// the extension, starts code-server on 127.0.0.1 with the extension installed from this folder and
// examples/whisper-tiny opened, prints the URL and runs until Ctrl+C. Your edits to the example
// stay (it is opened in place). Rebuild with `npm run build` (or keep `npm run watch` running) and
// run "Developer: Reload Window" in the browser to pick up changes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// the harness is TypeScript: the same loader as `node --import tsx`
await import('tsx');
const { isParentNpmVar } = (await import('./cleanEnv.ts')).default;

// Started as `npm start`, the environment carries the parent npm's npm_config_* values (its user
// agent naming Node 20, prefix, cache, node-gyp); the install script and code-server must not see
// them (test/harness/cleanEnv.ts).
for (const k of Object.keys(process.env)) if (isParentNpmVar(k)) delete process.env[k];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const opt = (k) => (argv.includes(k) ? argv[argv.indexOf(k) + 1] : undefined);
const port = Number(opt('--port') ?? process.env.HAILO_START_PORT ?? 0);
const folder = path.resolve(opt('--folder') ?? path.join(root, 'examples', 'whisper-tiny'));
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`npm start: --port ${opt('--port')} is not a port number`);
  process.exit(2);
}
if (!fs.existsSync(folder)) {
  console.error(`npm start: ${folder} does not exist`);
  process.exit(2);
}

const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`npm start: \`${[cmd, ...args].join(' ')}\` failed`);
    process.exit(2);
  }
};
run('bash', ['test/setup/install.sh', '--server-only']);
run(process.execPath, ['scripts/build.mjs']);

let server;
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('\nstopping code-server');
  await server?.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);

const { startCodeServer } = (await import('./codeServer.ts')).default;
server = await startCodeServer({ extensions: [root], workspace: folder, port });
const url = server.workbenchUrl();
console.log(`
Hailo Workbench is running in VS Code (code-server) with ${path.relative(process.cwd(), folder) || folder} open:

    ${url}

Open it in your browser (on a remote machine: ssh -L ${new URL(server.url).port}:127.0.0.1:${new URL(server.url).port} ...).
Click the Hailo icon in the activity bar. Server log: ${server.logFile}
Press Ctrl+C to stop.
`);
