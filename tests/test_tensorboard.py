"""ember.utils.tensorboard writes event files TensorBoard reads, with the same contents torch's SummaryWriter writes.

Each comparison makes the same calls on both writers into two directories and decodes both with TensorBoard's
own reader (``EventAccumulator``).
"""
import io
import os
import re
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import torch
from PIL import Image
from tensorboard.backend.event_processing import event_accumulator as ea
from tensorboard.backend.event_processing.event_file_loader import (
    EventFileLoader,
    RawEventFileLoader,
)
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub import pywrap_tensorflow as tb_stub
from tensorboard.plugins.hparams import plugin_data_pb2
from torch.utils.tensorboard import SummaryWriter as TorchWriter

import ember
from ember.utils.tensorboard import SummaryWriter
from ember.utils.tensorboard._record import crc32c, masked_crc32c

FAR = 3600   # flush_secs that never fires during a test


def event_files(d):
    return sorted(f for f in os.listdir(d) if f.startswith("events.out.tfevents."))


def events(d):
    """Every event on disk in d's (single) event file, decoded by TensorBoard's loader."""
    (name,) = event_files(d)
    return list(EventFileLoader(os.path.join(d, name)).Load())


def raw_events(d):
    """Every event in d's event file as written (``events`` turns some into summaries, as TensorBoard reads them)."""
    (name,) = event_files(d)
    return [event_pb2.Event.FromString(r) for r in RawEventFileLoader(os.path.join(d, name)).Load()]


def accumulate(d):
    acc = ea.EventAccumulator(str(d), size_guidance={ea.SCALARS: 0, ea.HISTOGRAMS: 0, ea.IMAGES: 0, ea.TENSORS: 0})
    return acc.Reload()


def both(tmp_path, calls):
    """Run calls(writer, lib) with ember's and torch's writers; their accumulators (ember first)."""
    out = []
    for name, writer, lib in (("ember", SummaryWriter, ember), ("torch", TorchWriter, torch)):
        with writer(str(tmp_path / name), flush_secs=FAR) as w:
            calls(w, lib)
        out.append(accumulate(tmp_path / name))
    return out


# ---- the record format ------------------------------------------------------------------------------

def test_crc32c_known_vectors():
    assert crc32c(b"") == 0
    assert crc32c(b"123456789") == 0xE3069283                      # the CRC catalogue's check value
    assert crc32c(bytes(32)) == 0x8A9136AA                         # RFC 3720, B.4
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(bytes(range(31, -1, -1))) == 0x113FDB5C
    assert crc32c(b"6789", crc32c(b"12345")) == 0xE3069283         # continues from a previous CRC
    for data in (b"", b"a", bytes(range(256)) * 3):
        assert masked_crc32c(data) == tb_stub.masked_crc32c(data)


def test_crc32c_of_long_inputs():
    """Inputs of 32 KiB and more take the NumPy lane path; it agrees with a byte-at-a-time CRC32C."""
    data = np.random.default_rng(2).integers(0, 256, 32 * 1024 * 3 + 1000, dtype=np.uint8).tobytes()
    for piece in (data[:32 * 1024], data[:32 * 1024 + 5], data):
        assert crc32c(piece) == tb_stub.crc32c(piece)
    assert crc32c(data[40_000:], crc32c(data[:40_000])) == tb_stub.crc32c(data)


def test_event_file_name_and_header(tmp_path):
    before = int(time.time())
    w1 = SummaryWriter(str(tmp_path / "a"), filename_suffix=".sfx", flush_secs=FAR)
    w2 = SummaryWriter(str(tmp_path / "b"), flush_secs=FAR)
    after = int(time.time())
    pattern = rf"events\.out\.tfevents\.(\d{{10}})\.{re.escape(socket.gethostname())}\.{os.getpid()}\.(\d+)(.*)$"
    (n1,), (n2,) = event_files(tmp_path / "a"), event_files(tmp_path / "b")
    m1, m2 = re.match(pattern, n1), re.match(pattern, n2)
    assert m1 and m2
    assert before <= int(m1[1]) <= after and m1[3] == ".sfx" and m2[3] == ""
    assert int(m2[2]) > int(m1[2])                                  # a process-wide file counter
    with TorchWriter(str(tmp_path / "t"), filename_suffix=".sfx") as tw:
        tw.flush()
    assert re.match(pattern, event_files(tmp_path / "t")[0])
    (first,) = events(tmp_path / "a")                               # on disk before any flush
    assert first.file_version == "brain.Event:2" and before <= first.wall_time <= time.time()
    assert w1.get_logdir() == str(tmp_path / "a")
    w1.close()
    w2.close()


def test_default_log_dir(tmp_path, monkeypatch):
    logdirs = {}
    for name, writer in (("ember", SummaryWriter), ("torch", TorchWriter)):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        with writer(comment="_lr0.1") as w:
            logdirs[name] = w.get_logdir()
        assert len(event_files(logdirs[name])) == 1
    pattern = rf"runs/[A-Z][a-z]{{2}}\d\d_\d\d-\d\d-\d\d_{re.escape(socket.gethostname())}_lr0\.1$"
    assert re.match(pattern, logdirs["ember"]) and re.match(pattern, logdirs["torch"])


# ---- what is logged -----------------------------------------------------------------------------------

def test_scalars_match_torch(tmp_path):
    def calls(w, lib):
        w.add_scalar("loss", 1.25, 0, walltime=100.5)
        w.add_scalar("loss", lib.tensor(0.75), 1, walltime=101.0)
        w.add_scalar("loss", np.float32(0.5), 2, walltime=102.0)
        w.add_scalar("train/acc", 3, walltime=103.0)
        w.add_scalar("train/acc", lib.tensor([0.25], requires_grad=True), 7)
        w.add_scalar("new", np.array(1 / 3), 4, walltime=104.0, new_style=True)
        w.add_scalar("double", 1 / 3, 5, walltime=105.0, new_style=True, double_precision=True)

    ours, theirs = both(tmp_path, calls)
    assert ours.Tags()["scalars"] == theirs.Tags()["scalars"] == ["loss", "train/acc"]
    for tag in ("loss", "train/acc"):
        assert [(e.step, e.value) for e in ours.Scalars(tag)] == [(e.step, e.value) for e in theirs.Scalars(tag)]
    assert [e.wall_time for e in ours.Scalars("loss")] == [100.5, 101.0, 102.0]
    assert ours.Scalars("train/acc")[0].wall_time == 103.0 and ours.Scalars("train/acc")[0].step == 0
    assert abs(ours.Scalars("train/acc")[1].wall_time - time.time()) < 60
    for tag in ("new", "double"):
        (a,), (b,) = ours.Tensors(tag), theirs.Tensors(tag)
        assert (a.step, a.wall_time, a.tensor_proto) == (b.step, b.wall_time, b.tensor_proto)
        assert ours.SummaryMetadata(tag) == theirs.SummaryMetadata(tag)
    assert ours.Tensors("double")[0].tensor_proto.double_val == [1 / 3]


