"""ember.utils.checkpoint against the plain run and torch.utils.checkpoint 2.13 (same model, weights copied):
gradients of inputs and parameters, both variants, dropout under a preserved RNG state,
checkpoint_sequential, keyword/argument rules and the use_reentrant warning."""
import warnings

import numpy as np
import pytest

import ember
from ember.utils.checkpoint import checkpoint, checkpoint_sequential

import torch
import torch.utils.checkpoint as tcp

X = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)


def _mlp(lib):
    nn = lib.nn
    return nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 3))


def _pair():
    """The same MLP in both libraries (torch's init, copied into ember)."""
    torch.manual_seed(0)
    t = _mlp(torch)
    e = _mlp(ember)
    with ember.no_grad():
        for pe, pt in zip(e.parameters(), t.parameters()):
            pe.copy_(ember.tensor(pt.detach().numpy()))
    return e, t


def _grads(model):
    return [p.grad.numpy().copy() for p in model.parameters()]


@pytest.mark.parametrize("reentrant", [True, False])
def test_grads_equal_plain_run_and_torch(reentrant):
    e, t = _pair()
    xe, xt = ember.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    ye = checkpoint(e, xe, use_reentrant=reentrant)
    yt = tcp.checkpoint(t, xt, use_reentrant=reentrant)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    (ye ** 2).sum().backward()
    (yt ** 2).sum().backward()
    ck_grads, ck_x = _grads(e), xe.grad.numpy().copy()
    for ge, pt in zip(ck_grads, t.parameters()):
        np.testing.assert_allclose(ge, pt.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ck_x, xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    e.zero_grad()
    xp = ember.tensor(X, requires_grad=True)
    (e(xp) ** 2).sum().backward()
    for a, b in zip(ck_grads, _grads(e)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ck_x, xp.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("reentrant", [True, False])
def test_no_activations_kept(reentrant):
    """The output's history is one checkpoint node, not the function's ops."""
    e, _ = _pair()
    y = checkpoint(e, ember.tensor(X, requires_grad=True), use_reentrant=reentrant)
    node = y.grad_fn
    assert "Checkpoint" in node.name()
    assert all(n is None or type(n).__name__ == "AccumulateGrad" for n, _ in node.next_functions)


def test_input_without_grad():
    """Non-reentrant still reaches the parameters; reentrant warns and records nothing, as torch does."""
    e, t = _pair()
    ye = checkpoint(e, ember.tensor(X), use_reentrant=False)
    yt = tcp.checkpoint(t, torch.tensor(X), use_reentrant=False)
    ye.sum().backward()
    yt.sum().backward()
    for ge, pt in zip(_grads(e), t.parameters()):
        np.testing.assert_allclose(ge, pt.grad.numpy(), rtol=1e-5, atol=1e-6)
    with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True"):
        y = checkpoint(e, ember.tensor(X), use_reentrant=True)
    assert not y.requires_grad


def test_autograd_grad_through_non_reentrant():
    e, _ = _pair()
    x = ember.tensor(X, requires_grad=True)
    params = list(e.parameters())
    got = ember.autograd.grad(checkpoint(e, x, use_reentrant=False).sum(), [x, *params])
    want = ember.autograd.grad(e(x).sum(), [x, *params])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    assert all(p.grad is None for p in params)


@pytest.mark.parametrize("reentrant", [True, False])
def test_dropout_replays_the_forward_mask(reentrant):
    d = ember.nn.Sequential(ember.nn.Linear(4, 16), ember.nn.Dropout(0.5), ember.nn.Linear(16, 2))
    ember.manual_seed(3)
    x = ember.tensor(X, requires_grad=True)
    checkpoint(d, x, use_reentrant=reentrant).pow(2).sum().backward()
    ck, ck_x, after_ck = _grads(d), x.grad.numpy().copy(), ember.rand(3)
    d.zero_grad()
    ember.manual_seed(3)
    x2 = ember.tensor(X, requires_grad=True)
    d(x2).pow(2).sum().backward()
    after_plain = ember.rand(3)
    for a, b in zip(ck, _grads(d)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ck_x, x2.grad.numpy())
    # the forward consumed random numbers, backward's replay did not
    np.testing.assert_array_equal(after_ck.numpy(), after_plain.numpy())


def test_dropout_without_preserved_rng_uses_new_mask():
    d = ember.nn.Sequential(ember.nn.Linear(4, 64), ember.nn.Dropout(0.5), ember.nn.Linear(64, 1))
    ember.manual_seed(5)
    x = ember.tensor(X, requires_grad=True)
    out = checkpoint(d, x, use_reentrant=False, preserve_rng_state=False)
    out.sum().backward()
    ember.manual_seed(5)
    x2 = ember.tensor(X, requires_grad=True)
    d(x2).sum().backward()
    assert not np.allclose(x.grad.numpy(), x2.grad.numpy())


@pytest.mark.parametrize("reentrant", [True, False])
def test_checkpoint_sequential_matches_torch(reentrant):
    e, t = _pair()
    xe, xt = ember.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    ye = checkpoint_sequential(e, 2, xe, use_reentrant=reentrant)
    yt = tcp.checkpoint_sequential(t, 2, xt, use_reentrant=reentrant)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-6)
    ye.sum().backward()
    yt.sum().backward()
    for ge, pt in zip(_grads(e), t.parameters()):
        np.testing.assert_allclose(ge, pt.grad.numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert sum("Checkpoint" in name for name in _node_names(ye)) == 1    # first segment only


def _node_names(y):
    names, todo, seen = [], [y.grad_fn], set()
    while todo:
        n = todo.pop()
        if n is None or id(n) in seen:
            continue
        seen.add(id(n))
        names.append(n.name())
        todo.extend(m for m, _ in n.next_functions)
    return names


def test_checkpoint_sequential_list_of_functions_and_segments():
    e, _ = _pair()
    xe = ember.tensor(X, requires_grad=True)
    ye = checkpoint_sequential(list(e), 3, xe, use_reentrant=False)
    np.testing.assert_allclose(ye.detach().numpy(), e(xe).detach().numpy(), rtol=1e-6)


def test_multiple_outputs_kwargs_and_non_tensor_args():
    w = ember.tensor([[1., 2.], [3., 4.]], requires_grad=True)

    def f(a, scale, b=None):
        return a @ w * scale, (a + b).sin()

    a = ember.tensor([[0.5, -1.], [2., 0.]], requires_grad=True)
    b = ember.tensor([[1., 1.], [0., 3.]])
    o1, o2 = checkpoint(f, a, 3.0, b=b, use_reentrant=False)
    (o1.sum() + o2.sum()).backward()
    ga, gw = a.grad.numpy().copy(), w.grad.numpy().copy()
    a.grad = w.grad = None
    p1, p2 = f(a, 3.0, b=b)
    (p1.sum() + p2.sum()).backward()
    np.testing.assert_allclose(ga, a.grad.numpy())
    np.testing.assert_allclose(gw, w.grad.numpy())
    with pytest.raises(ValueError, match="Unexpected keyword arguments: b"):
        checkpoint(f, a, 3.0, b=b, use_reentrant=True)


def test_use_reentrant_must_be_passed_explicitly_warning():
    e, _ = _pair()
    for fn, args in ((checkpoint, (e, ember.tensor(X, requires_grad=True))),
                     (checkpoint_sequential, (e, 2, ember.tensor(X, requires_grad=True)))):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fn(*args)
        msgs = [w for w in caught if "use_reentrant" in str(w.message)]
        assert len(msgs) == 1 and msgs[0].category is UserWarning and msgs[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checkpoint(e, ember.tensor(X, requires_grad=True), use_reentrant=False)


def test_no_grad_mode_just_runs():
    e, _ = _pair()
    with ember.no_grad():
        y = checkpoint(e, ember.tensor(X, requires_grad=True), use_reentrant=False)
    assert not y.requires_grad
    np.testing.assert_allclose(y.numpy(), e(ember.tensor(X)).detach().numpy())
