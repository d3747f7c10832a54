"""Run a model's fidelity inputs through one stage and save its outputs as .npy, for Hailo Workbench.

Usage (normally run by the extension or `hailo-workbench fidelity`):

    python3 hailo_fidelity.py --stage torch --manifest M.json --entry pkg.module:factory [--root DIR]
                              [--audio-fn pkg.module:function] [--kwargs JSON]
    python3 hailo_fidelity.py --stage fp-optimized|quantized --manifest M.json --har model.har
    python3 hailo_fidelity.py --stage device --manifest M.json --hef model.hef

The manifest (JSON) lists the samples and the model's inputs and outputs:
    {"samples": [{"id": "s1", "inputs": {"mel": "/abs/s1.npy"}} | {"id": "a", "wav": "/abs/a.wav"}],
     "inputs": [{"name": "mel", "shape": [1, 80, 3000], "dtype": "float32"}],
     "outputs": ["features"], "outDir": "/abs/out", "inputsDir": "/abs/inputs"}
Outputs go to <outDir>/<sample id>/<output name>.npy in the stage's own layout (the comparison
aligns layouts). Samples given as WAV files are turned into inputs by the user's function (torch
stage only) and saved under <inputsDir>/<sample id>/<input name>.npy for the later stages.

Stages:
  torch         the user's nn.Module (the reference), under torch.no_grad()
  fp-optimized  the HAR in the Dataflow Compiler's emulator: InferenceContext.SDK_FP_OPTIMIZED
  quantized     the HAR in the emulator: InferenceContext.SDK_QUANTIZED
  device        the HEF on a Hailo device through HailoRT's Python API (hailo_platform)
Inputs are given in the PyTorch/ONNX layout (e.g. [1, 80, 3000]); for the Hailo stages they are
reordered to the layout the HAR or HEF expects (NHWC, e.g. [1, 1, 3000, 80]).

Protocol: one JSON object per line on stdout, each with an "event" key ("progress", "result",
"error"), as the export driver. Exit code 0 on success, 1 on failure, 2 on bad arguments.
"""

import argparse
import itertools
import json
import os
import sys
import time
import traceback

PROTOCOL_VERSION = 1
STAGES = ("torch", "fp-optimized", "quantized", "device")

from hailo_driver_common import DriverFailure, emit, load_callable, open_protocol  # noqa: E402


def progress(message, fraction):
    emit("progress", step="fidelity", message=message, fraction=round(max(0.0, min(1.0, fraction)), 3))
    sys.stderr.write("[hailo-fidelity] %s\n" % message)
    sys.stderr.flush()


class Failure(DriverFailure):
    """A failure already classified for the protocol: kind is one of bad-argument,
    missing-package, import, entry-not-found, factory, input, inference, output, internal."""


def safe_id(text):
    ok = all(c.isalnum() or c in "_.-" for c in text)
    if not text or not ok or text in (".", ".."):
        raise Failure("bad-argument", "sample id %r is not a safe file name" % text)
    return text


# ---------------------------------------------------------------------------------------------
# Layouts

def squeeze_shape(shape):
    return [int(d) for d in shape if int(d) != 1]


def layout_permutation(src_shape, dst_shape):
    """How to read an array of src_shape in dst_shape: size-1 axes ignored, then the same order,
    channels moved first<->last (NCHW <-> NHWC), or any permutation. None when there is none."""
    s = squeeze_shape(src_shape)
    d = squeeze_shape(dst_shape)
    if len(s) != len(d):
        return None
    n = len(s)
    ident = list(range(n))

    def ok(p):
        return all(s[p[i]] == d[i] for i in range(n))

    cands = [ident, list(range(1, n)) + [0], [n - 1] + list(range(n - 1))] if n else [ident]
    for p in cands:
        if ok(p):
            return p
    if n <= 6:
        for p in itertools.permutations(ident):
            if ok(list(p)):
                return list(p)
    return None


