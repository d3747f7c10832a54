import { z } from 'zod';

/**
 * The project file `hailo.json` (JSONC). This zod schema is the single source of truth: the JSON
 * schema contributed to VS Code (`media/schemas/hailo.schema.json`) is generated from it by
 * `scripts/gen-schema.ts`, and a unit test fails when that file is stale.
 */

export const HW_ARCHS = ['hailo8', 'hailo8r', 'hailo8l', 'hailo15h', 'hailo15m', 'hailo15l', 'hailo10h'] as const;
export const HwArch = z.enum(HW_ARCHS).describe('Hailo hardware architecture passed to the DFC as --hw-arch.');
export type HwArch = z.infer<typeof HwArch>;

const name = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.-]+$/, 'use letters, digits, "_", "." and "-" only');

/** A static dimension list, e.g. [1, 80, 3000]. */
export const Shape = z.array(z.number().int().positive()).min(1).max(8);

export const ModelInput = z
  .object({
    name: z.string().min(1).describe('ONNX input name.'),
    shape: Shape.describe('Static input shape, batch first, e.g. [1, 80, 3000].'),
    dtype: z.enum(['float32', 'float16', 'int64', 'int32']).default('float32').optional(),
  })
  .strict();

export const ModelOutput = z
  .object({
    name: z.string().min(1).describe('ONNX output name.'),
    shape: Shape.optional().describe('Expected static output shape (e.g. [1, 1500, 768]); the lint checks the exported model against it.'),
  })
  .strict();

/** Stages of the fidelity check, in pipeline order; `torch` is the reference. */
export const FIDELITY_STAGES = ['torch', 'onnx', 'fp-optimized', 'quantized', 'device'] as const;
export const FidelityStage = z.enum(FIDELITY_STAGES);
export type FidelityStage = z.infer<typeof FidelityStage>;

export const FidelityThresholds = z
  .object({
    minCosine: z.number().min(-1).max(1).optional().describe('Lowest acceptable cosine similarity to the PyTorch reference (e.g. 0.99).'),
    minSnrDb: z.number().optional().describe('Lowest acceptable signal-to-noise ratio to the PyTorch reference, in dB (e.g. 20).'),
    maxMeanAbsError: z.number().nonnegative().optional().describe('Highest acceptable mean absolute error to the PyTorch reference.'),
  })
  .strict();
export type FidelityThresholds = z.infer<typeof FidelityThresholds>;

const pathList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

export const Fidelity = z
  .object({
    inputs: pathList
      .optional()
      .describe(
        'Inputs to compare on: `.npy` files or folders of them, relative to the project file. One file per sample for a single-input model; for several inputs, one folder per sample holding `<input name>.npy`.',
      ),
    calibSamples: z
      .number()
      .int()
      .min(1)
      .max(256)
      .optional()
      .describe('Also use the first N samples of `calibSet` (its arrays must have the model input shape without the batch axis, or with it).'),
    audio: z
      .object({
        files: pathList.describe('WAV files or folders of them, relative to the project file.'),
        function: z
          .string()
          .regex(/^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/, 'expected "package.module:function"')
          .describe(
            'Python function `package.module:function` that takes a WAV path and returns the model input (a numpy array or torch tensor; a dict by input name for several inputs).',
          ),
      })
      .strict()
      .optional()
      .describe('Real audio for an audio encoder: each WAV becomes one sample through your own function.'),
    stages: z
      .array(FidelityStage)
      .min(1)
      .optional()
      .describe('Stages to run (default: every stage whose file exists: torch, onnx, fp-optimized and quantized for a HAR, device for a HEF).'),
    thresholds: FidelityThresholds.optional().describe('Limits against the PyTorch reference that make a stage an error.'),
    stageThresholds: z
      .partialRecord(FidelityStage, FidelityThresholds)
      .optional()
      .describe('Limits for single stages, over `thresholds` (a quantized stage usually gets a lower minSnrDb).'),
    timeAxis: z.number().int().optional().describe('Axis of the outputs that counts time steps (default: the longest axis, e.g. 1 for [1, 1500, 768]).'),
    maxDropDb: z.number().positive().optional().describe('A drop in SNR against the previous result beyond this many dB is flagged (default 3).'),
  })
  .strict();
