"""ember.distributed and DistributedDataParallel, on real processes talking over loopback TCP.

Each test runs a function in 2 or 3 forked rank processes and compares what the ranks return. The
collectives are checked against values computed here from the per-rank inputs, and the same
function run under torch.distributed's gloo backend serves as an oracle (the code is identical:
``T`` is ``ember`` or ``torch``). Every process is joined or killed, and every wait has a timeout.
"""
import functools
import importlib
import multiprocessing
import socket
import time
import traceback
import warnings
from datetime import timedelta

import numpy as np
import pytest
import torch  # noqa: F401  (imported before forking, so the torch ranks start fast)

import ember
import ember.distributed as edist
import ember.nn as enn
from ember.utils.data.distributed import DistributedSampler

FORK = multiprocessing.get_context("fork")
# torch's children start fresh: forking a process whose torch has run OpenMP regions (any earlier test in
# this pytest worker) can deadlock the child's first parallel kernel
SPAWN = multiprocessing.get_context("spawn")
TIMEOUT = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _child(fn, lib, rank, world_size, port, results, init):
    try:
        T = importlib.import_module(lib)
        dist = importlib.import_module(lib + ".distributed")
        if init:
            dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                                    world_size=world_size, timeout=timedelta(seconds=TIMEOUT))
        try:
            out = fn(T, dist, rank, world_size, port)
        finally:
            if init and dist.is_initialized():
                dist.destroy_process_group()
        results.put((rank, True, out))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((rank, False, traceback.format_exc()))


def run(fn, world_size=2, lib="ember", init=True):
    """``fn(T, dist, rank, world_size, port)`` in ``world_size`` processes; returns their results by rank."""
    port = free_port()
    ctx = FORK if lib == "ember" else SPAWN
    results = ctx.Queue()
    procs = [ctx.Process(target=_child, args=(fn, lib, r, world_size, port, results, init), daemon=True)
             for r in range(world_size)]
    try:
        for p in procs:
            p.start()
        got, deadline = {}, time.monotonic() + TIMEOUT + 10
        while len(got) < world_size:
            rank, ok, value = results.get(timeout=max(0.1, deadline - time.monotonic()))
            got[rank] = ok, value
        failed = [f"rank {r} failed:\n{v}" for r, (ok, v) in sorted(got.items()) if not ok]
        assert not failed, "\n".join(failed)
        return [got[r][1] for r in range(world_size)]
    finally:
        for p in procs:
            p.join(timeout=5)
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()
        results.close()
        results.join_thread()


def arrays(obj):
    """Tensors (in lists/tuples/dicts) as NumPy arrays, so results from ember and torch compare."""
    if isinstance(obj, (list, tuple)):
        return [arrays(o) for o in obj]
    if isinstance(obj, dict):
        return {k: arrays(v) for k, v in obj.items()}
    if hasattr(obj, "numpy") and not isinstance(obj, np.ndarray):
        return obj.detach().numpy().copy()
    return obj


def assert_same(a, b):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, (a, b)
        np.testing.assert_allclose(a, b, rtol=1e-6)
    else:
        assert a == b


