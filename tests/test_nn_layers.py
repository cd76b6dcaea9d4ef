"""nn layers against torch: same weights (copied through numpy), same outputs, input and parameter grads,
same buffers after the step, same repr and state_dict keys; train and eval modes."""
import numpy as np
import pytest

import ember
import ember.nn as enn

import torch
tnn = torch.nn

from .test_nn_extra import _same_error


def _rand(shape, seed, kind="float"):
    rng = np.random.default_rng(seed)
    if kind == "float":
        return rng.standard_normal(shape)
    if kind == "prob":
        return rng.uniform(0.05, 0.95, shape)
    return rng.integers(0, kind, shape).astype(np.int64)


def _copy_state(tmod, emod):
    sd = {k: ember.tensor(v.detach().numpy().copy()) for k, v in tmod.state_dict().items()}
    emod.load_state_dict(sd)


def _as_list(y):
    return list(y) if isinstance(y, tuple) else [y]


def run_module(ctor, inputs, *, train=True, grad=True, atol=1e-7, grad_inputs=None):
    """Build ``ctor(nn)`` in torch and ember (float64), compare forward, backward and state."""
    tmod = ctor(tnn).double()
    emod = ctor(enn).double()
    assert repr(tmod) == repr(emod)
    assert list(tmod.state_dict().keys()) == list(emod.state_dict().keys())
    for (k, tv), (_, ev) in zip(tmod.state_dict().items(), emod.state_dict().items()):
        assert tuple(tv.shape) == tuple(ev.shape), k
    _copy_state(tmod, emod)
    tmod.train(train)
    emod.train(train)
    t_in, e_in = [], []
    for i, a in enumerate(inputs):
        rg = grad and a.dtype.kind == "f" and (grad_inputs is None or i in grad_inputs)
        t_in.append(torch.tensor(a, requires_grad=rg))
        e_in.append(ember.tensor(a, requires_grad=rg))
    ty = _as_list(tmod(*t_in))
    ey = _as_list(emod(*e_in))
    assert len(ty) == len(ey)
    for t, e in zip(ty, ey):
        assert tuple(t.shape) == tuple(e.shape)
        assert str(t.dtype).split(".")[-1] == e.dtype.name if hasattr(e.dtype, "name") else True
        np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=atol, rtol=1e-6)
    for (k, tv), (_, ev) in zip(tmod.state_dict().items(), emod.state_dict().items()):
        np.testing.assert_allclose(ev.detach().numpy(), tv.detach().numpy(), atol=atol, rtol=1e-6, err_msg=k)
    if not grad or not ty[0].requires_grad:
        return
    g = _rand(tuple(ty[0].shape), 99)
    ty[0].backward(torch.tensor(g))
    ey[0].backward(ember.tensor(g))
    for t, e in zip(t_in, e_in):
        if t.grad is not None:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), atol=atol, rtol=1e-6)
    tp = dict(tmod.named_parameters())
    for name, ep in emod.named_parameters():
        if tp[name].grad is None:
            assert ep.grad is None, name
        else:
            np.testing.assert_allclose(ep.grad.numpy(), tp[name].grad.numpy(), atol=atol, rtol=1e-6, err_msg=name)


