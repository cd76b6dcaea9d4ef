"""ember.nn.functional against torch.nn.functional: values, input gradients, errors; float64 gradchecks."""
import numpy as np
import pytest

import ember
import ember.nn.functional as F
from ember.autograd import gradcheck

import torch
TF = torch.nn.functional


def _rand(shape, seed, low=None):
    rng = np.random.default_rng(seed)
    if low is not None:
        return rng.uniform(low, 1.0, shape)
    return rng.standard_normal(shape)


def compare(fn, arrays, *, grad=True, atol=1e-8, **kw):
    """Call ``fn(F_module, *tensors, **kw)`` in torch and ember; compare outputs and input grads."""
    t_in = [torch.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    e_in = [ember.tensor(a, requires_grad=grad and a.dtype.kind == "f") for a in arrays]
    ty, ey = fn(TF, *t_in, **kw), fn(F, *e_in, **kw)
    ty = ty if isinstance(ty, tuple) else (ty,)
    ey = ey if isinstance(ey, tuple) else (ey,)
    for t, e in zip(ty, ey):
        assert tuple(t.shape) == tuple(e.shape)
        assert e.dtype.name == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=atol, rtol=1e-7)
    if grad and ty[0].requires_grad:
        g = _rand(tuple(ty[0].shape), 123)
        ty[0].backward(torch.tensor(g))
        ey[0].backward(ember.tensor(g))
        for t, e in zip(t_in, e_in):
            if t.grad is not None:
                np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=atol, rtol=1e-7)
    return ey


