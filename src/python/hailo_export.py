"""Export a PyTorch model to ONNX for Hailo Workbench, recording where each ONNX node came from.

Usage (normally run by the extension or `hailo-workbench export`):

    python3 hailo_export.py --entry pkg.module:factory --input mel:1x80x3000 \
        --output-name out --opset 17 --out build/model.onnx [--root DIR] \
        [--dynamic-axes JSON] [--no-sourcemap]

Protocol: one JSON object per line on stdout, each with an "event" key:
  {"event": "progress", "step": ..., "message": ..., "fraction": 0..1}
  {"event": "result", "onnx": ..., "sourceMap": ..., "nodes": N, "mapped": M, ...}
  {"event": "error", "kind": ..., "errorClass": ..., "message": ..., "frames": [...], ...}
Everything else (the user's prints, torch's warnings) goes to stderr. Exit code 0 on success,
1 when the export failed, 2 on bad arguments.

The source map joins the exported ONNX nodes to the TorchScript graph torch traced: in torch 1.x
the ONNX-level graph that `torch.onnx.utils._model_to_graph` returns keeps, for every node, the
Python stack of the traced call (`sourceRange()`) and the module scope (`scopeName()`); its
values carry the same names the serializer writes as ONNX node outputs. So each ONNX node is
matched to a graph node by its first output name, and its location is the innermost frame of that
stack that lies in the user's files (not in torch, not in the standard library).
"""

import argparse
import hashlib
import inspect
import json
import os
import re
import sys
import sysconfig
import time
import traceback

PROTOCOL_VERSION = 1
DTYPES = ("float32", "float16", "int64", "int32")

from hailo_driver_common import DriverFailure, emit, load_callable, open_protocol  # noqa: E402


def progress(step, message, fraction):
    emit("progress", step=step, message=message, fraction=round(fraction, 3))
    sys.stderr.write("[hailo-export] %s\n" % message)
    sys.stderr.flush()


class ExportFailure(DriverFailure):
    """A failure already classified for the protocol."""


# ---------------------------------------------------------------------------------------------
# Which files are the user's

def _norm(p):
    return os.path.normcase(os.path.realpath(p))


class UserFiles:
    """Decides whether a source file is the user's: anything outside the standard library,
    site-packages/dist-packages (torch among them) and this driver's folder."""

    def __init__(self, root):
        skip = set()
        for key in ("stdlib", "platstdlib", "purelib", "platlib"):
            p = sysconfig.get_paths().get(key)
            if p:
                skip.add(_norm(p))
        for p in sys.path:
            if p and ("site-packages" in p or "dist-packages" in p):
                skip.add(_norm(p))
        skip.add(_norm(os.path.dirname(os.path.abspath(__file__))))
        self.skip = sorted(skip, key=len, reverse=True)
        self._cache = {}

    def is_user(self, filename):
        if not filename or filename.startswith("<"):
            return False
        hit = self._cache.get(filename)
        if hit is not None:
            return hit
        f = _norm(filename)
        # a virtualenv inside the project still holds library code: the skipped folders win
        result = not any(f.startswith(s + os.sep) for s in self.skip)
        self._cache[filename] = result
        return result


def frames_of(tb, user):
    out = []
    for fs in traceback.extract_tb(tb):
        out.append({"file": fs.filename, "line": fs.lineno, "fn": fs.name, "user": user.is_user(fs.filename)})
    return out


# ---------------------------------------------------------------------------------------------
# Arguments

def parse_shape(text):
    dims = [d for d in re.split(r"[x,×]", text.strip()) if d != ""]
    if not dims:
        raise ValueError("empty shape")
    out = []
    for d in dims:
        if not d.isdigit() or int(d) <= 0:
            raise ValueError("dimension %r is not a positive integer" % d)
        out.append(int(d))
    return out


def parse_input(spec):
    # NAME:1x80x3000[:dtype]
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0]:
        raise ValueError("expected NAME:SHAPE[:DTYPE], e.g. mel:1x80x3000 (got %r)" % spec)
    dtype = parts[2] if len(parts) == 3 else "float32"
    if dtype not in DTYPES:
        raise ValueError("dtype %r is not one of %s" % (dtype, ", ".join(DTYPES)))
    return {"name": parts[0], "shape": parse_shape(parts[1]), "dtype": dtype}


