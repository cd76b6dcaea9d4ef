"""ember.amp against torch.amp on CPU: autocast state and op policy (dtypes, values, gradients), GradScaler."""
import threading
import warnings
import zlib

import numpy as np
import pytest
import torch

import ember

TF = torch.nn.functional
EF = ember.nn.functional
SEED = 0


def _arrays(shapes):
    rng = np.random.default_rng(zlib.crc32(repr(shapes).encode()) + SEED)
    return [rng.standard_normal(s).astype(np.float32) for s in shapes]


def _to(lib, arrays, dtype_name):
    return [lib.tensor(a).to(getattr(lib, dtype_name)) for a in arrays]


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


def _np(t):
    t = t.detach()
    if t.is_complex():
        return t.cpu().numpy().astype(np.complex128)
    return t.float().cpu().numpy().astype(np.float64)


def _compare(e, t, lower):
    assert str(e.dtype) == str(t.dtype)
    tol = {"rtol": 2e-2, "atol": 2e-2} if lower else {"rtol": 1e-4, "atol": 1e-4}
    np.testing.assert_allclose(_np(e), _np(t), **tol)


def _both(fn, shapes, dtype_name, autocast_dtype=None, values=True):
    arrays = _arrays(shapes)
    outs = []
    for lib, F in ((ember, EF), (torch, TF)):
        xs = _to(lib, arrays, dtype_name)
        with lib.autocast("cpu", dtype=autocast_dtype and getattr(lib, autocast_dtype)):
            outs.append(_first(fn(lib, F, *xs)))
    e, t = outs
    assert str(e.dtype) == str(t.dtype)
    if values:
        _compare(e, t, lower=t.dtype in (torch.bfloat16, torch.float16))
    return e, t


# ---- ops autocast runs in the lower precision (float32 inputs) -----------------------------------

LOWER = {
    "matmul": ([(4, 5), (5, 3)], lambda L, F, a, b: L.matmul(a, b)),
    "__matmul__": ([(2, 4, 5), (5, 3)], lambda L, F, a, b: a @ b),
    "Tensor.matmul": ([(4, 5), (5,)], lambda L, F, a, b: a.matmul(b)),
    "mm": ([(4, 5), (5, 3)], lambda L, F, a, b: L.mm(a, b)),
    "Tensor.mm": ([(4, 5), (5, 3)], lambda L, F, a, b: a.mm(b)),
    "bmm": ([(2, 4, 5), (2, 5, 3)], lambda L, F, a, b: L.bmm(a, b)),
    "addmm": ([(4, 3), (4, 5), (5, 3)], lambda L, F, c, a, b: L.addmm(c, a, b, beta=0.5)),
    "Tensor.addmm": ([(4, 3), (4, 5), (5, 3)], lambda L, F, c, a, b: c.addmm(a, b)),
    "addbmm": ([(4, 3), (2, 4, 5), (2, 5, 3)], lambda L, F, c, a, b: L.addbmm(c, a, b)),
    "baddbmm": ([(2, 4, 3), (2, 4, 5), (2, 5, 3)], lambda L, F, c, a, b: L.baddbmm(c, a, b, alpha=2)),
    "einsum": ([(4, 5), (5, 3)], lambda L, F, a, b: L.einsum("ij,jk->ik", a, b)),
    "tensordot": ([(4, 5), (5, 3)], lambda L, F, a, b: L.tensordot(a, b, dims=1)),
    "inner": ([(4, 5), (3, 5)], lambda L, F, a, b: L.inner(a, b)),
    "chain_matmul": ([(4, 5), (5, 3), (3, 2)], lambda L, F, a, b, c: L.linalg.multi_dot([a, b, c])),
    "linalg.matmul": ([(4, 5), (5, 3)], lambda L, F, a, b: L.linalg.matmul(a, b)),
    "linear": ([(4, 5), (3, 5), (3,)], lambda L, F, x, w, b: F.linear(x, w, b)),
    "conv1d": ([(2, 3, 7), (4, 3, 3), (4,)], lambda L, F, x, w, b: F.conv1d(x, w, b, padding=1)),
    "conv2d": ([(2, 3, 6, 6), (4, 3, 3, 3)], lambda L, F, x, w: F.conv2d(x, w, stride=2)),
    "conv3d": ([(1, 2, 4, 4, 4), (3, 2, 2, 2, 2)], lambda L, F, x, w: F.conv3d(x, w)),
    "conv_transpose1d": ([(2, 3, 5), (3, 2, 3)], lambda L, F, x, w: F.conv_transpose1d(x, w)),
    "conv_transpose2d": ([(1, 3, 4, 4), (3, 2, 3, 3)], lambda L, F, x, w: F.conv_transpose2d(x, w, stride=2)),
    "conv_transpose3d": ([(1, 2, 3, 3, 3), (2, 2, 2, 2, 2)], lambda L, F, x, w: F.conv_transpose3d(x, w)),
    "prelu": ([(3, 4), (1,)], lambda L, F, x, w: F.prelu(x, w)),
    "torch.conv2d": ([(1, 2, 5, 5), (3, 2, 3, 3)], lambda L, F, x, w: L.conv2d(x, w)),
    "scaled_dot_product_attention": ([(1, 2, 4, 8)] * 3,
                                     lambda L, F, q, k, v: F.scaled_dot_product_attention(q, k, v)),
}


