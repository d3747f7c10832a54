/**
 * The project file's name. Its own module (no zod) so the extension can watch for the file at
 * activation without loading the schema.
 */
export const PROJECT_FILE_NAME = 'hailo.json';
