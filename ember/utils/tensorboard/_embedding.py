"""The embedding projector's files, as torch's ``add_embedding`` writes them into ``<log_dir>/<step>/<tag>``:
``tensors.tsv`` (one row per point), ``metadata.tsv`` (labels), ``sprite.png`` (the points' images in a square
grid); ``projector_config.pbtxt`` in ``log_dir`` lists every embedding logged so far."""
from __future__ import annotations

import math
import os

import numpy as np

from . import _proto
from ._png import encode_png
from .summary import _grid, to_numpy


def write_metadata(metadata, save_path: str, metadata_header=None) -> None:
    """``metadata.tsv``: one label per line, or with ``metadata_header`` a header line then one row of
    tab-separated columns per point."""
    if not metadata_header:
        lines = [str(x) for x in metadata]
    else:
        if len(metadata_header) != len(metadata[0]):
            raise AssertionError("len of header must be equal to the number of columns in metadata")
        lines = ["\t".join(str(e) for e in row) for row in [metadata_header, *metadata]]
    with open(os.path.join(save_path, "metadata.tsv"), "wb") as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))


def write_sprite(label_img, save_path: str) -> None:
    """``sprite.png``: the (N, C, H, W) images (C 1 or 3, values in [0, 1]) tiled ceil(sqrt(N)) to a row on a
    black square canvas as wide as the grid."""
    imgs = to_numpy(label_img)
    if imgs.ndim != 4 or imgs.shape[1] not in (1, 3):
        raise AssertionError("Input should be a 4D numpy array with 3 channels")
    if imgs.shape[1] == 1:
        imgs = np.repeat(imgs, 3, axis=1)
    grid = _grid(imgs, ncols=math.ceil(imgs.shape[0] ** 0.5)).transpose(1, 2, 0)
    side = grid.shape[1]
    if grid.shape[0] > side:
        raise ValueError(f"label_img of shape {tuple(imgs.shape)} makes a sprite grid of {grid.shape[0]}x{side} "
                         "pixels, taller than wide: it does not fit the square sprite")
    square = np.zeros((side, side, 3))
    square[:grid.shape[0]] = grid
    with open(os.path.join(save_path, "sprite.png"), "wb") as f:
        f.write(encode_png((square * 255).clip(0, 255).astype(np.uint8)))


def write_tensors(mat: np.ndarray, save_path: str) -> None:
    """``tensors.tsv``: each row's values as Python prints them, tab-separated."""
    with open(os.path.join(save_path, "tensors.tsv"), "wb") as f:
        f.write("".join("\t".join(map(str, row)) + "\n" for row in mat.tolist()).encode("utf-8"))


def embedding_info(tag: str, global_step: int, subdir: str, has_metadata: bool, label_img_shape) -> dict:
    """The ``EmbeddingInfo`` of one embedding (see ``_proto.projector_config_text``)."""
    info = {"tensor_name": f"{tag}:{str(global_step).zfill(5)}", "tensor_path": os.path.join(subdir, "tensors.tsv")}
    if has_metadata:
        info["metadata_path"] = os.path.join(subdir, "metadata.tsv")
    if label_img_shape is not None:
        info["sprite"] = (os.path.join(subdir, "sprite.png"), [label_img_shape[3], label_img_shape[2]])
    return info


def write_projector_config(embeddings, log_dir: str) -> None:
    with open(os.path.join(log_dir, "projector_config.pbtxt"), "wb") as f:
        f.write(_proto.projector_config_text(embeddings).encode("utf-8"))
