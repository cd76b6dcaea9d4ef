"""TFRecord framing of event files: each record is its length, its data, and masked CRC32C checksums of both.

CRC32C (Castagnoli) is computed here, table-driven, because ``zlib.crc32`` uses another polynomial.
Long inputs (images) are cut into lanes that NumPy advances side by side, then joined: the CRC register is
linear, so a lane's effect is its own CRC plus the register before it pushed through the lane's length in zeros.
"""
from __future__ import annotations

import functools
import struct

import numpy as np


def _make_table(poly: int = 0x82F63B78) -> tuple:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        table.append(crc)
    return tuple(table)


_TABLE = _make_table()


_LANE = 1024          # bytes per lane
_MIN_LANES = 32       # below 32 KiB the plain loop is as fast


@functools.cache
def _zeros_tables() -> list:
    """Byte tables of the linear map "feed ``_LANE`` zero bytes to the register": the map of a 32-bit register
    is the XOR of ``tables[k][byte k of it]``."""
    table = np.array(_TABLE, dtype=np.uint32)
    columns = np.uint32(1) << np.arange(32, dtype=np.uint32)       # the image of each single-bit register
    for _ in range(_LANE):
        columns = table[columns & 0xFF] ^ (columns >> 8)
    bits = (np.arange(256)[:, None] >> np.arange(8)) & 1
    return [np.bitwise_xor.reduce(np.where(bits, columns[8 * k:8 * k + 8], 0), axis=1).tolist() for k in range(4)]


def crc32c(data: bytes, crc: int = 0) -> int:
    """The CRC32C of ``data``, continuing from ``crc`` (the CRC of the bytes before it)."""
    table = _TABLE
    reg = crc ^ 0xFFFFFFFF
    data = memoryview(data).cast("B")
    n_lanes = len(data) // _LANE
    if n_lanes >= _MIN_LANES:
        lanes = np.frombuffer(data[:n_lanes * _LANE], dtype=np.uint8).reshape(n_lanes, _LANE).T.copy()
        np_table, lane_crcs = np.array(table, dtype=np.uint32), np.zeros(n_lanes, dtype=np.uint32)
        for byte in lanes:                                          # each lane's CRC from a zero register
            lane_crcs = np_table[(lane_crcs ^ byte) & 0xFF] ^ (lane_crcs >> 8)
        t0, t1, t2, t3 = _zeros_tables()
        for lane_crc in lane_crcs.tolist():
            reg = t0[reg & 0xFF] ^ t1[reg >> 8 & 0xFF] ^ t2[reg >> 16 & 0xFF] ^ t3[reg >> 24] ^ lane_crc
        data = data[n_lanes * _LANE:]
    for b in data:
        reg = table[(reg ^ b) & 0xFF] ^ (reg >> 8)
    return reg ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """TFRecord's checksum: the CRC rotated right by 15 bits plus a constant, so CRCs of CRCs stay distinct."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame(data: bytes) -> bytes:
    """One TFRecord: uint64 length, masked CRC of the length, data, masked CRC of the data (little-endian)."""
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc32c(header)) + data + struct.pack("<I", masked_crc32c(data))
