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


def optional(encode, field: int, value) -> bytes:
    """``encode(field, value)``, or nothing for an unset (None) field."""
    return b"" if value is None else encode(field, value)


# ---- tensorboard.Event and its parts ------------------------------------------------------------------

def event(wall_time: float, step: int | None = None, *, file_version: str | None = None,
          summary: bytes | None = None, session_log_status: int | None = None,
          source_writer: str | None = None) -> bytes:
    """``Event``: wall_time=1, step=2, file_version=3, summary=5, session_log=7 (status=1), source_metadata=10
    (writer=1)."""
    session_log = None if session_log_status is None else varint(1, session_log_status)
    source = None if source_writer is None else blob(1, source_writer)
    return (double(1, wall_time) + optional(varint, 2, step) + optional(blob, 3, file_version)
            + optional(blob, 5, summary) + optional(blob, 7, session_log) + optional(blob, 10, source))


def summary_value(tag: str, *, simple_value: float | None = None, image: bytes | None = None,
                  histo: bytes | None = None, tensor: bytes | None = None, plugin_name: str | None = None,
                  plugin_content: bytes = b"") -> bytes:
    """A ``Summary`` holding one ``Summary.Value``: tag=1, simple_value=2, image=4, histo=5, tensor=8,
    metadata=9 (``SummaryMetadata.plugin_data``=1: plugin_name=1, content=2)."""
    metadata = None
    if plugin_name is not None:
        metadata = blob(1, blob(1, plugin_name) + optional(blob, 2, plugin_content or None))
    value = (blob(1, tag) + optional(float32, 2, simple_value) + optional(blob, 4, image) + optional(blob, 5, histo)
             + optional(blob, 8, tensor) + optional(blob, 9, metadata))
    return blob(1, value)


def histogram_proto(min: float, max: float, num: float, sum: float, sum_squares: float,
                    bucket_limit, bucket) -> bytes:
    """``HistogramProto``: min=1 .. sum_squares=5, bucket_limit=6 and bucket=7 (right edges and counts)."""
    return (double(1, min) + double(2, max) + double(3, num) + double(4, sum) + double(5, sum_squares)
            + packed_doubles(6, bucket_limit) + packed_doubles(7, bucket))


def image_proto(height: int, width: int, colorspace: int, png: bytes) -> bytes:
    """``Summary.Image``: height=1, width=2, colorspace=3 (channel count), encoded_image_string=4."""
    return varint(1, height) + varint(2, width) + varint(3, colorspace) + blob(4, png)


DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7


def tensor_proto(dtype: int, *, float_val=None, double_val=None, string_val=None, shape=()) -> bytes:
    """``TensorProto``: dtype=1, tensor_shape=2 (dim=2: size=1), float_val=5, double_val=6, string_val=8."""
    dims = b"".join(blob(2, varint(1, n)) for n in shape)
    floats = None if float_val is None else np.asarray(float_val, dtype="<f4").tobytes()
    return (varint(1, dtype) + (blob(2, dims) if shape else b"") + optional(blob, 5, floats)
            + optional(packed_doubles, 6, double_val) + b"".join(blob(8, s) for s in string_val or ()))


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