CASES = [
    ("pad_constant", lambda f, x: f.pad(x, (1, 2, 0, 1), value=0.5), [(2, 3, 4)]),
    ("pad_negative", lambda f, x: f.pad(x, (-1, 2, 1, -1)), [(2, 3, 4)]),
    ("pad_reflect", lambda f, x: f.pad(x, (2, 1, 1, 2), mode="reflect"), [(2, 3, 4, 5)]),
    ("pad_reflect1d", lambda f, x: f.pad(x, (3, 3), mode="reflect"), [(2, 3, 4)]),
    ("pad_replicate", lambda f, x: f.pad(x, (3, 1), mode="replicate"), [(2, 3, 4)]),
    ("pad_replicate3d", lambda f, x: f.pad(x, (1, 1, 2, 0, 0, 1), mode="replicate"), [(1, 2, 3, 4, 3)]),
    ("pad_circular", lambda f, x: f.pad(x, (2, 1, 1, 3), mode="circular"), [(2, 3, 4, 5)]),
    ("linear", lambda f, x, w, b: f.linear(x, w, b), [(4, 3), (5, 3), (5,)]),
    ("linear_nobias", lambda f, x, w: f.linear(x, w), [(2, 4, 3), (5, 3)]),
    ("conv1d", lambda f, x, w: f.conv1d(x, w, stride=2, padding=2, dilation=2), [(2, 3, 11), (4, 3, 3)]),
    ("conv2d", lambda f, x, w, b: f.conv2d(x, w, b, 1, "same", 1, 1), [(2, 3, 6, 5), (4, 3, 3, 3), (4,)]),
    ("conv2d_groups", lambda f, x, w: f.conv2d(x, w, None, 2, 1, 1, 3), [(2, 6, 7, 7), (6, 2, 3, 3)]),
    ("conv3d", lambda f, x, w: f.conv3d(x, w, padding=(1, 0, 1)), [(1, 2, 4, 4, 3), (3, 2, 2, 3, 2)]),
    ("conv_transpose2d", lambda f, x, w, b: f.conv_transpose2d(x, w, b, 2, 1, 1, 1, 1), [(2, 3, 4, 4), (3, 2, 3, 3),
                                                                                         (2,)]),
    ("conv_transpose1d_groups", lambda f, x, w: f.conv_transpose1d(x, w, None, 3, 0, 2, 2, 2), [(2, 4, 5),
                                                                                                (4, 3, 2)]),
    ("max_pool2d", lambda f, x: f.max_pool2d(x, 3, 2, 1, return_indices=True), [(2, 3, 7, 6)]),
    ("max_pool1d", lambda f, x: f.max_pool1d(x, 2, ceil_mode=True), [(2, 3, 7)]),
    ("max_pool3d", lambda f, x: f.max_pool3d(x, 2, return_indices=True), [(1, 2, 4, 5, 4)]),
    ("avg_pool2d", lambda f, x: f.avg_pool2d(x, (3, 2), (2, 1), (1, 1), count_include_pad=False), [(2, 3, 7, 6)]),
    ("avg_pool3d", lambda f, x: f.avg_pool3d(x, 2, ceil_mode=True), [(1, 2, 5, 5, 4)]),
    ("adaptive_avg_pool2d", lambda f, x: f.adaptive_avg_pool2d(x, (4, 3)), [(2, 3, 7, 5)]),
    ("adaptive_max_pool2d", lambda f, x: f.adaptive_max_pool2d(x, (4, 3), return_indices=True), [(2, 3, 7, 5)]),
    ("adaptive_avg_pool3d", lambda f, x: f.adaptive_avg_pool3d(x, 2), [(1, 2, 5, 3, 4)]),
    ("batch_norm_train", lambda f, x, w, b: f.batch_norm(x, None, None, w, b, training=True), [(4, 3, 5), (3,), (3,)]),
    ("layer_norm", lambda f, x, w, b: f.layer_norm(x, (3, 4), w, b, eps=1e-3), [(2, 3, 4), (3, 4), (3, 4)]),
    ("group_norm", lambda f, x, w, b: f.group_norm(x, 3, w, b), [(2, 6, 4), (6,), (6,)]),
    ("instance_norm", lambda f, x: f.instance_norm(x), [(2, 3, 4, 5)]),
    ("local_response_norm", lambda f, x: f.local_response_norm(x, 2), [(2, 4, 3, 3)]),
    ("normalize", lambda f, x: f.normalize(x, dim=-1), [(3, 4)]),
    ("normalize_p1", lambda f, x: f.normalize(x, p=1.0, dim=0), [(3, 4)]),
    ("cosine_similarity", lambda f, a, b: f.cosine_similarity(a, b), [(3, 4, 2), (3, 4, 2)]),
    ("pairwise_distance", lambda f, a, b: f.pairwise_distance(a, b), [(3, 4), (3, 4)]),
    ("unfold", lambda f, x: f.unfold(x, (2, 3), dilation=1, padding=1, stride=2), [(2, 3, 5, 6)]),
    ("fold", lambda f, x: f.fold(x, (4, 5), 2, padding=1, stride=2), [(2, 12, 9)]),
    ("sdpa", lambda f, q, k, v: f.scaled_dot_product_attention(q, k, v), [(2, 3, 4), (2, 5, 4), (2, 5, 6)]),
    ("sdpa_causal", lambda f, q, k, v: f.scaled_dot_product_attention(q, k, v, is_causal=True, scale=0.3),
     [(2, 4, 4), (2, 4, 4), (2, 4, 6)]),
    ("pixel_shuffle", lambda f, x: f.pixel_shuffle(x, 2), [(2, 8, 3, 2)]),
    ("pixel_unshuffle", lambda f, x: f.pixel_unshuffle(x, 2), [(2, 2, 4, 6)]),
    ("sigmoid", lambda f, x: f.sigmoid(x), [(3, 4)]),
    ("tanh", lambda f, x: f.tanh(x), [(3, 4)]),
    ("mse_loss_weight", lambda f, x, y, w: f.mse_loss(x, y, weight=w), [(3, 4), (3, 4), (3, 4)]),
    ("mse_loss_weight_sum", lambda f, x, y, w: f.mse_loss(x, y, reduction="sum", weight=w), [(3, 4), (3, 4), (3, 4)]),
    ("l1_loss_weight", lambda f, x, y, w: f.l1_loss(x, y, weight=w), [(3, 4), (3, 4), (3, 4)]),
    ("l1_loss_weight_none", lambda f, x, y, w: f.l1_loss(x, y, reduction="none", weight=w), [(3, 4), (3, 4), (3, 4)]),
    ("huber_loss_weight", lambda f, x, y, w: f.huber_loss(x, y, delta=0.5, weight=w), [(3, 4), (3, 4), (3, 4)]),
]


