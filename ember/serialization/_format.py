"""PyTorch's checkpoint formats: names of storages and dtypes, record layout, record checksums."""
from __future__ import annotations

import os
import threading
import zlib

from .. import _dtype as D

# torch.<Name>Storage <-> dtype, as they appear as pickle GLOBALs in torch's files
STORAGE_NAMES = {
    D.float32: "FloatStorage", D.float64: "DoubleStorage", D.float16: "HalfStorage",
    D.bfloat16: "BFloat16Storage", D.int64: "LongStorage", D.int32: "IntStorage",
    D.int16: "ShortStorage", D.int8: "CharStorage", D.uint8: "ByteStorage", D.bool_: "BoolStorage",
    D.complex64: "ComplexFloatStorage", D.complex128: "ComplexDoubleStorage",
}
DTYPE_OF_STORAGE = {v: k for k, v in STORAGE_NAMES.items()}
DTYPE_NAMES = {d.name: d for d in D.ALL}
# torch dtypes that ember has no dtype for
TORCH_ONLY_DTYPES = frozenset(
    ["uint16", "uint32", "uint64", "complex32", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
     "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "qint8", "qint32", "quint8", "quint4x2",
     "quint2x4", "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16"]
    + [f"int{i}" for i in range(1, 8)] + [f"uint{i}" for i in range(1, 8)])
ALIGNMENT = 64
MAGIC_NUMBER = 0x1950a86a20f9469cfc6c  # legacy (pre-1.6) files start with this pickled int
LEGACY_PROTOCOL = 1001


class StorageType:
    """What ``torch.FloatStorage`` & co. unpickle to: a marker carrying the element dtype."""

    def __init__(self, name):
        self.name = name
        self.dtype = DTYPE_OF_STORAGE[name]

    def __repr__(self):
        return f"torch.{self.name}"


STORAGE_TYPES = {name: StorageType(name) for name in DTYPE_OF_STORAGE}


# ---- record checksums ----------------------------------------------------------------------------
# Records are checksummed (CRC-32, as zip requires) in cache-sized chunks right next to the copy to
# or from the file, on two threads: zlib and pread/pwrite release the GIL, so they overlap.
CHUNK = 1 << 22
SPLIT = 1 << 21          # records larger than this are shared between the threads
THREADS = min(2, os.cpu_count() or 1)


def split(payload: memoryview, offset: int):
    """``(piece, file offset)`` halves of a large record (the whole record if small)."""
    n = payload.nbytes
    if n <= SPLIT or THREADS == 1:
        return [(payload, offset)]
    h = n // 2
    return [(payload[:h], offset), (payload[h:], offset + h)]


def checksum_pieces(pieces, io, after=None):
    """CRC-32 of each ``(memoryview, offset)`` piece, calling ``io(chunk, offset)`` on each chunk
    first (to read it in or write it out) and then ``after(offset, nbytes)`` if given."""
    crcs = [0] * len(pieces)
    todo = iter(enumerate(pieces))
    lock = threading.Lock()
    errors = []

    def work():
        try:
            while True:
                with lock:
                    i, (mv, off) = next(todo, (None, (None, None)))
                if i is None or errors:
                    return
                crc = 0
                for a in range(0, mv.nbytes, CHUNK):
                    chunk = mv[a:a + CHUNK]
                    io(chunk, off + a)
                    crc = zlib.crc32(chunk, crc)
                    if after is not None:
                        after(off + a, chunk.nbytes)
                crcs[i] = crc
        except BaseException as e:
            errors.append(e)

    helpers = [threading.Thread(target=work, daemon=True) for _ in range(THREADS - 1)] \
        if len(pieces) > 1 else []
    for t in helpers:
        t.start()
    work()
    for t in helpers:
        t.join()
    if errors:
        raise errors[0]
    return crcs


def combine(pieces, crcs):
    """The CRC-32 of a record from the CRCs of its consecutive pieces."""
    crc = crcs[0]
    for (mv, _), c in zip(pieces[1:], crcs[1:]):
        crc = _crc32_combine(crc, c, mv.nbytes)
    return crc


# zlib's crc32_combine (Python's zlib does not expose it), on the bit-reflected CRC-32 polynomial
_POLY = 0xEDB88320


def _multmodp(a, b):
    """a(x) * b(x) modulo the CRC-32 polynomial."""
    m, p = 1 << 31, 0
    while True:
        if a & m:
            p ^= b
            if not a & (m - 1):
                return p
        m >>= 1
        b = (b >> 1) ^ _POLY if b & 1 else b >> 1


_X2N = [1 << 30]                         # x^(2^k) mod p
for _ in range(31):
    _X2N.append(_multmodp(_X2N[-1], _X2N[-1]))


def _crc32_combine(crc1, crc2, len2):
    """CRC-32 of A+B from crc(A), crc(B) and len(B)."""
    p, k = 1 << 31, 3
    while len2:
        if len2 & 1:
            p = _multmodp(_X2N[k & 31], p)
        len2 >>= 1
        k += 1
    return _multmodp(p, crc1) ^ crc2


def _writeback_starter():
    """Linux ``sync_file_range(fd, offset, n, SYNC_FILE_RANGE_WRITE)``: start writing pages to disk
    without waiting, so a later ``fsync`` only waits for the tail (None elsewhere)."""
    try:
        import ctypes
        fn = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return lambda fd: lambda offset, n: fn(fd, offset, n, 2)


_WRITEBACK = []                          # [starter or None], filled on first use (ctypes is slow to import)


def start_writeback(fd):
    """``after`` hook for :func:`checksum_pieces` that starts each chunk's writeback (or None)."""
    if not _WRITEBACK:
        _WRITEBACK.append(_writeback_starter())
    return None if _WRITEBACK[0] is None else _WRITEBACK[0](fd)
