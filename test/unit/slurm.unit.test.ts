import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ProjectFile, Target, type Model } from '../../src/core/project/schema';
import { shQuote } from '../../src/core/remote/quote';
import { limitProblems, memoryMB, parsePartitions, parseSinfoNodes, timeLimitMinutes } from '../../src/core/slurm/check';
import { hasSqueueJson } from '../../src/core/slurm/client';
import { compressIndices, explainSbatchError, jobScript, parseSbatchParsable, sbatchArgv, type SlurmJobSpec } from '../../src/core/slurm/script';
import {
  describeState,
  formatElapsed,
  isStuckReason,
  isUnknownJob,
  parseKeyValues,
  parseSacct,
  parseScontrolJobs,
  parseSqueueJson,
  sacctDisabled,
  selectJob,
  type SlurmJobState,
} from '../../src/core/slurm/state';
import {
  bestVariant,
  compilerEstimate,
  expandSweep,
  fidelityFigure,
  sortRows,
  sweepArraySpec,
  sweepCsv,
  sweepFidelityStages,
  sweepRows,
  variantModel,
  type VariantResult,
} from '../../src/core/slurm/sweep';
import { explainVerdict } from '../../src/core/slurm/verdict';
import { parseCompilerEstimate } from '../../src/core/hailo/estimate';
import { sweepDevice } from '../../src/core/slurm/sweepRun';
import { HostMessage } from '../../src/core/protocol/sweepResults';
import type { FidelityRecord } from '../../src/core/fidelity/record';
import { SWEEP_COLUMNS } from '../../src/core/slurm/sweep';

/** Output captured from the real Slurm 22.05 test cluster by test/fixtures/slurm/capture.ts. */
const FIX = path.join(__dirname, '..', 'fixtures', 'slurm', '22.05');
const read = (f: string, dir = FIX) => fs.readFileSync(path.join(dir, f), 'utf8');
const jobs = JSON.parse(read('jobs.json')) as Record<string, string>;
/** `exit N\n--- stdout\n...--- stderr\n...` files. */
const cmd = (f: string) => {
  const m = /^exit (\d+)\n--- stdout\n([\s\S]*?)--- stderr\n([\s\S]*)$/.exec(read(f))!;
  return { code: Number(m[1]), stdout: m[2]!, stderr: m[3]! };
};
const one = (all: SlurmJobState[], id: string) => {
  const s = selectJob(all, id);
  assert.equal(s.length, 1, `one record for ${id}: ${JSON.stringify(s.map((j) => j.jobId))}`);
  return s[0]!;
};

