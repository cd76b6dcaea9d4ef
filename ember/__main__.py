"""``python -m ember run script.py [args]``: run an unmodified PyTorch script on ember."""
from __future__ import annotations

import argparse
import builtins
import importlib.machinery
import os
import signal
import sys
import types


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ember")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a PyTorch script with torch/torchvision mapped to ember")
    r.add_argument("script")
    r.add_argument("args", nargs=argparse.REMAINDER)
    ns = p.parse_args(argv)
    from .compat import alias_torch
    alias_torch()
    return run_script(ns.script, ns.args)


def run_script(script: str, args) -> int:
    """Run ``script`` as ``python script args`` would: ``sys.argv`` as given, ``sys.path[0]`` the
    script's directory (not the working directory), an absolute ``__file__``, a fresh ``__main__``
    module (no future flags of this file); an uncaught exception prints a traceback that starts in
    the script, and sets the exit code."""
    path = os.path.abspath(script)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        sys.stderr.write(f"{sys.executable}: can't open file {path!r}: [Errno {e.errno}] {e.strerror}\n")
        return 2
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(path)
    main = types.ModuleType("__main__")
    main.__file__, main.__builtins__ = path, builtins
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", path)
    sys.modules["__main__"] = main
    try:
        exec(compile(source, path, "exec", dont_inherit=True), main.__dict__)
    except SystemExit:
        raise
    except BaseException as e:  # noqa: B036 - reported as the interpreter would, then exit
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != path:
            tb = tb.tb_next         # drop this module's frame
        e.__traceback__ = tb       # None for a script that does not compile: no traceback, as python
        sys.excepthook(type(e), e, e.__traceback__)
        if isinstance(e, KeyboardInterrupt):    # die of SIGINT, as the interpreter does
            sys.stdout.flush()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGINT)
        return 1
    return 0

if __name__ == "__main__":
    sys.exit(main())