R = _rand
LAYERS = [
    ("sync_batchnorm", lambda nn: nn.SyncBatchNorm(3), [R((4, 3, 2, 5), 70)]),
    ("sync_batchnorm_3d_input", lambda nn: nn.SyncBatchNorm(3, momentum=None, bias=False), [R((4, 3, 5), 71)]),
    ("data_parallel", lambda nn: nn.DataParallel(nn.Linear(4, 3)), [R((5, 4), 72)]),
    ("linear", lambda nn: nn.Linear(3, 4), [R((5, 3), 0)]),
    ("linear_3d", lambda nn: nn.Linear(3, 4), [R((2, 5, 3), 1)]),
    ("linear_1d", lambda nn: nn.Linear(3, 4), [R((3,), 1)]),
    ("linear_nobias", lambda nn: nn.Linear(3, 4, bias=False), [R((5, 3), 2)]),
    ("bilinear", lambda nn: nn.Bilinear(3, 2, 4), [R((5, 3), 0), R((5, 2), 1)]),
    ("bilinear_nobias_3d", lambda nn: nn.Bilinear(3, 2, 4, bias=False), [R((2, 5, 3), 0), R((2, 5, 2), 1)]),
    ("channel_shuffle", lambda nn: nn.ChannelShuffle(3), [R((2, 6, 2, 2), 0)]),
    ("pixel_shuffle", lambda nn: nn.PixelShuffle(2), [R((2, 8, 2, 3), 0)]),
    ("pixel_unshuffle", lambda nn: nn.PixelUnshuffle(2), [R((2, 2, 4, 6), 0)]),
    ("identity", lambda nn: nn.Identity(54, unused="x"), [R((2, 3), 3)]),
    ("conv1d", lambda nn: nn.Conv1d(4, 6, 3, stride=2, padding=1), [R((2, 4, 9), 4)]),
    ("conv1d_unbatched", lambda nn: nn.Conv1d(4, 6, 3), [R((4, 9), 4)]),
    ("conv2d", lambda nn: nn.Conv2d(3, 8, 3, padding=1), [R((2, 3, 7, 6), 5)]),
    ("conv2d_1x1", lambda nn: nn.Conv2d(4, 4, 1, bias=False), [R((2, 4, 5, 5), 5)]),
    ("conv2d_groups", lambda nn: nn.Conv2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(2, 1), groups=2,
                                           bias=False), [R((2, 4, 9, 7), 6)]),
    ("conv2d_depthwise", lambda nn: nn.Conv2d(4, 8, 3, groups=4, padding=1), [R((2, 4, 6, 6), 6)]),
    ("conv2d_same_reflect", lambda nn: nn.Conv2d(3, 4, (3, 4), padding="same", padding_mode="reflect"),
     [R((2, 3, 6, 7), 7)]),
    ("conv2d_valid", lambda nn: nn.Conv2d(3, 4, 3, padding="valid"), [R((1, 3, 6, 7), 7)]),
    ("conv2d_replicate", lambda nn: nn.Conv2d(3, 4, 3, padding=2, padding_mode="replicate"), [R((2, 3, 5, 5), 8)]),
    ("conv2d_circular", lambda nn: nn.Conv2d(3, 4, 3, padding=1, padding_mode="circular"), [R((2, 3, 5, 5), 9)]),
    ("conv3d", lambda nn: nn.Conv3d(2, 3, 2, stride=(1, 2, 1), padding=1), [R((2, 2, 4, 5, 4), 10)]),
    ("convt1d", lambda nn: nn.ConvTranspose1d(4, 3, 3, stride=2, padding=1, output_padding=1), [R((2, 4, 5), 11)]),
    ("convt2d", lambda nn: nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2), [R((2, 4, 4, 5), 12)]),
    ("convt2d_dil", lambda nn: nn.ConvTranspose2d(3, 2, (2, 3), stride=(1, 2), padding=(0, 1), dilation=2,
                                                  bias=False), [R((1, 3, 4, 4), 12)]),
    ("maxpool1d", lambda nn: nn.MaxPool1d(3, 2, 1), [R((2, 3, 9), 13)]),
    ("maxpool2d", lambda nn: nn.MaxPool2d(2), [R((2, 3, 6, 7), 14)]),
    ("maxpool2d_ceil", lambda nn: nn.MaxPool2d(3, 2, 1, ceil_mode=True), [R((2, 3, 8, 7), 15)]),
    ("maxpool2d_dil", lambda nn: nn.MaxPool2d(3, stride=2, dilation=2), [R((2, 2, 9, 9), 16)]),
    ("maxpool2d_idx", lambda nn: nn.MaxPool2d((2, 3), stride=(1, 2), padding=1, return_indices=True),
     [R((2, 2, 5, 6), 17)]),
    ("maxpool2d_unbatched", lambda nn: nn.MaxPool2d(2), [R((3, 6, 6), 14)]),
    ("avgpool1d", lambda nn: nn.AvgPool1d(3, 2, 1), [R((2, 3, 9), 18)]),
    ("avgpool2d", lambda nn: nn.AvgPool2d(2), [R((2, 3, 6, 7), 19)]),
    ("avgpool2d_ceil_excl", lambda nn: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
     [R((2, 3, 8, 7), 20)]),
    ("avgpool2d_ceil_incl", lambda nn: nn.AvgPool2d(3, 2, 1, ceil_mode=True), [R((2, 3, 8, 7), 20)]),
    ("avgpool2d_divisor", lambda nn: nn.AvgPool2d(2, divisor_override=3), [R((1, 2, 4, 4), 20)]),
    ("adaptiveavg1d", lambda nn: nn.AdaptiveAvgPool1d(3), [R((2, 3, 7), 21)]),
    ("adaptiveavg2d", lambda nn: nn.AdaptiveAvgPool2d((3, 2)), [R((2, 3, 7, 5), 22)]),
    ("adaptiveavg2d_1", lambda nn: nn.AdaptiveAvgPool2d(1), [R((2, 3, 7, 5), 22)]),
    ("adaptiveavg2d_none", lambda nn: nn.AdaptiveAvgPool2d((None, 2)), [R((2, 3, 7, 5), 22)]),
    ("adaptivemax2d", lambda nn: nn.AdaptiveMaxPool2d((3, 2)), [R((2, 3, 7, 5), 23)]),
    ("adaptivemax1d_idx", lambda nn: nn.AdaptiveMaxPool1d(4, return_indices=True), [R((2, 3, 9), 23)]),
    ("layernorm", lambda nn: nn.LayerNorm(5), [R((3, 4, 5), 24)]),
    ("layernorm_2d", lambda nn: nn.LayerNorm((4, 5)), [R((3, 4, 5), 25)]),
    ("layernorm_noaffine", lambda nn: nn.LayerNorm(5, elementwise_affine=False), [R((3, 5), 26)]),
    ("layernorm_nobias", lambda nn: nn.LayerNorm(5, bias=False), [R((3, 5), 26)]),
    ("groupnorm", lambda nn: nn.GroupNorm(2, 4), [R((3, 4, 5, 2), 27)]),
    ("groupnorm_noaffine", lambda nn: nn.GroupNorm(4, 4, affine=False), [R((3, 4, 5), 27)]),
    ("instancenorm2d", lambda nn: nn.InstanceNorm2d(3), [R((2, 3, 5, 4), 28)]),
    ("instancenorm2d_affine", lambda nn: nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
     [R((2, 3, 5, 4), 29)]),
    ("instancenorm1d", lambda nn: nn.InstanceNorm1d(3), [R((2, 3, 6), 28)]),
    ("lrn", lambda nn: nn.LocalResponseNorm(3), [R((2, 5, 4, 3), 30)]),
    ("lrn3d", lambda nn: nn.LocalResponseNorm(2, alpha=0.1, beta=0.5, k=2.0), [R((2, 5, 4), 30)]),
    ("flatten", lambda nn: nn.Flatten(), [R((2, 3, 4, 5), 31)]),
    ("flatten_mid", lambda nn: nn.Flatten(0, 1), [R((2, 3, 4), 31)]),
    ("unflatten", lambda nn: nn.Unflatten(1, (2, 3)), [R((4, 6, 2), 31)]),
    ("zeropad2d", lambda nn: nn.ZeroPad2d((1, 2, 0, 1)), [R((2, 3, 4, 5), 32)]),
    ("constpad1d", lambda nn: nn.ConstantPad1d(2, 3.5), [R((2, 3, 4), 32)]),
    ("reflpad2d", lambda nn: nn.ReflectionPad2d(2), [R((2, 3, 4, 5), 33)]),
    ("reflpad1d", lambda nn: nn.ReflectionPad1d((1, 3)), [R((2, 3, 5), 33)]),
    ("replpad1d", lambda nn: nn.ReplicationPad1d((1, 2)), [R((2, 3, 4), 34)]),
    ("replpad2d", lambda nn: nn.ReplicationPad2d((3, 0, 1, 2)), [R((2, 3, 4, 4), 34)]),
    ("circpad2d", lambda nn: nn.CircularPad2d(1), [R((2, 3, 4, 5), 35)]),
    ("embedding", lambda nn: nn.Embedding(10, 3), [R((4, 5), 36, 10)]),
    ("embedding_pad", lambda nn: nn.Embedding(10, 3, padding_idx=2), [np.array([[2, 1, 2], [4, 2, 9]])]),
]


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("name,ctor,inputs", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer(name, ctor, inputs, train):
    run_module(ctor, inputs, train=train)


BATCHNORMS = [
    ("bn1d", lambda nn: nn.BatchNorm1d(4), (6, 4)),
    ("bn1d_3d", lambda nn: nn.BatchNorm1d(4), (6, 4, 5)),
    ("bn2d", lambda nn: nn.BatchNorm2d(3), (4, 3, 5, 2)),
    ("bn2d_cumulative", lambda nn: nn.BatchNorm2d(3, momentum=None), (4, 3, 5, 2)),
    ("bn2d_noaffine", lambda nn: nn.BatchNorm2d(3, affine=False, momentum=0.3), (4, 3, 5, 2)),
    ("bn2d_nostats", lambda nn: nn.BatchNorm2d(3, track_running_stats=False), (4, 3, 5, 2)),
    ("bn3d", lambda nn: nn.BatchNorm3d(2, eps=1e-3), (2, 2, 3, 2, 3)),
]


@pytest.mark.parametrize("name,ctor,shape", BATCHNORMS, ids=[c[0] for c in BATCHNORMS])
def test_batchnorm_steps(name, ctor, shape):
    """Three training steps (running stats accumulate) then eval, all against torch."""
    tmod = ctor(tnn).double()
    emod = ctor(enn).double()
    assert repr(tmod) == repr(emod)
    _copy_state(tmod, emod)
    for step in range(3):
        x = R(shape, step) * (step + 1) + step
        tx = torch.tensor(x, requires_grad=True)
        ex = ember.tensor(x, requires_grad=True)
        ty, ey = tmod(tx), emod(ex)
        np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), atol=1e-8)
        g = R(shape, 50 + step)
        ty.backward(torch.tensor(g))
        ey.backward(ember.tensor(g))
        np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), atol=1e-8)
        for (k, tv), (_, ev) in zip(tmod.state_dict().items(), emod.state_dict().items()):
            np.testing.assert_allclose(ev.numpy(), tv.numpy(), atol=1e-10, err_msg=k)
            assert str(tv.dtype).split(".")[-1] == ev.dtype.name if hasattr(ev.dtype, "name") else True
    tp = dict(tmod.named_parameters())
    for n, p in emod.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[n].grad.numpy(), atol=1e-8)
    run_module(ctor, [R(shape, 7)], train=False)


