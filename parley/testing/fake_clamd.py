"""A fake ClamAV daemon (clamd) for tests and benchmarks: a real TCP server on 127.0.0.1.

It speaks clamd's documented stream protocol: ``zINSTREAM\\0`` (or ``nINSTREAM\\n``), then chunks
each prefixed with its length as a 4-byte unsigned big-endian integer, ended by a zero length; it
answers ``stream: OK`` or ``stream: <signature> FOUND`` (NUL-terminated after a ``z`` command,
newline after ``n``), and ``INSTREAM size limit exceeded. ERROR`` once a stream passes
``max_stream_bytes`` (clamd's ``StreamMaxLength``). ``zPING`` answers ``PONG``. The only signature it
knows is the EICAR anti-virus test file, reported as ``Eicar-Test-Signature`` as ClamAV does. Every
scanned stream is recorded.

    with FakeClamd() as clamd:
        settings.CLAMD_ADDRESS = clamd.address
        ...
        assert clamd.scans[0].content == b"..."
"""

from __future__ import annotations

import os
import socketserver
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

# Assembled from parts so this source file is not itself the test signature.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!" + b"$H+H*"
EICAR_SIGNATURE = "Eicar-Test-Signature"


@dataclass
class ScanRecord:
    """One INSTREAM session: the command, each chunk's declared length and the bytes received."""

    command: bytes
    chunk_lengths: list[int] = field(default_factory=list)
    content: bytes = b""
    reply: str = ""


@dataclass
class FakeClamd:
    """Start with ``with FakeClamd() as clamd:``; ``clamd.address`` is what ``PARLEY_CLAMD_ADDRESS`` takes."""

    max_stream_bytes: int = 25 * 1024 * 1024
    # Listen on this unix socket path instead of TCP (clamd's LocalSocket).
    unix_path: str = ""
    scans: list[ScanRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: socketserver.BaseServer | None = None
    _thread: threading.Thread | None = None

    @property
    def address(self) -> str:
        assert self._server is not None, "start the server first"
        if self.unix_path:
            return self.unix_path
        address: Any = self._server.server_address
        return f"{address[0]!s}:{address[1]}"

    def start(self) -> FakeClamd:
        server: socketserver.ThreadingTCPServer | socketserver.ThreadingUnixStreamServer
        if self.unix_path:
            server = socketserver.ThreadingUnixStreamServer(self.unix_path, _handler_for(self))
        else:
            server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-clamd", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            if self.unix_path and os.path.exists(self.unix_path):
                os.unlink(self.unix_path)

    def __enter__(self) -> FakeClamd:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def verdict(self, content: bytes) -> str:
        """What clamd answers for ``content`` (``OK`` or ``<signature> FOUND``)."""
        return f"{EICAR_SIGNATURE} FOUND" if EICAR in content else "OK"


def _read_exactly(stream: object, size: int) -> bytes:
    data = b""
    while len(data) < size:
        piece = stream.read(size - len(data))  # type: ignore[attr-defined]
        if not piece:
            raise ConnectionError("the client closed the stream")
        data += piece
    return data


def _handler_for(fake: FakeClamd) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def _read_command(self) -> bytes:
            first = self.rfile.read(1)
            terminator = b"\0" if first == b"z" else b"\n"
            command = first
            while not command.endswith(terminator) and len(command) < 64:
                piece = self.rfile.read(1)
                if not piece:
                    break
                command += piece
            return command

        def _answer(self, command: bytes, text: str) -> None:
            terminator = b"\0" if command.startswith(b"z") else b"\n"
            self.wfile.write(text.encode() + terminator)
            self.wfile.flush()

        def handle(self) -> None:
            command = self._read_command()
            name = command.strip(b"\0\n")[1:]
            if name == b"PING":
                self._answer(command, "PONG")
                return
            if name != b"INSTREAM":
                self._answer(command, "UNKNOWN COMMAND")
                return
            record = ScanRecord(command=command)
            parts: list[bytes] = []
            received = 0
            try:
                while True:
                    (length,) = struct.unpack(">I", _read_exactly(self.rfile, 4))
                    record.chunk_lengths.append(length)
                    if length == 0:
                        break
                    received += length
                    if received > fake.max_stream_bytes:
                        record.reply = "INSTREAM size limit exceeded. ERROR"
                        with fake._lock:
                            fake.scans.append(record)
                        self._answer(command, record.reply)
                        return
                    parts.append(_read_exactly(self.rfile, length))
            except ConnectionError:
                return
            record.content = b"".join(parts)
            record.reply = f"stream: {fake.verdict(record.content)}"
            with fake._lock:
                fake.scans.append(record)
            self._answer(command, record.reply)

    return Handler