def parse_args(argv):
    p = argparse.ArgumentParser(prog="hailo_export.py", description="Export a PyTorch model to ONNX with a source map.")
    p.add_argument("--entry", required=True, help="package.module:factory")
    p.add_argument("--input", action="append", default=[], help="NAME:SHAPE[:DTYPE], e.g. mel:1x80x3000")
    p.add_argument("--output-name", action="append", default=[], help="ONNX output name (repeat for several)")
    p.add_argument("--opset", type=int, default=17)
    p.add_argument("--out", required=True, help="ONNX file to write")
    p.add_argument("--root", default=None, help="folder put on sys.path first (default: current folder)")
    p.add_argument("--dynamic-axes", default=None, help='JSON: {"input": {"0": "batch"}}')
    p.add_argument("--no-sourcemap", action="store_true")
    p.add_argument("--no-constant-folding", action="store_true")
    p.add_argument("--kwargs", default=None, help='JSON object of keyword arguments for the factory, e.g. {"width": 256}')
    p.add_argument("--probe", action="store_true", help="run the module once on the inputs and report its outputs; export nothing")
    return p.parse_args(argv)


# ---------------------------------------------------------------------------------------------
# Source mapping

FRAME_RE = re.compile(r"^(.*)\((\d+)\): (.*)$")


def parse_source_range(text):
    """torch's traced source range: one `file(line): fn` per line, innermost first."""
    frames = []
    for line in text.splitlines():
        m = FRAME_RE.match(line.strip())
        if m:
            frames.append((m.group(1), int(m.group(2)), m.group(3)))
    return frames


def module_path(scope):
    """`pkg.Enc::/pkg.Block::blocks.0/torch.nn.modules.normalization.LayerNorm::attn_ln` -> `blocks.0.attn_ln`."""
    names = []
    for part in scope.split("/"):
        if "::" in part:
            attr = part.split("::", 1)[1]
            if attr:
                names.append(attr)
    return ".".join(names)


def build_source_map(graph, onnx_nodes, user, sidecar_dir, root=None):
    """Map ONNX node names to user source locations, by the names of the values they produce."""
    by_output = {}
    for node in graph.nodes():
        for o in node.outputs():
            by_output[o.debugName()] = node
    rel_cache = {}
    base = os.path.abspath(sidecar_dir)
    anchors = [base] + ([os.path.abspath(root)] if root else [])

    def rel(f):
        # relative to the sidecar when the file is in its folder or in the project that holds both
        # (they move together); absolute otherwise
        r = rel_cache.get(f)
        if r is None:
            a = os.path.abspath(f)
            r = a
            for anchor in anchors:
                if a.startswith(anchor + os.sep) and (anchor == base or base.startswith(anchor + os.sep) or base == anchor):
                    r = os.path.relpath(a, base).replace(os.sep, "/")
                    break
            rel_cache[f] = r
        return r

    nodes = {}
    for name, outputs in onnx_nodes:
        if not name:
            continue
        tnode = None
        for o in outputs:
            tnode = by_output.get(o)
            if tnode is not None:
                break
        if tnode is None:
            continue
        try:
            frames = parse_source_range(tnode.sourceRange())
        except Exception:  # noqa: BLE001 - a node without a range is simply unmapped
            continue
        ufr = [f for f in frames if user.is_user(f[0])]
        if not ufr:
            continue
        inner = ufr[0]
        entry = {"file": rel(inner[0]), "line": inner[1]}
        mod = module_path(tnode.scopeName())
        if mod:
            entry["module"] = mod
        if len(ufr) > 1:
            # innermost last, as the sidecar format says
            entry["stack"] = [{"file": rel(f), "line": ln, "fn": fn} for (f, ln, fn) in reversed(ufr)]
        nodes[name] = entry
    return nodes


# ---------------------------------------------------------------------------------------------
# Steps