def to_layout(np, arr, dst_shape, what):
    """Reorder arr (any layout) to dst_shape (the full shape, batch included)."""
    arr = np.asarray(arr)
    p = layout_permutation(arr.shape, dst_shape)
    if p is None:
        raise Failure("input", "%s has shape %s, which is no layout of %s" % (what, list(arr.shape), list(dst_shape)))
    sq = arr.reshape(squeeze_shape(arr.shape)) if arr.ndim else arr
    if p != list(range(len(p))):
        sq = np.transpose(sq, p)
    return np.ascontiguousarray(sq).reshape([int(x) for x in dst_shape])


# ---------------------------------------------------------------------------------------------
# Manifest and inputs

def load_manifest(path):
    try:
        with open(path, "r", encoding="utf-8") as f:
            m = json.load(f)
    except (OSError, ValueError) as e:
        raise Failure("bad-argument", "cannot read the manifest %s: %s" % (path, e), e)
    for key in ("samples", "inputs", "outputs", "outDir"):
        if key not in m:
            raise Failure("bad-argument", "the manifest %s has no %r" % (path, key))
    for s in m["samples"]:
        safe_id(s["id"])
    return m


def import_numpy():
    try:
        import numpy as np  # noqa: PLC0415
        return np
    except ImportError as e:
        raise Failure("missing-package", "cannot import numpy: %s" % e, e, package="numpy")


def load_input(np, path, spec, sample_id):
    try:
        a = np.load(path, allow_pickle=False)
    except Exception as e:  # noqa: BLE001
        raise Failure("input", "sample %s: cannot read input %s (%s): %s" % (sample_id, spec["name"], path, e), e, file=path)
    want = [int(x) for x in spec["shape"]]
    if list(a.shape) != want:
        raise Failure("input", "sample %s: %s has shape %s, the model input %s needs %s" % (sample_id, path, list(a.shape), spec["name"], want), file=path)
    return a.astype(spec.get("dtype") or "float32", copy=False)


def resolve_callable(spec, root, what):
    if root:
        sys.path.insert(0, root)
    return load_callable(spec, what, Failure)[0]


def audio_inputs(np, fn, wav, specs, sample_id):
    """The user's WAV function: returns an array/tensor (one input) or a dict by input name."""
    try:
        got = fn(wav)
    except Exception as e:  # noqa: BLE001
        raise Failure("input", "sample %s: the audio function failed on %s: %s: %s" % (sample_id, wav, type(e).__name__, e), e, file=wav)
    if not isinstance(got, dict):
        if len(specs) != 1:
            raise Failure("input", "sample %s: the audio function returned one array; the model has %d inputs, return a dict by input name" % (sample_id, len(specs)))
        got = {specs[0]["name"]: got}
    out = {}
    for spec in specs:
        if spec["name"] not in got:
            raise Failure("input", "sample %s: the audio function returned no input %r" % (sample_id, spec["name"]))
        v = got[spec["name"]]
        if hasattr(v, "detach"):
            v = v.detach().cpu().numpy()
        v = np.asarray(v)
        want = [int(x) for x in spec["shape"]]
        if list(v.shape) != want:
            if int(np.prod(v.shape)) == int(np.prod(want)) and squeeze_shape(v.shape) == squeeze_shape(want):
                v = v.reshape(want)
            else:
                raise Failure("input", "sample %s: the audio function returned %s of shape %s for %s; the model needs %s" % (sample_id, spec["name"], list(v.shape), wav, want), file=wav)
        out[spec["name"]] = v.astype(spec.get("dtype") or "float32", copy=False)
    return out


def sample_inputs(np, manifest, audio_fn):
    """Yields (sample id, {input name: array in the model layout})."""
    specs = manifest["inputs"]
    for s in manifest["samples"]:
        sid = s["id"]
        if "wav" in s:
            if audio_fn is None:
                raise Failure("input", "sample %s is a WAV file (%s) but no audio function was given" % (sid, s["wav"]))
            arrays = audio_inputs(np, audio_fn, s["wav"], specs, sid)
            idir = manifest.get("inputsDir")
            if idir:
                for name, a in arrays.items():
                    save(np, os.path.join(idir, sid, name + ".npy"), a)
        else:
            arrays = {}
            for spec in specs:
                path = s.get("inputs", {}).get(spec["name"])
                if not path:
                    raise Failure("input", "sample %s has no file for input %r" % (sid, spec["name"]))
                arrays[spec["name"]] = load_input(np, path, spec, sid)
        yield sid, arrays