@pytest.mark.parametrize("name", list(LOWER))
def test_lower_precision_ops(name):
    shapes, fn = LOWER[name]
    e, _ = _both(fn, shapes, "float32")
    assert e.dtype == ember.bfloat16


def test_lower_precision_float16_on_cpu():
    e, _ = _both(lambda L, F, a, b: a @ b, [(4, 5), (5, 3)], "float32", autocast_dtype="float16")
    assert e.dtype == ember.float16


# ---- ops autocast runs in float32 (bfloat16 inputs) ------------------------------------------------

FP32 = {
    "prod": ([(6,)], lambda L, F, x: L.prod(x)),
    "Tensor.prod": ([(3, 4)], lambda L, F, x: x.prod(1)),
    "cdist": ([(4, 3), (5, 3)], lambda L, F, a, b: L.cdist(a, b)),
    "trace": ([(4, 4)], lambda L, F, x: L.trace(x)),
    "inverse": ([(4, 4)], lambda L, F, x: L.inverse(x + 4 * L.eye(4, dtype=x.dtype))),
    "pinverse": ([(4, 3)], lambda L, F, x: L.pinverse(x)),
    "quantile": ([(9,)], lambda L, F, x: L.quantile(x, 0.3)),
    "nanquantile": ([(9,)], lambda L, F, x: L.nanquantile(x, 0.7)),
    "linalg.inv": ([(3, 3)], lambda L, F, x: L.linalg.inv(x + 3 * L.eye(3, dtype=x.dtype))),
    "linalg.solve": ([(3, 3), (3, 2)], lambda L, F, a, b: L.linalg.solve(a + 3 * L.eye(3, dtype=a.dtype), b)),
    "linalg.svdvals": ([(4, 3)], lambda L, F, x: L.linalg.svdvals(x)),
    "linalg.eigvalsh": ([(3, 3)], lambda L, F, x: L.linalg.eigvalsh(x + x.mT)),
    "fft.fft": ([(8,)], lambda L, F, x: L.fft.fft(x)),
    "fft.rfft": ([(8,)], lambda L, F, x: L.fft.rfft(x)),
    "fft.ifft2": ([(4, 4)], lambda L, F, x: L.fft.ifft2(x)),
    "avg_pool3d": ([(1, 1, 4, 4, 4)], lambda L, F, x: F.avg_pool3d(x, 2)),
    "max_pool3d": ([(1, 1, 4, 4, 4)], lambda L, F, x: F.max_pool3d(x, 2)),
    "adaptive_avg_pool3d": ([(1, 2, 4, 4, 4)], lambda L, F, x: F.adaptive_avg_pool3d(x, 2)),
    "pad reflect": ([(1, 2, 5)], lambda L, F, x: F.pad(x, (2, 1), mode="reflect")),
    "pad replicate": ([(1, 1, 3, 3)], lambda L, F, x: F.pad(x, (1, 1, 1, 1), "replicate")),
    "grid_sample": ([(1, 1, 4, 4), (1, 2, 2, 2)],
                    lambda L, F, x, g: F.grid_sample(x, g.tanh(), align_corners=False)),
    "mse_loss": ([(4, 3), (4, 3)], lambda L, F, a, b: F.mse_loss(a, b)),
    "l1_loss": ([(4, 3), (4, 3)], lambda L, F, a, b: F.l1_loss(a, b, reduction="sum")),
    "smooth_l1_loss": ([(4, 3), (4, 3)], lambda L, F, a, b: F.smooth_l1_loss(a, b)),
    "huber_loss": ([(4, 3), (4, 3)], lambda L, F, a, b: F.huber_loss(a, b, delta=0.5)),
    "cross_entropy": ([(4, 3)], lambda L, F, x: F.cross_entropy(x, L.tensor([0, 2, 1, 1]))),
    "nll_loss": ([(4, 3)], lambda L, F, x: F.nll_loss(x, L.tensor([0, 2, 1, 1]))),
    "kl_div": ([(4, 3), (4, 3)], lambda L, F, a, b: F.kl_div(a, b.softmax(-1), reduction="batchmean")),
    "binary_cross_entropy": ([(4, 3), (4, 3)],
                             lambda L, F, a, b: F.binary_cross_entropy(a.sigmoid(), b.sigmoid())),
    "binary_cross_entropy_with_logits": ([(4, 3), (4, 3)],
                                         lambda L, F, a, b: F.binary_cross_entropy_with_logits(a, b.sigmoid())),
    "soft_margin_loss": ([(4, 3), (4, 3)], lambda L, F, a, b: F.soft_margin_loss(a, b.sign())),
    "margin_ranking_loss": ([(5,), (5,), (5,)], lambda L, F, a, b, y: F.margin_ranking_loss(a, b, y.sign())),
    "hinge_embedding_loss": ([(4, 3), (4, 3)], lambda L, F, a, y: F.hinge_embedding_loss(a, y.sign())),
    "cosine_embedding_loss": ([(4, 3), (4, 3)],
                              lambda L, F, a, b: F.cosine_embedding_loss(a, b, L.tensor([1, -1, 1, -1]))),
    "triplet_margin_loss": ([(4, 3)] * 3, lambda L, F, a, p, n: F.triplet_margin_loss(a, p, n)),
    "multi_margin_loss": ([(4, 3)], lambda L, F, x: F.multi_margin_loss(x, L.tensor([0, 2, 1, 1]))),
    "poisson_nll_loss": ([(4, 3), (4, 3)], lambda L, F, a, b: F.poisson_nll_loss(a, b.abs())),
}


