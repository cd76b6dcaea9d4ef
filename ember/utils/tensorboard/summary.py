"""``torch.utils.tensorboard.summary``: build encoded ``Summary`` messages (scalar, histogram, image, text,
hparams, tensor, audio, video, custom scalars layout, mesh) from ember Tensors, NumPy arrays or Python numbers;
``FileWriter.add_summary`` writes them."""
from __future__ import annotations

import io
import json
import numbers
import os
import tempfile
import wave

import numpy as np

from ember import _dtype
from ember._optional import require
from ember._tensor import Size, Tensor

from . import _proto
from ._png import encode_png


def to_numpy(x) -> np.ndarray:
    """A NumPy array of ``x`` (a Tensor on any device, with or without grad, an array, a number or a list).
    As torch's writer does, bfloat16 becomes float16 and a number a 1-element array."""
    if isinstance(x, Tensor):
        x = x.detach()
        return (x.to(_dtype.float16) if x.dtype == _dtype.bfloat16 else x).numpy(force=True)
    if np.isscalar(x):
        return np.array([x])
    return np.asarray(x)


def _pillow(what: str):
    """``PIL.Image``, ``ImageDraw`` and ``ImageFont``, or an ImportError naming the extra to install."""
    return tuple(require(f"PIL.{m}", f"{what} needs Pillow", "vision") for m in ("Image", "ImageDraw", "ImageFont"))


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


def _to_uint8(hwc: np.ndarray) -> np.ndarray:
    """uint8 values as they are; any other dtype taken as [0, 1], scaled by 255 and clipped."""
    if hwc.dtype == np.uint8:
        return hwc
    return (hwc.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)


def _draw_box(draw, font, box, label) -> None:
    """A red box outline of width 2; a label in black on a red band just inside the box's bottom edge."""
    left, top, right, bottom = box
    draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)], width=2, fill="Red")
    if label:
        x0, y0, x1, y1 = font.getbbox(label)
        text_w, text_h = x1 - x0, y1 - y0
        margin = np.ceil(0.05 * text_h)
        draw.rectangle([(left, bottom - text_h - 2 * margin), (left + text_w, bottom)], fill="Red")
        draw.text((left + margin, bottom - text_h - margin), label, fill="black", font=font)


def _image_proto(hwc: np.ndarray, rescale: float = 1, boxes=None, labels=None) -> bytes:
    """A ``Summary.Image`` of a uint8 (H, W, C) image, PNG-encoded here; drawing boxes or resizing (Lanczos)
    uses Pillow. Height and width are the image's before resizing, as torch records them."""
    height, width, channels = hwc.shape
    if rescale == 1 and boxes is None:
        png = encode_png(hwc)
    else:
        Image, ImageDraw, ImageFont = _pillow("an image summary with boxes or rescale")
        img = Image.fromarray(hwc)
        if boxes is not None:
            font = ImageFont.load_default()
            for i in range(boxes.shape[0]):
                _draw_box(ImageDraw.Draw(img), font, boxes[i, :4], None if labels is None else labels[i])
        img = img.resize((int(width * rescale), int(height * rescale)), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        img.save(out, format="PNG")
        png = out.getvalue()
    return _proto.image_proto(height, width, channels, png)


def image(tag: str, tensor, rescale: float = 1, dataformats: str = "NCHW") -> bytes:
    """An image as PNG: uint8 values as they are, any other dtype taken as [0, 1] and scaled by 255;
    ``rescale`` resizes it (with Pillow)."""
    hwc = _to_uint8(to_hwc(to_numpy(tensor), dataformats))
    return _proto.summary_value(tag, image=_image_proto(hwc, rescale))


def image_boxes(tag: str, tensor_image, tensor_boxes, rescale: float = 1, dataformats: str = "CHW",
                labels=None) -> bytes:
    """An image with boxes (rows of ``tensor_boxes``: xmin, ymin, xmax, ymax in pixels) drawn on it in red,
    each labelled with ``labels[i]`` if given; drawn with Pillow."""
    hwc = _to_uint8(to_hwc(to_numpy(tensor_image), dataformats))
    boxes = to_numpy(tensor_boxes)
    return _proto.summary_value(tag, image=_image_proto(hwc, rescale, boxes, labels))


def figure_to_image(figures, close: bool = True) -> np.ndarray:
    """A matplotlib figure rendered to a (3, H, W) uint8 array, or a list of figures to (N, 3, H, W);
    ``close`` closes them. Needs matplotlib."""
    try:
        import matplotlib.pyplot as plt
        from matplotlib.backends import backend_agg
    except ImportError:
        raise ImportError("SummaryWriter.add_figure needs matplotlib: pip install matplotlib") from None

    def render(figure):
        canvas = backend_agg.FigureCanvasAgg(figure)
        canvas.draw()
        width, height = figure.canvas.get_width_height()
        rgba = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8).reshape(height, width, 4)
        if close:
            plt.close(figure)
        return rgba[:, :, :3].transpose(2, 0, 1)

    if isinstance(figures, list):
        return np.stack([render(f) for f in figures])
    return render(figures)


