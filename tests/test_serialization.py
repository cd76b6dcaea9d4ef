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

DTYPES = ["float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64", "complex128"]


def sample(dtype, shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    if dtype == "bool":
        return rng.random(shape) > 0.5
    if dtype.startswith("int") or dtype == "uint8":
        return rng.integers(0, 100, size=shape).astype(dtype)
    if dtype.startswith("complex"):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
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


def views(x):
    """A tensor and views of it: transposed, offset, the same object again."""
    return {"x": x, "t": x.t(), "v": x[1:, 1:], "same": x}


def check_views(d, shares_storage):
    assert d["same"] is d["x"]
    assert d["t"].stride() == (1, 4) and d["v"].stride() == (4, 1) and d["v"].storage_offset() == 5
    assert shares_storage(d["x"], d["t"]) and shares_storage(d["x"], d["v"])


@pytest.mark.parametrize("dtype", DTYPES)
def test_ember_to_torch_every_dtype(tmp_path, dtype):
    ember.save(views(et(dtype)), tmp_path / "x.pt")
    d = torch.load(tmp_path / "x.pt", weights_only=True)
    assert d["x"].dtype == getattr(torch, dtype)
    for k, v in views(et(dtype)).items():
        np.testing.assert_array_equal(as_np(d[k]), as_np(v))
    check_views(d, lambda a, b: a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr())


@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_to_ember_every_dtype(tmp_path, dtype):
    torch.save(views(tt(dtype)), tmp_path / "x.pt")
    d = ember.load(tmp_path / "x.pt")
    assert d["x"].dtype == getattr(ember, dtype)
    for k, v in views(tt(dtype)).items():
        np.testing.assert_array_equal(as_np(d[k]), as_np(v))
    check_views(d, lambda a, b: np.shares_memory(a.numpy(), b.numpy()))
    d["x"].zero_()
    assert not as_np(d["v"]).any()     # one storage: writes through the base show in the view


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


@pytest.mark.parametrize("protocol", [2, 3])
def test_python_values_torch_allows(tmp_path, protocol):
    """Sets, complex numbers, bytes, Counters and layouts: protocol-2 files name them as Python 2
    globals (``__builtin__.set``); weights-only loads accept them in both directions."""
    def values(lib):
        return {"set": {1, 2}, "complex": 1 + 2j, "bytes": b"ab", "layout": lib.strided,
                "counter": collections.Counter("aab"), "big": 2 ** 70}
    torch.save(values(torch), tmp_path / "t.pt", pickle_protocol=protocol)
    assert ember.load(tmp_path / "t.pt") == values(ember)
    ember.save(values(ember), tmp_path / "e.pt", pickle_protocol=protocol)
    if protocol == 2:     # torch's weights-only unpickler refuses bytes in protocol 3 files, even its own
        assert torch.load(tmp_path / "e.pt", weights_only=True) == values(torch)
    assert ember.load(tmp_path / "e.pt") == values(ember)


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


def test_expanded_and_reloaded_tensors_keep_their_storage(tmp_path):
    """Expanded tensors save their small storage with stride 0; a torch file loaded and saved again
    keeps one storage for its views (as torch does), instead of a copy per tensor."""
    e = ember.tensor([1.0, 2.0, 3.0]).reshape(3, 1).expand(3, 4)
    ember.save({"e": e}, tmp_path / "e.pt")
    t = torch.load(tmp_path / "e.pt", weights_only=True)["e"]
    te = torch.tensor([1.0, 2.0, 3.0]).reshape(3, 1).expand(3, 4)
    assert t.stride() == te.stride() == (1, 0) and t.untyped_storage().nbytes() == 12
    assert torch.equal(t, te)
    x = torch.arange(10.0)
    torch.save({"a": x, "b": x[2:8].view(2, 3), "c": x.view(2, 5).t()}, tmp_path / "t.pt")
    ember.save(ember.load(tmp_path / "t.pt"), tmp_path / "again.pt")
    with zipfile.ZipFile(tmp_path / "again.pt") as zf:
        assert [n for n in zf.namelist() if "/data/" in n] == ["again/data/0"]
    d = torch.load(tmp_path / "again.pt", weights_only=True)
    assert d["b"].storage_offset() == 2 and d["c"].stride() == (1, 5)
    d["a"].mul_(-1)
    assert d["b"].tolist() == [[-2.0, -3.0, -4.0], [-5.0, -6.0, -7.0]] and d["c"][4, 1].item() == -9.0


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


def test_large_records_checksummed_in_pieces(tmp_path):
    """Records above the split size are written and checksummed by two threads, CRCs combined."""
    x = ember.tensor(sample("float32", (1_000_003,)))
    ember.save({"x": x, "y": x[::3]}, tmp_path / "big.pt")
    with zipfile.ZipFile(tmp_path / "big.pt") as zf:
        assert zf.testzip() is None                 # every CRC-32 matches
    np.testing.assert_array_equal(torch.load(tmp_path / "big.pt", weights_only=True)["x"].numpy(), x.numpy())
    np.testing.assert_array_equal(ember.load(tmp_path / "big.pt")["y"].numpy(), x.numpy()[::3])


def test_write_error_keeps_old_file(tmp_path, monkeypatch):
    p = tmp_path / "ck.pt"
    ember.save({"ok": ember.ones(2)}, p)

    def disk_full(fd, data, offset):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "pwrite", disk_full)
    with pytest.raises(OSError, match="No space"):
        ember.save({"ok": ember.zeros(1_000_000)}, p)
    monkeypatch.undo()
    assert ember.load(p)["ok"].tolist() == [1.0, 1.0]
    assert os.listdir(tmp_path) == ["ck.pt"]


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


