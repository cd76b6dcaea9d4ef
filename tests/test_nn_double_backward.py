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


# ---- convolution --------------------------------------------------------------------------------------
@pytest.mark.parametrize("stride,padding,groups", [(1, 0, 1), (2, 1, 1), (1, 1, 2)])
def test_conv1d(stride, padding, groups):
    _check(lambda x, w, b: F.conv1d(x, w, b, stride, padding, 1, groups),
           _t(2, 2, 5, seed=1), _t(2, 2 // groups, 3, seed=2), _t(2, seed=3))


@pytest.mark.parametrize("stride,padding,groups", [(1, 0, 1), (2, 1, 1), (1, 1, 2)])
def test_conv2d(stride, padding, groups):
    _check(lambda x, w, b: F.conv2d(x, w, b, stride, padding, 1, groups),
           _t(1, 2, 4, 4, seed=1), _t(2, 2 // groups, 2, 2, seed=2), _t(2, seed=3))


def test_conv_transpose2d():
    _check(lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
           _t(1, 2, 3, 3, seed=1), _t(2, 1, 3, 3, seed=2), _t(1, seed=3))


# ---- pooling ------------------------------------------------------------------------------------------
def test_max_pool2d():
    _check(lambda x: F.max_pool2d(x, 2, 1, 1), _t(1, 2, 3, 3))


def test_avg_pool2d():
    _check(lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False), _t(1, 2, 4, 4))


def test_adaptive_avg_pool2d():
    _check(lambda x: F.adaptive_avg_pool2d(x, (2, 3)), _t(1, 2, 3, 5))


_POOLS = {
    "max1d": lambda x: F.max_pool1d(x[:, :, 0], 2),
    "max2d_ceil": lambda x: F.max_pool2d(x, 2, 2, 0, ceil_mode=True),
    "max2d_dilated": lambda x: F.max_pool2d(x, 2, 1, 1, dilation=2),
    "max2d_indices": lambda x: F.max_pool2d(x, 2, return_indices=True)[0],
    "max3d": lambda x: F.max_pool3d(x.unsqueeze(0), 2),
    "avg1d": lambda x: F.avg_pool1d(x[:, :, 0], 3, 2, 1),
    "avg2d_ceil": lambda x: F.avg_pool2d(x, 2, 2, 0, ceil_mode=True),
    "avg2d_divisor": lambda x: F.avg_pool2d(x, 3, 1, 1, divisor_override=2),
    "avg3d": lambda x: F.avg_pool3d(x.unsqueeze(0), 2),
    "adaptive_avg1d": lambda x: F.adaptive_avg_pool1d(x[:, :, 0], 3),
    "adaptive_avg_global": lambda x: F.adaptive_avg_pool2d(x, 1),
    "adaptive_max2d": lambda x: F.adaptive_max_pool2d(x, (2, 3)),
    "adaptive_max1d": lambda x: F.adaptive_max_pool1d(x[:, :, 0], 3),
    "lrn": lambda x: F.local_response_norm(x, 2),
    "nearest": lambda x: F.interpolate(x, scale_factor=2, mode="nearest"),
    "nearest_exact": lambda x: F.interpolate(x, size=(3, 7), mode="nearest-exact"),
    "linear": lambda x: F.interpolate(x[:, :, 0], scale_factor=2, mode="linear"),
    "bilinear": lambda x: F.interpolate(x, scale_factor=2, mode="bilinear"),
    "bilinear_corners": lambda x: F.interpolate(x, size=(3, 5), mode="bilinear", align_corners=True),
    "bicubic": lambda x: F.interpolate(x, scale_factor=2, mode="bicubic"),
    "pad_reflect": lambda x: F.pad(x, (1, 2, 2, 1), mode="reflect"),
    "pad_replicate": lambda x: F.pad(x, (1, 2, 2, 1), mode="replicate"),
    "pad_circular": lambda x: F.pad(x, (1, 2, 2, 1), mode="circular"),
    "pad_constant": lambda x: F.pad(x, (1, -1, 2, 0), value=0.5),
    "unfold": lambda x: F.unfold(x, 2, stride=1),
    "pixel_unshuffle": lambda x: F.pixel_unshuffle(x, 2),
}


@pytest.mark.parametrize("name", sorted(_POOLS))
def test_pool_resample_pad(name):
    """Pooling, resampling and padding backwards are linear maps whose adjoints are the forwards."""
    _check(_POOLS[name], _t(1, 2, 4, 4))


def test_max_unpool():
    x = _t(1, 2, 4, 4, grad=False)
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    _check(lambda y: F.max_unpool2d(y, idx, 2), y.detach().requires_grad_())


def test_embedding():
    idx = ember.tensor([[1, 2, 3], [1, 1, 0]])
    _check(lambda w: F.embedding(idx, w), _t(5, 3))


@pytest.mark.parametrize("kw", [{"padding_idx": 1}, {"scale_grad_by_freq": True},
                                {"padding_idx": 3, "scale_grad_by_freq": True}], ids=str)
def test_embedding_grad_options(kw):
    """padding_idx and scale_grad_by_freq change the gradient, so gradcheck does not apply to it:
    it is compared with torch's, and its derivative w.r.t. the output gradient is checked
    numerically.  (torch 2.13's double backward ignores scale_grad_by_freq; ember's is exact.)"""
    rng = np.random.default_rng(0)
    w, v = rng.standard_normal((5, 3)), rng.standard_normal((2, 3, 3))
    grads = []
    for lib in (torch, ember):
        W = lib.tensor(w, requires_grad=True)
        (gw,) = lib.autograd.grad(lib.nn.functional.embedding(lib.tensor([[1, 2, 3], [1, 1, 0]]), W, **kw), W,
                                  lib.tensor(v))
        grads.append(gw.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-12)
    W = ember.tensor(w, requires_grad=True)
    idx = ember.tensor([[1, 2, 3], [1, 1, 0]])
    assert gradcheck(lambda V: ember.autograd.grad(F.embedding(idx, W, **kw), W, V, create_graph=True)[0],
                     (ember.tensor(v, requires_grad=True),))


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
def test_cross_entropy():
    _check(lambda x: F.cross_entropy(x, ember.tensor([0, 2])), _t(2, 3))


def test_nll_loss():
    _check(lambda x: F.nll_loss(x, ember.tensor([0, 2])), _t(2, 3))


def test_mse_loss():
    _check(F.mse_loss, _t(2, 3), _t(2, 3, seed=1))


def test_binary_cross_entropy_with_logits():
    _check(F.binary_cross_entropy_with_logits, _t(2, 3), _t(2, 3, seed=1, grad=False).sigmoid())


_W = ember.tensor([0.5, 1.5, 1.0, 2.0], dtype=ember.float64)
_TARGET = ember.tensor([0, 3, 1])
_CLASS_LOSSES = {
    "ce_weight_ignore": lambda x: F.cross_entropy(x, _TARGET, weight=_W, ignore_index=3),
    "ce_smoothing": lambda x: F.cross_entropy(x, _TARGET, label_smoothing=0.2),
    "ce_smoothing_weight": lambda x: F.cross_entropy(x, _TARGET, weight=_W, label_smoothing=0.2),
    "ce_sum": lambda x: F.cross_entropy(x, _TARGET, reduction="sum"),
    "ce_none": lambda x: F.cross_entropy(x, _TARGET, reduction="none"),
    "ce_probs_smoothing": lambda x: F.cross_entropy(x, _t(3, 4, seed=5, grad=False).softmax(1), label_smoothing=0.1,
                                                    weight=_W),
    "ce_spatial": lambda x: F.cross_entropy(x.reshape(1, 4, 3), ember.tensor([[0, 3, 1]])),
    "ce_unbatched": lambda x: F.cross_entropy(x[0], _TARGET[0]),
    "nll_weight": lambda x: F.nll_loss(x, _TARGET, weight=_W),
    "nll_none": lambda x: F.nll_loss(x, _TARGET, reduction="none"),
    "nll_ignore_sum": lambda x: F.nll_loss(x, _TARGET, ignore_index=1, reduction="sum"),
}


@pytest.mark.parametrize("name", sorted(_CLASS_LOSSES))
def test_class_losses(name):
    _check(_CLASS_LOSSES[name], _t(3, 4))


def test_cross_entropy_probability_targets_that_require_grad():
    _check(lambda x, t: F.cross_entropy(x, t.softmax(1), label_smoothing=0.1), _t(3, 4), _t(3, 4, seed=1))


_PW = ember.tensor([0.5, 2.0, 1.5], dtype=ember.float64)
_ELEMENTWISE_LOSSES = {
    "mse": F.mse_loss,
    "l1": F.l1_loss,
    "smooth_l1": lambda x, y, **kw: F.smooth_l1_loss(x, y, beta=0.5, **kw),
    "smooth_l1_beta0": lambda x, y, **kw: F.smooth_l1_loss(x, y, beta=0.0, **kw),
    "huber": lambda x, y, **kw: F.huber_loss(x, y, delta=0.7, **kw),
    "bce": lambda x, y, **kw: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), **kw),
    "bce_weight": lambda x, y, **kw: F.binary_cross_entropy(x.sigmoid(), y.sigmoid(), weight=_PW, **kw),
    "bce_logits": lambda x, y, **kw: F.binary_cross_entropy_with_logits(x, y.sigmoid(), **kw),
    "bce_logits_weights": lambda x, y, **kw: F.binary_cross_entropy_with_logits(x, y.sigmoid(), weight=_PW,
                                                                               pos_weight=_PW, **kw),
    "kl_div": lambda x, y, **kw: F.kl_div(x.log_softmax(1), y.softmax(1), **kw),
    "kl_div_log_target": lambda x, y, **kw: F.kl_div(x, y, log_target=True, **kw),
    "poisson": F.poisson_nll_loss,
    "poisson_full": lambda x, y, **kw: F.poisson_nll_loss(x.exp(), y.abs() * 3, log_input=False, full=True, **kw),
    "soft_margin": lambda x, y, **kw: F.soft_margin_loss(x, y, **kw),
    "multilabel_soft_margin": lambda x, y, **kw: F.multilabel_soft_margin_loss(x, y.sigmoid(), **kw),
    "gaussian_nll": lambda x, y, **kw: F.gaussian_nll_loss(x, y, _t(2, 3, seed=5, grad=False).exp(), **kw),
}


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("name", sorted(_ELEMENTWISE_LOSSES))
def test_elementwise_losses(name, reduction):
    """Second derivatives w.r.t. both input and target (torch differentiates both)."""
    _check(lambda x, y: _ELEMENTWISE_LOSSES[name](x, y, reduction=reduction), _t(2, 3), _t(2, 3, seed=1))


def test_kl_div_batchmean():
    _check(lambda x, y: F.kl_div(x, y, reduction="batchmean", log_target=True), _t(2, 3), _t(2, 3, seed=1))


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


def test_wgan_gp_conv_critic_matches_torch():
    _wgan_gp(lambda nn: nn.Sequential(nn.Conv2d(1, 3, 3, 2, 1), nn.GroupNorm(1, 3), nn.LeakyReLU(0.2),
                                      nn.Flatten(), nn.Linear(12, 1)), (2, 1, 4, 4))


# ---- grid_sample ----------------------------------------------------------------------------------
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
def test_grid_sample_2d(mode, padding, align_corners):
    grid = ember.tensor(np.random.default_rng(4).uniform(-1.2, 1.2, (1, 2, 3, 2)), requires_grad=True)
    _check(lambda x, g: F.grid_sample(x, g, mode, padding, align_corners), _t(1, 2, 3, 4), grid)


@pytest.mark.parametrize("padding", ["zeros", "reflection"])
def test_grid_sample_3d(padding):
    grid = ember.tensor(np.random.default_rng(5).uniform(-1.1, 1.1, (1, 2, 2, 1, 3)), requires_grad=True)
    _check(lambda x, g: F.grid_sample(x, g, "bilinear", padding, False), _t(1, 1, 2, 3, 3), grid)


def test_spatial_transformer_second_order_matches_torch():
    """affine_grid + grid_sample, differentiated twice w.r.t. theta and the image, as torch does."""
    rng = np.random.default_rng(6)
    img, theta = rng.standard_normal((2, 2, 5, 5)), rng.standard_normal((2, 2, 3)) * 0.5
    res = []
    for lib in (torch, ember):
        x, th = lib.tensor(img, requires_grad=True), lib.tensor(theta, requires_grad=True)
        grid = lib.nn.functional.affine_grid(th, (2, 2, 4, 4), align_corners=False)
        y = lib.nn.functional.grid_sample(x, grid, mode="bicubic", padding_mode="border", align_corners=False)
        gx, gth = lib.autograd.grad((y ** 2).sum(), (x, th), create_graph=True)
        res.append([r.numpy() for r in lib.autograd.grad((gx ** 2).sum() + (gth ** 3).sum(), (x, th))])
    for e, t in zip(res[1], res[0]):
        np.testing.assert_allclose(e, t, rtol=1e-9, atol=1e-10)
