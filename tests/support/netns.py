"""A private network namespace holding only ``lo``, and a 127.0.0.1 port in ours that leads into it.

Why: Orthanc 1.10 always listens on every interface (it has no bind address), while servers started
by tests may listen on loopback only. Inside a namespace whose only interface is ``lo``, "every
interface" *is* loopback. Linux fixes a socket's namespace when the socket is created and lets a
single thread switch namespace with setns(2), so the forwarder creates each upstream socket inside
the namespace and then serves it from ordinary threads; everything else (wadows in-process or as a
subprocess, nginx, curl, benches) just uses ``http://127.0.0.1:<port>`` on this side.

Needs Linux and CAP_SYS_ADMIN (root); :func:`unavailable_reason` says why not otherwise.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence

CLONE_NEWNET = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
# setns(2) changes the namespace of the calling thread; two threads switching at once is fine, but
# one thread must not interleave its own switches (creating a socket is a switch there and back).
_switch = threading.local()


def _check(rc: int, what: str) -> None:
    if rc != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unavailable_reason() -> str | None:
    """Why a private network namespace cannot be made here, or None when it can."""
    if _libc is None:
        return "network namespaces need Linux"
    if os.geteuid() != 0:
        return "creating a network namespace needs root (CAP_SYS_ADMIN)"
    if shutil.which("nsenter") is None or shutil.which("ip") is None:
        return "nsenter (util-linux) and ip (iproute2) are needed to use a network namespace"
    return None


class NetNamespace:
    """A new network namespace, alive as long as this object (or a process inside it) is."""

    def __init__(self) -> None:
        reason = unavailable_reason()
        if reason:
            raise OSError(reason)
        self._host_fd = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self.fd = -1
        made: list[int] = []
        failure: list[BaseException] = []

        def create() -> None:
            # A throwaway thread: it leaves the host namespace for good and then ends.
            try:
                _check(_libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
                made.append(os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC))
            except BaseException as exc:  # re-raised in the caller's thread
                failure.append(exc)

        t = threading.Thread(target=create, name="netns-create")
        t.start()
        t.join()
        if failure:
            os.close(self._host_fd)
            raise failure[0]
        self.fd = made[0]
        self.run(["ip", "link", "set", "lo", "up"], check=True)

    @property
    def path(self) -> str:
        """A path naming the namespace, for ``nsenter --net=PATH`` while this process lives."""
        return f"/proc/{os.getpid()}/fd/{self.fd}"

    def command(self, argv: Sequence[str]) -> list[str]:
        """``argv`` prefixed to run inside the namespace (nsenter execs it: same pid, no fork)."""
        return ["nsenter", f"--net={self.path}", "--", *argv]

    def run(self, argv: Sequence[str], **kw) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(argv), **kw)

    def popen(self, argv: Sequence[str], **kw) -> subprocess.Popen:
        return subprocess.Popen(self.command(argv), **kw)

    def socket(self, family: int = socket.AF_INET, type: int = socket.SOCK_STREAM) -> socket.socket:
        """A socket that lives in the namespace, usable from any thread."""
        if getattr(_switch, "inside", False):
            return socket.socket(family, type)
        _check(_libc.setns(self.fd, CLONE_NEWNET), "setns(namespace)")
        _switch.inside = True
        try:
            return socket.socket(family, type)
        finally:
            _check(_libc.setns(self._host_fd, CLONE_NEWNET), "setns(back)")
            _switch.inside = False

    def connect(self, port: int, timeout: float | None = 10) -> socket.socket:
        s = self.socket()
        s.settimeout(timeout)
        try:
            s.connect(("127.0.0.1", port))
        except BaseException:
            s.close()
            raise
        s.settimeout(None)
        return s

    def close(self) -> None:
        for fd in (self.fd, self._host_fd):
            if fd >= 0:
                os.close(fd)
        self.fd = self._host_fd = -1

    def __enter__(self) -> NetNamespace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Forwarder:
    """Listens on 127.0.0.1 here and pipes every connection to ``127.0.0.1:target_port`` inside
    ``ns``. When nothing listens there (the server is stopped), the client's connection is reset,
    which a client sees the way it sees an archive that is down."""

    def __init__(self, ns: NetNamespace, target_port: int) -> None:
        self.ns = ns
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, name=f"forward-{self.port}", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            upstream = self.ns.connect(self.target_port)
        except OSError:
            # RST rather than FIN: "connection refused" is the closest a proxy can come.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()
            return
        for s in (client, upstream):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._closed:
                client.close()
                upstream.close()
                return
            self._open.update((client, upstream))
        back = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
        back.start()
        self._pump(client, upstream)
        back.join()
        with self._lock:
            self._open.difference_update((client, upstream))
        client.close()
        upstream.close()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        buf = memoryview(bytearray(1 << 20))
        try:
            while n := src.recv_into(buf):
                dst.sendall(buf[:n])
        except OSError:
            pass
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        with self._lock:
            self._closed = True
            for s in self._open:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self._listener.close()
