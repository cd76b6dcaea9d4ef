"""The code of the five seed tutorials (/work/shared/seeds), stitched into programs in tests/seed_scripts/,
runs unchanged under ``python -m ember run`` and prints what torch prints for the same program.

torchvision is not installed next to torch, so torch runs each program only up to its first torchvision
import; from there the output is checked against what the tutorial itself states.  Lines a script starts
with "~" print values drawn from the random stream (ember's differs from torch's): only their layout is
compared.
"""
import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).parent / "seed_scripts"
NAMES = ["seed000_distilled", "seed001_hitchhiker", "seed002_cheatsheet", "seed003_book_linear",
         "seed003_book_vision", "seed004_tensors", "seed004_mnist"]
NUMBER = re.compile(r"-?\d+(?:\.\d*)?(?:e[+-]?\d+)?")


TORCH_NAMES = ["seed004_tensors", "seed003_book_linear", "seed000_distilled"]
# runs scripts under real torch, each in its own directory, up to their first torchvision import
TORCH_DRIVER = """
import os, runpy, sys, warnings
warnings.simplefilter("ignore")
for path, cwd in zip(sys.argv[1::2], sys.argv[2::2]):
    os.chdir(cwd)
    sys.argv = [path]
    print("=== " + os.path.basename(path), flush=True)
    try:
        runpy.run_path(path, run_name="__main__")
    except ModuleNotFoundError as e:
        if e.name != "torchvision":
            raise
    sys.stdout.flush()
"""