export type Fidelity = z.infer<typeof Fidelity>;

export const Model = z
  .object({
    name: name.describe('Model name; also the DFC network name (--net-name) unless `netName` is given.'),
    entry: z
      .string()
      .regex(/^[A-Za-z_][\w.]*:[A-Za-z_]\w*$/, 'expected "package.module:factory"')
      .optional()
      .describe('PyTorch entry point `package.module:factory`; the factory returns an nn.Module.'),
    netName: name.optional().describe('DFC network name, if different from `name`.'),
    inputs: z.array(ModelInput).min(1).describe('Model inputs with static shapes.'),
    outputs: z.array(ModelOutput).optional().describe('Model outputs and their expected shapes.'),
    opset: z.number().int().min(7).max(21).default(17).optional().describe('ONNX opset used for export.'),
    dynamicAxes: z
      .record(z.string(), z.record(z.string(), z.string()))
      .optional()
      .describe('Dynamic axes for export (not recommended for Hailo; the lint reports what they cost).'),
    onnx: z.string().min(1).describe('Path of the ONNX file, relative to the project file.'),
    har: z.string().optional().describe('Path of the parsed HAR (default: `<onnx stem>.har` beside the ONNX).'),
    hef: z.string().optional().describe('Path of the compiled HEF (default: `<onnx stem>.hef` beside the ONNX).'),
    hwArch: HwArch.default('hailo8l').optional(),
    modelScript: z.string().optional().describe('Path of the `.alls` model script.'),
    calibSet: z.string().optional().describe('Path of the calibration set (`.npy` file or folder).'),
    startNodes: z.array(z.string().min(1)).optional().describe('Parser start node names (--start-node-names).'),
    endNodes: z.array(z.string().min(1)).optional().describe('Parser end node names (--end-node-names).'),
    target: name.optional().describe('Compile target used for this model (name from `targets`).'),
    device: name.optional().describe('Device used to run this model (name from `devices`).'),
    latencyBudgetMs: z
      .number()
      .positive()
      .optional()
      .describe('Latency budget per inference on the device, in ms (the results panel and the status bar compare the measured latency with it).'),
    audioWindowSeconds: z
      .number()
      .positive()
      .optional()
      .describe(
        'Audio covered by one input, in seconds, for the real-time factor (default for a mel-spectrogram input [1, 80|128, N]: N x 10 ms, e.g. Whisper 3000 frames = 30 s).',
      ),
    fidelity: Fidelity.optional().describe('Numeric fidelity check: inputs and limits for comparing every stage with the PyTorch model.'),
  })
  .strict();
export type Model = z.infer<typeof Model>;

export const DfcActivation = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('venv'),
      path: z.string().min(1).describe('Remote path of the Python virtual environment that has the DFC installed.'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('docker'),
      container: z.string().min(1).describe('Name of a running Docker container with the DFC (commands run through `docker exec`).'),
      workDir: z.string().optional().describe('Work directory inside the container, if the host work dir is mounted elsewhere.'),
    })
    .strict(),
  z
    .object({ kind: z.literal('path') })
    .strict()
    .describe('The `hailo` command is on the remote PATH already.'),
]);
export type DfcActivation = z.infer<typeof DfcActivation>;

/** A Slurm time limit as `sbatch --time` takes it: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S. */
export const SLURM_TIME_RE = /^(?:\d+|\d+:\d{1,2}|\d+:\d{1,2}:\d{1,2}|\d+-\d{1,2}|\d+-\d{1,2}:\d{1,2}|\d+-\d{1,2}:\d{1,2}:\d{1,2})$/;
/** A Slurm memory size as `sbatch --mem` takes it: a number with an optional K/M/G/T suffix (default M). */
export const SLURM_MEMORY_RE = /^\d+(?:[KMGT])?$/;
const slurmName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.+-]+$/, 'use letters, digits, "_", ".", "+" and "-" only')
  .refine((v) => !v.startsWith('-'), 'must not start with "-"');

