"""Module machinery against torch: registration, iteration, state_dict, loading errors, hooks, repr, conversion."""
import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest
import torch

import ember
import ember.nn as enn


class Scale(enn.Module):
    def __init__(self):
        super().__init__()
        self.w = enn.Parameter(ember.ones(2))


def _lib(torch_side):
    return (torch, torch.nn) if torch_side else (ember, enn)


def build(torch_side):
    """The same small model built from each library's Module, Parameter and containers."""
    lib, nn = _lib(torch_side)

    class Affine(nn.Module):
        def __init__(self, i, o, bias=True):
            super().__init__()
            self.i, self.o = i, o
            self.weight = nn.Parameter(lib.ones(o, i) * 0.5)
            if bias:
                self.bias = nn.Parameter(lib.zeros(o))
            else:
                self.register_parameter("bias", None)
            self.register_buffer("calls", lib.zeros(1))
            self.register_buffer("scratch", lib.zeros(2), persistent=False)

        def extra_repr(self):
            return f"in={self.i}, out={self.o}, bias={self.bias is not None}"

        def forward(self, x):
            y = x @ self.weight.t() if torch_side else x @ self.weight.transpose(0, 1)
            return y + self.bias if self.bias is not None else y

    class Act(nn.Module):
        def forward(self, x):
            return x * 2

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = Affine(3, 4)
            self.body = nn.Sequential(OrderedDict([("a", Affine(4, 4, bias=False)), ("act", Act())]))
            self.blocks = nn.ModuleList([Act(), Act(), Affine(4, 2), Act()])
            self.heads = nn.ModuleDict({"x": Act(), "y": Affine(2, 2)})
            self.plist = nn.ParameterList([nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])
            self.pdict = nn.ParameterDict({"w": nn.Parameter(lib.ones(3)), "b": lib.zeros(2, 2)})
            self.shared = self.stem

        def forward(self, x):
            x = self.body(self.stem(x))
            for b in self.blocks:
                x = b(x)
            return self.heads["y"](self.heads["x"](x))

    return Net()


@pytest.fixture
def nets():
    return build(False), build(True)


def test_repr_matches_torch(nets):
    e, t = nets
    assert repr(e) == repr(t)
    assert repr(enn.Sequential()) == repr(torch.nn.Sequential())
    assert repr(enn.ModuleList()) == repr(torch.nn.ModuleList())


def test_named_members_match_torch(nets):
    e, t = nets
    assert [n for n, _ in e.named_parameters()] == [n for n, _ in t.named_parameters()]
    assert [n for n, _ in e.named_parameters(remove_duplicate=False)] == \
        [n for n, _ in t.named_parameters(remove_duplicate=False)]
    assert [n for n, _ in e.named_parameters(prefix="m", recurse=False)] == \
        [n for n, _ in t.named_parameters(prefix="m", recurse=False)]
    assert [n for n, _ in e.named_buffers()] == [n for n, _ in t.named_buffers()]
    assert [n for n, _ in e.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in e.named_modules(remove_duplicate=False)] == \
        [n for n, _ in t.named_modules(remove_duplicate=False)]
    assert [n for n, _ in e.named_children()] == [n for n, _ in t.named_children()]
    assert len(list(e.parameters())) == len(list(t.parameters()))
    assert len(list(e.modules())) == len(list(t.modules()))


def test_state_dict_keys_and_metadata(nets):
    e, t = nets
    esd, tsd = e.state_dict(), t.state_dict()
    assert isinstance(esd, OrderedDict)
    assert list(esd) == list(tsd)
    assert esd._metadata == tsd._metadata
    assert all(not v.requires_grad for v in esd.values())
    assert all(isinstance(v, enn.Parameter) for k, v in e.state_dict(keep_vars=True).items() if "calls" not in k)
    assert list(e.state_dict(prefix="net.")) == list(t.state_dict(prefix="net."))
    np.testing.assert_array_equal(esd["stem.weight"].numpy(), tsd["stem.weight"].numpy())


