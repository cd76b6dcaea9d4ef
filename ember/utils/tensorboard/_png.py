"""A minimal PNG encoder (8-bit gray, RGB or RGBA, no filtering), so image summaries need no Pillow."""
from __future__ import annotations

import struct
import zlib

import numpy as np

_COLOR_TYPE = {1: 0, 3: 2, 4: 6}     # channels -> PNG colour type (gray, RGB, RGBA)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def encode_png(hwc: np.ndarray) -> bytes:
    """A (H, W, C) uint8 array with C in 1, 3, 4 as PNG bytes."""
    height, width, channels = hwc.shape
    header = struct.pack(">IIBBBBB", width, height, 8, _COLOR_TYPE[channels], 0, 0, 0)
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)   # each row: filter type 0, then pixels
    rows[:, 1:] = hwc.reshape(height, width * channels)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
            + _chunk(b"IEND", b""))