def save(np, path, arr):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp.npy"
    np.save(tmp, np.ascontiguousarray(arr))
    os.replace(tmp, path)


def save_outputs(np, manifest, sid, named):
    files = {}
    for name, arr in named.items():
        path = os.path.join(manifest["outDir"], sid, name + ".npy")
        save(np, path, arr)
        files[name] = {"file": path, "shape": list(arr.shape), "dtype": str(arr.dtype)}
    return files


def name_outputs(manifest, values, what):
    """Pair a list of output arrays with the manifest's output names."""
    names = manifest["outputs"]
    if len(values) != len(names):
        raise Failure("output", "%s gave %d output(s); expected %d (%s)" % (what, len(values), len(names), ", ".join(names)))
    return dict(zip(names, values))


# ---------------------------------------------------------------------------------------------
# Stages

def run_torch(args, manifest, np):
    try:
        import torch  # noqa: PLC0415
    except ImportError as e:
        raise Failure("missing-package", "cannot import torch: %s" % e, e, package="torch")
    root = os.path.abspath(args.root or os.getcwd())
    factory = resolve_callable(args.entry, root, "model factory")
    audio_fn = resolve_callable(args.audio_fn, root, "audio function") if args.audio_fn else None
    try:
        kwargs = json.loads(args.kwargs) if args.kwargs else {}
    except ValueError as e:
        raise Failure("bad-argument", "--kwargs is not valid JSON: %s" % e)
    if not isinstance(kwargs, dict):
        raise Failure("bad-argument", "--kwargs must be a JSON object")
    try:
        model = factory(**kwargs)
    except Exception as e:  # noqa: BLE001
        raise Failure("factory", "the model factory %s failed: %s: %s" % (args.entry, type(e).__name__, e), e)
    if not isinstance(model, torch.nn.Module):
        raise Failure("factory", "the model factory %s returned %s, not a torch.nn.Module" % (args.entry, type(model).__name__))
    model.eval()
    results = {}
    n = len(manifest["samples"])
    for i, (sid, arrays) in enumerate(sample_inputs(np, manifest, audio_fn)):
        progress("torch: sample %s (%d/%d)" % (sid, i + 1, n), i / max(n, 1))
        tensors = [torch.from_numpy(np.ascontiguousarray(arrays[s["name"]])) for s in manifest["inputs"]]
        try:
            with torch.no_grad():
                out = model(*tensors)
        except Exception as e:  # noqa: BLE001
            raise Failure("inference", "the model failed on sample %s: %s: %s" % (sid, type(e).__name__, e), e)
        if isinstance(out, dict):
            names = manifest["outputs"]
            if all(k in out for k in names):
                values = [out[k] for k in names]
            else:
                values = list(out.values())
        elif isinstance(out, (list, tuple)):
            values = list(out)
        else:
            values = [out]
        values = [v.detach().cpu().numpy() if hasattr(v, "detach") else np.asarray(v) for v in values]
        results[sid] = save_outputs(np, manifest, sid, name_outputs(manifest, values, "the model"))
    return {"torch": torch.__version__}, results


def hn_layers(runner):
    hn = None
    for getter in ("get_hn_dict", "get_hn"):
        fn = getattr(runner, getter, None)
        if fn is None:
            continue
        hn = fn()
        if isinstance(hn, (str, bytes)):
            hn = json.loads(hn)
        if isinstance(hn, dict):
            break
    return (hn or {}).get("layers", {}) if isinstance(hn, dict) else {}