def test_batchnorm_num_batches_tracked_int64():
    bn = enn.BatchNorm2d(3)
    assert bn.num_batches_tracked.dtype == ember.int64
    bn(ember.randn(2, 3, 4, 4))
    assert int(bn.num_batches_tracked) == 1


def _act(name, *args, **kw):
    return (name, lambda nn: getattr(nn, name)(*args, **kw))


ACTIVATIONS = [
    _act("ReLU"), _act("ReLU", inplace=True), _act("ReLU6"), _act("LeakyReLU", 0.2), _act("LeakyReLU", inplace=True),
    _act("ELU"), _act("ELU", alpha=0.5), _act("SELU"), _act("CELU", 1.5), _act("GELU"), _act("GELU", "tanh"),
    _act("SiLU"), _act("Mish"), _act("Sigmoid"), _act("Tanh"), _act("Hardtanh"), _act("Hardtanh", -2.0, 2.5),
    _act("Hardsigmoid"), _act("Hardswish"), _act("Softplus"), _act("Softplus", 2.0, 3.0), _act("Softsign"),
    _act("Softmax", 1), _act("Softmax", dim=-1), _act("LogSoftmax", 1), _act("Softmin", 0), _act("Threshold", 0.1, 20.0),
    _act("LogSigmoid"), _act("Tanhshrink"), _act("Softshrink"), _act("Softshrink", 1.0), _act("Hardshrink"),
    _act("Hardsigmoid", inplace=True), _act("Hardswish", True), _act("SiLU", inplace=True),
]