@pytest.mark.parametrize("name,fn,shapes", CASES, ids=[c[0] for c in CASES])
def test_functional(name, fn, shapes):
    compare(fn, [_rand(s, i) for i, s in enumerate(shapes)])


def test_embedding_functional():
    w = _rand((10, 4), 0)
    idx = np.array([[1, 3, 3], [0, 9, 1]])
    compare(lambda f, i, w: f.embedding(i, w, padding_idx=3), [idx, w])
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(ember.tensor([10]), ember.tensor(w))


def test_one_hot():
    t = np.array([[0, 2], [3, 1]])
    np.testing.assert_array_equal(F.one_hot(ember.tensor(t)).numpy(), TF.one_hot(torch.tensor(t)).numpy())
    assert F.one_hot(ember.tensor(t), 6).shape == (2, 2, 6)
    assert F.one_hot(ember.tensor(t)).dtype == ember.int64
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes."):
        F.one_hot(ember.tensor(t), 3)


def test_cross_entropy_fused_grad_is_softmax_minus_onehot():
    x = _rand((4, 5), 0)
    t = np.array([0, 4, 2, 2])
    ex = ember.tensor(x, requires_grad=True)
    F.cross_entropy(ex, ember.tensor(t), reduction="sum").backward()
    p = np.exp(x - x.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    p[np.arange(4), t] -= 1
    np.testing.assert_allclose(ex.grad.numpy(), p, atol=1e-12)


def test_cross_entropy_all_ignored_is_nan():
    ty = TF.cross_entropy(torch.randn(2, 3), torch.tensor([-100, -100]))
    ey = F.cross_entropy(ember.randn(2, 3), ember.tensor([-100, -100]))
    assert np.isnan(ey.item()) and np.isnan(ty.item())


def test_batch_norm_functional_running_stats():
    x = _rand((6, 3, 4), 1)
    trm, trv = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    erm, erv = ember.zeros(3, dtype=ember.float64), ember.ones(3, dtype=ember.float64)
    TF.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.2)
    F.batch_norm(ember.tensor(x), erm, erv, training=True, momentum=0.2)
    np.testing.assert_allclose(erm.numpy(), trm.numpy())
    np.testing.assert_allclose(erv.numpy(), trv.numpy())
    compare(lambda f, x: f.batch_norm(x, erm if f is F else trm, erv if f is F else trv), [x])


def test_float32_stays_float32():
    x = ember.randn(2, 3, 5, 5, requires_grad=True)
    w = ember.randn(4, 3, 3, 3, requires_grad=True)
    y = F.max_pool2d(F.relu(F.conv2d(x, w, padding=1)), 2)
    y = F.layer_norm(y, (2,))
    loss = F.cross_entropy(y.reshape(2, -1), ember.tensor([0, 1]))
    loss.backward()
    for t in (y, loss, x.grad, w.grad):
        assert t.dtype == ember.float32


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "soft_margin_loss",
                                  "poisson_nll_loss"])
def test_integer_target_keeps_input_float_dtype(name):
    """float32 input with an int64 target: torch promotes to float32 (NumPy alone would give float64)."""
    x, y = _rand((3, 4), 0).astype(np.float32), np.sign(_rand((3, 4), 1)).astype(np.int64)
    t = getattr(TF, name)(torch.tensor(x, requires_grad=True), torch.tensor(y), reduction="none")
    e = getattr(F, name)(ember.tensor(x, requires_grad=True), ember.tensor(y), reduction="none")
    assert e.dtype == ember.float32
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=1e-6)
    e.sum().backward()
    assert e.grad_fn is not None


