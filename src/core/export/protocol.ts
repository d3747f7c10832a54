import { z } from 'zod';

/**
 * The JSON lines the export driver (`src/python/hailo_export.py`) prints on stdout, one object
 * per line with an `event` key. Anything on stdout that is not such a line is passed on as text.
 */

const Frame = z.object({ file: z.string(), line: z.number().int(), fn: z.string().optional(), user: z.boolean().optional() });

const Tensor = z.object({ name: z.string(), shape: z.array(z.union([z.number(), z.string()])).nullable() });

export const DriverProgress = z.object({
  event: z.literal('progress'),
  step: z.string(),
  message: z.string(),
  fraction: z.number().min(0).max(1),
});
export type DriverProgress = z.infer<typeof DriverProgress>;

export const DriverResult = z.object({
  event: z.literal('result'),
  protocol: z.number().int().optional(),
  onnx: z.string(),
  sourceMap: z.string().nullable(),
  /** ONNX nodes in the exported graph. */
  nodes: z.number().int().nonnegative(),
  /** Nodes the source map ties to a user source line. */
  mapped: z.number().int().nonnegative(),
  opset: z.number().int(),
  inputs: z.array(Tensor),
  outputs: z.array(Tensor),
  /** Graph inputs/outputs dimensions that are symbolic (dynamic axes). */
  symbolicDims: z.array(z.object({ tensor: z.string(), axis: z.number().int(), dim: z.union([z.string(), z.number()]) })),
  /**
   * Nodes that first give a data tensor a symbolic dimension although their data input is static
   * (a Pad whose pads torch computed through Shape ops), with the user's line when mapped.
   */
  symbolicOrigins: z
    .array(
      z.object({
        node: z.string(),
        op: z.string(),
        output: z.string(),
        shape: z
          .array(z.union([z.number(), z.string()]))
          .nullable()
          .optional(),
        computedInputs: z.array(z.string()).optional(),
        file: z.string().optional(),
        line: z.number().int().optional(),
      }),
    )
    .optional(),
  /** Inputs the export was asked to make dynamic (`dynamicAxes` in hailo.json). */
  dynamicAxes: z.array(z.string()).optional(),
  /** `Shape` operators left in the graph (shape arithmetic constant folding could not remove). */
  shapeOps: z.number().int().nonnegative().optional(),
  /** Why no node could be mapped (a torch without the TorchScript exporter). */
  mapWarning: z.string().nullable().optional(),
  modelSha256: z.string().optional(),
  /** A probe run (`--probe`): the module ran once, `outputs` are what it returned; nothing was written. */
  probe: z.boolean().optional(),
  python: z.string().optional(),
  torch: z.string().optional(),
  onnxVersion: z.string().optional(),
  seconds: z.record(z.string(), z.number()).optional(),
});
export type DriverResult = z.infer<typeof DriverResult>;

export const DRIVER_ERROR_KINDS = ['bad-argument', 'missing-package', 'import', 'entry-not-found', 'factory', 'export', 'cancelled', 'internal'] as const;

export const DriverError = z.object({
  event: z.literal('error'),
  kind: z.enum(DRIVER_ERROR_KINDS),
  errorClass: z.string(),
  message: z.string(),
  frames: z.array(Frame).default([]),
  traceback: z.string().optional(),
  python: z.string().optional(),
  package: z.string().optional(),
  file: z.string().nullable().optional(),
  /** For export failures inside a symbolic function: the user line of the node being converted. */
  nodeFrame: Frame.optional(),
  nodeKind: z.string().optional(),
});
export type DriverError = z.infer<typeof DriverError>;

export const DriverEvent = z.discriminatedUnion('event', [DriverProgress, DriverResult, DriverError]);
export type DriverEvent = z.infer<typeof DriverEvent>;

/** A driver event, or undefined when the line is not one (plain text the model printed). */
export function parseDriverLine(line: string): DriverEvent | undefined {
  const t = line.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(t);
  } catch {
    return undefined;
  }
  const r = DriverEvent.safeParse(json);
  return r.success ? r.data : undefined;
}

/**
 * Splits a byte stream into lines: `\n`, `\r\n` and lone `\r` (progress bars rewriting a line) all
 * end a line; a trailing partial line is kept until more data or `end()`. Empty lines are dropped.
 */
export class LineSplitter {
  private rest = '';
  constructor(private readonly onLine: (line: string) => void) {}
  push(chunk: string): void {
    const text = this.rest + chunk;
    const parts = text.split(/\r\n|\n|\r/);
    this.rest = parts.pop() ?? '';
    // empty lines carry nothing (and a "\r\n" split across chunks would make one)
    for (const p of parts) if (p !== '') this.onLine(p);
  }
  end(): void {
    if (this.rest) this.onLine(this.rest);
    this.rest = '';
  }
}