def test_map_location_callable_moves_storages(tmp_path, standin_cuda):
    """The usual callables: ``storage.cpu()``, ``storage.cuda(0)``, ``storage.cuda()``, ``storage.to(d)``."""
    torch.save({"w": torch.arange(3.0)}, tmp_path / "w.pt")
    for fn, dev in [(lambda s, loc: s.cpu(), "cpu"), (lambda s, loc: s.cuda(0), "cuda:0"),
                    (lambda s, loc: s.cuda(), "cuda:0"), (lambda s, loc: s.to("cuda:0").cpu(), "cpu")]:
        w = ember.load(tmp_path / "w.pt", map_location=fn)["w"]
        assert w.device == ember.device(dev) and w.tolist() == [0.0, 1.0, 2.0]
    assert torch.load(tmp_path / "w.pt", map_location=lambda s, loc: s.cpu())["w"].tolist() == [0.0, 1.0, 2.0]
    ember._backend.use_standin_cuda(False)
    with pytest.raises(RuntimeError, match="ember.cuda.is_available"):
        ember.load(tmp_path / "w.pt", map_location=lambda s, loc: s.cuda(0))


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


def call_global(target, marker):
    """Pickle opcodes that call ``target("touch marker")``, e.g. target ``os.system``."""
    mod, name = target.rsplit(".", 1)
    return f"c{mod}\n{name}\n".encode() + pickle.dumps(("touch " + str(marker),), protocol=2)[2:-1] + b"R"


@pytest.mark.parametrize("target", ["os.system", "posix.system", "builtins.eval", "builtins.exec",
                                    "subprocess.call", "subprocess.Popen"])
def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path, target):
    marker = tmp_path / "pwned"
    p = checkpoint_of(tmp_path / "evil.pt", b"\x80\x02" + call_global(target, marker) + b".")
    with pytest.raises(pickle.UnpicklingError, match=target.replace(".", r"\.")):
        ember.load(p)
    assert not marker.exists()


def checkpoint_of(path, obj_pickle, legacy=False):
    """A checkpoint whose object pickle is ``obj_pickle``: a zip as torch writes, or the legacy format."""
    if legacy:
        with open(path, "wb") as f:
            for header in (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001}):
                pickle.dump(header, f, protocol=2)
            f.write(obj_pickle)
            pickle.dump([], f, protocol=2)     # no storages
    else:
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("archive/data.pkl", obj_pickle)
            zf.writestr("archive/version", "3\n")
    return path


@pytest.mark.parametrize("where", ["dict value", "dict key", "list in tuple", "BUILD state", "persistent id",
                                   "STACK_GLOBAL", "INST", "NEWOBJ"])