export const SlurmDfc = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('venv'),
      path: z.string().min(1).describe('Path, on shared storage, of the Python virtual environment with the DFC (as the compute node sees it).'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('container'),
      image: z.string().min(1).describe('Apptainer/Singularity image (`.sif`) with the DFC, on storage the compute nodes see.'),
      runtime: z.enum(['apptainer', 'singularity']).default('apptainer').optional().describe('The container command on the compute nodes.'),
      bind: z.array(z.string().min(1)).optional().describe('Extra `--bind` mounts (the work directory is always bound).'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('path'),
      modules: z.array(z.string().min(1)).optional().describe('Environment modules loaded first (`module load ...`), e.g. ["hailo/3.33"].'),
    })
    .strict()
    .describe("The `hailo` command is on the compute node's PATH (after loading `modules`)."),
]);
export type SlurmDfc = z.infer<typeof SlurmDfc>;

export const SlurmOptions = z
  .object({
    partition: slurmName.describe('Partition the jobs are submitted to (`sbatch --partition`).'),
    cpus: z.number().int().positive().max(4096).default(8).optional().describe('CPUs per job (`--cpus-per-task`).'),
    gpus: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(0)
      .optional()
      .describe('GPUs per job (`--gres=gpu[:type]:N`); the DFC optimizer uses a GPU when there is one.'),
    gpuType: slurmName.optional().describe('GPU type in the cluster\'s gres names, e.g. "a100".'),
    memory: z
      .string()
      .regex(SLURM_MEMORY_RE, 'a size like "64G" or "500M"')
      .describe('Memory per job (`--mem`), e.g. "64G". Slurm ends a job that uses more (OUT_OF_MEMORY).'),
    timeLimit: z
      .string()
      .regex(SLURM_TIME_RE, 'a Slurm time like "120", "2:00:00" or "1-00:00:00"')
      .describe('Time limit per job (`--time`): minutes, H:M:S or D-H:M:S.'),
    account: slurmName.optional().describe('Account charged (`--account`).'),
    qos: slurmName.optional().describe('Quality of service (`--qos`).'),
    sbatchArgs: z
      .array(z.string().regex(/^--[a-z][a-z-]*(=.*)?$/s, 'one long option per entry, e.g. "--constraint=x86"'))
      .optional()
      .describe('Further `sbatch` options, one per entry.'),
    dfc: SlurmDfc.default({ kind: 'path' }).optional().describe('How a job enters the DFC environment on the compute node.'),
    arrayLimit: z.number().int().positive().max(1000).default(4).optional().describe('Sweep variants running at once (`--array=0-N%K`).'),
  })
  .strict();
export type SlurmOptions = z.infer<typeof SlurmOptions>;

export const Target = z
  .object({
    name: name.describe('Target name used in this file and in the Targets view.'),
    kind: z
      .enum(['ssh', 'slurm'])
      .default('ssh')
      .optional()
      .describe('`ssh`: steps run on the host itself. `slurm`: the host is a Slurm login node and each step is a batch job (settings in `slurm`).'),
    host: z.string().min(1).describe('SSH host: an alias from ~/.ssh/config or `user@host`.'),
    workDir: z.string().min(1).default('~/hailo-workbench').optional().describe('Remote work directory.'),
    dfc: DfcActivation.default({ kind: 'path' }).optional().describe('How to enter the DFC environment.'),
    hwArch: HwArch.optional().describe('Default hw-arch for models compiled on this target.'),
    memoryLimitGB: z.number().positive().optional().describe('Stop a step when its remote processes use more than this many GB.'),
    slurm: SlurmOptions.optional().describe('Batch job settings of a `slurm` target.'),
  })
  .strict();
export type Target = z.infer<typeof Target>;