def test_state_dict_shares_storage(nets):
    e, _ = nets
    sd = e.state_dict()
    sd["stem.bias"].numpy()[0] = 7
    assert float(e.stem.bias[0]) == 7


def test_load_state_dict_roundtrip(nets):
    e, t = nets
    sd = {k: ember.tensor(v.numpy() + 1) for k, v in t.state_dict().items()}
    before = e.stem.weight
    res = e.load_state_dict(sd)
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert repr(res) == "<All keys matched successfully>"
    assert e.stem.weight is before and e.stem.weight.requires_grad
    np.testing.assert_array_equal(e.stem.weight.detach().numpy(), np.full((4, 3), 1.5, np.float32))


def test_load_state_dict_reports_every_problem_like_torch(nets):
    e, t = nets
    tsd = t.state_dict()
    tsd["stem.weight"] = torch.zeros(5, 5)
    tsd["blocks.2.bias"] = torch.zeros(7)
    del tsd["heads.y.weight"]
    tsd["extra.key"] = torch.zeros(1)
    tsd["stem.nope"] = torch.zeros(1)
    esd = OrderedDict((k, ember.tensor(v.numpy())) for k, v in tsd.items())
    with pytest.raises(RuntimeError) as ti:
        t.load_state_dict(tsd)
    with pytest.raises(RuntimeError) as ei:
        e.load_state_dict(esd)
    assert str(ei.value) == str(ti.value)
    assert "size mismatch for stem.weight: copying a param with shape torch.Size([5, 5]) from checkpoint, " \
           "the shape in current model is torch.Size([4, 3])." in str(ei.value)


def test_load_state_dict_non_strict(nets):
    e, t = nets
    sd = {k: ember.tensor(v.numpy()) for k, v in t.state_dict().items()}
    del sd["stem.bias"]
    sd["zzz"] = ember.zeros(1)
    res = e.load_state_dict(sd, strict=False)
    assert res.missing_keys == ["stem.bias"] and res.unexpected_keys == ["zzz"]
    assert "missing_keys=['stem.bias']" in repr(res)


def test_load_state_dict_assign():
    m = enn.Module()
    m.w = enn.Parameter(ember.zeros(2))
    new = ember.ones(2)
    m.load_state_dict({"w": new}, assign=True)
    assert isinstance(m.w, enn.Parameter) and m.w.requires_grad
    new.numpy()[0] = 5
    assert float(m.w[0]) == 5


def test_registration_rules():
    m = enn.Module()
    m.p = enn.Parameter(ember.ones(1))
    m.t = ember.ones(1)
    m.register_buffer("b", ember.ones(2))
    m.b = ember.zeros(2)
    assert list(m._parameters) == ["p"] and list(m._buffers) == ["b"] and "t" in m.__dict__
    m.buf = enn.Buffer(ember.ones(1), persistent=False)
    assert "buf" in m._buffers and "buf" in m._non_persistent_buffers_set and "buf" not in m.state_dict()
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' as parameter 'p' "
                                        "\\(torch.nn.Parameter or None expected\\)"):
        m.p = ember.ones(1)
    with pytest.raises(KeyError, match="attribute 't' already exists"):
        m.register_parameter("t", None)
    with pytest.raises(KeyError, match="parameter name can"):
        m.register_parameter("a.b", None)
    with pytest.raises(TypeError, match="cannot assign 'torch.FloatTensor' object to parameter 'q'"):
        m.register_parameter("q", ember.ones(1))
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        m.add_module("x", 3)
    m.p = None
    assert m.p is None and "p" in m._parameters
    del m.b
    assert "b" not in m._buffers
    with pytest.raises(AttributeError, match="'Module' object has no attribute 'nothing'"):
        m.nothing
    with pytest.raises(AttributeError, match="cannot assign parameters before Module.__init__\\(\\) call"):
        class Bad(enn.Module):
            def __init__(self):
                self.w = enn.Parameter(ember.ones(1))
        Bad()


