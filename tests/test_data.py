"""ember.utils.data against torch.utils.data: datasets, samplers, collation, DataLoader (also with
worker processes), and a real training run on scikit-learn's digits through a DataLoader."""
import collections
import os
import random
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as td
from torch.utils.data._utils.worker import _generate_state

import ember
import ember.nn as enn
import ember.utils.data as ed

P = collections.namedtuple("P", "a b")


def assert_same(e, t):
    """ember's output ``e`` has torch's ``t`` structure, container types, dtypes and values."""
    if isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), (type(e), t)
        assert str(e.dtype) == str(t.dtype) and tuple(e.shape) == tuple(t.shape)
        np.testing.assert_array_equal(e.numpy(), t.numpy())
        return
    assert type(e).__name__ == type(t).__name__, (e, t)
    if isinstance(t, dict):
        assert list(e) == list(t)
        for k in t:
            assert_same(e[k], t[k])
    elif isinstance(t, (list, tuple)):
        assert len(e) == len(t)
        for a, b in zip(e, t):
            assert_same(a, b)
    else:
        assert e == t


def raises_like(make_ember, make_torch):
    """Both calls raise the same exception type with the same message."""
    with pytest.raises(Exception) as te:
        make_torch()
    with pytest.raises(te.type) as ee:
        make_ember()
    assert str(ee.value) == str(te.value)


def xy(n=10):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n) % 4
    return (ed.TensorDataset(ember.tensor(x), ember.tensor(y)),
            td.TensorDataset(torch.tensor(x), torch.tensor(y)))


# ---------------------------------------------------------------- datasets

