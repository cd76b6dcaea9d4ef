"""ember.distributed's ``mpi`` backend, on processes started by ``mpiexec`` (MPICH, from the mpich wheel).

Two ``mpiexec`` runs (2 and 3 ranks) each call a list of rank functions, most of them the very ones
tests/test_distributed.py runs under gloo (``fn(T, dist, rank, world_size, port)``), and pickle
what every rank returns. The results are checked against values computed here from the per-rank
inputs and against the same functions run under ember's gloo backend; DDP under MPI must equal
single-process training on the full batch. torch has no MPI backend in its wheels, so gloo
(itself checked against torch in test_distributed.py) is the oracle. A rank that raises aborts the
whole MPI job (the backend sees to that), and every run has a timeout.
"""
import functools
import os
import pickle
import shutil
import signal
import subprocess
import sys
import time
import warnings
from datetime import timedelta

import ml_dtypes  # noqa: F401  (imported before the gloo runs fork: their ranks need not load it again)
import numpy as np
import pytest

import ember.distributed as edist
from tests import test_distributed as td

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT = 60
CHILD = """
import pickle, sys, types
sys.path.insert(0, {root!r})
sys.modules["torch"] = types.ModuleType("torch")    # test_distributed imports torch only to warm up its forks
import ember
import ember.distributed as dist
dist.init_process_group("mpi")          # from here on, an exception on any rank aborts the whole job
from tests import test_distributed, test_distributed_mpi
rank, ws = dist.get_rank(), dist.get_world_size()
out = {{}}
for name in {names!r}:
    fn = getattr(test_distributed_mpi, name, None) or getattr(test_distributed, name)
    out[name] = fn(ember, dist, rank, ws, None)
dist.destroy_process_group()
with open({outdir!r} + f"/rank{{rank}}.pkl", "wb") as f:
    pickle.dump(out, f)
"""


def mpiexec() -> str:
    found = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
    assert found, "mpiexec not found: pip install mpich"
    return found


