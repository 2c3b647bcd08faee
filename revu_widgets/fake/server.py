"""A small threaded HTTP/1.1 server for any WSGI app, with keep-alive and connection counting.

Werkzeug's development server closes every connection after one response, so a client that
reuses connections cannot be told apart from one that does not. This server keeps connections
open (HTTP/1.1 keep-alive, every response framed by ``Content-Length``), counts the TCP
connections it accepts, and shuts down at once even while a request is hanging on purpose.

Apps served here may use two WSGI environ extensions:

- ``environ["revu_fake.drop_connection"]()``: close the connection without answering;
- ``environ["revu_fake.stopping"]``: a :class:`threading.Event` set when the server shuts down,
  so slow or hanging responses can stop waiting.
"""

from __future__ import annotations

import contextlib
import io
import selectors
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import unquote_to_bytes

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: environ key of the callable that closes the connection without an answer.
DROP_CONNECTION = "revu_fake.drop_connection"
#: environ key of the :class:`threading.Event` set when the server shuts down.
STOPPING = "revu_fake.stopping"

_IDLE_TIMEOUT = 120.0


class _LimitedReader(io.RawIOBase):
    """The request body: never reads past ``Content-Length`` into the next request."""

    def __init__(self, stream: io.BufferedIOBase, length: int) -> None:
        super().__init__()
        self._stream = stream
        self.left = length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self.left <= 0:
            return 0
        view = memoryview(buffer)[: self.left]
        data = self._stream.read(len(view))
        view[: len(data)] = data
        self.left -= len(data)
        return len(data)

    def drain(self) -> None:
        while self.left > 0 and self.read(65536):
            pass