/** What is wrong with a target's kind-specific fields (checked with the whole project file). */
export function targetKindIssues(t: Target): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  if (t.kind === 'slurm') {
    if (!t.slurm) out.push({ path: ['slurm'], message: 'a "slurm" target needs a "slurm" object (partition, memory, timeLimit, ...)' });
    // `dfc` defaults to {kind: "path"}; only a venv or container given there is misplaced
    if (t.dfc && t.dfc.kind !== 'path')
      out.push({ path: ['dfc'], message: 'a "slurm" target enters the DFC on the compute node: use "slurm.dfc" instead of "dfc"' });
    if (t.memoryLimitGB !== undefined)
      out.push({ path: ['memoryLimitGB'], message: 'a "slurm" target uses Slurm\'s own memory limit: set "slurm.memory" instead of "memoryLimitGB"' });
  } else if (t.slurm) {
    out.push({ path: ['slurm'], message: '"slurm" settings need "kind": "slurm"' });
  }
  return out;
}

/** A sweep axis value: a JSON scalar, or a list of scalars (a factory keyword argument). */
const SweepValue = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.union([z.string(), z.number(), z.boolean(), z.null()]))]);

export const Sweep = z
  .object({
    name: name.describe('Sweep name (`hailo-workbench sweep --name`).'),
    model: name.describe('The model (from `models`) whose variants are swept.'),
    target: name.optional().describe('Compile target (from `targets`); a `slurm` target runs the variants as a job array.'),
    matrix: z
      .object({
        kwargs: z
          .record(z.string().regex(/^[A-Za-z_]\w*$/, 'a Python keyword argument name'), z.array(SweepValue).min(1))
          .optional()
          .describe('Keyword arguments of the PyTorch factory, each with its list of values, e.g. {"width": [256, 384], "attention": ["conv", "linear"]}.'),
        inputShapes: z
          .record(z.string().min(1), z.array(Shape).min(1))
          .optional()
          .describe('Per model input, the static shapes to try, e.g. {"mel": [[1, 80, 1000], [1, 80, 3000]]}.'),
        modelScripts: z
          .array(z.string().min(1).nullable())
          .min(1)
          .optional()
          .describe('`.alls` model scripts to try (paths relative to the project file; null: no model script).'),
        hwArch: z.array(HwArch).min(1).optional().describe('Hardware architectures to compile for.'),
      })
      .strict()
      .describe('The variants are every combination of the listed values.'),
    concurrency: z
      .number()
      .int()
      .positive()
      .max(1000)
      .optional()
      .describe("Variants running at once (default: the target's `slurm.arrayLimit`, or 1 on an SSH target)."),
    latencyBudgetMs: z.number().positive().optional().describe('Latency budget; the results mark the best variant that meets it.'),
    device: name
      .optional()
      .describe('Deploy and benchmark every compiled variant on this device (from `devices`), as Hailo: Deploy and Benchmark does: fills the latency column.'),
    benchmarkSeconds: z
      .number()
      .int()
      .min(1)
      .max(600)
      .optional()
      .describe('Seconds per `hailortcli benchmark` phase for each variant on the device (default 15, as `hailo.device.benchmarkSeconds`).'),
    fidelity: z
      .union([z.boolean(), z.array(FidelityStage).min(1)])
      .optional()
      .describe(
        "Run Check Fidelity on every variant (its factory keyword arguments, input shapes, ONNX, HAR and HEF) and fill the fidelity column: the SNR (dB) against PyTorch of the last stage that ran. true: the model's `fidelity.stages`, else torch and onnx; or a list of stages. The emulator stages need an SSH target, the device stage the sweep's `device`.",
      ),
  })
  .strict();
export type Sweep = z.infer<typeof Sweep>;

export const Device = z
  .object({
    name: name.describe('Device name used in this file.'),
    host: z.string().min(1).describe('SSH host of the device (e.g. a Raspberry Pi 5 with a Hailo-8L).'),
    workDir: z.string().min(1).default('~/hailo-workbench').optional().describe('Remote work directory.'),
    hwArch: HwArch.default('hailo8l').optional(),
    benchmarkRepeats: z
      .number()
      .int()
      .min(1)
      .max(10)
      .default(3)
      .optional()
      .describe(
        'How many times "Deploy and Benchmark" repeats `hailortcli benchmark` in one run. The spread of the repetitions is the noise a regression must exceed to be flagged (1: the spread of earlier runs is used instead).',
      ),
  })
  .strict();
