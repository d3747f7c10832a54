/** The starter hailo.json written by "Create Project File". */
export function projectTemplate(): string {
  return `{
  // Hailo Workbench project file. Paths are relative to this file.
  "version": 1,
  "models": [
    {
      "name": "encoder",
      // PyTorch entry point: package.module:factory returning an nn.Module
      "entry": "model.encoder:build",
      "inputs": [{ "name": "mel", "shape": [1, 80, 3000] }],
      "outputs": [{ "name": "features", "shape": [1, 1500, 384] }],
      "opset": 17,
      "onnx": "build/encoder.onnx",
      "hwArch": "hailo8l"
    }
  ],
  "targets": [
    // { "name": "compile-box", "host": "my-gpu-box", "workDir": "~/hailo-work", "dfc": { "kind": "venv", "path": "~/hailo_venv" } }
  ],
  "devices": [
    // { "name": "pi5", "host": "pi@raspberrypi.local", "hwArch": "hailo8l" }
  ]
}
`;
}
