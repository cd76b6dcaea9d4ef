"""Point-to-point messaging between ranks: one TCP connection per pair of ranks (a full mesh), found
through the store, and a mailbox per process that sorts incoming messages by (sender, tag).

A message is a pickled header (its tag plus small metadata) and a raw byte payload. A reader
thread per peer files every message under its tag as soon as it arrives, so sends never wait for
the matching receive and messages of different operations (a collective, a ``send`` with some
tag, an async collective still running) never get in each other's way.
"""
from __future__ import annotations

import collections
import pickle
import socket
import struct
import threading
import time

from .store import DistBackendError, connect, recv_exact

_HEADER = struct.Struct("!IQ")      # header length, payload length
_READY = ("ember-mesh-ready",)      # the tag of the handshake that ends set-up


class Mailbox:
    """Messages received but not yet asked for, keyed by (sender rank, tag)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.queues: dict[tuple, collections.deque] = collections.defaultdict(collections.deque)
        self.lost: dict[int, str] = {}      # peer rank -> why its connection ended

    def put(self, src: int, tag, meta, payload) -> None:
        with self.cond:
            self.queues[(src, tag)].append((meta, payload))
            self.cond.notify_all()

    def peer_lost(self, src: int, why: str) -> None:
        with self.cond:
            self.lost[src] = why
            self.cond.notify_all()

    def poll(self, srcs, tag):
        """The first waiting message with ``tag`` from any of ``srcs``, as (src, meta, payload), or None."""
        for src in srcs:
            q = self.queues.get((src, tag))
            if q:
                meta, payload = q.popleft()
                if not q:
                    del self.queues[(src, tag)]
                return src, meta, payload
        return None

    def take(self, srcs, tag, timeout: float):
        """Wait for a message with ``tag`` from one of ``srcs``; ``DistBackendError`` on timeout or a lost peer."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = self.poll(srcs, tag)
                if got is not None:
                    return got
                dead = [s for s in srcs if s in self.lost]
                if dead:
                    raise DistBackendError(f"Connection to rank {dead[0]} was lost: {self.lost[dead[0]]}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise DistBackendError(
                        f"Timed out after {timeout:g}s waiting for a message from rank(s) {list(srcs)}")
                self.cond.wait(left)


class Mesh:
    """This rank's connections to every other rank, and its mailbox."""

    def __init__(self, store, prefix: str, rank: int, world_size: int, timeout: float) -> None:
        self.rank, self.world_size, self.timeout = rank, world_size, timeout
        self.mailbox = Mailbox()
        self.peers: dict[int, socket.socket] = {}
        self.send_locks: dict[int, threading.Lock] = {}
        self.closing = False
        # listen on the interface this process reaches the store through: the one its peers can reach
        host = store._sock.getsockname()[0]
        with socket.create_server((host, 0), family=store._sock.family) as listener:
            listener.settimeout(timeout)
            store.set(f"{prefix}addr/{rank}", f"{host}:{listener.getsockname()[1]}")
            for peer in range(rank):                # connect to lower ranks, accept higher ones
                peer_host, port = store.get(f"{prefix}addr/{peer}").decode().rsplit(":", 1)
                sock = connect(peer_host, int(port), timeout)
                sock.sendall(struct.pack("!I", rank))
                self._add(peer, sock)
            for _ in range(world_size - 1 - rank):
                try:
                    sock, _ = listener.accept()
                except TimeoutError:
                    raise DistBackendError(f"Rank {rank} timed out after {timeout:g}s waiting for peers") from None
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                (peer,) = struct.unpack("!I", recv_exact(sock, 4))
                self._add(peer, sock)
        for peer, sock in self.peers.items():
            threading.Thread(target=self._read, args=(peer, sock), daemon=True,
                             name=f"ember-dist-recv-{peer}").start()
        # Nobody leaves until every rank's mesh is whole: a peer may still be reading addresses from
        # the store, which lives in rank 0 and closes with it (rank 0 returning from init and being
        # destroyed at once would cut that peer off mid-handshake).
        for peer in self.peers:
            self.send(peer, _READY)
        for peer in self.peers:
            self.recv([peer], _READY)

    def _add(self, peer: int, sock: socket.socket) -> None:
        self.peers[peer] = sock
        self.send_locks[peer] = threading.Lock()

    def _read(self, peer: int, sock: socket.socket) -> None:
        try:
            while True:
                hlen, plen = _HEADER.unpack(recv_exact(sock, _HEADER.size))
                tag, meta = pickle.loads(recv_exact(sock, hlen))
                self.mailbox.put(peer, tag, meta, recv_exact(sock, plen))
        except (OSError, ConnectionError) as e:
            self.mailbox.peer_lost(peer, "this process closed it" if self.closing else str(e))
        with self.send_locks[peer]:         # not while a send is writing to it
            sock.close()

    def send(self, dst: int, tag, meta=None, payload=b"") -> None:
        header = pickle.dumps((tag, meta))
        view = memoryview(payload).cast("B")
        try:
            with self.send_locks[dst]:
                if dst in self.mailbox.lost:
                    raise DistBackendError(f"Connection to rank {dst} was lost: {self.mailbox.lost[dst]}")
                self.peers[dst].sendall(_HEADER.pack(len(header), view.nbytes) + header)
                if view.nbytes:
                    self.peers[dst].sendall(view)
        except OSError as e:
            raise DistBackendError(f"Sending to rank {dst} failed: {e}") from None

    def recv(self, srcs, tag, timeout: float | None = None):
        return self.mailbox.take(srcs, tag, self.timeout if timeout is None else timeout)

    def close(self) -> None:
        """Stop sending; each reader thread closes its socket once the peer has closed its side too
        (closing with unread input would reset the connection and could lose data still in flight)."""
        self.closing = True
        for sock in self.peers.values():
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
