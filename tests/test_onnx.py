"""ember.onnx.export: exported models pass onnx's checker and run in onnxruntime with ember's outputs."""
import io
import os
import subprocess
import sys
import textwrap

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import ember
import ember.nn as nn
import ember.nn.functional as F
import ember.onnx
import ember.vision.models as models
from ember._ops import _registry
from ember.onnx import _trace

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_onnx(data, feeds):
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    return sess.run(None, dict(zip(names, [np.asarray(f) for f in feeds])))


def expected(model, *inputs):
    with ember.no_grad():
        out = model(*inputs)
    return [o.numpy() for o in (out if isinstance(out, (tuple, list)) else (out,))]


def close(got, want, tol=1e-4):
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * max(1.0, float(np.abs(want).max())))


def roundtrip(model, *inputs, **kw):
    """Export ``model`` on ``inputs``, check the file and compare onnxruntime with ember; returns the model."""
    f = io.BytesIO()
    ember.onnx.export(model, inputs if len(inputs) != 1 else inputs[0], f, **kw)
    proto = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(proto)
    if isinstance(model, nn.Module):
        model.eval()
    got = run_onnx(f.getvalue(), [t.numpy() for t in inputs])
    for g, w in zip(got, expected(model, *inputs), strict=True):
        assert g.shape == w.shape
        close(g, w)
    return proto


def randomize_norm_stats(model):
    """Non-trivial running statistics and affine parameters, so eval-mode norms matter."""
    rng = np.random.default_rng(0)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(ember.tensor(rng.normal(0, 0.1, c), dtype=ember.float32))
            m.running_var.copy_(ember.tensor(rng.uniform(0.5, 1.5, c), dtype=ember.float32))
            with ember.no_grad():
                m.weight.copy_(ember.tensor(rng.uniform(0.5, 1.5, c), dtype=ember.float32))
                m.bias.copy_(ember.tensor(rng.normal(0, 0.1, c), dtype=ember.float32))
    return model


def op_types(proto):
    return [n.op_type for n in proto.graph.node]


# ---- models -----------------------------------------------------------------------------------------------
def test_mlp():
    ember.manual_seed(0)
    model = nn.Sequential(nn.Linear(10, 32), nn.ReLU(), nn.Linear(32, 16), nn.Tanh(), nn.Linear(16, 4),
                          nn.Sigmoid())
    proto = roundtrip(model, ember.randn(5, 10))
    assert op_types(proto) == ["Gemm", "Relu", "Gemm", "Tanh", "Gemm", "Sigmoid"]
    assert proto.opset_import[0].version == 17


def test_lenet_cnn():
    ember.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Dropout(0.5), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10), nn.LogSoftmax(dim=1))
    proto = roundtrip(model, ember.randn(3, 1, 28, 28))
    assert "Dropout" not in op_types(proto)
    assert {"Conv", "MaxPool", "AveragePool", "Reshape", "LogSoftmax"} <= set(op_types(proto))


class NormNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8 * 4 * 4, 12)
        self.bn1 = nn.BatchNorm1d(12)
        self.ln = nn.LayerNorm(12)
        self.gelu = nn.GELU()
        self.gelu_tanh = nn.GELU(approximate="tanh")
        self.head = nn.Linear(12, 5)

    def forward(self, x):
        x = self.bn(self.conv(x)).relu()
        x = self.fc(x.flatten(1))
        x = self.gelu(self.ln(self.bn1(x)))
        return F.softmax(self.head(self.gelu_tanh(x)), dim=-1)


@pytest.mark.parametrize("opset", [13, 17, 20])
def test_batchnorm_layernorm_gelu_softmax(opset):
    ember.manual_seed(0)
    model = randomize_norm_stats(NormNet())
    proto = roundtrip(model, ember.randn(4, 3, 4, 4), opset_version=opset)
    ops = set(op_types(proto))
    assert proto.opset_import[0].version == opset
    assert "BatchNormalization" in ops and "Softmax" in ops
    assert ("LayerNormalization" in ops) == (opset >= 17)
    assert ("Gelu" in ops) == (opset >= 20) and ("Erf" in ops) == (opset < 20)


