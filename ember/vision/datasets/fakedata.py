"""``FakeData``: random images, the same for the same index every time (seeded per index)."""
from __future__ import annotations

import ember

from ..transforms import functional as F
from .vision import VisionDataset


class FakeData(VisionDataset):
    """``size`` normal-noise PIL images of ``image_size`` (C, H, W) with random labels."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None, target_transform=None,
                 random_offset=0):
        super().__init__(None, transform=transform, target_transform=target_transform)
        self.size, self.num_classes = size, num_classes
        self.image_size, self.random_offset = image_size, random_offset

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        g = ember.Generator().manual_seed(index + self.random_offset)
        img = ember.randn(*self.image_size, generator=g)
        target = int(ember.randint(0, self.num_classes, size=(1,), generator=g).item())
        return self._apply(F.to_pil_image(img), target)

    def __len__(self) -> int:
        return self.size