@pytest.mark.parametrize("name,ctor", ACTIVATIONS, ids=[f"{a[0]}{i}" for i, a in enumerate(ACTIVATIONS)])
def test_activation_module(name, ctor):
    x = R((3, 4, 5), 40) * 2
    x[np.abs(np.abs(x) - 0.5) < 1e-3] += 0.01     # away from shrink kinks
    tmod, emod = ctor(tnn), ctor(enn)
    assert repr(tmod) == repr(emod)
    if getattr(tmod, "inplace", False):
        tx, ex = torch.tensor(x), ember.tensor(x)
        ty, ey = tmod(tx), emod(ex)
        np.testing.assert_allclose(ex.numpy(), tx.numpy(), atol=1e-7)
        return
    run_module(ctor, [x])


LOSSES = [
    ("mse", lambda nn: nn.MSELoss(), [R((3, 4), 1), R((3, 4), 2)]),
    ("mse_sum", lambda nn: nn.MSELoss(reduction="sum"), [R((3, 4), 1), R((3, 4), 2)]),
    ("mse_none", lambda nn: nn.MSELoss(reduction="none"), [R((3, 4), 1), R((3, 4), 2)]),
    ("l1", lambda nn: nn.L1Loss(), [R((3, 4), 1), R((3, 4), 2)]),
    ("l1_none", lambda nn: nn.L1Loss(reduction="none"), [R((3, 4), 1), R((3, 4), 2)]),
    ("smoothl1", lambda nn: nn.SmoothL1Loss(beta=0.5), [R((3, 4), 1), R((3, 4), 2)]),
    ("smoothl1_sum", lambda nn: nn.SmoothL1Loss(reduction="sum"), [R((3, 4), 1), R((3, 4), 2)]),
    ("huber", lambda nn: nn.HuberLoss(delta=0.7), [R((3, 4), 1), R((3, 4), 2)]),
    ("huber_none", lambda nn: nn.HuberLoss(reduction="none"), [R((3, 4), 1), R((3, 4), 2)]),
    ("ce", lambda nn: nn.CrossEntropyLoss(), [R((5, 4), 3), R((5,), 4, 4)]),
    ("ce_sum", lambda nn: nn.CrossEntropyLoss(reduction="sum"), [R((5, 4), 3), R((5,), 4, 4)]),
    ("ce_none", lambda nn: nn.CrossEntropyLoss(reduction="none"), [R((5, 4), 3), R((5,), 4, 4)]),
    ("ce_1d", lambda nn: nn.CrossEntropyLoss(), [R((4,), 3), np.array(2)]),
    ("ce_ignore", lambda nn: nn.CrossEntropyLoss(ignore_index=1), [R((6, 4), 3), np.array([1, 0, 1, 3, 2, 1])]),
    ("ce_weight", lambda nn: nn.CrossEntropyLoss(weight=torch.tensor([1., 2., .5, 3.], dtype=torch.float64)
                                                 if nn is tnn else ember.tensor([1., 2., .5, 3.], dtype=ember.float64)),
     [R((6, 4), 3), np.array([1, 0, 1, 3, 2, 1])]),
    ("ce_smooth", lambda nn: nn.CrossEntropyLoss(label_smoothing=0.2), [R((5, 4), 3), R((5,), 4, 4)]),
    ("ce_smooth_ignore_weight", lambda nn: nn.CrossEntropyLoss(
        label_smoothing=0.1, ignore_index=0, weight=torch.tensor([1., 2., .5, 3.], dtype=torch.float64)
        if nn is tnn else ember.tensor([1., 2., .5, 3.], dtype=ember.float64)),
     [R((6, 4), 3), np.array([1, 0, 1, 3, 2, 1])]),
    ("ce_smooth_none_ignore", lambda nn: nn.CrossEntropyLoss(label_smoothing=0.3, ignore_index=0,
                                                             reduction="none"),
     [R((6, 4), 3), np.array([1, 0, 1, 3, 2, 1])]),
    ("ce_smooth_sum", lambda nn: nn.CrossEntropyLoss(label_smoothing=0.3, reduction="sum"),
     [R((6, 4), 3), np.array([1, 0, 1, 3, 2, 1])]),
    ("ce_extra_dims", lambda nn: nn.CrossEntropyLoss(), [R((2, 4, 3, 5), 3), R((2, 3, 5), 4, 4)]),
    ("ce_extra_dims_none", lambda nn: nn.CrossEntropyLoss(reduction="none"), [R((2, 4, 3), 3), R((2, 3), 4, 4)]),
    ("ce_probs", lambda nn: nn.CrossEntropyLoss(), [R((5, 4), 3), R((5, 4), 5, "prob")]),
    ("ce_probs_smooth_none", lambda nn: nn.CrossEntropyLoss(label_smoothing=0.2, reduction="none"),
     [R((5, 4), 3), R((5, 4), 5, "prob")]),
    ("ce_probs_extra", lambda nn: nn.CrossEntropyLoss(reduction="sum"), [R((2, 4, 3), 3), R((2, 4, 3), 5, "prob")]),
    ("nll", lambda nn: nn.NLLLoss(), [R((5, 4), 3), R((5,), 4, 4)]),
    ("nll_none_ignore", lambda nn: nn.NLLLoss(reduction="none", ignore_index=2), [R((5, 4), 3), R((5,), 4, 4)]),
    ("nll_weight", lambda nn: nn.NLLLoss(weight=torch.tensor([1., 2., .5, 3.], dtype=torch.float64)
                                         if nn is tnn else ember.tensor([1., 2., .5, 3.], dtype=ember.float64)),
     [R((5, 4), 3), R((5,), 4, 4)]),
    ("nll_extra", lambda nn: nn.NLLLoss(), [R((2, 4, 3), 3), R((2, 3), 4, 4)]),
    ("bce", lambda nn: nn.BCELoss(), [R((3, 4), 1, "prob"), R((3, 4), 2, "prob")]),
    ("bce_none", lambda nn: nn.BCELoss(reduction="none"), [R((3, 4), 1, "prob"), R((3, 4), 2, "prob")]),
    ("bcelogits", lambda nn: nn.BCEWithLogitsLoss(), [R((3, 4), 1), R((3, 4), 2, "prob")]),
    ("bcelogits_pw", lambda nn: nn.BCEWithLogitsLoss(pos_weight=(torch if nn is tnn else ember).tensor(
        [1., 2., .5, 3.], dtype=(torch if nn is tnn else ember).float64)), [R((3, 4), 1), R((3, 4), 2, "prob")]),
    ("kldiv", lambda nn: nn.KLDivLoss(reduction="batchmean"), [R((3, 4), 1), R((3, 4), 2, "prob")]),
    ("kldiv_logt", lambda nn: nn.KLDivLoss(reduction="sum", log_target=True), [R((3, 4), 1), R((3, 4), 2)]),
    ("kldiv_none", lambda nn: nn.KLDivLoss(reduction="none"), [R((3, 4), 1), R((3, 4), 2, "prob")]),
    ("poisson", lambda nn: nn.PoissonNLLLoss(), [R((3, 4), 1), R((3, 4), 2, 5).astype(float)]),
    ("poisson_full", lambda nn: nn.PoissonNLLLoss(log_input=False, full=True), [R((3, 4), 1, "prob"),
                                                                                R((3, 4), 2, 5).astype(float)]),
    ("softmargin", lambda nn: nn.SoftMarginLoss(), [R((3, 4), 1), np.sign(R((3, 4), 2))]),
    ("multilabel_softmargin", lambda nn: nn.MultiLabelSoftMarginLoss(), [R((3, 4), 1), R((3, 4), 2, 2).astype(float)]),
    ("margin_ranking", lambda nn: nn.MarginRankingLoss(0.3), [R((5,), 1), R((5,), 2), np.sign(R((5,), 3))]),
    ("hinge", lambda nn: nn.HingeEmbeddingLoss(0.8), [R((3, 4), 1), np.sign(R((3, 4), 2))]),
    ("cosine_emb", lambda nn: nn.CosineEmbeddingLoss(0.1), [R((4, 5), 1), R((4, 5), 2), np.sign(R((4,), 3))]),
    ("triplet", lambda nn: nn.TripletMarginLoss(margin=2.0), [R((4, 5), 1), R((4, 5), 2), R((4, 5), 3)]),
    ("gaussian_nll", lambda nn: nn.GaussianNLLLoss(), [R((4, 3), 1), R((4, 3), 2), R((4, 3), 3, "prob")]),
    ("gaussian_nll_full", lambda nn: nn.GaussianNLLLoss(full=True, reduction="sum"),
     [R((4, 3), 1), R((4, 3), 2), R((4, 1), 3, "prob")]),
]


