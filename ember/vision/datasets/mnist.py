"""MNIST and FashionMNIST from torchvision's on-disk layout: ``root/<Name>/raw/*-idx?-ubyte``."""
from __future__ import annotations

import gzip
import os
from typing import ClassVar

import numpy as np

import ember

from .._pil import pil_image
from .vision import VisionDataset, check_no_download

# idx format: magic = 0, 0, type code, number of dims; then big-endian int32 dims; then data
_IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path) -> np.ndarray:
    """Read an idx-ubyte file (optionally gzipped) into an array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if data[0] != 0 or data[1] != 0 or data[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an idx file (bad magic number {data[:4].hex()})")
    ndim = data[3]
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">i4", count=ndim, offset=4))
    arr = np.frombuffer(data, dtype=_IDX_TYPES[data[2]], offset=4 + 4 * ndim)
    if arr.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says shape {shape} but holds {arr.size} values")
    return arr.reshape(shape).astype(arr.dtype.newbyteorder("="))


class MNIST(VisionDataset):
    """28x28 grayscale digits; samples are (PIL image of mode L, int label)."""
    classes: ClassVar[list] = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
                               "7 - seven", "8 - eight", "9 - nine"]
    _files: ClassVar[dict] = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
              False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        paths = [self._find(name) for name in self._files[bool(train)]]
        check_no_download(download, all(paths), type(self).__name__, self.raw_folder)
        self.data = ember.from_numpy(read_idx(paths[0]).astype(np.uint8))
        self.targets = ember.from_numpy(read_idx(paths[1]).astype(np.int64))
        if len(self.data) != len(self.targets):
            raise ValueError(f"{type(self).__name__}: {len(self.data)} images but {len(self.targets)} labels")

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict:
        return {c: i for i, c in enumerate(self.classes)}

    def _find(self, name):
        for candidate in (name, name + ".gz"):
            path = os.path.join(self.raw_folder, candidate)
            if os.path.isfile(path):
                return path
        return None

    def __getitem__(self, index):
        img = pil_image().fromarray(self.data[index].numpy())
        return self._apply(img, int(self.targets[index]))

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Zalando's 28x28 grayscale clothing images, in MNIST's format."""
    classes: ClassVar[list] = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
                               "Bag", "Ankle boot"]
