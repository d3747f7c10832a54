#!/usr/bin/env node
// The same integration suite in desktop VS Code, through @vscode/test-electron:
//   npm run test:desktop [-- --version 1.90.2] [-- --bundle-only]
// test-electron DOWNLOADS VS Code from update.code.visualstudio.com (cached in .vscode-test/),
// so this is not part of `npm test`, which runs offline in code-server. Set
// VSCODE_EXECUTABLE=/path/to/code to use an installed VS Code instead of downloading one.
// Version: --version, else VSCODE_TEST_VERSION, else 'stable'; 1.90.2 checks the API floor.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
// the harness is TypeScript: the same loader as `node --import tsx`
await import('tsx');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const version = argv.includes('--version') ? argv[argv.indexOf('--version') + 1] : process.env.VSCODE_TEST_VERSION || 'stable';

const { bundleIntegrationSuite, EXAMPLE_DIR } = (await import('./integration.ts')).default;
const { copyWorkspace } = (await import('./codeServer.ts')).default;
if (!fs.existsSync(path.join(root, 'dist', 'extension.js'))) {
  console.error('desktop: dist/extension.js is missing: run `npm run build` first');
  process.exit(2);
}
const extensionTestsPath = await bundleIntegrationSuite();
if (argv.includes('--bundle-only')) {
  console.log(`desktop: suite bundled at ${extensionTestsPath}`);
  process.exit(0);
}

const { runTests } = await import('@vscode/test-electron');
const workspace = copyWorkspace(EXAMPLE_DIR);
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hailo-desktop-'));
let code = 1;
try {
  code = await runTests({
    ...(process.env.VSCODE_EXECUTABLE ? { vscodeExecutablePath: process.env.VSCODE_EXECUTABLE } : { version }),
    extensionDevelopmentPath: root,
    extensionTestsPath,
    extensionTestsEnv: { HAILO_REFERENCE_DIR: process.env.HAILO_REFERENCE_DIR || path.resolve(root, '..', 'shared', 'reference') },
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', '--user-data-dir', userDataDir],
  });
} catch (e) {
  console.error(`desktop: ${e instanceof Error ? e.message : String(e)}`);
} finally {
  fs.rmSync(workspace, { recursive: true, force: true });
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(code);