@pytest.mark.parametrize("name", list(FP32))
def test_float32_ops(name):
    shapes, fn = FP32[name]
    e, _ = _both(fn, shapes, "bfloat16")
    assert e.dtype in (ember.float32, ember.complex64)


# ---- ops autocast leaves alone on CPU (their dtype follows the inputs) ---------------------------

UNTOUCHED = {
    "mv": ([(4, 5), (5,)], lambda L, F, a, b: L.mv(a, b)),
    "dot": ([(5,), (5,)], lambda L, F, a, b: L.dot(a, b)),
    "outer": ([(3,), (4,)], lambda L, F, a, b: L.outer(a, b)),
    "addmv": ([(4,), (4, 5), (5,)], lambda L, F, c, a, b: L.addmv(c, a, b)),
    "softmax": ([(3, 4)], lambda L, F, x: F.softmax(x, -1)),
    "log_softmax": ([(3, 4)], lambda L, F, x: F.log_softmax(x, -1)),
    "layer_norm": ([(3, 4)], lambda L, F, x: F.layer_norm(x, (4,))),
    "exp": ([(3, 4)], lambda L, F, x: x.exp()),
    "pow": ([(3, 4)], lambda L, F, x: x ** 2),
    "sum": ([(3, 4)], lambda L, F, x: x.sum()),
    "relu": ([(3, 4)], lambda L, F, x: F.relu(x)),
    "pad constant": ([(1, 2, 5)], lambda L, F, x: F.pad(x, (2, 1))),
    "avg_pool2d": ([(1, 1, 4, 4)], lambda L, F, x: F.avg_pool2d(x, 2)),
}


