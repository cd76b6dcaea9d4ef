"""``torch.utils.tensorboard.summary``: build encoded ``Summary`` messages (scalar, histogram, image, text,
hparams) from ember Tensors, NumPy arrays or Python numbers; ``FileWriter.add_summary`` writes them."""
from __future__ import annotations

import numbers

import numpy as np

from ember._tensor import Tensor

from . import _proto
from ._png import encode_png


def to_numpy(x) -> np.ndarray:
    """A NumPy array of ``x`` (a Tensor on any device, with or without grad, an array, a number or a list)."""
    if isinstance(x, Tensor):
        return x.detach().numpy(force=True)
    return np.asarray(x)


def scalar(name: str, scalar, new_style: bool = False, double_precision: bool = False) -> bytes:
    """One scalar: ``simple_value``, or (``new_style``) a float32/float64 tensor for the scalars plugin."""
    arr = to_numpy(scalar)
    if arr.size != 1:
        raise ValueError(f"scalar should be 0D: {name!r} got a value of shape {arr.shape}")
    value = float(arr.reshape(()))
    if not new_style:
        return _proto.summary_value(name, simple_value=value)
    if double_precision:
        tensor = _proto.tensor_proto(_proto.DT_DOUBLE, double_val=[value])
    else:
        tensor = _proto.tensor_proto(_proto.DT_FLOAT, float_val=[value])
    return _proto.summary_value(name, tensor=tensor, plugin_name="scalars")


def _tensorflow_bins() -> np.ndarray:
    """TensorFlow's default histogram edges: 0 and +-1e-12 growing by 10% up to 1e20."""
    edges, v = [], 1e-12
    while v < 1e20:
        edges.append(v)
        v *= 1.1
    return np.array([-e for e in reversed(edges)] + [0.0] + edges)


_TF_BINS = _tensorflow_bins()


def histogram(name: str, values, bins="tensorflow", max_bins: int | None = None) -> bytes:
    """A histogram of ``values``: ``np.histogram`` with ``bins`` ('tensorflow' or anything NumPy takes),
    at most ``max_bins`` buckets (merged in equal groups), trimmed to the non-empty range plus one empty
    bucket on the left, as TensorBoard draws it."""
    values = to_numpy(values).reshape(-1).astype(np.float64)
    counts, limits = np.histogram(values, bins=_TF_BINS if isinstance(bins, str) and bins == "tensorflow" else bins)
    if max_bins is not None and len(counts) > max_bins:
        group = len(counts) // max_bins
        counts = np.pad(counts, (0, -len(counts) % group)).reshape(-1, group).sum(1)
        limits = np.append(limits[:-1:group], limits[-1])
    filled = np.flatnonzero(counts)
    if filled.size == 0:
        raise ValueError(f"the histogram of {name!r} is empty: none of its {values.size} values falls in the bins")
    first, last = filled[0], filled[-1]
    counts = np.concatenate([[0], counts[:last + 1]]) if first == 0 else counts[first - 1:last + 1]
    return histogram_raw(name, values.min(), values.max(), values.size, values.sum(), values.dot(values),
                         limits[first:last + 2], counts)


def histogram_raw(name: str, min, max, num, sum, sum_squares, bucket_limits, bucket_counts) -> bytes:
    """A histogram from precomputed statistics; ``bucket_limits`` are the buckets' right edges."""
    if len(bucket_limits) != len(bucket_counts):
        raise ValueError(f"histogram {name!r}: {len(bucket_limits)} bucket_limits but {len(bucket_counts)} "
                         "bucket_counts; they must have the same length")
    histo = _proto.histogram_proto(float(min), float(max), float(num), float(sum), float(sum_squares),
                                   bucket_limits, bucket_counts)
    return _proto.summary_value(name, histo=histo)


