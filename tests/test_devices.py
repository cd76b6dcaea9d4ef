"""Device plumbing, exercised through the NumPy-backed stand-in for ``cuda``."""
import numpy as np
import pytest

import ember


def test_device_objects():
    d = ember.device("cuda:1")
    assert d.type == "cuda" and d.index == 1
    assert repr(d) == "device(type='cuda', index=1)" and str(d) == "cuda:1"
    assert ember.device("cpu") == "cpu"
    assert repr(ember.device("cpu")) == "device(type='cpu')"
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda"):
        ember.device("tpu")


def test_cuda_unavailable_gives_clear_error():
    if ember.cuda.is_available():
        pytest.skip("a real GPU is present")
    assert ember.cuda.device_count() == 0
    with pytest.raises((AssertionError, RuntimeError), match="CUDA|cuda"):
        ember.ones(2).cuda()


def test_to_and_back(standin_cuda):
    assert ember.cuda.is_available() and ember.cuda.device_count() == 1
    x = ember.tensor([1.0, 2.0])
    g = x.cuda()
    assert g.device == ember.device("cuda:0") and g.is_cuda
    assert x.to("cuda").device.type == "cuda"
    g2 = g * 2 + 1
    assert g2.device.type == "cuda"
    assert g2.cpu().device.type == "cpu"
    np.testing.assert_allclose(g2.cpu().numpy(), [3.0, 5.0])
    with pytest.raises(TypeError, match="can't convert cuda:0 device type tensor to numpy"):
        g.numpy()
    z = ember.zeros(3, device="cuda")
    assert z.device.type == "cuda"


def test_mixing_devices_raises(standin_cuda):
    a = ember.ones(3)
    b = ember.ones(3, device="cuda")
    with pytest.raises(RuntimeError, match="Expected all tensors to be on the same device"):
        a + b
    # a 0-dim cpu tensor mixes like a scalar, as in torch
    assert (b * ember.tensor(2.0)).device.type == "cuda"


def test_autograd_across_devices(standin_cuda):
    x = ember.tensor([1.0, 2.0], requires_grad=True)
    y = (x.cuda() * 3).exp().sum()
    y.backward()
    assert x.grad.device.type == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp(3 * np.array([1.0, 2.0])), rtol=1e-5)


def test_default_device_follows_set_default_device_and_device_context(standin_cuda):
    import torch
    assert ember.get_default_device() == ember.device("cpu")
    assert repr(ember.get_default_device()) == repr(torch.get_default_device())
    try:
        ember.set_default_device("cuda")
        assert ember.get_default_device() == ember.device("cuda", 0)
        made = [ember.zeros(2), ember.tensor([1.0]), ember.arange(3), ember.randn(2), ember.full((1,), 2.0),
                ember.eye(2), ember.linspace(0, 1, 3), ember.as_tensor([1, 2])]
        assert all(t.device == ember.device("cuda", 0) for t in made)
        assert ember.zeros(2, device="cpu").device.type == "cpu"
        assert ember.from_numpy(np.zeros(2)).device.type == "cpu"     # torch: from_numpy stays on cpu
    finally:
        ember.set_default_device(None)
    assert ember.zeros(2).device.type == "cpu"
    with ember.device("cuda"):
        inner = ember.ones(2)
        with ember.device("cpu"):
            assert ember.ones(1).device.type == "cpu"
        assert ember.ones(1).device.type == "cuda"
    assert inner.device.type == "cuda" and ember.ones(1).device.type == "cpu"
