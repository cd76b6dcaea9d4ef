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

from . import _proto, summary
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
    """Log scalars, histograms, images, text and hparams to ``log_dir`` for TensorBoard.

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

    def __getattr__(self, name):
        if name.startswith("add_"):
            raise AttributeError(f"ember does not implement SummaryWriter.{name} yet")
        raise AttributeError(f"'SummaryWriter' object has no attribute '{name}'")