def _grid(nchw: np.ndarray, ncols: int = 8) -> np.ndarray:
    """Tile (N, C, H, W) images row by row, ``ncols`` per row, without padding -> (C, H*rows, W*cols)."""
    n, c, h, w = nchw.shape
    ncols = min(n, ncols)
    nrows = -(-n // ncols)
    canvas = np.zeros((c, h * nrows, w * ncols), dtype=nchw.dtype)
    for i in range(n):
        row, col = divmod(i, ncols)
        canvas[:, row * h:(row + 1) * h, col * w:(col + 1) * w] = nchw[i]
    return canvas


def to_hwc(arr: np.ndarray, dataformats: str) -> np.ndarray:
    """An image (or a batch, tiled into a grid) in layout ``dataformats`` -> (H, W, 3 or 4)."""
    fmt = dataformats.upper()
    if len(set(fmt)) != len(fmt) or set(fmt) - set("NCHW") or not {"H", "W"} <= set(fmt) or arr.ndim != len(fmt):
        raise ValueError(f"image of shape {arr.shape} does not match dataformats {dataformats!r} "
                         "(expected one of N, C, H, W per dimension, with H and W)")
    if "N" in fmt:
        arr = _grid(arr.transpose([fmt.index(d) for d in "NCHW"]) if "C" in fmt else
                    arr.transpose([fmt.index(d) for d in "NHW"])[:, None])
        fmt = "CHW"
    if "C" not in fmt:
        arr, fmt = arr[None], "C" + fmt
    hwc = arr.transpose([fmt.index(d) for d in "HWC"])
    if hwc.shape[2] == 1:
        hwc = np.repeat(hwc, 3, axis=2)
    if hwc.shape[2] not in (3, 4):
        raise ValueError(f"image of shape {arr.shape} ({dataformats}) has {hwc.shape[2]} channels; "
                         "expected 1, 3 or 4")
    return hwc


def image(tag: str, tensor, rescale: float = 1, dataformats: str = "NCHW") -> bytes:
    """An image as PNG: uint8 values as they are, any other dtype taken as [0, 1] and scaled by 255."""
    if rescale != 1:
        raise NotImplementedError("ember's image summaries do not resize: rescale must be 1")
    hwc = to_hwc(to_numpy(tensor), dataformats)
    if hwc.dtype != np.uint8:
        hwc = (hwc.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
    height, width, channels = hwc.shape
    return _proto.summary_value(tag, image=_proto.image_proto(height, width, channels, encode_png(hwc)))


def text(tag: str, text: str) -> bytes:
    """Text (Markdown) for the text plugin, under tag ``<tag>/text_summary``."""
    tensor = _proto.tensor_proto(_proto.DT_STRING, string_val=[text], shape=(1,))
    return _proto.summary_value(tag + "/text_summary", tensor=tensor, plugin_name="text")


def pr_curve(tag: str, labels, predictions, num_thresholds: int = 127, weights=None) -> bytes:
    """A precision-recall curve at ``num_thresholds`` (at most 127) evenly spaced thresholds in [0, 1]:
    a prediction p counts as positive at threshold t/(T-1) when floor(p*(T-1)) >= t."""
    num_thresholds = min(num_thresholds, 127)
    labels = to_numpy(labels).reshape(-1).astype(np.float64)
    buckets = np.floor(to_numpy(predictions).reshape(-1) * (num_thresholds - 1)).astype(np.int64)
    weights = np.broadcast_to(1.0 if weights is None else to_numpy(weights).reshape(-1), labels.shape)
    inside = (buckets >= 0) & (buckets < num_thresholds)             # predictions outside [0, 1] are dropped
    buckets, labels, weights = buckets[inside], labels[inside], weights[inside]
    positives = np.bincount(buckets, labels * weights, minlength=num_thresholds)
    negatives = np.bincount(buckets, (1 - labels) * weights, minlength=num_thresholds)
    tp, fp = np.cumsum(positives[::-1])[::-1], np.cumsum(negatives[::-1])[::-1]   # counts at or above each bucket
    return pr_curve_raw(tag, tp, fp, fp[0] - fp, tp[0] - tp, tp / np.maximum(tp + fp, 1e-7),
                        tp / np.maximum(tp[0], 1e-7), num_thresholds)


def pr_curve_raw(tag: str, tp, fp, tn, fn, precision, recall, num_thresholds: int = 127) -> bytes:
    """A precision-recall curve from its six per-threshold series, for the pr_curves plugin."""
    data = np.stack([to_numpy(x).astype(np.float64).reshape(-1) for x in (tp, fp, tn, fn, precision, recall)])
    tensor = _proto.tensor_proto(_proto.DT_FLOAT, float_val=data.reshape(-1), shape=data.shape)
    return _proto.summary_value(tag, tensor=tensor, plugin_name="pr_curves",
                                plugin_content=_proto.varint(2, min(num_thresholds, 127)))   # num_thresholds=2


_STRING, _FLOAT64 = 1, 3       # hparams DataType
_STATUS_SUCCESS = 1


def _hparam_value(name, v):
    if isinstance(v, Tensor):
        return float(to_numpy(v).reshape(-1)[0])
    if isinstance(v, (str, numbers.Real)):
        return v
    raise ValueError(f"hparam {name!r}: value should be one of int, float, str, bool, or Tensor, got {type(v)}")


def hparams(hparam_dict: dict, metric_dict: dict, hparam_domain_discrete: dict | None = None):
    """The three hparams-plugin summaries (experiment, session start, session end) of one run."""
    if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
        raise TypeError("hparam_dict and metric_dict should be dictionary.")
    domains = hparam_domain_discrete or {}
    if not isinstance(domains, dict) or any(not isinstance(d, (list, tuple)) or k not in hparam_dict
                                           for k, d in domains.items()):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary mapping hparam names in "
                        "hparam_dict to lists of their possible values")
    values = {k: _hparam_value(k, v) for k, v in hparam_dict.items() if v is not None}
    infos = [(k, _STRING if isinstance(v, str) else _FLOAT64, domains.get(k)) for k, v in values.items()]
    plugin = {"plugin_name": "hparams"}
    return (_proto.summary_value("_hparams_/experiment", plugin_content=_proto.hparams_experiment(infos, metric_dict),
                                 **plugin),
            _proto.summary_value("_hparams_/session_start_info",
                                 plugin_content=_proto.hparams_session_start(values), **plugin),
            _proto.summary_value("_hparams_/session_end_info",
                                 plugin_content=_proto.hparams_session_end(_STATUS_SUCCESS), **plugin))