def run_all(tmp_path):
    """Every script under ``python -m ember run`` and the torch-only ones under torch, all started at
    once, each in its own directory. Returns {name: (returncode, stdout, stderr)}, {name: torch's stdout}."""
    env = dict(os.environ, SEED_QUICK="1", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    procs = {}
    for name in NAMES:
        cwd = tmp_path / name / "w"          # scripts also write to ../ (as the tutorials do)
        cwd.mkdir(parents=True)
        procs[name] = subprocess.Popen([sys.executable, "-m", "ember", "run", str(SCRIPTS / f"{name}.py")],
                                       cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                       text=True)
    args = []
    for name in TORCH_NAMES:
        cwd = tmp_path / "torch" / name / "w"
        cwd.mkdir(parents=True)
        args += [str(SCRIPTS / f"{name}.py"), str(cwd)]
    torch_proc = subprocess.Popen([sys.executable, "-c", TORCH_DRIVER, *args], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
    runs = {}
    for name, p in procs.items():
        out, err = p.communicate(timeout=600)
        runs[name] = (p.returncode, out, err)
    out, err = torch_proc.communicate(timeout=600)
    assert torch_proc.returncode == 0, err[-3000:]
    torch_runs = {chunk.partition("\n")[0][:-3]: chunk.partition("\n")[2]
                  for chunk in out.split("=== ")[1:]}
    return runs, torch_runs


def ember_output(ember_runs, name):
    rc, out, err = ember_runs[name]
    assert rc == 0, f"{name} failed under ember:\n{err[-3000:]}"
    return out


def assert_same_output(ember_lines, torch_lines):
    """Text equal; numbers equal up to float32 summation order (torch and NumPy add in different orders,
    which moves the 7th significant digit); "~" lines (random values) equal in layout only."""
    assert len(ember_lines) == len(torch_lines), (ember_lines, torch_lines)
    random = False
    for e, t in zip(ember_lines, torch_lines):
        random = t.startswith("~") or (random and t.startswith(" "))   # a random tensor's repr goes on
        if random:
            assert re.sub(r"\s", "", NUMBER.sub("#", e)) == re.sub(r"\s", "", NUMBER.sub("#", t)), (e, t)
            continue
        assert NUMBER.split(e) == NUMBER.split(t), (e, t)
        for a, b in zip(NUMBER.findall(e), NUMBER.findall(t)):
            assert math.isclose(float(a), float(b), rel_tol=1e-5, abs_tol=1e-6), (e, t)


def check_torch_only_seeds_print_what_torch_prints(ember_runs, torch_runs):
    for name in ["seed003_book_linear", "seed004_tensors"]:
        assert_same_output(ember_output(ember_runs, name).splitlines(), torch_runs[name].splitlines())


def check_distilled_prints_what_torch_prints_up_to_torchvision(ember_runs, torch_runs):
    ours = ember_output(ember_runs, "seed000_distilled").splitlines()
    theirs = torch_runs["seed000_distilled"].splitlines()
    assert len(theirs) > 40 and "Sequential(" in theirs
    # the one known difference: type(tensor) names ember's class
    ours = [line.replace("<class 'ember.Tensor'>", "<class 'torch.Tensor'>") for line in ours]
    assert_same_output(ours[:len(theirs)], theirs)
    rest = ours[len(theirs):]
    assert rest[0] == "2 2"     # frozen resnet18 with a new fc: only fc's weight and bias train
    assert rest[1:] == ["torch.Size([10, 3, 64, 64]) torch.float32 torch.Size([10]) torch.int64",
                        "torch.Size([2, 3, 64, 64]) torch.float32 torch.Size([2]) torch.int64"]


def check_stated_values(ember_runs, torch_runs):
    tensors = ember_output(ember_runs, "seed004_tensors").splitlines()
    # seed 004 states the output of Test[2] and Test.__len__()
    i = tensors.index("(tensor([2, 1]), tensor(0))")
    assert tensors[i + 1] == "5"
    cheat = ember_output(ember_runs, "seed002_cheatsheet")
    # seed 002 states these REPL results and these lines of the printed (modern) resnet50
    assert cheat.endswith("tensor([1, 2, 3])\ntensor([[1]])\n")
    for line in ["(fc): Linear(in_features=2048, out_features=2, bias=True)",
                 "(conv1): Conv2d(3, 64, kernel_size=(7, 7), stride=(2, 2), padding=(3, 3), bias=False)",
                 "(conv2): Conv2d(64, 64, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)",
                 "(bn3): BatchNorm2d(2048, eps=1e-05, momentum=0.1, affine=True, bias=True, "
                 "track_running_stats=True)",
                 "(0): Conv2d(64, 256, kernel_size=(1, 1), stride=(1, 1), bias=False)",
                 "(relu): ReLU(inplace=True)"]:
        assert "  " + line + "\n" in cheat, line
    assert "ResNet 60192808" in cheat        # resnet152's parameter count


def check_cheatsheet_pieces_match_torch(ember_runs, torch_runs):
    """The cheat sheet's non-torchvision expressions, evaluated by torch, print as in the ember run."""
    import collections

    import numpy as np
    import torch
    from torch import nn
    cheat = ember_output(ember_runs, "seed002_cheatsheet")
    classifier = nn.Sequential(collections.OrderedDict([
        ('fc1', nn.Linear(2048, 1024)), ('relu', nn.ReLU()), ('dropout', nn.Dropout(0.2)),
        ('fc2', nn.Linear(1024, 512)), ('relu', nn.ReLU()), ('dropout', nn.Dropout(0.2)),
        ('fc3', nn.Linear(512, 256)), ('relu', nn.ReLU()), ('dropout', nn.Dropout(0.2)),
        ('fc4', nn.Linear(256, 102)), ('output', nn.LogSoftmax(dim=1))]))
    probs = torch.tensor([[0.1, 0.6, 0.3], [0.7, 0.2, 0.1]])
    for expected in [repr(classifier), repr(torch.topk(probs, 2, dim=1)), repr(torch.topk(probs, 1)),
                     repr(np.squeeze(torch.tensor([[1, 2, 3]]))), str(torch.device("cpu"))]:
        assert expected + "\n" in cheat, expected
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.1)
    for _ in range(7):
        opt.step()
        sched.step()
    assert f"{sched.get_last_lr()}\n" in cheat


def check_torchvision_seeds_run(ember_runs, torch_runs):
    out = ember_output(ember_runs, "seed001_hitchhiker")
    # torchvision's VisionDataset repr: StandardTransform's lines after the first are not indented
    assert ("Dataset MNIST\n    Number of datapoints: 320\n    Root location: ./datasets\n    Split: Train\n"
            "    StandardTransform\nTransform: Compose(\n               ToTensor()\n"
            "               Normalize(mean=(0.1307,), std=(0.3081,))\n           )\n") in out
    assert "(conv2_drop): Dropout2d(p=0.5, inplace=False)" in out
    assert out.endswith("['conv2.weight', 'conv2.bias', 'fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']\n")
    book = ember_output(ember_runs, "seed003_book_vision")
    assert "torch.Size([1, 1000]) True\n" in book and "Image (32, 32) RGB int True\n" in book
    assert "torch.Size([3, 32, 32, 20]) torch.Size([3])\n" in book
    mnist = ember_output(ember_runs, "seed004_mnist")
    assert "train loss decreased: True\n" in mnist
    assert "Required crop size (20, 20) is larger than input image size (10, 10)\n" in mnist
    assert mnist.endswith("torch.Size([3, 46, 46])\n(46, 46)\n")


CHECKS = [check_torch_only_seeds_print_what_torch_prints, check_distilled_prints_what_torch_prints_up_to_torchvision,
          check_stated_values, check_cheatsheet_pieces_match_torch, check_torchvision_seeds_run]


def test_seed_programs(tmp_path):
    """One test (the runs are shared, and xdist must not repeat them): every check runs, and the failures
    of all are reported together."""
    runs, torch_runs = run_all(tmp_path)
    failures = []
    for check in CHECKS:
        try:
            check(runs, torch_runs)
        except AssertionError as e:
            failures.append(f"{check.__name__}: {e}"[:4000])
    assert not failures, "\n\n".join(failures)


def test_legacy_pretrained_flag():
    """torchvision still accepts ``pretrained=``: False builds random weights, True asks for the download
    (which ember cannot do); both warn that the flag is deprecated."""
    from ember.vision import models
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        m = models.squeezenet1_1(pretrained=False)
    assert type(m).__name__ == "SqueezeNet"
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"), \
            pytest.raises(RuntimeError, match="cannot be downloaded"):
        models.resnet18(pretrained=True)


def _messages(fn):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [str(w.message) for w in caught]


@pytest.mark.parametrize("lib", ["ember", "torch"])
def test_tutorial_idioms_warn_and_fail_like_torch(lib):
    """Old idioms of the seeds: deprecated loss flags, ``volatile``, ``pin_memory`` without an accelerator,
    ``torch.cuda.FloatTensor`` without CUDA."""
    import importlib

    import torch
    mod = importlib.import_module(lib)
    data = importlib.import_module(f"{lib}.utils.data")
    got = [_messages(lambda: mod.nn.MSELoss(size_average=False)),
           _messages(lambda: mod.autograd.Variable(mod.randn(1, 8), volatile=True)),
           _messages(lambda: list(data.DataLoader(list(range(4)), batch_size=2, pin_memory=True)))]
    with pytest.raises(TypeError) as e:
        mod.cuda.FloatTensor(1)
    got.append([str(e.value), repr(mod.cuda.FloatTensor)])
    expected = [_messages(lambda: torch.nn.MSELoss(size_average=False)),
                _messages(lambda: torch.autograd.Variable(torch.randn(1, 8), volatile=True)),
                _messages(lambda: list(torch.utils.data.DataLoader(list(range(4)), batch_size=2, pin_memory=True)))]
    with pytest.raises(TypeError) as e:
        torch.cuda.FloatTensor(1)
    expected.append([str(e.value), repr(torch.cuda.FloatTensor)])
    assert got == expected
    assert mod.nn.MSELoss(size_average=False).reduction == "sum"
