"""The torch namespace pieces training scripts touch: torch.backends flags, torch.compile/torch.compiler,
top-level switches and constants, and torch.multiprocessing (spawn, Queue, Pool, tensors across processes).

torch is imported inside the tests that compare with it, so the worker processes spawned here (which
import this module to find their function) start without it.
"""
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

import ember


# ---- backends -------------------------------------------------------------------------

def test_backend_flags_have_torch_defaults():
    import torch
    for name in ("enabled", "benchmark", "deterministic", "allow_tf32"):
        assert getattr(ember.backends.cudnn, name) == getattr(torch.backends.cudnn, name), name
    assert ember.backends.cudnn.is_available() is False and ember.backends.cudnn.version() is None
    assert ember.backends.mps.is_available() is False and ember.backends.mps.is_built() is False
    assert ember.backends.cuda.matmul.allow_tf32 is torch.backends.cuda.matmul.allow_tf32 is False
    assert ember.backends.cuda.matmul.allow_fp16_reduced_precision_reduction is True
    assert ember.backends.mkldnn.enabled is True and ember.backends.mkldnn.is_available() is False
    assert ember.backends.openmp.is_available() is False
    assert ember.backends.opt_einsum.is_available() == torch.backends.opt_einsum.is_available()
    assert ember.backends.opt_einsum.enabled == torch.backends.opt_einsum.enabled
    assert ember.backends.opt_einsum.strategy == torch.backends.opt_einsum.strategy


def test_backend_flags_are_settable(monkeypatch):
    for mod, name, value in ((ember.backends.cudnn, "benchmark", True), (ember.backends.cudnn, "deterministic", True),
                             (ember.backends.cudnn, "enabled", False), (ember.backends.mkldnn, "enabled", False)):
        monkeypatch.setattr(mod, name, value)
        assert getattr(mod, name) is value
    with ember.backends.cudnn.flags(enabled=True, benchmark=True, deterministic=True):
        assert ember.backends.cudnn.benchmark and ember.backends.cudnn.deterministic
    assert ember.backends.cudnn.benchmark is True         # restored to the monkeypatched value


def test_cuda_is_built_follows_cupy(monkeypatch):
    import importlib.util
    real = importlib.util.find_spec
    assert ember.backends.cuda.is_built() == (real("cupy") is not None)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if name == "cupy" else real(name, *a))
    assert ember.backends.cuda.is_built() is True


def test_matmul_flags_follow_float32_matmul_precision():
    m = ember.backends.cuda.matmul
    try:
        ember.set_float32_matmul_precision("high")
        assert m.allow_tf32 is True and ember.get_float32_matmul_precision() == "high"
        m.allow_tf32 = False
        assert ember.get_float32_matmul_precision() == "highest"
        m.allow_fp16_reduced_precision_reduction = False
        assert m.allow_fp16_reduced_precision_reduction is False
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            m.foo
        with pytest.raises(AttributeError, match="Unknown attribute foo"):
            m.foo = 1
    finally:
        m.allow_fp16_reduced_precision_reduction = True
        ember.set_float32_matmul_precision("highest")


def test_float32_matmul_precision_like_torch():
    import torch
    assert ember.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"
    try:
        for p in ("medium", "high", "highest"):
            ember.set_float32_matmul_precision(p)
            assert ember.get_float32_matmul_precision() == p
        with pytest.warns(UserWarning, match="foo is not one of 'highest', 'high', or 'medium'"):
            ember.set_float32_matmul_precision("foo")
        assert ember.get_float32_matmul_precision() == "highest"
    finally:
        ember.set_float32_matmul_precision("highest")


# ---- compile --------------------------------------------------------------------------

def test_compile_module_wraps_like_torch():
    m = ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU())
    c = ember.compile(m)
    assert type(c).__name__ == "OptimizedModule" and isinstance(c, ember.nn.Module) and c._orig_mod is m
    assert list(c.state_dict()) == ["_orig_mod.0.weight", "_orig_mod.0.bias"]
    assert [n for n, _ in c.named_parameters()] == ["_orig_mod.0.weight", "_orig_mod.0.bias"]
    assert repr(c).startswith("OptimizedModule(\n  (_orig_mod): Sequential(")
    assert c.training and len(c) == 2           # reads reach the original module
    lin = ember.nn.Linear(2, 3)
    assert ember.compile(lin).in_features == 2 and ember.compile(lin).weight is lin.weight
    m.eval()
    assert c.training is False
    m.train()
    x = ember.randn(2, 3)
    np.testing.assert_array_equal(c(x).detach().numpy(), m(x).detach().numpy())
    c.eval()
    assert not m.training
    sd = c.state_dict()
    fresh = ember.compile(ember.nn.Sequential(ember.nn.Linear(3, 4), ember.nn.ReLU()))
    fresh.load_state_dict(sd)
    np.testing.assert_array_equal(fresh(x).detach().numpy(), m(x).detach().numpy())