def import_packages():
    try:
        import torch  # noqa: F401
    except Exception as e:  # noqa: BLE001
        raise ExportFailure("missing-package", "PyTorch (torch) cannot be imported by %s: %s" % (sys.executable, e), e, package="torch")
    try:
        import onnx  # noqa: F401
    except Exception as e:  # noqa: BLE001
        raise ExportFailure("missing-package", "the onnx package cannot be imported by %s: %s" % (sys.executable, e), e, package="onnx")
    import torch
    import onnx
    return torch, onnx


def load_factory(entry):
    return load_callable(entry, "model factory", ExportFailure)


def make_inputs(torch, inputs):
    dt = {"float32": torch.float32, "float16": torch.float16, "int64": torch.int64, "int32": torch.int32}
    out = []
    gen = torch.Generator().manual_seed(0)
    for i in inputs:
        if i["dtype"].startswith("float"):
            out.append(torch.randn(*i["shape"], generator=gen).to(dt[i["dtype"]]))
        else:
            out.append(torch.zeros(*i["shape"], dtype=dt[i["dtype"]]))
    return tuple(out)


def failing_node(torch, exc):
    """The graph node being converted when an export step raised (a symbolic function that does not
    support it, say): the innermost traceback frame holding a `torch._C.Node` in a local."""
    node_type = getattr(torch._C, "Node", None)
    found = None
    tb = exc.__traceback__
    while tb is not None:
        for key in ("node", "n"):
            v = tb.tb_frame.f_locals.get(key)
            if node_type is not None and isinstance(v, node_type):
                found = v
        tb = tb.tb_next
    return found


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def value_shape(vi):
    t = vi.type.tensor_type
    if not t.HasField("shape"):
        return None
    dims = []
    for d in t.shape.dim:
        if d.HasField("dim_value"):
            dims.append(d.dim_value)
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append("?")
    return dims


def source_hashes(nodes, entry, sidecar_dir, root):
    """SHA-256 of each Python file the export ran, keyed like the files in `nodes`: the files
    nodes map to and the entry module, so staleness is decided by content, not file times."""
    base = os.path.abspath(sidecar_dir)
    files = {}
    for e in nodes.values():
        files[e["file"]] = os.path.join(base, e["file"]) if not os.path.isabs(e["file"]) else e["file"]
        for fr in e.get("stack", []):
            files[fr["file"]] = os.path.join(base, fr["file"]) if not os.path.isabs(fr["file"]) else fr["file"]
    try:
        mod = sys.modules.get(entry.split(":")[0])
        mf = getattr(mod, "__file__", None)
        if mf:
            a = os.path.abspath(mf)
            r = os.path.relpath(a, base).replace(os.sep, "/")
            if root and not (a.startswith(os.path.abspath(root) + os.sep) or a.startswith(base + os.sep)):
                r = a
            files.setdefault(r, a)
    except Exception:  # noqa: BLE001 - the node files still count
        pass
    out = {}
    for key, p in sorted(files.items()):
        try:
            with open(p, "rb") as f:
                out[key] = hashlib.sha256(f.read()).hexdigest()
        except OSError:
            pass
    return out


# ops that describe a tensor's shape rather than carry its data
SHAPE_OF_OPS = ("Shape", "Size")


def symbolic_origins(onnx, proto, source_nodes, limit=5):
    """The nodes that first give a data tensor a symbolic dimension although their data input is
    static (e.g. a Pad whose pads torch computed through Shape ops): ONNX shape inference cannot
    evaluate such shape arithmetic, so every shape after the node is symbolic in the file."""
    try:
        inferred = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # noqa: BLE001 - huge or odd models: no attribution, the plain warning stays
        return []
    g = inferred.graph
    shapes = {}
    for v in list(g.input) + list(g.value_info) + list(g.output):
        shapes[v.name] = value_shape(v)
    init_names = set(i.name for i in g.initializer)
    data = set(v.name for v in g.input if v.name not in init_names)

    def static(name):
        s = shapes.get(name)
        return s is not None and all(isinstance(d, int) for d in s)

    out = []
    for n in g.node:
        if n.op_type in SHAPE_OF_OPS:
            continue
        data_in = [i for i in n.input if i and i in data]
        if not data_in:
            continue
        for o in n.output:
            if o:
                data.add(o)
        if not all(static(i) for i in data_in):
            continue
        sym = [o for o in n.output if o and o in shapes and not static(o)]
        if not sym:
            continue
        computed = [i for i in n.input if i and i not in data and i not in init_names]
        entry = {"node": n.name, "op": n.op_type, "output": sym[0], "shape": shapes.get(sym[0]), "computedInputs": computed[:4]}
        src = source_nodes.get(n.name)
        if src:
            entry["file"] = src["file"]
            entry["line"] = src["line"]
        out.append(entry)
        if len(out) >= limit:
            break
    return out


