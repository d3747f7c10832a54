import { z } from 'zod';

/**
 * The envelope shared by every webview protocol: the webview says `ready` once its script runs,
 * requests carry an id that the host's response repeats, and errors travel as data.
 * Each webview's own message unions (in this folder) build on these shapes and are validated
 * with zod on both sides.
 */
export const Ready = z.object({ type: z.literal('ready') }).strict();
export type Ready = z.infer<typeof Ready>;

export const ErrorMessage = z.object({ type: z.literal('error'), requestId: z.number().int().optional(), message: z.string() }).strict();
export type ErrorMessage = z.infer<typeof ErrorMessage>;

/** Parse an incoming message with a schema; returns undefined (and never throws) on bad input. */
export function parseMessage<T>(schema: z.ZodType<T>, data: unknown): T | undefined {
  const r = schema.safeParse(data);
  return r.success ? r.data : undefined;
}
