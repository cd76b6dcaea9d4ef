"""Attention and transformer layers against torch: same weights (copied through numpy), same outputs, attention
weights, input and parameter grads in eval mode; same reprs, state_dict keys and torch checkpoints loading."""
import warnings

import numpy as np
import pytest

import ember
import ember.nn as enn
import ember.nn.functional as EF

import torch
tnn = torch.nn
TF = torch.nn.functional

E, H = 8, 2
pytestmark = [pytest.mark.filterwarnings("ignore:Support for mismatched"),  # torch warns too; tested below
              pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")]


def _rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


def _copy_state(tmod, emod):
    emod.load_state_dict({k: ember.tensor(v.detach().numpy().copy()) for k, v in tmod.state_dict().items()})


def _lib_masks(masks):
    """numpy masks -> (torch kwargs, ember kwargs)."""
    return ({k: torch.tensor(v) for k, v in masks.items()}, {k: ember.tensor(v) for k, v in masks.items()})


def _close(e, t, atol=1e-10, msg=""):
    assert tuple(e.shape) == tuple(t.shape), msg
    np.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), atol=atol, rtol=1e-7, err_msg=msg)


def run(ctor, arrays, order, masks=None, grad=True, **kw):
    """Build ``ctor(nn, F)`` in torch and ember (float64, eval), call it on ``arrays`` picked by ``order`` (a repeated
    index passes the same tensor object, as self-attention does), compare outputs and all grads."""
    tmod, emod = ctor(tnn, TF).double().eval(), ctor(enn, EF).double().eval()
    assert repr(tmod) == repr(emod)
    assert list(tmod.state_dict()) == list(emod.state_dict())
    _copy_state(tmod, emod)
    t_in = [torch.tensor(a, requires_grad=grad) for a in arrays]
    e_in = [ember.tensor(a, requires_grad=grad) for a in arrays]
    t_masks, e_masks = _lib_masks(masks or {})
    ty = tmod(*[t_in[i] for i in order], **t_masks, **kw)
    ey = emod(*[e_in[i] for i in order], **e_masks, **kw)
    ty, ey = (list(ty), list(ey)) if isinstance(ty, tuple) else ([ty], [ey])
    for t, e in zip(ty, ey):
        assert (t is None) == (e is None)
        if t is not None:
            _close(e, t, msg="output")
    if not grad:
        return ty, ey
    g = _rand(tuple(ty[0].shape), 99)
    ty[0].backward(torch.tensor(g))
    ey[0].backward(ember.tensor(g))
    for i, (t, e) in enumerate(zip(t_in, e_in)):
        if t.grad is None:
            assert e.grad is None, f"grad of input {i}"
        else:
            _close(e.grad, t.grad, msg=f"grad of input {i}")
    for (name, tp), (_, ep) in zip(tmod.named_parameters(), emod.named_parameters()):
        if tp.grad is None:
            assert ep.grad is None or not ep.grad.detach().numpy().any(), name
        else:
            _close(ep.grad, tp.grad, msg=f"grad of {name}")
    return ty, ey


def _qkv(L=4, S=5, N=3, kdim=E, vdim=E, batch_first=False):
    q = _rand((N, L, E) if batch_first else (L, N, E), 1)
    k = _rand((N, S, kdim) if batch_first else (S, N, kdim), 2)
    v = _rand((N, S, vdim) if batch_first else (S, N, vdim), 3)
    return q, k, v


def _bool_mask(shape, seed, p=0.3):
    m = np.random.default_rng(seed).random(shape) < p
    m[..., 0] = False  # every row keeps a key: no fully masked rows
    return m