def test_add_scalars_layout_matches_torch(tmp_path):
    def calls(w, lib):
        for step in range(3):
            w.add_scalars("run/loss", {"train": 1.0 / (step + 1), "val": lib.tensor(2.0 + step)}, step)
        w.add_scalars("run/loss", {"test": 9.0}, 3, walltime=50.0)

    both(tmp_path, calls)
    subdirs = {name: sorted(os.path.relpath(r, tmp_path / name) for r, _, fs in os.walk(tmp_path / name)
                            if event_files(r)) for name in ("ember", "torch")}
    assert subdirs["ember"] == subdirs["torch"] == [".", "run_loss_test", "run_loss_train", "run_loss_val"]
    for sub in subdirs["ember"][1:]:
        ours, theirs = accumulate(tmp_path / "ember" / sub), accumulate(tmp_path / "torch" / sub)
        assert ours.Tags()["scalars"] == theirs.Tags()["scalars"] == ["run/loss"]
        assert ([(e.step, e.value) for e in ours.Scalars("run/loss")]
                == [(e.step, e.value) for e in theirs.Scalars("run/loss")])
    assert accumulate(tmp_path / "ember" / "run_loss_test").Scalars("run/loss")[0].wall_time == 50.0
    train, val = (accumulate(tmp_path / "ember" / s).Scalars("run/loss") for s in ("run_loss_train", "run_loss_val"))
    assert [e.wall_time for e in train] == [e.wall_time for e in val]     # one wall time per call


def test_histograms_match_torch(tmp_path):
    rng = np.random.default_rng(0)
    normal = rng.normal(size=1000).astype(np.float32)
    ints = rng.integers(-5, 50, size=200)
    cases = [("tf", normal, {}), ("tf_ints", ints, {}), ("tf_one", np.array([0.5, -1.0, 2.0, 2.0, 3.0]), {}),
             ("auto", normal, {"bins": "auto"}), ("fd", ints, {"bins": "fd"}), ("ten", normal, {"bins": 10}),
             ("max_bins", normal, {"max_bins": 20}), ("max_bins_auto", ints, {"bins": "auto", "max_bins": 7}),
             ("zero", np.zeros(4), {})]

    def calls(w, lib):
        for step, (tag, values, kw) in enumerate(cases):
            arg = lib.tensor(values) if tag.startswith("tf") else values
            w.add_histogram(tag, arg, step, walltime=float(step), **kw)
        w.add_histogram_raw("raw", -1, 3, 5, 6.5, 18.25, [0.0, 1.0, 3.0], [1, 1, 3], 9, walltime=9.0)

    ours, theirs = both(tmp_path, calls)
    assert sorted(ours.Tags()["histograms"]) == sorted(theirs.Tags()["histograms"]) == sorted(
        [c[0] for c in cases] + ["raw"])
    for tag in ours.Tags()["histograms"]:
        (a,), (b,) = ours.Histograms(tag), theirs.Histograms(tag)
        assert (a.step, a.wall_time) == (b.step, b.wall_time)
        ha, hb = a.histogram_value, b.histogram_value
        assert (ha.min, ha.max, ha.num) == (hb.min, hb.max, hb.num), tag
        assert ha.sum == pytest.approx(hb.sum, rel=1e-12) and ha.sum_squares == pytest.approx(hb.sum_squares, rel=1e-12)
        assert ha.bucket_limit == hb.bucket_limit and ha.bucket == hb.bucket, tag
    h = ours.Histograms("tf_one")[0].histogram_value
    assert [c for c in h.bucket if c] == [1, 1, 2, 1] and h.bucket[0] == 0 and sum(h.bucket) == 5


def test_histogram_of_a_tensor_requiring_grad(tmp_path):
    x = ember.randn(50, requires_grad=True)
    with SummaryWriter(str(tmp_path), flush_secs=FAR) as w:
        w.add_histogram("w", x * 2, 0)
    h = accumulate(tmp_path).Histograms("w")[0].histogram_value
    assert h.num == 50 and h.max == pytest.approx((x * 2).max().item())


def png_pixels(encoded):
    return np.asarray(Image.open(io.BytesIO(encoded)))


def test_images_match_torch(tmp_path):
    rng = np.random.default_rng(1)
    chw = rng.random((3, 6, 5), dtype=np.float32)
    cases = [("chw", chw, {}),
             ("hwc_uint8", rng.integers(0, 256, (4, 7, 3), dtype=np.uint8), {"dataformats": "HWC"}),
             ("hw", rng.random((5, 4)) * 1.2 - 0.1, {"dataformats": "HW"}),        # clipped to [0, 1]
             ("gray", rng.random((1, 3, 4)), {}),
             ("rgba", rng.random((4, 3, 4)).astype(np.float32), {})]
    batches = [("nchw", rng.random((10, 3, 4, 5)).astype(np.float32), {}),         # two rows of a grid
               ("nhwc_uint8", rng.integers(0, 256, (3, 4, 5, 1), dtype=np.uint8), {"dataformats": "NHWC"})]

    def calls(w, lib):
        w.add_image("tensor", lib.tensor(chw), 1, walltime=7.0)
        for tag, img, kw in cases:
            w.add_image(tag, img, 2, **kw)
        for tag, img, kw in batches:
            w.add_images(tag, img, 3, **kw)

    ours, theirs = both(tmp_path, calls)
    tags = ["tensor"] + [c[0] for c in cases + batches]
    assert sorted(ours.Tags()["images"]) == sorted(theirs.Tags()["images"]) == sorted(tags)
    for tag in tags:
        (a,), (b,) = ours.Images(tag), theirs.Images(tag)
        assert (a.step, a.width, a.height) == (b.step, b.width, b.height), tag
        pa, pb = png_pixels(a.encoded_image_string), png_pixels(b.encoded_image_string)
        assert pa.shape == pb.shape and np.array_equal(pa, pb), tag
    assert ours.Images("tensor")[0].wall_time == 7.0
    assert png_pixels(ours.Images("nchw")[0].encoded_image_string).shape == (8, 40, 3)
    assert png_pixels(ours.Images("rgba")[0].encoded_image_string).shape == (3, 4, 4)


