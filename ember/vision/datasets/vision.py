"""``VisionDataset``: the base of the vision datasets — root, transforms and a torchvision-style repr."""
from __future__ import annotations

import os

from ember.utils.data import Dataset


class VisionDataset(Dataset):
    """``transform`` applies to the sample, ``target_transform`` to the target, ``transforms`` to both."""
    _repr_indent = 4

    def __init__(self, root=None, transforms=None, transform=None, target_transform=None):
        self.root = os.path.expanduser(os.fspath(root)) if root is not None else None
        if transforms is not None and (transform is not None or target_transform is not None):
            raise ValueError("Only transforms or transform/target_transform can be passed as argument")
        self.transform, self.target_transform = transform, target_transform
        if transforms is None and (transform is not None or target_transform is not None):
            transforms = StandardTransform(transform, target_transform)
        self.transforms = transforms

    def _apply(self, sample, target):
        return (sample, target) if self.transforms is None else self.transforms(sample, target)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        body = [f"Number of datapoints: {len(self)}"]
        if self.root is not None:
            body.append(f"Root location: {self.root}")
        body += self.extra_repr().splitlines()
        if self.transforms is not None:
            body.append(repr(self.transforms))   # as torchvision: only its first line gets the indent
        return "\n".join([f"Dataset {type(self).__name__}"] + [" " * self._repr_indent + b for b in body])


class StandardTransform:
    """Apply ``transform`` to the sample and ``target_transform`` to the target."""

    def __init__(self, transform, target_transform):
        self.transform, self.target_transform = transform, target_transform

    def __call__(self, sample, target):
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def __repr__(self):
        lines = [type(self).__name__]
        for label, t in (("Transform", self.transform), ("Target transform", self.target_transform)):
            if t is not None:
                first, *rest = repr(t).splitlines()
                lines += [f"{label}: {first}"] + [" " * len(f"{label}: ") + r for r in rest]
        return "\n".join(lines)


def check_no_download(download: bool, present: bool, name: str, folder: str) -> None:
    """ember never downloads: missing files are an error that says where to put them."""
    if present:
        return
    if download:
        raise RuntimeError(f"{name}: downloading is not available in ember (no network access). Put the dataset "
                           f"files in {folder} (torchvision's layout) and pass download=False.")
    raise RuntimeError(f"{name}: dataset not found in {folder}. ember cannot download it; put the files there in "
                       "torchvision's layout.")