@pytest.mark.parametrize("dtype_name", ["float32", "bfloat16"])
@pytest.mark.parametrize("name", list(UNTOUCHED))
def test_untouched_ops(name, dtype_name):
    shapes, fn = UNTOUCHED[name]
    e, _ = _both(fn, shapes, dtype_name)
    assert str(e.dtype) == f"torch.{dtype_name}"


# ---- ops autocast promotes to the widest input type ----------------------------------------------

PROMOTE = {
    "cat": lambda L, F, a, b: L.cat([a, b]),
    "stack": lambda L, F, a, b: L.stack((a, b)),
    "index_copy": lambda L, F, a, b: L.index_copy(a, 0, L.tensor([1, 0]), b),
    "Tensor.index_copy": lambda L, F, a, b: a.index_copy(0, L.tensor([1, 0]), b),
}


@pytest.mark.parametrize("name", list(PROMOTE))
def test_promote_ops(name):
    fn = PROMOTE[name]
    e, _ = _both(lambda L, F, a, b: fn(L, F, a, b.bfloat16()), [(2, 3), (2, 3)], "float32")
    assert e.dtype == ember.float32
    e, _ = _both(lambda L, F, a, b: fn(L, F, a, b), [(2, 3), (2, 3)], "bfloat16")
    assert e.dtype == ember.bfloat16


def test_promote_mixing_half_and_bfloat16_raises_like_torch():
    for lib in (torch, ember):
        a = lib.ones(2)
        with lib.autocast("cpu"), pytest.raises(RuntimeError, match="Unexpected floating ScalarType"):
            lib.cat([a.half(), a.bfloat16()])


def test_not_eligible_calls_are_left_alone():
    for lib in (torch, ember):
        a = lib.ones(3, 3)
        with lib.autocast("cpu"):
            assert lib.mm(a, a, out=lib.empty(3, 3)).dtype == lib.float32      # out=
            assert (a.double() @ a.double()).dtype == lib.float64              # float64
            assert (a.int() @ a.int()).dtype == lib.int32                      # not floating
            r = a.clone()
            r.addmm_(a, a)                                                     # in place
            assert r.dtype == lib.float32


# ---- gradients -------------------------------------------------------------------------------------

def _mlp_step(lib, F, arrays, autocast=True):
    x, w1, b1, w2, b2 = [lib.tensor(a, requires_grad=i > 0) for i, a in enumerate(arrays)]
    with lib.autocast("cpu", enabled=autocast):
        h = F.relu(F.linear(x, w1, b1))
        logits = F.linear(h, w2, b2)
        loss = F.cross_entropy(logits, lib.tensor([0, 1, 2, 1]))
    loss.backward()
    return h, logits, loss, (w1, b1, w2, b2)