def test_get_submodule_parameter_buffer(nets):
    e, t = nets
    assert e.get_submodule("body.a") is e.body.a
    assert e.get_parameter("blocks.2.weight") is e.blocks[2].weight
    assert e.get_buffer("stem.calls") is e.stem.calls
    with pytest.raises(AttributeError) as ei:
        e.get_submodule("body.zz")
    with pytest.raises(AttributeError) as ti:
        t.get_submodule("body.zz")
    assert str(ei.value) == str(ti.value)


def test_train_eval_requires_grad_zero_grad(nets):
    e, _ = nets
    assert e.training and e.body.a.training
    e.eval()
    assert not e.training and not e.body.a.training and not e.blocks[0].training
    e.train()
    assert e.heads["y"].training
    e.requires_grad_(False)
    assert not any(p.requires_grad for p in e.parameters())
    e.requires_grad_()
    out = e(ember.ones(2, 3)).sum()
    out.backward()
    assert e.stem.weight.grad is not None
    e.zero_grad(set_to_none=False)
    assert float(e.stem.weight.grad.sum()) == 0
    e.zero_grad()
    assert e.stem.weight.grad is None


def test_forward_matches_torch(nets):
    e, t = nets
    x = np.arange(6, dtype=np.float32).reshape(2, 3) / 6
    ey, ty = e(ember.tensor(x)), t(torch.tensor(x))
    np.testing.assert_allclose(ey.detach().numpy(), ty.detach().numpy(), rtol=1e-6)


def test_dtype_conversion_keeps_parameter_identity(nets):
    e, _ = nets
    w = e.stem.weight
    e.stem.weight.grad = ember.ones(4, 3)
    e.double()
    assert e.stem.weight is w and w.dtype is ember.float64 and w.grad.dtype is ember.float64
    assert e.stem.calls.dtype is ember.float64
    e.to(ember.float32)
    assert w.dtype is ember.float32
    e.half()
    assert w.dtype is ember.float16
    e.float()
    e.to("cpu")
    e.cpu()
    assert e.stem.weight is w and w.dtype is ember.float32
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point or complex dtypes, but got "
                                        "desired dtype=torch.int64"):
        e.to(ember.int64)


def test_apply_and_deepcopy_and_pickle(nets):
    e, _ = nets
    seen = []
    e.apply(lambda m: seen.append(type(m).__name__))
    assert seen[-1] == "Net" and seen.count("Affine") == 4
    c = copy.deepcopy(e)
    assert c.stem.weight is not e.stem.weight and isinstance(c.stem.weight, enn.Parameter)
    assert c.shared is c.stem
    np.testing.assert_array_equal(c.stem.weight.detach().numpy(), e.stem.weight.detach().numpy())
    s = enn.Sequential(enn.ModuleList([Scale()]))
    p = pickle.loads(pickle.dumps(s))
    assert isinstance(p[0][0].w, enn.Parameter) and p[0][0].w.requires_grad
    assert repr(p) == repr(s) and list(p.state_dict()) == ["0.0.w"]


def test_dir_lists_members(nets):
    e, _ = nets
    d = dir(e)
    assert "stem" in d and "forward" in d and "plist" in d
    assert "0" not in dir(e.blocks)