def test_text_matches_torch(tmp_path):
    def calls(w, lib):
        w.add_text("notes", "**loss** went down ✓", 3, walltime=12.0)
        w.add_text("notes", "", 4)

    ours, theirs = both(tmp_path, calls)
    assert ours.Tags()["tensors"] == theirs.Tags()["tensors"] == ["notes/text_summary"]
    a, b = ours.Tensors("notes/text_summary"), theirs.Tensors("notes/text_summary")
    assert [(e.step, e.tensor_proto) for e in a] == [(e.step, e.tensor_proto) for e in b]
    assert a[0].wall_time == 12.0 and a[0].tensor_proto.string_val == ["**loss** went down ✓".encode()]
    assert ours.SummaryMetadata("notes/text_summary") == theirs.SummaryMetadata("notes/text_summary")


def test_pr_curves_match_torch(tmp_path):
    rng = np.random.default_rng(3)
    labels, predictions = rng.integers(0, 2, 100), rng.random(100)
    predictions[:3] = [0.0, 1.0, 1.5]                                  # both ends, and one outside [0, 1]
    weights = rng.random(100)

    def calls(w, lib):
        w.add_pr_curve("pr", lib.tensor(labels), lib.tensor(predictions), 1, walltime=3.0)
        w.add_pr_curve("pr_weighted", labels, predictions, 2, num_thresholds=10, weights=weights)
        w.add_pr_curve("pr_many", labels, predictions, 3, num_thresholds=500)
        w.add_pr_curve_raw("raw", [3, 1], [2, 0], [0, 2], [0, 2], [0.6, 1.0], [1.0, 1 / 3], 4, num_thresholds=2)

    ours, theirs = both(tmp_path, calls)
    assert sorted(ours.Tags()["tensors"]) == sorted(theirs.Tags()["tensors"]) == ["pr", "pr_many", "pr_weighted",
                                                                                  "raw"]
    for tag in ours.Tags()["tensors"]:
        (a,), (b,) = ours.Tensors(tag), theirs.Tensors(tag)
        assert a.step == b.step and a.tensor_proto.tensor_shape == b.tensor_proto.tensor_shape, tag
        np.testing.assert_allclose(a.tensor_proto.float_val, b.tensor_proto.float_val, rtol=1e-6, err_msg=tag)
        assert ours.SummaryMetadata(tag) == theirs.SummaryMetadata(tag), tag
    assert ours.Tensors("pr")[0].wall_time == 3.0
    assert [d.size for d in ours.Tensors("pr_many")[0].tensor_proto.tensor_shape.dim] == [6, 127]


def test_hparams_match_torch(tmp_path):
    def calls(w, lib):
        w.add_hparams({"lr": 0.1, "bs": 4, "opt": "sgd", "nesterov": True, "t": lib.tensor([0.5])},
                      {"hparam/acc": 0.9, "hparam/loss": lib.tensor(0.25)},
                      hparam_domain_discrete={"opt": ["sgd", "adam"]}, run_name="hp", global_step=2)

    both(tmp_path, calls)
    ours, theirs = accumulate(tmp_path / "ember" / "hp"), accumulate(tmp_path / "torch" / "hp")
    assert sorted(ours.Tags()["scalars"]) == sorted(theirs.Tags()["scalars"]) == ["hparam/acc", "hparam/loss"]
    for tag in ("hparam/acc", "hparam/loss"):
        assert [(e.step, e.value) for e in ours.Scalars(tag)] == [(e.step, e.value) for e in theirs.Scalars(tag)]
    for part in ("experiment", "session_start_info", "session_end_info"):
        tag = "_hparams_/" + part
        a, b = (plugin_data_pb2.HParamsPluginData.FromString(acc.SummaryMetadata(tag).plugin_data.content)
                for acc in (ours, theirs))
        assert a == b, part
        assert ours.SummaryMetadata(tag).plugin_data.plugin_name == "hparams"
    start = plugin_data_pb2.HParamsPluginData.FromString(
        ours.SummaryMetadata("_hparams_/session_start_info").plugin_data.content).session_start_info
    assert start.hparams["opt"].string_value == "sgd" and start.hparams["t"].number_value == 0.5


def test_purge_step_events_match_torch(tmp_path):
    for name, writer in (("ember", SummaryWriter), ("torch", TorchWriter)):
        with writer(str(tmp_path / name), purge_step=5, flush_secs=FAR) as w:
            w.add_scalar("x", 1.0, 6)
    ours, theirs = events(tmp_path / "ember"), events(tmp_path / "torch")
    assert len(ours) == len(theirs) == 4
    for a, b in zip(ours[1:], theirs[1:]):
        a.ClearField("wall_time")
        b.ClearField("wall_time")
        assert a == b
    assert ours[1].step == 5 and ours[1].file_version == "brain.Event:2"
    assert ours[2].session_log.status == ours[2].session_log.START


# ---- when events reach the disk -------------------------------------------------------------------------

def test_queue_flush_and_close(tmp_path):
    w = SummaryWriter(str(tmp_path), max_queue=3, flush_secs=FAR)

    def on_disk():
        return len(events(tmp_path))

    assert on_disk() == 1                                    # the file_version event
    w.add_scalar("x", 0.0, 0)
    w.add_scalar("x", 1.0, 1)
    assert on_disk() == 1                                    # queued
    w.add_scalar("x", 2.0, 2)
    assert on_disk() == 4                                    # max_queue reached: written
    w.add_scalar("x", 3.0, 3)
    assert on_disk() == 4
    w.flush()
    assert on_disk() == 5
    w.add_histogram("h", np.arange(3.0), 4)
    w.close()
    assert on_disk() == 6
    w.close()                                                # twice is harmless
    assert [e.step for e in accumulate(tmp_path).Scalars("x")] == [0, 1, 2, 3]
    w.add_scalar("x", 5.0, 5)                                # after close: a new event file, as torch does
    w.close()
    assert len(event_files(tmp_path)) == 2