class Squares(ed.Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i


def _stream_class(data):
    """An iterable dataset of 0..n-1 on ``data`` (ember's or torch's), sharded over workers when ``shard``."""

    class Stream(data.IterableDataset):
        def __init__(self, n, shard=False):
            self.n, self.shard = n, shard

        def __len__(self):
            return self.n

        def __iter__(self):
            info = data.get_worker_info()
            if self.shard and info is not None:
                return iter(range(info.id, self.n, info.num_workers))
            return iter(range(self.n))

    return Stream


Stream, TorchStream = _stream_class(ed), _stream_class(td)


def test_tensor_dataset_items_and_size_mismatch():
    e, t = xy(5)
    assert len(e) == len(t) == 5
    assert_same(e[3], t[3])
    raises_like(lambda: ed.TensorDataset(ember.zeros(3), ember.zeros(4)),
                lambda: td.TensorDataset(torch.zeros(3), torch.zeros(4)))


def test_concat_and_chain_datasets():
    cat = Squares(3) + Squares(4)
    assert isinstance(cat, ed.ConcatDataset) and len(cat) == 7
    assert [cat[i] for i in range(7)] == [0, 1, 4, 0, 1, 4, 9]
    assert cat[-1] == 9 and cat[-7] == 0 and cat.cumulative_sizes == [3, 7]
    raises_like(lambda: cat[-8], lambda: td.ConcatDataset([range(3), range(4)])[-8])
    raises_like(lambda: ed.ConcatDataset([]), lambda: td.ConcatDataset([]))
    raises_like(lambda: ed.ConcatDataset([Stream(2)]), lambda: td.ConcatDataset([TorchStream(2)]))
    chain = Stream(2) + Stream(3)
    assert isinstance(chain, ed.ChainDataset) and list(chain) == [0, 1, 0, 1, 2] and len(chain) == 5
    raises_like(lambda: list(ed.ChainDataset([Squares(2)])), lambda: list(td.ChainDataset([range(2)])))


def test_subset_and_stack_dataset():
    e, t = xy(6)
    es, ts = ed.Subset(e, [4, 0, 2]), td.Subset(t, [4, 0, 2])
    assert len(es) == 3
    assert_same(es[0], ts[0])
    assert_same(es.__getitems__([2, 1]), ts.__getitems__([2, 1]))

    def bad(base):
        return type("Bad", (base,), {"__getitem__": lambda self, i: 0})

    raises_like(lambda: bad(ed.Subset)(e, [0]), lambda: bad(td.Subset)(t, [0]))
    x = np.arange(4.0)
    assert_same(ed.StackDataset(ember.tensor(x), Squares(4))[2], td.StackDataset(torch.tensor(x), [0, 1, 4, 9])[2])
    assert ed.StackDataset(a=Squares(3), b=es).__getitems__([1, 2])[1]["a"] == 4
    assert_same(ed.StackDataset(a=Squares(3), b=es).__getitems__([1, 2])[0]["b"], ts[1])
    for args, kwargs in [((), {}), ((Squares(2),), {"b": Squares(2)}), ((Squares(2), Squares(3)), {})]:
        raises_like(lambda: ed.StackDataset(*args, **kwargs), lambda: td.StackDataset(*args, **kwargs))


@pytest.mark.parametrize("n,lengths", [(10, [3, 7]), (10, [0.3, 0.7]), (11, [0.5, 0.5]), (10, [0.33, 0.33, 0.34]),
                                       (7, [0.1, 0.2, 0.3, 0.4]), (100, [0.25] * 4)])
def test_random_split_sizes_as_torch_and_reproducible(n, lengths):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tsplit = td.random_split(range(n), lengths)
        esplit = ed.random_split(range(n), lengths, generator=ember.Generator().manual_seed(3))
        again = ed.random_split(range(n), lengths, generator=ember.Generator().manual_seed(3))
    assert [len(s) for s in esplit] == [len(s) for s in tsplit]
    assert sorted(i for s in esplit for i in s) == list(range(n))
    assert [list(s) for s in esplit] == [list(s) for s in again]


def test_random_split_errors_and_warning():
    raises_like(lambda: ed.random_split(range(10), [3, 6]), lambda: td.random_split(range(10), [3, 6]))
    raises_like(lambda: ed.random_split(range(10), [1.5, -0.5]), lambda: td.random_split(range(10), [1.5, -0.5]))
    with pytest.warns(UserWarning, match="Length of split at index 2 is 0"):
        assert [len(s) for s in ed.random_split(range(3), [0.6, 0.3, 0.1])] == [2, 1, 0]


# ---------------------------------------------------------------- samplers

@pytest.mark.parametrize("n,bs,drop", [(10, 3, False), (10, 3, True), (9, 3, True), (2, 5, False), (2, 5, True)])
def test_batch_sampler_as_torch(n, bs, drop):
    e = ed.BatchSampler(ed.SequentialSampler(range(n)), bs, drop)
    t = td.BatchSampler(td.SequentialSampler(range(n)), bs, drop)
    assert list(e) == list(t) and len(e) == len(t)


@pytest.mark.parametrize("kwargs", [dict(batch_size=0, drop_last=False), dict(batch_size=True, drop_last=False),
                                    dict(batch_size=2.0, drop_last=False), dict(batch_size=2, drop_last=1)])
def test_batch_sampler_errors(kwargs):
    raises_like(lambda: ed.BatchSampler(range(3), **kwargs), lambda: td.BatchSampler(range(3), **kwargs))


def test_random_sampler():
    g = ember.Generator().manual_seed(0)
    first, second = list(ed.RandomSampler(range(20), generator=g)), list(ed.RandomSampler(range(20), generator=g))
    assert sorted(first) == sorted(second) == list(range(20)) and first != second
    assert list(ed.RandomSampler(range(20), generator=ember.Generator().manual_seed(0))) == first
    ember.manual_seed(5)
    a = list(ed.RandomSampler(range(20)))
    ember.manual_seed(5)
    assert list(ed.RandomSampler(range(20))) == a
    longer = ed.RandomSampler(range(5), num_samples=12)
    drawn = list(longer)
    assert len(longer) == len(drawn) == 12 and sorted(drawn[:10]) == sorted(list(range(5)) * 2)
    with_repl = list(ed.RandomSampler(range(3), replacement=True, num_samples=70))
    assert len(with_repl) == 70 and set(with_repl) == {0, 1, 2}
    for kwargs in [dict(replacement=1), dict(num_samples=0), dict(num_samples=2.0)]:
        raises_like(lambda: ed.RandomSampler(range(3), **kwargs), lambda: td.RandomSampler(range(3), **kwargs))


def test_subset_and_weighted_random_samplers():
    idx = [7, 3, 11, 5]
    s = ed.SubsetRandomSampler(idx, generator=ember.Generator().manual_seed(1))
    assert len(s) == 4 and sorted(s) == sorted(idx)
    w = ed.WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=ember.Generator().manual_seed(1))
    drawn = list(w)
    assert len(w) == len(drawn) == 200 and set(drawn) == {1, 3} and drawn.count(3) > drawn.count(1)
    assert sorted(ed.WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False)) == [0, 1, 2]
    for args in [([1.0], 0), ([1.0], True), ([[1.0, 2.0]], 1)]:
        raises_like(lambda: ed.WeightedRandomSampler(*args), lambda: td.WeightedRandomSampler(*args))
    raises_like(lambda: ed.WeightedRandomSampler([1.0], 1, replacement=None),
                lambda: td.WeightedRandomSampler([1.0], 1, replacement=None))