# ----------------------------------------------------------------------------- collectives
def collectives(T, dist, rank, ws, port):
    """Every tensor collective on per-rank inputs; the same code under ember and torch."""
    out = {}
    base = T.tensor([1.5, -2.0, 3.0]) * (rank + 1)
    for name in ("SUM", "PRODUCT", "MIN", "MAX", "AVG"):
        t = base.clone()
        dist.all_reduce(t, op=getattr(dist.ReduceOp, name))
        out["all_reduce_" + name] = t
    i = T.tensor([5, 6, 12], dtype=T.int32) + rank
    for name in ("SUM", "BAND", "BOR", "BXOR", "MAX"):
        t = i.clone()
        dist.all_reduce(t, op=getattr(dist.ReduceOp, name))
        out["int_" + name] = t
    b = T.tensor([True, False, rank == 1])
    dist.all_reduce(b)
    out["bool_sum"] = b
    u = T.tensor([100, 3], dtype=T.uint8)
    dist.all_reduce(u)
    out["uint8_wraps"] = u
    h = T.tensor([0.1, 0.2], dtype=T.float64) * rank
    dist.all_reduce(h)
    out["float64"] = h
    bf = T.tensor([1.5, 2.25], dtype=T.bfloat16) * (rank + 1)
    dist.all_reduce(bf)
    out["bfloat16"] = bf.float()
    t = T.arange(6.).reshape(2, 3) + 10 * rank
    dist.broadcast(t, src=1)
    out["broadcast"] = t
    t = base.clone()
    dist.reduce(t, dst=1, op=dist.ReduceOp.MAX)
    out["reduce_root"] = t if rank == 1 else None
    gl = [T.zeros(2, 2) for _ in range(ws)]
    dist.all_gather(gl, T.full((2, 2), float(rank)))
    out["all_gather"] = gl
    flat = T.zeros(ws * 2, dtype=T.int64)
    dist.all_gather_into_tensor(flat, T.tensor([rank, -rank]))
    out["all_gather_into_tensor"] = flat
    gl = [T.zeros(3) for _ in range(ws)] if rank == 0 else None
    dist.gather(base, gl, dst=0)
    out["gather"] = gl
    t = T.zeros(2)
    dist.scatter(t, [T.tensor([10. * r, 1.]) for r in range(ws)] if rank == ws - 1 else None, src=ws - 1)
    out["scatter"] = t
    t = T.zeros(2)
    dist.reduce_scatter(t, [T.tensor([r + 1., rank + 1.]) for r in range(ws)])
    out["reduce_scatter"] = t
    t = T.zeros(2)
    dist.reduce_scatter_tensor(t, T.arange(2. * ws) * (rank + 1), op=dist.ReduceOp.MAX)
    out["reduce_scatter_tensor"] = t
    outs = [T.zeros(1) for _ in range(ws)]
    dist.all_to_all(outs, [T.tensor([10. * rank + r]) for r in range(ws)])
    out["all_to_all"] = outs
    o = T.zeros(2 * ws, dtype=T.int64)
    dist.all_to_all_single(o, T.arange(2 * ws) + 100 * rank)
    out["all_to_all_single"] = o
    sizes_out = [r + 1 for r in range(ws)]                      # rank r sends r + 1 rows to everyone
    o = T.zeros(sum(sizes_out), 2)
    dist.all_to_all_single(o, T.full((ws * (rank + 1), 2), float(rank)), sizes_out, [rank + 1] * ws)
    out["all_to_all_single_uneven"] = o
    return arrays(out)


def expected_collectives(ws):
    """What ``collectives`` should give on each rank, computed from the per-rank inputs."""
    base = [np.array([1.5, -2.0, 3.0], np.float32) * (r + 1) for r in range(ws)]
    ints = [np.array([5, 6, 12], np.int32) + r for r in range(ws)]
    red = lambda f, xs: functools.reduce(f, xs)
    common = {
        "all_reduce_SUM": red(np.add, base), "all_reduce_PRODUCT": red(np.multiply, base),
        "all_reduce_MIN": red(np.minimum, base), "all_reduce_MAX": red(np.maximum, base),
        "all_reduce_AVG": red(np.add, base) / np.float32(ws),
        "int_SUM": red(np.add, ints), "int_BAND": red(np.bitwise_and, ints), "int_BOR": red(np.bitwise_or, ints),
        "int_BXOR": red(np.bitwise_xor, ints), "int_MAX": red(np.maximum, ints),
        "bool_sum": np.array([True, False, True]),
        "uint8_wraps": np.array([100 * ws % 256, 3 * ws], np.uint8),
        "float64": np.array([0.1, 0.2]) * sum(range(ws)),
        "bfloat16": np.array([1.5, 2.25], np.float32) * sum(range(1, ws + 1)),
        "broadcast": np.arange(6, dtype=np.float32).reshape(2, 3) + 10,
        "all_gather": [np.full((2, 2), r, np.float32) for r in range(ws)],
        "all_gather_into_tensor": np.array([v for r in range(ws) for v in (r, -r)], np.int64),
    }
    per_rank = []
    for rank in range(ws):
        d = dict(common)
        d["reduce_root"] = red(np.maximum, base) if rank == 1 else None
        d["gather"] = base if rank == 0 else None
        d["scatter"] = np.array([10. * rank, 1.], np.float32)
        d["reduce_scatter"] = np.array([ws * (rank + 1.), sum(r + 1. for r in range(ws))], np.float32)
        d["reduce_scatter_tensor"] = (np.arange(2. * ws, dtype=np.float32) * ws)[2 * rank:2 * rank + 2]
        d["all_to_all"] = [np.array([10. * r + rank], np.float32) for r in range(ws)]
        d["all_to_all_single"] = np.array([100 * r + 2 * rank + k for r in range(ws) for k in range(2)], np.int64)
        d["all_to_all_single_uneven"] = np.concatenate([np.full((r + 1, 2), r, np.float32) for r in range(ws)])
        per_rank.append(d)
    return per_rank