class _Handler(BaseHTTPRequestHandler):
    """Serves one TCP connection: many requests while the client keeps it open."""

    protocol_version = "HTTP/1.1"
    server_version = "FakeRevU"
    sys_version = ""
    # Headers and body go out in separate writes; Nagle would hold the body back ~40 ms.
    disable_nagle_algorithm = True
    timeout = _IDLE_TIMEOUT
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.connection_opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.connection_closed(self.connection)

    def handle(self) -> None:
        # The client going away mid-request needs no answer.
        with contextlib.suppress(ConnectionError, TimeoutError):
            super().handle()

    def _environ(self, body: _LimitedReader, drop: Callable[[], None]) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.input": body,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            # PEP 3333: the decoded path as bytes-in-latin-1; the raw form stays in REQUEST_URI.
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": self.path,
            "RAW_URI": self.path,
            "SERVER_NAME": self.server.host,
            "SERVER_PORT": str(self.server.port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            DROP_CONNECTION: drop,
            STOPPING: self.server.stopping,
        }
        for name, value in self.headers.items():
            if "_" in name:
                continue  # "X_API_KEY" would pass for "X-API-Key" otherwise
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                environ[key] = value
                continue
            key = f"HTTP_{key}"
            environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def _run_wsgi(self) -> None:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            # Rare for GET APIs; refusing is simpler than de-chunking.
            self.send_error(411, "Length Required")
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            self.close_connection = True
            return
        body = _LimitedReader(self.rfile, max(length, 0))
        dropped = False

        def drop() -> None:
            nonlocal dropped
            dropped = True

        status: str | None = None
        headers: list[tuple[str, str]] = []

        def start_response(
            status_line: str,
            response_headers: list[tuple[str, str]],
            exc_info: Any = None,
        ) -> Callable[[bytes], object]:
            nonlocal status, headers
            status, headers = status_line, list(response_headers)
            return self._refuse_write

        environ = self._environ(body, drop)
        try:
            result = self.server.app(environ, start_response)
        except Exception as error:  # the app's bug must not kill the server
            self.server.report(f"fake server: the app raised {type(error).__name__}")
            self.send_error(500)
            self.close_connection = True
            return
        try:
            self._send(result, status, headers, lambda: dropped)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
        if not self.close_connection:
            body.drain()

    @staticmethod
    def _refuse_write(data: bytes) -> object:
        raise NotImplementedError("this server does not support the WSGI write() callable")

    def _send(
        self,
        result: Iterable[bytes],
        status: str | None,
        headers: list[tuple[str, str]],
        dropped: Callable[[], bool],
    ) -> None:
        chunks: Iterator[bytes]
        if isinstance(result, list | tuple):
            chunks = iter(result)
            declared = _content_length(headers)
            if declared is None:
                declared = sum(len(c) for c in result)
                headers.append(("Content-Length", str(declared)))
        else:
            chunks = iter(result)
            declared = _content_length(headers)
        try:
            first = next(chunks, b"")
        except Exception:
            self.server.report("fake server: the app failed while answering")
            first, status, headers = b"", None, []
        if dropped() or status is None:
            if status is None and not dropped():
                self.send_error(500)
            self.close_connection = True
            return
        code, _, reason = status.partition(" ")
        self.send_response(int(code), reason or None)
        for name, value in headers:
            self.send_header(name, value)
        if declared is None:
            # Without a length the only honest framing is closing the connection.
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        sent = 0
        try:
            for chunk in _chain(first, chunks):
                if dropped():
                    break
                if chunk:
                    self.wfile.write(chunk)
                    sent += len(chunk)
        except OSError:
            self.close_connection = True
            return
        except Exception:
            self.server.report("fake server: the app failed while streaming")
        if dropped() or declared is None or sent != declared:
            # A short body (truncated or interrupted on purpose) ends the connection, so the
            # client sees the cut instead of waiting for bytes that never come.
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _run_wsgi

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Only the path: a query string may carry an api_key.
        path = getattr(self, "path", "").partition("?")[0]
        self.server.log_line(f"{self.client_address[0]} {self.command} {path} {code}")

    def log_error(self, format: str, *args: Any) -> None:
        # The arguments may quote the request line, and with it a key; say less.
        self.server.report(f"fake server: bad request from {self.client_address[0]}")

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def _content_length(headers: list[tuple[str, str]]) -> int | None:
    for name, value in headers:
        if name.lower() == "content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class _Server(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    # handle_request() runs only once the selector saw a waiting connection: never block there.
    timeout = 0

    def __init__(
        self,
        address: tuple[str, int],
        app: WSGIApplication,
        log: Callable[[str], None] | None,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        self.app = app
        self.host: str = self.server_address[0]  # type: ignore[assignment]
        self.port: int = self.server_address[1]
        self.stopping = threading.Event()
        self.connections = 0
        self._log = log
        self._open: set[socket.socket] = set()
        self._lock = threading.Condition()

    def connection_opened(self, connection: socket.socket) -> None:
        with self._lock:
            self.connections += 1
            self._open.add(connection)
        note = getattr(self.app, "note_connection", None)
        if callable(note):
            note()

    def connection_closed(self, connection: socket.socket) -> None:
        with self._lock:
            self._open.discard(connection)
            self._lock.notify_all()

    def close_connections(self, wait: float) -> None:
        """End idle keep-alive connections and wait a moment for their threads to finish."""
        with self._lock:
            for connection in list(self._open):
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
            self._lock.wait_for(lambda: not self._open, timeout=wait)

    def log_line(self, line: str) -> None:
        if self._log is not None:
            self._log(line)

    def report(self, line: str) -> None:
        self.log_line(line)

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.report(f"fake server: error while serving {client_address[0]}")


class FakeServer:
    """A WSGI app served on a background thread; use it as a context manager.

    ``url`` is the base URL (``http://127.0.0.1:54321``), ``port`` the bound port,
    ``connections`` the number of TCP connections accepted so far, ``app`` the served app.
    :meth:`shutdown` returns quickly, even while a request is hanging.
    """

    def __init__(
        self,
        app: WSGIApplication,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self._server = _Server((host, port), app, log)
        self.host = self._server.host
        self.port = self._server.port
        self._wake_read, self._wake_write = socket.socketpair()
        self._thread: threading.Thread | None = None
        self._closed = False

    @property
    def url(self) -> str:
        """Base URL of the server, without a trailing slash."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def connections(self) -> int:
        """TCP connections accepted since the server started."""
        return self._server.connections

    def start(self) -> Self:
        """Start serving on a daemon thread (``serve_in_thread`` does this for you)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever, name=f"fake-revu-{self.port}", daemon=True
            )
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve on the calling thread until :meth:`shutdown` (or Ctrl+C) stops it."""
        server = self._server
        with selectors.DefaultSelector() as selector:
            selector.register(server.socket, selectors.EVENT_READ)
            selector.register(self._wake_read, selectors.EVENT_READ)
            # A socket pair wakes the loop at once on shutdown; no polling interval to wait out.
            while not server.stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is server.socket and not server.stopping.is_set():
                        server.handle_request()

    def shutdown(self) -> None:
        """Stop accepting, end hanging requests and open connections, close the socket."""
        if self._closed:
            return
        self._closed = True
        self._server.stopping.set()
        with contextlib.suppress(OSError):
            self._wake_write.send(b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=5)
        self._server.server_close()
        self._server.close_connections(wait=2.0)
        self._wake_read.close()
        self._wake_write.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown()

    def __repr__(self) -> str:
        return f"<FakeServer {self.url} connections={self.connections}>"


def serve_in_thread(app: WSGIApplication, host: str = "127.0.0.1", port: int = 0) -> FakeServer:
    """Serve ``app`` on ``host:port`` (port 0: any free port) on a background thread.

    Returns the running :class:`FakeServer`; use it in a ``with`` block or call
    :meth:`FakeServer.shutdown` when done::

        with serve_in_thread(FakeRevU()) as server:
            requests.get(f"{server.url}/api/v1/users/demo-42/getprogress", ...)
    """
    return FakeServer(app, host, port).start()


__all__ = ["DROP_CONNECTION", "STOPPING", "FakeServer", "serve_in_thread"]