@pytest.mark.parametrize("n,replicas,drop", [(10, 3, False), (10, 3, True), (2, 4, False), (12, 4, True), (5, 2, False)])
def test_distributed_sampler_as_torch(n, replicas, drop):
    for rank in range(replicas):
        e = ed.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop)
        t = td.DistributedSampler(range(n), num_replicas=replicas, rank=rank, shuffle=False, drop_last=drop)
        assert list(e) == list(t) and len(e) == len(t)
    shuffled = sum((list(ed.DistributedSampler(range(n), replicas, r, seed=4, drop_last=drop))
                    for r in range(replicas)), [])
    assert len(shuffled) == replicas * len(t)
    if drop:
        assert len(set(shuffled)) == len(shuffled)   # cut down: no repeats
    else:
        assert set(shuffled) == set(range(n))        # padded by repeats: nothing missing


def test_distributed_sampler_epochs_and_errors():
    s = ed.DistributedSampler(range(50), num_replicas=2, rank=0, seed=7)
    e0, e0_again = list(s), list(s)
    s.set_epoch(1)
    e1 = list(s)
    assert e0 == e0_again and e0 != e1 and s.epoch == 1
    other = ed.DistributedSampler(range(50), num_replicas=2, rank=1, seed=7)
    assert sorted(e0 + list(other)) == list(range(50))
    raises_like(lambda: ed.DistributedSampler(range(5), num_replicas=2, rank=2),
                lambda: td.DistributedSampler(range(5), num_replicas=2, rank=2))
    raises_like(lambda: ed.DistributedSampler(range(5)), lambda: td.DistributedSampler(range(5)))


# ---------------------------------------------------------------- collate

def _samples(mod, tensor):
    return [{"x": tensor(np.full((2, 2), i, np.float32)), "arr": np.arange(3, dtype=np.int32) + i,
             "u8": np.array([i, 2], np.uint8), "npf": np.float64(i / 2), "npi": np.int16(i), "npb": np.bool_(i % 2),
             "f": i * 0.5, "n": i, "b": bool(i % 2), "s": f"s{i}", "by": b"b",
             "nt": P(i, [i, (i, 1.0)]), "od": collections.OrderedDict(k=i)} for i in range(3)]


def test_default_collate_matches_torch_structure_and_dtypes():
    e, t = ed.default_collate(_samples(ember, ember.tensor)), td.default_collate(_samples(torch, torch.tensor))
    assert_same(e, t)
    assert str(e["f"].dtype) == "torch.float64" and str(e["n"].dtype) == "torch.int64"
    for batch in ([1.5, 2.0], [3, 4], [(1, "a"), (2, "b")], [[1, 2], [3, 4]], [np.float32(1), np.float32(2)]):
        assert_same(ed.default_collate(batch), td.default_collate(batch))


def test_default_collate_stacks_tensors_once(monkeypatch):
    from ember.utils.data import collate as mod
    calls = []
    real = mod.stack
    monkeypatch.setattr(mod, "stack", lambda ts, dim: calls.append(len(ts)) or real(ts, dim))
    out = ed.default_collate([ember.full((3,), float(i)) for i in range(64)])
    assert calls == [64] and tuple(out.shape) == (64, 3)


def test_default_collate_errors():
    raises_like(lambda: ed.default_collate([ember.zeros(3), ember.zeros(4)]),
                lambda: td.default_collate([torch.zeros(3), torch.zeros(4)]))
    for batch in ([[1, 2], [3]], [object(), object()], [np.array(["a"]), np.array(["b"])], [None, None]):
        raises_like(lambda: ed.default_collate(batch), lambda: td.default_collate(batch))


