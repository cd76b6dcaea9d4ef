"""``python -m ember run script.py [args]``: run an unmodified PyTorch script on ember."""
from __future__ import annotations

import argparse
import runpy
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m ember")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run a PyTorch script with torch/torchvision mapped to ember")
    r.add_argument("script")
    r.add_argument("args", nargs=argparse.REMAINDER)
    ns = p.parse_args(argv)
    from .compat import alias_torch
    alias_torch()
    sys.argv = [ns.script, *ns.args]
    runpy.run_path(ns.script, run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main())
