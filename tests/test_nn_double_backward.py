"""Double backward (``create_graph=True``) through nn.functional ops: float64 gradgradcheck, WGAN-GP."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck, gradgradcheck

import torch


def _t(*shape, seed=0, grad=True):
    a = np.random.default_rng(seed).standard_normal(shape)
    return ember.tensor(a, dtype=ember.float64, requires_grad=grad)


def _check(fn, *inputs):
    assert gradcheck(fn, inputs)
    assert gradgradcheck(fn, inputs)


def _array_backward(what, how):
    """Known gap: ``what``'s backward runs on arrays (``first_order_only``), so create_graph refuses it."""
    return pytest.mark.xfail(strict=True, raises=NotImplementedError,
                             reason=f"{what} backward is array-only (nn_misc.first_order_only); needs {how}")


_CONV = _array_backward("convolution", "grad_input/grad_weight written as convolution ops (with backwards)")
_CE = _array_backward("cross_entropy", "the backward as Tensor ops: softmax(x) * coef - onehot*coef")
_NLL = _array_backward("nll_loss", "the backward as a differentiable scatter of -coef*g into target columns")
_ELEMENTWISE = _array_backward("elementwise loss", "g * dloss/dx computed from Tensors, not saved arrays")


# ---- convolution --------------------------------------------------------------------------------------
@_CONV
@pytest.mark.parametrize("stride,padding,groups", [(1, 0, 1), (2, 1, 1), (1, 1, 2)])
def test_conv1d(stride, padding, groups):
    _check(lambda x, w, b: F.conv1d(x, w, b, stride, padding, 1, groups),
           _t(2, 2, 5, seed=1), _t(2, 2 // groups, 3, seed=2), _t(2, seed=3))


@_CONV
@pytest.mark.parametrize("stride,padding,groups", [(1, 0, 1), (2, 1, 1), (1, 1, 2)])
def test_conv2d(stride, padding, groups):
    _check(lambda x, w, b: F.conv2d(x, w, b, stride, padding, 1, groups),
           _t(1, 2, 4, 4, seed=1), _t(2, 2 // groups, 2, 2, seed=2), _t(2, seed=3))


@_CONV
def test_conv_transpose2d():
    _check(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
           _t(1, 2, 3, 3, seed=1), _t(2, 1, 3, 3, seed=2), _t(1, seed=3))


# ---- pooling ------------------------------------------------------------------------------------------
@_array_backward("max_pool", "a differentiable scatter of g at the saved argmax (backward: gather at argmax)")
def test_max_pool2d():
    _check(lambda x: F.max_pool2d(x, 2, 1, 1), _t(1, 2, 3, 3))


@_array_backward("avg_pool", "the backward as avg_pool's adjoint op, whose own backward is avg_pool")
def test_avg_pool2d():
    _check(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), _t(1, 2, 4, 4))


@_array_backward("adaptive_avg_pool", "the backward as Tensor matmuls with the saved averaging matrices")
def test_adaptive_avg_pool2d():
    _check(lambda x: F.adaptive_avg_pool2d(x, (2, 3)), _t(1, 2, 3, 5))


# ---- normalisation ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(4, 3), (3, 2, 3), (2, 2, 2, 2)])
def test_batch_norm_train(shape):
    c = shape[1]
    _check(lambda x, w, b: F.batch_norm(x, None, None, w, b, True), _t(*shape), _t(c, seed=1), _t(c, seed=2))


def test_batch_norm_train_running_stats_no_affine():
    rm, rv = ember.zeros(2, dtype=ember.float64), ember.ones(2, dtype=ember.float64)
    _check(lambda x: F.batch_norm(x, rm, rv, training=True), _t(3, 2, 2))


def test_batch_norm_eval():
    rm = ember.tensor([0.3, -0.2], dtype=ember.float64)
    rv = ember.tensor([1.5, 0.7], dtype=ember.float64)
    _check(lambda x, w, b: F.batch_norm(x, rm, rv, w, b, False), _t(3, 2, 2), _t(2, seed=1), _t(2, seed=2))


@pytest.mark.parametrize("shape,ns", [((2, 3), (3,)), ((3,), (3,)), ((2, 2, 3), (2, 3))])
def test_layer_norm(shape, ns):
    _check(lambda x, w, b: F.layer_norm(x, ns, w, b), _t(*shape), _t(*ns, seed=1), _t(*ns, seed=2))


def test_layer_norm_no_affine():
    _check(lambda x: F.layer_norm(x, (4,)), _t(2, 4))


def test_group_norm():
    _check(lambda x, w, b: F.group_norm(x, 2, w, b), _t(2, 4, 3), _t(4, seed=1), _t(4, seed=2))


def test_instance_norm():
    _check(lambda x: F.instance_norm(x), _t(2, 2, 3))


# ---- activations --------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [lambda x: F.softmax(x, 1), lambda x: F.log_softmax(x, 1), lambda x: F.softmax(x, 0),
                                F.gelu, lambda x: F.gelu(x, approximate="tanh"), F.silu, F.elu],
                         ids=["softmax", "log_softmax", "softmax0", "gelu", "gelu_tanh", "silu", "elu"])
def test_activation(fn):
    _check(fn, _t(2, 3))


# ---- losses -------------------------------------------------------------------------------------------
@_CE
def test_cross_entropy():
    _check(lambda x: F.cross_entropy(x, ember.tensor([0, 2])), _t(2, 3))


@_NLL
def test_nll_loss():
    _check(lambda x: F.nll_loss(x, ember.tensor([0, 2])), _t(2, 3))


@_ELEMENTWISE
def test_mse_loss():
    _check(F.mse_loss, _t(2, 3), _t(2, 3, seed=1))


@_ELEMENTWISE
def test_binary_cross_entropy_with_logits():
    _check(F.binary_cross_entropy_with_logits, _t(2, 3), _t(2, 3, seed=1, grad=False).sigmoid())


# ---- WGAN-GP gradient penalty -------------------------------------------------------------------------
def _penalty_step(lib, critic, params, real, fake, alpha):
    """One critic loss with gradient penalty; returns (loss, grads of params)."""
    x = (alpha * real + (1 - alpha) * fake).requires_grad_()
    (gx,) = lib.autograd.grad(critic(x).sum(), x, create_graph=True)
    gp = ((gx.reshape(gx.shape[0], -1).norm(2, dim=1) - 1) ** 2).mean()
    loss = critic(fake).mean() - critic(real).mean() + 10 * gp
    return loss, lib.autograd.grad(loss, params)


def _wgan_gp(make_critic, in_shape):
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal(in_shape), rng.standard_normal(in_shape)
    alpha = rng.random((in_shape[0],) + (1,) * (len(in_shape) - 1))
    tc, ec = make_critic(torch.nn), make_critic(ember.nn)
    ec.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tc.state_dict().items()})
    tc.double(), ec.double()
    out = []
    for lib, c in ((torch, tc), (ember, ec)):
        args = [lib.tensor(a, dtype=lib.float64) for a in (real, fake, alpha)]
        loss, grads = _penalty_step(lib, c, list(c.parameters()), *args)
        out.append((loss.detach().numpy(), [g.detach().numpy() for g in grads]))
    (tl, tg), (el, eg) = out
    np.testing.assert_allclose(el, tl, rtol=1e-10, atol=1e-10)
    for a, b in zip(eg, tg):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_wgan_gp_mlp_critic_matches_torch():
    _wgan_gp(lambda nn: nn.Sequential(nn.Linear(5, 8), nn.LayerNorm(8), nn.LeakyReLU(0.2), nn.Linear(8, 6),
                                      nn.SiLU(), nn.Linear(6, 1)), (4, 5))


@_CONV
def test_wgan_gp_conv_critic_matches_torch():
    _wgan_gp(lambda nn: nn.Sequential(nn.Conv2d(1, 3, 3, 2, 1), nn.GroupNorm(1, 3), nn.LeakyReLU(0.2),
                                      nn.Flatten(), nn.Linear(12, 1)), (2, 1, 4, 4))