def test_default_convert_and_custom_collate_map():
    for sample in _samples(None, lambda a: a):
        assert_same(ed.default_convert(sample), td.default_convert(sample))
    strings = np.array(["a", "b"])
    assert ed.default_convert(strings) is strings
    mapping = {**ed.collate.default_collate_fn_map, type(None): lambda b, collate_fn_map: len(b)}
    assert ed.collate.collate([(None, 1), (None, 2)], collate_fn_map=mapping)[0] == 2


# ---------------------------------------------------------------- DataLoader (one process)

LOADER_CASES = [dict(), dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
                dict(batch_size=4, shuffle=False), dict(sampler=[5, 1, 3], batch_size=2),
                dict(batch_sampler=[[0, 1], [9], [2, 3, 4]]), dict(batch_size=None, sampler=[4, 2])]


@pytest.mark.parametrize("kwargs", LOADER_CASES, ids=[str(k) for k in LOADER_CASES])
def test_loader_batches_and_len_as_torch(kwargs):
    e, t = xy(10)
    el, tl = ed.DataLoader(e, **kwargs), td.DataLoader(t, **kwargs)
    assert len(el) == len(tl)
    assert_same(list(el), list(tl))


@pytest.mark.parametrize("kwargs", [dict(batch_size=3), dict(batch_size=3, drop_last=True), dict(batch_size=None),
                                    dict(batch_size=5)])
def test_loader_iterable_dataset_as_torch(kwargs):
    el, tl = ed.DataLoader(Stream(7), **kwargs), td.DataLoader(TorchStream(7), **kwargs)
    assert len(el) == len(tl)
    assert_same(list(el), list(tl))


def test_loader_with_dict_samples_and_custom_collate():
    samples = _samples(ember, ember.tensor)
    tsamples = _samples(torch, torch.tensor)
    assert_same(list(ed.DataLoader(samples, batch_size=2)), list(td.DataLoader(tsamples, batch_size=2)))
    assert list(ed.DataLoader(range(5), batch_size=2, collate_fn=sum)) == [1, 5, 4]


BAD_ARGS = [dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2), dict(persistent_workers=True),
            dict(num_workers=1, prefetch_factor=-1), dict(shuffle=True, sampler=[0, 1]),
            dict(batch_sampler=[[0]], batch_size=2), dict(batch_sampler=[[0]], shuffle=True),
            dict(batch_sampler=[[0]], sampler=[0]), dict(batch_sampler=[[0]], drop_last=True),
            dict(batch_size=None, drop_last=True), dict(multiprocessing_context="fork"),
            dict(num_workers=1, multiprocessing_context="nope"), dict(num_workers=1, multiprocessing_context=3),
            dict(batch_size=0)]


@pytest.mark.parametrize("kwargs", BAD_ARGS, ids=[str(k) for k in BAD_ARGS])
def test_loader_argument_errors_as_torch(kwargs):
    raises_like(lambda: ed.DataLoader(range(4), **kwargs), lambda: td.DataLoader(range(4), **kwargs))


@pytest.mark.parametrize("kwargs", [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])])
def test_loader_iterable_dataset_argument_errors(kwargs):
    raises_like(lambda: ed.DataLoader(Stream(3), **kwargs), lambda: td.DataLoader(TorchStream(3), **kwargs))


def test_loader_attributes_frozen_and_len_errors():
    loader = ed.DataLoader(range(4))
    raises_like(lambda: setattr(loader, "batch_size", 2), lambda: setattr(td.DataLoader(range(4)), "batch_size", 2))
    loader.num_workers = 0

    class NoLen(ed.IterableDataset):
        def __iter__(self):
            return iter([1])

    with pytest.raises(TypeError):
        len(ed.DataLoader(NoLen()))
    assert ed.DataLoader(range(4)).pin_memory is False and list(ed.DataLoader(range(2), pin_memory=True))[1].item() == 1


def test_loader_warns_when_iterable_dataset_overruns_len():
    class Liar(Stream):
        def __len__(self):
            return 2

    loader = ed.DataLoader(Liar(4), batch_size=None)
    assert len(loader) == 2
    with pytest.warns(UserWarning, match="was reported to be 2"):
        assert [int(x) for x in loader] == [0, 1, 2, 3]


