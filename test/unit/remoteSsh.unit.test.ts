import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SshHost, classifySshFailure, parseSshG, sshConfigHosts } from '../../src/core/remote/ssh';
import { shQuote, shJoin } from '../../src/core/remote/quote';
import { isHailoError } from '../../src/core/errors';
import { startSshd, sshdUnavailableReason, type TestSshd } from '../harness/sshd';

describe('remote: quoting', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    assert.equal(shQuote('abc/def.onnx'), 'abc/def.onnx');
    assert.equal(shQuote(''), "''");
    assert.equal(shQuote("it's"), `'it'\\''s'`);
    assert.equal(shQuote('$(touch x)'), `'$(touch x)'`);
    assert.equal(shJoin(['echo', 'a b']), `echo 'a b'`);
  });
  it('refuses NUL bytes', () => {
    assert.throws(() => shQuote('a\0b'));
  });
});

describe('remote: ssh failure classification', () => {
  it('unknown host key', () => {
    const e = classifySshFailure(
      'h',
      255,
      'No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking.\r\nHost key verification failed.\r\n',
    );
    assert.equal(e?.code, 'SSH_HOST_KEY_UNKNOWN');
  });
  it('changed host key', () => {
    const e = classifySshFailure('h', 255, '@@@@@@@@@@@\n@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\n@@@@@\nHost key verification failed.\n');
    assert.equal(e?.code, 'SSH_HOST_KEY_CHANGED');
  });
  it('auth, unreachable, not ssh', () => {
    assert.equal(classifySshFailure('h', 255, 'user@h: Permission denied (publickey).')?.code, 'SSH_AUTH_FAILED');
    assert.equal(classifySshFailure('h', 255, 'ssh: connect to host 10.0.0.1 port 22: Connection refused')?.code, 'SSH_UNREACHABLE');
    assert.equal(classifySshFailure('h', 255, 'ssh: Could not resolve hostname nope: Name or service not known')?.code, 'SSH_UNREACHABLE');
    assert.equal(classifySshFailure('h', 1, 'whatever'), undefined);
  });
  it('parses ssh -G output and Host lines', () => {
    const r = parseSshG('box', 'user alice\nhostname 10.1.2.3\nport 2200\nidentityfile ~/.ssh/a\nidentityfile ~/.ssh/b\n');
    assert.equal(r.user, 'alice');
    assert.equal(r.port, 2200);
    assert.deepEqual(r.options.identityfile, ['~/.ssh/a', '~/.ssh/b']);
    assert.deepEqual(sshConfigHosts('Host a b *.x !c\n  HostName q\nhost "d"\nMatch host e\n'), ['a', 'b', 'd']);
  });
});

