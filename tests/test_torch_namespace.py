"""torch's top-level entry points of nn kernels (ATen argument order) and thread settings."""
import numpy as np
import pytest
import torch

import ember


def _arr(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


X4, W4 = _arr(2, 3, 6, 6), _arr(4, 3, 3, 3, seed=1)
X3 = _arr(2, 3, 7)
CASES = {
    "conv2d": lambda lib, t: lib.conv2d(t(X4), t(W4), None, 2, 1),
    "conv_transpose1d": lambda lib, t: lib.conv_transpose1d(t(X3), t(_arr(3, 2, 3, seed=2)), None, 2),
    "max_pool2d": lambda lib, t: lib.max_pool2d(t(X4), 2),
    "max_pool2d_stride": lambda lib, t: lib.max_pool2d(t(X4), 3, 2, 1, 1, True),
    "max_pool1d_with_indices": lambda lib, t: lib.max_pool1d_with_indices(t(X3), 2),
    "adaptive_max_pool1d": lambda lib, t: lib.adaptive_max_pool1d(t(X3), 3),
    "avg_pool1d": lambda lib, t: lib.avg_pool1d(t(X3), 3, 2, 1),
    "batch_norm": lambda lib, t: lib.batch_norm(t(X4), t(_arr(3, seed=3)), t(_arr(3, seed=4)), lib.zeros(3),
                                                lib.ones(3), True, 0.1, 1e-5, False),
    "instance_norm": lambda lib, t: lib.instance_norm(t(X4), None, None, None, None, True, 0.1, 1e-5, False),
    "layer_norm": lambda lib, t: lib.layer_norm(t(X4), (6, 6)),
    "group_norm": lambda lib, t: lib.group_norm(t(X4), 3),
    "embedding": lambda lib, t: lib.embedding(t(_arr(5, 2)), lib.tensor([[0, 4], [2, 2]]), 2),
    "dropout_eval": lambda lib, t: lib.dropout(t(X3), 0.5, False),
    "constant_pad_nd": lambda lib, t: lib.constant_pad_nd(t(X3), (1, 2), 0.5),
    "rsub": lambda lib, t: lib.rsub(t(X3), 2.0, alpha=3),
    "cosine_similarity": lambda lib, t: lib.cosine_similarity(t(X3), t(_arr(2, 3, 7, seed=5))),
    "pixel_shuffle": lambda lib, t: lib.pixel_shuffle(t(_arr(1, 8, 2, 2)), 2),
    "detach": lambda lib, t: lib.detach(t(X3)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_torch(name):
    outs = [CASES[name](lib, lambda a, lib=lib: lib.tensor(a)) for lib in (torch, ember)]
    t, e = outs
    for a, b in zip(t if isinstance(t, tuple) else (t,), e if isinstance(e, tuple) else (e,)):
        assert str(a.dtype) == str(b.dtype) and tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(b.detach().numpy(), a.detach().numpy(), rtol=1e-5, atol=1e-5)


def test_embedding_padding_idx_gets_no_gradient():
    w = ember.ones(4, 2, requires_grad=True)
    ember.embedding(w, ember.tensor([1, 1, 3]), 1).sum().backward()
    assert w.grad.tolist() == [[0, 0], [0, 0], [0, 0], [1, 1]]


def test_num_threads():
    before = ember.get_num_threads()
    try:
        ember.set_num_threads(1)
        assert ember.get_num_threads() == 1
        with pytest.raises(RuntimeError, match="Number of threads must be positive"):
            ember.set_num_threads(0)
    finally:
        ember.set_num_threads(before)
    assert ember.get_num_interop_threads() >= 1