def probe(torch, model, example, args, inputs, timings, t_start):
    """Run the module once on zero inputs of the given shapes and report what it returns, so
    "Add Model" can propose output names and shapes (the contract the lint then checks)."""
    progress("probe", "Running %s once on %s" % (args.entry, ", ".join("%s %s" % (i["name"], "x".join(map(str, i["shape"]))) for i in inputs)), 0.6)
    t = time.perf_counter()
    try:
        with torch.no_grad():
            y = model(*example)
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, KeyboardInterrupt):
            raise
        raise ExportFailure("export", "running %s on the given input shapes failed: %s: %s" % (args.entry, type(e).__name__, e), e)
    timings["probe"] = time.perf_counter() - t
    outs = []

    def add(name, v):
        if isinstance(v, torch.Tensor):
            outs.append({"name": name, "shape": [int(d) for d in v.shape], "dtype": str(v.dtype).replace("torch.", "")})

    if isinstance(y, torch.Tensor):
        add("output", y)
    elif isinstance(y, dict):
        for k, v in y.items():
            add(str(k), v)
    elif isinstance(y, (list, tuple)):
        for i, v in enumerate(y):
            add("output%d" % i, v)
    if not outs:
        raise ExportFailure("export", "%s returned %s, not a tensor, a tuple of tensors or a dict of tensors" % (args.entry, type(y).__name__))
    # names given by the caller (hailo.json outputs) win over the generic ones
    for i, n in enumerate(args.output_name or []):
        if i < len(outs):
            outs[i]["name"] = n
    timings["total"] = time.perf_counter() - t_start
    emit(
        "result",
        protocol=PROTOCOL_VERSION,
        onnx="",
        sourceMap=None,
        nodes=0,
        mapped=0,
        opset=args.opset,
        inputs=[{"name": i["name"], "shape": i["shape"]} for i in inputs],
        outputs=[{"name": o["name"], "shape": o["shape"]} for o in outs],
        symbolicDims=[],
        probe=True,
        python=sys.executable,
        torch=torch.__version__,
        seconds={k: round(v, 4) for k, v in timings.items()},
    )