def test_clip_grad_norm_negative_inf_is_smallest_magnitude():
    grads = [_rand((2, 3), 0), _rand((4,), 1)]
    tp = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
    ep = [ember.nn.Parameter(ember.zeros(g.shape)) for g in grads]
    for p, q, g in zip(tp, ep, grads):
        p.grad, q.grad = torch.tensor(g, dtype=torch.float32), ember.tensor(g, dtype=ember.float32)
    tn = torch.nn.utils.clip_grad_norm_(tp, 0.01, norm_type=-float("inf"))
    en = ember.nn.utils.clip_grad_norm_(ep, 0.01, norm_type=-float("inf"))
    np.testing.assert_allclose(en.numpy(), tn.numpy(), rtol=1e-6)
    for p, q in zip(tp, ep):
        np.testing.assert_allclose(q.grad.numpy(), p.grad.numpy(), rtol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "softmin"])
@pytest.mark.parametrize("shape", [(3,), (2, 3), (2, 3, 4), (2, 3, 4, 5)])
def test_softmax_family_implicit_dim_like_torch(name, shape):
    """Old code calls ``F.log_softmax(x)`` with no dim: torch warns and picks dim 0 for 0/1/3-d input, else 1."""
    x = _rand(shape, 0)
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been deprecated"):
        t = getattr(TF, name)(torch.tensor(x))
    with pytest.warns(UserWarning, match=f"Implicit dimension choice for {name} has been deprecated"):
        e = getattr(F, name)(ember.tensor(x))
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-12)
    np.testing.assert_allclose(getattr(F, name)(ember.tensor(x), 0, dtype=ember.float32).numpy(),
                               getattr(TF, name)(torch.tensor(x), 0, dtype=torch.float32).numpy(), rtol=1e-6)


def test_dropout_functional_training_flag():
    x = ember.ones(10, 10)
    assert F.dropout(x, 0.5, training=False) is x
    assert (F.dropout(x, 1.0).numpy() == 0).all()
    y = F.dropout(x, 0.5, training=True, inplace=True)
    assert y is x and set(np.unique(x.numpy())).issubset({0.0, 2.0})
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        F.dropout(x, 1.5)


INTERP = [
    ("nearest_size", dict(size=(5, 7)), (2, 3, 3, 4)),
    ("nearest_scale", dict(scale_factor=2), (2, 3, 3, 4)),
    ("nearest_down", dict(size=(2, 3)), (1, 2, 5, 7)),
    ("nearest_exact", dict(size=(5, 3), mode="nearest-exact"), (1, 2, 3, 7)),
    ("nearest_1d_frac", dict(scale_factor=1.7), (2, 3, 5)),
    ("linear_1d", dict(size=7, mode="linear"), (2, 3, 4)),
    ("linear_1d_ac", dict(size=7, mode="linear", align_corners=True), (2, 3, 4)),
    ("bilinear", dict(size=(5, 7), mode="bilinear"), (2, 3, 3, 4)),
    ("bilinear_ac", dict(scale_factor=2, mode="bilinear", align_corners=True), (2, 3, 3, 4)),
    ("bilinear_down", dict(size=(2, 3), mode="bilinear"), (1, 2, 5, 7)),
    ("bilinear_scale_frac", dict(scale_factor=(1.5, 2.5), mode="bilinear"), (1, 2, 4, 3)),
    ("bicubic", dict(size=(6, 5), mode="bicubic"), (1, 2, 4, 3)),
    ("bicubic_ac", dict(size=(6, 5), mode="bicubic", align_corners=True), (1, 2, 4, 3)),
    ("trilinear", dict(size=(3, 4, 5), mode="trilinear"), (1, 2, 2, 3, 3)),
    ("nearest_3d", dict(scale_factor=2), (1, 2, 2, 3, 3)),
    ("bilinear_aa_down", dict(size=(4, 3), mode="bilinear", antialias=True), (1, 2, 9, 11)),
    ("bilinear_aa_scale", dict(scale_factor=(0.4, 0.7), mode="bilinear", antialias=True), (2, 1, 10, 7)),
    ("bilinear_aa_ac", dict(size=(3, 5), mode="bilinear", antialias=True, align_corners=True), (1, 2, 8, 9)),
    ("bilinear_aa_up", dict(size=(7, 9), mode="bilinear", antialias=True), (1, 2, 3, 4)),
    ("bicubic_aa_down", dict(size=(4, 2), mode="bicubic", antialias=True), (1, 2, 11, 9)),
    ("bicubic_aa_mixed", dict(size=(13, 3), mode="bicubic", antialias=True), (1, 1, 5, 8)),
]