def test_mlp_forward_backward_matches_torch():
    arrays = _arrays([(4, 6), (5, 6), (5,), (3, 5), (3,)])
    eh, elog, eloss, eps = _mlp_step(ember, EF, arrays)
    th, tlog, tloss, tps = _mlp_step(torch, TF, arrays)
    for e, t in ((eh, th), (elog, tlog), (eloss, tloss)):
        assert str(e.dtype) == str(t.dtype)
    assert elog.dtype == ember.bfloat16 and eloss.dtype == ember.float32
    np.testing.assert_allclose(eloss.item(), tloss.item(), rtol=1e-2)
    for e, t in zip(eps, tps):
        assert e.grad.dtype == ember.float32 and t.grad.dtype == torch.float32
        np.testing.assert_allclose(_np(e.grad), _np(t.grad), rtol=3e-2, atol=3e-2)
    assert type(elog.grad_fn).__name__ == type(tlog.grad_fn).__name__


def test_conv_module_forward_backward_matches_torch():
    tconv = torch.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect")
    econv = ember.nn.Conv2d(2, 3, 3, padding=1, padding_mode="reflect")
    econv.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tconv.state_dict().items()})
    x = _arrays([(2, 2, 5, 5)])[0]
    outs = []
    for lib, m in ((ember, econv), (torch, tconv)):
        with lib.autocast("cpu"):
            y = m(lib.tensor(x))
        y.float().square().mean().backward()
        outs.append((y, m.weight.grad, m.bias.grad))
    for e, t in zip(*outs):
        assert str(e.dtype) == str(t.dtype)
        np.testing.assert_allclose(_np(e), _np(t), rtol=3e-2, atol=3e-2)
    assert outs[0][0].dtype == ember.bfloat16 and outs[0][1].dtype == ember.float32


MODULES = {
    "Conv1d": (lambda L: L.nn.Conv1d(2, 3, 2), [(1, 2, 5)]),
    "ConvTranspose2d": (lambda L: L.nn.ConvTranspose2d(2, 3, 2), [(1, 2, 3, 3)]),
    "MultiheadAttention": (lambda L: L.nn.MultiheadAttention(4, 2), [(3, 1, 4)] * 3),
    "RNNCell": (lambda L: L.nn.RNNCell(4, 3), [(2, 4)]),
    "GRUCell": (lambda L: L.nn.GRUCell(4, 3), [(2, 4)]),
    "LSTMCell": (lambda L: L.nn.LSTMCell(4, 3), [(2, 4)]),
    "RNN": (lambda L: L.nn.RNN(4, 3), [(5, 2, 4)]),
    "GRU": (lambda L: L.nn.GRU(4, 3), [(5, 2, 4)]),
    "Bilinear": (lambda L: L.nn.Bilinear(3, 2, 4), [(2, 3), (2, 2)]),
    "TransformerEncoderLayer": (lambda L: L.nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0), [(3, 1, 4)]),
}


@pytest.mark.parametrize("name", list(MODULES))
def test_modules_forward_backward_match_torch(name):
    make, shapes = MODULES[name]
    torch.manual_seed(0)
    tm = make(torch)
    em = make(ember)
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in tm.state_dict().items()})
    arrays = [np.random.default_rng(1).standard_normal(s).astype(np.float32) for s in shapes]
    res = []
    for lib, m in ((ember, em), (torch, tm)):
        with lib.autocast("cpu"):
            out = _first(m(*[lib.tensor(a) for a in arrays]))
        out.float().square().sum().backward()
        res.append([out] + [p.grad for p in m.parameters()])
    for e, t in zip(*res):
        assert str(e.dtype) == str(t.dtype)
        # bfloat16 keeps 8 bits: roundings in a different order add up over steps and the backward
        scale = max(1.0, float(np.abs(_np(t)).max()))
        np.testing.assert_allclose(_np(e), _np(t), rtol=5e-2, atol=5e-2 * scale)


def test_weight_cast_is_cached_for_the_region():
    for lib in (torch, ember):
        a = lib.ones(2, 2)
        w = lib.ones(2, 2, requires_grad=True)
        with lib.autocast("cpu"):
            c1 = (a @ w).grad_fn.next_functions[1][0]
            c2 = (a @ w).grad_fn.next_functions[1][0]
            assert c1 is c2 and type(c1).__name__ == "ToCopyBackward0"
            with lib.autocast("cpu", cache_enabled=False):
                assert (a @ w).grad_fn.next_functions[1][0] is not c1
        with lib.autocast("cpu"):
            assert (a @ w).grad_fn.next_functions[1][0] is not c1      # cleared on leaving the region


