/**
 * The starter hailo.json written by "Create Project File": no model until one is added from the
 * workspace (a placeholder entry would validate and then fail on export).
 */
export function projectTemplate(): string {
  return `{
  // Hailo Workbench project file. Paths are relative to this file.
  // Add a model with "Add to hailo.json" above an nn.Module (or its factory) in your Python code:
  // it runs the module once to record its outputs.
  "version": 1,
  "models": [],
  "targets": [
    // { "name": "compile-box", "host": "my-gpu-box", "workDir": "~/hailo-work", "dfc": { "kind": "venv", "path": "~/hailo_venv" } }
  ],
  "devices": [
    // { "name": "pi5", "host": "pi@raspberrypi.local", "hwArch": "hailo8l" }
  ]
}
`;
}
