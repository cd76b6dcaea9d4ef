"""ember.jit against torch.jit: tracing, replay, warnings, checks, save/load, script."""
import io
import subprocess
import sys
import textwrap
import warnings
import zipfile

import numpy as np
import pytest
import torch

import ember
import ember.jit
import ember.nn as enn
from ember._tensor import Size, Tensor

pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.:DeprecationWarning")


def E(a):
    return ember.tensor(np.asarray(a))


def T(a):
    return torch.tensor(np.asarray(a))


def close(e, t, tol=1e-5):
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), rtol=tol, atol=tol)


class MLP:
    """The same MLP in both libraries (weights copied from torch)."""

    @staticmethod
    def make(lib, seed=0):
        nn = enn if lib is ember else torch.nn

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.l1 = nn.Linear(4, 8)
                self.act = nn.Tanh()
                self.head = nn.Sequential(nn.Linear(8, 3))

            def forward(self, x):
                x = x.view(x.size(0), -1)
                return self.head(self.act(self.l1(x)))

        return MLP()

    @classmethod
    def pair(cls):
        torch.manual_seed(0)
        t = cls.make(torch)
        e = cls.make(ember)
        e.load_state_dict({k: E(v.detach().numpy()) for k, v in t.state_dict().items()})
        return e, t


RNG = np.random.default_rng(0)
X = RNG.standard_normal((2, 4)).astype(np.float32)
X5 = RNG.standard_normal((5, 4)).astype(np.float32)


