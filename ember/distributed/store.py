"""``TCPStore``: a key-value store served by one process (rank 0) over TCP, which the ranks use to
find each other at start-up (``torch.distributed.TCPStore``).

Every message is a length-prefixed pickle; the server runs one thread per client, so a blocking
``get``/``wait`` on one connection never stalls the others.
"""
from __future__ import annotations

import pickle
import socket
import struct
import threading
import time
from datetime import timedelta

__all__ = ["DistBackendError", "DistError", "DistStoreError", "Store", "TCPStore"]

_LEN = struct.Struct("!Q")


class DistError(RuntimeError):
    """A failure in the distributed package."""


class DistStoreError(DistError):
    """A store operation failed, e.g. a key did not appear within the timeout."""


class DistBackendError(DistError):
    """A collective or point-to-point operation failed, e.g. a peer went away."""


def recv_exact(sock: socket.socket, n: int) -> bytearray:
    """Read exactly ``n`` bytes; ``ConnectionError`` if the peer closes first."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            raise ConnectionError("connection closed by peer")
        got += k
    return buf


def send_msg(sock: socket.socket, obj) -> None:
    data = pickle.dumps(obj)
    sock.sendall(_LEN.pack(len(data)) + data)


def recv_msg(sock: socket.socket):
    (n,) = _LEN.unpack(recv_exact(sock, _LEN.size))
    return pickle.loads(recv_exact(sock, n))


def seconds(timeout) -> float:
    return timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)


def connect(host: str, port: int, timeout: float) -> socket.socket:
    """Connect, retrying until ``timeout`` while the listener is not up yet (it may start later)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            sock = socket.create_connection((host, port), timeout=max(0.1, deadline - time.monotonic()))
            sock.settimeout(None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return sock
        except OSError as e:
            if time.monotonic() >= deadline:
                raise DistStoreError(f"Timed out after {timeout:g}s connecting to {host}:{port}: {e}") from None
            time.sleep(0.05)


class Store:
    """Base class of ember's stores (``torch.distributed.Store``)."""


class _Server:
    """The store's data and the thread that accepts clients; lives in the ``is_master`` process."""

    def __init__(self, port: int) -> None:
        self.data: dict[str, bytes] = {}
        self.cond = threading.Condition()
        self.listener = socket.create_server(("", port))      # every interface: other machines connect
        self.port = self.listener.getsockname()[1]
        self.clients: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True, name="ember-store-accept").start()

    def _accept(self) -> None:
        while True:
            try:
                sock, _ = self.listener.accept()
            except OSError:
                return              # closed
            self.clients.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True, name="ember-store").start()

    def _serve(self, sock: socket.socket) -> None:
        with sock:
            while True:
                try:
                    op, args = recv_msg(sock)
                except (OSError, EOFError, ConnectionError):
                    return
                try:
                    reply = ("ok", getattr(self, "op_" + op)(*args))
                except DistStoreError as e:
                    reply = ("error", str(e))
                try:
                    send_msg(sock, reply)
                except OSError:
                    return

    def _wait_for(self, keys, timeout: float) -> None:
        with self.cond:
            if not self.cond.wait_for(lambda: all(k in self.data for k in keys), timeout):
                missing = ", ".join(k for k in keys if k not in self.data)
                raise DistStoreError(f"wait timeout after {timeout * 1000:.0f}ms, keys: {missing}")

    def op_set(self, key, value):
        with self.cond:
            self.data[key] = value
            self.cond.notify_all()

    def op_get(self, key, timeout):
        self._wait_for([key], timeout)
        with self.cond:
            return self.data[key]

    def op_add(self, key, amount):
        with self.cond:
            value = int(self.data.get(key, b"0")) + amount
            self.data[key] = str(value).encode()
            self.cond.notify_all()
            return value

    def op_compare_set(self, key, expected, desired):
        with self.cond:
            current = self.data.get(key)
            if current is None and expected != b"":
                return expected
            if current is None or current == expected:
                self.data[key] = current = desired
                self.cond.notify_all()
            return current

    def op_wait(self, keys, timeout):
        self._wait_for(keys, timeout)

    def op_check(self, keys):
        with self.cond:
            return all(k in self.data for k in keys)

    def op_delete_key(self, key):
        with self.cond:
            return self.data.pop(key, None) is not None

    def op_num_keys(self):
        with self.cond:
            return len(self.data)

    def close(self) -> None:
        self.listener.close()
        for sock in self.clients:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _as_bytes(value) -> bytes:
    if isinstance(value, str):
        return value.encode()
    return bytes(value)


class TCPStore(Store):
    """Key-value store over TCP: the ``is_master`` process serves it on ``port`` (0 picks a free one,
    see ``.port``) of every interface; every process, master included, reaches it at ``host_name``.

    Values are bytes (a ``str`` is stored UTF-8 encoded); ``get`` and ``wait`` block until the key
    is set or ``timeout`` passes (``DistStoreError``).
    """

    def __init__(self, host_name: str, port: int, world_size: int | None = None, is_master: bool = False,
                 timeout: timedelta = timedelta(seconds=300), wait_for_workers: bool = True,
                 multi_tenant: bool = False, master_listen_fd=None, use_libuv: bool = True) -> None:
        self.host, self.world_size = host_name, world_size
        self.timeout = seconds(timeout)
        self._server = _Server(port) if is_master else None
        self.port = self._server.port if is_master else port
        self._sock = connect(host_name, self.port, self.timeout)
        self._lock = threading.Lock()
        if wait_for_workers and world_size:     # every process checks in; the last one opens the door
            if self.add("ember/store/joined", 1) == world_size:
                self.set("ember/store/all-joined", b"1")
            self.wait(["ember/store/all-joined"])

    def _call(self, op: str, *args):
        with self._lock:
            try:
                send_msg(self._sock, (op, args))
                status, value = recv_msg(self._sock)
            except (OSError, EOFError, ConnectionError) as e:
                raise DistStoreError(f"TCPStore at {self.host}:{self.port} is unreachable: {e}") from None
        if status == "error":
            raise DistStoreError(value)
        return value

    def set_timeout(self, timeout: timedelta) -> None:
        self.timeout = seconds(timeout)

    def set(self, key: str, value) -> None:
        self._call("set", key, _as_bytes(value))

    def get(self, key: str) -> bytes:
        return self._call("get", key, self.timeout)

    def add(self, key: str, amount: int) -> int:
        """Add ``amount`` to the integer stored at ``key`` (0 if unset) and return the new value."""
        return self._call("add", key, int(amount))

    def compare_set(self, key: str, expected_value, desired_value) -> bytes:
        """Set ``key`` to ``desired_value`` if it currently holds ``expected_value``; return the value now held."""
        return self._call("compare_set", key, _as_bytes(expected_value), _as_bytes(desired_value))

    def wait(self, keys: list[str], timeout: timedelta | None = None) -> None:
        self._call("wait", list(keys), self.timeout if timeout is None else seconds(timeout))

    def check(self, keys: list[str]) -> bool:
        return self._call("check", list(keys))

    def delete_key(self, key: str) -> bool:
        return self._call("delete_key", key)

    def num_keys(self) -> int:
        return self._call("num_keys")

    def close(self) -> None:
        """Disconnect (and stop serving, in the master). ember's own addition; torch closes on deletion."""
        try:
            self._sock.close()
        finally:
            if self._server is not None:
                self._server.close()