# ---- autocast state, nesting, decorator, errors -----------------------------------------------------

def test_state_nesting_and_decorator():
    for lib in (torch, ember):
        a = lib.ones(2, 2)
        assert not lib.is_autocast_enabled("cpu") and not lib.is_autocast_enabled()
        assert lib.get_autocast_dtype("cpu") == lib.bfloat16 and lib.get_autocast_dtype("cuda") == lib.float16
        with lib.autocast("cpu"):
            assert lib.is_autocast_enabled("cpu") and not lib.is_autocast_enabled("cuda")
            with lib.autocast("cpu", enabled=False):
                assert not lib.is_autocast_enabled("cpu") and (a @ a).dtype == lib.float32
                with lib.amp.autocast("cpu", dtype=lib.float16):
                    assert (a @ a).dtype == lib.float16 and lib.get_autocast_dtype("cpu") == lib.float16
            assert (a @ a).dtype == lib.bfloat16 and lib.get_autocast_dtype("cpu") == lib.bfloat16
        assert (a @ a).dtype == lib.float32

        @lib.autocast("cpu")
        def f(x):
            """doc"""
            return x @ x
        assert f(a).dtype == lib.bfloat16 and f.__name__ == "f" and f.__doc__ == "doc"
        assert not lib.is_autocast_enabled("cpu")
        lib.set_autocast_enabled("cpu", True)
        assert lib.is_autocast_enabled("cpu") and (a @ a).dtype == lib.bfloat16
        lib.set_autocast_enabled("cpu", False)
        assert (a @ a).dtype == lib.float32
        assert lib.is_autocast_cache_enabled()
        assert lib.autocast_increment_nesting() == 1 and lib.autocast_decrement_nesting() == 0
        assert lib.amp.is_autocast_available("cpu") and lib.amp.is_autocast_available("cuda")


def test_state_is_thread_local():
    for lib in (torch, ember):
        a = lib.ones(2, 2)
        seen = []

        def probe(lib=lib, a=a, seen=seen):
            seen.append(((a @ a).dtype, lib.is_autocast_enabled("cpu")))
        t = threading.Thread(target=probe)
        with lib.autocast("cpu"):
            t.start()
            t.join()
        assert seen == [(lib.float32, False)]