describe('remote: against a real sshd', function () {
  this.timeout(60000);
  let sshd: TestSshd;
  let host: SshHost;
  before(async function () {
    const why = sshdUnavailableReason();
    if (why) {
      console.log(`    skipped: ${why}`);
      this.skip();
    }
    sshd = await startSshd();
    host = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: sshd.controlDir });
  });
  after(async () => {
    await host?.close();
    await sshd?.stop();
  });

  it('resolves the host with ssh -G', async () => {
    const r = await host.resolve();
    assert.equal(r.hostname, '127.0.0.1');
    assert.equal(r.port, sshd.port);
  });

  it('close() ends the master connection (what deactivate does for every host)', async () => {
    const other = new SshHost(sshd.alias, { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: sshd.controlDir });
    await other.exec(['true']);
    assert.ok(await other.isConnected(), 'master up after a command');
    await other.close();
    assert.equal(await other.isConnected(), false, 'no master after close');
  });

  it('runs a command through the multiplexed connection', async () => {
    const r = await host.exec(['echo', 'hello world']);
    assert.equal(r.stdout.toString(), 'hello world\n');
    assert.ok(await host.isConnected(), 'master connection is up');
  });

  it('round-trips hostile arguments byte for byte and executes nothing', async () => {
    const canary = path.join(sshd.dir, 'canary');
    const hostile = [
      'a b',
      "it's",
      '"dq"',
      `$(touch ${canary})`,
      `\`touch ${canary}\``,
      `x\ntouch ${canary}`,
      '-rf',
      '--',
      `; touch ${canary}`,
      `| touch ${canary}`,
      `&& touch ${canary}`,
      '*',
      '~',
      '$HOME',
      '\\',
      'ünïcödé ✓ 中文',
      '',
      ' ',
      '\t',
      "'",
      "''",
      `'$(touch ${canary})'`,
      '>x',
      '<y',
      '!!',
      '#c',
    ];
    const r = await host.exec(['printf', '%s\\0', ...hostile]);
    const got = r.stdout.toString('utf8').split('\0').slice(0, -1);
    assert.deepEqual(got, hostile);
    assert.equal(fs.existsSync(canary), false, 'canary was created: something was executed');
  });

  it('refuses an unknown host key with a typed error', async () => {
    // its own control dir: a master to the same host:port:user would otherwise be reused
    const h = new SshHost('hwtest-unknown', { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: path.join(sshd.dir, 'cu') });
    await assert.rejects(h.exec(['true']), (e: unknown) => isHailoError(e, 'SSH_HOST_KEY_UNKNOWN'));
  });

  it('refuses a changed host key with a typed error', async () => {
    const h = new SshHost('hwtest-changed', { sshPath: 'ssh', connectTimeout: 5, configFile: sshd.clientConfig, controlDir: path.join(sshd.dir, 'cc') });
    await assert.rejects(h.exec(['true']), (e: unknown) => isHailoError(e, 'SSH_HOST_KEY_CHANGED'));
  });

  it('uploads and downloads files', async () => {
    const local = path.join(sshd.dir, 'up.bin');
    fs.writeFileSync(local, Buffer.from([0, 1, 2, 255, 10, 13]));
    const remote = path.join(sshd.dir, 'remote dir', "q'uote $(x)", 'f.bin');
    await host.upload(local, remote);
    const back = path.join(sshd.dir, 'down.bin');
    await host.download(remote, back);
    assert.deepEqual(fs.readFileSync(back), fs.readFileSync(local));
  });

  it('reports upload progress up to the full size, and fails cleanly when the remote cannot write', async () => {
    const local = path.join(sshd.dir, 'big.bin');
    fs.writeFileSync(local, Buffer.alloc(3 * 1024 * 1024, 9));
    const seen: number[] = [];
    await host.upload(local, path.join(sshd.dir, 'big-remote.bin'), undefined, (sent) => seen.push(sent));
    assert.equal(seen[seen.length - 1], 3 * 1024 * 1024);
    assert.deepEqual(fs.readFileSync(path.join(sshd.dir, 'big-remote.bin')), fs.readFileSync(local));
    await assert.rejects(
      host.upload(local, '/proc/hwb-nope/x.bin', undefined, () => {}),
      (e: unknown) => isHailoError(e, 'REMOTE_STEP_FAILED'),
    );
  });

  it('a missing ssh binary and a closed port become typed errors', async () => {
    const noSsh = new SshHost(sshd.alias, {
      sshPath: path.join(sshd.dir, 'no-such-ssh'),
      connectTimeout: 5,
      configFile: sshd.clientConfig,
      controlDir: path.join(sshd.dir, 'cn'),
    });
    await assert.rejects(noSsh.exec(['true']), (e: unknown) => isHailoError(e, 'SSH_FAILED') && /hailo\.ssh\.path/.test((e as Error).message));
    const cfg = path.join(sshd.dir, 'closed_config');
    // port 1 on 127.0.0.1: nothing listens there
    fs.writeFileSync(cfg, `Host closed\n  HostName 127.0.0.1\n  Port 1\n  UserKnownHostsFile ${sshd.knownHosts}\n`);
    const closed = new SshHost('closed', { sshPath: 'ssh', connectTimeout: 3, configFile: cfg, controlDir: path.join(sshd.dir, 'cx') });
    await assert.rejects(closed.exec(['true']), (e: unknown) => isHailoError(e, 'SSH_UNREACHABLE'));
    assert.throws(
      () => new SshHost('-oProxyCommand=touch x', { sshPath: 'ssh', connectTimeout: 3 }),
      (e: unknown) => isHailoError(e, 'INVALID_ARGUMENT'),
    );
  });

  it('reports a non-zero remote exit code', async () => {
    const r = await host.exec(['sh', '-c', 'exit 7'], { check: false });
    assert.equal(r.exitCode, 7);
    await assert.rejects(host.exec(['false']), (e: unknown) => isHailoError(e, 'REMOTE_STEP_FAILED'));
  });
});

describe('remote: control socket directory', () => {
  it('is private, and falls back to /tmp when the preferred path is too long for a socket', async () => {
    const { controlDirFor } = await import('../../src/core/remote/ssh');
    const long = path.join(fs.mkdtempSync('/tmp/hwl-'), 'x'.repeat(90));
    const d = controlDirFor(long);
    assert.ok(d.length + 41 <= 104, d);
    assert.equal(fs.statSync(d).mode & 0o077, 0);
    const short = fs.mkdtempSync('/tmp/hws-');
    fs.chmodSync(short, 0o755);
    assert.equal(controlDirFor(short), short);
    assert.equal(fs.statSync(short).mode & 0o777, 0o700, 'permissions tightened');
  });
});
