import { projectJsonSchema } from '../src/core/project/schema';

/** The generated JSON schema text, as committed in media/schemas/hailo.schema.json. */
export function schemaText(): string {
  return JSON.stringify(projectJsonSchema(), null, 2) + '\n';
}
