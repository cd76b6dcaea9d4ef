"""CIFAR-10/100 from the python-pickle batches (``root/cifar-10-batches-py/...``) torchvision reads."""
from __future__ import annotations

import os
import pickle

import numpy as np

from .._pil import pil_image
from .vision import VisionDataset, check_no_download

# the globals a CIFAR batch pickle needs (numpy arrays, Python 2 strings); nothing else may load
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"), ("copy_reg", "_reconstructor"),
            ("copyreg", "_reconstructor"), ("__builtin__", "object"), ("builtins", "object")}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"CIFAR batch files may not reference {module}.{name}")
        return super().find_class(module, name)


def _load_batch(path) -> dict:
    with open(path, "rb") as f:
        return _BatchUnpickler(f, encoding="latin1").load()


class CIFAR10(VisionDataset):
    """32x32 colour images in 10 classes; samples are (RGB PIL image, int label)."""
    base_folder = "cifar-10-batches-py"
    train_list = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5")
    test_list = ("test_batch",)
    meta_file, meta_key, labels_key = "batches.meta", "label_names", "labels"

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        folder = os.path.join(self.root, self.base_folder)
        names = [*(self.train_list if train else self.test_list), self.meta_file]
        check_no_download(download, all(os.path.isfile(os.path.join(folder, n)) for n in names),
                          type(self).__name__, folder)
        data, targets = [], []
        for name in names[:-1]:
            entry = _load_batch(os.path.join(folder, name))
            data.append(np.asarray(entry["data"], dtype=np.uint8).reshape(-1, 3, 32, 32))
            targets.extend(int(t) for t in entry[self.labels_key])
        self.data = np.ascontiguousarray(np.concatenate(data).transpose(0, 2, 3, 1))   # N, H, W, C
        self.targets = targets
        self.classes = list(_load_batch(os.path.join(folder, self.meta_file))[self.meta_key])
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def __getitem__(self, index):
        return self._apply(pil_image().fromarray(self.data[index]), self.targets[index])

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100 with its 100 fine labels."""
    base_folder = "cifar-100-python"
    train_list = ("train",)
    test_list = ("test",)
    meta_file, meta_key, labels_key = "meta", "fine_label_names", "fine_labels"
