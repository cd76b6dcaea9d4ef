"""Drive every OpInfo entry: values/dtypes/grads vs torch, gradcheck, stand-in device."""
from __future__ import annotations

import importlib
import pkgutil

import numpy as np
import pytest

import ember
from tests import opinfos
from tests.opinfo import outputs, to_lib

import torch  # the reference (test extra)

ALL = []
for _m in pkgutil.iter_modules(opinfos.__path__):
    ALL.extend(importlib.import_module(f"tests.opinfos.{_m.name}").OPINFOS)

CASES = []
for _info in ALL:
    for _k, _s in enumerate(_info.samples(np.random.default_rng(0))):
        CASES.append(pytest.param(_info, _s, id=f"{_info.name}-{_k}{'-' + _s.desc if _s.desc else ''}"))


def _np(t):
    a = t.numpy(force=True)   # force: detach/cpu, and torch's efficient zero tensors
    return a.astype(np.float64) if a.dtype.kind in "fc" or str(a.dtype) == "bfloat16" else a


def _cotangents(outs, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.uniform(0.5, 1.5, size=tuple(o.shape)).astype(np.float64) for o in outs]


def _run(lib, info, sample, grad):
    ts = to_lib(lib, sample.arrays, grad)
    out = info.fn(lib, *ts, **sample.kwargs)
    return ts, out


@pytest.mark.parametrize("info,sample", CASES)
def test_against_torch(info, sample):
    grad = info.grad and sample.grad
    ets, eout = _run(ember, info, sample, grad)
    tts, tout = _run(torch, info, sample, grad)
    eo, to = outputs(eout), outputs(tout)
    assert len(eo) == len(to)
    for e, t in zip(eo, to):
        assert tuple(e.shape) == tuple(t.shape), (e.shape, t.shape)
        if info.check_dtype:
            assert str(e.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(_np(e), _np(t), atol=info.atol, rtol=info.rtol, equal_nan=True)
    if not grad:
        return
    diff = [(e, t) for e, t in zip(eo, to) if t.requires_grad]
    if not diff:
        return
    cots = _cotangents([t for _, t in diff])
    eloss = sum((e * ember.tensor(c, dtype=e.dtype)).sum() for (e, _), c in zip(diff, cots))
    tloss = sum((t * torch.tensor(c, dtype=t.dtype)).sum() for (_, t), c in zip(diff, cots))
    tloss.backward()
    eloss.backward()
    for e, t in zip(ets, tts):
        if hasattr(t, "grad") and getattr(t, "requires_grad", False):
            if t.grad is None:
                assert e.grad is None or not np.any(_np(e.grad))
                continue
            assert e.grad is not None, "ember produced no gradient"
            np.testing.assert_allclose(_np(e.grad), _np(t.grad), atol=info.grad_atol,
                                       rtol=info.grad_rtol, equal_nan=True)


def _float64(arrays):
    return tuple(a.astype(np.float64) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
                 for a in arrays)


@pytest.mark.parametrize("info,sample", [c for c in CASES if c.values[0].grad and c.values[0].gradcheck
                                         and c.values[1].grad])
def test_gradcheck(info, sample):
    ts = to_lib(ember, _float64(sample.arrays), True)
    if not any(getattr(t, "requires_grad", False) for t in ts):
        pytest.skip("no float inputs")
    def fn(*xs):
        return info.fn(ember, *xs, **sample.kwargs)
    assert ember.autograd.gradcheck(fn, ts, eps=1e-6, atol=1e-5, rtol=1e-3)


@pytest.mark.parametrize("info,sample", [c for c in CASES if c.values[0].ref is not None])
def test_reference(info, sample):
    ts = to_lib(ember, sample.arrays, False)
    out = outputs(info.fn(ember, *ts, **sample.kwargs))[0]
    ref = info.ref(*_float64(sample.arrays), **sample.kwargs)
    np.testing.assert_allclose(_np(out), ref, atol=max(info.atol, 1e-5), rtol=max(info.rtol, 1e-5))


@pytest.mark.parametrize("info,sample", [c for c in CASES if c.values[0].standin])
def test_standin_device(info, sample, standin_cuda):
    _, cpu_out = _run(ember, info, sample, False)
    ts = [t.cuda() if isinstance(t, ember.Tensor) else t for t in to_lib(ember, sample.arrays, False)]
    out = info.fn(ember, *ts, **sample.kwargs)
    for c, g in zip(outputs(cpu_out), outputs(out)):
        assert g.device.type == "cuda", f"output left the device: {g.device}"
        np.testing.assert_allclose(_np(g), _np(c), equal_nan=True)