def test_loader_shuffle_reproducible_and_a_permutation():
    def order(**kw):
        return [b.tolist() for b in ed.DataLoader(range(30), batch_size=7, shuffle=True, **kw)]

    a = order(generator=ember.Generator().manual_seed(1))
    assert a == order(generator=ember.Generator().manual_seed(1))
    assert a != order(generator=ember.Generator().manual_seed(2))
    assert sorted(sum(a, [])) == list(range(30)) and [len(b) for b in a] == [7, 7, 7, 7, 2]
    ember.manual_seed(9)
    b = order()
    ember.manual_seed(9)
    assert order() == b
    g = ember.Generator().manual_seed(1)
    loader = ed.DataLoader(range(30), batch_size=7, shuffle=True, generator=g)
    assert [x.tolist() for x in loader] != [x.tolist() for x in loader]


# ---------------------------------------------------------------- worker processes

class Noisy(ed.Dataset):
    """Each sample: (index, worker id, worker seed, ember/NumPy/random draws, pid)."""

    def __len__(self):
        return 8

    def __getitem__(self, i):
        info = ed.get_worker_info()
        return {"i": i, "id": info.id, "seed": info.seed, "ember": ember.rand(1), "np": np.random.rand(),
                "py": random.random(), "pid": os.getpid(), "tag": getattr(info.dataset, "tag", "")}


def _tag(worker_id):
    ed.get_worker_info().dataset.tag = f"w{worker_id}"


def test_workers_give_the_same_batches_as_one_process():
    e, _ = xy(11)
    for kwargs in [dict(batch_size=3), dict(batch_size=2, shuffle=True), dict(batch_size=None)]:
        one = list(ed.DataLoader(e, generator=ember.Generator().manual_seed(0), **kwargs))
        two = list(ed.DataLoader(e, num_workers=2, generator=ember.Generator().manual_seed(0), **kwargs))
        assert len(one) == len(two) == len(ed.DataLoader(e, num_workers=2, **kwargs))
        for a, b in zip(one, two):
            for x, y in zip(a, b):
                np.testing.assert_array_equal(x.numpy(), y.numpy())


def test_worker_seeding_info_and_init_fn():
    def run():
        loader = ed.DataLoader(Noisy(), batch_size=2, num_workers=2, worker_init_fn=_tag,
                               generator=ember.Generator().manual_seed(4))
        return list(loader)

    batches = run()
    assert ed.get_worker_info() is None
    assert [b["i"].tolist() for b in batches] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    assert [b["id"].tolist() for b in batches] == [[0, 0], [1, 1], [0, 0], [1, 1]]
    assert batches[0]["tag"] == ["w0", "w0"] and batches[1]["tag"] == ["w1", "w1"]
    base = batches[0]["seed"][0].item()
    assert batches[1]["seed"][0].item() == base + 1
    assert batches[0]["pid"][0] != batches[1]["pid"][0] != os.getpid()
    for key in ("ember", "np", "py"):   # each worker's generators start from its own seed
        assert not np.allclose(np.asarray(batches[0][key]), np.asarray(batches[1][key])), key
    np.random.seed(_generate_state(base, 1))   # NumPy is seeded from the base seed exactly as torch does
    assert batches[1]["np"][0].item() == np.random.rand()
    random.seed(base + 1)
    assert batches[1]["py"][0].item() == random.random()
    ember.manual_seed(base)
    assert batches[0]["ember"][0].item() == ember.rand(1).item()
    again = run()
    for key in ("ember", "np", "py", "seed"):
        assert np.allclose(np.asarray(again[3][key]), np.asarray(batches[3][key])), key


class Failing(ed.Dataset):
    def __init__(self, exc):
        self.exc = exc

    def __len__(self):
        return 6

    def __getitem__(self, i):
        if i == 3:
            raise self.exc
        return i


def _broken_init(worker_id):
    raise ZeroDivisionError(f"no init for {worker_id}")