def _record_hooks(torch_side):
    lib, nn = _lib(torch_side)
    log = []

    class Mul(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lib.ones(3) * 2)

        def forward(self, x, y):
            return x * self.w, y + 1

    m = Mul()
    m.register_forward_pre_hook(lambda mod, args: log.append(("pre", len(args))))
    m.register_forward_pre_hook(lambda mod, args, kw: log.append(("pre_kw", sorted(kw))), with_kwargs=True)
    m.register_forward_pre_hook(lambda mod, args: log.append(("pre_first",)), prepend=True)
    m.register_forward_hook(lambda mod, args, out: log.append(("fwd", len(out))))
    h = m.register_forward_hook(lambda mod, args, out: (out[0] * 3, out[1]))
    m.register_full_backward_pre_hook(lambda mod, gout: log.append(("bw_pre", [g is None for g in gout])))

    def bw(mod, gin, gout):
        log.append(("bw", [None if g is None else g.detach().numpy().round(4).tolist() for g in gin],
                    [None if g is None else g.detach().numpy().round(4).tolist() for g in gout]))
        return (gin[0] * 10, gin[1])

    m.register_full_backward_hook(bw)
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = lib.tensor([1.0, 1.0, 1.0])
    a, b = m(x, y)
    (a.sum() + b.sum()).backward()
    log.append(("xgrad", x.grad.numpy().tolist()))
    log.append(("wgrad", m.w.grad.numpy().tolist()))
    h.remove()
    a, _ = m(x, y)
    log.append(("removed", a.detach().numpy().tolist()))
    return log


def test_hooks_match_torch():
    assert _record_hooks(False) == _record_hooks(True)


def test_forward_hook_always_call_and_kwargs():
    m = enn.Module()

    def boom(*a):
        raise ValueError("x")

    m.forward = boom
    calls = []
    m.register_forward_hook(lambda mod, args, kw, out: calls.append(("kw", out)), with_kwargs=True, always_call=True)
    with pytest.raises(ValueError):
        m(1)
    assert calls == [("kw", None)]


def test_state_dict_hooks_and_custom_load():
    class M(enn.Module):
        def __init__(self):
            super().__init__()
            self.w = enn.Parameter(ember.zeros(2))

        def _load_from_state_dict(self, state_dict, prefix, *args):
            old = prefix + "old_w"
            if old in state_dict:
                state_dict[prefix + "w"] = state_dict.pop(old)
            super()._load_from_state_dict(state_dict, prefix, *args)

    m = M()
    m.register_state_dict_post_hook(lambda mod, sd, prefix, meta: sd.__setitem__(prefix + "extra", ember.ones(1)))
    assert list(m.state_dict()) == ["w", "extra"]
    m.load_state_dict({"old_w": ember.ones(2)})
    assert float(m.w.sum()) == 2
    seen = []
    m.register_load_state_dict_post_hook(lambda mod, keys: seen.append(list(keys.unexpected_keys)))
    m.load_state_dict({"w": ember.ones(2), "junk": ember.ones(1)}, strict=False)
    assert seen == [["junk"]]


def test_sequential_operations_match_torch():
    def ops(nn):
        a, b, c, d = nn.ReLU(), nn.Tanh(), nn.Sigmoid(), nn.Identity()
        s = nn.Sequential(a, b)
        out = [repr(s[-1]), repr(s[0:1]), len(s)]
        s.append(c)
        s.insert(1, d)
        s.extend([nn.ReLU()])
        out.append(repr(s))
        out.append(repr(s.pop(1)))
        del s[0]
        out.append(repr(s))
        out.append(repr(s + nn.Sequential(nn.Tanh())))
        out.append(repr(s * 2))
        s[0] = nn.Sigmoid()
        out.append(repr(s))
        out.append([type(m).__name__ for m in s])
        with pytest.raises(IndexError) as e:
            s[10]
        out.append(str(e.value))
        with pytest.raises(IndexError) as e:
            s.insert(10, nn.ReLU())
        out.append(str(e.value))
        with pytest.raises(ValueError) as e:
            s + 3
        out.append(str(e.value).replace("torch", "ember").split(" but ")[0])
        return out

    assert ops(enn) == ops(torch.nn)