def test_context_manager_and_add_scalars_writers_close(tmp_path):
    with SummaryWriter(str(tmp_path), flush_secs=FAR) as w:
        w.add_scalar("x", 1.0, 0)
        w.add_scalars("m", {"a": 1.0, "b": 2.0}, 0)
        writers = list(w.all_writers.values())
    assert len(writers) == 3 and all(fw._file is None for fw in writers)
    assert [e.value for e in accumulate(tmp_path).Scalars("x")] == [1.0]
    assert [e.value for e in accumulate(tmp_path / "m_b").Scalars("m")] == [2.0]


def test_flush_secs_writes_in_the_background(tmp_path):
    w = SummaryWriter(str(tmp_path), flush_secs=0.05)
    w.add_scalar("x", 1.0, 0)
    deadline = time.time() + 5
    while len(events(tmp_path)) < 2 and time.time() < deadline:
        time.sleep(0.02)
    assert len(events(tmp_path)) == 2
    w.close()


# ---- bad input ----------------------------------------------------------------------------------------------

def test_bad_input(tmp_path):
    with SummaryWriter(str(tmp_path), flush_secs=FAR) as w:
        with pytest.raises(ValueError, match=r"scalar should be 0D.*'loss'.*\(3,\)"):
            w.add_scalar("loss", np.zeros(3))
        with pytest.raises(ValueError, match=r"\(3, 4\).*'CHW'"):
            w.add_image("img", np.zeros((3, 4)))
        with pytest.raises(ValueError, match="2 channels"):
            w.add_image("img", np.zeros((2, 4, 4)))
        with pytest.raises(ValueError, match="'h' is empty"):
            w.add_histogram("h", np.array([]))
        with pytest.raises(ValueError, match="3 bucket_limits but 2 bucket_counts"):
            w.add_histogram_raw("r", 0, 1, 2, 1, 1, [0, 1, 2], [1, 1])
        with pytest.raises(TypeError, match="should be dictionary"):
            w.add_hparams([("lr", 0.1)], {})
        with pytest.raises(ValueError, match="'opt'.*should be one of"):
            w.add_hparams({"opt": object()}, {})


# ---- how users import it ------------------------------------------------------------------------------------

