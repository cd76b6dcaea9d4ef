"""Recurrent layers and nn.utils.rnn against torch: same weights (copied through numpy), same outputs,
final states, input grads and every parameter grad; packed sequences; repr, state_dict keys, errors."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn
from ember.nn.utils import rnn as ernn

import torch
tnn = torch.nn
trnn = torch.nn.utils.rnn


def _rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _pair(a, grad=True):
    return torch.tensor(a, requires_grad=grad), ember.tensor(a, requires_grad=grad)


def _build(ctor):
    tmod, emod = ctor(tnn).double(), ctor(enn).double()
    assert repr(tmod) == repr(emod)
    assert list(tmod.state_dict()) == list(emod.state_dict())
    emod.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tmod.state_dict().items()})
    return tmod, emod


def _flat(y):
    """Tensors of a (nested) RNN result, PackedSequence data included, in order."""
    if isinstance(y, (trnn.PackedSequence, ernn.PackedSequence)):
        return [y.data]
    if isinstance(y, (tuple, list)):
        return [t for v in y for t in _flat(v)]
    return [y]


def _close(e, t, atol=1e-8):
    assert tuple(e.shape) == tuple(t.shape)
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=atol, rtol=1e-7)


def _check(tmod, emod, t_args, e_args, t_leaves, e_leaves):
    ty, ey = _flat(tmod(*t_args)), _flat(emod(*e_args))
    assert len(ty) == len(ey)
    for t, e in zip(ty, ey):
        _close(e, t)
    tloss = sum((t * torch.tensor(_rand(tuple(t.shape), 50 + i))).sum() for i, t in enumerate(ty))
    eloss = sum((e * ember.tensor(_rand(tuple(e.shape), 50 + i))).sum() for i, e in enumerate(ey))
    tloss.backward()
    eloss.backward()
    for t, e in zip(t_leaves, e_leaves):
        _close(e.grad, t.grad)
    for (name, tp), (_, ep) in zip(tmod.named_parameters(), emod.named_parameters()):
        assert ep.grad is not None, name
        _close(ep.grad, tp.grad)


def _states(kind, layers, dirs, batch, hidden, proj=0, seed=7):
    shape = (layers * dirs,) + ((batch,) if batch else ())
    h = _pair(_rand(shape + (proj or hidden,), seed))
    if kind != "LSTM":
        return h[0], h[1], [h[0]], [h[1]]
    c = _pair(_rand(shape + (hidden,), seed + 1))
    return (h[0], c[0]), (h[1], c[1]), [h[0], c[0]], [h[1], c[1]]


CONFIGS = [
    ("RNN", dict()),
    ("RNN", dict(nonlinearity="relu", num_layers=2, bidirectional=True)),
    ("RNN", dict(bias=False, batch_first=True)),
    ("LSTM", dict()),
    ("LSTM", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("LSTM", dict(proj_size=3, num_layers=2)),
    ("LSTM", dict(proj_size=2, bidirectional=True, bias=False)),
    ("GRU", dict()),
    ("GRU", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict(bias=False, batch_first=True, num_layers=2)),
]


@pytest.mark.parametrize("kind,kw", CONFIGS)
@pytest.mark.parametrize("with_h0", [False, True])
def test_layer_matches_torch(kind, kw, with_h0):
    T, B, F, H = 4, 3, 5, 6
    tmod, emod = _build(lambda nn: getattr(nn, kind)(F, H, **kw))
    x = _rand((B, T, F) if kw.get("batch_first") else (T, B, F), 1)
    tx, ex = _pair(x)
    t_args, e_args, t_leaves, e_leaves = [tx], [ex], [tx], [ex]
    if with_h0:
        dirs = 2 if kw.get("bidirectional") else 1
        th, eh, tl, el = _states(kind, kw.get("num_layers", 1), dirs, B, H, kw.get("proj_size", 0))
        t_args.append(th), e_args.append(eh), t_leaves.extend(tl), e_leaves.extend(el)
    _check(tmod, emod, t_args, e_args, t_leaves, e_leaves)


@pytest.mark.parametrize("kind,kw", [CONFIGS[1], CONFIGS[4], CONFIGS[5], CONFIGS[8]])
def test_unbatched_input(kind, kw):
    T, F, H = 4, 5, 6
    tmod, emod = _build(lambda nn: getattr(nn, kind)(F, H, **kw))
    tx, ex = _pair(_rand((T, F), 2))
    dirs = 2 if kw.get("bidirectional") else 1
    th, eh, tl, el = _states(kind, kw.get("num_layers", 1), dirs, 0, H, kw.get("proj_size", 0))
    _check(tmod, emod, [tx, th], [ex, eh], [tx] + tl, [ex] + el)
    tmod.zero_grad(), emod.zero_grad()
    tx, ex = _pair(_rand((T, F), 3))
    _check(tmod, emod, [tx], [ex], [tx], [ex])


@pytest.mark.parametrize("kind,kw", [CONFIGS[1], CONFIGS[3], CONFIGS[4], CONFIGS[6], CONFIGS[8]])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_packed_sequence_input(kind, kw, enforce_sorted):
    F, H = 5, 6
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    kw = {k: v for k, v in kw.items() if k != "batch_first"}
    tmod, emod = _build(lambda nn: getattr(nn, kind)(F, H, **kw))
    tx, ex = _pair(_rand((5, 4, F), 4))
    tp = trnn.pack_padded_sequence(tx, lengths, enforce_sorted=enforce_sorted)
    ep = ernn.pack_padded_sequence(ex, lengths, enforce_sorted=enforce_sorted)
    for name in ("batch_sizes", "sorted_indices", "unsorted_indices"):
        t, e = getattr(tp, name), getattr(ep, name)
        assert (t is None) == (e is None)
        if t is not None:
            assert e.tolist() == t.tolist() and e.dtype == ember.int64
    dirs = 2 if kw.get("bidirectional") else 1
    th, eh, tl, el = _states(kind, kw.get("num_layers", 1), dirs, 4, H, kw.get("proj_size", 0))
    ty, ey = tmod(tp, th), emod(ep, eh)
    assert isinstance(ey[0], ernn.PackedSequence)
    assert ey[0].batch_sizes is ep.batch_sizes and ey[0].unsorted_indices is ep.unsorted_indices
    tmod.zero_grad()
    _check(tmod, emod, [tp, th], [ep, eh], [tx] + tl, [ex] + el)
    t_out, t_len = trnn.pad_packed_sequence(ty[0], batch_first=True, padding_value=-1.0, total_length=6)
    e_out, e_len = ernn.pad_packed_sequence(ey[0], batch_first=True, padding_value=-1.0, total_length=6)
    _close(e_out, t_out)
    assert e_len.tolist() == t_len.tolist() == lengths


CELLS = [("RNNCell", dict()), ("RNNCell", dict(nonlinearity="relu", bias=False)), ("LSTMCell", dict()),
         ("LSTMCell", dict(bias=False)), ("GRUCell", dict()), ("GRUCell", dict(bias=False))]


@pytest.mark.parametrize("kind,kw", CELLS)
@pytest.mark.parametrize("batched", [True, False])
def test_cell_matches_torch(kind, kw, batched):
    F, H = 4, 5
    tmod, emod = _build(lambda nn: getattr(nn, kind)(F, H, **kw))
    tx, ex = _pair(_rand((3, F) if batched else (F,), 5))
    _check(tmod, emod, [tx], [ex], [tx], [ex])
    tmod.zero_grad(), emod.zero_grad()
    shape = (3, H) if batched else (H,)
    th, eh = _pair(_rand(shape, 6))
    if kind == "LSTMCell":
        tc, ec = _pair(_rand(shape, 7))
        _check(tmod, emod, [tx, (th, tc)], [ex, (eh, ec)], [tx, th, tc], [ex, eh, ec])
    else:
        _check(tmod, emod, [tx, th], [ex, eh], [tx, th], [ex, eh])


def test_repr_state_dict_and_weights():
    for ctor in (lambda nn: nn.LSTM(10, 20, num_layers=2, batch_first=True),
                 lambda nn: nn.LSTM(10, 20, 3, False, True, 0.5, True, 5),
                 lambda nn: nn.RNN(3, 4, 1, "relu", bias=False),
                 lambda nn: nn.GRU(3, 4, dropout=0.25, num_layers=2, bidirectional=True),
                 lambda nn: nn.RNNCell(3, 4, bias=False, nonlinearity="relu"),
                 lambda nn: nn.LSTMCell(3, 4), lambda nn: nn.GRUCell(3, 4)):
        tmod, emod = ctor(tnn), ctor(enn)
        assert repr(tmod) == repr(emod)
        assert [(k, tuple(v.shape)) for k, v in tmod.state_dict().items()] == \
            [(k, tuple(v.shape)) for k, v in emod.state_dict().items()]
    tmod, emod = tnn.LSTM(3, 8, 2, bidirectional=True, proj_size=2), enn.LSTM(3, 8, 2, bidirectional=True, proj_size=2)
    assert [[tuple(w.shape) for w in ws] for ws in tmod.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in emod.all_weights]
    assert emod._flat_weights_names == tmod._flat_weights_names
    assert emod.flatten_parameters() is None


def test_default_init_range():
    ember.manual_seed(0)
    m = enn.GRU(3, 16, num_layers=2)
    bound = 1 / 4
    for p in m.parameters():
        assert float(p.abs().max()) <= bound and float(p.abs().max()) > 0.8 * bound
    c = enn.LSTMCell(3, 25)
    assert all(float(p.abs().max()) <= 0.2 for p in c.parameters())


def test_dropout_eval_equals_no_dropout_and_training_differs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tmod, emod = _build(lambda nn: nn.LSTM(4, 5, num_layers=3, dropout=0.5))
    tmod.eval(), emod.eval()
    tx, ex = _pair(_rand((3, 2, 4), 8))
    _check(tmod, emod, [tx], [ex], [tx], [ex])
    emod.train()
    ember.manual_seed(0)
    out_train = emod(ex)[0]
    assert not np.allclose(out_train.detach().numpy(), emod.eval()(ex)[0].detach().numpy())
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        enn.GRU(3, 4, dropout=0.2)


def test_float32_and_grad_flow():
    tmod, emod = tnn.GRU(3, 4), enn.GRU(3, 4)
    emod.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tmod.state_dict().items()})
    x = _rand((2, 2, 3), 9).astype(np.float32)
    ty, ey = tmod(torch.tensor(x)), emod(ember.tensor(x))
    assert ey[0].dtype == ember.float32 and ey[1].dtype == ember.float32
    np.testing.assert_allclose(ey[0].detach().numpy(), ty[0].detach().numpy(), atol=1e-6)


def _raises(exc, f_t, f_e):
    with pytest.raises(exc) as te:
        f_t(torch, tnn)
    with pytest.raises(exc) as ee:
        f_e(ember, enn)
    assert str(ee.value) == str(te.value)


@pytest.mark.parametrize("call", [
    lambda th, nn: nn.GRU(4, 6)(th.randn(5, 3, 5)),
    lambda th, nn: nn.GRU(4, 6)(th.randn(5, 3, 4), th.randn(2, 3, 6)),
    lambda th, nn: nn.RNN(4, 6, batch_first=True)(th.randn(3, 5, 4), th.randn(1, 5, 6)),
    lambda th, nn: nn.RNN(4, 6)(th.randn(3, 5, 4), th.randn(5, 6)),
    lambda th, nn: nn.RNN(4, 6)(th.randn(3, 4), th.randn(1, 1, 6)),
    lambda th, nn: nn.LSTM(4, 6)(th.randn(5, 3, 4), (th.randn(1, 3, 6), th.randn(1, 3, 5))),
    lambda th, nn: nn.LSTM(4, 6, proj_size=2)(th.randn(5, 3, 4), (th.randn(1, 3, 6), th.randn(1, 3, 6))),
    lambda th, nn: nn.LSTM(4, 6)(th.randn(5, 3, 4), (th.randn(3, 6), th.randn(3, 6))),
    lambda th, nn: nn.LSTM(4, 6)(th.randn(0, 3, 4)),
    lambda th, nn: nn.RNNCell(4, 6)(th.randn(3, 5)),
    lambda th, nn: nn.RNNCell(4, 6)(th.randn(3, 4), th.randn(2, 6)),
    lambda th, nn: nn.GRUCell(4, 6)(th.randn(3, 4), th.randn(3, 5)),
    lambda th, nn: nn.LSTMCell(4, 6)(th.randn(3, 4), (th.randn(3, 6), th.randn(3, 5))),
    lambda th, nn: nn.utils.rnn.pack_padded_sequence(th.randn(5, 3, 2), [3, 5, 2]),
    lambda th, nn: nn.utils.rnn.pack_padded_sequence(th.randn(5, 3, 2), [5, 3, 0]),
    lambda th, nn: nn.utils.rnn.pack_padded_sequence(th.randn(5, 3, 2), [5, 3]),
    lambda th, nn: nn.utils.rnn.pad_sequence([th.randn(3, 2), th.randn(2, 3)]),
    lambda th, nn: nn.utils.rnn.pad_sequence([]),
    lambda th, nn: nn.utils.rnn.pad_sequence([th.randn(3, 2)], padding_side="top"),
])
def test_bad_input_runtime_error(call):
    _raises(RuntimeError, call, call)


@pytest.mark.parametrize("call", [
    lambda th, nn: nn.GRU(4, 6)(th.randn(2, 5, 3, 4)),
    lambda th, nn: nn.RNN(4, 6)(th.randn(4)),
    lambda th, nn: nn.LSTM(4, 6)(th.randn(5, 3, 4).double()),
    lambda th, nn: nn.GRUCell(4, 6)(th.randn(2, 3, 4)),
    lambda th, nn: nn.LSTMCell(4, 6)(th.randn(3, 4), (th.randn(1, 3, 6), th.randn(3, 6))),
    lambda th, nn: nn.RNN(4, 6, nonlinearity="foo"),
    lambda th, nn: nn.GRU(4, 6, proj_size=2),
    lambda th, nn: nn.LSTM(4, 6, proj_size=6),
    lambda th, nn: nn.LSTM(4, 6, dropout=1.5),
    lambda th, nn: nn.utils.rnn.pad_packed_sequence(
        nn.utils.rnn.pack_padded_sequence(th.randn(5, 3, 2), [5, 3, 1]), total_length=3),
])
def test_bad_input_value_error(call):
    _raises(ValueError, call, call)


# ---- nn.utils.rnn ----------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    seqs = [_rand((n, 2, 3), n) for n in (2, 4, 1)]
    tp = trnn.pad_sequence([torch.tensor(s) for s in seqs], batch_first, 7.0, padding_side)
    es = [ember.tensor(s, requires_grad=True) for s in seqs]
    ep = ernn.pad_sequence(es, batch_first, 7.0, padding_side)
    _close(ep, tp)
    ep.sum().backward()
    assert all(float(s.grad.sum()) == s.numel() for s in es)


@pytest.mark.parametrize("batch_first", [False, True])
def test_pack_pad_roundtrip(batch_first):
    lengths = [2, 4, 1, 4]
    x = _rand((4, 4, 3) if batch_first else (4, 4, 3), 11)
    tx, ex = _pair(x)
    tp = trnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first, enforce_sorted=False)
    ep = ernn.pack_padded_sequence(ex, ember.tensor(lengths), batch_first, enforce_sorted=False)
    _close(ep.data, tp.data)
    assert ep.batch_sizes.tolist() == tp.batch_sizes.tolist()
    assert ep.sorted_indices.tolist() == tp.sorted_indices.tolist()
    assert ep.unsorted_indices.tolist() == tp.unsorted_indices.tolist()
    t_pad, t_len = trnn.pad_packed_sequence(tp, batch_first)
    e_pad, e_len = ernn.pad_packed_sequence(ep, batch_first)
    _close(e_pad, t_pad)
    assert e_len.tolist() == t_len.tolist() and e_len.dtype == ember.int64
    g = _rand(tuple(t_pad.shape), 12)
    t_pad.backward(torch.tensor(g))
    e_pad.backward(ember.tensor(g))
    _close(ex.grad, tx.grad)
    t_seqs = trnn.unpad_sequence(t_pad.detach().clone(), t_len, batch_first)
    e_seqs = ernn.unpad_sequence(e_pad.detach(), e_len, batch_first)
    assert len(e_seqs) == len(t_seqs)
    for e, t in zip(e_seqs, t_seqs):
        _close(e, t)


def test_pack_and_unpack_sequence():
    seqs = [_rand((n, 3), n) for n in (2, 5, 3)]
    tp = trnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    ep = ernn.pack_sequence([ember.tensor(s) for s in seqs], enforce_sorted=False)
    _close(ep.data, tp.data)
    assert isinstance(ep, tuple) and ep._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert repr(ep).startswith("PackedSequence(data=tensor(")
    for e, s in zip(ernn.unpack_sequence(ep), seqs):
        np.testing.assert_array_equal(e.numpy(), s)
    sorted_seqs = sorted(seqs, key=len, reverse=True)
    ep = ernn.pack_sequence([ember.tensor(s) for s in sorted_seqs])
    assert ep.sorted_indices is None and ep.unsorted_indices is None
    assert ep.double().data.dtype == ember.float64 and ep.float().data.dtype == ember.float32
    assert ernn.invert_permutation(ember.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert ember.nn.utils.rnn is ernn


def test_gradcheck_packed_lstm_and_gradgradcheck_cells():
    from ember.autograd import gradcheck, gradgradcheck
    ember.manual_seed(0)
    m = enn.LSTM(3, 4, proj_size=2, bidirectional=True).double()
    x, h, c = (ember.randn(*s, dtype=ember.float64, requires_grad=True) for s in ((3, 2, 3), (2, 2, 2), (2, 2, 4)))

    def f(x, h, c):
        y, (hn, cn) = m(ernn.pack_padded_sequence(x, [3, 1]), (h, c))
        return y.data, hn, cn
    assert gradcheck(f, (x, h, c))
    for cell in (enn.GRUCell(3, 4).double(), enn.RNNCell(3, 4).double()):
        args = (ember.randn(2, 3, dtype=ember.float64, requires_grad=True),
                ember.randn(2, 4, dtype=ember.float64, requires_grad=True))
        assert gradgradcheck(lambda x, h: cell(x, h), args)