def _video_frames(v: np.ndarray) -> np.ndarray:
    """(N, T, C, H, W) videos -> (T, H', W', C) frames, the N videos tiled in a grid of 2^k rows and
    2^k or 2^(k+1) columns (N padded with black videos to a power of two); uint8 scaled to [0, 1]."""
    n, t, c, h, w = v.shape
    if v.dtype == np.uint8:
        v = v.astype(np.float32) / 255.0
    if n & (n - 1) or n == 0:
        v = np.concatenate([v, np.zeros((2 ** n.bit_length() - n, t, c, h, w))])
    rows = 2 ** ((n.bit_length() - 1) // 2)
    cols = v.shape[0] // rows
    return v.reshape(rows, cols, t, c, h, w).transpose(2, 0, 4, 1, 5, 3).reshape(t, rows * h, cols * w, c)


def _encode_gif(frames: np.ndarray, fps) -> bytes:
    """(T, H, W, C) uint8 frames as an animated GIF, with moviepy (1.x's ``moviepy.editor`` or 2.x)."""
    try:
        import moviepy
    except ImportError:
        raise ImportError("SummaryWriter.add_video needs moviepy: pip install moviepy") from None
    try:
        from moviepy import editor
        clip_class = editor.ImageSequenceClip
    except ImportError:
        clip_class = moviepy.ImageSequenceClip          # moviepy 2 has no moviepy.editor
    clip = clip_class(list(frames), fps=fps)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "video.gif")
        clip.write_gif(path, logger=None)
        with open(path, "rb") as f:
            return f.read()


def video(tag: str, tensor, fps=4) -> bytes:
    """A batch of videos (N, T, C, H, W) as one animated GIF (the videos tiled in a grid), via moviepy."""
    frames = _to_uint8(_video_frames(to_numpy(tensor)).astype(np.float32))
    _, height, width, channels = frames.shape
    return _proto.summary_value(tag, image=_proto.image_proto(height, width, channels,
                                                              _encode_gif(frames, fps)))


def audio(tag: str, tensor, sample_rate: int = 44100) -> bytes:
    """Mono sound (any shape that squeezes to (L,)), values in [-1, 1] (clipped, with a warning), as a
    16-bit PCM WAV."""
    samples = to_numpy(tensor).squeeze()
    if abs(samples).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        samples = samples.clip(-1, 1)
    if samples.ndim != 1:
        raise AssertionError("input tensor should be 1 dimensional.")
    pcm = (samples * np.iinfo(np.int16).max).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm.tobytes())
    return _proto.summary_value(tag, audio=_proto.audio_proto(sample_rate, 1, pcm.shape[-1], out.getvalue()))


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


def _half_bits(a: np.ndarray) -> np.ndarray:
    """Half-precision values as the int32 bits of their float32 values: what torch stores in ``half_val``."""
    return a.astype(np.float32).view(np.int32)