def test_torch_import_path_under_ember_run(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(
        "import sys\n"
        "import torch\n"
        "assert 'ember.utils.tensorboard' not in sys.modules   # not loaded by import ember\n"
        "from torch.utils.tensorboard import SummaryWriter\n"
        "print(SummaryWriter.__module__)\n"
        "with SummaryWriter('logs') as w:\n"
        "    w.add_scalar('loss', torch.tensor(0.5), 1)\n")
    out = subprocess.run([sys.executable, "-m", "ember", "run", str(script)], cwd=tmp_path, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == "ember.utils.tensorboard.writer"
    assert [(e.step, e.value) for e in accumulate(tmp_path / "logs").Scalars("loss")] == [(1, 0.5)]


# ---- embeddings, tensors, audio, custom scalars, meshes, boxes, figures, videos -----------------------------------

def summaries(d):
    """(step, wall_time, Summary) of every event after the file_version one in d's event file."""
    return [(e.step, e.wall_time, e.summary) for e in events(d)[1:]]


def both_raw(tmp_path, calls):
    """Run calls(writer, lib) with ember's and torch's writers; the summaries each wrote (ember first)."""
    for name, writer, lib in (("ember", SummaryWriter, ember), ("torch", TorchWriter, torch)):
        with writer(str(tmp_path / name), flush_secs=FAR) as w:
            calls(w, lib)
    return summaries(tmp_path / "ember"), summaries(tmp_path / "torch")


def side_files(d):
    """Every file under d but the event files, by relative path."""
    return sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs
                  if not f.startswith("events.out.tfevents."))


def test_embedding_files_match_torch(tmp_path, capsys):
    rng = np.random.default_rng(4)
    mat = rng.normal(size=(10, 3)).astype(np.float32)
    rgb = rng.random((10, 3, 4, 6)).astype(np.float32) * 1.2          # some values clipped at 1
    gray = rng.random((5, 1, 3, 3))
    words = [f"w{i} é" for i in range(10)]

    def calls(w, lib):
        w.add_embedding(lib.tensor(mat), metadata=words, label_img=lib.tensor(rgb), tag="a/b%c\\d")
        w.add_embedding(mat[:5].astype(np.float64), metadata=[[i, f"x{i}"] for i in range(5)],
                        metadata_header=["id", "name"], label_img=lib.tensor(gray), global_step=12)
        w.add_embedding(lib.tensor(mat[:4]).to(lib.bfloat16), metadata=lib.tensor([1, 2, 3, 4]), global_step=3,
                        tag='q"t')
        w.add_embedding(np.arange(6).reshape(3, 2), global_step=3, tag='q"t')      # the same dir again

    both(tmp_path, calls)
    printed = capsys.readouterr().out.splitlines()
    assert printed == ["warning: Embedding dir exists, did you set global_step for add_embedding()?"] * 2
    ours, theirs = side_files(tmp_path / "ember"), side_files(tmp_path / "torch")
    assert ours == theirs
    assert "00000/a%2fb%25c%5cd/sprite.png" in ours and "00012/default/metadata.tsv" in ours
    for name in ours:
        a, b = (tmp_path / "ember" / name).read_bytes(), (tmp_path / "torch" / name).read_bytes()
        if name.endswith(".png"):
            pa, pb = png_pixels(a), png_pixels(b)
            assert pa.shape == pb.shape and np.array_equal(pa, pb), name
        else:
            assert a == b, name
    assert png_pixels((tmp_path / "ember/00000/a%2fb%25c%5cd/sprite.png").read_bytes()).shape == (24, 24, 3)
    config = (tmp_path / "ember" / "projector_config.pbtxt").read_text()
    assert config.count("embeddings {") == 4 and 'tensor_name: "q\\"t:00003"' in config


def test_embedding_errors_match_torch(tmp_path):
    rng = np.random.default_rng(5)
    mat, imgs = rng.random((4, 2)), rng.random((4, 3, 2, 2))
    cases = [
        lambda w, lib: w.add_embedding(mat, metadata=["a", "b"]),
        lambda w, lib: w.add_embedding(mat, metadata=[[1, 2]] * 4, metadata_header=["only"]),
        lambda w, lib: w.add_embedding(mat, label_img=lib.tensor(imgs[:3])),
        lambda w, lib: w.add_embedding(mat, label_img=lib.tensor(imgs[:, :2])),       # 2 channels
        lambda w, lib: w.add_embedding(mat.reshape(4, 1, 2)),
        lambda w, lib: w.add_embedding(mat, tag="file", global_step=1),
    ]
    for name, writer, lib in (("ember", SummaryWriter, ember), ("torch", TorchWriter, torch)):
        os.makedirs(tmp_path / name / "00001")
        (tmp_path / name / "00001" / "file").write_text("")
        with writer(str(tmp_path / name), flush_secs=FAR) as w:
            raised = []
            for case in cases:
                with pytest.raises(Exception) as info:
                    case(w, lib)
                raised.append((type(info.value), str(info.value).replace(str(tmp_path / name), "<log_dir>")))
        if name == "ember":
            ours = raised
    assert ours == raised
    assert [t for t, _ in ours] == [AssertionError] * 5 + [NotADirectoryError]
    assert not (tmp_path / "ember" / "projector_config.pbtxt").exists()


def test_tensor_matches_torch(tmp_path):
    dtypes = ["float16", "bfloat16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool",
              "complex64", "complex128"]

    def calls(w, lib):
        for step, name in enumerate(dtypes):
            w.add_tensor(name, lib.tensor([[1.5, 0.0, -3.25], [2e9, -1e-3, 255.0]]).to(getattr(lib, name)),
                         step, walltime=float(step))
        w.add_tensor("complex", lib.tensor([1 + 2j, -0.5j]), 20, walltime=1.0)
        w.add_tensor("scalar", lib.tensor(-7), walltime=2.0)
        w.add_tensor("empty", lib.zeros(0, 3), 21, walltime=3.0)
        w.add_tensor("grad", lib.ones(2, requires_grad=True) * 3, 22, walltime=4.0)

    ours, theirs = both_raw(tmp_path, calls)
    assert len(ours) == len(dtypes) + 4 and ours == theirs
    for name, writer in (("ember", SummaryWriter), ("torch", TorchWriter)):
        with writer(str(tmp_path / "bad" / name), flush_secs=FAR) as w, pytest.raises(AttributeError, match="numel"):
            w.add_tensor("np", np.zeros(2))


def test_audio_matches_torch(tmp_path, capsys):
    rng = np.random.default_rng(6)
    quiet, loud = rng.random((1, 300)) * 2 - 1, rng.random(50).astype(np.float32) * 3 - 1.5

    def calls(w, lib):
        w.add_audio("quiet", lib.tensor(quiet), 1, walltime=1.0)
        w.add_audio("loud", lib.tensor(loud), 2, sample_rate=8000, walltime=2.0)
        w.add_audio("np", quiet[:, :7].astype(np.float32), 3, sample_rate=16000.5, walltime=3.0)

    ours, theirs = both_raw(tmp_path, calls)
    assert ours == theirs
    assert capsys.readouterr().out.splitlines() == ["warning: audio amplitude out of range, auto clipped."] * 2
    wav = tmp_path / "loud.wav"
    wav.write_bytes(ours[1][2].value[0].tensor.string_val[0])          # stored by the loader as a tensor
    import wave
    with wave.open(str(wav)) as f:
        assert (f.getnchannels(), f.getsampwidth(), f.getframerate(), f.getnframes()) == (1, 2, 8000, 50)
        pcm = np.frombuffer(f.readframes(50), dtype="<i2")
    np.testing.assert_array_equal(pcm, (loud.clip(-1, 1) * 32767).astype(np.int16))
    for lib, writer in ((ember, SummaryWriter), (torch, TorchWriter)):
        with (writer(str(tmp_path / "bad" / lib.__name__), flush_secs=FAR) as w,
              pytest.raises(AssertionError, match="input tensor should be 1 dimensional.")):
            w.add_audio("stereo", lib.zeros(2, 10))


def test_custom_scalars_match_torch(tmp_path):
    layout = {"Loss": {"train vs val": ["Multiline", ["loss/train", "loss/val"]],
                       "band": ["Margin", ["acc", "acc/low", "acc/high"]]},
              "Other": {"": ["Multiline", []], "é": ("Margin", ("", "b", "c"))}}

    def calls(w, lib):
        w.add_custom_scalars(layout)
        w.add_custom_scalars_multilinechart(["a", "b"])
        w.add_custom_scalars_marginchart(["m", "lo", "hi"], category="cat", title="margin")

    ours, theirs = both_raw(tmp_path, calls)
    for (sa, _, a), (sb, _, b) in zip(ours, theirs):
        assert sa == sb and a == b
    assert len(ours) == len(theirs) == 3
    from tensorboard.plugins.custom_scalar import layout_pb2
    parsed = layout_pb2.Layout.FromString(ours[0][2].value[0].tensor.string_val[0])
    assert [c.title for c in parsed.category] == ["Loss", "Other"]
    assert parsed.category[0].chart[1].margin.series[0].upper == "acc/high"
    for lib, writer in ((ember, SummaryWriter), (torch, TorchWriter)):
        with writer(str(tmp_path / "bad" / lib.__name__), flush_secs=FAR) as w:
            with pytest.raises(AssertionError, match=r"^Expected 3 tags, got 2\.$"):
                w.add_custom_scalars_marginchart(["a", "b"])
            with pytest.raises(AssertionError, match=r"^len\(tags\) != 3$"):
                w.add_custom_scalars({"c": {"m": ["Margin", ["a"]]}})


def test_mesh_matches_torch(tmp_path):
    rng = np.random.default_rng(7)
    vertices = rng.normal(size=(1, 5, 3))
    colors = rng.integers(0, 256, (1, 5, 3))
    faces = np.array([[[0, 1, 2], [0, 2, 3], [1, 3, 4]]])
    config = {"camera": {"cls": "PerspectiveCamera", "fov": 75}, "material": {"cls": "PointsMaterial", "size": 2}}

    def calls(w, lib):
        w.add_mesh("mesh", lib.tensor(vertices), colors=lib.tensor(colors, dtype=lib.uint8), faces=lib.tensor(faces),
                   config_dict=config, global_step=1, walltime=1.0)
        w.add_mesh("points/cloud", vertices.astype(np.float32), colors=colors / 255, global_step=2, walltime=2.0)
        w.add_mesh("bare", lib.tensor(vertices, dtype=lib.float32), walltime=3.0)

    ours, theirs = both_raw(tmp_path, calls)
    assert ours == theirs
    assert [v.tag for v in ours[0][2].value] == ["mesh_VERTEX", "mesh_FACE", "mesh_COLOR"]
    for lib, writer in ((ember, SummaryWriter), (torch, TorchWriter)):
        with (writer(str(tmp_path / "bad" / lib.__name__), flush_secs=FAR) as w,
              pytest.raises(ValueError, match=re.escape("BxNx3, but got torch.Size([5, 3])."))):
            w.add_mesh("flat", lib.tensor(vertices[0]))


def test_image_with_boxes_matches_torch(tmp_path):
    rng = np.random.default_rng(8)
    chw = rng.random((3, 40, 60)).astype(np.float32)
    hwc = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    boxes = np.array([[2, 3, 30, 25], [10.5, 12.25, 55, 38]], dtype=np.float32)

    def calls(w, lib):
        w.add_image_with_boxes("labelled", lib.tensor(chw), lib.tensor(boxes), 1, labels=["cat", "dog"])
        w.add_image_with_boxes("hwc", hwc, boxes[:1], 2, dataformats="HWC", labels="one")
        w.add_image_with_boxes("wrong_label_count", chw, boxes, 3, labels=["only one"])
        w.add_image_with_boxes("rescaled", lib.tensor(chw), lib.tensor(boxes), 4, rescale=0.5, labels=["a", ""])
        w.add_image_with_boxes("no_boxes", chw, np.zeros((0, 4)), 5)

    ours, theirs = both(tmp_path, calls)
    tags = ["labelled", "hwc", "wrong_label_count", "rescaled", "no_boxes"]
    assert sorted(ours.Tags()["images"]) == sorted(theirs.Tags()["images"]) == sorted(tags)
    for tag in tags:
        (a,), (b,) = ours.Images(tag), theirs.Images(tag)
        assert (a.step, a.width, a.height) == (b.step, b.width, b.height), tag
        pa, pb = png_pixels(a.encoded_image_string), png_pixels(b.encoded_image_string)
        assert pa.shape == pb.shape and np.array_equal(pa, pb), tag
    assert png_pixels(ours.Images("rescaled")[0].encoded_image_string).shape == (20, 30, 3)
    assert (ours.Images("rescaled")[0].width, ours.Images("rescaled")[0].height) == (60, 40)   # before resizing
    drawn = png_pixels(ours.Images("hwc")[0].encoded_image_string)
    assert (drawn[3, 10] == [255, 0, 0]).all()                                  # on the box's top edge


class _StandInFigure:
    """What add_figure touches of a matplotlib Figure: an RGBA buffer its canvas renders."""

    def __init__(self, rgba):
        self.rgba, self.canvas, self.closed = rgba, None, False


def _stand_in_matplotlib(monkeypatch):
    """Modules standing in for matplotlib.pyplot and its Agg backend, for torch's and ember's add_figure."""
    import types
    mpl, backends = types.ModuleType("matplotlib"), types.ModuleType("matplotlib.backends")
    agg, pyplot = types.ModuleType("matplotlib.backends.backend_agg"), types.ModuleType("matplotlib.pyplot")

    class FigureCanvasAgg:
        def __init__(self, figure):
            self.figure, figure.canvas = figure, self

        def draw(self):
            pass

        def buffer_rgba(self):
            return memoryview(self.figure.rgba)

        def get_width_height(self):
            return self.figure.rgba.shape[1], self.figure.rgba.shape[0]

    def close(figure):
        figure.closed = True

    agg.FigureCanvasAgg, pyplot.close = FigureCanvasAgg, close
    mpl.backends, mpl.pyplot, backends.backend_agg = backends, pyplot, agg
    for mod in (mpl, backends, agg, pyplot):
        monkeypatch.setitem(sys.modules, mod.__name__, mod)


def test_figure_matches_torch_with_a_stand_in_matplotlib(tmp_path, monkeypatch):
    rng = np.random.default_rng(9)
    rgba = [rng.integers(0, 256, (6, 8, 4), dtype=np.uint8) for _ in range(3)]
    _stand_in_matplotlib(monkeypatch)
    figures = {}

    def calls(w, lib):
        figs = figures[lib.__name__] = [_StandInFigure(x) for x in rgba]
        w.add_figure("one", figs[0], 1, walltime=1.0)
        w.add_figure("list", figs[1:], 2, close=False, walltime=2.0)

    ours, theirs = both(tmp_path, calls)
    for tag in ("one", "list"):
        (a,), (b,) = ours.Images(tag), theirs.Images(tag)
        assert (a.step, a.wall_time, a.width, a.height) == (b.step, b.wall_time, b.width, b.height)
        assert np.array_equal(png_pixels(a.encoded_image_string), png_pixels(b.encoded_image_string))
    assert np.array_equal(png_pixels(ours.Images("one")[0].encoded_image_string), rgba[0][:, :, :3])
    assert [f.closed for f in figures["ember"]] == [f.closed for f in figures["torch"]] == [True, False, False]


def test_add_figure_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with (SummaryWriter(str(tmp_path), flush_secs=FAR) as w,
          pytest.raises(ImportError, match="add_figure needs matplotlib: pip install matplotlib")):
        w.add_figure("fig", object())


def _stand_in_moviepy(monkeypatch):
    """moviepy.editor.ImageSequenceClip standing in: its "GIF" is the fps and the frames' raw bytes."""
    import types
    moviepy, editor = types.ModuleType("moviepy"), types.ModuleType("moviepy.editor")

    class ImageSequenceClip:
        def __init__(self, frames, fps):
            self.frames, self.fps = frames, fps

        def write_gif(self, filename, **kwargs):
            with open(filename, "wb") as f:
                f.write(f"fps={self.fps};{np.stack(self.frames).shape}".encode() + np.stack(self.frames).tobytes())

    editor.ImageSequenceClip, moviepy.editor = ImageSequenceClip, editor
    monkeypatch.setitem(sys.modules, "moviepy", moviepy)
    monkeypatch.setitem(sys.modules, "moviepy.editor", editor)


def test_video_matches_torch_with_a_stand_in_moviepy(tmp_path, monkeypatch):
    rng = np.random.default_rng(10)
    clips = {"uint8_3": rng.integers(0, 256, (3, 4, 3, 5, 6), dtype=np.uint8),      # padded to 4 videos
             "float_1": rng.random((1, 2, 3, 4, 4)).astype(np.float32) * 1.1,
             "float64_8": rng.random((8, 2, 1, 3, 2))}                                # 2 rows of 4
    _stand_in_moviepy(monkeypatch)

    def calls(w, lib):
        for step, (tag, v) in enumerate(clips.items()):
            w.add_video(tag, lib.tensor(v), step, fps=step + 2.5, walltime=float(step))

    ours, theirs = both_raw(tmp_path, calls)
    assert ours == theirs
    width, height, gif = ours[0][2].value[0].tensor.string_val         # images are stored by the loader as tensors
    assert (width, height) == (b"24", b"5") and gif.startswith(b"fps=2.5;(4, 5, 24, 3)")     # one row of 4 videos
    width, height, gif = ours[2][2].value[0].tensor.string_val
    assert (width, height) == (b"8", b"6") and gif.startswith(b"fps=4.5;(2, 6, 8, 1)")       # two rows of 4


def test_add_video_without_moviepy(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "moviepy", None)
    with (SummaryWriter(str(tmp_path), flush_secs=FAR) as w,
          pytest.raises(ImportError, match="add_video needs moviepy: pip install moviepy")):
        w.add_video("v", np.zeros((1, 2, 3, 4, 4)))


def _small_onnx_model(path):
    """An ONNX model with operators carrying int, ints, float, string and tensor attributes."""
    import onnx
    from onnx import TensorProto, helper
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1]),
             helper.make_node("Relu", ["c"], ["r"]),
             helper.make_node("Flatten", ["r"], ["f"], axis=1),
             helper.make_node("Constant", [], ["b"], value=helper.make_tensor("b", TensorProto.FLOAT, [2], [0.5, -1])),
             helper.make_node("Gemm", ["f", "g", "b"], ["y"], alpha=0.25, transB=1),
             helper.make_node("Cast", ["y"], ["out"], to=TensorProto.DOUBLE, name="cast"),
             helper.make_node("Identity", ["out"], ["label"], doc_string="a \"string\" é")]
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 4, 4])],
        [helper.make_tensor_value_info("label", TensorProto.DOUBLE, ["N", 2])],
        [helper.make_tensor("w", TensorProto.FLOAT, [1, 1, 3, 3], [0.1] * 9),
         helper.make_tensor("g", TensorProto.FLOAT, [2, 16], [0.0] * 32)])
    onnx.save(helper.make_model(graph), str(path))


