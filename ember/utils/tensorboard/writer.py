"""``torch.utils.tensorboard.writer``: ``SummaryWriter`` (the logging API) over ``FileWriter`` (one event file).

Events are queued in memory and written as TFRecords when ``max_queue`` are pending, every ``flush_secs``
(a daemon thread), on ``flush()`` and on ``close()`` (also run at interpreter exit), so logging stays off
the training step's path.
"""
from __future__ import annotations

import atexit
import itertools
import os
import socket
import threading
import time
from datetime import datetime

from . import _embedding, _model_graph, _onnx_graph, _proto, summary
from ._record import frame

_file_numbers = itertools.count()     # process-wide, the last part of every event file's name


class FileWriter:
    """Writes events to a new file ``events.out.tfevents.<time>.<host>.<pid>.<n><suffix>`` in ``log_dir``."""

    def __init__(self, log_dir, max_queue: int = 10, flush_secs: float = 120, filename_suffix: str = ""):
        self._log_dir = str(log_dir)
        os.makedirs(self._log_dir, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}."
                f"{next(_file_numbers)}{filename_suffix}")
        self._file = open(os.path.join(self._log_dir, name), "wb")  # noqa: SIM115 (open until close())
        self._file.write(frame(_proto.event(time.time(), file_version="brain.Event:2",
                                            source_writer="ember.utils.tensorboard")))
        self._file.flush()
        self._pending: list[bytes] = []
        self._max_queue = max_queue
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._flush_every, args=(flush_secs,), daemon=True,
                                        name="ember-tensorboard-flush")
        self._thread.start()
        atexit.register(self.close)

    def get_logdir(self) -> str:
        return self._log_dir

    @property
    def path(self) -> str:
        """The event file's path."""
        return self._file.name

    def _flush_every(self, secs):
        while not self._stop.wait(secs):
            self.flush()

    def add_event(self, event: bytes) -> None:
        """Queue an encoded ``Event``; write the queue once ``max_queue`` events are pending."""
        with self._lock:
            if self._file is None:
                raise RuntimeError(f"add_event on a closed FileWriter ({self._log_dir})")
            self._pending.append(event)
            full = len(self._pending) >= self._max_queue
        if full:
            self.flush()

    def add_summary(self, summary: bytes, global_step=None, walltime=None) -> None:
        """Queue an encoded ``Summary`` (see ``summary``) as an event at ``global_step`` and ``walltime``."""
        self.add_event(_proto.event(time.time() if walltime is None else float(walltime),
                                    None if global_step is None else int(global_step), summary=summary))

    def add_graph_def(self, graph_def: bytes, walltime=None) -> None:
        """Queue an encoded ``GraphDef`` as an event (with no step)."""
        self.add_event(_proto.event(time.time() if walltime is None else float(walltime), graph_def=graph_def))

    def add_graph(self, graph_profile, walltime=None) -> None:
        """Queue an encoded (``GraphDef``, ``RunMetadata``): the graph, then the run metadata tagged "step1"."""
        graph_def, run_metadata = graph_profile
        self.add_graph_def(graph_def, walltime)
        self.add_event(_proto.event(time.time() if walltime is None else float(walltime),
                                    tagged_run_metadata=("step1", run_metadata)))

    def flush(self) -> None:
        """Write every pending event to disk."""
        with self._lock:
            if self._file is None or not self._pending:
                return
            records = b"".join(frame(e) for e in self._pending)
            self._pending.clear()
            self._file.write(records)
            self._file.flush()

    def close(self) -> None:
        """Flush and close the file; closing twice is harmless."""
        if self._file is None:
            return
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        self.flush()
        with self._lock:
            self._file.close()
            self._file = None
        atexit.unregister(self.close)


