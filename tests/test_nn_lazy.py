"""Lazy modules (LazyLinear, LazyConv*, LazyConvTranspose*, LazyBatchNorm*, LazyInstanceNorm*) against torch:
repr and state_dict before and after the first forward, the class they become, inferred shapes, outputs with
torch's weights, loading a state_dict into an uninitialised module, dtype conversion before the dry run."""
import copy

import numpy as np
import pytest
import torch

import ember

E, T = ember.nn, torch.nn

CASES = [("LazyLinear", (3,), (2, 5)), ("LazyLinear", (4, False), (3, 2, 6)),
         ("LazyConv1d", (4, 3), (2, 2, 9)), ("LazyConv2d", (4, 3, 1, 1, 1, 2), (2, 4, 6, 6)),
         ("LazyConv2d", (2, 3), (3, 5, 5)), ("LazyConv3d", (2, 2), (1, 3, 4, 4, 4)),
         ("LazyConvTranspose1d", (3, 2, 2), (2, 4, 5)), ("LazyConvTranspose2d", (2, 3), (3, 5, 5)),
         ("LazyConvTranspose3d", (2, 2), (1, 2, 3, 3, 3)),
         ("LazyBatchNorm1d", (), (4, 3)), ("LazyBatchNorm2d", (), (2, 3, 4, 4)),
         ("LazyBatchNorm3d", (1e-3, None), (2, 3, 2, 2, 2)),
         ("LazyInstanceNorm1d", (), (2, 3, 5)), ("LazyInstanceNorm2d", (), (2, 3, 4, 4)),
         ("LazyInstanceNorm3d", (1e-3, 0.2, True, False), (2, 3, 2, 2, 2))]


@pytest.mark.parametrize("name,args,shape", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_lazy_module_matches_torch(name, args, shape):
    t, e = getattr(T, name)(*args), getattr(E, name)(*args)
    assert repr(e) == repr(t)
    tsd, esd = t.state_dict(), e.state_dict()
    assert list(esd) == list(tsd)
    assert [repr(v) for v in esd.values()] == [repr(v) for v in tsd.values()]     # <UninitializedParameter>
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    t(torch.tensor(x))
    e(ember.tensor(x))
    assert type(e).__name__ == type(t).__name__ and type(e) is getattr(E, type(t).__name__)
    assert repr(e) == repr(t)
    assert not hasattr(e, "_initialize_hook") and not e._forward_pre_hooks
    assert {k: tuple(v.shape) for k, v in e.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in t.state_dict().items()}
    assert all(type(p) is E.Parameter for p in e.parameters())
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    ty, ey = t(torch.tensor(x)), e(ember.tensor(x))
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_default_init_bounds_follow_the_inferred_fan_in():
    e = E.LazyLinear(200)
    e(ember.ones(1, 400))
    w, b = e.weight.detach().numpy(), e.bias.detach().numpy()
    bound = 1 / np.sqrt(400)                     # kaiming_uniform(a=sqrt(5)) and the bias bound for fan_in 400
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(b).max() <= bound and w.std() > 0.5 * bound / np.sqrt(3)
    bn = E.LazyBatchNorm2d()
    bn(ember.ones(2, 5, 3, 3))
    np.testing.assert_array_equal(bn.weight.detach().numpy(), np.ones(5, np.float32))
    np.testing.assert_array_equal(bn.bias.detach().numpy(), np.zeros(5, np.float32))
    np.testing.assert_allclose(bn.running_var.numpy(), np.full(5, 0.9, np.float32))   # 1 moved towards 0 once
    assert int(bn.num_batches_tracked) == 1


def test_load_state_dict_into_uninitialised_module():
    t = T.Sequential(T.LazyLinear(3), T.ReLU(), T.LazyLinear(2))
    t(torch.ones(2, 4))
    e = E.Sequential(E.LazyLinear(3), E.ReLU(), E.LazyLinear(2))
    e.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()})
    assert type(e[0]).__name__ == "LazyLinear" and tuple(e[0].weight.shape) == (3, 4)
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(e(ember.tensor(x)).detach().numpy(), t(torch.tensor(x)).detach().numpy(), rtol=1e-6)
    assert repr(e) == repr(t)                    # Linear(in_features=4, ...) once the forward has run


def test_dtype_set_before_the_dry_run_and_optimizer_sees_the_same_objects():
    m = E.Sequential(E.LazyLinear(5), E.ReLU(), E.LazyLinear(2)).double()
    params = list(m.parameters())
    opt = ember.optim.SGD(params, lr=0.1)
    m(ember.ones(3, 7, dtype=ember.float64)).sum().backward()
    opt.step()
    assert [p.dtype for p in m.parameters()] == [ember.float64] * 4
    assert all(a is b for a, b in zip(params, m.parameters()))
    assert tuple(m[0].weight.shape) == (5, 7)


def test_uninitialized_parameter_like_torch():
    tp, ep = T.UninitializedParameter(), E.UninitializedParameter()
    assert repr(ep) == repr(tp) == "<UninitializedParameter>"
    assert repr(E.UninitializedBuffer()) == "<UninitializedBuffer>"
    assert ep.requires_grad and ep.dtype == ember.float32
    with pytest.raises(RuntimeError) as te:
        tp.shape
    with pytest.raises(RuntimeError) as ee:
        ep.shape
    assert str(ee.value) == str(te.value)
    assert repr(copy.deepcopy(E.LazyLinear(2))) == "LazyLinear(in_features=0, out_features=2, bias=True)"
    ep.materialize((2, 3))
    assert type(ep) is E.Parameter and tuple(ep.shape) == (2, 3)


def test_instance_norm_num_features_mismatch_like_torch():
    """A lazy instance norm without affine or running stats keeps num_features 0: torch warns on every call."""
    x = np.ones((2, 3, 4), np.float32)
    with pytest.warns(UserWarning, match="does not match num_features"):
        E.LazyInstanceNorm1d(affine=False, track_running_stats=False)(ember.tensor(x))
    with pytest.raises(ValueError) as te:
        T.InstanceNorm1d(4, affine=True)(torch.tensor(x))
    with pytest.raises(ValueError) as ee:
        E.InstanceNorm1d(4, affine=True)(ember.tensor(x))
    assert str(ee.value) == str(te.value)


def test_wrong_input_rank_error_matches_torch():
    with pytest.raises(RuntimeError) as te:
        T.LazyConv2d(3, 3)(torch.ones(3))
    with pytest.raises(RuntimeError) as ee:
        E.LazyConv2d(3, 3)(ember.ones(3))
    assert str(ee.value) == str(te.value)