TARGET_GRAD = {"mse", "l1", "smoothl1", "huber", "ce_probs", "ce_probs_smooth_none", "ce_probs_extra", "bcelogits",
               "kldiv", "kldiv_logt", "poisson", "margin_ranking", "cosine_emb", "triplet", "gaussian_nll"}


@pytest.mark.parametrize("name,ctor,inputs", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss(name, ctor, inputs):
    grad_inputs = None if name in TARGET_GRAD else (0,)
    run_module(ctor, inputs, atol=1e-9, grad_inputs=grad_inputs)


def test_dropout_modes():
    m = enn.Dropout(0.4)
    assert repr(m) == "Dropout(p=0.4, inplace=False)"
    x = ember.ones(200, 100)
    y = m(x)
    a = y.numpy()
    assert set(np.unique(a)).issubset({0.0, np.float32(1 / 0.6)})
    assert abs((a == 0).mean() - 0.4) < 0.02
    m.eval()
    assert m(x) is x
    d2 = enn.Dropout2d(0.5)
    z = d2(ember.ones(8, 16, 3, 3)).numpy()
    per_channel = z.reshape(8, 16, -1)
    assert (per_channel.min(-1) == per_channel.max(-1)).all()
    ad = enn.AlphaDropout(0.2)
    xa = ember.randn(20000)
    ya = ad(xa).numpy()
    assert abs(ya.mean()) < 0.05 and abs(ya.std() - 1) < 0.05


def test_dropout_grad_matches_mask():
    x = ember.ones(50, 20, requires_grad=True)
    y = enn.functional.dropout(x, 0.5, training=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())


def test_embedding_max_norm():
    w = _rand((10, 3), 0) * 3
    tm = tnn.Embedding(10, 3, max_norm=1.0).double()
    em = enn.Embedding(10, 3, max_norm=1.0).double()
    tm.weight.data = torch.tensor(w)
    em.load_state_dict({"weight": ember.tensor(w)})
    idx = np.array([[1, 2, 1], [5, 0, 2]])
    ty, ey = tm(torch.tensor(idx)), em(ember.tensor(idx))
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(em.weight.detach().numpy(), tm.weight.detach().numpy(), atol=1e-6)
    assert repr(em) == repr(tm) == "Embedding(10, 3, max_norm=1.0)"


def test_max_unpool():
    x = _rand((2, 3, 6, 6), 1)
    tp, ep = tnn.MaxPool2d(2, return_indices=True), enn.MaxPool2d(2, return_indices=True)
    tu, eu = tnn.MaxUnpool2d(2), enn.MaxUnpool2d(2)
    assert repr(tu) == repr(eu)
    ty, ti = tp(torch.tensor(x))
    ey, ei = ep(ember.tensor(x))
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    tyr = ty.detach().requires_grad_()
    eyr = ember.tensor(ey.detach().numpy(), requires_grad=True)
    to, eo = tu(tyr, ti), eu(eyr, ei)
    np.testing.assert_allclose(eo.detach().numpy(), to.detach().numpy())
    g = _rand(tuple(to.shape), 2)
    to.backward(torch.tensor(g))
    eo.backward(ember.tensor(g))
    np.testing.assert_allclose(eyr.grad.numpy(), tyr.grad.numpy())
    assert tuple(eu(eyr, ei, output_size=(7, 7)).shape) == (2, 3, 7, 7)


def test_default_init_distributions():
    ember.manual_seed(0)
    lin = enn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    w = lin.weight.detach().numpy()
    assert np.abs(w).max() <= bound + 1e-7 and np.abs(w).max() > 0.95 * bound
    assert np.abs(lin.bias.detach().numpy()).max() <= bound
    conv = enn.Conv2d(16, 8, 3)
    b = 1 / np.sqrt(16 * 9)
    assert np.abs(conv.weight.detach().numpy()).max() <= b + 1e-7
    assert tuple(conv.weight.shape) == (8, 16, 3, 3)
    assert tuple(enn.ConvTranspose2d(16, 8, 3, groups=2).weight.shape) == (16, 4, 3, 3)
    emb = enn.Embedding(1000, 20, padding_idx=3).weight.detach().numpy()
    assert abs(emb.std() - 1) < 0.05 and not emb[3].any()


# ---- bad input ----------------------------------------------------------------------------------------
def test_linear_shape_mismatch():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(4x3 and 5x2\)"):
        enn.Linear(5, 2)(ember.randn(4, 3))


def test_conv_channel_mismatch():
    m = enn.Conv2d(3, 8, 3)
    msg = (r"Given groups=1, weight of size \[8, 3, 3, 3\], expected input\[2, 4, 10, 10\] to have 3 channels, "
           r"but got 4 channels instead")
    with pytest.raises(RuntimeError, match=msg):
        m(ember.randn(2, 4, 10, 10))
    with pytest.raises(RuntimeError, match="Expected 3D \\(unbatched\\) or 4D \\(batched\\) input to conv2d"):
        m(ember.randn(2, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        m(ember.randn(1, 3, 2, 2))


def test_batchnorm_bad_dim():
    with pytest.raises(ValueError, match=r"expected 4D input \(got 3D input\)"):
        enn.BatchNorm2d(3)(ember.randn(3, 3, 3))
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        enn.BatchNorm1d(3)(ember.randn(3, 3, 3, 3))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        enn.BatchNorm1d(3)(ember.randn(1, 3))


def test_cross_entropy_bad_target():
    with pytest.raises(IndexError, match="Target 5 is out of bounds."):
        enn.CrossEntropyLoss()(ember.randn(3, 4), ember.tensor([0, 1, 5]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)"):
        enn.CrossEntropyLoss()(ember.randn(3, 4), ember.tensor([0, 1]))
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        enn.functional.cross_entropy(ember.randn(3, 4), ember.tensor([0, 1, 2]), reduction="avg")


def test_module_errors():
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        enn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided convolutions"):
        enn.Conv2d(3, 6, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        enn.Dropout(1.5)


def test_grad_fn_names():
    x = ember.randn(2, 3, 5, 5, requires_grad=True)
    assert type(enn.functional.conv2d(x, ember.randn(4, 3, 3, 3)).grad_fn).__name__ == "ConvolutionBackward0"
    assert type(enn.functional.linear(ember.randn(2, 3, requires_grad=True), ember.randn(4, 3), ember.randn(4))
                .grad_fn).__name__ == "AddmmBackward0"
    assert type(enn.functional.cross_entropy(ember.randn(2, 3, requires_grad=True), ember.tensor([0, 2]))
                .grad_fn).__name__ == "NllLossBackward0"


def _zeros_long(lib, *shape):
    return lib.zeros(shape, dtype=lib.int64)


# Each case raises in torch; ember must raise the same exception type with the same text.
BAD_INPUTS = [
    ("bilinear_input2", lambda L: L.nn.Bilinear(3, 4, 5)(L.ones(2, 3), L.ones(2, 5))),
    ("bilinear_input1", lambda L: L.nn.functional.bilinear(L.ones(2, 4), L.ones(2, 4), L.ones(5, 3, 4))),
    ("bilinear_batch", lambda L: L.nn.functional.bilinear(L.ones(2, 3), L.ones(3, 4), L.ones(5, 3, 4))),
    ("bilinear_ndim", lambda L: L.nn.functional.bilinear(L.ones(3), L.ones(3, 4), L.ones(5, 3, 4))),
    ("bilinear_bias", lambda L: L.nn.functional.bilinear(L.ones(2, 3), L.ones(2, 4), L.ones(5, 3, 4), L.ones(6))),
    ("maxpool2d_too_small", lambda L: L.nn.MaxPool2d(3)(L.ones(1, 1, 8, 2))),
    ("maxpool3d_too_small", lambda L: L.nn.MaxPool3d(3)(L.ones(1, 2, 2, 5, 5))),
    ("maxpool1d_too_small", lambda L: L.nn.MaxPool1d(3)(L.ones(2, 3, 2))),
    ("avgpool1d_too_small", lambda L: L.nn.AvgPool1d(3)(L.ones(1, 2, 2))),
    ("avgpool2d_too_small", lambda L: L.nn.AvgPool2d(3)(L.ones(1, 2, 2, 5))),
    ("avgpool3d_too_small", lambda L: L.nn.AvgPool3d(3)(L.ones(1, 2, 2, 5, 5))),
    ("unpool_output_size", lambda L: L.nn.MaxUnpool2d(2)(L.ones(1, 1, 2, 2), _zeros_long(L, 1, 1, 2, 2),
                                                          output_size=(7, 7))),
    ("unpool_output_size_upper", lambda L: L.nn.MaxUnpool1d(2)(L.ones(1, 1, 4), _zeros_long(L, 1, 1, 4),
                                                               output_size=(10,))),
    ("unpool_output_size_len", lambda L: L.nn.MaxUnpool2d(2)(L.ones(1, 1, 2, 2), _zeros_long(L, 1, 1, 2, 2),
                                                             output_size=(1, 1, 1, 5, 5))),
    ("unpool_bad_index_1d", lambda L: L.nn.functional.max_unpool1d(L.ones(1, 1, 2), _zeros_long(L, 1, 1, 2) + 100,
                                                                   2)),
    ("upsample_1d_input", lambda L: L.nn.Upsample(scale_factor=2)(L.ones(3))),
    ("interpolate_6d_input", lambda L: L.nn.functional.interpolate(L.ones(1, 1, 1, 1, 1, 1), size=3)),
    ("interpolate_scale_len", lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4), scale_factor=(2, 2))),
    ("interpolate_size_len", lambda L: L.nn.functional.interpolate(L.ones(1, 1, 4), size=(2, 2))),
    ("pad_reflect_size_vs_dim", lambda L: L.nn.functional.pad(L.ones(1, 1, 4, 4), (1, 1), mode="reflect")),
    ("pad_replicate_size_vs_dim", lambda L: L.nn.functional.pad(L.ones(4, 4), (1, 1, 1, 1), mode="replicate")),
    ("pad_reflect_argument_number", lambda L: L.nn.functional.pad(L.ones(1, 1, 4, 4), (1, 1, 5, 5), mode="reflect")),
    ("affine_grid_size_text", lambda L: L.nn.functional.affine_grid(L.ones(1, 3, 3), (1, 1, 4, 4),
                                                                    align_corners=False)),
    ("embedding_float_index", lambda L: L.nn.Embedding(5, 3)(L.tensor([1.0]))),
    ("embedding_uint8_index", lambda L: L.nn.Embedding(5, 3)(L.tensor([1], dtype=L.uint8))),
    ("ce_float_target_wrong_shape", lambda L: L.nn.CrossEntropyLoss()(L.ones(2, 3), L.tensor([0.0, 1.0]))),
    ("nll_int32_target", lambda L: L.nn.NLLLoss()(L.ones(2, 3), L.tensor([0, 1], dtype=L.int32))),
    ("nll_multi_target", lambda L: L.nn.NLLLoss()(L.ones(2, 3), _zeros_long(L, 2, 2))),
    ("nll_1d_input", lambda L: L.nn.NLLLoss()(L.ones(3), _zeros_long(L, 2))),
    ("nll_3d_target_shape", lambda L: L.nn.NLLLoss()(L.ones(2, 3, 4), _zeros_long(L, 2, 4, 1))),
    ("nll_4d_target_ndim", lambda L: L.nn.NLLLoss()(L.ones(2, 3, 4, 5), _zeros_long(L, 2, 20))),
    ("nll_4d_target_shape", lambda L: L.nn.NLLLoss()(L.ones(2, 3, 4, 5), _zeros_long(L, 2, 4, 6))),
    ("nll_4d_float_target", lambda L: L.nn.NLLLoss()(L.ones(2, 3, 4, 5), L.zeros(2, 4, 6))),
    ("nll_0d_target_batch", lambda L: L.nn.functional.cross_entropy(L.ones(2, 3), _zeros_long(L))),
    ("conv_transpose_output_size", lambda L: L.nn.ConvTranspose2d(2, 3, 3, stride=2)(L.ones(1, 2, 4, 4),
                                                                                  output_size=(1, 3, 9, 12))),
    ("conv_transpose_output_size_len", lambda L: L.nn.ConvTranspose2d(2, 3, 3, stride=2)(L.ones(1, 2, 4, 4),
                                                                                      output_size=(3,))),
    ("unflatten_sizes", lambda L: L.nn.Unflatten(1, (2, 2))(L.ones(2, 5))),
    ("flatten_dims_order", lambda L: L.nn.Flatten(2, 1)(L.ones(2, 3, 4))),
    ("parameter_int_dtype", lambda L: L.nn.Parameter(L.ones(2, dtype=L.int64))),
    ("mse_weight_shape", lambda L: L.nn.functional.mse_loss(L.ones(2, 3), L.ones(2, 3), weight=L.ones(3))),
]


@pytest.mark.parametrize("name,fn", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_matches_torch(name, fn):
    _same_error(lambda: fn(torch), lambda: fn(ember))


def test_linear_grad_fn_names_follow_input_rank():
    """torch runs linear as a 2-D GEMM and views other ranks back: the printed grad_fn says so."""
    for bias in (True, False):
        for shape in [(3,), (2, 3), (4, 2, 3)]:
            t = tnn.Linear(3, 2, bias=bias)(torch.ones(shape))
            e = enn.Linear(3, 2, bias=bias)(ember.ones(shape))
            assert type(e.grad_fn).__name__ == type(t.grad_fn).__name__


BF16_LAYERS = [
    ("linear", lambda nn: nn.Linear(8, 4), (3, 8)),
    ("conv2d", lambda nn: nn.Conv2d(2, 3, 3, padding=1), (1, 2, 5, 5)),
    ("conv2d_groups", lambda nn: nn.Conv2d(4, 6, 3, groups=2), (2, 4, 5, 5)),
    ("conv_transpose2d", lambda nn: nn.ConvTranspose2d(2, 3, 3, stride=2), (1, 2, 3, 3)),
    ("max_pool2d", lambda nn: nn.MaxPool2d(2), (1, 2, 4, 4)),
    ("upsample_bilinear", lambda nn: nn.Upsample(scale_factor=2, mode="bilinear"), (1, 2, 3, 3)),
    ("adaptive_avg_pool2d", lambda nn: nn.AdaptiveAvgPool2d(2), (1, 2, 5, 5)),
    ("lstm", lambda nn: nn.LSTM(4, 3), (5, 2, 4)),
]


@pytest.mark.parametrize("name,ctor,shape", BF16_LAYERS, ids=[c[0] for c in BF16_LAYERS])
def test_bfloat16_layers_stay_bfloat16(name, ctor, shape):
    """NumPy's bfloat16 GEMM returns float32: outputs and grads must still come back in bfloat16."""
    tmod = ctor(tnn)
    emod = ctor(enn)
    _copy_state(tmod, emod)
    tmod, emod = tmod.bfloat16(), emod.bfloat16()
    x = np.linspace(-2, 2, int(np.prod(shape)), dtype=np.float32).reshape(shape)
    tx = torch.tensor(x).bfloat16().requires_grad_()
    ex = ember.tensor(x).bfloat16().requires_grad_()
    ty, ey = _as_list(tmod(tx))[0], _as_list(emod(ex))[0]
    assert ey.dtype == ember.bfloat16 and ty.dtype == torch.bfloat16
    np.testing.assert_allclose(ey.float().detach().numpy(), ty.float().detach().numpy(), atol=2e-2, rtol=2e-2)
    ty.float().sum().backward()
    ey.float().sum().backward()
    assert ex.grad.dtype == ember.bfloat16
    np.testing.assert_allclose(ex.grad.float().numpy(), tx.grad.float().numpy(), atol=5e-2, rtol=5e-2)


def test_convert_sync_batchnorm_shares_state_like_torch():
    def build(nn):
        inner = nn.Sequential(nn.BatchNorm1d(2, affine=False))
        return nn.Sequential(nn.Conv2d(1, 3, 1), nn.BatchNorm2d(3), inner).eval()
    tsrc, esrc = build(tnn), build(enn)
    tconv, econv = tnn.SyncBatchNorm.convert_sync_batchnorm(tsrc), enn.SyncBatchNorm.convert_sync_batchnorm(esrc)
    assert repr(econv) == repr(tconv)
    assert list(econv.state_dict()) == list(tconv.state_dict())
    assert econv[1].weight is esrc[1].weight and econv[1].running_mean is esrc[1].running_mean
    assert not econv[1].training