def run_emulator(args, manifest, np):
    try:
        from hailo_sdk_client import ClientRunner, InferenceContext  # noqa: PLC0415
    except ImportError as e:
        raise Failure("missing-package", "cannot import hailo_sdk_client (the Dataflow Compiler): %s" % e, e, package="hailo_sdk_client")
    context = InferenceContext.SDK_FP_OPTIMIZED if args.stage == "fp-optimized" else InferenceContext.SDK_QUANTIZED
    try:
        runner = ClientRunner(har=args.har)
    except Exception as e:  # noqa: BLE001
        raise Failure("inference", "cannot load %s: %s: %s" % (args.har, type(e).__name__, e), e, file=args.har)
    layers = hn_layers(runner)
    in_layers = [(k, v) for k, v in layers.items() if v.get("type") == "input_layer"]
    out_order = []
    for k, v in layers.items():
        if v.get("type") == "output_layer":
            out_order.append((k, v))
    # the model's input names as the HN knows them (original_names), else by position
    specs = manifest["inputs"]
    by_input = {}
    for pos, spec in enumerate(specs):
        match = [lv for _, lv in in_layers if spec["name"] in (lv.get("original_names") or [])]
        lv = match[0] if match else (in_layers[pos][1] if pos < len(in_layers) else None)
        if lv is None:
            raise Failure("input", "%s has no input layer for %r" % (args.har, spec["name"]), file=args.har)
        shapes = lv.get("input_shapes") or lv.get("output_shapes") or [None]
        shape = shapes[0]
        by_input[spec["name"]] = (lv, [1 if (d is None or int(d) < 0) else int(d) for d in shape] if shape else None)
    results = {}
    n = len(manifest["samples"])
    with runner.infer_context(context) as ctx:
        for i, (sid, arrays) in enumerate(sample_inputs(np, manifest, None)):
            progress("%s: sample %s (%d/%d)" % (args.stage, sid, i + 1, n), i / max(n, 1))
            feed = []
            for spec in specs:
                a = arrays[spec["name"]]
                shape = by_input[spec["name"]][1]
                feed.append(to_layout(np, a, shape, "input %s of sample %s" % (spec["name"], sid)) if shape else a)
            data = feed[0] if len(feed) == 1 else {name: f for name, f in zip([k for k, _ in in_layers], feed)}
            try:
                out = runner.infer(ctx, data)
            except Exception as e:  # noqa: BLE001
                raise Failure("inference", "the emulator failed on sample %s: %s: %s" % (sid, type(e).__name__, e), e)
            values = list(out) if isinstance(out, (list, tuple)) else [out]
            values = [np.asarray(v) for v in values]
            results[sid] = save_outputs(np, manifest, sid, name_outputs(manifest, values, "the emulator"))
    version = getattr(sys.modules.get("hailo_sdk_client"), "__version__", None)
    return {"hailo_sdk_client": version, "context": args.stage}, results


def run_device(args, manifest, np):
    try:
        import hailo_platform as hp  # noqa: PLC0415
    except ImportError as e:
        raise Failure("missing-package", "cannot import hailo_platform (HailoRT's Python API): %s" % e, e, package="hailo_platform")
    try:
        hef = hp.HEF(args.hef)
    except Exception as e:  # noqa: BLE001
        raise Failure("inference", "cannot load %s: %s: %s" % (args.hef, type(e).__name__, e), e, file=args.hef)
    in_infos = list(hef.get_input_vstream_infos())
    out_infos = list(hef.get_output_vstream_infos())

    def vstream_for(original, infos, pos):
        get = getattr(hef, "get_vstream_name_from_original_name", None)
        if get is not None:
            try:
                name = get(original)
                for inf in infos:
                    if inf.name == name:
                        return inf
            except Exception:  # noqa: BLE001 - not every HailoRT knows every original name
                pass
        return infos[pos] if pos < len(infos) else None

    specs = manifest["inputs"]
    feeds = []
    for pos, spec in enumerate(specs):
        inf = vstream_for(spec["name"], in_infos, pos)
        if inf is None:
            raise Failure("input", "%s has no input stream for %r" % (args.hef, spec["name"]), file=args.hef)
        feeds.append((spec["name"], inf))
    outs = []
    for pos, name in enumerate(manifest["outputs"]):
        inf = vstream_for(name, out_infos, pos)
        if inf is None:
            raise Failure("output", "%s has no output stream for %r" % (args.hef, name), file=args.hef)
        outs.append((name, inf))
    results = {}
    n = len(manifest["samples"])
    try:
        with hp.VDevice() as target:
            params = hp.ConfigureParams.create_from_hef(hef, interface=hp.HailoStreamInterface.PCIe)
            group = target.configure(hef, params)[0]
            group_params = group.create_params()
            in_params = hp.InputVStreamParams.make(group, format_type=hp.FormatType.FLOAT32)
            out_params = hp.OutputVStreamParams.make(group, format_type=hp.FormatType.FLOAT32)
            with hp.InferVStreams(group, in_params, out_params) as pipeline:
                with group.activate(group_params):
                    for i, (sid, arrays) in enumerate(sample_inputs(np, manifest, None)):
                        progress("device: sample %s (%d/%d)" % (sid, i + 1, n), i / max(n, 1))
                        data = {}
                        for name, inf in feeds:
                            shape = [1] + [int(d) for d in inf.shape]
                            data[inf.name] = to_layout(np, arrays[name], shape, "input %s of sample %s" % (name, sid)).astype("float32")
                        got = pipeline.infer(data)
                        values = []
                        for name, inf in outs:
                            if inf.name not in got:
                                raise Failure("output", "the device returned no stream %r (output %s)" % (inf.name, name))
                            values.append(np.asarray(got[inf.name]))
                        results[sid] = save_outputs(np, manifest, sid, name_outputs(manifest, values, "the device"))
    except Failure:
        raise
    except Exception as e:  # noqa: BLE001
        raise Failure("inference", "HailoRT failed: %s: %s" % (type(e).__name__, e), e)
    return {"hailort": getattr(hp, "__version__", None)}, results