def run(args):
    t_start = time.perf_counter()
    timings = {}
    root = os.path.abspath(args.root or os.getcwd())
    if root not in sys.path:
        sys.path.insert(0, root)
    user = UserFiles(root)
    try:
        inputs = [parse_input(s) for s in args.input]
    except ValueError as e:
        raise ExportFailure("bad-argument", "--input: %s" % e)
    if not inputs:
        raise ExportFailure("bad-argument", "at least one --input NAME:SHAPE is needed")
    dynamic_axes = None
    if args.dynamic_axes:
        try:
            raw = json.loads(args.dynamic_axes)
            dynamic_axes = {k: {int(a): str(n) for a, n in v.items()} for k, v in raw.items()}
        except Exception as e:  # noqa: BLE001
            raise ExportFailure("bad-argument", "--dynamic-axes is not valid JSON of {name: {axis: label}}: %s" % e)

    progress("import", "Importing torch and onnx with %s" % sys.executable, 0.05)
    t = time.perf_counter()
    torch, onnx = import_packages()
    timings["importTorch"] = time.perf_counter() - t

    progress("load", "Importing %s" % args.entry, 0.2)
    t = time.perf_counter()
    factory, _mod = load_factory(args.entry)
    try:
        kwargs = json.loads(args.kwargs) if args.kwargs else {}
    except ValueError as e:
        raise ExportFailure("bad-argument", "--kwargs is not valid JSON: %s" % e)
    if not isinstance(kwargs, dict):
        raise ExportFailure("bad-argument", "--kwargs must be a JSON object")
    try:
        with torch.no_grad():
            model = factory(**kwargs)
    except BaseException as e:  # noqa: BLE001
        if isinstance(e, KeyboardInterrupt):
            raise
        raise ExportFailure("factory", "%s raised %s: %s" % (args.entry, type(e).__name__, e), e)
    if not isinstance(model, torch.nn.Module):
        raise ExportFailure("factory", "%s returned %s, not a torch.nn.Module" % (args.entry, type(model).__name__))
    model.eval()
    example = make_inputs(torch, inputs)
    timings["build"] = time.perf_counter() - t
    if args.probe:
        return probe(torch, model, example, args, inputs, timings, t_start)

    out = os.path.abspath(args.out)
    out_dir = os.path.dirname(out)
    os.makedirs(out_dir, exist_ok=True)
    tmp = os.path.join(out_dir, ".%s.%d.tmp" % (os.path.basename(out), os.getpid()))
    tmp_map = tmp + ".map"

    captured = {}
    import torch.onnx.utils as onnx_utils

    orig_model_to_graph = getattr(onnx_utils, "_model_to_graph", None)

    def model_to_graph(*a, **k):
        # keep the ONNX-level TorchScript graph: it is the one serialized, with source ranges
        result = orig_model_to_graph(*a, **k)
        captured["graph"] = result[0]
        return result

    if orig_model_to_graph is not None:
        onnx_utils._model_to_graph = model_to_graph

    # newer torch releases default to the dynamo exporter, which has no TorchScript graph to map
    export_kwargs = {}
    try:
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            export_kwargs["dynamo"] = False
    except (TypeError, ValueError):
        pass

    progress("export", "Exporting to ONNX (opset %d)" % args.opset, 0.35)
    t = time.perf_counter()
    try:
        try:
            torch.onnx.export(
                model,
                example,
                tmp,
                opset_version=args.opset,
                do_constant_folding=not args.no_constant_folding,
                input_names=[i["name"] for i in inputs],
                output_names=args.output_name or None,
                dynamic_axes=dynamic_axes,
                **export_kwargs
            )
        except BaseException as e:  # noqa: BLE001
            if isinstance(e, KeyboardInterrupt):
                raise
            extra = {}
            node = failing_node(torch, e)
            if node is not None:
                try:
                    fr = [f for f in parse_source_range(node.sourceRange()) if user.is_user(f[0])]
                    if fr:
                        extra["nodeFrame"] = {"file": fr[0][0], "line": fr[0][1], "fn": fr[0][2]}
                    extra["nodeKind"] = node.kind()
                except Exception:  # noqa: BLE001
                    pass
            raise ExportFailure("export", "torch.onnx.export failed: %s: %s" % (type(e).__name__, e), e, **extra)
        finally:
            if orig_model_to_graph is not None:
                onnx_utils._model_to_graph = orig_model_to_graph
        timings["export"] = time.perf_counter() - t

        progress("map", "Mapping ONNX nodes to source lines", 0.85)
        t = time.perf_counter()
        proto = onnx.load(tmp, load_external_data=False)
        g = proto.graph
        onnx_nodes = [(n.name, list(n.output)) for n in g.node]
        nodes = {}
        map_warning = None
        if not args.no_sourcemap:
            if "graph" in captured:
                nodes = build_source_map(captured["graph"], onnx_nodes, user, out_dir, root)
            else:
                map_warning = "torch %s did not expose the exported TorchScript graph, so no node could be mapped to a source line" % torch.__version__
        init_names = set(i.name for i in g.initializer)
        io_in = [{"name": v.name, "shape": value_shape(v)} for v in g.input if v.name not in init_names]
        io_out = [{"name": v.name, "shape": value_shape(v)} for v in g.output]
        symbolic = []
        for side in (io_in, io_out):
            for v in side:
                for ax, d in enumerate(v["shape"] or []):
                    if not isinstance(d, int):
                        symbolic.append({"tensor": v["name"], "axis": ax, "dim": d})
        shape_ops = sum(1 for n in g.node if n.op_type == "Shape")
        origins = symbolic_origins(onnx, proto, nodes) if symbolic else []
        digest = sha256_of(tmp)
        timings["map"] = time.perf_counter() - t

        os.replace(tmp, out)
        sidecar = out + ".sourcemap.json"
        if not args.no_sourcemap:
            data = {
                "version": 1,
                "model": os.path.basename(out),
                "modelSha256": digest,
                "producer": "hailo-workbench hailo_export.py (torch %s, opset %d)" % (torch.__version__, args.opset),
                "entry": args.entry,
                "sources": source_hashes(nodes, args.entry, out_dir, root),
                "nodes": nodes,
            }
            with open(tmp_map, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
                f.write("\n")
            os.replace(tmp_map, sidecar)
        elif os.path.exists(sidecar):
            # a sidecar from an earlier export would describe a different model now
            os.remove(sidecar)
    finally:
        for p in (tmp, tmp_map):
            try:
                os.remove(p)
            except OSError:
                pass

    timings["total"] = time.perf_counter() - t_start
    emit(
        "result",
        protocol=PROTOCOL_VERSION,
        onnx=out,
        sourceMap=None if args.no_sourcemap else sidecar,
        nodes=len(onnx_nodes),
        mapped=len(nodes),
        opset=args.opset,
        inputs=io_in,
        outputs=io_out,
        symbolicDims=symbolic,
        symbolicOrigins=origins,
        dynamicAxes=sorted(dynamic_axes.keys()) if dynamic_axes else [],
        shapeOps=shape_ops,
        mapWarning=map_warning,
        modelSha256=digest,
        python=sys.executable,
        torch=torch.__version__,
        onnxVersion=onnx.__version__,
        seconds={k: round(v, 4) for k, v in timings.items()},
    )
    sys.stderr.write("[hailo-export] Wrote %s (%d nodes, %d mapped to source lines)\n" % (out, len(onnx_nodes), len(nodes)))


def main(argv):
    open_protocol()
    try:
        args = parse_args(argv)
    except SystemExit as e:
        if e.code not in (0, None):
            emit("error", kind="bad-argument", errorClass="SystemExit", message="invalid arguments (see stderr)", frames=[])
        return 2 if e.code else 0
    user = UserFiles(os.path.abspath(args.root or os.getcwd()))
    try:
        run(args)
        return 0
    except ExportFailure as f:
        exc = f.exc
        frames = frames_of(exc.__traceback__, user) if exc is not None else []
        fields = dict(f.extra)
        tb_text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) if exc is not None else ""
        if exc is not None and isinstance(exc, SyntaxError) and exc.filename:
            frames.append({"file": exc.filename, "line": exc.lineno or 1, "fn": "<module>", "user": user.is_user(exc.filename)})
        emit(
            "error",
            kind=f.kind,
            errorClass=type(exc).__name__ if exc is not None else "ExportFailure",
            message=f.message,
            frames=frames,
            traceback=tb_text,
            python=sys.executable,
            **fields
        )
        if tb_text:
            sys.stderr.write(tb_text)
        sys.stderr.write("[hailo-export] %s\n" % f.message)
        return 2 if f.kind == "bad-argument" else 1
    except KeyboardInterrupt:
        emit("error", kind="cancelled", errorClass="KeyboardInterrupt", message="cancelled", frames=[])
        return 1
    except BaseException as e:  # noqa: BLE001 - anything unexpected is still reported as a line
        frames = frames_of(e.__traceback__, user)
        tb_text = traceback.format_exc()
        emit("error", kind="internal", errorClass=type(e).__name__, message="%s: %s" % (type(e).__name__, e), frames=frames,
             traceback=tb_text, python=sys.executable)
        sys.stderr.write(tb_text)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