@pytest.mark.parametrize("ws", [2, 3])
def test_collectives_match_expected_values(ws):
    for got, want in zip(run(collectives, ws), expected_collectives(ws)):
        assert_same(got, want)


def test_collectives_match_torch_gloo():
    ours, theirs = run(collectives, 3), run(collectives, 3, lib="torch")
    for a, b in zip(ours, theirs):
        assert_same(a, b)


def objects_p2p_async(T, dist, rank, ws, port):
    out = {}
    objs = [{"rank": rank}, "x" * rank, None]
    dist.broadcast_object_list(objs, src=1)
    out["broadcast_object_list"] = objs
    gathered = [None] * ws
    dist.all_gather_object(gathered, (rank, [rank] * rank))
    out["all_gather_object"] = gathered
    at_root = [None] * ws if rank == 2 else None
    dist.gather_object({"from": rank}, at_root, dst=2)
    out["gather_object"] = at_root
    if rank == 0:
        sends = [dist.isend(T.tensor([3., 4.]), dst=1), dist.isend(T.tensor([7], dtype=T.int64), dst=1, tag=5)]
        t = T.zeros(2)
        out["recv_any"] = (dist.recv(t), t.tolist())
        for w in sends:
            w.wait()
    elif rank == 1:
        t5, t0 = T.zeros(1, dtype=T.int64), T.zeros(2)
        dist.recv(t5, src=0, tag=5)      # tags let messages be taken out of order
        dist.recv(t0, src=0)
        out["recv"] = (t0.tolist(), t5.tolist())
        work = dist.isend(T.tensor([9., 9.]), dst=0)
        work.wait()
    t = T.ones(4) * (rank + 1)
    work = dist.all_reduce(t, async_op=True)
    out["async_wait"] = work.wait()
    out["async_completed"] = work.is_completed()
    out["async_value"] = t.tolist()
    if rank in (0, 1):
        peer = 1 - rank
        mine, theirs = T.full((3,), float(rank)), T.zeros(3)
        works = [dist.isend(mine, dst=peer), dist.irecv(theirs, src=peer)]
        for w in works:
            w.wait()
        out["isend_irecv"] = theirs.tolist()
    dist.barrier()
    return out


def test_objects_point_to_point_and_async_match_torch():
    ours, theirs = run(objects_p2p_async, 3), run(objects_p2p_async, 3, lib="torch")
    assert ours == theirs
    assert ours[1]["recv"] == ([3., 4.], [7])
    assert ours[0]["recv_any"] == (1, [9., 9.])
    assert ours[2]["broadcast_object_list"] == [{"rank": 1}, "x", None]
    assert ours[0]["all_gather_object"] == [(0, []), (1, [1]), (2, [2, 2])]
    assert ours[2]["gather_object"] == [{"from": 0}, {"from": 1}, {"from": 2}] and ours[0]["gather_object"] is None
    assert all(o["async_value"] == [6.] * 4 for o in ours)
    assert ours[0]["isend_irecv"] == [1.] * 3 and ours[1]["isend_irecv"] == [0.] * 3