def mpiexec_run(script, world_size: int):
    """(return code, stdout, stderr) of ``script`` run by ``world_size`` processes under ``mpiexec``."""
    proc = subprocess.Popen([mpiexec(), "-n", str(world_size), sys.executable, str(script)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:         # mpiexec and its ranks share the session started for them
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    return proc.returncode, out, err


def run_mpi(tmp_path, world_size: int, names: list[str]) -> list[dict]:
    """Every rank function in ``names`` in turn, in ``world_size`` processes under ``mpiexec``; the
    results by rank."""
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(root=ROOT, names=names, outdir=str(tmp_path)))
    code, out, err = mpiexec_run(script, world_size)
    assert code == 0, f"mpiexec failed ({code}):\n{out}\n{err}"
    results = []
    for rank in range(world_size):
        with open(tmp_path / f"rank{rank}.pkl", "rb") as f:
            results.append(pickle.load(f))
    return results


# ----------------------------------------------------------------------------- rank functions
RED_DTYPES = ("bool", "int8", "uint8", "int64", "float16", "bfloat16", "float64", "complex64")


def red_ops(dtype: str) -> list[str]:
    if dtype == "bool" or "int" in dtype:
        return ["SUM", "PRODUCT", "MIN", "MAX", "BAND", "BOR", "BXOR"]
    return ["SUM", "PRODUCT", "AVG"] if dtype.startswith("complex") else ["SUM", "PRODUCT", "MIN", "MAX", "AVG"]


def red_input(rank: int, dtype: str) -> np.ndarray:
    """Rank ``rank``'s contribution to the reductions of ``dtype`` (exact in every dtype)."""
    if dtype == "bool":
        return np.array([True, False, rank == 1, rank != 1])
    if "int" in dtype:
        return (np.array([5, 6, 12, 1]) + rank).astype(dtype)
    x = np.array([1.5, -2.0, 0.25, 3.0]) * (rank + 1)
    if dtype.startswith("complex"):
        return (x + 1j * x[::-1]).astype(dtype)
    return x.astype(np.float32 if dtype == "bfloat16" else dtype)


def reductions_async_and_views(T, dist, rank, ws, port):
    """Reductions of the dtypes MPI has no built-in operation for, async operations overlapping,
    non-contiguous and 0-d tensors, polling a receive: the same code under mpi and gloo."""
    out = {}
    for name in RED_DTYPES:
        for op in red_ops(name):
            t = T.tensor(red_input(rank, name)).to(getattr(T, name))
            dist.all_reduce(t, op=getattr(dist.ReduceOp, op))
            out[f"{name}_{op}"] = (t.float() if name == "bfloat16" else t).numpy()
    big = (T.arange(100_000) % 7 + rank).to(T.bfloat16)          # larger than a single MPI message segment
    dist.all_reduce(big)
    out["big_bfloat16"] = big.float().numpy()
    base = T.arange(12.).reshape(3, 4) * (rank + 1)
    version = base._version_value
    dist.all_reduce(base[:, 1::2])                               # a non-contiguous view: written through
    out["strided"] = base.numpy()
    out["version_moved"] = base._version_value > version
    scalar = T.tensor(2. * rank + 1)
    dist.all_reduce(scalar, op=dist.ReduceOp.MAX)
    out["scalar"] = scalar.item()
    empty = T.zeros(0)
    dist.all_reduce(empty)
    out["empty"] = empty.numpy()
    # async operations in flight together, a blocking one among them, waited on in reverse order
    a, b = T.full((3,), rank + 1.), T.arange(4.) * (rank + 1)
    gathered = [T.zeros(2, dtype=T.int32) for _ in range(ws)]
    scattered = T.zeros(2)
    works = [dist.all_reduce(a, op=dist.ReduceOp.PRODUCT, async_op=True),
             dist.broadcast(b, src=ws - 1, async_op=True),
             dist.all_gather(gathered, T.tensor([rank, 10 * rank], dtype=T.int32), async_op=True),
             dist.reduce_scatter(scattered, [T.full((2,), r + rank + 0.) for r in range(ws)], async_op=True),
             dist.barrier(async_op=True)]
    now = T.ones(1)
    dist.all_reduce(now)
    out["works_returned"] = all(isinstance(w, dist.Work) for w in works)
    out["waits"] = [w.wait() for w in reversed(works)]
    out["async"] = {"product": a.numpy(), "broadcast": b.numpy(), "all_gather": [g.numpy() for g in gathered],
                    "reduce_scatter": scattered.numpy(), "blocking": now.numpy()}
    if rank == 0:                                   # a receive that times out, then completes by polling
        t = T.zeros(2)
        work = dist.irecv(t, src=1, tag=3)
        try:
            work.wait(timedelta(milliseconds=50))   # rank 1 sends only after the barrier
            out["timed_out"] = None
        except dist.DistBackendError as e:
            out["timed_out"] = str(e)
    dist.barrier()
    if rank == 1:
        dist.send(T.tensor([7., 8.]), dst=0, tag=3)
    elif rank == 0:
        deadline = time.monotonic() + 10
        while not work.is_completed() and time.monotonic() < deadline:
            time.sleep(0.005)
        out["polled"] = (work.is_completed(), t.tolist(), work._source)
    dist.barrier()
    return out


def expected_reductions(ws: int, rank: int) -> dict:
    """What ``reductions_async_and_views`` should give on ``rank``, from the per-rank inputs."""
    ops = {"SUM": np.add, "PRODUCT": np.multiply, "MIN": np.minimum, "MAX": np.maximum,
           "BAND": np.bitwise_and, "BOR": np.bitwise_or, "BXOR": np.bitwise_xor, "AVG": np.add}
    out = {}
    for name in RED_DTYPES:
        xs = [red_input(r, name) for r in range(ws)]
        if name == "bfloat16":
            xs = [x.astype(ml_dtypes.bfloat16) for x in xs]
        for op in red_ops(name):
            v = functools.reduce(ops[op], xs)
            if op == "AVG":
                v = v / ws
            out[f"{name}_{op}"] = v.astype(np.float32) if name == "bfloat16" else v
    out["big_bfloat16"] = sum(np.arange(100_000) % 7 + r for r in range(ws)).astype(np.float32)
    strided = np.arange(12, dtype=np.float32).reshape(3, 4) * (rank + 1)
    strided[:, 1::2] *= sum(range(1, ws + 1)) / (rank + 1)
    out.update(strided=strided, version_moved=True, scalar=2. * (ws - 1) + 1, empty=np.zeros(0, np.float32),
               works_returned=True, waits=[True] * 5)
    out["async"] = {"product": np.full(3, np.prod(np.arange(1., ws + 1)), np.float32),
                    "broadcast": np.arange(4, dtype=np.float32) * ws,
                    "all_gather": [np.array([r, 10 * r], np.int32) for r in range(ws)],
                    "reduce_scatter": np.full(2, ws * rank + sum(range(ws)), np.float32),
                    "blocking": np.array([ws], np.float32)}
    if rank == 0:
        out.update(timed_out="Work.wait timed out", polled=(True, [7., 8.], 1))
    return out


def mpi_reinit(T, dist, rank, ws, port):
    """destroy, then init again passing rank and world_size (which MPI overrides, with torch's warning)."""
    dist.destroy_process_group()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist.init_process_group("mpi", world_size=99, rank=0)
    t = T.tensor([rank + 1.])
    dist.all_reduce(t)
    return {"warnings": [str(w.message) for w in caught], "rank": dist.get_rank(), "ws": dist.get_world_size(),
            "sum": t.item(), "available": dist.is_mpi_available(), "backend": dist.get_backend(),
            "repr": repr(dist.group.WORLD)}


NAMES_3 = ["collectives", "objects_p2p_async", "subgroups", "reductions_async_and_views", "mpi_reinit"]
NAMES_2 = ["collectives", "barrier_and_queries", "errors", "ddp_train", "ddp_no_sync_and_unused", "ddp_buffers"]


@pytest.fixture(scope="module")
def mpi3(tmp_path_factory):
    return run_mpi(tmp_path_factory.mktemp("mpi3"), 3, NAMES_3)


@pytest.fixture(scope="module")
def mpi2(tmp_path_factory):
    return run_mpi(tmp_path_factory.mktemp("mpi2"), 2, NAMES_2)


def results(runs, name):
    return [r[name] for r in runs]


# ----------------------------------------------------------------------------- tests
def test_collectives_match_expected_values(mpi2, mpi3):
    for runs, ws in ((mpi2, 2), (mpi3, 3)):
        for got, want in zip(results(runs, "collectives"), td.expected_collectives(ws), strict=True):
            td.assert_same(got, want)


def test_collectives_match_gloo(mpi3):
    for a, b in zip(results(mpi3, "collectives"), td.run(td.collectives, 3), strict=True):
        td.assert_same(a, b)


def test_reductions_of_every_dtype_async_and_views_match_expected_and_gloo(mpi3):
    ours = results(mpi3, "reductions_async_and_views")
    for rank, got in enumerate(ours):
        td.assert_same(got, expected_reductions(3, rank))
    for a, b in zip(ours, td.run(reductions_async_and_views, 3), strict=True):
        td.assert_same(a, b)


def test_objects_point_to_point_and_async_match_gloo(mpi3):
    ours = results(mpi3, "objects_p2p_async")
    assert ours == td.run(td.objects_p2p_async, 3)
    assert ours[1]["recv"] == ([3., 4.], [7])
    assert ours[0]["recv_any"] == (1, [9., 9.])
    assert ours[2]["broadcast_object_list"] == [{"rank": 1}, "x", None]
    assert ours[0]["all_gather_object"] == [(0, []), (1, [1]), (2, [2, 2])]
    assert ours[2]["gather_object"] == [{"from": 0}, {"from": 1}, {"from": 2}] and ours[0]["gather_object"] is None
    assert all(o["async_value"] == [6.] * 4 and o["async_completed"] for o in ours)
    assert ours[0]["isend_irecv"] == [1.] * 3 and ours[1]["isend_irecv"] == [0.] * 3


def test_subgroups(mpi3):
    res = results(mpi3, "subgroups")
    assert [r["rank"] for r in res] == [0, -1, 1] and [r["size"] for r in res] == [2, -1, 2]
    assert [r["sum"] for r in res] == [[4.], [2.], [4.]]        # rank 1 is outside: untouched
    assert [r["warned"] for r in res] == [False, True, False]
    assert res[0]["broadcast"] == res[2]["broadcast"] == [2.]
    assert res[0]["ranks"] == res[2]["ranks"] == [0, 2]
    assert res[0]["bad_src"] == res[2]["bad_src"] == "Global rank 1"


def test_rank_and_size_come_from_mpi_and_reinit(mpi2, mpi3):
    for r, d in enumerate(results(mpi2, "barrier_and_queries")):
        assert (d["rank"], d["ws"], d["backend"], d["initialized"], d["available"]) == (r, 2, "mpi", True, True)
    assert results(mpi2, "barrier_and_queries")[0]["waited"] > 0.2      # rank 0 waited for the late rank 1
    warning = "For MPI backend, world_size (99) and rank (0) are ignored since they are assigned by the MPI runtime."
    for r, d in enumerate(results(mpi3, "mpi_reinit")):
        assert d == {"warnings": [warning], "rank": r, "ws": 3, "sum": 6., "available": True, "backend": "mpi",
                     "repr": "ProcessGroup(ranks=[0, 1, 2], backend=mpi)"}


def test_argument_errors_match_gloo(mpi2):
    assert results(mpi2, "errors") == td.run(td.errors, 2)


def test_ddp_equals_single_process_training_on_the_full_batch(mpi2):
    r0, r1 = results(mpi2, "ddp_train")
    assert r0["keys"] == ["module.0.weight", "module.0.bias", "module.2.weight", "module.2.bias"]
    for k in r0["start"]:                        # rank 0's initial parameters reached rank 1
        np.testing.assert_array_equal(r0["start"][k], r1["start"][k])
        np.testing.assert_array_equal(r0["end"][k], r1["end"][k])      # replicas stay bit-identical
    for k, v in td.single_process_train().items():
        np.testing.assert_allclose(r0["end"]["module." + k], v, rtol=1e-5, atol=1e-6)


def test_ddp_no_sync_unused_parameters_and_buffers_match_gloo(mpi2):
    for name in ("ddp_no_sync_and_unused", "ddp_buffers"):
        for a, b in zip(results(mpi2, name), td.run(getattr(td, name), 2), strict=True):
            td.assert_same(a, b)


def test_missing_mpi4py_names_the_extra(monkeypatch):
    assert edist.is_mpi_available()
    monkeypatch.setitem(sys.modules, "mpi4py", None)            # as if it were not installed
    monkeypatch.delitem(sys.modules, "ember.distributed.mpi", raising=False)
    assert not edist.is_mpi_available()
    with pytest.raises(ImportError, match=r"needs mpi4py and an MPI library: pip install 'ember\[distributed\]'"):
        edist.init_process_group("mpi")
    assert not edist.is_initialized()


FAILING = """
import ember
import ember.distributed as dist
dist.init_process_group("mpi")
if dist.get_rank() == 1:
    raise ValueError("rank 1 fails")
dist.all_reduce(ember.ones(3))          # rank 0 waits for rank 1, which never comes
print("rank 0 finished")
"""


def test_an_exception_on_one_rank_ends_the_job_instead_of_hanging(tmp_path):
    script = tmp_path / "failing.py"
    script.write_text(FAILING)
    start = time.monotonic()
    code, out, err = mpiexec_run(script, 2)
    assert code != 0 and "ValueError: rank 1 fails" in err + out and "rank 0 finished" not in out
    assert time.monotonic() - start < TIMEOUT / 2
