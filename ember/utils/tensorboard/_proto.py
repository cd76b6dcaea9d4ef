"""The few protobuf wire-format encoders event files need; a message is the concatenation of its fields' bytes.

Field numbers come from TensorBoard's ``event.proto``, ``summary.proto``, ``tensor.proto`` and the hparams
plugin's protos; each builder names the message it writes.
"""
from __future__ import annotations

import struct

import numpy as np

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1          # negative int64s are sent as their 64-bit two's complement
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(field: int, wire: int) -> bytes:
    return _varint(field << 3 | wire)


def varint(field: int, n: int) -> bytes:
    """An int32/int64/enum/bool field."""
    return _key(field, _VARINT) + _varint(int(n))


def double(field: int, x: float) -> bytes:
    return _key(field, _FIXED64) + struct.pack("<d", x)


def float32(field: int, x: float) -> bytes:
    return _key(field, _FIXED32) + struct.pack("<f", x)


def blob(field: int, data: bytes | str) -> bytes:
    """A string, bytes or embedded-message field."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return _key(field, _BYTES) + _varint(len(data)) + data


def packed_doubles(field: int, xs) -> bytes:
    """A ``repeated double`` field, packed (proto3's default)."""
    return blob(field, np.asarray(xs, dtype="<f8").tobytes())


def packed_varints(field: int, xs) -> bytes:
    """A packed ``repeated`` int32/int64/uint32/bool field; nothing when empty, as protobuf writes it."""
    return blob(field, b"".join(_varint(int(x)) for x in xs)) if len(xs) else b""


def packed_fixed(field: int, arr: np.ndarray) -> bytes:
    """A packed ``repeated`` float/double field from a little-endian array; nothing when empty."""
    return blob(field, arr.tobytes()) if arr.size else b""


def optional(encode, field: int, value) -> bytes:
    """``encode(field, value)``, or nothing for an unset (None) field."""
    return b"" if value is None else encode(field, value)


# ---- tensorboard.Event and its parts ------------------------------------------------------------------

def event(wall_time: float, step: int | None = None, *, file_version: str | None = None,
          graph_def: bytes | None = None, summary: bytes | None = None, session_log_status: int | None = None,
          tagged_run_metadata: tuple[str, bytes] | None = None, source_writer: str | None = None) -> bytes:
    """``Event``: wall_time=1, step=2, file_version=3, graph_def=4, summary=5, session_log=7 (status=1),
    tagged_run_metadata=8 (tag=1, run_metadata=2: an encoded ``RunMetadata``), source_metadata=10 (writer=1)."""
    session_log = None if session_log_status is None else varint(1, session_log_status)
    source = None if source_writer is None else blob(1, source_writer)
    tagged = None if tagged_run_metadata is None else blob(1, tagged_run_metadata[0]) + blob(2, tagged_run_metadata[1])
    return (double(1, wall_time) + optional(varint, 2, step) + optional(blob, 3, file_version)
            + optional(blob, 4, graph_def) + optional(blob, 5, summary) + optional(blob, 7, session_log)
            + optional(blob, 8, tagged) + optional(blob, 10, source))


def summary_value(tag: str, *, simple_value: float | None = None, image: bytes | None = None,
                  histo: bytes | None = None, audio: bytes | None = None, tensor: bytes | None = None,
                  plugin_name: str | None = None, plugin_content: bytes = b"", display_name: str | None = None,
                  description: str | None = None) -> bytes:
    """A ``Summary`` holding one ``Summary.Value``: tag=1, simple_value=2, image=4, histo=5, audio=6, tensor=8,
    metadata=9 (``SummaryMetadata``: plugin_data=1 (plugin_name=1, content=2), display_name=2,
    summary_description=3). Concatenated, such Summaries are one Summary with several values."""
    metadata = None
    if plugin_name is not None:
        metadata = (blob(1, blob(1, plugin_name) + optional(blob, 2, plugin_content or None))
                    + optional(blob, 2, display_name or None) + optional(blob, 3, description or None))
    value = (blob(1, tag) + optional(float32, 2, simple_value) + optional(blob, 4, image) + optional(blob, 5, histo)
             + optional(blob, 6, audio) + optional(blob, 8, tensor) + optional(blob, 9, metadata))
    return blob(1, value)


def histogram_proto(min: float, max: float, num: float, sum: float, sum_squares: float,
                    bucket_limit, bucket) -> bytes:
    """``HistogramProto``: min=1 .. sum_squares=5, bucket_limit=6 and bucket=7 (right edges and counts)."""
    return (double(1, min) + double(2, max) + double(3, num) + double(4, sum) + double(5, sum_squares)
            + packed_doubles(6, bucket_limit) + packed_doubles(7, bucket))


def image_proto(height: int, width: int, colorspace: int, png: bytes) -> bytes:
    """``Summary.Image``: height=1, width=2, colorspace=3 (channel count), encoded_image_string=4."""
    return varint(1, height) + varint(2, width) + varint(3, colorspace) + blob(4, png)


def audio_proto(sample_rate: float, num_channels: int, length_frames: int, wav: bytes) -> bytes:
    """``Summary.Audio``: sample_rate=1 (float), num_channels=2, length_frames=3, encoded_audio_string=4,
    content_type=5."""
    return (float32(1, sample_rate) + varint(2, num_channels) + varint(3, length_frames) + blob(4, wav)
            + blob(5, "audio/wav"))


DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7


def tensor_proto(dtype: int, *, float_val=None, double_val=None, string_val=None, shape=()) -> bytes:
    """``TensorProto``: dtype=1, tensor_shape=2 (dim=2: size=1), float_val=5, double_val=6, string_val=8."""
    dims = b"".join(blob(2, varint(1, n)) for n in shape)
    floats = None if float_val is None else np.asarray(float_val, dtype="<f4").tobytes()
    return (varint(1, dtype) + (blob(2, dims) if shape else b"") + optional(blob, 5, floats)
            + optional(packed_doubles, 6, double_val) + b"".join(blob(8, s) for s in string_val or ()))


def tensor_shape(shape) -> bytes:
    """``TensorProto.tensor_shape``=2, set even when it has no dims (``TensorShapeProto.dim``=2: size=1)."""
    return blob(2, b"".join(blob(2, varint(1, n)) for n in shape))


# ---- GraphDef, the graph plugin's graph --------------------------------------------------------------------

def attr_type(dtype: int) -> bytes:
    """``AttrValue.type``=6 (set even when 0: it is a oneof member)."""
    return varint(6, dtype)


def attr_shape(dims) -> bytes:
    """``AttrValue.shape``=7: a ``TensorShapeProto`` (dim=2: size=1)."""
    return blob(7, b"".join(blob(2, optional(varint, 1, d or None)) for d in dims))


def attr_string(s: bytes) -> bytes:
    """``AttrValue.s``=2."""
    return blob(2, s)


def graph_def(nodes, producer: int) -> bytes:
    """``GraphDef``: node=1 (``NodeDef``: name=1, op=2, input=3, attr=5, a map<string, AttrValue> of entries
    key=1, value=2), versions=4 (``VersionDef.producer``=1). ``nodes`` holds (name, op, inputs, attrs) with
    attrs a dict of encoded AttrValues."""
    out = b""
    for name, op, inputs, attrs in nodes:
        node = (optional(blob, 1, name or None) + optional(blob, 2, op or None) + b"".join(blob(3, i) for i in inputs)
                + b"".join(blob(5, blob(1, k) + blob(2, v)) for k, v in attrs.items()))
        out += blob(1, node)
    return out + blob(4, optional(varint, 1, producer or None))


# ---- the custom_scalars plugin's Layout, the mesh plugin's MeshPluginData --------------------------------

def custom_scalars_layout(categories) -> bytes:
    """``Layout``: category=2 (``Category``: title=1, chart=2). ``categories`` holds (title, charts) pairs,
    each chart (title, kind, tags): ``Chart``: title=1, multiline=2 (``MultilineChartContent.tag``=1) or
    margin=3 (``MarginChartContent.series``=1: value=1, lower=2, upper=3)."""
    out = b""
    for title, charts in categories:
        body = optional(blob, 1, title or None)
        for chart_title, kind, tags in charts:
            if kind == "Margin":
                series = b"".join(optional(blob, i + 1, t or None) for i, t in enumerate(tags))
                content = blob(3, blob(1, series))
            else:
                content = blob(2, b"".join(blob(1, t) for t in tags))
            body += blob(2, optional(blob, 1, chart_title or None) + content)
        out += blob(2, body)
    return out


def mesh_plugin_data(name: str, content_type: int, components: int, shape, json_config: str) -> bytes:
    """``MeshPluginData``: version=1 (0, left out), name=2, content_type=3, json_config=5, shape=6 (packed),
    components=7."""
    return (optional(blob, 2, name or None) + varint(3, content_type) + optional(blob, 5, json_config or None)
            + packed_varints(6, shape) + optional(varint, 7, components or None))


# ---- the projector plugin's ProjectorConfig, in protobuf's text format ----------------------------------

_TEXT_ESCAPES = {**{c: f"\\{c:03o}" for c in (*range(32), 127)}, ord("\t"): r"\t", ord("\n"): r"\n",
                 ord("\r"): r"\r", ord('"'): r'\"', ord("'"): r"\'", ord("\\"): r"\\"}


def _text_string(s: str) -> str:
    """A string literal as protobuf's text format writes it: UTF-8 kept, quotes, backslashes and ASCII
    control characters escaped."""
    return '"' + s.translate(_TEXT_ESCAPES) + '"'


def projector_config_text(embeddings) -> str:
    """``ProjectorConfig`` with embeddings=2, as text; each embedding a dict with ``EmbeddingInfo``'s
    tensor_name=1, metadata_path=2, sprite=5 (``SpriteMetadata``: image_path=1, single_image_dim=2) and
    tensor_path=6, printed in field-number order, unset strings left out."""
    lines = []
    for e in embeddings:
        lines.append("embeddings {")
        for key in ("tensor_name", "metadata_path"):
            if e.get(key):
                lines.append(f"  {key}: {_text_string(e[key])}")
        if "sprite" in e:
            image_path, dims = e["sprite"]
            lines.append("  sprite {")
            if image_path:
                lines.append(f"    image_path: {_text_string(image_path)}")
            lines += [f"    single_image_dim: {d}" for d in dims]
            lines.append("  }")
        if e.get("tensor_path"):
            lines.append(f"  tensor_path: {_text_string(e['tensor_path'])}")
        lines.append("}")
    return "".join(line + "\n" for line in lines)


# ---- the hparams plugin's HParamsPluginData ------------------------------------------------------------

def value_proto(v) -> bytes:
    """``google.protobuf.Value``: number_value=2 (bools and ints too, as TensorBoard's writers do),
    string_value=3."""
    return blob(3, v) if isinstance(v, str) else double(2, float(v))


def hparams_experiment(hparam_infos, metric_tags) -> bytes:
    """``HParamsPluginData.experiment``=2: ``Experiment`` with hparam_infos=4 (``HParamInfo``: name=1, type=4,
    domain_discrete=5 a ``ListValue`` of values=1) and metric_infos=5 (``MetricInfo.name``=1: tag=2)."""
    out = b""
    for name, dtype, domain in hparam_infos:
        info = blob(1, name) + varint(4, dtype)
        if domain is not None:
            info += blob(5, b"".join(blob(1, value_proto(v)) for v in domain))
        out += blob(4, info)
    for tag in metric_tags:
        out += blob(5, blob(1, blob(2, tag)))
    return blob(2, out)


def hparams_session_start(hparams: dict) -> bytes:
    """``HParamsPluginData.session_start_info``=3: ``SessionStartInfo.hparams``=1, a map<string, Value>."""
    return blob(3, b"".join(blob(1, blob(1, k) + blob(2, value_proto(v))) for k, v in hparams.items()))


def hparams_session_end(status: int) -> bytes:
    """``HParamsPluginData.session_end_info``=4: ``SessionEndInfo.status``=1."""
    return blob(4, varint(1, status))