def barrier_and_queries(T, dist, rank, ws, port):
    if rank == 1:
        time.sleep(0.3)
    start = time.monotonic()
    dist.barrier()
    waited = time.monotonic() - start
    return {"waited": waited, "rank": dist.get_rank(), "ws": dist.get_world_size(), "backend": str(dist.get_backend()),
                "initialized": dist.is_initialized(), "available": dist.is_available()}


def test_barrier_waits_for_every_rank_and_queries():
    res = run(barrier_and_queries, 2)
    assert res[0]["waited"] > 0.2          # rank 0 waited for the late rank 1
    for r, d in enumerate(res):
        assert (d["rank"], d["ws"], d["backend"], d["initialized"], d["available"]) == (r, 2, "gloo", True, True)


def subgroups(T, dist, rank, ws, port):
    g = dist.new_group([0, 2])
    out = {"rank": dist.get_rank(g), "size": dist.get_world_size(g)}
    t = T.tensor([float(rank + 1)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out["work"] = dist.all_reduce(t, group=g)
    out["sum"] = t.tolist()
    out["warned"] = any("does not belong to the given group" in str(w.message) for w in caught)
    if rank != 1:
        b = T.tensor([rank * 1.])
        dist.broadcast(b, src=2, group=g)
        out["broadcast"] = b.tolist()
        out["ranks"] = dist.get_process_group_ranks(g)
        try:
            dist.broadcast(b, src=1, group=g)
        except ValueError as e:
            out["bad_src"] = str(e).split(" is not part")[0]
    dist.barrier()
    return out


def test_subgroups():
    res = run(subgroups, 3)
    assert [r["rank"] for r in res] == [0, -1, 1] and [r["size"] for r in res] == [2, -1, 2]
    assert [r["sum"] for r in res] == [[4.], [2.], [4.]]        # rank 1 is outside: untouched
    assert [r["warned"] for r in res] == [False, True, False]
    assert res[0]["broadcast"] == res[2]["broadcast"] == [2.]
    assert res[0]["ranks"] == [0, 2]
    assert res[0]["bad_src"] == res[2]["bad_src"] == "Global rank 1"


def init_env_and_store(T, dist, rank, ws, port):
    import os
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), WORLD_SIZE=str(ws))
    dist.init_process_group("gloo", timeout=timedelta(seconds=TIMEOUT))
    try:
        t = T.tensor([rank + 1.])
        dist.all_reduce(t)
        with_env = t.tolist()
        store = dist.TCPStore("127.0.0.1", 0, ws, True, wait_for_workers=False) if rank == 0 else None
        store_port = [store.port if rank == 0 else None]
        dist.broadcast_object_list(store_port, src=0)        # a fresh port, found by rank 0
    finally:
        dist.destroy_process_group()
    if rank:
        store = dist.TCPStore("127.0.0.1", store_port[0], ws, False, wait_for_workers=False,
                              timeout=timedelta(seconds=TIMEOUT))
    store.add("count", rank + 1)
    store.set(f"from{rank}", f"hello {rank}")
    store.wait([f"from{r}" for r in range(ws)])
    got = [store.get(f"from{r}") for r in range(ws)]
    dist.init_process_group("gloo", store=store, rank=rank, world_size=ws, timeout=timedelta(seconds=TIMEOUT))
    t = T.tensor([rank + 1.])
    dist.all_reduce(t, op=dist.ReduceOp.PRODUCT)
    count = int(store.get("count"))
    dist.barrier()                      # rank 0 serves the store: nobody may need it after this
    dist.destroy_process_group()
    return {"env": with_env, "store": got, "count": count, "store_pg": t.tolist(), "initialized": dist.is_initialized()}


def test_init_from_env_and_from_store():
    res = run(init_env_and_store, 3, init=False)
    for d in res:
        assert d == {"env": [6.], "store": [b"hello 0", b"hello 1", b"hello 2"], "count": 6, "store_pg": [6.],
                         "initialized": False}