class SummaryWriter:
    """Log scalars, histograms, images, text, audio, video, embeddings, meshes, tensors and hparams to
    ``log_dir`` for TensorBoard.

    ``log_dir`` defaults to ``runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname><comment>``; ``purge_step`` makes
    TensorBoard drop events from an earlier run at steps >= it.
    """

    def __init__(self, log_dir=None, comment: str = "", purge_step: int | None = None, max_queue: int = 10,
                 flush_secs: float = 120, filename_suffix: str = ""):
        if not log_dir:
            log_dir = os.path.join("runs", datetime.now().strftime("%b%d_%H-%M-%S") + "_"
                                   + socket.gethostname() + comment)
        self.log_dir = str(log_dir)
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        self.file_writer: FileWriter | None = None
        self.all_writers: dict[str, FileWriter] | None = None
        self._projector_embeddings: list[dict] = []     # every add_embedding so far, for projector_config.pbtxt
        self._get_file_writer()

    def _new_file_writer(self, log_dir) -> FileWriter:
        return FileWriter(log_dir, self.max_queue, self.flush_secs, self.filename_suffix)

    def _get_file_writer(self) -> FileWriter:
        """The main event file's writer, opened anew after ``close()``."""
        if self.file_writer is None:
            self.file_writer = self._new_file_writer(self.log_dir)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                now = time.time()
                self.file_writer.add_event(_proto.event(now, self.purge_step, file_version="brain.Event:2"))
                self.file_writer.add_event(_proto.event(now, self.purge_step, session_log_status=1))  # START
                self.purge_step = None
        return self.file_writer

    def get_logdir(self) -> str:
        return self.log_dir

    def add_scalar(self, tag: str, scalar_value, global_step=None, walltime=None, new_style: bool = False,
                   double_precision: bool = False) -> None:
        self._get_file_writer().add_summary(
            summary.scalar(tag, scalar_value, new_style=new_style, double_precision=double_precision),
            global_step, walltime)

    def add_scalars(self, main_tag: str, tag_scalar_dict: dict, global_step=None, walltime=None) -> None:
        """One scalar per key, each in its own run ``<log_dir>/<main_tag with / as _>_<key>``, all tagged main_tag."""
        walltime = time.time() if walltime is None else walltime
        log_dir = self._get_file_writer().get_logdir()
        for tag, value in tag_scalar_dict.items():
            sub_dir = os.path.join(log_dir, main_tag.replace("/", "_") + "_" + tag)
            if sub_dir not in self.all_writers:
                self.all_writers[sub_dir] = self._new_file_writer(sub_dir)
            self.all_writers[sub_dir].add_summary(summary.scalar(main_tag, value), global_step, walltime)

    def add_histogram(self, tag: str, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins: int | None = None) -> None:
        self._get_file_writer().add_summary(summary.histogram(tag, values, bins, max_bins), global_step, walltime)

    def add_histogram_raw(self, tag: str, min, max, num, sum, sum_squares, bucket_limits, bucket_counts,
                          global_step=None, walltime=None) -> None:
        self._get_file_writer().add_summary(
            summary.histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts),
            global_step, walltime)

    def add_image(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "CHW") -> None:
        """One image (CHW, HWC or HW): floats in [0, 1] or uint8 in [0, 255]."""
        self._get_file_writer().add_summary(summary.image(tag, img_tensor, dataformats=dataformats),
                                            global_step, walltime)

    def add_images(self, tag: str, img_tensor, global_step=None, walltime=None, dataformats: str = "NCHW") -> None:
        """A batch of images, tiled eight to a row into one image."""
        self._get_file_writer().add_summary(summary.image(tag, img_tensor, dataformats=dataformats),
                                            global_step, walltime)

    def add_text(self, tag: str, text_string: str, global_step=None, walltime=None) -> None:
        self._get_file_writer().add_summary(summary.text(tag, text_string), global_step, walltime)

    def add_tensor(self, tag: str, tensor, global_step=None, walltime=None) -> None:
        """A Tensor's values and shape, exactly (for the "tensor" plugin)."""
        self._get_file_writer().add_summary(summary.tensor_proto(tag, tensor), global_step, walltime)

    def add_image_with_boxes(self, tag: str, img_tensor, box_tensor, global_step=None, walltime=None, rescale=1,
                             dataformats: str = "CHW", labels=None) -> None:
        """One image with boxes (N, 4) of (xmin, ymin, xmax, ymax) pixels drawn on it in red, labelled with
        ``labels`` (a string or one per box; ignored if their count differs). Needs Pillow."""
        if labels is not None:
            labels = [labels] if isinstance(labels, str) else labels
            if len(labels) != box_tensor.shape[0]:
                labels = None
        self._get_file_writer().add_summary(
            summary.image_boxes(tag, img_tensor, box_tensor, rescale=rescale, dataformats=dataformats,
                                labels=labels), global_step, walltime)

    def add_figure(self, tag: str, figure, global_step=None, close: bool = True, walltime=None) -> None:
        """A matplotlib figure (or a list of them, tiled) rendered as an image. Needs matplotlib."""
        self.add_image(tag, summary.figure_to_image(figure, close), global_step, walltime,
                       dataformats="NCHW" if isinstance(figure, list) else "CHW")

    def add_video(self, tag: str, vid_tensor, global_step=None, fps=4, walltime=None) -> None:
        """Videos (N, T, C, H, W), uint8 in [0, 255] or floats in [0, 1], as one animated GIF. Needs moviepy."""
        self._get_file_writer().add_summary(summary.video(tag, vid_tensor, fps), global_step, walltime)

    def add_audio(self, tag: str, snd_tensor, global_step=None, sample_rate: int = 44100, walltime=None) -> None:
        """Mono sound (1, L) with values in [-1, 1], as a 16-bit WAV."""
        self._get_file_writer().add_summary(summary.audio(tag, snd_tensor, sample_rate=sample_rate),
                                            global_step, walltime)

    def add_onnx_graph(self, prototxt) -> None:
        """The graph of the ONNX model saved at path ``prototxt``, for TensorBoard's graph view. Needs onnx."""
        self._get_file_writer().add_graph_def(_onnx_graph.load_onnx_graph(prototxt))

    def add_graph(self, model, input_to_model=None, verbose: bool = False, use_strict_trace: bool = True) -> None:
        """The graph of ``model`` traced (``ember.jit.trace``, in eval mode) on ``input_to_model`` (a tensor or
        a tuple of them), for TensorBoard's graph view; ``verbose`` prints the traced graph,
        ``use_strict_trace`` is the trace's ``strict``."""
        self._get_file_writer().add_graph(_model_graph.graph(model, input_to_model, verbose, use_strict_trace))

    @staticmethod
    def _encode(rawstr: str) -> str:
        """A tag as a single path component: %, / and \\ percent-encoded."""
        return rawstr.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None, tag: str = "default",
                      metadata_header=None) -> None:
        """Points (N, D) for the embedding projector, with optional labels ``metadata`` (N of them; rows of
        columns named by ``metadata_header``) and images ``label_img`` (N, C, H, W), written to
        ``<log_dir>/<global_step:05>/<tag>`` and listed in ``<log_dir>/projector_config.pbtxt``."""
        mat = summary.to_numpy(mat)
        if global_step is None:
            global_step = 0
        subdir = f"{str(global_step).zfill(5)}/{self._encode(tag)}"
        log_dir = self._get_file_writer().get_logdir()
        save_path = os.path.join(log_dir, subdir)
        if os.path.isdir(save_path):
            print("warning: Embedding dir exists, did you set global_step for add_embedding()?")
        elif os.path.exists(save_path):
            raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. Cannot proceed.")
        else:
            os.makedirs(save_path)
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise AssertionError("#labels should equal with #data points")
            _embedding.write_metadata(metadata, save_path, metadata_header=metadata_header)
        if label_img is not None:
            if mat.shape[0] != label_img.shape[0]:
                raise AssertionError("#images should equal with #data points")
            _embedding.write_sprite(label_img, save_path)
        if mat.ndim != 2:
            raise AssertionError("mat should be 2D, where mat.size(0) is the number of data points")
        _embedding.write_tensors(mat, save_path)
        self._projector_embeddings.append(_embedding.embedding_info(
            tag, global_step, subdir, metadata is not None, None if label_img is None else label_img.shape))
        _embedding.write_projector_config(self._projector_embeddings, log_dir)

    def add_pr_curve(self, tag: str, labels, predictions, global_step=None, num_thresholds: int = 127,
                     weights=None, walltime=None) -> None:
        """A precision-recall curve of ``predictions`` in [0, 1] against binary ``labels``."""
        self._get_file_writer().add_summary(summary.pr_curve(tag, labels, predictions, num_thresholds, weights),
                                            global_step, walltime)

    def add_pr_curve_raw(self, tag: str, true_positive_counts, false_positive_counts, true_negative_counts,
                         false_negative_counts, precision, recall, global_step=None, num_thresholds: int = 127,
                         weights=None, walltime=None) -> None:
        self._get_file_writer().add_summary(
            summary.pr_curve_raw(tag, true_positive_counts, false_positive_counts, true_negative_counts,
                                 false_negative_counts, precision, recall, num_thresholds), global_step, walltime)

    def add_custom_scalars_multilinechart(self, tags, category: str = "default", title: str = "untitled") -> None:
        """A custom-scalars chart plotting the scalars ``tags`` together."""
        self._get_file_writer().add_summary(summary.custom_scalars({category: {title: ["Multiline", tags]}}))

    def add_custom_scalars_marginchart(self, tags, category: str = "default", title: str = "untitled") -> None:
        """A custom-scalars chart of a value and its lower and upper bounds: ``tags`` are their 3 scalar tags."""
        if len(tags) != 3:
            raise AssertionError(f"Expected 3 tags, got {len(tags)}.")
        self._get_file_writer().add_summary(summary.custom_scalars({category: {title: ["Margin", tags]}}))

    def add_custom_scalars(self, layout: dict) -> None:
        """The custom-scalars layout {category: {chart title: ["Multiline" or "Margin", scalar tags]}}."""
        self._get_file_writer().add_summary(summary.custom_scalars(layout))

    def add_mesh(self, tag: str, vertices, colors=None, faces=None, config_dict=None, global_step=None,
                 walltime=None) -> None:
        """A mesh or point cloud: vertices (B, N, 3), per-vertex colors (B, N, 3) and triangles' vertex indices
        faces (B, F, 3); ``config_dict`` configures the three.js scene (camera, lights, material)."""
        self._get_file_writer().add_summary(summary.mesh(tag, vertices, colors, faces, config_dict),
                                            global_step, walltime)

    def add_hparams(self, hparam_dict: dict, metric_dict: dict, hparam_domain_discrete: dict | None = None,
                    run_name: str | None = None, global_step=None) -> None:
        """Log a run's hyperparameters and final metrics in sub-run ``run_name`` (default: the current time)."""
        exp, start, end = summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        log_dir = os.path.join(self._get_file_writer().get_logdir(), run_name or str(time.time()))
        with SummaryWriter(log_dir, max_queue=self.max_queue, flush_secs=self.flush_secs,
                           filename_suffix=self.filename_suffix) as w:
            for s in (exp, start, end):
                w.file_writer.add_summary(s, global_step)
            for k, v in metric_dict.items():
                w.add_scalar(k, v, global_step)

    def flush(self) -> None:
        """Write every pending event of every event file to disk."""
        for w in (self.all_writers or {}).values():
            w.flush()

    def close(self) -> None:
        """Flush and close every event file; later ``add_*`` calls open new ones."""
        for w in (self.all_writers or {}).values():
            w.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