@pytest.mark.parametrize("name,kw,shape", INTERP, ids=[c[0] for c in INTERP])
def test_interpolate(name, kw, shape):
    compare(lambda f, x: f.interpolate(x, **kw), [_rand(shape, 0)])


def test_upsample_modules():
    import ember.nn as enn
    for args in [dict(scale_factor=2), dict(size=(4, 5), mode="bilinear"), dict(scale_factor=2.0, mode="bicubic",
                                                                                  align_corners=True)]:
        t, e = torch.nn.Upsample(**args), enn.Upsample(**args)
        assert repr(t) == repr(e)
        x = _rand((1, 2, 3, 3), 1)
        np.testing.assert_allclose(e(ember.tensor(x)).numpy(), t(torch.tensor(x)).numpy(), atol=1e-10)
    assert repr(enn.UpsamplingBilinear2d(scale_factor=2)) == repr(torch.nn.UpsamplingBilinear2d(scale_factor=2))


def test_interpolate_errors():
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        F.interpolate(ember.randn(1, 2, 3, 3), size=4, scale_factor=2)
    with pytest.raises(NotImplementedError, match="Got 3D input, but bilinear mode needs 4D input"):
        F.interpolate(ember.randn(1, 2, 3), size=4, mode="bilinear")
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        F.interpolate(ember.randn(1, 2, 3), size=4, align_corners=True)
    for shape, mode in [((1, 1, 4), "linear"), ((1, 1, 4, 4), "nearest"), ((1, 1, 4, 4, 4), "trilinear")]:
        with pytest.raises(ValueError, match="Anti-alias option is restricted to bilinear, bicubic, and lanczos"):
            F.interpolate(ember.randn(*shape), scale_factor=0.5, mode=mode, antialias=True)


def test_unknown_functional_name():
    # activations resolve lazily by name; unknown names raise AttributeError
    with pytest.raises(AttributeError):
        F.no_such_function  # noqa: B018


GRADCHECKS = [
    ("conv2d", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, dilation=1, groups=1), [(1, 2, 5, 4), (3, 2, 2, 3),
                                                                                            (3,)]),
    ("conv_transpose2d", lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1, output_padding=1),
     [(1, 2, 3, 3), (2, 3, 3, 2)]),
    ("linear", lambda x, w, b: F.linear(x, w, b), [(3, 4), (2, 4), (2,)]),
    ("avg_pool2d", lambda x: F.avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [(1, 2, 5, 6)]),
    ("max_pool2d", lambda x: F.max_pool2d(x, 2, 1), [(1, 2, 4, 4)]),
    ("adaptive_avg_pool2d", lambda x: F.adaptive_avg_pool2d(x, (3, 2)), [(1, 2, 5, 5)]),
    ("batch_norm", lambda x, w, b: F.batch_norm(x, None, None, w, b, True), [(4, 3, 2), (3,), (3,)]),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)]),
    ("group_norm", lambda x, w, b: F.group_norm(x, 2, w, b), [(2, 4, 3), (4,), (4,)]),
    ("pad_reflect", lambda x: F.pad(x, (2, 1), mode="reflect"), [(2, 4)]),
    ("cross_entropy", lambda x: F.cross_entropy(x, ember.tensor([0, 2, 1]), label_smoothing=0.1), [(3, 4)]),
    ("cross_entropy_probs", lambda x, t: F.cross_entropy(x, t), [(3, 4), (3, 4)]),
    ("nll_loss", lambda x: F.nll_loss(x, ember.tensor([0, 2, 1])), [(3, 4)]),
    ("mse_loss", lambda x, y: F.mse_loss(x, y), [(3, 4), (3, 4)]),
    ("bce_with_logits", lambda x: F.binary_cross_entropy_with_logits(x, ember.full((3, 4), 0.3, dtype=ember.float64),
                                                                      pos_weight=ember.full((4,), 2.0,
                                                                                            dtype=ember.float64)),
     [(3, 4)]),
    ("unfold", lambda x: F.unfold(x, 2, stride=1), [(1, 2, 3, 3)]),
]