def test_onnx_graph_matches_torch(tmp_path, capsys):
    _small_onnx_model(tmp_path / "model.onnx")
    ours, theirs = both(tmp_path, lambda w, lib: w.add_onnx_graph(str(tmp_path / "model.onnx")))
    capsys.readouterr()                                          # torch prints every node's name
    assert ours.Graph() == theirs.Graph()
    graph = ours.Graph()
    assert [(n.name, n.op) for n in graph.node][:3] == [("x", "Variable"), ("label", "Variable"), ("c", "Conv")]
    assert [d.size for d in graph.node[0].attr["shape"].shape.dim] == [0, 1, 4, 4]
    assert graph.node[2].attr["parameters"].s.startswith(b"kernel_shape = [3, 3] = 7, pads = [1, 1, 1, 1]")
    (a,), (b,) = ([e for e in events(tmp_path / name) if e.graph_def] for name in ("ember", "torch"))
    assert a.step == b.step == 0 and abs(a.wall_time - time.time()) < 60


def test_add_onnx_graph_without_onnx(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    message = re.escape("add_onnx_graph needs the onnx package: pip install 'ember[onnx]'")
    with SummaryWriter(str(tmp_path), flush_secs=FAR) as w, pytest.raises(ImportError, match=message):
        w.add_onnx_graph(str(tmp_path / "model.onnx"))


# ---- add_graph ------------------------------------------------------------------------------------------------

# Where ember.jit's graph names an op differently from torch's: nn.Conv2d's call of the convolution op is recorded
# as the op itself, and Tensor methods that are the same function as a public one (x.flatten, x @ y) as what they
# reach: the reshape flatten calls, the matmul op.
_KIND_DIFFERENCES = {"ember::convolution": "aten::_convolution"}


def _graph_structure(graph):
    """A GraphDef as what must agree with torch's: {node key: (op, output shapes, attr text)} and the edges
    between keys. Keys drop what torch's names alone carry: an op node is "<scope>/<op>#<k>" (the k-th such op
    in its scope), a parameter "<module scope>/<attr>", an input "input/<name>" without torch's ".N" suffix.
    prim::Constant nodes (torch's hold the non-tensor arguments ember keeps inside its nodes, and the Python
    numbers its ops wrap into tensors: ``x * 2`` reads a tensor(2) in torch's graph), the int lists built from them
    and inputs naming no node (torch's GetAttr nodes read the submodule's value, which it leaves out) are dropped.
    """
    nodes = {n.name: n for n in graph.node}
    dropped = {name for name, n in nodes.items() if n.op == "prim::Constant"}
    dropped |= {name for name, n in nodes.items()
                if n.op == "prim::ListConstruct" and n.input and all(i in dropped for i in n.input)}
    keys, counts = {}, {}
    for name, n in nodes.items():
        if name in dropped:
            continue
        op = _KIND_DIFFERENCES.get(n.op, n.op)
        scope, _, last = name.rpartition("/")
        if op == "IO Node":
            keys[name] = f"{scope}/{re.sub(r'[.][0-9]+$', '', last)}"
        elif op == "prim::GetAttr":
            keys[name] = scope
        else:
            k = counts[scope, op] = counts.get((scope, op), -1) + 1
            keys[name] = f"{scope}/{op}#{k}"
    structure = {keys[name]: (_KIND_DIFFERENCES.get(n.op, n.op),
                              [[d.size for d in s.dim] for s in n.attr["_output_shapes"].list.shape],
                              n.attr["attr"].s if n.op in ("IO Node", "prim::GetAttr") else None)
                 for name, n in nodes.items() if name in keys}
    edges = {(keys[i], keys[name]) for name, n in nodes.items() if name in keys for i in n.input if i in keys}
    return structure, edges


def _graph_models(lib):
    nn = lib.nn

    class CNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3, padding=1)
            self.bn = nn.BatchNorm2d(4)
            self.pool = nn.MaxPool2d(2)
            self.fc = nn.Linear(64, 5)

        def forward(self, x):
            x = self.pool(lib.relu(self.bn(self.conv(x))))
            return self.fc(x.flatten(1))

    class TwoInputs(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 3)
            self.b = nn.Sequential(nn.Linear(2, 3), nn.Tanh())

        def forward(self, x, y):
            h = self.a(x)
            return self.a(h.tanh() @ lib.ones(3, 4)) + self.b(y) * 2, lib.cat([x, y], 1)

    return [(nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)), lambda: lib.ones(5, 4)),
            (CNN(), lambda: (lib.ones(2, 3, 8, 8),)),
            (TwoInputs(), lambda: [lib.ones(5, 4), lib.ones(5, 2)])]