@pytest.mark.parametrize("legacy", [False, True])
def test_refused_global_anywhere_in_the_pickle(tmp_path, where, legacy):
    marker = tmp_path / "pwned"
    call = call_global("os.system", marker)
    body = {
        "dict value": b"}X\x01\x00\x00\x00a" + call + b"s",
        "dict key": b"}" + call + b"K\x01s",
        "list in tuple": b"K\x01]" + call + b"a\x86",
        "BUILD state": b"ccollections\nOrderedDict\n)R}X\x01\x00\x00\x00a" + call + b"sb",
        "persistent id": b"(X\x07\x00\x00\x00storage" + call + b"X\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x01tQ",
        "STACK_GLOBAL": b"\x8c\x02os\x8c\x06system\x93" + pickle.dumps(("touch " + str(marker),), 4)[2:-1] + b"R",
        "INST": b"(" + pickle.dumps("touch " + str(marker), 2)[2:-1] + b"ios\nsystem\n",
        "NEWOBJ": b"cos\nsystem\n)\x81",
    }[where]
    p = checkpoint_of(tmp_path / "evil.pt", b"\x80\x02" + body + b".", legacy)
    with pytest.raises(pickle.UnpicklingError, match=r"GLOBAL os\.system was not an allowed global") as info:
        ember.load(p)
    assert os.fspath(p) in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize("target, state", [
    ("torch\nfloat32\n", b"N}X\x08\x00\x00\x00itemsizeK\x01s\x86"),                 # a dtype's slots
    ("torch\nSize\n", b"N}X\x08\x00\x00\x00__repr__cbuiltins\nset\ns\x86"),         # a class
    ("torch\nFloatStorage\n", b"}X\x05\x00\x00\x00dtypectorch\nfloat64\ns"),        # a storage type
    ("torch._utils\n_rebuild_tensor_v2\n", b"N}X\x0c\x00\x00\x00__defaults__)s\x86"),  # a function
])
@pytest.mark.parametrize("legacy", [False, True])
def test_build_cannot_alter_allowed_globals(tmp_path, target, state, legacy):
    """BUILD (set an object's state) applies only to OrderedDicts and add_safe_globals classes, so a
    weights-only file cannot rewrite ember's dtypes, torch.Size, storage types or rebuild functions."""
    payload = b"\x80\x02c" + target.encode() + state + b"b."
    p = checkpoint_of(tmp_path / "build.pt", payload, legacy)
    with pytest.raises(pickle.UnpicklingError, match="BUILD .* allowed only on OrderedDicts") as info:
        ember.load(p)
    assert os.fspath(p) in str(info.value)
    assert ember.float32.itemsize == 4 and repr(ember.Size([2])) == "torch.Size([2])"
    ember.save({"x": ember.ones(2)}, tmp_path / "ok.pt")
    assert ember.load(tmp_path / "ok.pt")["x"].tolist() == [1.0, 1.0]      # storage types unharmed
    with pytest.raises(pickle.UnpicklingError, match="Can only build"):
        torch.load(checkpoint_of(tmp_path / "t.pt", payload), weights_only=True)


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


# ---- bad input: every failure is a clear error naming the file, never a wrong tensor -----------
class _Pid:
    """A storage persistent id in a crafted pickle."""

    def __init__(self, *pid):
        self.pid = pid


class _Call:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def write_checkpoint(path, obj, records):
    """A zip checkpoint with a hand-made data.pkl (torch's globals) and raw storage records."""
    class P(pickle.Pickler):
        def persistent_id(self, o):
            return o.pid if isinstance(o, _Pid) else None
    buf = io.BytesIO()
    P(buf, protocol=2).dump(obj)
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("archive/data.pkl", buf.getvalue())
        for key, raw in records.items():
            zf.writestr(f"archive/data/{key}", raw)
        zf.writestr("archive/version", "3\n")


