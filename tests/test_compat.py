"""``python -m ember run``: unmodified PyTorch scripts run on ember, only when asked."""
import os
import subprocess
import sys
import textwrap

import pytest

import ember

SCRIPT = textwrap.dedent('''
    import sys
    import torch

    assert torch.__name__ == "torch"
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    print("grad", x.grad.tolist(), sys.argv[1:])
    assert isinstance(x, torch.Tensor) and x.dtype == torch.float32
    print("ember" if torch.Tensor.__module__.startswith("ember") else "real torch")
    try:
        torch.definitely_not_an_api
    except AttributeError as e:
        print(e)
    try:
        import torch.not_a_module
    except ImportError as e:
        print(e)
''')


def run(tmp_path, *args):
    p = tmp_path / "script.py"
    p.write_text(SCRIPT)
    return subprocess.run([sys.executable, "-m", "ember", "run", str(p), *args], capture_output=True,
                          text=True, check=True).stdout


def test_run_unmodified_script(tmp_path):
    out = run(tmp_path, "--flag", "v")
    assert "grad [2.0, 4.0, 6.0] ['--flag', 'v']" in out
    assert "\nember\n" in out
    assert "ember does not implement torch.definitely_not_an_api yet" in out
    assert "ember does not implement torch.not_a_module yet" in out


def test_alias_is_opt_in_and_reversible():
    import importlib

    import torch as real_torch
    from ember import compat
    compat.alias_torch()
    try:
        t = importlib.import_module("torch")
        assert t.tensor is ember.tensor
    finally:
        compat.unalias_torch()
    import torch
    assert torch is real_torch and torch.tensor is not ember.tensor


def test_lazy_submodules_read_as_attributes_are_torch_named():
    import importlib

    from ember import compat
    compat.alias_torch()
    try:
        t = importlib.import_module("torch")
        # ember loads these on first use; read through the alias they are the torch.* aliases
        assert [t.jit.__name__, t.fft.__name__, t.special.__name__] == ["torch.jit", "torch.fft", "torch.special"]
        with pytest.raises(AttributeError, match="ember does not implement torch.fft.not_a_transform yet"):
            t.fft.not_a_transform
    finally:
        compat.unalias_torch()


LIKE_PYTHON = textwrap.dedent('''
    import os
    import sys
    import helper                      # beside the script, not in the working directory
    import torch
    import torch.nn as nn
    assert torch.nn is nn and nn.__name__ == "torch.nn"
    for expr in ["torch.nn.NotALayer", "torch.utils.not_a_module.X", "torch.optim.NotAnOptimizer"]:
        try:
            eval(expr)
        except AttributeError as e:
            print(e)
    print(__name__, os.path.isabs(__file__), sys.argv, helper.VALUE)
    if sys.argv[1] == "raise":
        helper.fail()
    sys.exit(int(sys.argv[1]))
''')


def test_run_behaves_like_python(tmp_path):
    """sys.argv, sys.path[0], __file__, exit codes and tracebacks as with ``python script.py``."""
    d = tmp_path / "proj"
    d.mkdir()
    (d / "script.py").write_text(LIKE_PYTHON)
    (d / "helper.py").write_text("VALUE = 7\n\n\ndef fail():\n    raise ValueError('from the script')\n")
    script = os.path.join("proj", "script.py")

    def run_both(*args):
        ours = subprocess.run([sys.executable, "-m", "ember", "run", script, *args], cwd=tmp_path,
                              capture_output=True, text=True, check=False)
        real = subprocess.run([sys.executable, script, *args], cwd=tmp_path, capture_output=True, text=True,
                              check=False)
        return ours, real
    ours, real = run_both("3", "--x")
    assert ours.returncode == real.returncode == 3
    assert f"__main__ True ['{script}', '3', '--x'] 7" in ours.stdout
    for name in ["torch.nn.NotALayer", "torch.utils.not_a_module", "torch.optim.NotAnOptimizer"]:
        assert f"ember does not implement {name} yet" in ours.stdout
    ours, real = run_both("raise")
    assert ours.returncode == real.returncode == 1
    assert ours.stderr == real.stderr        # the traceback starts in the script: no runpy/ember frames
    assert ours.stderr.startswith("Traceback") and "ValueError: from the script" in ours.stderr
    missing = subprocess.run([sys.executable, "-m", "ember", "run", "nope.py"], cwd=tmp_path, capture_output=True,
                             text=True, check=False)
    assert missing.returncode == 2 and "can't open file" in missing.stderr and "nope.py" in missing.stderr


SPAWN_SCRIPT = textwrap.dedent('''
    import torch
    import torch.multiprocessing as mp
    from torch.utils.data import DataLoader, TensorDataset


    def worker(rank, q):
        q.put((rank, type(torch.ones(1)).__module__.split(".")[0]))


    class Where(TensorDataset):
        def __getitem__(self, i):
            return type(torch.ones(1)).__module__.split(".")[0]


    if __name__ == "__main__":
        q = mp.get_context("spawn").SimpleQueue()
        mp.spawn(worker, args=(q,), nprocs=2)
        print(sorted(q.get() for _ in range(2)))
        loader = DataLoader(Where(torch.arange(4.)), batch_size=2, num_workers=2, multiprocessing_context="spawn")
        print([b for b in loader])
''')


def test_spawned_children_of_a_run_script_get_ember_too(tmp_path):
    """mp.spawn workers and spawn-context DataLoader workers re-import the script: torch is ember there too."""
    p = tmp_path / "spawning.py"
    p.write_text(SPAWN_SCRIPT)
    out = subprocess.run([sys.executable, "-m", "ember", "run", str(p)], capture_output=True, text=True,
                         timeout=120, check=True, cwd=tmp_path).stdout.splitlines()
    assert out == ["[(0, 'ember'), (1, 'ember')]", "[['ember', 'ember'], ['ember', 'ember']]"]


def test_unalias_restores_spawn_preparation():
    import multiprocessing.spawn as spawn

    from ember import compat
    original = spawn.get_preparation_data
    compat.alias_torch()
    try:
        assert spawn.get_preparation_data is not original
    finally:
        compat.unalias_torch()
    assert spawn.get_preparation_data is original