def test_compile_function_and_decorator_forms():
    def f(x, k=1):
        """doc"""
        return x * 2 + k

    g = ember.compile(f)
    assert g(3) == 7 and g(3, k=0) == 6 and g.__name__ == "f" and g.__doc__ == "doc"
    assert g._torchdynamo_orig_callable is f

    @ember.compile
    def h(x):
        return x + 1

    @ember.compile(fullgraph=True, dynamic=False, mode="max-autotune")
    def k(x):
        return x - 1

    assert h(1) == 2 and k(1) == 0
    assert ember.compile(f, disable=True) is f
    m = ember.nn.Linear(2, 2)
    assert ember.compile(m, disable=True) is m
    assert ember.compile(f, backend=lambda gm, inputs: gm)(1) == 3


def test_compile_argument_errors():
    with pytest.raises(AssertionError, match="A callable function is expected, but <class 'int'> is provided."):
        ember.compile(3)
    with pytest.raises(RuntimeError, match="Unrecognized mode=foo, should be one of: default, lite,"):
        ember.compile(abs, mode="foo")
    with pytest.raises(RuntimeError, match="Either mode or options can be specified"):
        ember.compile(abs, mode="default", options={})
    with pytest.raises(RuntimeError, match="Invalid backend: 'nope'"):
        ember.compile(abs, backend="nope")


def test_compiler_namespace():
    assert ember.compiler.is_compiling() is False and ember.compiler.is_dynamo_compiling() is False
    assert "inductor" in ember.compiler.list_backends()

    @ember.compiler.disable
    def f(x):
        return x

    assert f(5) == 5 and ember.compiler.disable(recursive=False)(f) is f
    assert not hasattr(ember, "_dynamo")


# ---- top-level functions --------------------------------------------------------------

def test_constants_match_torch():
    import torch
    for name in ("pi", "e", "inf"):
        assert getattr(ember, name) == getattr(torch, name)
    assert np.isnan(ember.nan) and ember.newaxis is None is torch.newaxis
    assert ember.ones(3)[ember.newaxis].shape == (1, 3)
    assert isinstance(ember.__version__, str)


def test_deterministic_algorithms_switch():
    import torch
    try:
        assert ember.are_deterministic_algorithms_enabled() is False
        ember.use_deterministic_algorithms(True, warn_only=True)
        assert ember.are_deterministic_algorithms_enabled() and ember.is_deterministic_algorithms_warn_only_enabled()
        ember.use_deterministic_algorithms(True)
        assert not ember.is_deterministic_algorithms_warn_only_enabled()
        ember.use_deterministic_algorithms(False)
        assert not ember.are_deterministic_algorithms_enabled()
        with pytest.raises(TypeError) as mine:
            ember.use_deterministic_algorithms("x")
        with pytest.raises(TypeError) as theirs:
            torch.use_deterministic_algorithms("x")
        assert str(mine.value) == str(theirs.value)
    finally:
        ember.use_deterministic_algorithms(False)


def test_warn_always_switch():
    try:
        assert ember.is_warn_always_enabled() is False
        ember.set_warn_always(True)
        assert ember.is_warn_always_enabled() is True
    finally:
        ember.set_warn_always(False)


def test_typename_and_is_storage_match_torch():
    import torch
    for lib in (torch, ember):
        lib.tensors = [lib.tensor(1.), lib.tensor(1), lib.tensor(True), lib.tensor(1., dtype=lib.float64),
                       lib.tensor(1, dtype=lib.int8), lib.tensor(1., dtype=lib.float16),
                       lib.tensor(1., dtype=lib.bfloat16), lib.nn.Parameter(lib.ones(1))]
    try:
        assert [ember.typename(t) for t in ember.tensors] == [torch.typename(t) for t in torch.tensors]
    finally:
        del torch.tensors, ember.tensors
    for obj in (1, "s", None, [1]):
        assert ember.typename(obj) == torch.typename(obj)
    assert ember.typename(ember.nn.Linear(1, 1)) == torch.typename(torch.nn.Linear(1, 1))
    assert ember.typename(ember.optim.SGD) == torch.typename(torch.optim.SGD)
    assert ember.typename(len) == torch.typename(len) == "len"
    assert ember.is_storage(ember.ones(2).untyped_storage()) and not ember.is_storage(ember.ones(2))


