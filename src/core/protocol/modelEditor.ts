import { z } from 'zod';
import { ErrorMessage, Ready } from './envelope';
import { GraphHostMessages, GraphWebviewMessages } from './graph';

/**
 * Messages between the model editor (the read-only custom editor for .onnx, later .har/.hn) and
 * its webview. Both sides validate with these schemas. The summary is kind-agnostic: each model
 * kind fills the same shape (see `summarize` in src/core/summary/summarize.ts).
 */

const Dim = z.union([z.number(), z.string()]);

export const TensorSummary = z
  .object({
    name: z.string(),
    shape: z.array(Dim).nullable(),
    dtype: z.string().nullable(),
  })
  .strict();
export type TensorSummary = z.infer<typeof TensorSummary>;

export const SeveritySchema = z.enum(['error', 'warning', 'info', 'hint']);

export const FindingView = z
  .object({
    /** Index in the document's finding list; the webview sends it back when a finding is clicked. */
    id: z.number().int().nonnegative(),
    code: z.string(),
    severity: SeveritySchema,
    title: z.string(),
    message: z.string(),
    nodes: z.array(z.string()),
    fix: z.string().optional(),
    source: z.object({ file: z.string(), line: z.number().int().positive() }).strict().optional(),
    helpUri: z.string().optional(),
  })
  .strict();
export type FindingView = z.infer<typeof FindingView>;

export const ModelSummary = z
  .object({
    kind: z.string(),
    file: z.string(),
    title: z.string(),
    facts: z.array(z.object({ key: z.string(), value: z.string() }).strict()),
    inputs: z.array(TensorSummary),
    outputs: z.array(TensorSummary),
    ops: z.array(z.object({ op: z.string(), count: z.number().int().positive() }).strict()),
    paramCount: z.number().nonnegative(),
    opset: z.number().int().nullable(),
    findings: z.object({ error: z.array(FindingView), warning: z.array(FindingView), info: z.array(FindingView), hint: z.array(FindingView) }).strict(),
    warnings: z.array(z.string()),
  })
  .strict();
export type ModelSummary = z.infer<typeof ModelSummary>;

/** Host -> webview. */
export const HostMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('loading'), file: z.string() }).strict(),
  z.object({ type: z.literal('summary'), summary: ModelSummary }).strict(),
  /** The model could not be read: the typed error's message and code. */
  z.object({ type: z.literal('failed'), file: z.string(), code: z.string(), message: z.string() }).strict(),
  ErrorMessage,
  ...GraphHostMessages,
]);
export type HostMessage = z.infer<typeof HostMessage>;

/** Webview -> host. */
export const WebviewMessage = z.discriminatedUnion('type', [
  Ready,
  /** A finding was clicked: the host reveals its Python line when it has one. */
  z.object({ type: z.literal('revealFinding'), id: z.number().int().nonnegative() }).strict(),
  z.object({ type: z.literal('showProblems') }).strict(),
  /** A finding's rule code was clicked: the host opens the rule's documentation. */
  z.object({ type: z.literal('explainRule'), code: z.string().regex(/^(HW|ALLS)\d{3}$/) }).strict(),
  ...GraphWebviewMessages,
]);
export type WebviewMessage = z.infer<typeof WebviewMessage>;
