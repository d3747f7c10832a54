"""What the Hailo Workbench Python drivers (hailo_export.py, hailo_fidelity.py) share: the private
JSON-lines protocol channel on stdout, the classified failure, and loading the user's callable
(`package.module:function`) with its failures told apart (a missing torch, a module that does not
import, a name that is not there or not callable).

It lies next to the drivers (dist/python/, and beside the fidelity driver on a compile target or
device, uploaded with it); Python finds it because a script's own folder is first on sys.path.
"""
import importlib
import json
import os
import re
import sys

_proto = None

ENTRY_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def open_protocol():
    """Keep the real stdout for the protocol only; fd 1 and sys.stdout go to stderr, so nothing the
    user's code prints can corrupt the protocol."""
    global _proto
    try:
        _proto = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
        os.dup2(2, 1)
        sys.stdout = sys.stderr
    except OSError:
        _proto = None


def emit(event, **fields):
    fields["event"] = event
    line = json.dumps(fields, separators=(",", ":"), default=str)
    out = _proto if _proto is not None else sys.stdout
    out.write(line + "\n")
    out.flush()


class DriverFailure(Exception):
    """A failure already classified for the protocol (kind: bad-argument, missing-package, import,
    entry-not-found, ...), with the exception behind it and extra protocol fields."""

    def __init__(self, kind, message, exc=None, **extra):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.exc = exc
        self.extra = extra


def load_callable(entry, what, failure=DriverFailure):
    """Import `package.module:name` and return (the callable, its module). Raises `failure`:
    bad-argument for a malformed entry, missing-package when the module needs torch and torch is
    missing, import when the module fails to import (SystemExit from its body too),
    entry-not-found when the name is missing or not callable."""
    if not ENTRY_RE.match(entry or ""):
        raise failure("bad-argument", '%s %r is not of the form "package.module:function"' % (what, entry))
    mod_name, fn_name = entry.split(":")
    try:
        mod = importlib.import_module(mod_name)
    except BaseException as e:  # noqa: BLE001 - SystemExit from a module body is a failure too
        if isinstance(e, KeyboardInterrupt):
            raise
        missing = getattr(e, "name", None) if isinstance(e, ImportError) else None
        if missing and (missing == "torch" or missing.startswith("torch.")):
            raise failure("missing-package", "cannot import torch (needed by %s, the %s): %s" % (mod_name, what, e), e, package="torch")
        raise failure("import", "cannot import %s (the %s): %s: %s" % (mod_name, what, type(e).__name__, e), e)
    where = getattr(mod, "__file__", None)
    fn = getattr(mod, fn_name, None)
    if fn is None:
        raise failure("entry-not-found", "module %s (%s) has no callable %s (the %s)" % (mod_name, where or "?", fn_name, what), file=where)
    if not callable(fn):
        raise failure("entry-not-found", "%s is not callable (the %s)" % (entry, what), file=where)
    return fn, mod