def slow_last_rank_then_leave(T, dist, rank, ws, port):
    if rank == ws - 1:      # the last rank is slow reading its peers' addresses from rank 0's store
        get = dist.TCPStore.get
        dist.TCPStore.get = lambda self, key: (time.sleep(0.5), get(self, key))[1]
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=ws,
                            timeout=timedelta(seconds=TIMEOUT))
    dist.destroy_process_group()        # at once: rank 0's store goes with it
    return rank


def test_init_returns_only_once_every_rank_is_connected():
    # rank 0 used to return from init (and could close the store) while the last rank still read from it
    assert run(slow_last_rank_then_leave, 3, init=False) == [0, 1, 2]


def test_world_of_one_in_this_process_and_reinit():
    for _ in range(2):                  # destroy_process_group leaves ember ready for a new group
        edist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{free_port()}", rank=0, world_size=1,
                                 timeout=timedelta(seconds=TIMEOUT))
        try:
            t = ember.tensor([1., 3.])
            edist.all_reduce(t, op=edist.ReduceOp.AVG)
            outs = [ember.zeros(2)]
            edist.all_gather(outs, t)
            edist.barrier()
            assert t.tolist() == [1., 3.] and outs[0].tolist() == [1., 3.]
            assert edist.get_world_size() == 1 and edist.get_rank() == 0 and edist.is_initialized()
            with pytest.raises(ValueError, match="trying to initialize the default process group twice!"):
                edist.init_process_group("gloo")
        finally:
            edist.destroy_process_group()
        assert not edist.is_initialized()


def test_tcp_store_ops_and_timeouts():
    store = edist.TCPStore("127.0.0.1", 0, world_size=1, is_master=True, timeout=timedelta(seconds=5))
    try:
        client = edist.TCPStore("127.0.0.1", store.port, is_master=False, wait_for_workers=False,
                                timeout=timedelta(seconds=5))
        n0 = store.num_keys()
        client.set("k", "v")
        assert store.get("k") == b"v"
        assert store.add("n", 5) == 5 and client.add("n", -2) == 3 and store.get("n") == b"3"
        assert store.num_keys() == n0 + 2
        assert client.get("n") == b"3"
        assert store.check(["k", "n"]) and not store.check(["missing"])
        assert store.compare_set("k", "v", "w") == b"w" and store.compare_set("k", "v", "x") == b"w"
        assert store.compare_set("new", "", "a") == b"a" and store.compare_set("none", "e", "a") == b"e"
        assert not store.check(["none"])
        assert client.delete_key("k") and not client.delete_key("k")
        start = time.monotonic()
        with pytest.raises(edist.DistStoreError, match="wait timeout after 200ms, keys: missing"):
            client.wait(["missing"], timedelta(milliseconds=200))
        assert time.monotonic() - start < 2
        assert issubclass(edist.DistStoreError, RuntimeError)
        client.close()
    finally:
        store.close()


def errors(T, dist, rank, ws, port):
    out = {}

    def catch(name, fn):
        try:
            fn()
            out[name] = None
        except Exception as e:  # noqa: BLE001 - every error is recorded and compared
            out[name] = (type(e).__name__, str(e))
    catch("bcast_bad_root", lambda: dist.broadcast(T.zeros(1), src=5))
    catch("send_self", lambda: dist.send(T.zeros(1), dst=rank))
    catch("gather_size", lambda: dist.all_gather([T.zeros(3), T.zeros(3)], T.zeros(2)))
    catch("gather_len", lambda: dist.all_gather([T.zeros(2)], T.zeros(2)))
    catch("gather_dtype", lambda: dist.all_gather([T.zeros(2, dtype=T.float64)] * 2, T.zeros(2)))
    catch("gather_list_missing", lambda: dist.gather(T.zeros(2), None, dst=rank))
    catch("scatter_list_missing", lambda: dist.scatter(T.zeros(2), None, src=rank))
    if T.__name__ == "ember":       # torch checks these in its worker thread: they may surface from a later call
        catch("band_float", lambda: dist.all_reduce(T.zeros(2), op=dist.ReduceOp.BAND))
        catch("avg_int", lambda: dist.all_reduce(T.zeros(2, dtype=T.int64), op=dist.ReduceOp.AVG))
    catch("twice", lambda: dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}",
                                                    rank=rank, world_size=ws))
    dist.barrier()
    return out


