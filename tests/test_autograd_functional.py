"""ember.autograd.functional against torch.autograd.functional: values, nesting of results, errors."""
import numpy as np
import pytest
import torch

import ember


def _np(x):
    if isinstance(x, tuple):
        return tuple(_np(e) for e in x)
    return x.detach().numpy()


def _same(e, t):
    if isinstance(t, tuple):
        assert isinstance(e, tuple) and len(e) == len(t)
        for a, b in zip(e, t):
            _same(a, b)
        return
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(_np(e), _np(t), rtol=1e-10, atol=1e-12)


_RNG = np.random.default_rng(0)
_A, _B, _V = _RNG.standard_normal((3,)), _RNG.standard_normal((2, 3)), _RNG.standard_normal((2,))


def _funcs(lib):
    return {
        "one_in_one_out": (lambda x: (x ** 3).sin() * x.sum(), (_A,)),
        "tuple_in_one_out": (lambda x, w: w.matmul(x).tanh(), (_A, _B)),
        "tuple_in_tuple_out": (lambda x, w: ((w * x).exp().sum(1), x.cumsum(0)), (_A, _B)),
        "scalar": (lambda x, w: (w.matmul(x) ** 2).sum() + x.prod(), (_A, _B)),
        "unused_input": (lambda x, w: x.exp(), (_A, _B)),
    }


def _args(lib, arrays, tup):
    ts = tuple(lib.tensor(a) for a in arrays)
    return ts if tup or len(ts) > 1 else ts[0]


@pytest.mark.parametrize("name", ["one_in_one_out", "tuple_in_one_out", "tuple_in_tuple_out", "scalar", "unused_input"])
@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian(name, create_graph):
    res = []
    for lib in (torch, ember):
        f, arrays = _funcs(lib)[name]
        res.append(lib.autograd.functional.jacobian(f, _args(lib, arrays, False), create_graph=create_graph))
    _same(res[1], res[0])


@pytest.mark.parametrize("tup", [False, True])
def test_hessian(tup):
    res = []
    for lib in (torch, ember):
        f, arrays = _funcs(lib)["scalar"]
        if not tup:
            res.append(lib.autograd.functional.hessian(lambda x: (x.sin() * x.sum()).sum(), lib.tensor(_A)))
        else:
            res.append(lib.autograd.functional.hessian(f, _args(lib, arrays, True)))
    _same(res[1], res[0])


@pytest.mark.parametrize("what", ["vjp", "jvp", "vhp", "hvp"])
def test_vector_products(what):
    res = []
    for lib in (torch, ember):
        fn = getattr(lib.autograd.functional, what)
        f, arrays = _funcs(lib)["scalar" if what in ("vhp", "hvp") else "tuple_in_one_out"]
        args = _args(lib, arrays, True)
        if what == "vjp":
            v = lib.tensor(_V)
        else:
            v = tuple(lib.tensor(np.cos(np.arange(a.size)).reshape(a.shape)) for a in arrays)
        res.append(fn(f, args, v))
    _same(res[1], res[0])


def test_vjp_scalar_output_needs_no_v_and_create_graph_keeps_history():
    for lib in (torch, ember):
        x = lib.tensor(_A, requires_grad=True)
        out, g = lib.autograd.functional.vjp(lambda x: (x ** 2).sum(), x, create_graph=True)
        assert g.requires_grad
        (gg,) = lib.autograd.grad(g.sum(), x)
        np.testing.assert_allclose(gg.numpy(), 2 * np.ones(3))


def test_errors_match_torch():
    cases = [
        lambda lib: lib.autograd.functional.vjp(lambda x: x * 2, lib.tensor(_A)),
        lambda lib: lib.autograd.functional.vjp(lambda x: x * 2, lib.tensor(_A), lib.tensor(_V)),
        lambda lib: lib.autograd.functional.jacobian(lambda x: x * 2, [lib.tensor(_A)]),
        lambda lib: lib.autograd.functional.hessian(lambda x: x * 2, lib.tensor(_A)),
        lambda lib: lib.autograd.functional.jacobian(lambda x, w: x.exp(), (lib.tensor(_A), lib.tensor(_B)),
                                                     strict=True),
    ]
    for case in cases:
        with pytest.raises(Exception) as te:
            case(torch)
        with pytest.raises(type(te.value)) as ee:
            case(ember)
        assert str(ee.value) == str(te.value)