# ---- MultiheadAttention --------------------------------------------------------------------------------
MHA_CASES = {
    "self": (dict(), [0, 0, 0]),
    "cross_kv_same": (dict(), [0, 1, 1]),
    "distinct": (dict(), [0, 1, 2]),
    "no_bias": (dict(bias=False), [0, 1, 2]),
    "bias_kv": (dict(add_bias_kv=True), [0, 1, 2]),
    "zero_attn": (dict(add_zero_attn=True), [0, 1, 2]),
    "bias_kv_zero_attn": (dict(add_bias_kv=True, add_zero_attn=True), [0, 1, 2]),
}
MASKS = {  # (L, S) -> masks for N = 3
    "none": lambda L, S: {},
    "kpm_bool": lambda L, S: {"key_padding_mask": _bool_mask((3, S), 4)},
    "attn3d_float": lambda L, S: {"attn_mask": _rand((3 * H, L, S), 5)},
    "both_bool": lambda L, S: {"attn_mask": _bool_mask((L, S), 5), "key_padding_mask": _bool_mask((3, S), 4)},
    "both_float": lambda L, S: {"attn_mask": _rand((3 * H, L, S), 5), "key_padding_mask": _rand((3, S), 4)},
}


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("masks", list(MASKS))
@pytest.mark.parametrize("case", list(MHA_CASES))
def test_mha(case, masks, need_weights):
    kw, order = MHA_CASES[case]
    L = 5 if order == [0, 0, 0] else 4
    arrays = list(_qkv(L=L))[:max(order) + 1]
    run(lambda nn, F: nn.MultiheadAttention(E, H, **kw), arrays, order, MASKS[masks](L, 5), need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_kdim_vdim(need_weights):
    q, k, v = _qkv(kdim=3, vdim=5)
    masks = {"attn_mask": _bool_mask((4, 5), 5), "key_padding_mask": _bool_mask((3, 5), 4)}
    run(lambda nn, F: nn.MultiheadAttention(E, H, kdim=3, vdim=5, add_bias_kv=True, add_zero_attn=True),
        [q, k, v], [0, 1, 2], masks, need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_batch_first_per_head_weights(need_weights):
    q, k, v = _qkv(batch_first=True)
    masks = {"attn_mask": _rand((3 * H, 4, 5), 5), "key_padding_mask": _rand((3, 5), 4)}
    for order in ([0, 1, 2], [0, 1, 1]):
        run(lambda nn, F: nn.MultiheadAttention(E, H, batch_first=True), [q, k, v], order, masks,
            need_weights=need_weights, average_attn_weights=False)
    x = _rand((3, 5, E), 1)
    run(lambda nn, F: nn.MultiheadAttention(E, H, batch_first=True), [x], [0, 0, 0],
        {"key_padding_mask": _bool_mask((3, 5), 4)}, need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
def test_mha_unbatched(need_weights):
    q, k, v = _rand((4, E), 1), _rand((5, E), 2), _rand((5, E), 3)
    masks = {"attn_mask": _rand((H, 4, 5), 5), "key_padding_mask": _rand((5,), 4)}
    run(lambda nn, F: nn.MultiheadAttention(E, H, add_bias_kv=True), [q, k, v], [0, 1, 2], masks,
        need_weights=need_weights, average_attn_weights=False)
    run(lambda nn, F: nn.MultiheadAttention(E, H, kdim=3, vdim=5, batch_first=True),
        [q, _rand((5, 3), 2), _rand((5, 5), 3)], [0, 1, 2], {"attn_mask": _bool_mask((4, 5), 5)},
        need_weights=need_weights)


@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("kpm", [False, True])
def test_mha_is_causal(need_weights, kpm):
    x = _rand((5, 3, E), 1)
    masks = {"attn_mask": np.triu(np.full((5, 5), -np.inf), 1)}
    if kpm:
        masks["key_padding_mask"] = np.where(_bool_mask((3, 5), 4), -np.inf, 0.0)
    run(lambda nn, F: nn.MultiheadAttention(E, H), [x], [0, 0, 0], masks, need_weights=need_weights, is_causal=True)


def test_mha_fully_masked_rows():
    """A key padding mask hiding every key: the weights path gives NaN, the SDPA path gives zeros, as torch."""
    x = _rand((4, 2, E), 1)
    kpm = np.zeros((2, 4), bool)
    kpm[1] = True
    for need_weights in (True, False):
        ty, ey = run(lambda nn, F: nn.MultiheadAttention(E, H), [x], [0, 0, 0], {"key_padding_mask": kpm},
                     grad=False, need_weights=need_weights)
        assert np.isnan(ty[0].detach().numpy()).any() == need_weights


def test_mha_dropout_train_mode():
    """In training mode the attention weights are dropped out (kept ones scaled by 1 / (1 - p))."""
    m = enn.MultiheadAttention(E, H, dropout=0.5)
    x = ember.tensor(_rand((4, 2, E), 1).astype(np.float32))
    with ember.no_grad():
        w_train = m(x, x, x)[1].numpy()
        m.eval()
        w_eval = m(x, x, x)[1].numpy()
    np.testing.assert_allclose(w_eval.sum(-1), 1.0, rtol=1e-6)
    m = enn.MultiheadAttention(E, H, dropout=0.5)
    with ember.no_grad():
        w = m(x, x, x, average_attn_weights=False)[1].numpy()
        m.eval()
        w0 = m(x, x, x, average_attn_weights=False)[1].numpy()
    kept = w != 0
    assert 0 < kept.mean() < 1
    np.testing.assert_allclose(w[kept], 2 * w0[kept], rtol=1e-5)


def test_mha_init_and_params():
    m = enn.MultiheadAttention(E, H, add_bias_kv=True)
    names = [n for n, _ in m.named_parameters()]
    assert names == [n for n, _ in tnn.MultiheadAttention(E, H, add_bias_kv=True).named_parameters()]
    bound = np.sqrt(6.0 / (E + 3 * E))
    w = m.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.5 * bound
    assert not m.in_proj_bias.detach().numpy().any() and not m.out_proj.bias.detach().numpy().any()
    assert m.bias_k.shape == (1, 1, E) and m.bias_k.detach().numpy().any()
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    assert isinstance(m.out_proj, enn.Linear)
    sep = enn.MultiheadAttention(E, H, kdim=3, vdim=5, bias=False)
    assert sep.in_proj_weight is None and sep.in_proj_bias is None and sep.out_proj.bias is None
    assert sep.k_proj_weight.shape == (E, 3) and sep.v_proj_weight.shape == (E, 5)
    assert sep._qkv_same_embed_dim is False and sep.head_dim == E // H


def test_mha_errors():
    with pytest.raises(AssertionError, match="embed_dim must be divisible by num_heads"):
        enn.MultiheadAttention(E, 3)
    with pytest.raises(ValueError, match="embed_dim and num_heads must be greater than 0"):
        enn.MultiheadAttention(0, 2)
    m = enn.MultiheadAttention(E, H)
    x = ember.tensor(_rand((4, 2, E), 1).astype(np.float32))
    with pytest.raises(AssertionError, match="expected `key` and `value` to be 3-D"):
        m(x, x[0], x[0])
    with pytest.raises(AssertionError, match="query should be unbatched 2D or batched 3D"):
        m(x[None], x, x)
    with pytest.raises(AssertionError, match="was expecting embedding dimension of 8, but got 4"):
        m(x[..., :4], x[..., :4], x[..., :4])
    with pytest.raises(RuntimeError, match=r"The shape of the 2D attn_mask is torch.Size\(\[3, 4\]\), but should be "
                                           r"\(4, 4\)."):
        m(x, x, x, attn_mask=ember.zeros(3, 4))
    with pytest.raises(RuntimeError, match="Need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating types of attn_mask are supported"):
        m(x, x, x, attn_mask=ember.zeros(4, 4, dtype=ember.int64))
    with pytest.raises(AssertionError, match="Expected key_padded_mask.shape\\[1\\] to be 4, but got 3"):
        m(x, x, x, key_padding_mask=ember.zeros(2, 3, dtype=ember.bool))


def test_mha_mismatched_mask_types_warn():
    m = enn.MultiheadAttention(E, H)
    x = ember.tensor(_rand((4, 2, E), 1).astype(np.float32))
    with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
        m(x, x, x, key_padding_mask=ember.zeros(2, 4, dtype=ember.bool), attn_mask=ember.zeros(4, 4))


def test_multi_head_attention_forward_functional():
    """F.multi_head_attention_forward with separate projection weights and static keys/values."""
    rng = np.random.default_rng(0)
    q, k, v = _qkv(kdim=3, vdim=5)
    ws = [rng.standard_normal(s) for s in ((E, E), (E, 3), (E, 5), (3 * E,), (E, E), (E,))]
    static_k, static_v = rng.standard_normal((3 * H, 6, E // H)), rng.standard_normal((3 * H, 6, E // H))
    outs = []
    for lib, fn in ((torch, TF), (ember, EF)):
        t = [lib.tensor(a) for a in (q, k, v, *ws, static_k, static_v)]
        outs.append(fn.multi_head_attention_forward(
            t[0], t[1], t[2], E, H, None, t[6], None, None, False, 0.0, t[7], t[8], training=False,
            use_separate_proj_weight=True, q_proj_weight=t[3], k_proj_weight=t[4], v_proj_weight=t[5],
            static_k=t[9], static_v=t[10]))
    for t, e in zip(*outs):
        _close(e, t)


# ---- scaled_dot_product_attention ----------------------------------------------------------------------
SDPA_CASES = {
    "plain": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 6), {}),
    "bool_mask": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {"attn_mask": _bool_mask((4, 5), 6)}),
    "float_mask": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {"attn_mask": _rand((2, 1, 4, 5), 6)}),
    "causal": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8), {"is_causal": True}),
    "scale": ((3, 4, 8), (3, 5, 8), (3, 5, 8), {"scale": 0.3}),
    "gqa": ((2, 6, 4, 8), (2, 2, 5, 8), (2, 2, 5, 8), {"enable_gqa": True}),
    "dead_rows": ((2, 3, 4, 8), (2, 3, 5, 8), (2, 3, 5, 8),
                  {"attn_mask": np.array([[True] * 5, [False] * 5, [True, False, True, False, True], [False] * 5])}),
}


