"""Real training on scikit-learn's bundled digits (8x8 images, offline): an MLP and a small CNN reach
at least 95% test accuracy within a few seconds."""
import time

import numpy as np
import pytest

import ember
import ember.nn as nn
import ember.optim
import ember.nn.functional as F

from sklearn import datasets


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """These GEMMs are tiny: on a busy shared machine BLAS worker threads only contend (a step ran ~10x
    slower with them), which would make the time budget below measure the machine's load, not ember."""
    before = ember.get_num_threads()
    ember.set_num_threads(1)
    yield
    ember.set_num_threads(before)


def _digits():
    d = datasets.load_digits()
    x = (d.images / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    rng = np.random.default_rng(0)
    perm = rng.permutation(len(x))
    x, y = x[perm], y[perm]
    n = int(0.8 * len(x))
    return x[:n], y[:n], x[n:], y[n:]


def _train(model, opt, xtr, ytr, epochs, batch=64, scheduler=None):
    rng = np.random.default_rng(1)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(epochs):
        model.train()
        perm = rng.permutation(len(xtr))
        for i in range(0, len(xtr), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            loss = loss_fn(model(ember.from_numpy(xtr[idx])), ember.from_numpy(ytr[idx]))
            loss.backward()
            opt.step()
        if scheduler is not None:
            scheduler.step()
    return float(loss)


def _accuracy(model, x, y):
    model.eval()
    with ember.no_grad():
        logits = model(ember.from_numpy(x)).numpy()
    return (logits.argmax(1) == y).mean()


def test_mlp_digits():
    ember.manual_seed(0)
    xtr, ytr, xte, yte = _digits()
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    t0 = time.perf_counter()
    _train(model, opt, xtr, ytr, epochs=20)
    assert time.perf_counter() - t0 < 30
    assert _accuracy(model, xte, yte) >= 0.95


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(32 * 2 * 2, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc(x.reshape(x.shape[0], -1))


def test_cnn_digits():
    ember.manual_seed(0)
    xtr, ytr, xte, yte = _digits()
    xtr, xte = xtr[:, None], xte[:, None]
    model = SmallCNN()
    opt = ember.optim.Adam(model.parameters(), lr=3e-3)
    sched = ember.optim.lr_scheduler.StepLR(opt, step_size=6, gamma=0.3)
    t0 = time.perf_counter()
    _train(model, opt, xtr, ytr, epochs=12, scheduler=sched)
    assert time.perf_counter() - t0 < 30
    assert _accuracy(model, xte, yte) >= 0.95
