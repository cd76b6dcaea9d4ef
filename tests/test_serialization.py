"""ember.save/load: round trips, torch interop both ways, safety, bad files, mmap, safetensors, hub."""
import collections
import functools
import http.server
import io
import os
import pickle
import threading
import zipfile

import numpy as np
import pytest
import torch

import ember
from ember.serialization import CheckpointError
from ember.utils import safetensors as st

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"]


def sample(dtype, shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("int") or dtype == "uint8":
        return rng.integers(0, 100, size=shape).astype(dtype)
    a = rng.standard_normal(shape).astype(np.float32)
    return a if dtype != "float64" else a.astype(np.float64)


def et(dtype, shape=(3, 4)):
    return ember.tensor(sample(dtype, shape)).to(getattr(ember, dtype))


def tt(dtype, shape=(3, 4)):
    return torch.tensor(sample(dtype, shape)).to(getattr(torch, dtype))


def as_np(t):
    if isinstance(t, torch.Tensor):
        return t.detach().float().numpy() if t.dtype == torch.bfloat16 else t.detach().numpy()
    return t.detach().float().numpy() if t.dtype == ember.bfloat16 else t.detach().numpy()


@pytest.mark.parametrize("dtype", DTYPES)
def test_roundtrip_every_dtype(tmp_path, dtype):
    x = et(dtype)
    ember.save(x, tmp_path / "x.pt")
    y = ember.load(tmp_path / "x.pt")
    assert y.dtype == x.dtype and y.shape == x.shape
    np.testing.assert_array_equal(as_np(y), as_np(x))


@pytest.mark.parametrize("dtype", DTYPES)
def test_ember_to_torch_every_dtype(tmp_path, dtype):
    ember.save({"x": et(dtype), "t": et(dtype).t()}, tmp_path / "x.pt")
    d = torch.load(tmp_path / "x.pt", weights_only=True)
    assert d["x"].dtype == getattr(torch, dtype)
    np.testing.assert_array_equal(as_np(d["x"]), as_np(et(dtype)))
    assert d["t"].stride() == (1, 4)
    np.testing.assert_array_equal(as_np(d["t"]), as_np(et(dtype)).T)


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_to_ember_every_dtype(tmp_path, dtype):
    torch.save({"x": tt(dtype), "t": tt(dtype).t()}, tmp_path / "x.pt")
    d = ember.load(tmp_path / "x.pt")
    assert d["x"].dtype == getattr(ember, dtype)
    np.testing.assert_array_equal(as_np(d["x"]), as_np(tt(dtype)))
    assert d["t"].stride() == (1, 4)


def test_containers_and_python_values(tmp_path):
    obj = collections.OrderedDict(a=[1, 2.5, "s", None, True], b=(ember.ones(2), {"k": ember.zeros(1)}),
                                  dt=ember.bfloat16, dev=ember.device("cpu"), size=ember.Size([2, 3]))
    obj._metadata = collections.OrderedDict({"": {"version": 1}})
    ember.save(obj, tmp_path / "o.pt")
    back = ember.load(tmp_path / "o.pt")
    assert type(back) is collections.OrderedDict and back._metadata == obj._metadata
    assert back["a"] == [1, 2.5, "s", None, True]
    assert back["dt"] is ember.bfloat16 and back["dev"] == ember.device("cpu")
    assert back["size"] == ember.Size([2, 3]) and type(back["size"]) is ember.Size
    t = torch.load(tmp_path / "o.pt", weights_only=True)
    assert t["dt"] is torch.bfloat16 and t["size"] == torch.Size([2, 3])
    assert t._metadata == obj._metadata


def test_shared_storage_and_views_both_ways(tmp_path):
    base = ember.tensor(np.arange(12, dtype=np.float32))
    ember.save({"base": base, "view": base.reshape(3, 4), "same": base}, tmp_path / "s.pt")
    d = torch.load(tmp_path / "s.pt", weights_only=True)
    assert d["base"].untyped_storage().data_ptr() == d["view"].untyped_storage().data_ptr()
    assert d["same"] is d["base"]
    e = ember.load(tmp_path / "s.pt")
    e["view"].mul_(0)
    assert float(e["base"].sum()) == 0.0  # still one storage after loading
    tb = torch.arange(10.0)
    torch.save({"a": tb, "b": tb[2:8].view(2, 3)}, tmp_path / "t.pt")
    f = ember.load(tmp_path / "t.pt")
    assert f["b"].storage_offset() == 2
    f["a"].add_(1)
    np.testing.assert_array_equal(f["b"].numpy(), (np.arange(2, 8) + 1).reshape(2, 3))


def test_requires_grad_roundtrip(tmp_path):
    x = ember.ones(2, requires_grad=True)
    ember.save(x, tmp_path / "g.pt")
    assert ember.load(tmp_path / "g.pt").requires_grad
    assert torch.load(tmp_path / "g.pt", weights_only=True).requires_grad


def test_file_objects(tmp_path):
    buf = io.BytesIO()
    ember.save({"w": ember.ones(3)}, buf)
    buf.seek(0)
    assert ember.load(buf)["w"].tolist() == [1.0, 1.0, 1.0]
    buf.seek(0)
    assert torch.load(buf, weights_only=True)["w"].tolist() == [1.0, 1.0, 1.0]


def test_atomic_save_keeps_old_file_on_failure(tmp_path):
    p = tmp_path / "ck.pt"
    ember.save({"ok": ember.ones(2)}, p)

    class Boom:
        def __reduce__(self):
            raise RuntimeError("boom mid-save")
    with pytest.raises(RuntimeError, match="boom"):
        ember.save({"ok": ember.ones(2), "bad": Boom()}, p)
    assert ember.load(p)["ok"].tolist() == [1.0, 1.0]
    assert [f for f in os.listdir(tmp_path) if f != "ck.pt"] == []


def test_data_records_are_aligned(tmp_path):
    ember.save({"a": ember.ones(3), "b": ember.ones(5, dtype=ember.float64)}, tmp_path / "a.pt")
    with zipfile.ZipFile(tmp_path / "a.pt") as zf, open(tmp_path / "a.pt", "rb") as fh:
        for info in zf.infolist():
            if "/data/" in info.filename:
                fh.seek(info.header_offset + 26)
                n, m = np.frombuffer(fh.read(4), "<u2")
                assert (info.header_offset + 30 + n + m) % 64 == 0


def test_map_location_forms(tmp_path, standin_cuda):
    ember.save({"x": ember.ones(2).cuda()}, tmp_path / "c.pt")
    assert ember.load(tmp_path / "c.pt")["x"].device.type == "cuda"
    assert ember.load(tmp_path / "c.pt", map_location="cpu")["x"].device.type == "cpu"
    assert ember.load(tmp_path / "c.pt", map_location=ember.device("cpu"))["x"].device.type == "cpu"
    assert ember.load(tmp_path / "c.pt", map_location={"cuda:0": "cpu"})["x"].device.type == "cpu"
    assert ember.load(tmp_path / "c.pt", map_location=lambda s, loc: s)["x"].device.type == "cpu"
    t = torch.load(tmp_path / "c.pt", weights_only=True, map_location="cpu")
    assert t["x"].tolist() == [1.0, 1.0]


def test_cuda_checkpoint_without_cuda_needs_map_location(tmp_path, standin_cuda):
    ember.save({"x": ember.ones(2).cuda()}, tmp_path / "c.pt")
    ember._backend.use_standin_cuda(False)
    with pytest.raises(RuntimeError, match="map_location"):
        ember.load(tmp_path / "c.pt")
    assert ember.load(tmp_path / "c.pt", map_location="cpu")["x"].device.type == "cpu"


def test_mmap_load(tmp_path):
    x = ember.tensor(sample("float32", (64, 64)))
    ember.save({"x": x}, tmp_path / "m.pt")
    y = ember.load(tmp_path / "m.pt", mmap=True)["x"]
    assert isinstance(y.numpy().base, np.memmap) or isinstance(y.numpy(), np.memmap) or \
        any(isinstance(b, np.memmap) for b in _bases(y.numpy()))
    np.testing.assert_array_equal(y.numpy(), x.numpy())
    torch.save({"x": torch.ones(5)}, tmp_path / "tm.pt")
    assert ember.load(tmp_path / "tm.pt", mmap=True)["x"].tolist() == [1.0] * 5


def _bases(a):
    while a is not None:
        yield a
        a = getattr(a, "base", None)


def test_legacy_format_from_torch(tmp_path):
    torch.save({"x": torch.arange(6.0).reshape(2, 3), "l": [torch.ones(2, dtype=torch.int64)]},
               tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    d = ember.load(tmp_path / "old.pt")
    assert d["x"].tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert d["l"][0].dtype == ember.int64


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > " + _Evil.marker,))


@pytest.mark.parametrize("target", ["os.system", "builtins.eval", "builtins.exec", "subprocess.call"])
def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path, target):
    marker = tmp_path / "pwned"
    mod, name = target.rsplit(".", 1)
    payload = (b"\x80\x02c" + mod.encode() + b"\n" + name.encode() + b"\n" +
               pickle.dumps(("touch " + str(marker),), protocol=2)[2:-1] + b"R.")
    p = tmp_path / "evil.pt"
    with zipfile.ZipFile(p, "w") as zf:
        zf.writestr("archive/data.pkl", payload)
        zf.writestr("archive/version", "3\n")
    with pytest.raises(pickle.UnpicklingError, match=target.replace(".", r"\.")):
        ember.load(p)
    assert not marker.exists()


def test_weights_only_false_and_safe_globals(tmp_path):
    import fractions
    ember.save({"f": fractions.Fraction(1, 3)}, tmp_path / "f.pt")
    with pytest.raises(pickle.UnpicklingError, match="fractions.Fraction"):
        ember.load(tmp_path / "f.pt")
    assert ember.load(tmp_path / "f.pt", weights_only=False)["f"] == fractions.Fraction(1, 3)
    ember.serialization.add_safe_globals([fractions.Fraction])
    try:
        assert ember.load(tmp_path / "f.pt")["f"] == fractions.Fraction(1, 3)
    finally:
        ember.serialization.clear_safe_globals()


def test_bad_files(tmp_path):
    good = tmp_path / "good.pt"
    ember.save({"x": ember.ones(100)}, good)
    raw = good.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match="trunc.pt"):
        ember.load(tmp_path / "trunc.pt")
    (tmp_path / "text.pt").write_text("hello")
    with pytest.raises(CheckpointError, match="not an ember/PyTorch checkpoint"):
        ember.load(tmp_path / "text.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="empty"):
        ember.load(tmp_path / "empty.pt")
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "missing.pt")
    # a zip whose storage record is missing
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(tmp_path / "norec.pt", "w") as zout:
        for i in zin.infolist():
            if "/data/" not in i.filename:
                zout.writestr(i.filename, zin.read(i.filename))
    with pytest.raises(CheckpointError, match="missing record"):
        ember.load(tmp_path / "norec.pt")
    # a storage shorter than its tensor
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(tmp_path / "short.pt", "w") as zout:
        for i in zin.infolist():
            data = zin.read(i.filename)
            zout.writestr(i.filename, data[:40] if "/data/" in i.filename else data)
    with pytest.raises(CheckpointError, match="bytes"):
        ember.load(tmp_path / "short.pt")
    # an unknown storage type
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(tmp_path / "unk.pt", "w") as zout:
        for i in zin.infolist():
            data = zin.read(i.filename)
            if i.filename.endswith("data.pkl"):
                data = data.replace(b"FloatStorage", b"QuirkStorage")
            zout.writestr(i.filename, data)
    with pytest.raises(pickle.UnpicklingError, match="QuirkStorage"):
        ember.load(tmp_path / "unk.pt")