@pytest.mark.parametrize("case", list(SDPA_CASES))
def test_sdpa(case):
    qs, ks, vs, kw = SDPA_CASES[case]
    arrays = [_rand(qs, 1), _rand(ks, 2), _rand(vs, 3)]
    res = []
    for lib, fn in ((torch, TF), (ember, EF)):
        ins = [lib.tensor(a, requires_grad=True) for a in arrays]
        kwl = {k: (lib.tensor(v) if isinstance(v, np.ndarray) else v) for k, v in kw.items()}
        out = fn.scaled_dot_product_attention(*ins, **kwl)
        out.backward(lib.tensor(_rand(tuple(out.shape), 9)))
        res.append([out] + [i.grad for i in ins])
    for t, e in zip(*res):
        _close(e, t)


def test_sdpa_errors():
    q = ember.zeros(1, 6, 3, 4)
    with pytest.raises(RuntimeError, match="Number of heads in key and value must divide the number of heads in"):
        EF.scaled_dot_product_attention(q, ember.zeros(1, 4, 3, 4), ember.zeros(1, 4, 3, 4), enable_gqa=True)
    with pytest.raises(RuntimeError, match="Expected attn_mask dtype to be bool or float or to match query dtype, "
                                           "but got attn_mask.dtype: long int and  query.dtype: float instead."):
        EF.scaled_dot_product_attention(q, q, q, attn_mask=ember.zeros(3, 3, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="Expected query, key, and value to have the same dtype, but got "
                                           "query.dtype: float key.dtype: double and value.dtype: float instead."):
        EF.scaled_dot_product_attention(q, q.double(), q)


# ---- encoder / decoder layers --------------------------------------------------------------------------
def _enc_layer(norm_first, activation="relu", batch_first=False, bias=True):
    def ctor(nn, F):
        act = F.silu if activation == "callable" else nn.GELU() if activation == "module" else activation
        return nn.TransformerEncoderLayer(E, H, 16, dropout=0.1, activation=act, layer_norm_eps=1e-6,
                                          batch_first=batch_first, norm_first=norm_first, bias=bias)
    return ctor


@pytest.mark.parametrize("activation", ["relu", "gelu", "callable", "module"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer(norm_first, activation):
    src = _rand((5, 3, E), 1)
    masks = {"src_mask": _bool_mask((5, 5), 5), "src_key_padding_mask": _bool_mask((3, 5), 4)}
    run(_enc_layer(norm_first, activation), [src], [0], masks)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_batch_first_no_bias_unbatched(norm_first):
    run(_enc_layer(norm_first, batch_first=True, bias=False), [_rand((3, 5, E), 1)], [0],
        {"src_key_padding_mask": _bool_mask((3, 5), 4)})
    run(_enc_layer(norm_first, batch_first=True), [_rand((5, E), 1)], [0],
        {"src_mask": _rand((5, 5), 5)})
    causal = np.triu(np.full((5, 5), -np.inf), 1)
    run(_enc_layer(norm_first), [_rand((5, 3, E), 1)], [0], {"src_mask": causal}, is_causal=True)


def _dec_layer(norm_first, activation="relu", batch_first=False):
    def ctor(nn, F):
        return nn.TransformerDecoderLayer(E, H, 16, dropout=0.1, activation=activation, batch_first=batch_first,
                                          norm_first=norm_first)
    return ctor


@pytest.mark.parametrize("activation", ["relu", "gelu"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer(norm_first, activation):
    tgt, mem = _rand((4, 3, E), 1), _rand((5, 3, E), 2)
    masks = {"tgt_mask": np.triu(np.full((4, 4), -np.inf), 1), "memory_mask": _bool_mask((4, 5), 5),
             "tgt_key_padding_mask": _bool_mask((3, 4), 6), "memory_key_padding_mask": _bool_mask((3, 5), 4)}
    run(_dec_layer(norm_first, activation), [tgt, mem], [0, 1], masks)
    run(_dec_layer(norm_first, batch_first=True), [_rand((3, 4, E), 1), _rand((3, 5, E), 2)], [0, 1],
        {"tgt_mask": np.triu(np.full((4, 4), -np.inf), 1)}, tgt_is_causal=True)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_decoder_stacks(norm_first):
    def enc(nn, F):
        return nn.TransformerEncoder(_enc_layer(norm_first)(nn, F), 2, nn.LayerNorm(E), enable_nested_tensor=False)

    def dec(nn, F):
        return nn.TransformerDecoder(_dec_layer(norm_first)(nn, F), 2, nn.LayerNorm(E))
    causal = np.triu(np.full((5, 5), -np.inf), 1)
    run(enc, [_rand((5, 3, E), 1)], [0], {"mask": causal, "src_key_padding_mask": _bool_mask((3, 5), 4)})
    run(enc, [_rand((5, 3, E), 1)], [0], {"mask": causal})
    run(dec, [_rand((5, 3, E), 1), _rand((4, 3, E), 2)], [0, 1],
        {"tgt_mask": causal, "memory_key_padding_mask": _bool_mask((3, 4), 4)})


def _transformer(norm_first=False, batch_first=False):
    def ctor(nn, F):
        return nn.Transformer(E, H, 2, 2, 16, dropout=0.1, batch_first=batch_first, norm_first=norm_first)
    return ctor


@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer(norm_first):
    masks = {"tgt_mask": np.triu(np.full((4, 4), -np.inf), 1), "src_key_padding_mask": _bool_mask((3, 5), 4),
             "memory_key_padding_mask": _bool_mask((3, 5), 4), "tgt_key_padding_mask": _bool_mask((3, 4), 6)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        run(_transformer(norm_first), [_rand((5, 3, E), 1), _rand((4, 3, E), 2)], [0, 1], masks)
        run(_transformer(norm_first, batch_first=True), [_rand((3, 5, E), 1), _rand((3, 4, E), 2)], [0, 1],
            {"tgt_mask": np.triu(np.full((4, 4), -np.inf), 1)})
        run(_transformer(norm_first), [_rand((5, E), 1), _rand((4, E), 2)], [0, 1],
            {"tgt_mask": np.triu(np.full((4, 4), -np.inf), 1), "src_key_padding_mask": _bool_mask((5,), 4)})


def test_generate_square_subsequent_mask():
    e = enn.Transformer.generate_square_subsequent_mask(4)
    t = tnn.Transformer.generate_square_subsequent_mask(4)
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    assert e.dtype == ember.float32
    assert enn.Transformer.generate_square_subsequent_mask(3, dtype=ember.float64).dtype == ember.float64


def test_transformer_init_and_errors():
    with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested_tensor is False because "
                                         "encoder_layer.self_attn.batch_first was not True"):
        m = enn.Transformer(E, H, 1, 1, 16)
    for name, p in m.named_parameters():
        if p.dim() > 1:
            bound = np.sqrt(6.0 / sum(p.shape[:2]))
            assert np.abs(p.detach().numpy()).max() <= bound, name
    assert m.encoder.layers[0].activation is EF.relu and m.encoder.layers[0].activation_relu_or_gelu == 1
    with pytest.raises(RuntimeError, match="activation should be relu/gelu, not tanh"):
        enn.TransformerEncoderLayer(E, H, activation="tanh")
    with pytest.raises(RuntimeError, match="the batch number of src and tgt must be equal"):
        m(ember.zeros(5, 3, E), ember.zeros(4, 2, E))
    with pytest.raises(RuntimeError, match="the feature number of src and tgt must be equal to d_model"):
        m(ember.zeros(5, 3, 4), ember.zeros(4, 3, 4))


@pytest.mark.parametrize("batch_first", [False, True])
def test_load_torch_state_dict_inference(batch_first):
    """A torch Transformer's state_dict loads into ember; eval outputs agree under no_grad too, including
    torch's nested-tensor encoder path (zeros at padded source positions) for batch_first models."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tm = tnn.Transformer(E, H, 2, 2, 16, batch_first=batch_first).eval()
        em = enn.Transformer(E, H, 2, 2, 16, batch_first=batch_first).eval()
    em.load_state_dict({k: ember.tensor(v.numpy()) for k, v in tm.state_dict().items()})
    src = _rand((3, 5, E) if batch_first else (5, 3, E), 1).astype(np.float32)
    tgt = _rand((3, 4, E) if batch_first else (4, 3, E), 2).astype(np.float32)
    kpm = np.zeros((3, 5), bool)
    kpm[0, 3:] = kpm[2, 4:] = True
    tmask = tnn.Transformer.generate_square_subsequent_mask(4)
    with torch.no_grad():
        t_out = tm(torch.tensor(src), torch.tensor(tgt), tgt_mask=tmask, src_key_padding_mask=torch.tensor(kpm),
                   memory_key_padding_mask=torch.tensor(kpm))
        t_mem = tm.encoder(torch.tensor(src), src_key_padding_mask=torch.tensor(kpm))
    with ember.no_grad():
        e_out = em(ember.tensor(src), ember.tensor(tgt), tgt_mask=enn.Transformer.generate_square_subsequent_mask(4),
                   src_key_padding_mask=ember.tensor(kpm), memory_key_padding_mask=ember.tensor(kpm))
        e_mem = em.encoder(ember.tensor(src), src_key_padding_mask=ember.tensor(kpm))
    np.testing.assert_allclose(e_out.numpy(), t_out.numpy(), atol=2e-5)
    np.testing.assert_allclose(e_mem.numpy(), t_mem.numpy(), atol=2e-5)


def test_gradcheck_mha_and_sdpa():
    """float64 gradcheck through the attention weights path and the SDPA path (with a fully masked row)."""
    rng = np.random.default_rng(0)
    q, k, v = (ember.tensor(rng.standard_normal((3, 2, 4)), requires_grad=True) for _ in range(3))
    w_in = ember.tensor(rng.standard_normal((12, 4)) * 0.5, requires_grad=True)
    w_out = ember.tensor(rng.standard_normal((4, 4)) * 0.5, requires_grad=True)
    kpm = ember.tensor(np.array([[False, True, False], [False, False, True]]))

    def mha(q, k, v, w_in, w_out, need_weights):
        out, _ = EF.multi_head_attention_forward(q, k, v, 4, 2, w_in, None, None, None, False, 0.0, w_out, None,
                                                 key_padding_mask=kpm, need_weights=need_weights)
        return out
    for need_weights in (True, False):
        assert ember.autograd.gradcheck(lambda *a: mha(*a, need_weights), (q, k, v, w_in, w_out))
    mask = ember.tensor(np.array([[True, False, True], [False, False, False], [True, True, True]]))
    qs, ks, vs = (ember.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True) for _ in range(3))
    assert ember.autograd.gradcheck(lambda a, b, c: EF.scaled_dot_product_attention(a, b, c, attn_mask=mask),
                                    (qs, ks, vs))


def test_mha_on_standin_cuda(standin_cuda):
    """The layers run on another device (NumPy-backed stand-in) and agree with cpu."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        m = enn.Transformer(E, H, 1, 1, 16).eval()
    src = ember.tensor(_rand((5, 2, E), 1).astype(np.float32))
    tgt = ember.tensor(_rand((4, 2, E), 2).astype(np.float32))
    kpm = ember.tensor(_bool_mask((2, 5), 4))
    ref = m(src, tgt, src_key_padding_mask=kpm, tgt_is_causal=True,
            tgt_mask=enn.Transformer.generate_square_subsequent_mask(4)).detach().numpy()
    m.to("cuda")
    out = m(src.to("cuda"), tgt.to("cuda"), src_key_padding_mask=kpm.to("cuda"), tgt_is_causal=True,
            tgt_mask=enn.Transformer.generate_square_subsequent_mask(4, device="cuda"))
    assert out.device.type == "cuda"
    np.testing.assert_allclose(out.detach().cpu().numpy(), ref, atol=1e-6)