def test_errors_match_torch():
    ours, theirs = run(errors, 2), run(errors, 2, lib="torch")
    for a, b in zip(ours, theirs):
        assert a.pop("avg_int") == ("RuntimeError", "result type Float can't be cast to the desired output type Long")
        assert a.pop("band_float") == ("RuntimeError", "Cannot use ReduceOp.BAND with non-integral dtype")
        assert a.keys() == b.keys()
        for k in a:
            assert a[k] is not None and a[k][0] == b[k][0], (k, a[k], b[k])
            if k not in ("send_self", "gather_dtype"):
                assert a[k][1] == b[k][1], (k, a[k], b[k])
        assert "rank" in a["send_self"][1]


def test_errors_before_init():
    assert edist.is_available() and not edist.is_initialized()
    msg = "Default process group has not been initialized"
    for fn in (edist.get_rank, edist.get_world_size, edist.get_backend, edist.barrier,
               lambda: edist.all_reduce(ember.ones(1)), lambda: edist.new_group([0])):
        with pytest.raises(ValueError, match=msg):
            fn()
    with pytest.raises(ValueError, match=msg):
        enn.parallel.DistributedDataParallel(enn.Linear(2, 2))
    with pytest.raises(ValueError, match=msg):
        DistributedSampler(range(4))
    with pytest.raises(RuntimeError, match="Distributed package doesn't have NCCL built in"):
        edist.init_process_group("nccl")
    with pytest.raises(ValueError, match="environment variable MASTER_ADDR expected"):
        import os
        saved = os.environ.pop("MASTER_ADDR", None)
        try:
            edist.init_process_group("gloo", rank=0, world_size=1)
        finally:
            if saved is not None:
                os.environ["MASTER_ADDR"] = saved
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        edist.init_process_group("gloo", init_method="tcp://127.0.0.1:1", rank=2, world_size=2)
    assert not edist.is_initialized()


def peer_dies(T, dist, rank, ws, port):
    if rank == 1:
        import os
        os._exit(0)            # leaves without a word
    try:
        dist.all_reduce(T.ones(1))
    except RuntimeError as e:
        return type(e).__name__
    return None


def mismatched(T, dist, rank, ws, port):
    try:
        dist.broadcast(T.zeros(3 if rank else 2), src=0)
    except RuntimeError as e:
        return str(e)
    return None


def test_mismatched_sizes_across_ranks_raise_on_the_receiver():
    message = "ProcessGroupGloo: rank 0 sent a float32 tensor of shape (2,) where a float32 tensor of 3 elements was expected"
    assert run(mismatched, 2) == [None, message]


def test_lost_peer_raises_instead_of_hanging():
    port = free_port()
    results = FORK.Queue()
    procs = [FORK.Process(target=_child, args=(peer_dies, "ember", r, 2, port, results, True), daemon=True)
             for r in range(2)]
    try:
        for p in procs:
            p.start()
        rank, ok, value = results.get(timeout=TIMEOUT)
        assert (rank, ok, value) == (0, True, "DistBackendError")
    finally:
        for p in procs:
            p.join(timeout=5)
            if p.is_alive():
                p.kill()
                p.join()
        results.close()
        results.join_thread()


# ----------------------------------------------------------------------------- DDP and the sampler
def make_data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((8, 5)).astype(np.float32), rng.standard_normal((8, 2)).astype(np.float32)


def make_mlp(T, seed):
    """The same MLP in ember or torch, its parameters drawn by NumPy from ``seed``."""
    model = T.nn.Sequential(T.nn.Linear(5, 16), T.nn.Tanh(), T.nn.Linear(16, 2))
    rng = np.random.default_rng(seed)
    with T.no_grad():
        for p in model.parameters():
            p.copy_(T.tensor(rng.uniform(-0.5, 0.5, tuple(p.shape)).astype(np.float32)))
    return model