describe('slurm: squeue --json (captured 22.05)', () => {
  const queueRaw = JSON.parse(read('squeue-queue.json')) as { jobs: { job_id: number; start_time: number }[] };
  const started = queueRaw.jobs.find((j) => String(j.job_id) === jobs.running)!.start_time;
  const queue = parseSqueueJson(read('squeue-queue.json'), started + 4);

  it('reads running and pending jobs with reason, node and elapsed time', () => {
    const r = one(queue, jobs.running!);
    assert.deepEqual([r.state, r.phase, r.nodes, r.elapsedSeconds, r.timeLimitMinutes, r.name], ['RUNNING', 'running', jobs.node, 4, 5, 'running']);
    assert.equal(describeState(r), `running on ${jobs.node}, 0:04`);
    const res = one(queue, jobs.resources!);
    assert.deepEqual([res.state, res.phase, res.reason, res.startTime, res.nodes], ['PENDING', 'queued', 'Resources', undefined, undefined]);
    assert.equal(describeState(res), 'queued: waiting for CPUs, memory or GPUs to become free');
    assert.equal(one(queue, jobs.priority!).reason, 'Priority');
    const lim = one(queue, jobs.partitionLimit!);
    assert.equal(lim.reason, 'PartitionTimeLimit');
    assert.ok(isStuckReason(lim.reason));
    assert.match(describeState(lim), /will not start: its time limit is longer than the partition's MaxTime/);
  });

  it('reads a pending job array as one record with its element range and throttle', () => {
    const a = one(queue, jobs.array!);
    assert.deepEqual([a.jobId, a.arrayJobId, a.arrayTaskId, a.arrayPending, a.phase], [jobs.array, jobs.array, undefined, '0-3%2', 'queued']);
    assert.match(describeState(a), /\(elements 0-3%2\)$/);
  });

  it('reads every way a job ended: exit codes and signals from the wait status', () => {
    const fin = parseSqueueJson(read('squeue-finished.json'));
    const t = one(fin, jobs.timeout!);
    assert.deepEqual([t.state, t.reason, t.exitCode, t.signal, t.elapsedSeconds], ['TIMEOUT', 'TimeLimit', 0, 15, 88]);
    const f = one(fin, jobs.resources!);
    assert.deepEqual([f.state, f.exitCode, f.signal], ['FAILED', 3, 0]);
    const o = one(fin, jobs.priority!);
    assert.deepEqual([o.state, o.exitCode, o.signal], ['OUT_OF_MEMORY', 0, 125]);
    const c = one(fin, jobs.cancelRunning!);
    assert.deepEqual([c.state, c.signal, c.nodes], ['CANCELLED', 15, jobs.node]);
    const p = one(fin, jobs.partitionLimit!);
    assert.deepEqual([p.state, p.nodes, p.reason], ['CANCELLED', undefined, 'PartitionTimeLimit']);
  });

  it('splits a finished array into its elements (ids ARRAY_INDEX), one failed', () => {
    const els = selectJob(parseSqueueJson(read('squeue-finished.json')), jobs.array!);
    assert.deepEqual(
      els.map((j) => [j.jobId, j.arrayTaskId, j.state, j.exitCode]).sort(),
      [0, 1, 2, 3].map((i) => [`${jobs.array}_${i}`, i, i === 1 ? 'FAILED' : 'COMPLETED', i === 1 ? 1 : 0]),
    );
    assert.equal(selectJob(parseSqueueJson(read('squeue-finished.json')), `${jobs.array}_1`)[0]!.state, 'FAILED');
  });

  it('reads the 23.02+ shape too (state flags as a list, numbers as {set, infinite, number}, exit_code an object)', () => {
    // The shape of data_parser v0.0.40 as documented by SchedMD (no cluster of that version here).
    const doc = {
      jobs: [
        {
          job_id: 77,
          name: 'x',
          job_state: ['RUNNING', 'COMPLETING'],
          state_reason: 'None',
          nodes: 'gpu01',
          array_job_id: { set: true, infinite: false, number: 0 },
          array_task_id: { set: false, infinite: false, number: 0 },
          start_time: { set: true, infinite: false, number: 1000 },
          end_time: { set: true, infinite: false, number: 4600 },
          time_limit: { set: true, infinite: false, number: 60 },
          exit_code: {
            status: ['SUCCESS'],
            return_code: { set: true, infinite: false, number: 0 },
            signal: { id: { set: false, infinite: false, number: 0 }, name: '' },
          },
        },
        {
          job_id: 78,
          job_state: ['OUT_OF_MEMORY'],
          state_reason: 'OutOfMemory',
          nodes: 'gpu02',
          start_time: { set: true, number: 10 },
          end_time: { set: true, number: 70 },
          exit_code: { status: ['SIGNALED'], return_code: { set: true, number: 0 }, signal: { id: { set: true, number: 9 }, name: 'KILL' } },
          time_limit: { set: false, infinite: true, number: 0 },
        },
      ],
    };
    const [a, b] = parseSqueueJson(JSON.stringify(doc), 1100);
    assert.deepEqual(
      [a!.jobId, a!.state, a!.flags, a!.phase, a!.elapsedSeconds, a!.timeLimitMinutes],
      ['77', 'RUNNING', ['COMPLETING'], 'completing', 100, 60],
    );
    assert.match(describeState(a!), /^completing on gpu01/);
    assert.deepEqual([b!.state, b!.signal, b!.elapsedSeconds, b!.timeLimitMinutes], ['OUT_OF_MEMORY', 9, 60, undefined]);
  });

  it('reads state words that are flags alone (COMPLETING, REQUEUED)', () => {
    const c = parseScontrolJobs('JobId=3 JobName=x JobState=COMPLETING Reason=None ExitCode=0:0 RunTime=00:00:05 NodeList=n1\n')[0]!;
    assert.deepEqual([c.state, c.phase], ['COMPLETING', 'completing']);
    assert.equal(describeState(c), "completing on n1: Slurm is ending the job's processes");
    const q = parseScontrolJobs('JobId=4 JobName=x JobState=REQUEUED Reason=BeginTime ExitCode=0:0 RunTime=00:00:00\n')[0]!;
    assert.deepEqual([q.state, q.phase, describeState(q)], ['PENDING', 'queued', 'queued: waiting for its start time']);
  });

  it('refuses text that is not a squeue document, naming it', () => {
    assert.throws(() => parseSqueueJson('squeue: error: Unable to contact slurm controller'), /squeue --json printed no JSON/);
    assert.throws(() => parseSqueueJson('{"x":1}'), /unexpected document/);
  });
});

describe('slurm: scontrol show job (captured 22.05)', () => {
  it('agrees with squeue --json on every finished job', () => {
    const a = parseScontrolJobs(read('scontrol-finished.txt'));
    const b = parseSqueueJson(read('squeue-finished.json'));
    const key = (j: SlurmJobState) => [j.jobId, j.state, j.exitCode, j.signal, j.nodes, j.elapsedSeconds, j.arrayTaskId].join('|');
    assert.equal(a.length, 10);
    assert.deepEqual(a.map(key).sort(), b.map(key).sort());
  });

  it('reads the queue, the multi-line form and a cancelled running job', () => {
    const q = parseScontrolJobs(read('scontrol-queue.txt'));
    assert.equal(one(q, jobs.resources!).reason, 'Resources');
    assert.equal(one(q, jobs.array!).arrayPending, '0-3%2');
    const ml = parseScontrolJobs(read('scontrol-pending.txt'));
    assert.deepEqual([ml.length, ml[0]!.jobId, ml[0]!.state, ml[0]!.reason, ml[0]!.timeLimitMinutes], [1, jobs.resources, 'PENDING', 'Resources', 5]);
    const c = parseScontrolJobs(read('scontrol-after-cancel.txt'))[0]!;
    assert.deepEqual([c.state, c.signal, c.nodes], ['CANCELLED', 15, jobs.node]);
  });

  it('keeps values with spaces whole', () => {
    const kv = parseKeyValues('JobId=5 JobName=a b Reason=Nodes required for job are DOWN WorkDir=/x y/z');
    assert.deepEqual(kv, { JobId: '5', JobName: 'a b', Reason: 'Nodes required for job are DOWN', WorkDir: '/x y/z' });
  });

  it("knows scontrol's answer for a job it forgot", () => {
    const r = cmd('scontrol-unknown.txt');
    assert.equal(r.code, 1);
    assert.ok(isUnknownJob(r.stderr));
  });
});

describe('slurm: sacct', () => {
  it('knows when accounting is off (captured)', () => {
    const r = cmd('sacct-disabled.txt');
    assert.ok(sacctDisabled(r.stderr + r.stdout));
  });
  it('folds job steps into their job (--parsable2 format; no accounting on the test cluster)', () => {
    const text = [
      '12|hwb-optimize|gpu|FAILED|0:9|00:41:02|gpu07|None|02:00:00',
      '12.batch|batch||OUT_OF_MEMORY|0:125|00:41:02|gpu07||',
      '13|hwb-parse|gpu|CANCELLED by 1000|0:15|00:00:03|gpu01|None|01:00:00',
      '14_2|hwb-sweep|gpu|TIMEOUT|0:0|01:00:01|gpu03|TimeLimit|01:00:00',
      '15_[3-7%2]|hwb-sweep|gpu|PENDING|0:0|00:00:00|None assigned|JobArrayTaskLimit|01:00:00',
      '',
    ].join('\n');
    const j = parseSacct(text);
    assert.deepEqual(
      j.map((x) => [x.jobId, x.state, x.exitCode, x.signal, x.elapsedSeconds, x.nodes]),
      [
        ['12', 'OUT_OF_MEMORY', 0, 9, 2462, 'gpu07'],
        ['13', 'CANCELLED', 0, 15, 3, 'gpu01'],
        ['14_2', 'TIMEOUT', 0, 0, 3601, 'gpu03'],
        ['15', 'PENDING', undefined, undefined, undefined, undefined],
      ],
    );
    assert.equal(j[3]!.arrayPending, '3-7%2');
    assert.equal(describeState(j[3]!), "queued: waiting: the sweep's concurrency limit is reached (the other variants run first) (elements 3-7%2)");
  });
});

describe('slurm: verdicts', () => {
  const fin = parseSqueueJson(read('squeue-finished.json'));
  const req = { partition: 'debug', memory: '64G', timeLimit: '2:00:00', cpus: 8 };
  it('OUT_OF_MEMORY (cgroup) says what to raise', () => {
    const v = explainVerdict(one(fin, jobs.priority!), { request: req, step: 'optimize' });
    assert.equal(v.kind, 'out-of-memory');
    assert.equal(v.title, 'Out of memory: the job used more than the 64G it asked for');
    assert.match(v.change!, /Raise "slurm\.memory" in hailo\.json \(now 64G\)/);
    assert.match(v.change!, /calibration set/);
  });
  it('a memory kill without cgroups (FAILED, signal 9, slurmstepd message) is out of memory too (captured)', () => {
    const dir = path.join(FIX, '..', '22.05-overmemorykill');
    const ids = JSON.parse(read('jobs.json', dir)) as Record<string, string>;
    const j = parseScontrolJobs(read('scontrol.txt', dir))[0]!;
    assert.deepEqual([j.jobId, j.state, j.signal], [ids.oom, 'FAILED', 9]);
    assert.equal(explainVerdict(j, { logTail: read('job-output.txt', dir) }).kind, 'out-of-memory');
    assert.equal(explainVerdict(j, { logTail: 'no memory message' }).kind, 'failed');
    assert.equal(one(parseSqueueJson(read('squeue.json', dir)), ids.oom!).signal, 9);
  });
  it('TIMEOUT, FAILED with exit code, CANCELLED while pending and while running', () => {
    const t = explainVerdict(one(fin, jobs.timeout!), { request: req, logTail: JSON.parse(read('job-output.json'))[`${jobs.timeout}.out`] });
    assert.equal(t.kind, 'timeout');
    assert.equal(t.title, 'Time limit reached (2:00:00)');
    assert.match(t.change!, /Raise "slurm\.timeLimit" in hailo\.json \(now "2:00:00"\)/);
    // the script exited on the signal before the controller marked the limit: slurmstepd's line decides
    const failedAtLimit = { ...one(fin, jobs.timeout!), state: 'FAILED' as const, exitCode: 143 };
    assert.equal(
      explainVerdict(failedAtLimit, { request: req, logTail: 'slurmstepd: error: *** JOB 7 ON node1 CANCELLED AT 2026-12-06T12:00:00 DUE TO TIME LIMIT ***' })
        .kind,
      'timeout',
    );
    assert.equal(explainVerdict(failedAtLimit, { request: req, logTail: 'Traceback ...' }).kind, 'failed');
    assert.equal(explainVerdict(one(fin, jobs.resources!)).title, 'Failed with exit code 3');
    const p = explainVerdict(one(fin, jobs.partitionLimit!));
    assert.match(p.detail, /cancelled before it started \(pending, will not start: its time limit is longer/);
    const r = explainVerdict(one(fin, jobs.cancelRunning!));
    assert.match(r.detail, new RegExp(`Job ${jobs.cancelRunning} on ${jobs.node} was cancelled after 0:0\\d`));
  });
  it('NODE_FAIL, PREEMPTED and exit 127 say what to do', () => {
    const base: SlurmJobState = { jobId: '9', state: 'NODE_FAIL', flags: [], phase: 'finished', nodes: 'gpu07', elapsedSeconds: 700, source: 'squeue' };
    const n = explainVerdict(base);
    assert.equal(n.kind, 'node-failure');
    assert.match(n.change!, /--exclude=gpu07/);
    assert.equal(explainVerdict({ ...base, state: 'PREEMPTED' }).kind, 'preempted');
    assert.match(explainVerdict({ ...base, state: 'FAILED', exitCode: 127, signal: 0 }).change!, /slurm\.dfc/);
  });
});

describe('slurm: sbatch', () => {
  const opts = {
    partition: 'gpu',
    cpus: 16,
    memory: '64G',
    timeLimit: '4:00:00',
    gpus: 1,
    gpuType: 'a100',
    account: 'ml',
    dfc: { kind: 'venv' as const, path: '~/hailo venv' },
  };
  const spec = (dir: string): SlurmJobSpec => ({
    name: 'hwb-run1-parse',
    scriptPath: `${dir}/parse.sbatch.sh`,
    output: `${dir}/parse.log`,
    chdir: dir,
    tasks: [{ dir, commands: [['hailo', 'parser', 'onnx', `${dir}/m.onnx`, '--net-name', "it's $(x)"]] }],
  });

  it('builds the argv with every resource and --parsable', () => {
    assert.deepEqual(sbatchArgv({ ...opts, sbatchArgs: ['--constraint=x86'] }, spec('/w/run 1')), [
      'sbatch',
      '--parsable',
      '--job-name=hwb-run1-parse',
      '--partition=gpu',
      '--cpus-per-task=16',
      '--mem=64G',
      '--time=4:00:00',
      '--output=/w/run 1/parse.log',
      '--chdir=/w/run 1',
      '--no-requeue',
      '--gres=gpu:a100:1',
      '--account=ml',
      '--constraint=x86',
      '/w/run 1/parse.sbatch.sh',
    ]);
    assert.throws(() => sbatchArgv(opts, { ...spec('/w'), name: 'a;b' }), /job name/);
  });

  it('writes a script a POSIX shell reads, with hostile values as data', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hwb-sb '$(touch pwned)"));
    try {
      const text = jobScript(opts, spec(dir));
      assert.ok(text.startsWith('#!/bin/sh\n'));
      assert.match(text, /\. "\$HOME"\/'hailo venv'\/bin\/activate/);
      const file = path.join(dir, 'job.sh');
      fs.writeFileSync(file, text);
      assert.equal(spawnSync('sh', ['-n', file]).status, 0);
      // run it with a fake venv and a fake hailo that prints its argv
      const home = path.join(dir, 'home');
      fs.mkdirSync(path.join(home, 'hailo venv', 'bin'), { recursive: true });
      fs.writeFileSync(path.join(home, 'hailo venv', 'bin', 'activate'), `PATH=${shQuote(path.join(home, 'bin'))}:$PATH\n`);
      fs.mkdirSync(path.join(home, 'bin'));
      fs.writeFileSync(path.join(home, 'bin', 'hailo'), '#!/bin/sh\nfor a in "$@"; do printf "<%s>" "$a"; done; echo\n', { mode: 0o755 });
      const r = spawnSync('sh', [file], { env: { PATH: '/usr/bin:/bin', HOME: home, SLURM_JOB_ID: '42' }, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.match(lines[0]!, /^hwb-job: 42 on \S+ at \d{4}-/);
      assert.equal(lines[1], `<parser><onnx><${dir}/m.onnx><--net-name><it's $(x)>`);
      assert.equal(lines[2], 'hwb-exit: 0 0');
      assert.ok(!fs.existsSync(path.join(process.cwd(), 'pwned')) && !fs.existsSync('pwned'));
      assert.equal(fs.readFileSync(path.join(dir, 'hwb-job.exit'), 'utf8').trim(), '0');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('enters a container or modules, and refuses option-like names', () => {
    const c = jobScript({ ...opts, dfc: { kind: 'container', image: '/shared/dfc.sif', bind: ['/data'] } }, spec('/w'), ['/w']);
    assert.match(c, /apptainer exec --bind \/w,\/data \/shared\/dfc\.sif hailo parser/);
    const m = jobScript({ ...opts, dfc: { kind: 'path', modules: ['hailo/3.33'] } }, spec('/w'));
    assert.match(m, /module load hailo\/3\.33 \|\|/);
    assert.throws(() => jobScript({ ...opts, dfc: { kind: 'container', image: '--privileged' } }, spec('/w')), /starts with "-"/);
  });

  it('reads the job id and explains refusals (captured)', () => {
    assert.equal(parseSbatchParsable(cmd('sbatch-too-many-cpus.txt').stdout), '11');
    assert.equal(parseSbatchParsable('12;cluster2\n'), '12');
    assert.equal(parseSbatchParsable('Submitted batch job 12'), undefined);
    const bad = { partition: 'nosuchpartition', memory: '100G', timeLimit: '5', cpus: 1 };
    assert.match(
      explainSbatchError(cmd('sbatch-bad-partition.txt').stderr, bad),
      /^Slurm has no partition "nosuchpartition" \(Invalid partition name specified\)\. Set "slurm\.partition"/,
    );
    assert.match(
      explainSbatchError(cmd('sbatch-too-much-memory.txt').stderr, bad),
      /^No node in partition "nosuchpartition" has what the job asks for: 1 CPUs, 100G memory/,
    );
  });

  it('writes array ranges with a concurrency limit', () => {
    assert.equal(compressIndices([5, 0, 1, 2, 3, 7, 8, 9]), '0-3,5,7-9');
    const variants = expandSweep(
      { name: 's', model: 'm', matrix: { kwargs: { w: [1, 2, 3] } } },
      { name: 'm', onnx: 'm.onnx', inputs: [{ name: 'x', shape: [1, 3] }] },
    );
    const all = sweepArraySpec({ sweepName: 's', runDir: '/r', variants, limit: 2, commands: (_v, d) => [['hailo', 'parser', 'onnx', `${d}/m.onnx`]] });
    assert.ok(sbatchArgv(opts, all).includes('--array=0-2%2'));
    const some = sweepArraySpec({ sweepName: 's', runDir: '/r', variants, limit: 2, only: [variants[2]!.id], commands: () => [['true']] });
    assert.ok(sbatchArgv(opts, some).includes('--array=2%2'));
    assert.match(jobScript(opts, all), new RegExp(`^1\\)\\n  cd /r/${variants[1]!.id} `, 'm'));
  });
});

describe('slurm: Check Target parsing and limits (captured)', () => {
  const parts = parsePartitions(read('scontrol-partition.txt'));
  const nodes = parseSinfoNodes(read('sinfo-nodes.txt'));
  it('reads partitions and nodes', () => {
    assert.deepEqual(
      parts.map((p) => [p.name, p.state, p.maxTimeMinutes, p.maxCpusPerNode, p.maxMemPerNodeMB]),
      [
        ['debug', 'UP', 10, undefined, undefined],
        ['tiny', 'UP', 1, 1, 500],
      ],
    );
    assert.deepEqual(nodes, [{ name: jobs.node, cpus: 8, memoryMB: 2000, gpus: 0, state: 'idle' }]);
    assert.deepEqual(parseSinfoNodes('g1|64|512000|gpu:a100:4(S:0-1),shard:8|mix\n'), [{ name: 'g1', cpus: 64, memoryMB: 512000, gpus: 4, state: 'mix' }]);
    assert.ok(/UP/.test(read('scontrol-ping.txt')));
    assert.ok(hasSqueueJson(read('sinfo-version.txt')));
    assert.ok(!hasSqueueJson('slurm 20.11.9'));
  });
  it('finds what does not fit and says what to set', () => {
    const debug = parts[0]!;
    assert.deepEqual(limitProblems({ partition: 'debug', cpus: 4, memory: '1G', timeLimit: '10' }, debug, nodes), []);
    const p = limitProblems({ partition: 'debug', cpus: 16, memory: '4G', timeLimit: '0:10:30', gpus: 1 }, debug, nodes);
    assert.equal(p.length, 2);
    assert.match(p[0]!.problem, /time limit 0:10:30 \(11 min\) is above the partition's MaxTime of 10 min/);
    assert.match(p[1]!.problem, /no node of partition "debug" has 16 CPUs, 4096 MB and 1 GPUs \(largest: 8 CPUs, 2000 MB, 0 GPUs\)/);
  });
  it('converts Slurm sizes and times as Slurm does', () => {
    assert.deepEqual(['500', '500M', '2G', '1T', '2048K'].map(memoryMB), [500, 500, 2048, 1048576, 2]);
    assert.deepEqual(['90', '1:30', '2:00:00', '1-0', '1-2:03', '0:0:01'].map(timeLimitMinutes), [90, 2, 120, 1440, 1563, 1]);
    assert.equal(formatElapsed(93784), '1-02:03:04');
  });
});

describe('slurm: sweeps', () => {
  const model = { name: 'enc', onnx: 'enc.onnx', inputs: [{ name: 'mel', shape: [1, 80, 3000] }] };
  const sweep = {
    name: 's',
    model: 'enc',
    matrix: {
      kwargs: { width: [256, 384], attention: ['conv', 'linear'] },
      inputShapes: { mel: [[1, 80, 1000]] },
      modelScripts: [null, 'a.alls'],
      hwArch: ['hailo8l' as const],
    },
  };

  it('expands every combination with readable labels and unique ids', () => {
    const v = expandSweep(sweep, model);
    assert.equal(v.length, 8);
    assert.equal(v[0]!.label, 'width=256 attention=conv mel=1x80x1000 alls=none hw=hailo8l');
    assert.equal(v[7]!.label, 'width=384 attention=linear mel=1x80x1000 alls=a.alls hw=hailo8l');
    assert.equal(new Set(v.map((x) => x.id)).size, 8);
    assert.ok(v.every((x, i) => x.index === i && /^v-[0-9a-f]{10}$/.test(x.id)));
    const m = variantModel(model, v[7]!);
    assert.deepEqual([m.inputs[0]!.shape, m.modelScript, m.hwArch], [[1, 80, 1000], 'a.alls', 'hailo8l']);
    assert.equal(variantModel({ ...model, modelScript: 'base.alls' }, v[0]!).modelScript, undefined);
  });

  it('keeps ids when axes are reordered or a value is added', () => {
    const a = expandSweep(sweep, model);
    const b = expandSweep(
      {
        ...sweep,
        matrix: {
          hwArch: ['hailo8l'],
          modelScripts: [null, 'a.alls'],
          inputShapes: { mel: [[1, 80, 1000]] },
          kwargs: { attention: ['conv', 'linear', 'none'], width: [256, 384] },
        },
      },
      model,
    );
    assert.equal(b.length, 12);
    const ids = new Map(b.map((x) => [x.id, x]));
    for (const x of a) assert.deepEqual(ids.get(x.id)?.kwargs, x.kwargs);
  });

  it('refuses duplicates, unknown inputs and too many variants', () => {
    assert.throws(() => expandSweep({ name: 's', model: 'enc', matrix: { kwargs: { w: [1, 1] } } }, model), /lists the same value twice/);
    assert.throws(() => expandSweep({ name: 's', model: 'enc', matrix: { inputShapes: { nope: [[1]] } } }, model), /no input named "nope"/);
    assert.throws(
      () =>
        expandSweep(
          { name: 's', model: 'enc', matrix: { kwargs: { a: Array.from({ length: 40 }, (_, i) => i), b: Array.from({ length: 40 }, (_, i) => i) } } },
          model,
        ),
      /1600 variants/,
    );
  });

  it('picks the best variant within the budget, marks it, sorts and exports CSV', () => {
    const v = expandSweep({ name: 's', model: 'enc', matrix: { kwargs: { w: [1, 2, 3, 4] } } }, model);
    const ok = { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' } as const;
    const results: VariantResult[] = [
      { variant: v[0]!, steps: ok, latencyMs: 31, lintErrors: 0, rewrites: { fused: 3, decomposed: 0 } },
      { variant: v[1]!, steps: ok, estimate: { latencyMs: 18, fps: 55 }, lintErrors: 2, contexts: 3 },
      { variant: v[2]!, steps: { parse: 'succeeded', optimize: 'failed' }, firstError: '=cmd|" /C calc"!A0, "quoted"' },
      { variant: v[3]!, steps: ok, latencyMs: 25 },
    ];
    assert.equal(bestVariant(results, 30)!.variant.id, v[1]!.id);
    assert.equal(bestVariant(results, 10), undefined);
    assert.equal(
      bestVariant(
        results.map((r, i) => ({ ...r, fidelity: [30, 20, 0, 40][i] })),
        30,
      )!.variant.id,
      v[3]!.id,
    );
    const rows = sweepRows(results, 30);
    assert.deepEqual(
      rows.map((r) => [r.meetsBudget, r.best, r.compile]),
      [
        ['no', false, 'succeeded'],
        ['yes', true, 'succeeded'],
        ['no', false, 'not-run'],
        ['yes', false, 'succeeded'],
      ],
    );
    assert.equal(rows[0]!.rewrites, 'fused 3');
    assert.deepEqual(
      sortRows(rows, 'latencyMs').map((r) => r.latencyMs),
      [25, 31, '', ''],
    );
    assert.deepEqual(
      sortRows(rows, 'lintErrors', 'desc').map((r) => r.lintErrors),
      [2, 0, '', ''],
    );
    // variant labels sort by the numbers in them (width=8 before width=24), not as plain text
    const labelled = ['width=24', 'width=8', 'width=16'].map((values, i) => ({ ...rows[i % rows.length]!, label: values }));
    assert.deepEqual(
      sortRows(labelled, 'label').map((r) => r.label),
      ['width=8', 'width=16', 'width=24'],
    );
    assert.deepEqual(
      sortRows(labelled, 'label', 'desc').map((r) => r.label),
      ['width=24', 'width=16', 'width=8'],
    );
    const csv = sweepCsv(rows);
    const lines = csv.split('\r\n');
    assert.equal(
      lines[0],
      'Variant,Values,Lint errors,Rewrites,Parse,Optimize,Compile,First error,Contexts,Estimated FPS,Estimated latency (ms),Latency (ms),Fidelity,Meets budget,Best,Slurm job',
    );
    assert.equal(lines[2], `${v[1]!.id},w=2,2,,succeeded,succeeded,succeeded,,3,55,18,,,yes,yes,`);
    assert.ok(lines[3]!.includes(`,"'=cmd|"" /C calc""!A0, ""quoted""",`), lines[3]);
    assert.equal(lines.length, 6);
  });
});

describe('slurm: sweep table columns from the ledger, the device and the compiler estimate', () => {
  const model: Model = { name: 'enc', onnx: 'enc.onnx', inputs: [{ name: 'mel', shape: [1, 80, 3000] }] };
  const v = expandSweep({ name: 's', model: 'enc', matrix: { kwargs: { w: [1, 2, 3, 4] } } }, model);
  const ok = { parse: 'succeeded', optimize: 'succeeded', compile: 'succeeded' } as const;

  it('fills rewrites by kind and the measured latency; empty cells say why, the estimate column names its reason (no profiler summary in the log)', () => {
    const results: VariantResult[] = [
      // as measureVariants records them: ledger counts without "kept", the device run's latency
      { variant: v[0]!, steps: ok, rewrites: { decomposed: 2, fused: 5, removed: 0, added: 1, layout: 0, host: 0, unmatched: 0 }, latencyMs: 12.5 },
      {
        variant: v[1]!,
        steps: ok,
        rewrites: { fused: 1 },
        notes: { latencyMs: 'not measured: pi5: hailortcli benchmark failed', estimate: compilerEstimate('[info] Compiling network').reason! },
      },
      { variant: v[2]!, steps: { parse: 'failed', optimize: 'not-run', compile: 'not-run' }, firstError: 'UnsupportedOperationError' },
      { variant: v[3]!, steps: ok, notes: { rewrites: 'not available: x.har: not a HAR (gzip or tar)' }, latencyMs: 9 },
    ];
    const rows = sweepRows(results, 10);
    assert.deepEqual(
      rows.map((r) => [r.rewrites, r.latencyMs, r.best]),
      [
        ['decomposed 2, fused 5, added 1', 12.5, false],
        ['fused 1', '', false],
        ['', '', false],
        ['', 9, true],
      ],
    );
    assert.equal(rows[0]!.notes.rewrites, undefined, 'a filled cell has no note');
    assert.equal(rows[0]!.notes.latencyMs, undefined);
    assert.equal(rows[1]!.notes.latencyMs, 'not measured: pi5: hailortcli benchmark failed');
    assert.match(rows[2]!.notes.rewrites!, /not parsed \(parse failed\)/);
    assert.match(rows[2]!.notes.latencyMs!, /did not compile/);
    assert.match(rows[2]!.notes.estimate!, /did not compile/);
    assert.equal(rows[3]!.notes.rewrites, 'not available: x.har: not a HAR (gzip or tar)');
    for (const r of [rows[0]!, rows[1]!, rows[3]!]) assert.equal(r.estimatedFps, '');
    assert.match(rows[1]!.notes.estimate!, /^not available: no "Performance Summary"/);
    for (const r of [rows[0]!, rows[3]!]) assert.match(r.notes.estimate!, /^not available: the compiler's performance estimate was not read/);
    assert.match(rows[3]!.notes.fidelity!, /runs no fidelity check/);
    // sorted by latency: measured first, the empty ones last
    assert.deepEqual(
      sortRows(rows, 'latencyMs').map((r) => r.id),
      [v[3]!.id, v[0]!.id, v[1]!.id, v[2]!.id],
    );
    const csv = sweepCsv(rows).split('\r\n');
    assert.ok(csv[1]!.startsWith(`${v[0]!.id},w=1,,"decomposed 2, fused 5, added 1",succeeded,`), csv[1]);
    assert.ok(csv[1]!.includes(',12.5,'), csv[1]);
    assert.ok(!csv.join('').includes('not available'), 'notes are tooltips, not CSV cells');
    // the message the panel gets carries the notes and validates
    const msg = HostMessage.safeParse({ type: 'sweep', id: 'x', name: 's', model: 'enc', target: 't', status: 'succeeded', columns: SWEEP_COLUMNS, rows });
    assert.ok(msg.success, JSON.stringify(msg.error?.issues));
  });

  it('a variant still running has no verdict yet: empty cells say it is pending, it neither meets nor misses the budget', () => {
    const rows = sweepRows(
      [
        { variant: v[0]!, steps: { parse: 'running', optimize: 'not-run', compile: 'not-run' } },
        { variant: v[1]!, steps: { parse: 'succeeded', optimize: 'failed', compile: 'not-run' } },
      ],
      10,
    );
    assert.equal(rows[0]!.meetsBudget, '');
    assert.deepEqual(Object.values(rows[0]!.notes), Array(4).fill('pending: the variant has not finished'));
    assert.equal(rows[1]!.meetsBudget, 'no');
    assert.match(rows[1]!.notes.latencyMs!, /did not compile \(compile not-run\)/);
  });

  it("reads the estimate from a compile log that holds the profiler's Performance Summary, and says why when it holds none", () => {
    assert.match(compilerEstimate('').reason!, /compile log of this variant is empty/);
    const r = compilerEstimate('[info] Compiling network\n[info] Successful Compilation');
    assert.equal(r.estimate, undefined);
    assert.match(r.reason!, /^not available: no "Performance Summary"/);
    const fixtures = path.join(__dirname, '..', 'fixtures', 'dfc');
    const withEstimate = `[info] Successful Compilation\n${fs.readFileSync(path.join(fixtures, 'hailomz-profile-whisper-enc-hailo8l-estimate.log'), 'utf8')}`;
    const e = compilerEstimate(withEstimate).estimate!;
    const expected = parseCompilerEstimate(withEstimate)!;
    assert.ok(e.fps! > 0 && e.latencyMs! > 0);
    assert.deepEqual(e, { fps: expected.fps, latencyMs: expected.latencyMs });
    const na = compilerEstimate(fs.readFileSync(path.join(fixtures, 'hailomz-profile-whisper-enc-hailo8l-na.log'), 'utf8'));
    assert.equal(na.estimate, undefined);
    assert.match(na.reason!, /^not available: the profiler's Performance Summary gives no throughput or latency/);
  });

  it("fills the fidelity column with the SNR against the reference of the last stage compared, the note saying which; a failed check's note stays in the empty cell", () => {
    type Cmp = FidelityRecord['comparisons'][number];
    const cmp = (stage: string, output: string, snrDb: number | null, against = 'reference', reference = 'torch'): Cmp =>
      ({ stage, reference, against, output, metrics: { cosine: 0.999, snrDb, maxAbs: 0.1, meanAbs: 0.01 } }) as unknown as Cmp;
    const stage = (s: string, status: 'ok' | 'failed' | 'skipped', message?: string) =>
      ({ stage: s, status, ...(message ? { message } : {}) }) as FidelityRecord['stages'][number];
    // onnx and quantized compared with torch (and quantized with onnx): the last stage, the lower of its two outputs
    const rec = {
      stages: [stage('torch', 'ok'), stage('onnx', 'ok'), stage('quantized', 'ok'), stage('device', 'skipped', 'the sweep "s" names no device')],
      comparisons: [
        cmp('onnx', 'a', 80.5),
        cmp('onnx', 'b', 79),
        cmp('quantized', 'a', 31.25),
        cmp('quantized', 'b', 27.5),
        cmp('quantized', 'a', 12, 'previous', 'onnx'),
      ],
    };
    const fig = fidelityFigure(rec);
    assert.equal(fig.value, 27.5);
    assert.match(
      fig.note,
      /^SNR \(dB\) of quantized against torch, output b, the lowest of 2, cosine 0\.99900; device skipped: the sweep "s" names no device$/,
    );
    // only the reference ran: nothing to compare, and why
    const none = fidelityFigure({ stages: [stage('torch', 'ok'), stage('onnx', 'failed', 'enc.onnx: not an ONNX file')], comparisons: [] });
    assert.equal(none.value, undefined);
    assert.equal(none.note, 'not measured: only torch ran, nothing to compare with (onnx failed: enc.onnx: not an ONNX file)');
    // identical outputs have no finite SNR: no figure, the note says exact
    const exact = fidelityFigure({ stages: [stage('torch', 'ok'), stage('onnx', 'ok')], comparisons: [cmp('onnx', 'a', null)] });
    assert.equal(exact.value, undefined);
    assert.match(exact.note, /^not measured: onnx is exact against torch/);

    const results: VariantResult[] = [
      { variant: v[0]!, steps: ok, latencyMs: 5, fidelity: fig.value!, notes: { fidelity: `${fig.note} (.hailo/runs/x/fidelity.json)` } },
      { variant: v[1]!, steps: ok, latencyMs: 4, notes: { fidelity: 'not measured: the fidelity check failed: torch: the model factory failed' } },
      { variant: v[2]!, steps: ok, latencyMs: 6, fidelity: 41.25 },
    ];
    const rows = sweepRows(results, 10);
    assert.deepEqual(
      rows.map((r) => r.fidelity),
      [27.5, '', 41.25],
    );
    assert.equal(rows[0]!.notes.fidelity, `${fig.note} (.hailo/runs/x/fidelity.json)`, 'a measured figure says what it is');
    assert.equal(rows[1]!.notes.fidelity, 'not measured: the fidelity check failed: torch: the model factory failed');
    assert.equal(rows[2]!.notes.fidelity, undefined);
    // not every candidate has a figure: the lowest latency wins; with one for each, the highest fidelity
    assert.equal(rows.find((r) => r.best)!.id, v[1]!.id);
    assert.equal(sweepRows([results[0]!, results[2]!], 10).find((r) => r.best)!.id, v[2]!.id);
    assert.deepEqual(
      sortRows(rows, 'fidelity', 'desc').map((r) => r.id),
      [v[2]!.id, v[0]!.id, v[1]!.id],
    );
    const csv = sweepCsv(rows).split('\r\n');
    const col = SWEEP_COLUMNS.findIndex((c) => c.key === 'fidelity');
    assert.deepEqual(
      csv.slice(0, 4).map((l) => l.split(',')[col]),
      ['Fidelity', '27.5', '', '41.25'],
    );
    const msg = HostMessage.safeParse({ type: 'sweep', id: 'x', name: 's', model: 'enc', target: 't', status: 'succeeded', columns: SWEEP_COLUMNS, rows });
    assert.ok(msg.success, JSON.stringify(msg.error?.issues));
  });

  it('"fidelity" on a sweep: true takes the model\'s fidelity.stages (else torch, onnx), a list its stages in pipeline order', () => {
    const sweep = { name: 'w', model: 'enc', matrix: { kwargs: { w: [1] } } };
    assert.equal(sweepFidelityStages(sweep, model), undefined);
    assert.equal(sweepFidelityStages({ ...sweep, fidelity: false }, model), undefined);
    assert.deepEqual(sweepFidelityStages({ ...sweep, fidelity: true }, model), ['torch', 'onnx']);
    assert.deepEqual(sweepFidelityStages({ ...sweep, fidelity: true }, { ...model, fidelity: { stages: ['quantized', 'torch'] } } as Model), [
      'torch',
      'quantized',
    ]);
    assert.deepEqual(sweepFidelityStages({ ...sweep, fidelity: ['device', 'onnx', 'torch'] }, model), ['torch', 'onnx', 'device']);
    assert.ok(ProjectFile.safeParse({ models: [model], sweeps: [{ ...sweep, fidelity: true }] }).success);
    assert.ok(ProjectFile.safeParse({ models: [model], sweeps: [{ ...sweep, fidelity: ['torch', 'quantized'] }] }).success);
    assert.ok(!ProjectFile.safeParse({ models: [model], sweeps: [{ ...sweep, fidelity: ['tflite'] }] }).success);
    assert.ok(!ProjectFile.safeParse({ models: [model], sweeps: [{ ...sweep, fidelity: [] }] }).success);
  });

  it('a sweep names a device from "devices"; an unknown one is refused with the names there are', () => {
    const sweep = { name: 'w', model: 'enc', matrix: { kwargs: { w: [1] } }, device: 'pi5' };
    assert.equal(sweepDevice(sweep, [{ name: 'pi5', host: 'pi' }])!.host, 'pi');
    assert.equal(sweepDevice({ ...sweep, device: undefined }, []), undefined);
    assert.throws(() => sweepDevice(sweep, [{ name: 'rpi', host: 'pi' }]), /no device named "pi5" in "devices" \(there are: rpi\)/);
    assert.ok(ProjectFile.safeParse({ models: [model], devices: [{ name: 'pi5', host: 'pi' }], sweeps: [{ ...sweep, benchmarkSeconds: 3 }] }).success);
    assert.ok(!ProjectFile.safeParse({ models: [model], sweeps: [{ ...sweep, benchmarkSeconds: 0 }] }).success);
  });
});

describe('slurm: hailo.json', () => {
  const base = { models: [{ name: 'enc', onnx: 'enc.onnx', inputs: [{ name: 'mel', shape: [1, 80, 3000] }] }] };
  const slurmTarget = {
    name: 'cluster',
    kind: 'slurm',
    host: 'login',
    slurm: { partition: 'gpu', memory: '64G', timeLimit: '4:00:00', gpus: 1, dfc: { kind: 'venv', path: '/shared/venv' } },
  };
  it('accepts a slurm target and a sweep', () => {
    const r = ProjectFile.safeParse({
      ...base,
      targets: [slurmTarget],
      sweeps: [
        { name: 'w', model: 'enc', target: 'cluster', matrix: { kwargs: { width: [1, 2] }, inputShapes: { mel: [[1, 80, 1000]] } }, latencyBudgetMs: 40 },
      ],
    });
    assert.ok(r.success, JSON.stringify(r.error?.issues));
    assert.ok(Target.safeParse({ name: 'plain', host: 'box' }).success, 'ssh targets unchanged');
  });
  it('says what is wrong with a slurm target or a sweep', () => {
    const issues = (p: unknown) => (ProjectFile.safeParse(p).error?.issues ?? []).map((i) => `${i.path.join('.')}: ${i.message}`);
    assert.deepEqual(issues({ ...base, targets: [{ name: 'c', kind: 'slurm', host: 'h' }] }), [
      'targets.0.slurm: a "slurm" target needs a "slurm" object (partition, memory, timeLimit, ...)',
    ]);
    assert.deepEqual(
      issues({ ...base, targets: [{ ...slurmTarget, dfc: { kind: 'venv', path: '/v' }, memoryLimitGB: 8 }] }).map((s) => s.split(':')[0]),
      ['targets.0.dfc', 'targets.0.memoryLimitGB'],
    );
    assert.deepEqual(issues({ ...base, targets: [{ name: 'c', host: 'h', slurm: slurmTarget.slurm }] }), [
      'targets.0.slurm: "slurm" settings need "kind": "slurm"',
    ]);
    assert.match(issues({ ...base, targets: [{ ...slurmTarget, slurm: { ...slurmTarget.slurm, memory: '64GB' } }] })[0]!, /memory: a size like "64G"/);
    assert.match(issues({ ...base, targets: [{ ...slurmTarget, slurm: { ...slurmTarget.slurm, timeLimit: '4h' } }] })[0]!, /timeLimit: a Slurm time/);
    assert.match(issues({ ...base, targets: [{ ...slurmTarget, slurm: { ...slurmTarget.slurm, partition: '-x' } }] })[0]!, /partition/);
    assert.deepEqual(issues({ ...base, sweeps: [{ name: 'w', model: 'nope', target: 'none', matrix: {} }] }), [
      'sweeps.0.model: no model named "nope" in "models"',
      'sweeps.0.target: no target named "none" in "targets"',
    ]);
    assert.deepEqual(issues({ ...base, sweeps: [{ name: 'w', model: 'enc', matrix: { inputShapes: { x: [[1]] } } }] }), [
      'sweeps.0.matrix.inputShapes.x: model "enc" has no input named "x"',
    ]);
  });
});
