import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { HailoError } from '../errors';
import { FidelityStage, FidelityThresholds } from '../project/schema';

/**
 * The results of one fidelity check, as kept with its run in `.hailo/runs/<run-id>/fidelity.json`
 * (earlier versions kept them in `.hailo/fidelity/<id>/`, still read). Small enough to commit:
 * curves are rounded to five significant digits and aggregated over samples.
 */

export const FIDELITY_FILE = 'fidelity.json';
export const FIDELITY_RECORD_VERSION = 1;

/** null: no error at all (infinite SNR). */
const Snr = z.number().nullable();

export const MetricsRecord = z.object({
  cosine: z.number(),
  snrDb: Snr,
  maxAbs: z.number(),
  meanAbs: z.number(),
});

const CurvesRecord = z.object({
  cosine: z.array(z.number()),
  snrDb: z.array(Snr),
  maxAbs: z.array(z.number()),
  meanAbs: z.array(z.number()),
});

export const ComparisonRecord = z.object({
  /** The stage compared against (the reference `torch`, or the stage before). */
  reference: FidelityStage,
  stage: FidelityStage,
  /** `reference`: against the PyTorch model; `previous`: against the stage before this one. */
  against: z.enum(['reference', 'previous']),
  output: z.string(),
  shape: z.array(z.number().int()),
  timeAxis: z.number().int().nullable(),
  steps: z.number().int().positive(),
  channels: z.number().int().positive(),
  metrics: MetricsRecord,
  perSample: z.array(MetricsRecord.extend({ sample: z.string() })),
  perStep: CurvesRecord,
  perChannel: CurvesRecord.optional(),
  /** Step ranges whose SNR lies far below the rest. */
  damaged: z.array(z.object({ from: z.number().int(), to: z.number().int(), snrDb: z.number() })),
  transposed: z.boolean(),
});
export type ComparisonRecord = z.infer<typeof ComparisonRecord>;

export const StageRecord = z.object({
  stage: FidelityStage,
  status: z.enum(['ok', 'failed', 'skipped']),
  /** Why a stage failed or was skipped. */
  code: z.string().optional(),
  message: z.string().optional(),
  /** The file that failed, when there is one. */
  file: z.string().optional(),
  seconds: z.number().nonnegative().optional(),
  /** Folder of this stage's outputs (`<sample>/<output>.npy`), relative to the record. */
  outputs: z.string().optional(),
  /** Where it ran: `host`, a target or a device name. */
  where: z.string().optional(),
});
export type StageRecord = z.infer<typeof StageRecord>;

export const FidelityRecord = z.object({
  version: z.literal(FIDELITY_RECORD_VERSION),
  model: z.string(),
  createdAt: z.string(),
  /** The git commit of the workspace, when known; results are compared across commits. */
  commit: z.string().optional(),
  runId: z.string().optional(),
  /** The runs of the run engine that made the remote stages' outputs (the first is the check's own folder). */
  runs: z.array(z.string()).optional(),
  samples: z.array(z.object({ id: z.string(), source: z.string() })),
  outputs: z.array(z.string()),
  stages: z.array(StageRecord),
  comparisons: z.array(ComparisonRecord),
  thresholds: FidelityThresholds.optional(),
  stageThresholds: z.partialRecord(FidelityStage, FidelityThresholds).optional(),
});
export type FidelityRecord = z.infer<typeof FidelityRecord>;

export function parseFidelityRecord(text: string, file: string): FidelityRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new HailoError('FIDELITY_RECORD_INVALID', `${file}: not JSON (${(e as Error).message})`, { file, cause: e });
  }
  const r = FidelityRecord.safeParse(json);
  if (!r.success) {
    const i = r.error.issues[0]!;
    throw new HailoError('FIDELITY_RECORD_INVALID', `${file}: not a fidelity record: ${i.path.join('.') || '(root)'}: ${i.message}`, { file });
  }
  return r.data;
}

export function readFidelityRecord(file: string): FidelityRecord {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new HailoError('FIDELITY_RECORD_INVALID', `${file}: cannot read (${(e as Error).message})`, { file, cause: e });
  }
  return parseFidelityRecord(text, file);
}

/** Write atomically (temp file + rename). */
export function writeFidelityRecord(dir: string, rec: FidelityRecord): string {
  const checked = FidelityRecord.parse(rec);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, FIDELITY_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(checked) + '\n');
  fs.renameSync(tmp, file);
  return file;
}

/** A sortable, filesystem-safe id for a check run on its own: `20250101-120000-<model>`. */
export function fidelityRunId(model: string, now: Date = new Date()): string {
  const iso = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${iso}-${model.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 40)}`;
}

/** Where a project keeps fidelity results: with the runs, and the folder of earlier versions (read only). */
export function fidelityResultDirs(root: string): { runs: string; legacy: string } {
  return { runs: path.join(root, '.hailo', 'runs'), legacy: path.join(root, '.hailo', 'fidelity') };
}

/**
 * Earlier records of a model in folders of result folders (each `<dir>/<id>/fidelity.json`: the
 * runs folder, and `.hailo/fidelity/` where earlier versions kept them), newest first by creation
 * time. Unreadable records are skipped: a broken old result must not stop a new check.
 */
export function listFidelityRecords(parents: string | readonly string[], model: string): { dir: string; record: FidelityRecord }[] {
  const out: { dir: string; record: FidelityRecord }[] = [];
  for (const parent of typeof parents === 'string' ? [parents] : parents) {
    let names: string[];
    try {
      names = fs
        .readdirSync(parent, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      continue;
    }
    for (const n of names) {
      const f = path.join(parent, n, FIDELITY_FILE);
      if (!fs.existsSync(f)) continue;
      try {
        const record = readFidelityRecord(f);
        if (record.model === model) out.push({ dir: path.join(parent, n), record });
      } catch {
        // skipped, see above
      }
    }
  }
  const t = (r: FidelityRecord) => Date.parse(r.createdAt) || 0;
  return out.sort((a, b) => t(b.record) - t(a.record) || (a.dir < b.dir ? 1 : -1));
}