def rewrite(src, dst, edit):
    """Copy a zip checkpoint, passing each record's bytes through ``edit(name, data)`` (None drops it)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for i in zin.infolist():
            data = edit(i.filename, zin.read(i.filename))
            if data is not None:
                zout.writestr(i.filename, data)


def expect_error(path, match, exc=CheckpointError, **kw):
    with pytest.raises(exc, match=match) as info:
        ember.load(path, **kw)
    assert os.fspath(path) in str(info.value)


@pytest.fixture
def good(tmp_path):
    p = tmp_path / "good.pt"
    ember.save({"x": ember.arange(100.0), "y": ember.ones(3, dtype=ember.int64)}, p)
    return p


@pytest.mark.parametrize("keep", [0.5, 0.99, 100, 30])
def test_truncated_file(tmp_path, good, keep):
    raw = good.read_bytes()
    n = int(len(raw) * keep) if isinstance(keep, float) else keep
    (tmp_path / "trunc.pt").write_bytes(raw[:n])
    expect_error(tmp_path / "trunc.pt", "corrupted or truncated")


def flip_byte(src, dst, record, at):
    """Copy ``src`` with one byte of ``record``'s data inverted (the zip's CRC left as it was)."""
    raw = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(record)
    n, m = np.frombuffer(raw[info.header_offset + 26:info.header_offset + 30], "<u2")
    raw[info.header_offset + 30 + n + m + at] ^= 0xFF
    dst.write_bytes(bytes(raw))


def test_corrupted_storage_bytes_fail_the_crc_check(tmp_path, good):
    flip_byte(good, tmp_path / "flip.pt", "good/data/0", 123)
    expect_error(tmp_path / "flip.pt", r"'good/data/0' is corrupted \(CRC-32 mismatch\)")
    assert ember.load(tmp_path / "flip.pt", mmap=True)["x"].shape == (100,)   # mmap reads lazily: no check


def test_corrupted_pickle_record(tmp_path, good):
    flip_byte(good, tmp_path / "pkl.pt", "good/data.pkl", 5)
    expect_error(tmp_path / "pkl.pt", "corrupted checkpoint.*CRC")


def test_not_a_checkpoint(tmp_path):
    (tmp_path / "text.pt").write_text("hello")
    expect_error(tmp_path / "text.pt", "not an ember/PyTorch checkpoint")
    (tmp_path / "empty.pt").write_bytes(b"")
    expect_error(tmp_path / "empty.pt", "empty file")
    (tmp_path / "pickle.pt").write_bytes(pickle.dumps({"a": 1}, protocol=2))
    expect_error(tmp_path / "pickle.pt", "not an ember/PyTorch checkpoint")
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("readme.txt", "not a model")
    expect_error(tmp_path / "other.zip", "without a data.pkl record")
    with pytest.raises(FileNotFoundError):
        ember.load(tmp_path / "missing.pt")


def _zip_field(path, record, field):
    """Where ``field`` ("flags", "method", "version") of ``record``'s central directory entry is."""
    raw = path.read_bytes()
    name = record.encode()
    at = raw.index(b"PK\x01\x02")
    while raw[at + 46:at + 46 + len(name)] != name:
        at = raw.index(b"PK\x01\x02", at + 4)
    return at + {"version": 6, "flags": 8, "method": 10}[field]


@pytest.mark.parametrize("edit", ["encrypted", "method", "version", "directory offset"])
def test_corrupted_zip_structure(tmp_path, good, edit):
    """Damage zipfile itself trips on (flags, methods, versions, offsets): still a CheckpointError."""
    raw = bytearray(good.read_bytes())
    if edit == "encrypted":
        raw[_zip_field(good, "good/data.pkl", "flags")] |= 0x1
    elif edit == "method":
        raw[_zip_field(good, "good/data/0", "method")] = 99
    elif edit == "version":
        raw[_zip_field(good, "good/data.pkl", "version")] = 0xFF
    else:
        raw[-6] ^= 0xFF         # the end record's central-directory offset
    (tmp_path / "bad.pt").write_bytes(bytes(raw))
    expect_error(tmp_path / "bad.pt", "corrupted")


def test_zip_missing_records(tmp_path, good):
    rewrite(good, tmp_path / "nopkl.pt", lambda n, d: None if n.endswith("data.pkl") else d)
    expect_error(tmp_path / "nopkl.pt", "without a data.pkl record")
    rewrite(good, tmp_path / "norec.pt", lambda n, d: None if n.endswith("data/1") else d)
    expect_error(tmp_path / "norec.pt", "missing record 'good/data/1'")