@pytest.mark.parametrize("name,fn,shapes", GRADCHECKS, ids=[c[0] for c in GRADCHECKS])
def test_gradcheck(name, fn, shapes):
    inputs = [ember.tensor(_rand(s, i), requires_grad=True) for i, s in enumerate(shapes)]
    assert gradcheck(fn, inputs, eps=1e-6, atol=1e-5)


def test_error_messages():
    with pytest.raises(RuntimeError, match="Padding length must be divisible by 2"):
        F.pad(ember.randn(2, 3), (1,))
    with pytest.raises(RuntimeError, match="Padding size should be less than the corresponding input dimension"):
        F.pad(ember.randn(1, 2, 3), (3, 0), mode="reflect")
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[5\], expected input with shape \[\*, 5\]"):
        F.layer_norm(ember.randn(2, 4), (5,))
    with pytest.raises(RuntimeError, match="Expected number of channels in input to be divisible by num_groups"):
        F.group_norm(ember.randn(2, 5, 3), 2)
    with pytest.raises(IndexError, match="Target -3 is out of bounds."):
        F.nll_loss(ember.randn(3, 4), ember.tensor([0, 1, -3]))
    with pytest.raises(RuntimeError, match="Given transposed=1, weight of size"):
        F.conv_transpose2d(ember.randn(1, 3, 4, 4), ember.randn(2, 3, 3, 3))
    with pytest.raises(RuntimeError, match="Input type .* and weight type .* should be the same"):
        F.conv2d(ember.randn(1, 3, 4, 4, dtype=ember.float64), ember.randn(2, 3, 3, 3))


def test_linear_double_backward_matches_torch():
    x, w, b = _rand((5, 3), 0), _rand((4, 3), 1), _rand((4,), 2)
    res = []
    for lib, f, grad in ((torch, TF, torch.autograd.grad), (ember, F, ember.autograd.grad)):
        X, W, B = (lib.tensor(a, requires_grad=True) for a in (x, w, b))
        (gx,) = grad(f.linear(X, W, B).tanh().sum(), [X], create_graph=True)
        (gx * gx).sum().backward()
        res.append((W.grad.numpy(), B.grad.numpy()))
    for t, e in zip(*res):
        np.testing.assert_allclose(e, t, atol=1e-10)


def test_double_backward_refused_not_silent():
    """A backward torch cannot differentiate either (embedding_bag's) raises when differentiated
    again, instead of silently giving a gradient without the missing terms."""
    for lib, f in ((torch, TF), (ember, F)):
        w = lib.randn(5, 3, requires_grad=True)
        y = f.embedding_bag(lib.tensor([0, 2, 4]), w, lib.tensor([0, 1]))
        v = lib.ones(2, 3, requires_grad=True)
        (gw,) = lib.autograd.grad(y, [w], v, create_graph=True)
        assert gw.requires_grad
        with pytest.raises(NotImplementedError, match="derivative for .*_embedding_bag_backward.* is not implemented"):
            (gw * gw).sum().backward()