def test_safetensors_roundtrip_and_format(tmp_path):
    tensors = {"w": et("float32"), "b": et("bfloat16", (3,)), "i": et("int64", (2,)), "m": et("bool", (2, 2))}
    st.save_file(tensors, tmp_path / "m.safetensors", metadata={"format": "pt"})
    back = st.load_file(tmp_path / "m.safetensors")
    for k, v in tensors.items():
        assert back[k].dtype == v.dtype
        np.testing.assert_array_equal(as_np(back[k]), as_np(v))
    assert st.load_metadata(tmp_path / "m.safetensors") == {"format": "pt"}
    raw = (tmp_path / "m.safetensors").read_bytes()
    n = int.from_bytes(raw[:8], "little")
    with pytest.raises(ValueError, match="needs"):
        st.load(raw[: 8 + n + 10])


def test_safetensors_matches_reference_package_if_installed(tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    st.save_file({"a": et("float32")}, tmp_path / "a.safetensors")
    assert torch.equal(safetensors_torch.load_file(tmp_path / "a.safetensors")["a"], tt("float32"))


@pytest.fixture
def http_dir(tmp_path):
    root = tmp_path / "srv"
    root.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(root))
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    yield root, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a):
        pass


def test_hub_load_state_dict_from_url(tmp_path, http_dir):
    import hashlib
    root, url = http_dir
    torch.save({"w": torch.arange(4.0)}, root / "tmp.pt")
    digest = hashlib.sha256((root / "tmp.pt").read_bytes()).hexdigest()
    name = f"model-{digest[:8]}.pt"
    (root / "tmp.pt").rename(root / name)
    cache = tmp_path / "cache"
    sd = ember.hub.load_state_dict_from_url(f"{url}/{name}", model_dir=str(cache), check_hash=True,
                                            progress=False)
    assert sd["w"].tolist() == [0.0, 1.0, 2.0, 3.0]
    (root / name).unlink()  # now served from the cache
    assert ember.hub.load_state_dict_from_url(f"{url}/{name}", model_dir=str(cache))["w"].numel() == 4
    (root / "bad-deadbeef.pt").write_bytes(b"x")
    with pytest.raises(RuntimeError, match="invalid hash value"):
        ember.hub.load_state_dict_from_url(f"{url}/bad-deadbeef.pt", model_dir=str(cache), check_hash=True,
                                           progress=False)
    assert not (cache / "bad-deadbeef.pt").exists()
    import urllib.error
    with pytest.raises(urllib.error.HTTPError):
        ember.hub.download_url_to_file(f"{url}/nope.pt", str(tmp_path / "n.pt"), progress=False)


def test_hub_local_hubconf(tmp_path):
    (tmp_path / "hubconf.py").write_text("def tiny(scale=1):\n    '''doc'''\n    return scale * 2\n")
    assert ember.hub.list(str(tmp_path)) == ["tiny"]
    assert ember.hub.load(str(tmp_path), "tiny", scale=3) == 6
    assert ember.hub.help(str(tmp_path), "tiny") == "doc"