def _warns(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [(x.category, str(x.message)) for x in w]


@pytest.mark.parametrize("dtype_name", ["float64", "float32"])
def test_unsupported_cpu_dtype_warns_and_disables(dtype_name):
    res = []
    for lib in (torch, ember):
        ac, w = _warns(lambda lib=lib: lib.autocast("cpu", dtype=getattr(lib, dtype_name)))
        with ac:
            res.append((lib.is_autocast_enabled("cpu"), w))
    assert res[0] == res[1] and res[0][0] is False and res[0][1][0][0] is UserWarning


def test_cuda_autocast_without_cuda_warns_and_disables():
    if ember.cuda.is_available():
        pytest.skip("a real GPU is present")
    (_, we), (_, wt) = _warns(lambda: ember.autocast("cuda")), _warns(lambda: torch.autocast("cuda"))
    assert we == wt and wt[0][0] is UserWarning


@pytest.mark.parametrize("make", [
    lambda lib: lib.cpu.amp.autocast(), lambda lib: lib.cpu.amp.GradScaler(),
    lambda lib: lib.cuda.amp.autocast(), lambda lib: lib.cuda.amp.GradScaler()])
def test_deprecated_aliases_warn_like_torch(make):
    (eo, we), (to, wt) = _warns(lambda: make(ember)), _warns(lambda: make(torch))
    assert [(c, m) for c, m in we] == [(c, m) for c, m in wt]
    assert any(c is FutureWarning for c, _ in we)
    assert type(eo).__name__ == type(to).__name__


@pytest.mark.parametrize("name,args", [
    ("is_autocast_cpu_enabled", ()), ("get_autocast_cpu_dtype", ()), ("get_autocast_gpu_dtype", ())])
def test_deprecated_getters_warn(name, args):
    (eo, we), (to, wt) = _warns(lambda: getattr(ember, name)(*args)), _warns(lambda: getattr(torch, name)(*args))
    assert str(eo) == str(to)
    assert we[0][0] is wt[0][0] is DeprecationWarning
    assert wt[0][1].startswith(we[0][1])


def test_errors_match_torch():
    cases = [lambda lib: lib.autocast(lib.device("cpu")), lambda lib: lib.autocast("foo"),
             lambda lib: lib.autocast("cpu")(3), lambda lib: lib.is_autocast_enabled(1),
             lambda lib: lib.set_autocast_enabled("cpu", 1), lambda lib: lib.is_autocast_enabled("meta"),
             lambda lib: lib.set_autocast_enabled("meta", True), lambda lib: lib.get_autocast_dtype("meta"),
             lambda lib: lib.autocast("meta", dtype=lib.bfloat16), lambda lib: lib.amp.is_autocast_available("x")]
    for case in cases:
        errs = []
        for lib in (torch, ember):
            with pytest.raises(Exception) as ei:
                case(lib)
            errs.append(ei.value)
        assert type(errs[0]) is type(errs[1])
        assert str(errs[0])[:25] == str(errs[1])[:25]


def test_custom_fwd_casts_inputs_and_bwd_restores_state():
    seen = {}

    def make(lib):
        class Sq(lib.autograd.Function):
            @staticmethod
            @lib.amp.custom_fwd(device_type="cpu", cast_inputs=lib.float32)
            def forward(ctx, x):
                seen["fwd"] = (x.dtype, lib.is_autocast_enabled("cpu"))
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @lib.amp.custom_bwd(device_type="cpu")
            def backward(ctx, g):
                seen["bwd"] = lib.is_autocast_enabled("cpu")
                (x,) = ctx.saved_tensors
                return 2 * x * g
        return Sq

    res = []
    for lib in (torch, ember):
        x = lib.ones(3, dtype=lib.bfloat16, requires_grad=True)
        with lib.autocast("cpu"):
            y = make(lib).apply(x)
        y.sum().backward()
        res.append((str(seen["fwd"][0]), seen["fwd"][1], seen["bwd"], str(y.dtype), str(x.grad.dtype)))
    assert res[0] == res[1]


# ---- the cuda lists, through the NumPy stand-in device -------------------------------------------

def test_cuda_policy_on_standin_device(standin_cuda):
    a = ember.randn(4, 4, device="cuda")
    h = a.half()
    with ember.autocast("cuda"):
        assert ember.is_autocast_enabled("cuda") and not ember.is_autocast_enabled("cpu")
        assert (a @ a).dtype == ember.float16 and ember.mv(a, a[0]).dtype == ember.float16
        assert EF.linear(a, a).dtype == ember.float16
        assert h.exp().dtype == ember.float32 and EF.softmax(h, -1).dtype == ember.float32
        assert h.sum(dtype=ember.float16).dtype == ember.float16          # an explicit dtype wins
        assert EF.layer_norm(h, (4,)).dtype == ember.float32
        assert ember.addcmul(a, h, h).dtype == ember.float32               # promote
        with pytest.raises(RuntimeError, match="unsafe to autocast"):
            EF.binary_cross_entropy(h.sigmoid(), h.sigmoid())
        cpu = ember.ones(2, 2)
        assert (cpu @ cpu).dtype == ember.float32                          # cpu autocast is off
    assert (a @ a).dtype == ember.float32


# ---- GradScaler ------------------------------------------------------------------------------------

def _train(lib, F, arrays, steps, infs, **kw):
    w, x, y = [lib.tensor(a) for a in arrays]
    w.requires_grad_(True)
    opt = lib.optim.SGD([w], lr=0.1, momentum=0.9)
    scaler = lib.amp.GradScaler("cpu", **kw)
    trace = []
    for i in range(steps):
        opt.zero_grad()
        with lib.autocast("cpu"):
            loss = F.mse_loss(x @ w, y)
        if i in infs:
            loss = loss * float("inf")
        scaler.scale(loss).backward()
        trace.append(scaler.step(opt))
        scaler.update()
        trace.append((scaler.get_scale(), scaler._get_growth_tracker(), w.detach().numpy().copy()))
    return scaler, trace


def test_grad_scaler_sequence_matches_torch():
    arrays = _arrays([(3, 2), (4, 3), (4, 2)])
    es, et = _train(ember, EF, arrays, 7, {2, 3}, init_scale=1024.0, growth_interval=2)
    ts, tt = _train(torch, TF, arrays, 7, {2, 3}, init_scale=1024.0, growth_interval=2)
    for e, t in zip(et, tt):
        if t is None or e is None:
            assert e is t
            continue
        assert e[:2] == t[:2]
        np.testing.assert_allclose(e[2], t[2], rtol=2e-2, atol=2e-3)
    assert es.state_dict() == ts.state_dict()
    assert list(es.state_dict()) == ["scale", "growth_factor", "backoff_factor", "growth_interval",
                                     "_growth_tracker"]
    fresh = ember.amp.GradScaler("cpu")
    fresh.load_state_dict(es.state_dict())
    assert fresh.state_dict() == ts.state_dict() and fresh.get_scale() == ts.get_scale()


def test_grad_scaler_state_machine_errors_match_torch():
    for lib in (torch, ember):
        w = lib.ones(2, requires_grad=True)
        opt = lib.optim.SGD([w], lr=0.1)
        scaler = lib.amp.GradScaler("cpu", init_scale=4.0)
        with pytest.raises(AssertionError, match="Attempted step but _scale is None"):
            scaler.step(opt)
        out = scaler.scale([w.sum(), (w * 2,)])
        assert isinstance(out, list) and isinstance(out[1], tuple) and out[1][0].tolist() == [8.0, 8.0]
        with pytest.raises(ValueError, match="outputs must be a Tensor or an iterable of Tensors"):
            scaler.scale([1.0])
        scaler.scale(w.sum()).backward()
        scaler.unscale_(opt)
        assert w.grad.tolist() == [1.0, 1.0]
        with pytest.raises(RuntimeError, match=r"unscale_\(\) has already been called on this optimizer"):
            scaler.unscale_(opt)
        scaler.step(opt)
        with pytest.raises(RuntimeError, match=r"unscale_\(\) is being called after step\(\)"):
            scaler.unscale_(opt)
        with pytest.raises(RuntimeError, match=r"step\(\) has already been called since the last update"):
            scaler.step(opt)
        with pytest.raises(RuntimeError, match="Closure use is not currently supported"):
            scaler.step(opt, closure=lambda: 0)
        scaler.update(2.0)
        assert scaler.get_scale() == 2.0
        with pytest.raises(AssertionError, match="No inf checks were recorded prior to update"):
            scaler.update()
        h = lib.ones(2, dtype=lib.float16, requires_grad=True)
        h.grad = lib.ones(2, dtype=lib.float16)
        with pytest.raises(ValueError, match="Attempting to unscale FP16 gradients"):
            scaler.unscale_(lib.optim.SGD([h], lr=0.1))
        with pytest.raises(RuntimeError, match="The source state dict is empty"):
            scaler.load_state_dict({})
        with pytest.raises(AssertionError, match="growth factor must be > 1.0"):
            lib.amp.GradScaler("cpu", growth_factor=1.0)
        off = lib.amp.GradScaler("cpu", enabled=False)
        assert not off.is_enabled() and off.get_scale() == 1.0 and off.state_dict() == {}
        assert off.scale(w) is w and off.step(opt) is None