# ---- trace: functions -----------------------------------------------------------------------------
FUNCS = {
    "arith": lambda lib: (lambda x, y: (x * 2 + y).exp() - x / (y.abs() + 1)),
    "matmul_shape": lambda lib: (lambda x, y: (x @ y.t()).reshape(x.shape[0], -1).sum(1, keepdim=True)),
    "index_cat": lambda lib: (lambda x, y: lib.cat([x[:, 1:], y[:, :1] * 3], dim=1).softmax(-1)),
    "tuple_out": lambda lib: (lambda x, y: (x.max(dim=1).values, lib.stack([x, y]).mean(0))),
    "size_arith": lambda lib: (lambda x, y: x.view(x.size(0) * x.size(1)) + y.flatten()),
    "inplace": lambda lib: (lambda x, y: x.clone().add_(y).mul_(2).relu()),
    "numel_shape": lambda lib: (lambda x, y: x.reshape(x.numel() // 2, 2) * y.shape[1] + y.reshape(-1, 2)),
    "functional": lambda lib: (lambda x, y: lib.nn.functional.gelu(x) + lib.nn.functional.silu(y)),
}


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_trace_function_replays_like_torch(name):
    e_fn, t_fn = FUNCS[name](ember), FUNCS[name](torch)
    a, b = X, RNG.standard_normal((2, 4)).astype(np.float32)
    te = ember.jit.trace(e_fn, (E(a), E(b)))
    tt = torch.jit.trace(t_fn, (T(a), T(b)))
    assert isinstance(te, ember.jit.ScriptFunction) and type(te).__name__ == type(tt).__name__
    # new values and a new batch size: the trace is shape-generic where torch's is
    c, d = X5, RNG.standard_normal((5, 4)).astype(np.float32)
    out_e, out_t = te(E(c), E(d)), tt(T(c), T(d))
    for oe, ot in zip(out_e if isinstance(out_e, tuple) else (out_e,), out_t if isinstance(out_t, tuple) else (out_t,)):
        close(oe, ot)


def test_tensor_indices_and_writes_are_traced_like_torch():
    def f(x, idx):
        y = x[idx] * 2
        y[:, 0] = idx.to(y.dtype)
        return y
    x = np.arange(12, dtype=np.float32).reshape(6, 2)
    te = ember.jit.trace(f, (E(x), E(np.array([0, 2]))))
    tt = torch.jit.trace(f, (T(x), T(np.array([0, 2]))))
    idx = np.array([5, 1, 3])
    close(te(E(x), E(idx)), tt(T(x), T(idx)))


def test_control_flow_is_frozen_as_in_torch():
    def make(lib):
        def f(x):
            if x.sum() > 0:
                return x * 10
            return x - 1
        return f

    outs = {}
    for lib, conv in ((ember, E), (torch, T)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            traced = lib.jit.trace(make(lib), conv(np.ones(3, np.float32)), check_trace=False)
        tracer_warnings = [str(x.message) for x in w if x.category is lib.jit.TracerWarning]
        assert len(tracer_warnings) == 1 and "Python boolean" in tracer_warnings[0]
        outs[lib] = traced(conv(-np.ones(3, np.float32)))      # the negative input takes the frozen branch
    close(outs[ember], outs[torch])
    assert outs[ember].tolist() == [-10.0] * 3


CONVERSIONS = {
    "bool": lambda x: x * 2 if bool(x.sum() > 0) else x,
    "float": lambda x: x * float(x.sum()),
    "int": lambda x: x * int(x.sum()),
    "item": lambda x: x * x.sum().item(),
    "tolist": lambda x: x * len(x.tolist()),
    "len": lambda x: x * len(x),
    "iter": lambda x: sum(r for r in x),
}


@pytest.mark.parametrize("name", sorted(CONVERSIONS))
def test_tracer_warnings_match_torch(name):
    fn = CONVERSIONS[name]
    messages = {}
    x = np.arange(1, 7, dtype=np.float32).reshape(3, 2)
    for lib, conv in ((ember, E), (torch, T)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            traced = lib.jit.trace(fn, conv(x), check_trace=False)
        messages[lib] = [str(m.message) for m in w if m.category is lib.jit.TracerWarning]
        close(traced(conv(x)), fn(T(x)))
    assert messages[ember] == messages[torch] and messages[ember]


def test_tensor_constructor_warning_matches_torch():
    messages = {}
    for lib, conv in ((ember, E), (torch, T)):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            traced = lib.jit.trace(lambda x, lib=lib: x + lib.tensor([1.0, 2.0, 3.0, 4.0]), conv(X), check_trace=False)
        messages[lib] = [str(m.message) for m in w if m.category is lib.jit.TracerWarning]
        close(traced(conv(X5)), T(X5) + torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert messages[ember] == messages[torch] and len(messages[ember]) == 1


# ---- trace: modules ---------------------------------------------------------------------------
def test_traced_module_structure_matches_torch():
    e, t = MLP.pair()
    te, tt = ember.jit.trace(e, E(X)), torch.jit.trace(t, T(X))
    assert type(te).__name__ == type(tt).__name__ == "TopLevelTracedModule"
    assert isinstance(te, ember.jit.TracedModule) and isinstance(te, ember.jit.ScriptModule)
    assert isinstance(te, enn.Module)
    assert repr(te) == repr(tt)
    assert te.original_name == tt.original_name and te.head.original_name == tt.head.original_name
    assert list(te.state_dict()) == list(tt.state_dict())
    assert te.l1.weight is e.l1.weight and tt.l1.weight is t.l1.weight      # parameters are shared
    assert te.training == tt.training and not te.eval().training
    assert type(ember.jit.trace(e.forward, E(X))).__name__ == type(torch.jit.trace(t.forward, T(X))).__name__
    close(te(E(X5)), tt(T(X5)))
    with pytest.raises(RuntimeError, match="Trace submodules cannot be called"):
        te.l1(E(X))
    with pytest.raises(RuntimeError, match="Trace submodules cannot be called"):
        tt.l1(T(X))
    for kind in ("aten::linear", "aten::tanh", "aten::view"):
        assert kind in str(te.graph) and kind in str(tt.inlined_graph)
    assert "def forward(self" in te.code and "def forward(self" in tt.code
    assert str(te.inlined_graph) == str(te.graph)


LAYERS = {
    "conv_bn_pool": (lambda nn: nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 5)),
                     lambda b: RNG.standard_normal((b, 3, 8, 8))),
    "lstm": (lambda nn: nn.LSTM(4, 5, batch_first=True), lambda b: RNG.standard_normal((b, 6, 4))),
    "transformer_layer": (lambda nn: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                          lambda b: RNG.standard_normal((b, 5, 8))),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_traced_layers_generalize_over_batch_like_torch(name):
    build, data = LAYERS[name]
    torch.manual_seed(0)
    t = build(torch.nn).eval()
    e = build(enn).eval()
    e.load_state_dict({k: E(v.detach().numpy()) for k, v in t.state_dict().items()})
    x2, x5 = data(2).astype(np.float32), data(5).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")        # torch warns about (and fails checking) its fast paths
        te, tt = ember.jit.trace(e, E(x2), check_trace=False), torch.jit.trace(t, T(x2), check_trace=False)
    out_e, out_t = te(E(x5)), tt(T(x5))
    for a, b in zip(ember.jit._graph.flatten_tensors(out_e), torch.utils._pytree.tree_leaves(out_t)):
        close(a, b, 1e-4)


def test_trace_follows_state_dict_and_buffers():
    torch.manual_seed(1)
    t = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU()).eval()
    e = enn.Sequential(enn.Linear(4, 6), enn.BatchNorm1d(6), enn.ReLU()).eval()
    sd = {k: v.detach().numpy() + 0.5 * (k.endswith("running_var")) for k, v in t.state_dict().items()}
    t.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
    te, tt = ember.jit.trace(e, E(X)), torch.jit.trace(t, T(X))
    te.load_state_dict({k: E(v) for k, v in sd.items()})     # loading after tracing: the replay reads it
    close(te(E(X5)), tt(T(X5)))


def test_autograd_through_replay_matches_torch():
    e, t = MLP.pair()
    te, tt = ember.jit.trace(e, E(X)), torch.jit.trace(t, T(X))
    xe, xt = E(X5).requires_grad_(), T(X5).requires_grad_()
    (te(xe) ** 2).sum().backward()
    (tt(xt) ** 2).sum().backward()
    close(xe.grad, xt.grad)
    for (name, pe), pt in zip(te.named_parameters(), tt.parameters()):
        close(pe.grad, pt.grad)


def test_training_a_traced_mlp_equals_eager_training():
    eager, _ = MLP.pair()
    e2, t = MLP.pair()
    traced = ember.jit.trace(e2, E(X))
    tt = torch.jit.trace(t, T(X))
    y = np.array([0, 2, 1, 1, 0])
    opts = [ember.optim.SGD(eager.parameters(), lr=0.5), ember.optim.SGD(traced.parameters(), lr=0.5),
            torch.optim.SGD(tt.parameters(), lr=0.5)]
    for _ in range(3):
        for model, opt, lib, conv in ((eager, opts[0], ember, E), (traced, opts[1], ember, E),
                                      (tt, opts[2], torch, T)):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(conv(X5)), conv(y))
            loss.backward()
            opt.step()
    for (k, pe), pt, pt2 in zip(eager.state_dict().items(), traced.state_dict().values(), tt.state_dict().values()):
        close(pe, pt, 1e-6)
        close(pt, pt2)


def test_example_kwarg_inputs_like_torch():
    def f(x, y):
        return x * 3 - y
    te = ember.jit.trace(f, example_kwarg_inputs={"x": E(X), "y": E(X)})
    tt = torch.jit.trace(f, example_kwarg_inputs={"x": T(X), "y": T(X)})
    close(te(x=E(X5), y=E(X5 * 2)), tt(x=T(X5), y=T(X5 * 2)))
    close(te(E(X5), E(X5 * 2)), tt(T(X5), T(X5 * 2)))


def test_nested_inputs_and_replay_inside_a_trace():
    def f(pair, d):
        return pair[0] * pair[1] + d["b"]
    args = lambda conv: ((conv(X), conv(X + 1)), {"b": conv(X * 2)})
    te, tt = ember.jit.trace(f, args(E), strict=False), torch.jit.trace(f, args(T), strict=False)
    close(te(*args(E)), tt(*args(T)))
    # a traced function called while tracing another is recorded into it
    outer_e = ember.jit.trace(lambda x: te((x, x), {"b": x}).sin(), E(X))
    outer_t = torch.jit.trace(lambda x: tt((x, x), {"b": x}).sin(), T(X))
    close(outer_e(E(X5)), outer_t(T(X5)))


def test_tracing_leaves_nothing_installed():
    before = (ember.relu, Tensor.__dict__["view"], Tensor.__dict__["size"], Tensor.__dict__["shape"],
              ember.nn.functional.linear, Tensor.__dict__["__bool__"])
    from ember._ops import _registry, pointwise
    entry = (_registry.apply, _registry.apply_binary, pointwise.apply_binary)
    with pytest.warns(ember.jit.TracerWarning):
        ember.jit.trace(lambda x: ember.relu(x).view(-1) * bool(x.sum() > 0), E(X), check_trace=False)
    assert before == (ember.relu, Tensor.__dict__["view"], Tensor.__dict__["size"], Tensor.__dict__["shape"],
                      ember.nn.functional.linear, Tensor.__dict__["__bool__"])
    assert entry == (_registry.apply, _registry.apply_binary, pointwise.apply_binary)
    assert type(E(X).size(0)) is int and type(E(X).shape) is Size
    assert not ember.jit.is_tracing() and not torch.jit.is_tracing()


def test_is_tracing_inside_trace():
    seen = []

    def f(x):
        seen.append(ember.jit.is_tracing())
        return x + 1
    ember.jit.trace(f, E(X), check_trace=False)
    assert seen == [True]


# ---- trace: checks and errors -------------------------------------------------------------------------
def test_check_trace_warns_on_nondeterminism_like_torch():
    messages = {}
    for lib, conv in ((ember, E), (torch, T)):
        lib.manual_seed(0)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            lib.jit.trace(lambda x, F=lib.nn.functional: F.dropout(x, 0.5, True), conv(X5))
        messages[lib] = [str(x.message).split("\n")[0] for x in w if x.category is lib.jit.TracerWarning]
    assert messages[ember] == messages[torch] == [
        "Trace had nondeterministic nodes. Did you forget call .eval() on your model? Nodes:",
        ("Output nr 1. of the traced function does not match the corresponding output of the Python function. "
         "Detailed error:")]


def test_check_inputs_taking_another_branch_fail_like_torch():
    def make():
        def f(x):
            return x * 2 if x.sum() > 0 else x.neg().exp()
        return f
    for lib, conv in ((ember, E), (torch, T)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(lib.jit.TracingCheckError, match="Graphs differed across invocations"):
                lib.jit.trace(make(), conv(X5 ** 2), check_inputs=[(conv(-X5 ** 2 - 1),)])


@pytest.mark.parametrize("case", ["int_input", "int_output", "dict_output_strict", "module_method"])
def test_trace_errors_like_torch(case):
    messages = []
    for lib, conv in ((ember, E), (torch, T)):
        m = lib.nn.Linear(4, 2)
        fn, args, kw = {
            "int_input": (lambda x, n: x * n, (conv(X), 3), {}),
            "int_output": (lambda x: (x, 3), conv(X), {}),
            "dict_output_strict": (lambda x: {"a": x}, conv(X), {}),
            "module_method": (m.zero_grad, conv(X), {}),
        }[case]
        err = AttributeError if case == "module_method" else RuntimeError
        with pytest.raises(err) as info:
            lib.jit.trace(fn, args, **kw)
        messages.append(str(info.value).split("\n")[0])
    assert messages[0] == messages[1]


def test_list_output_warns_unless_not_strict():
    for lib, conv in ((ember, E), (torch, T)):
        with pytest.warns(lib.jit.TracerWarning, match="Encountering a list at the output"):
            lib.jit.trace(lambda x: [x, x * 2], conv(X))
        with warnings.catch_warnings():
            warnings.simplefilter("error", lib.jit.TracerWarning)
            out = lib.jit.trace(lambda x: [x, x * 2], conv(X), strict=False)(conv(X5))
        assert isinstance(out, list) and len(out) == 2


def test_tracing_a_script_module_is_a_noop_with_warning():
    e, t = MLP.pair()
    te, tt = ember.jit.trace(e, E(X)), torch.jit.trace(t, T(X))
    with pytest.warns(UserWarning, match="already a ScriptModule"):
        assert ember.jit.trace(te, E(X)) is te
    with pytest.warns(UserWarning, match="already a ScriptModule"):
        assert torch.jit.trace(tt, T(X)) is tt


def test_freeze_like_torch():
    e, t = MLP.pair()
    te, tt = ember.jit.trace(e, E(X)), torch.jit.trace(t, T(X))
    for lib, traced, raw in ((ember, te, e), (torch, tt, t)):
        with pytest.raises(RuntimeError, match="only implemented for modules in eval mode"):
            lib.jit.freeze(traced)
        with pytest.raises(RuntimeError, match="Freezing expects a ScriptModule as input"):
            lib.jit.freeze(raw.eval())
    fe, ft = ember.jit.freeze(te.eval()), torch.jit.freeze(tt.eval())
    assert len(list(fe.parameters())) == len(list(ft.parameters())) == 0
    close(fe(E(X5)), ft(T(X5)))
    close(ember.jit.optimize_for_inference(te)(E(X5)), torch.jit.optimize_for_inference(tt)(T(X5)))


# ---- save / load -----------------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path):
    e, t = MLP.pair()
    te, tt = ember.jit.trace(e, E(X)), torch.jit.trace(t, T(X))
    buf = io.BytesIO()
    te.save(buf)
    buf.seek(0)
    loaded = ember.jit.load(buf)
    tt.save(str(tmp_path / "t.pt"))
    loaded_t = torch.jit.load(str(tmp_path / "t.pt"))
    assert type(loaded).__name__ == type(loaded_t).__name__ == "RecursiveScriptModule"
    assert list(loaded.state_dict()) == list(loaded_t.state_dict())
    assert repr(loaded) == repr(loaded_t)
    assert loaded.training == loaded_t.training
    close(loaded(E(X5)), loaded_t(T(X5)))
    assert str(loaded.graph) == str(te.graph) and loaded.code == te.code
    # an ember archive is a zip in torch's checkpoint layout
    buf.seek(0)
    assert any(n.endswith("data.pkl") for n in zipfile.ZipFile(buf).namelist())
    # functions, extra files, map_location
    fe = ember.jit.trace(lambda x: x.view(x.size(0), 2, 2).sum(-1), E(X))
    extra = {"meta.txt": "hello"}
    ember.jit.save(fe, str(tmp_path / "f.pt"), _extra_files=extra)
    got = {"meta.txt": ""}
    fl = ember.jit.load(str(tmp_path / "f.pt"), map_location="cpu", _extra_files=got)
    assert got["meta.txt"] == b"hello"
    close(fl(E(X5)), T(X5).view(5, 2, 2).sum(-1))


def test_load_in_a_new_process_under_ember_run(tmp_path):
    e, _ = MLP.pair()
    traced = ember.jit.trace(e, E(X))
    ember.jit.save(traced, str(tmp_path / "m.pt"))
    np.save(tmp_path / "x.npy", X5)
    np.save(tmp_path / "y.npy", traced(E(X5)).detach().numpy())
    script = tmp_path / "s.py"
    script.write_text(textwrap.dedent(f"""
        import numpy as np, torch
        m = torch.jit.load({str(tmp_path / 'm.pt')!r})
        out = m(torch.from_numpy(np.load({str(tmp_path / 'x.npy')!r})))
        assert np.array_equal(out.detach().numpy(), np.load({str(tmp_path / 'y.npy')!r}))
        t = torch.jit.trace(lambda x: torch.relu(x) * 2, torch.ones(2))
        print(type(m).__name__, t(torch.tensor([-1.0, 3.0])).tolist())
    """))
    out = subprocess.run([sys.executable, "-m", "ember", "run", str(script)], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["RecursiveScriptModule", "[0.0,", "6.0]"]


def test_loading_a_torchscript_archive_fails_clearly(tmp_path):
    torch.jit.trace(torch.nn.Linear(2, 2), torch.ones(1, 2)).save(str(tmp_path / "ts.pt"))
    with pytest.raises(RuntimeError, match="TorchScript archive .* ember cannot run TorchScript"):
        ember.jit.load(str(tmp_path / "ts.pt"))
    torch.save({"w": torch.ones(2)}, str(tmp_path / "plain.pt"))       # torch.jit.load refuses it too
    with pytest.raises(RuntimeError):
        torch.jit.load(str(tmp_path / "plain.pt"))
    with pytest.raises(RuntimeError, match="not an ember.jit archive"):
        ember.jit.load(str(tmp_path / "plain.pt"))
    (tmp_path / "junk.pt").write_bytes(b"not a zip")
    with pytest.raises(RuntimeError):
        torch.jit.load(str(tmp_path / "junk.pt"))
    with pytest.raises(RuntimeError, match="not a zip"):
        ember.jit.load(str(tmp_path / "junk.pt"))
    with pytest.raises(ValueError, match="does not exist"):
        ember.jit.load(str(tmp_path / "missing.pt"))
    with pytest.raises(ValueError, match="does not exist"):
        torch.jit.load(str(tmp_path / "missing.pt"))


def test_load_runs_no_code_from_the_file(tmp_path):
    import json
    fe = ember.jit.trace(lambda x: x.exp(), E(X))
    ember.jit.save(fe, str(tmp_path / "f.pt"))
    payload = ember.load(str(tmp_path / "f.pt"))
    graph = json.loads(payload["graph"])
    graph["nodes"][0]["q"] = "os.system"
    payload["graph"] = json.dumps(graph)
    ember.save(payload, str(tmp_path / "evil.pt"))
    with pytest.raises(RuntimeError, match="os.system, which is not an ember function"):
        ember.jit.load(str(tmp_path / "evil.pt"))
    payload["graph"] = None
    payload["tree"] = Evil()
    ember.save(payload, str(tmp_path / "evil2.pt"))
    import pickle
    with pytest.raises(pickle.UnpicklingError, match="Unsupported global"):
        ember.jit.load(str(tmp_path / "evil2.pt"))


class Evil:
    def __reduce__(self):
        return (print, ("pwned",))


# ---- script and friends ---------------------------------------------------------------------------
def test_script_function_decorator_runs_like_torch():
    def body(lib):
        def f(x, n: int):
            for _ in range(n):
                x = x * 2 if x.sum() > 0 else x - 1
            return x
        return f
    se, st = ember.jit.script(body(ember)), torch.jit.script(body(torch))
    assert type(se).__name__ == type(st).__name__ == "ScriptFunction" and se.name == st.name
    for v in (X, -X):
        close(se(E(v), 3), st(T(v), 3))          # control flow is live, as in TorchScript
    assert "def f(x, n: int)" in se.code
    with pytest.raises(RuntimeError, match="no TorchScript compiler"):
        print(se.graph)


def test_script_module_runs_like_torch(tmp_path):
    e, t = ember.nn.Linear(4, 3), torch.nn.Linear(4, 3)
    e.load_state_dict({k: E(v.detach().numpy()) for k, v in t.state_dict().items()})
    se, st = ember.jit.script(e), torch.jit.script(t)
    assert isinstance(se, ember.jit.ScriptModule) and isinstance(st, torch.jit.ScriptModule)
    assert repr(se) == repr(st) and se.original_name == st.original_name
    assert list(se.state_dict()) == list(st.state_dict())
    close(se(E(X5)), st(T(X5)))
    assert ember.jit.script(se) is se and torch.jit.script(st) is st
    # the weights are saved; the Python forward is not (ember has no compiler to save it)
    se.save(str(tmp_path / "s.pt"))
    loaded = ember.jit.load(str(tmp_path / "s.pt"))
    close(loaded.state_dict()["weight"], t.weight)
    with pytest.raises(RuntimeError, match="without a traced graph"):
        loaded(E(X5))


def test_script_api_helpers_like_torch():
    for lib in (ember, torch):
        jit = lib.jit
        assert jit.is_scripting() is False
        assert jit.annotate(list, [1]) == [1]
        fut = jit.fork(lambda a, b: a + b, 2, b=3)
        assert jit.wait(fut) == 5

        class M(lib.nn.Module):
            @jit.ignore
            def helper(self, x):
                return x + 1

            @jit.unused
            def unused(self, x):
                return x - 1

            @jit.export
            def other(self, x):
                return x * 3

            def forward(self, x):
                return self.other(self.helper(x))

        m = M()
        conv = E if lib is ember else T
        assert m(conv(np.ones(2, np.float32))).tolist() == [6.0, 6.0]
        assert jit.script(m).other(conv(np.ones(2, np.float32))).tolist() == [3.0, 3.0]


def test_traced_batchnorm_in_training_counts_batches_and_updates_stats_like_torch():
    t = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    e = enn.Sequential(enn.Linear(3, 4), enn.BatchNorm1d(4))
    e.load_state_dict({k: E(v) for k, v in t.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tt = torch.jit.trace(t, T(x), check_trace=False)
    te = ember.jit.trace(e, E(x), check_trace=False)
    for _ in range(2):
        tt(T(2 * x))
        te(E(2 * x))
    assert int(e[1].num_batches_tracked) == int(t[1].num_batches_tracked) == 3
    close(e[1].running_mean, t[1].running_mean)
    close(e[1].running_var, t[1].running_var)