def test_scripts_see_the_new_namespaces(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent('''
        import torch
        import torch.multiprocessing as mp
        from torch.utils.checkpoint import checkpoint
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.set_float32_matmul_precision("high")
        torch.use_deterministic_algorithms(True)
        model = torch.compile(torch.nn.Linear(3, 2))
        x = torch.ones(4, 3, requires_grad=True)
        y = checkpoint(model, x, use_reentrant=False)
        y.sum().backward()
        torch.testing.assert_close(x.grad, model.weight.sum(0).expand(4, 3))
        print(torch.__version__ != "", torch.backends.cudnn.benchmark, torch.compiler.is_compiling(),
              mp.get_sharing_strategy(), list(model.state_dict())[0], torch.pi)
    '''))
    out = subprocess.run([sys.executable, "-m", "ember", "run", str(script)], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["True", "True", "False", "file_descriptor", "_orig_mod.weight", "3.141592653589793"]


def test_heavy_submodules_load_lazily():
    code = ("import sys, ember; print('ember.multiprocessing' in sys.modules, 'ember.testing' in sys.modules); "
            "ember.multiprocessing.Queue; ember.testing.assert_close; "
            "print('ember.multiprocessing' in sys.modules, 'ember.testing' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False", "True", "True"]
    with pytest.raises(AttributeError, match="has no attribute 'no_such_thing'"):
        ember.no_such_thing


# ---- multiprocessing ------------------------------------------------------------------

def _save_square(i, directory):
    ember.save(ember.full((2,), float(i)) ** 2, os.path.join(directory, f"{i}.pt"))


def _raise_on_one(i):
    if i == 1:
        raise ValueError(f"boom from {i}")


def _exit_three(i):
    sys.exit(3)


def _put_tensor(q, t):
    q.put((t * 2, os.getpid()))


def _double(t):
    return t * 2


def test_spawn_runs_fn_with_index_and_args(tmp_path):
    with pytest.warns(FutureWarning, match="start_processes"):    # spawn() always spawns
        assert ember.multiprocessing.spawn(_save_square, args=(str(tmp_path),), nprocs=2, start_method="fork") is None
    for i in range(2):
        assert ember.load(tmp_path / f"{i}.pt").tolist() == [float(i * i)] * 2


def test_start_processes_join_false_returns_context(tmp_path):
    mp = ember.multiprocessing
    ctx = mp.start_processes(_save_square, args=(str(tmp_path),), nprocs=2, join=False, start_method="fork")
    assert isinstance(ctx, mp.ProcessContext) and len(ctx.pids()) == 2
    while not ctx.join():
        pass
    assert ctx.join() is True and sorted(os.listdir(tmp_path)) == ["0.pt", "1.pt"]


def test_spawn_reports_child_exception():
    mp = ember.multiprocessing
    with pytest.raises(mp.ProcessRaisedException) as info:
        mp.start_processes(_raise_on_one, nprocs=2, start_method="fork")
    assert info.value.error_index == 1 and isinstance(info.value.error_pid, int)
    assert str(info.value).startswith("\n\n-- Process 1 terminated with the following error:\nTraceback")
    assert "ValueError: boom from 1" in str(info.value)


def test_spawn_reports_exit_code():
    mp = ember.multiprocessing
    with pytest.raises(mp.ProcessExitedException, match="process 0 terminated with exit code 3") as info:
        mp.start_processes(_exit_three, nprocs=1, start_method="fork")
    assert info.value.exit_code == 3 and info.value.signal_name is None


def test_tensors_cross_process_boundaries():
    mp = ember.multiprocessing
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    t = ember.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    p = ctx.Process(target=_put_tensor, args=(q, t.detach()))
    p.start()
    got, pid = q.get(timeout=30)
    p.join()
    assert p.exitcode == 0 and pid != os.getpid()
    assert isinstance(got, ember.Tensor) and got.tolist() == [[2., 4.], [6., 8.]]
    with ctx.Pool(2) as pool:
        out = pool.map(_double, [ember.arange(3), ember.ones(2, dtype=ember.float64)])
    assert out[0].tolist() == [0, 2, 4] and out[1].dtype == ember.float64
    w = ember.nn.Parameter(ember.ones(2))
    import pickle
    back = pickle.loads(pickle.dumps(w))
    assert type(back) is ember.nn.Parameter and back.requires_grad


def test_multiprocessing_api_surface():
    import multiprocessing
    mp = ember.multiprocessing
    for name in ("Process", "Queue", "Pool", "SimpleQueue", "Event", "Lock", "get_context", "set_start_method",
                 "get_start_method", "current_process", "cpu_count"):
        assert getattr(mp, name) is getattr(multiprocessing, name), name
    assert mp.cpu_count() == os.cpu_count()
    assert mp.get_sharing_strategy() == "file_descriptor"
    assert mp.get_all_sharing_strategies() == {"file_descriptor", "file_system"}
    try:
        mp.set_sharing_strategy("file_system")
        assert mp.get_sharing_strategy() == "file_system"
        with pytest.raises(AssertionError):
            mp.set_sharing_strategy("nope")
    finally:
        mp.set_sharing_strategy("file_descriptor")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mp.get_context("spawn").get_start_method() == "spawn"
