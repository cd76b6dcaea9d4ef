"""``python -m ember run``: unmodified PyTorch scripts run on ember, only when asked."""
import subprocess
import sys
import textwrap

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