def test_storage_shorter_than_its_tensor(tmp_path, good):
    rewrite(good, tmp_path / "short.pt", lambda n, d: d[:40] if n.endswith("data/0") else d)
    expect_error(tmp_path / "short.pt", "storage '0' has 40 bytes but its tensors need 400")
    # a consistent storage, but the tensor's size/stride/offset reach past its end
    rebuild = torch._utils._rebuild_tensor_v2
    for args in [(5, (8,), (1,)), (0, (3, 4), (5, 1)), (-1, (2,), (1,))]:
        obj = _Call(rebuild, _Pid("storage", torch.FloatStorage, "0", "cpu", 10), *args, False,
                    collections.OrderedDict())
        write_checkpoint(tmp_path / "ext.pt", obj, {"0": np.zeros(10, np.float32).tobytes()})
        expect_error(tmp_path / "ext.pt", "storage holds only 10")


def test_unknown_storage_type_and_dtype(tmp_path, good):
    rewrite(good, tmp_path / "unk.pt",
            lambda n, d: d.replace(b"FloatStorage", b"QuirkStorage") if n.endswith("data.pkl") else d)
    expect_error(tmp_path / "unk.pt", "unsupported storage type torch.QuirkStorage")
    for dt in [torch.uint16, torch.float8_e4m3fn]:
        torch.save({"x": torch.zeros(3, dtype=dt)}, tmp_path / "dt.pt")
        expect_error(tmp_path / "dt.pt", f"dtype {dt} are not supported")
        expect_error(tmp_path / "dt.pt", f"dtype {dt} are not supported", weights_only=False)
    obj = _Call(torch._utils._rebuild_tensor_v2, _Pid("storage", torch.FloatStorage, "0", "cpu", 2), 0,
                (2,), (1,), False, collections.OrderedDict())
    buf = io.BytesIO()

    class P(pickle.Pickler):
        def persistent_id(self, o):
            return o.pid if isinstance(o, _Pid) else None
    P(buf, protocol=2).dump(obj)
    with zipfile.ZipFile(tmp_path / "bad.pt", "w") as zf:
        zf.writestr("archive/data.pkl", buf.getvalue().replace(b"FloatStorage", b"QInt8Storage"))
        zf.writestr("archive/data/0", b"\0" * 8)
    expect_error(tmp_path / "bad.pt", "unsupported storage type torch.QInt8Storage")


def test_rebuild_tensor_v3(tmp_path):
    """torch writes _rebuild_tensor_v3 (untyped storage + dtype) for dtypes without typed storages."""
    storage = _Pid("storage", torch.storage.UntypedStorage, "0", "cpu", 24)
    obj = _Call(torch._utils._rebuild_tensor_v3, storage, 1, (2, 2), (1, 2), False,
                collections.OrderedDict(), torch.float32)
    write_checkpoint(tmp_path / "v3.pt", obj, {"0": np.arange(6, dtype=np.float32).tobytes()})
    expected = torch.load(tmp_path / "v3.pt", weights_only=True)
    got = ember.load(tmp_path / "v3.pt")
    assert got.dtype == ember.float32 and got.stride() == expected.stride() and got.storage_offset() == 1
    np.testing.assert_array_equal(got.numpy(), expected.numpy())
    obj.args = obj.args[:-1] + (torch.float64,)
    write_checkpoint(tmp_path / "odd.pt", obj, {"0": b"\0" * 20})
    expect_error(tmp_path / "odd.pt", "cannot hold torch.float64")