def test_modulelist_moduledict_match_torch():
    def ops(nn):
        m = nn.ModuleList([nn.ReLU(), nn.ReLU(), nn.Tanh()])
        m.append(nn.ReLU())
        m.extend([nn.ReLU(), nn.ReLU()])
        m.insert(0, nn.Tanh())
        out = [repr(m), repr(m[1:3]), len(m), repr(m[-1])]
        del m[0]
        m[0] = nn.Sigmoid()
        out.append(repr(m))
        out.append(repr(m.pop(0)))
        out.append(repr(m + nn.ModuleList([nn.Tanh()])))
        d = nn.ModuleDict({"b": nn.ReLU(), "a": nn.Tanh()})
        d["c"] = nn.Sigmoid()
        d.update([("e", nn.ReLU())])
        out += [repr(d), list(d.keys()), "a" in d, len(d), repr(d.pop("a")), list(d)]
        return out

    assert ops(enn) == ops(torch.nn)


def test_parameter_containers_match_torch():
    def ops(lib, nn):
        pl = nn.ParameterList([nn.Parameter(lib.ones(2, 3)), lib.zeros(4)])
        pl.append(lib.ones(1))
        pl.extend([nn.Parameter(lib.ones(2))])
        out = [repr(pl), len(pl), type(pl[1]).__name__, list(pl.state_dict())]
        pd = nn.ParameterDict({"w": nn.Parameter(lib.ones(2, 3)), "b": lib.zeros(2), "n": 3})
        pd["z"] = lib.ones(1)
        out += [repr(pd), list(pd.keys()), list(pd.state_dict()), type(pd["b"]).__name__, "z" in pd]
        out.append(pd.pop("n"))
        out.append(repr(pd))
        with pytest.raises(RuntimeError) as e:
            pl(1)
        out.append(str(e.value))
        return out

    assert ops(ember, enn) == ops(torch, torch.nn)


def test_parameter_basics():
    t = ember.ones(2, 2)
    p = enn.Parameter(t)
    assert isinstance(p, ember.Tensor) and isinstance(p, enn.Parameter) and p.requires_grad
    assert p.is_leaf and not isinstance(t, enn.Parameter)
    t.numpy()[0, 0] = 3
    assert float(p[0, 0]) == 3
    assert repr(enn.Parameter(ember.tensor([1.0, 2.0]))) == repr(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
    assert repr(enn.Parameter(ember.tensor([1.0]), requires_grad=False)) == \
        repr(torch.nn.Parameter(torch.tensor([1.0]), requires_grad=False))
    assert type(p * 2) is ember.Tensor
    q = copy.deepcopy(p)
    assert type(q) is enn.Parameter and q.requires_grad and q is not p
    assert enn.Parameter().shape == (0,)
    with pytest.raises(RuntimeError, match="^Only Tensors of floating point and complex dtype"):   # torch's case
        enn.Parameter(ember.ones(2, dtype=ember.int64))
    assert not isinstance(t, enn.Buffer) and isinstance(enn.Buffer(t), enn.Buffer)


def test_module_save_load_roundtrip(tmp_path, nets):
    e, t = nets
    path = tmp_path / "m.pt"
    ember.save(e.state_dict(), path)
    loaded = torch.load(path)
    assert list(loaded) == list(t.state_dict())
    t.load_state_dict(loaded)
    torch.save(t.state_dict(), path)
    back = ember.load(path)
    assert e.load_state_dict(back).missing_keys == []


def test_layer_reprs_match_torch():
    """Once the layer classes exist, a VGG/ResNet-style stack prints exactly like torch's."""
    def model(nn):
        return nn.Sequential(OrderedDict([
            ("conv", nn.Conv2d(3, 64, 1, bias=False)),
            ("bn", nn.BatchNorm2d(64)),
            ("relu", nn.ReLU(inplace=True)),
            ("blocks", nn.ModuleList([nn.Linear(4, 4) for _ in range(3)])),
            ("fc", nn.Linear(64, 10)),
        ]))

    e, t = model(enn), model(torch.nn)
    assert repr(e) == repr(t)
    assert list(e.state_dict()) == list(t.state_dict())
    assert e.state_dict()._metadata == t.state_dict()._metadata


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, float("inf")])
def test_clip_grad_norm_matches_torch(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(s).astype(np.float32) for s in [(3, 4), (5,), (2, 2)]]
    ep = [enn.Parameter(ember.zeros(*g.shape)) for g in grads]
    tp = [torch.nn.Parameter(torch.zeros(*g.shape)) for g in grads]
    for e, t, g in zip(ep, tp, grads):
        e.grad, t.grad = ember.tensor(g), torch.tensor(g)
    en = enn.utils.clip_grad_norm_(ep, 0.5, norm_type=norm_type)
    tn = torch.nn.utils.clip_grad_norm_(tp, 0.5, norm_type=norm_type)
    assert isinstance(en, ember.Tensor) and en.dtype is ember.float32
    assert float(en) == pytest.approx(float(tn), rel=1e-6)
    for e, t in zip(ep, tp):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_nonfinite_and_empty():
    p = enn.Parameter(ember.ones(3))
    p.grad = ember.tensor([1.0, float("inf"), 0.0])
    with pytest.raises(RuntimeError, match="The total norm of order 2.0 for gradients from `parameters` is "
                                           "non-finite, so it cannot be clipped"):
        enn.utils.clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    assert float(enn.utils.clip_grad_norm_([enn.Parameter(ember.ones(2))], 1.0)) == 0.0