export type Device = z.infer<typeof Device>;

export const ProjectFile = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1).default(1).optional().describe('Project file format version.'),
    models: z.array(Model).default([]).describe('Models of this project.'),
    targets: z.array(Target).default([]).optional().describe('Compile targets: x86 machines with the Hailo Dataflow Compiler.'),
    devices: z.array(Device).default([]).optional().describe('Devices with a Hailo NPU and HailoRT.'),
    sweeps: z.array(Sweep).default([]).optional().describe("Sweeps: a model's design variants compiled side by side (Hailo: Run Sweep)."),
  })
  .strict()
  .superRefine((p, ctx) => {
    const seen = (items: { name: string }[] | undefined, key: 'models' | 'targets' | 'devices' | 'sweeps') => {
      const names = new Set<string>();
      (items ?? []).forEach((it, i) => {
        if (names.has(it.name)) {
          ctx.addIssue({ code: 'custom', path: [key, i, 'name'], message: `duplicate ${key.slice(0, -1)} name "${it.name}"` });
        }
        names.add(it.name);
      });
    };
    seen(p.models, 'models');
    seen(p.targets, 'targets');
    seen(p.devices, 'devices');
    seen(p.sweeps, 'sweeps');
    (p.targets ?? []).forEach((t, i) => {
      for (const issue of targetKindIssues(t)) ctx.addIssue({ code: 'custom', path: ['targets', i, ...issue.path], message: issue.message });
    });
    const targets = new Set((p.targets ?? []).map((t) => t.name));
    const devices = new Set((p.devices ?? []).map((t) => t.name));
    p.models.forEach((m, i) => {
      if (m.target && !targets.has(m.target)) {
        ctx.addIssue({ code: 'custom', path: ['models', i, 'target'], message: `no target named "${m.target}" in "targets"` });
      }
      if (m.device && !devices.has(m.device)) {
        ctx.addIssue({ code: 'custom', path: ['models', i, 'device'], message: `no device named "${m.device}" in "devices"` });
      }
      if (m.fidelity?.calibSamples && !m.calibSet) {
        ctx.addIssue({ code: 'custom', path: ['models', i, 'fidelity', 'calibSamples'], message: 'calibSamples needs the model\'s "calibSet"' });
      }
    });
    (p.sweeps ?? []).forEach((sw, i) => {
      const model = p.models.find((m) => m.name === sw.model);
      if (!model) ctx.addIssue({ code: 'custom', path: ['sweeps', i, 'model'], message: `no model named "${sw.model}" in "models"` });
      if (sw.target && !targets.has(sw.target))
        ctx.addIssue({ code: 'custom', path: ['sweeps', i, 'target'], message: `no target named "${sw.target}" in "targets"` });
      for (const input of Object.keys(sw.matrix.inputShapes ?? {})) {
        if (model && !model.inputs.some((x) => x.name === input)) {
          ctx.addIssue({ code: 'custom', path: ['sweeps', i, 'matrix', 'inputShapes', input], message: `model "${model.name}" has no input named "${input}"` });
        }
      }
    });
  });
export type ProjectFile = z.infer<typeof ProjectFile>;

export { PROJECT_FILE_NAME } from './fileName';

/** The JSON schema that VS Code uses for completion and hover in hailo.json. */
export function projectJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(ProjectFile, { io: 'input', unrepresentable: 'any', target: 'draft-7' }) as Record<string, unknown>;
  return {
    ...schema,
    $id: 'https://hailo-workbench.invalid/schemas/hailo.schema.json',
    title: 'Hailo Workbench project file',
    description: 'Models, compile targets and devices of a Hailo Workbench project.',
    allowTrailingCommas: true,
    allowComments: true,
  };
}
