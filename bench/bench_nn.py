"""nn training steps (issue: nn and optim), ember vs torch, plus peak RSS of each training.

MLP 784-512-256-10 (ReLU, CrossEntropyLoss, SGD momentum, batch 128) and a LeNet-style CNN
(conv 1->32->64 3x3 pad 1, maxpool, two Linear; batch 64 on 28x28).  Peak RSS is measured in a
fresh subprocess per library and model (the process imports only that library).

Run:  python bench/bench_nn.py
"""
from __future__ import annotations

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _util import HEADER, per_call, row  # noqa: E402


def build(lib, kind):
    nn = lib.nn
    lib.manual_seed(0)
    if kind == "mlp":
        model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(),
                              nn.Linear(256, 10))
        x = lib.randn(128, 1, 28, 28)
        y = lib.randint(0, 10, (128,))
    else:
        model = nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
        x = lib.randn(64, 1, 28, 28)
        y = lib.randint(0, 10, (64,))
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    return step


def _rss_child(libname, kind, steps):
    import resource
    lib = __import__(libname)
    if libname == "torch":
        lib.set_num_threads(2)
    step = build(lib, kind)
    for _ in range(steps):
        step()
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def peak_rss(libname, kind, steps=20):
    out = subprocess.check_output([sys.executable, __file__, "--rss", libname, kind, str(steps)])
    return float(out)


def main():
    import torch

    import ember
    torch.set_num_threads(2)
    print(HEADER)
    for kind, target in (("mlp", 1.3), ("cnn", 2.0)):
        e, t = build(ember, kind), build(torch, kind)
        print(row(f"{kind} train step", per_call(e, repeat=5), per_call(t, repeat=5), target))
    for kind in ("mlp", "cnn"):
        re_, rt = peak_rss("ember", kind), peak_rss("torch", kind)
        print(f"| {kind} peak RSS | {re_:.0f} MiB | {rt:.0f} MiB | {re_ / rt:.2f}x |"
              f"{'  ok' if re_ / rt <= 0.5 else '  MISS (target <= 0.5x)'}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--rss":
        _rss_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        main()