@pytest.mark.parametrize("which", range(3), ids=["mlp", "cnn_batchnorm", "two_inputs"])
def test_add_graph_matches_torch(tmp_path, which):
    models = {}

    def calls(w, lib):
        model, inputs = _graph_models(lib)[which]
        models[lib] = model
        w.add_graph(model, inputs())
    ours, theirs = both(tmp_path, calls)
    a, b = _graph_structure(ours.Graph()), _graph_structure(theirs.Graph())
    assert a[0] == b[0]                     # nodes: scopes, ops, output shapes, GetAttr names
    assert a[1] == b[1]                     # edges
    assert ours.Graph().versions.producer == theirs.Graph().versions.producer == 22
    assert ours.RunMetadata("step1") == theirs.RunMetadata("step1")
    assert models[ember].training and models[torch].training      # traced in eval mode, then restored
    (_, ga, ra), (_, gb, rb) = (raw_events(tmp_path / name) for name in ("ember", "torch"))
    assert ga.graph_def and gb.graph_def and ga.step == gb.step == 0
    assert ra.tagged_run_metadata == rb.tagged_run_metadata and ra.tagged_run_metadata.tag == "step1"


def test_add_graph_buffers_tensor_constants_and_multiple_outputs_match_torch(tmp_path):
    def calls(w, lib):
        class M(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.register_buffer("scale", lib.ones(2))
                self.k = lib.arange(2.0)            # a plain tensor attribute: a constant in the trace

            def forward(self, x):
                return (x + self.k) * self.scale, x.max(0)
        w.add_graph(M(), lib.ones(3, 2))
    ours, theirs = both(tmp_path, calls)
    assert _graph_structure(ours.Graph()) == _graph_structure(theirs.Graph())

    def tensor_constants(graph):
        return [([[d.size for d in s.dim] for s in n.attr["_output_shapes"].list.shape], n.attr["attr"].s)
                for n in graph.node if n.op == "prim::Constant" and n.attr["_output_shapes"].list.shape]
    assert tensor_constants(ours.Graph()) == tensor_constants(theirs.Graph()) == [([[2]], b"{ value : tensor([0., 1.])}")]
    assert [n.op for n in ours.Graph().node].count("aten::max") == 2     # a node per output, as torch


def test_add_graph_node_names(tmp_path):
    """Scoped names as torch writes them; values are numbered as ember.jit's ``graph`` prints them."""
    model, inputs = _graph_models(ember)[0]
    with SummaryWriter(str(tmp_path), flush_secs=FAR) as w:
        w.add_graph(model, inputs())
    graph = accumulate(tmp_path).Graph()
    traced = ember.jit.trace(model, inputs())
    linear_outs = re.findall(r"%(\w+) : .* = aten::linear", str(traced.graph))
    nodes = {n.name: n for n in graph.node}
    assert nodes["output/output.1"].input == [f"Sequential/Linear[2]/{linear_outs[1]}"]
    assert nodes[f"Sequential/Linear[0]/{linear_outs[0]}"].input == [
        "input/input", "Sequential/Linear[0]/weight/weight", "Sequential/Linear[0]/bias/bias"]
    assert [n.name for n in graph.node][:2] == ["input/input", "output/output.1"]   # torch's order


def test_add_graph_keeps_batchnorm_statistics_and_prints(tmp_path, capsys):
    """The trace runs in eval mode: running statistics stay as they were; ``verbose`` prints the graph."""
    stats = []
    for name, writer, lib in (("ember", SummaryWriter, ember), ("torch", TorchWriter, torch)):
        model, inputs = _graph_models(lib)[1]
        with writer(str(tmp_path / name), flush_secs=FAR) as w:
            w.add_graph(model, inputs(), verbose=True)
        stats.append((model.bn.running_mean.tolist(), model.bn.num_batches_tracked.item()))
        printed = capsys.readouterr().out
        assert "graph(" in printed and "aten::batch_norm" in printed
    assert stats[0] == stats[1] == ([0.0] * 4, 0)


def test_add_graph_list_outputs_and_errors_match_torch(tmp_path, capsys):
    def model(lib, out):
        class M(lib.nn.Module):
            def forward(self, x):
                return out(x.relu(), x.neg())
        return M()

    def as_list(a, b):
        return [a, b]

    def as_dict(a, b):
        return {"a": a, "b": b}
    ours, theirs = both(tmp_path, lambda w, lib: w.add_graph(model(lib, as_list), lib.ones(2), use_strict_trace=False))
    capsys.readouterr()
    assert _graph_structure(ours.Graph()) == _graph_structure(theirs.Graph())
    assert "prim::ListConstruct" in {n.op for n in ours.Graph().node}
    for name, writer, lib in (("ember2", SummaryWriter, ember), ("torch2", TorchWriter, torch)):
        with writer(str(tmp_path / name), flush_secs=FAR) as w, pytest.raises(RuntimeError, match="dict"):
            w.add_graph(model(lib, as_dict), lib.ones(2))
        assert capsys.readouterr().out.endswith("Error occurs, No graph saved\n")


def test_tracing_records_module_scopes_only_while_tracing():
    from ember.nn.modules.module import Module
    model = ember.nn.Sequential(ember.nn.Sequential(ember.nn.Linear(2, 2)), ember.nn.ReLU())
    traced = ember.jit.trace(model, ember.ones(1, 2))
    assert [n.scope for n in traced._graph.nodes] == [("0", "0.0"), ("1",)]
    assert Module.__call__ is Module._call_impl
    with pytest.raises(RuntimeError):
        ember.jit.trace(ember.nn.Linear(2, 2), ember.ones(1, 3))
    assert Module.__call__ is Module._call_impl