# ember dtype -> (TensorProto dtype, its values' field, how to encode them: a function, a little-endian NumPy
# dtype for packed floats, None for packed varints), as torch's writer maps them
_TENSOR_FIELDS = {
    _dtype.float16: (19, 13, _half_bits), _dtype.bfloat16: (14, 13, _half_bits),
    _dtype.float32: (1, 5, "<f4"), _dtype.float64: (2, 6, "<f8"),
    _dtype.int8: (6, 7, None), _dtype.int16: (5, 7, None), _dtype.int32: (3, 7, None),
    _dtype.int64: (9, 10, None), _dtype.uint8: (4, 16, None), _dtype.bool_: (10, 11, None),
    _dtype.complex64: (8, 9, "<c8"), _dtype.complex128: (18, 12, "<c16"),
}


def tensor_proto(tag: str, tensor) -> bytes:
    """A Tensor's values and shape as a ``TensorProto`` for the "tensor" plugin (halves as their float32 bits,
    complex numbers as (real, imaginary) pairs)."""
    if not isinstance(tensor, Tensor):
        raise AttributeError(  # noqa: TRY004 (torch's error type: it calls tensor.numel())
            f"add_tensor takes a Tensor, got {type(tensor).__name__} (no attribute 'numel')")
    if tensor.numel() * tensor.element_size() >= 1 << 31:
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    if tensor.dtype not in _TENSOR_FIELDS:
        raise ValueError(f"{tag} has unsupported tensor dtype {tensor.dtype}")
    dtype, field, encoding = _TENSOR_FIELDS[tensor.dtype]
    values = tensor.detach().numpy(force=True).reshape(-1)
    if callable(encoding):
        values = _proto.packed_varints(field, encoding(values))
    elif encoding is None:
        values = _proto.packed_varints(field, values.tolist())
    else:
        values = _proto.packed_fixed(field, values.astype(encoding))
    return _proto.summary_value(tag, tensor=_proto.varint(1, dtype) + _proto.tensor_shape(tensor.shape) + values,
                                plugin_name="tensor")


def custom_scalars(layout: dict) -> bytes:
    """The custom_scalars plugin's layout: {category: {chart title: [kind, tags]}}, kind "Margin" (tags: value,
    lower, upper) or anything else for a multi-line chart."""
    categories = []
    for title, charts in layout.items():
        entries = []
        for chart_title, chart in charts.items():
            kind, tags = chart[0], list(chart[1])
            if kind == "Margin" and len(tags) != 3:
                raise AssertionError("len(tags) != 3")
            entries.append((chart_title, kind, tags))
        categories.append((title, entries))
    tensor = (_proto.varint(1, _proto.DT_STRING) + _proto.tensor_shape(())
              + _proto.blob(8, _proto.custom_scalars_layout(categories)))
    return _proto.summary_value("custom_scalars__config__", tensor=tensor, plugin_name="custom_scalars")


_MESH_PARTS = (("VERTEX", 1), ("FACE", 2), ("COLOR", 3))     # MeshPluginData.ContentType


def mesh(tag: str, vertices, colors, faces, config_dict, display_name=None, description=None) -> bytes:
    """A mesh or point cloud for the mesh plugin: one (B, N, 3) float tensor value per part given
    (vertices, faces, colors), tagged ``<tag>_VERTEX`` etc."""
    json_config = "{}" if config_dict is None else json.dumps(config_dict, sort_keys=True)
    parts = [(x.detach().numpy(force=True) if isinstance(x, Tensor) else np.asarray(x), name, kind)
             for x, (name, kind) in zip((vertices, faces, colors), _MESH_PARTS) if x is not None]
    components = 0
    for _, _, kind in parts:
        components |= 1 << kind
    out = b""
    for arr, name, kind in parts:
        if arr.ndim != 3:
            raise ValueError(f"Tensor shape should be of shape BxNx3, but got {Size(arr.shape)}.")
        content = _proto.mesh_plugin_data(tag, kind, components, arr.shape, json_config)
        tensor = (_proto.varint(1, _proto.DT_FLOAT) + _proto.tensor_shape(arr.shape)
                  + _proto.packed_fixed(5, arr.reshape(-1).astype("<f4")))
        out += _proto.summary_value(f"{tag}_{name}", tensor=tensor, plugin_name="mesh", plugin_content=content,
                                    display_name=display_name, description=description)
    return out


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
