"""Regenerates build/encoder.onnx from tiny_whisper.encoder:build (the example's committed ONNX).

    /usr/bin/python3 examples/whisper-tiny/export_onnx.py

Needs torch and onnx (Debian: python3-torch python3-onnx). The shapes and names match hailo.json.
"""
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from tiny_whisper.encoder import build  # noqa: E402


def main() -> None:
    out = os.path.join(HERE, "build", "encoder.onnx")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    model = build()
    mel = torch.zeros(1, 80, 3000)
    with torch.no_grad():
        features = model(mel)
    assert tuple(features.shape) == (1, 1500, 64), features.shape
    torch.onnx.export(
        model, (mel,), out,
        input_names=["mel"], output_names=["features"],
        opset_version=17, do_constant_folding=True,
    )
    try:
        import onnx
        onnx.checker.check_model(onnx.load(out))
    except ImportError:
        pass
    print(f"{out}: {os.path.getsize(out)} bytes")


if __name__ == "__main__":
    main()