class Functional(nn.Module):
    """forward written with functions, methods and operators rather than layers."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(ember.randn(6, 4))
        self.conv = nn.Conv2d(2, 3, 3)

    def forward(self, x, img):
        h = F.relu(x @ self.w.t() + 1.0)                     # (N, 6)
        f = ember.flatten(F.max_pool2d(self.conv(img), 2), 1)   # (N, 3)
        v = img.view(img.size(0), -1)[:, 1:4]                 # (N, 3)
        z = ember.cat([h, f, v], 1) * 0.5 - x.sum(1, keepdim=True) / 3
        z = (1 - z) ** 2 + ember.sqrt(z.abs() + 1).exp().log() - (-z)
        z = z.unsqueeze(1).transpose(1, 2).squeeze(-1)
        z = ember.clamp(F.leaky_relu(z, 0.2), -3, 3) + z.mean(0) + z.amax(1, keepdim=True)
        z = (z.double() * 2).float() / 2
        values, _ = z.max(dim=1)
        return z.sigmoid() * ember.tanh(z), values.unsqueeze(1) + z[:, ::2].sum(1, keepdim=True)


def test_functional_forward():
    ember.manual_seed(0)
    model = Functional()
    proto = roundtrip(model, ember.randn(3, 4), ember.randn(3, 2, 6, 6))
    assert [i.name for i in proto.graph.input] == ["x", "img"]
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1"]
    assert {"MatMul", "Concat", "Slice", "Squeeze", "Unsqueeze", "Clip", "Cast"} <= set(op_types(proto))
    # w.t() of a parameter is folded into a constant, as torch's constant folding does
    assert "Transpose" not in op_types(proto)[:2]


@pytest.mark.parametrize("name,size", [("alexnet", 64), ("resnet18", 32), ("mobilenet_v2", 32),
                                       ("squeezenet1_0", 48)])
def test_vision_models(name, size):
    ember.manual_seed(0)
    model = randomize_norm_stats(getattr(models, name)(num_classes=10))
    roundtrip(model, ember.randn(2, 3, size, size))


class Pools(nn.Module):
    def __init__(self):
        super().__init__()
        self.grouped = nn.Conv2d(4, 8, 3, stride=2, padding=2, dilation=2, groups=2)
        self.up = nn.ConvTranspose2d(8, 4, 3, stride=2, padding=1, output_padding=1)
        self.conv1d = nn.Conv1d(4, 2, 3, padding=1)

    def forward(self, x):
        y = self.up(self.grouped(x))                            # (N, 4, 10, 10)
        a = F.max_pool2d(y, 3, stride=2, padding=1, ceil_mode=True)
        b = F.avg_pool2d(y, 3, stride=2, padding=1, count_include_pad=False)
        c = F.adaptive_avg_pool2d(y, (3, 4)) + F.adaptive_max_pool2d(y, (5, 2)).mean()
        d = F.adaptive_avg_pool2d(y, 5).flatten(1) + F.adaptive_avg_pool2d(y, 1).flatten(1).sum(1, keepdim=True)
        e = self.conv1d(y.flatten(2))
        return a, b, c, d, e


def test_conv_and_pool_variants():
    ember.manual_seed(0)
    proto = roundtrip(Pools(), ember.randn(2, 4, 9, 9))
    ops = set(op_types(proto))
    assert {"ConvTranspose", "GlobalAveragePool", "MaxPool", "AveragePool", "MatMul"} <= ops


class Tokens(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.ln = nn.LayerNorm(8)
        self.fc = nn.Linear(8, 4)
        self.conv = nn.Conv1d(5, 4, 3, padding=1)
        self.gn = nn.GroupNorm(2, 4)

    def forward(self, idx):
        h = self.ln(self.emb(idx))                                  # (N, T, 8)
        g = F.avg_pool2d(self.gn(self.conv(h)).unsqueeze(-1), (2, 1), divisor_override=3).squeeze(-1)
        return self.fc(h).mean(1), g.index_select(1, ember.tensor([0, 2]))


@pytest.mark.parametrize("opset", [13, 17])
def test_embedding_layernorm_groupnorm_with_dynamic_batch(opset):
    ember.manual_seed(0)
    model = Tokens()
    idx = ember.randint(0, 20, (2, 5))
    f = io.BytesIO()
    ember.onnx.export(model, idx, f, opset_version=opset, input_names=["idx"],
                      dynamic_axes={"idx": {0: "n"}, "output_0": {0: "n"}, "output_1": {0: "n"}})
    onnx.checker.check_model(onnx.load_from_string(f.getvalue()))
    idx = ember.randint(0, 20, (3, 5))
    for got, want in zip(run_onnx(f.getvalue(), [idx.numpy()]), expected(model, idx), strict=True):
        close(got, want)


class MoreOps(nn.Module):
    def forward(self, x):
        a, b, c = x.chunk(3, dim=1)                             # (N, 2, 5) each
        p, q = x.split([4, 2], dim=1)
        m = ember.where(a > 0, a, b * 2) + (b <= c).float() - (a != b).float() + (a == a).float()
        padded = F.pad(p, (1, 2, 0, 1)) + F.pad(p, (1, 2, 0, 1), mode="replicate")
        r = F.pad(q, (2, 1), mode="reflect").repeat(1, 2, 1)
        return m, padded, r, x.var(1, keepdim=True) + x.std(), F.silu(x) + F.hardswish(x) + F.elu(x) + F.mish(x)


def test_comparisons_split_pad_repeat_var():
    ember.manual_seed(0)
    roundtrip(MoreOps(), ember.randn(2, 6, 5))


# ---- the export API ---------------------------------------------------------------------------------------
def test_dynamic_batch_and_names():
    ember.manual_seed(0)
    model = randomize_norm_stats(models.resnet18(num_classes=7)).eval()
    f = io.BytesIO()
    ember.onnx.export(model, ember.randn(1, 3, 32, 32), f, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    proto = onnx.load_from_string(f.getvalue())
    onnx.checker.check_model(proto)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [3, 32, 32]
    assert proto.graph.output[0].name == "logits"
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    x = ember.randn(5, 3, 32, 32)
    close(run_onnx(f.getvalue(), [x.numpy()])[0], expected(model, x)[0])


def test_dynamic_axes_as_list():
    model = nn.Sequential(nn.Linear(3, 2))
    f = io.BytesIO()
    ember.onnx.export(model, ember.randn(2, 3), f, input_names=["x"], dynamic_axes={"x": [0]})
    dim = onnx.load_from_string(f.getvalue()).graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_param == "x_dynamic_axes_1"
    assert run_onnx(f.getvalue(), [np.ones((6, 3), np.float32)])[0].shape == (6, 2)


def test_path_and_file_object_write_the_same_model(tmp_path):
    ember.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 2))
    x = ember.randn(1, 1, 4, 4)
    path = tmp_path / "m.onnx"
    ember.onnx.export(model, (x,), str(path))
    ember.onnx.export(model, (x,), tmp_path / "p.onnx")
    f = io.BytesIO()
    ember.onnx.export(model, (x,), f)
    assert path.read_bytes() == f.getvalue() == (tmp_path / "p.onnx").read_bytes()
    onnx.checker.check_model(str(path))


def test_initializers_are_the_state_dict():
    ember.manual_seed(0)
    model = randomize_norm_stats(nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                                               nn.Linear(16, 3)))
    proto = roundtrip(model, ember.randn(2, 2, 4, 4))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer
             if not t.name.startswith("onnx::")}          # the rest: constants such as Reshape's shape
    state = {k: v.numpy() for k, v in model.state_dict().items() if not k.endswith("num_batches_tracked")}
    assert set(inits) == set(state)
    for k, v in state.items():
        np.testing.assert_array_equal(inits[k], v)
    assert [i.name for i in proto.graph.input] == ["input"]


def test_export_params_false_and_initializers_as_inputs():
    model = nn.Sequential(nn.Linear(3, 2))
    f = io.BytesIO()
    ember.onnx.export(model, ember.randn(1, 3), f, export_params=False)
    proto = onnx.load_from_string(f.getvalue())
    assert [i.name for i in proto.graph.input] == ["input", "0.weight", "0.bias"] and not proto.graph.initializer
    f = io.BytesIO()
    ember.onnx.export(model, ember.randn(1, 3), f, keep_initializers_as_inputs=True)
    proto = onnx.load_from_string(f.getvalue())
    assert [i.name for i in proto.graph.input] == ["input", "0.weight", "0.bias"]
    assert [i.name for i in proto.graph.initializer] == ["0.weight", "0.bias"]


def test_training_mode_is_restored():
    model = nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model.train()
    model[2].eval()
    ember.onnx.export(model, ember.randn(3, 4), io.BytesIO())
    assert [m.training for m in model.modules()] == [True, True, True, False, True]
    assert model.training


def test_execution_untouched_after_export():
    originals = {n: getattr(_registry, n) for n in _trace.ENTRY_POINTS}
    model = Functional()
    ember.onnx.export(model, (ember.randn(2, 4), ember.randn(2, 2, 6, 6)), io.BytesIO())
    for name, mod in list(sys.modules.items()):
        if name.startswith("ember"):
            for entry, fn in originals.items():
                if entry in vars(mod):
                    assert vars(mod)[entry] is fn, f"{name}.{entry} was left wrapped"
    # a module first imported inside a recording is put back too
    import types
    late = types.ModuleType("ember._onnx_test_late_import")
    with _trace.recording(lambda *call: None):
        late.apply = _registry.apply
        sys.modules[late.__name__] = late
    del sys.modules[late.__name__]
    assert late.apply is originals["apply"]
    # a recording reports ops only inside its block
    seen = []
    a = ember.ones(2, 2)
    with _trace.recording(lambda op, *rest: seen.append(op.name)):
        (a + a).relu().sum()
    assert seen == ["add", "relu", "sum"]
    (a * a).exp()
    assert seen == ["add", "relu", "sum"]
    assert not ember.onnx.is_in_onnx_export()


class Sorts(nn.Module):
    def forward(self, x):
        return ember.cumsum(x.relu(), 1)


def test_unsupported_op_names_the_op_and_restores_execution():
    originals = {n: getattr(_registry, n) for n in _trace.ENTRY_POINTS}
    model = Sorts()
    model.train()
    with pytest.raises(RuntimeError, match="ember op 'cumsum' has no ONNX mapping"):
        ember.onnx.export(model, ember.randn(2, 3), io.BytesIO())
    assert {n: getattr(_registry, n) for n in _trace.ENTRY_POINTS} == originals
    assert model.training and not ember.onnx.is_in_onnx_export()


def test_unused_indices_of_max_pool_are_fine_used_ones_are_an_error():
    pool = nn.MaxPool2d(2, return_indices=True)

    class Uses(nn.Module):
        def forward(self, x):
            y, i = pool(x)
            return y + i.float()

    class Drops(nn.Module):
        def forward(self, x):
            return pool(x)[0]

    roundtrip(Drops(), ember.randn(1, 1, 4, 4))
    with pytest.raises(RuntimeError, match="indices returned by max pooling"):
        ember.onnx.export(Uses(), ember.randn(1, 1, 4, 4), io.BytesIO())


def test_bad_arguments():
    model = nn.Linear(2, 2)
    x = ember.randn(1, 2)
    with pytest.raises(ValueError, match="opset_version 13 to"):
        ember.onnx.export(model, x, io.BytesIO(), opset_version=9)
    with pytest.raises(ValueError, match="needs f"):
        ember.onnx.export(model, x)


def test_missing_onnx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install 'ember\[onnx\]'"):
        ember.onnx.export(nn.Linear(2, 2), ember.randn(1, 2), io.BytesIO())


def test_seed_tutorial_under_ember_run(tmp_path):
    """The tutorial's torch script, unchanged, run by ``python -m ember run``; its file runs in onnxruntime."""
    script = tmp_path / "export_alexnet.py"
    script.write_text(textwrap.dedent("""\
        import torch.onnx, torchvision
        dummy_input = torch.randn(1, 3, 224, 224)
        model = torchvision.models.alexnet()
        torch.onnx.export(model, dummy_input, "alexnet.onnx")

        import numpy as np
        np.save("input.npy", dummy_input.numpy())
        np.save("output.npy", model.eval()(dummy_input).detach().numpy())
        """))
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    subprocess.run([sys.executable, "-m", "ember", "run", str(script)], cwd=tmp_path, env=env, check=True)
    got = run_onnx(str(tmp_path / "alexnet.onnx"), [np.load(tmp_path / "input.npy")])[0]
    close(got, np.load(tmp_path / "output.npy"))