# ---------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(prog="hailo_fidelity.py")
    p.add_argument("--stage", required=True, choices=STAGES)
    p.add_argument("--manifest", required=True)
    p.add_argument("--entry", default=None)
    p.add_argument("--root", default=None)
    p.add_argument("--audio-fn", dest="audio_fn", default=None)
    p.add_argument("--kwargs", default=None, help='JSON object of keyword arguments for the factory (a sweep variant), e.g. {"width": 256}')
    p.add_argument("--har", default=None)
    p.add_argument("--hef", default=None)
    a = p.parse_args(argv)
    if a.stage == "torch" and not a.entry:
        p.error("--stage torch needs --entry")
    if a.stage in ("fp-optimized", "quantized") and not a.har:
        p.error("--stage %s needs --har" % a.stage)
    if a.stage == "device" and not a.hef:
        p.error("--stage device needs --hef")
    return a


def run(args):
    t0 = time.time()
    manifest = load_manifest(args.manifest)
    np = import_numpy()
    if args.stage == "torch":
        versions, results = run_torch(args, manifest, np)
    elif args.stage == "device":
        versions, results = run_device(args, manifest, np)
    else:
        versions, results = run_emulator(args, manifest, np)
    progress("%s: %d sample(s) done" % (args.stage, len(results)), 1.0)
    emit("result", protocol=PROTOCOL_VERSION, stage=args.stage, samples=results, versions=versions,
         seconds=round(time.time() - t0, 3), python=sys.executable, numpy=np.__version__)


def main(argv):
    open_protocol()
    try:
        args = parse_args(argv)
    except SystemExit as e:
        if e.code not in (0, None):
            emit("error", kind="bad-argument", errorClass="SystemExit", message="invalid arguments (see stderr)")
        return 2 if e.code else 0
    try:
        run(args)
        return 0
    except Failure as f:
        exc = f.exc
        tb_text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) if exc is not None else ""
        emit("error", kind=f.kind, errorClass=type(exc).__name__ if exc is not None else "Failure", message=f.message,
             traceback=tb_text, python=sys.executable, **f.extra)
        if tb_text:
            sys.stderr.write(tb_text)
        sys.stderr.write("[hailo-fidelity] %s\n" % f.message)
        return 2 if f.kind == "bad-argument" else 1
    except KeyboardInterrupt:
        emit("error", kind="cancelled", errorClass="KeyboardInterrupt", message="cancelled")
        return 1
    except BaseException as e:  # noqa: BLE001 - anything unexpected is still reported as a line
        tb_text = traceback.format_exc()
        emit("error", kind="internal", errorClass=type(e).__name__, message="%s: %s" % (type(e).__name__, e), traceback=tb_text,
             python=sys.executable)
        sys.stderr.write(tb_text)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