def test_worker_exceptions_reraised_with_traceback():
    loader = ed.DataLoader(Failing(ValueError("bad sample 3")), batch_size=2, num_workers=2)
    it = iter(loader)
    assert next(it).tolist() == [0, 1]
    with pytest.raises(ValueError, match="Caught ValueError in DataLoader worker process 1") as info:
        next(it)
    assert "Traceback (most recent call last)" in str(info.value) and "bad sample 3" in str(info.value)
    assert "raise self.exc" in str(info.value)
    with pytest.raises(KeyError, match="Caught KeyError in DataLoader worker process 1") as info:
        list(ed.DataLoader(Failing(KeyError("k")), batch_size=2, num_workers=2))
    assert "\n" in str(info.value)   # printed as text, not as a repr
    with pytest.raises(ZeroDivisionError, match="(?s)Caught ZeroDivisionError.*no init for 0"):
        list(ed.DataLoader(range(4), num_workers=2, worker_init_fn=_broken_init))


class Dying(ed.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        os._exit(3)


def test_worker_death_and_timeout():
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+(, \d+)?\) exited unexpectedly"):
        list(ed.DataLoader(Dying(), num_workers=1))

    class Slow(Squares):
        def __getitem__(self, i):
            time.sleep(0.6)
            return i

    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.1 seconds"):
        list(ed.DataLoader(Slow(2), num_workers=1, timeout=0.1))
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize("shard,kwargs", [(True, dict(batch_size=2)), (True, dict(batch_size=None)),
                                          (False, dict(batch_size=3)), (True, dict(batch_size=2, drop_last=True))])
def test_iterable_dataset_with_workers_as_torch(shard, kwargs):
    e = list(ed.DataLoader(Stream(7, shard), num_workers=2, **kwargs))
    t = list(td.DataLoader(TorchStream(7, shard), num_workers=2, **kwargs))
    assert_same(e, t)
    if shard and not kwargs.get("drop_last"):
        flat = [v for b in e for v in (b.tolist() if isinstance(b, ember.Tensor) else [b])]
        assert sorted(flat) == list(range(7))


def test_persistent_workers_reuse_processes():
    loader = ed.DataLoader(Noisy(), batch_size=4, num_workers=2, persistent_workers=True)
    first, second = list(loader), list(loader)
    assert [b["i"].tolist() for b in first] == [b["i"].tolist() for b in second] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert [b["pid"].tolist() for b in first] == [b["pid"].tolist() for b in second]
    assert not np.allclose(first[0]["np"].numpy(), second[0]["np"].numpy())   # the workers' RNGs run on
    stream = ed.DataLoader(Stream(5, shard=True), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in stream] == [b.tolist() for b in stream] == [[0, 2], [1, 3], [4]]


def test_spawn_context():
    loader = ed.DataLoader(range(6), batch_size=2, num_workers=1, multiprocessing_context="spawn")
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4, 5]]


# ---------------------------------------------------------------- real use

def test_train_mlp_on_digits_with_dataloader():
    from sklearn.datasets import load_digits
    d = load_digits()
    full = ed.TensorDataset(ember.tensor(d.data / 16.0, dtype=ember.float32), ember.tensor(d.target))
    train, test = ed.random_split(full, [0.8, 0.2], generator=ember.Generator().manual_seed(0))
    ember.manual_seed(0)
    model = enn.Sequential(enn.Linear(64, 64), enn.ReLU(), enn.Linear(64, 10))
    opt = ember.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = enn.CrossEntropyLoss()
    loader = ed.DataLoader(train, batch_size=64, shuffle=True, generator=ember.Generator().manual_seed(1))
    for _ in range(4):
        for x, y in loader:
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
    correct = 0
    with ember.no_grad():
        for x, y in ed.DataLoader(test, batch_size=100):
            correct += (model(x).argmax(1) == y).sum().item()
    assert correct / len(test) > 0.93


def test_torch_script_runs_through_ember_run(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(
        "import torch\n"
        "from torch.utils.data import DataLoader, TensorDataset, Dataset, random_split\n"
        "ds = TensorDataset(torch.arange(10.0).reshape(5, 2), torch.arange(5))\n"
        "a, b = random_split(ds, [0.6, 0.4])\n"
        "loader = torch.utils.data.DataLoader(ds, batch_size=2, num_workers=2)\n"
        "print(type(loader).__module__, len(a), len(b), [y.tolist() for _, y in loader])\n")
    out = subprocess.run([sys.executable, "-m", "ember", "run", str(script)], capture_output=True, text=True,
                         timeout=60, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ember.utils.data.dataloader", "3", "2", "[[0,", "1],", "[2,", "3],", "[4]]"]
