"""The import graph of ember keeps DESIGN.md's layers pointing down, and never imports torch."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent / "ember"

# lower rank = lower layer; a module may import only modules of its own rank or below
RANKS = [
    (0, ("ember._backend", "ember._dtype", "ember._grad_state", "ember._threads", "ember._autocast",
         "ember._optional")),
    (1, ("ember._tensor", "ember._printing", "ember._dlpack")),
    (2, ("ember._ops", "ember._random", "ember.linalg", "ember.cuda", "ember._runtime", "ember.backends",
         "ember.testing", "ember.fft", "ember.special")),
    (3, ("ember.autograd",)),
    (4, ("ember.serialization", "ember.hub", "ember.distributed")),
    (5, ("ember.nn", "ember._torch_nn", "ember.func", "ember.compiler", "ember.amp", "ember.cpu", "ember.cuda.amp")),
    (6, ("ember.optim", "ember.distributions", "ember.jit")),
    (7, ("ember.utils", "ember.multiprocessing", "ember.onnx")),
    (8, ("ember.vision", "ember.compat", "ember.__main__")),
]


def rank(mod):
    best = None
    for r, prefixes in RANKS:
        for p in prefixes:
            if mod == p or mod.startswith(p + "."):
                if best is None or len(p) > best[1]:
                    best = (r, len(p))
    return None if best is None else best[0]


def modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        yield ".".join(parts), path, is_pkg


def imports_of(name, path, is_pkg):
    tree = ast.parse(path.read_text())
    pkg = name if is_pkg else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                yield a.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if node.module is None or mod == "ember":
                for a in node.names:
                    yield f"{mod}.{a.name}", node.lineno
            else:
                yield mod, node.lineno


MODS = list(modules())


@pytest.mark.parametrize("name,path,is_pkg", MODS, ids=[m[0] for m in MODS])
def test_layers_point_down(name, path, is_pkg):
    if name == "ember":
        return  # the package root assembles every layer
    mine = rank(name)
    assert mine is not None, f"{name} is not assigned a layer in tests/test_layering.py"
    bad = []
    for mod, line in imports_of(name, path, is_pkg):
        if mod == "torch" or mod.startswith("torch."):
            bad.append(f"line {line}: imports torch")
        if not mod.startswith("ember"):
            continue
        r = rank(mod)
        if r is not None and r > mine:
            bad.append(f"line {line}: {name} (layer {mine}) imports {mod} (layer {r})")
    assert not bad, "\n".join(bad)