def test_legacy_format_errors(tmp_path):
    torch.save({"x": torch.arange(6.0)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    raw = (tmp_path / "old.pt").read_bytes()
    (tmp_path / "old_trunc.pt").write_bytes(raw[:-8])
    expect_error(tmp_path / "old_trunc.pt", "truncated legacy checkpoint")
    (tmp_path / "old_head.pt").write_bytes(raw[:20])
    expect_error(tmp_path / "old_head.pt", "corrupted legacy checkpoint")
    with pytest.raises(RuntimeError, match="zipfile format"):
        ember.load(tmp_path / "old.pt", mmap=True)


def test_legacy_corrupted_sizes_and_devices(tmp_path):
    torch.save({"x": torch.arange(6.0)}, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    raw = (tmp_path / "old.pt").read_bytes()
    at = len(raw) - 6 * 4 - 8                       # the storage's element count precedes its bytes
    assert int.from_bytes(raw[at:at + 8], "little") == 6
    (tmp_path / "huge.pt").write_bytes(raw[:at] + (1 << 50).to_bytes(8, "little") + raw[at + 8:])
    expect_error(tmp_path / "huge.pt", r"storage \d+ has 1125899906842624 elements of 4 bytes, 24 bytes are left")
    (tmp_path / "dev.pt").write_bytes(raw.replace(b"X\x03\x00\x00\x00cpu", b"X\x03\x00\x00\x00xyz"))
    expect_error(tmp_path / "dev.pt", "tagged with the unknown device 'xyz'.*map_location='cpu'")
    assert ember.load(tmp_path / "dev.pt", map_location="cpu")["x"].tolist() == [0, 1, 2, 3, 4, 5]


def test_refused_global_names_the_file(tmp_path):
    write_checkpoint(tmp_path / "evil.pt", _Call(os.getcwd), {})
    expect_error(tmp_path / "evil.pt", "Unsupported global: GLOBAL posix.getcwd", pickle.UnpicklingError)


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


def test_safetensors_complex_and_bad_arguments(tmp_path):
    import safetensors.torch as safetensors_torch
    c = ember.tensor(sample("complex64", (2, 3)))
    st.save_file({"c": c}, tmp_path / "c.safetensors")
    np.testing.assert_array_equal(safetensors_torch.load_file(tmp_path / "c.safetensors")["c"].numpy(), c.numpy())
    safetensors_torch.save_file({"c": tt("complex64")}, tmp_path / "tc.safetensors")
    np.testing.assert_array_equal(st.load_file(tmp_path / "tc.safetensors")["c"].numpy(), sample("complex64"))
    with pytest.raises(ValueError, match="no code for torch.complex128 .tensor 'c'"):
        st.save_file({"c": et("complex128")}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="names must be str, got int 1"):
        st.save_file({1: et("float32")}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="Expected a dict"):
        st.save_file([et("float32")], tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


def test_safetensors_bad_headers(tmp_path):
    import json
    import struct

    def blob(header, data=b""):
        h = json.dumps(header).encode()
        return struct.pack("<Q", len(h)) + h + data
    with pytest.raises(ValueError, match="not a JSON object"):
        st.load(blob([1, 2]))
    with pytest.raises(ValueError, match="invalid safetensors entry for tensor 'w'"):
        st.load(blob({"w": {"dtype": "F32", "shape": [2]}}, b"\0" * 8))
    with pytest.raises(ValueError, match="invalid safetensors entry"):
        st.load(blob({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8))
    with pytest.raises(ValueError, match="unsupported dtype 'F8_E4M3'"):
        st.load(blob({"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}, b"\0" * 2))
    (tmp_path / "t.safetensors").write_bytes(b"\1\0")
    with pytest.raises(ValueError, match="t.safetensors: too short"):
        st.load_file(tmp_path / "t.safetensors")


def test_safetensors_matches_reference_package_if_installed(tmp_path):
    import safetensors.torch as safetensors_torch
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


def test_hub_download_progress_and_errors(tmp_path, http_dir, capfd):
    import urllib.error
    root, url = http_dir
    (root / "w.bin").write_bytes(os.urandom(300_000))
    ember.hub.download_url_to_file(f"{url}/w.bin", str(tmp_path / "d" / "w.bin"), progress=True)
    assert (tmp_path / "d" / "w.bin").read_bytes() == (root / "w.bin").read_bytes()
    assert "100%" in capfd.readouterr().err
    ember.hub.download_url_to_file(f"{url}/w.bin", str(tmp_path / "q.bin"), progress=False)
    assert capfd.readouterr().err == ""
    with pytest.raises(urllib.error.HTTPError) as info:
        ember.hub.load_state_dict_from_url(f"{url}/missing-abcd.pt", model_dir=str(tmp_path / "c"), progress=False)
    assert info.value.code == 404
    assert os.listdir(tmp_path / "c") == []          # no partial file left in the cache


def test_hub_legacy_zipped_checkpoint(tmp_path, http_dir, capsys):
    """Pre-1.6 hub files: a zip holding one legacy-format checkpoint, extracted into the cache."""
    root, url = http_dir
    torch.save({"w": torch.arange(3.0)}, tmp_path / "old.pth", _use_new_zipfile_serialization=False)
    with zipfile.ZipFile(root / "old.zip", "w") as zf:
        zf.write(tmp_path / "old.pth", "old.pth")
    cache = tmp_path / "cache"
    sd = ember.hub.load_state_dict_from_url(f"{url}/old.zip", model_dir=str(cache), progress=False)
    assert sd["w"].tolist() == [0.0, 1.0, 2.0] and sorted(os.listdir(cache)) == ["old.pth", "old.zip"]
    assert f'Downloading: "{url}/old.zip"' in capsys.readouterr().out      # on stdout, as torch.hub


def test_hub_local_hubconf(tmp_path):
    (tmp_path / "hubconf.py").write_text("def tiny(scale=1):\n    '''doc'''\n    return scale * 2\n")
    assert ember.hub.list(str(tmp_path)) == ["tiny"]
    assert ember.hub.load(str(tmp_path), "tiny", scale=3) == 6
    assert ember.hub.help(str(tmp_path), "tiny") == "doc"


def test_cuda_checkpoint_from_torch(tmp_path, standin_cuda):
    """A torch file whose storages are tagged 'cuda:0' (as saved on a GPU machine)."""
    torch.save({"w": torch.arange(4.0), "n": torch.tensor(3)}, tmp_path / "cpu.pt")
    tag = b"X\x03\x00\x00\x00cpu"
    assert tag in zipfile.ZipFile(tmp_path / "cpu.pt").read("cpu/data.pkl")
    rewrite(tmp_path / "cpu.pt", tmp_path / "cuda.pt",
            lambda n, d: d.replace(tag, b"X\x06\x00\x00\x00cuda:0") if n.endswith("data.pkl") else d)
    with pytest.raises(RuntimeError, match="torch.cuda.is_available\\(\\) is False"):
        torch.load(tmp_path / "cuda.pt", weights_only=True)
    assert ember.load(tmp_path / "cuda.pt")["w"].device == ember.device("cuda:0")
    ember._backend.use_standin_cuda(False)
    with pytest.raises(RuntimeError, match=r"ember.cuda.is_available\(\) is False.*map_location"):
        ember.load(tmp_path / "cuda.pt")
    for loc in ["cpu", ember.device("cpu"), {"cuda:0": "cpu"}, lambda storage, location: storage]:
        d = ember.load(tmp_path / "cuda.pt", map_location=loc)
        assert d["w"].device.type == "cpu" and d["w"].tolist() == [0.0, 1.0, 2.0, 3.0] and d["n"].item() == 3


def test_hub_loads_weights_only_by_default_unlike_torch(tmp_path, http_dir):
    """ember keeps the hub safe by default (torch 2.13's load_state_dict_from_url defaults to weights_only=False):
    a checkpoint naming a global outside the allow-list is refused unless weights_only=False is passed."""
    import datetime
    import inspect
    import pickle
    root, url = http_dir
    torch.save({"when": datetime.date(2020, 1, 2)}, root / "dated.pt")
    assert inspect.signature(torch.hub.load_state_dict_from_url).parameters["weights_only"].default is False
    assert inspect.signature(ember.hub.load_state_dict_from_url).parameters["weights_only"].default is True
    with pytest.raises(pickle.UnpicklingError, match="datetime.date"):
        ember.hub.load_state_dict_from_url(f"{url}/dated.pt", model_dir=str(tmp_path / "c1"), progress=False)
    sd = ember.hub.load_state_dict_from_url(f"{url}/dated.pt", model_dir=str(tmp_path / "c2"), progress=False,
                                            weights_only=False)
    assert sd == {"when": datetime.date(2020, 1, 2)}
