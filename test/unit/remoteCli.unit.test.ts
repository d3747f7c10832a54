import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../src/cli/main';
import type { CliIO } from '../../src/cli/args';
import { startSshd, sshdUnavailableReason, type TestSshd } from '../harness/sshd';

describe('remote: CLI (hailo-workbench remote) against a real sshd', function () {
  this.timeout(60000);
  let sshd: TestSshd;
  let root: string;

  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    const x: CliIO & { out_: string[]; err_: string[] } = {
      out: (s) => out.push(s),
      err: (s) => err.push(s),
      cwd: root,
      env: { HAILO_SSH_CONFIG: sshd.clientConfig },
      out_: out,
      err_: err,
    };
    return x;
  };

  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipped: ${why}`);
      this.skip();
    }
    sshd = await startSshd();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hwcli-'));
    fs.writeFileSync(path.join(root, 'enc.onnx'), `onnx ${Date.now()}`);
    const emptyVenv = path.join(sshd.dir, 'empty-venv');
    fs.mkdirSync(path.join(emptyVenv, 'bin'), { recursive: true });
    fs.writeFileSync(path.join(emptyVenv, 'bin', 'activate'), 'PATH=/usr/bin:/bin\nexport PATH\n');
    fs.writeFileSync(
      path.join(root, 'hailo.json'),
      JSON.stringify({
        models: [{ name: 'enc', inputs: [{ name: 'mel', shape: [1, 80, 3000] }], onnx: 'enc.onnx', target: 'box' }],
        targets: [
          { name: 'box', host: sshd.alias, workDir: path.join(sshd.dir, 'work'), dfc: { kind: 'venv', path: sshd.venv } },
          { name: 'nodfc', host: sshd.alias, workDir: path.join(sshd.dir, 'work'), dfc: { kind: 'venv', path: emptyVenv } },
          { name: 'stranger', host: 'hwtest-unknown' },
          { name: 'onpath', host: sshd.alias, workDir: path.join(sshd.dir, 'work'), dfc: { kind: 'path' } },
          { name: 'stopped', host: sshd.alias, workDir: path.join(sshd.dir, 'work'), dfc: { kind: 'docker', container: 'stopped' } },
        ],
      }),
    );
    fs.writeFileSync(sshd.controlFile, '{"delay": 0}');
  });
  after(async () => {
    await sshd?.stop();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('check: versions of a target; 1 when the DFC is missing; 2 on an unknown host key', async () => {
    const a = io();
    assert.equal(await main(['remote', 'check', '--target', 'box'], a), 0, a.err_.join('\n'));
    assert.match(a.out_.join('\n'), /DFC 3\.33\.0/);
    const j = io();
    assert.equal(await main(['remote', 'check', '--target', 'box', '--format', 'json'], j), 0);
    const check = JSON.parse(j.out_.join('\n'));
    assert.equal(check.resolved, `${os.userInfo().username}@127.0.0.1:${sshd.port}`);
    assert.equal(check.hailort, '4.23.0');
    const b = io();
    assert.equal(await main(['remote', 'check', '--target', 'nodfc', '--format', 'json'], b), 1);
    assert.match(JSON.parse(b.out_.join('\n')).problem, /not found/);
    const p = io();
    assert.equal(await main(['remote', 'check', '--target', 'onpath'], p), 0, p.err_.join('\n') + p.out_.join('\n'));
    const d = io();
    assert.equal(await main(['remote', 'check', '--target', 'stopped'], d), 1);
    assert.match(d.out_.join('\n'), /container "stopped" is not running/);
    const c = io();
    assert.equal(await main(['remote', 'check', '--target', 'stranger', '--connect-timeout', '5'], c), 2);
    assert.match(c.err_.join('\n'), /host key is not known/);
  });

  it('run: streams the log, writes the run, lists it', async () => {
    const a = io();
    assert.equal(await main(['remote', 'run', '--step', 'parse'], a), 0, a.err_.join('\n'));
    assert.ok(
      a.out_.some((l) => l.includes('Translation completed')),
      a.out_.slice(0, 5).join('\n'),
    );
    const b = io();
    assert.equal(await main(['remote', 'runs'], b), 0);
    assert.match(b.out_.join('\n'), /succeeded\s+enc on box: parse succeeded/);
    assert.ok(fs.existsSync(path.join(root, 'enc.har')));
  });

  it('refuses a missing action', async () => {
    assert.equal(await main(['remote'], io()), 2);
  });
});