def ddp_train(T, dist, rank, ws, port, steps=4):
    x, y = make_data()
    model = T.nn.parallel.DistributedDataParallel(make_mlp(T, seed=rank), bucket_cap_mb=0.0002)  # two buckets
    start = {k: v.clone() for k, v in model.state_dict().items()}
    opt = T.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    shard = slice(rank * 8 // ws, (rank + 1) * 8 // ws)
    xs, ys = T.tensor(x[shard]), T.tensor(y[shard])
    for _ in range(steps):
        opt.zero_grad()
        T.nn.functional.mse_loss(model(xs), ys).backward()
        opt.step()
    return {"start": arrays(start), "end": arrays(model.state_dict()), "keys": list(model.state_dict())}


def single_process_train(steps=4):
    x, y = make_data()
    model = make_mlp(ember, seed=0)
    opt = ember.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for _ in range(steps):
        opt.zero_grad()
        ember.nn.functional.mse_loss(model(ember.tensor(x)), ember.tensor(y)).backward()
        opt.step()
    return arrays(model.state_dict())


def test_ddp_equals_single_process_training_on_the_full_batch():
    r0, r1 = run(ddp_train, 2)
    assert r0["keys"] == ["module.0.weight", "module.0.bias", "module.2.weight", "module.2.bias"]
    for k in r0["start"]:                        # rank 0's initial parameters reached rank 1
        np.testing.assert_array_equal(r0["start"][k], r1["start"][k])
        np.testing.assert_array_equal(r0["end"][k], r1["end"][k])      # replicas stay bit-identical
    single = single_process_train()
    for k, v in single.items():
        np.testing.assert_allclose(r0["end"]["module." + k], v, rtol=1e-5, atol=1e-6)


def test_ddp_matches_torch_ddp():
    ours, theirs = run(ddp_train, 2), run(ddp_train, 2, lib="torch")
    assert ours[0]["keys"] == theirs[0]["keys"]
    for a, b in zip(ours, theirs):
        for k in a["end"]:
            np.testing.assert_allclose(a["end"][k], b["end"][k], rtol=1e-5, atol=1e-6)


def ddp_no_sync_and_unused(T, dist, rank, ws, port):
    x = T.tensor([[1., 2.], [3., 4.]]) * (rank + 1)
    model = T.nn.parallel.DistributedDataParallel(T.nn.Linear(2, 1, bias=False))
    with model.no_sync():
        model(x[:1]).sum().backward()
    local = model.module.weight.grad.clone()
    model(x[1:]).sum().backward()                # syncs the accumulated gradient
    synced = model.module.weight.grad.clone()

    class TwoHeads(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b, self.never = T.nn.Linear(2, 1), T.nn.Linear(2, 1), T.nn.Linear(2, 1)

        def forward(self, x):
            return self.a(x) if rank == 0 else self.b(x)

    heads = T.nn.parallel.DistributedDataParallel(TwoHeads(), find_unused_parameters=True)
    heads(x).sum().backward()
    grads = {n: None if p.grad is None else p.grad.clone() for n, p in heads.module.named_parameters()}
    return arrays({"local": local, "synced": synced, "grads": grads})


def test_ddp_no_sync_and_find_unused_parameters_match_torch():
    ours, theirs = run(ddp_no_sync_and_unused, 2), run(ddp_no_sync_and_unused, 2, lib="torch")
    for a, b in zip(ours, theirs):
        assert_same(a, b)
    np.testing.assert_allclose(ours[0]["local"], [[1., 2.]])
    np.testing.assert_allclose(ours[0]["synced"], [[(4 + 2 * 4) / 2, (6 + 2 * 6) / 2]])
    assert ours[0]["grads"]["never.weight"] is None
    np.testing.assert_allclose(ours[1]["grads"]["a.weight"], [[2., 3.]])    # half rank 0's gradient


def ddp_unused_without_flag(T, dist, rank, ws, port):
    class Partial(T.nn.Module):
        def __init__(self):
            super().__init__()
            self.used, self.unused = T.nn.Linear(2, 1), T.nn.Linear(2, 1)

        def forward(self, x):
            return self.used(x)

    model = T.nn.parallel.DistributedDataParallel(Partial())
    model(T.ones(1, 2)).sum().backward()
    try:
        model(T.ones(1, 2))
    except RuntimeError as e:
        return str(e).split(".")[0]
    return None


def test_ddp_unused_parameters_without_the_flag_raise_like_torch():
    ours = run(ddp_unused_without_flag, 2)
    assert ours == run(ddp_unused_without_flag, 2, lib="torch")
    assert ours[0] == "Expected to have finished reduction in the prior iteration before starting a new one"


def ddp_buffers(T, dist, rank, ws, port):
    model = T.nn.parallel.DistributedDataParallel(T.nn.Sequential(T.nn.Identity(), T.nn.BatchNorm1d(2)))
    after_init = model.module[1].running_mean.clone()
    model(T.tensor([[1., 2.], [3., 5.]]) * (rank + 1))
    local = model.module[1].running_mean.clone()
    with T.no_grad():
        model(T.tensor([[0., 1.], [2., -1.]]) * (rank + 1))       # starts from rank 0's buffers
    return arrays({"after_init": after_init, "local": local, "final": model.module[1].running_mean,
                       "batches": model.module[1].num_batches_tracked})


def test_ddp_broadcasts_buffers_before_each_forward_like_torch():
    ours, theirs = run(ddp_buffers, 2), run(ddp_buffers, 2, lib="torch")
    assert not np.allclose(ours[0]["local"], ours[1]["local"])
    for a, b in zip(ours, theirs):
        for k in ("after_init", "local", "final", "batches"):
            np.testing.assert_allclose(a[k], b[k], rtol=1e-5, atol=1e-6)


def sampler_defaults(T, dist, rank, ws, port):
    from importlib import import_module
    sampler_cls = import_module(T.__name__ + ".utils.data.distributed").DistributedSampler
    s = sampler_cls(range(7), shuffle=False)
    return {"n": s.num_replicas, "rank": s.rank, "indices": list(s)}


def test_distributed_sampler_defaults_from_the_group():
    ours, theirs = run(sampler_defaults, 3), run(sampler_defaults, 3, lib="torch")
    assert ours == theirs
    assert [d["indices"] for d in ours] == [[0, 3, 6], [1, 4, 0], [2, 5, 1]]


TORCH_SCRIPT = """
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

dist.init_process_group("gloo")
model = DistributedDataParallel(torch.nn.Linear(3, 1))
data = TensorDataset(torch.arange(24.).reshape(8, 3) / 24, torch.ones(8, 1))
loader = DataLoader(data, batch_size=2, sampler=DistributedSampler(data, shuffle=False))
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for x, y in loader:
    opt.zero_grad()
    torch.nn.functional.mse_loss(model(x), y).backward()
    opt.step()
w = model.module.weight.detach()
every = [torch.zeros_like(w) for _ in range(dist.get_world_size())]
dist.all_gather(every, w)
print(dist.get_rank(), type(w).__module__.split(".")[0], all(torch.equal(every[0], v) for v in every), len(loader))
dist.destroy_process_group()
"""


def test_torch_script_runs_under_ember_as_torchrun_starts_it(tmp_path):
    """``python -m ember run`` with the environment torchrun sets: unchanged PyTorch DDP code trains."""
    import os
    import subprocess
    import sys
    script = tmp_path / "train.py"
    script.write_text(TORCH_SCRIPT)
    port = free_port()
    procs = []
    try:
        for rank in range(2):
            env = dict(os.environ, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                       WORLD_SIZE="2", LOCAL_RANK=str(rank))
            procs.append(subprocess.Popen([sys.executable, "-m", "ember", "run", str(script)], env=env,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        outs = [p.communicate(timeout=TIMEOUT + 10) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.communicate()
    for rank, (out, err) in enumerate(outs):
        assert procs[rank].returncode == 0, err
        assert out.split() == [str(rank), "ember", "True", "2"]