def test_clip_grad_value_matches_torch():
    g = np.array([-3.0, -0.5, 0.2, 4.0], np.float32)
    e, t = enn.Parameter(ember.zeros(4)), torch.nn.Parameter(torch.zeros(4))
    e.grad, t.grad = ember.tensor(g), torch.tensor(g)
    enn.utils.clip_grad_value_(e, 1.0)
    torch.nn.utils.clip_grad_value_(t, 1.0)
    np.testing.assert_array_equal(e.grad.numpy(), t.grad.numpy())


def test_parameters_vector_roundtrip():
    ps = [enn.Parameter(ember.ones(2, 3)), enn.Parameter(ember.zeros(4))]
    v = enn.utils.parameters_to_vector(ps)
    assert tuple(v.shape) == (10,) and v.requires_grad
    enn.utils.vector_to_parameters(ember.arange(10.0), ps)
    np.testing.assert_array_equal(ps[0].detach().numpy(), np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(ps[1].detach().numpy(), np.arange(6.0, 10.0))
    with pytest.raises(TypeError, match="expected torch.Tensor, but got: list"):
        enn.utils.vector_to_parameters([1.0], ps)


@pytest.mark.parametrize("transpose", [False, True])
def test_fuse_conv_bn_eval_matches_unfused(transpose):
    rng = np.random.default_rng(2)
    conv = (enn.ConvTranspose2d if transpose else enn.Conv2d)(3, 4, 3, padding=1)
    bn = enn.BatchNorm2d(4)
    bn.running_mean = ember.tensor(rng.standard_normal(4).astype(np.float32))
    bn.running_var = ember.tensor(rng.uniform(0.5, 2, 4).astype(np.float32))
    with ember.no_grad():
        bn.weight.mul_(ember.tensor(rng.uniform(0.5, 2, 4).astype(np.float32)))
    conv.eval()
    bn.eval()
    x = ember.tensor(rng.standard_normal((2, 3, 5, 5)).astype(np.float32))
    fused = enn.utils.fuse_conv_bn_eval(conv, bn, transpose=transpose)
    assert isinstance(fused.weight, enn.Parameter) and fused.weight is not conv.weight
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(AssertionError, match="Fusion only for eval!"):
        enn.utils.fuse_conv_bn_eval(conv.train(), bn)


def test_fuse_linear_bn_eval_matches_unfused():
    rng = np.random.default_rng(3)
    lin, bn = enn.Linear(5, 4), enn.BatchNorm1d(4)
    bn.running_mean = ember.tensor(rng.standard_normal(4).astype(np.float32))
    bn.running_var = ember.tensor(rng.uniform(0.5, 2, 4).astype(np.float32))
    lin.eval()
    bn.eval()
    x = ember.tensor(rng.standard_normal((3, 5)).astype(np.float32))
    fused = enn.utils.fuse_linear_bn_eval(lin, bn)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(lin(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(AssertionError, match="To fuse, linear.out_features == bn.num_features"):
        enn.utils.fuse_linear_bn_eval(lin, enn.BatchNorm1d(3).eval())


@pytest.mark.parametrize("target,strict", [("1.0", False), ("1.5", False), ("1.9", True), ("0.weight", False),
                                           ("2.0", False), ("", False), ("0.weight.x", False), ("1.foo", True)])
def test_set_submodule_matches_torch(target, strict):
    def run(torch_side):
        _, nn = _lib(torch_side)
        m = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU()))
        try:
            m.set_submodule(target, nn.Tanh(), strict=strict)
        except (AttributeError, ValueError) as e:
            return type(e).__name__, str(e)
        return repr(m)
    assert run(False) == run(True)


def test_set_submodule_rejects_non_module():
    for torch_side in (True, False):
        with pytest.raises(ValueError, match="`module` is not an nn.Module, found <class 'int'>"):
            _lib(torch_side)[1].Sequential(_lib(torch_side)[1].ReLU()).set_submodule("0", 3)


def test_private_state_dict_hooks_used_by_libraries():
    """``_register_state_dict_hook`` may replace the state dict; ``_register_load_state_dict_pre_hook``
    calls the hook without the module unless ``with_module``."""
    def run(torch_side):
        lib, nn = _lib(torch_side)
        seen = []

        def add_bias(sd, prefix, *rest):
            sd.setdefault(prefix + "bias", lib.zeros(3))

        m = nn.Linear(2, 3)
        m._register_state_dict_hook(lambda mod, sd, prefix, md: {prefix + "renamed": sd[prefix + "weight"]})
        n = nn.Linear(2, 3)
        n._register_load_state_dict_pre_hook(add_bias)
        n._register_load_state_dict_pre_hook(lambda mod, *rest: seen.append(type(mod).__name__), with_module=True)
        keys = n.load_state_dict({"weight": lib.ones(3, 2)})
        n.register_state_dict_post_hook(lambda *a: {})
        with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
            n.state_dict()
        return list(m.state_dict()), repr(keys), n.bias.tolist(), seen
    assert run(False) == run(True)


def test_compile_is_a_no_op():
    m = enn.Linear(2, 3)
    x = ember.ones(1, 2)
    before = m(x).detach().numpy()
    assert m.compile() is None
    np.testing.assert_array_equal(m(x).detach().numpy(), before)


def test_legacy_register_backward_hook_matches_torch():
    """The deprecated hook sees the output node's gradients and may replace them; mixing it with full
    backward hooks is refused; the multiple-nodes FutureWarning fires where torch's does."""
    def run(torch_side):
        lib, nn = _lib(torch_side)
        lib.manual_seed(0)
        conv, relu, seq = nn.Conv2d(2, 3, 3), nn.ReLU(), nn.Sequential(nn.Linear(3, 2), nn.ReLU())
        seen = []
        conv.register_backward_hook(lambda m, gi, go: seen.append(([tuple(g.shape) for g in gi],
                                                                  [tuple(g.shape) for g in go], float(go[0].sum()))))
        with pytest.warns(FutureWarning, match="non-full backward hook"):     # a leaf input: not a node
            conv(lib.ones(1, 2, 5, 5, requires_grad=True)).sum().backward()
        relu.register_backward_hook(lambda m, gi, go: (gi[0] * 0,))
        x = lib.ones(4, 3, requires_grad=True)
        relu(x * 2).sum().backward()
        seen.append(x.grad.abs().sum().item())
        seq.register_backward_hook(lambda m, gi, go: seen.append([tuple(g.shape) for g in go]))
        with pytest.warns(FutureWarning, match="non-full backward hook when the forward contains multiple"):
            seq(lib.ones(4, 3, requires_grad=True)).sum().backward()
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks"):
            seq.register_full_backward_hook(lambda *a: None)
        return seen
    assert run(False) == run(True)
