"""Reading a response body up to a cap, with gzip and deflate decoded by hand.

The client reads bodies raw and hands them here, so that both the bytes read from the wire and
the bytes decompressed stop at the body cap: neither an endless stream nor a compression bomb
holds more than the cap in memory.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass


def _looks_like_zlib(head: bytes) -> bool:
    """True when two bytes open a zlib stream (RFC 1950: deflate method, header checksum)."""
    return head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0


@dataclass
class BodyReader:
    """Reads a body up to `cap` bytes after decompression (gzip and deflate by hand).

    The bytes read from the wire are capped too, so a compressed stream that never ends (or
    never yields output) stops at the cap like a plain one.
    """

    cap: int
    encoding: str

    def __post_init__(self) -> None:
        self._out = bytearray()
        self._raw = 0
        self._head = b""
        self.truncated = False
        self._decoder: zlib._Decompress | None = None
        if self.encoding in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)

    @property
    def done(self) -> bool:
        """True when the cap is reached."""
        return self.truncated

    def feed(self, chunk: bytes) -> None:
        """Add raw bytes from the wire."""
        self._raw += len(chunk)
        if self.encoding == "deflate" and self._decoder is None:
            # "deflate" is sent both zlib-wrapped (as RFC 9110 says) and raw (as some servers
            # do); the first two bytes tell them apart.
            self._head += chunk
            if len(self._head) < 2:
                return
            wbits = zlib.MAX_WBITS if _looks_like_zlib(self._head) else -zlib.MAX_WBITS
            self._decoder = zlib.decompressobj(wbits)
            chunk, self._head = self._head, b""
        room = self.cap - len(self._out)
        if self._decoder is None:
            self._out += chunk[:room]
            self.truncated = len(chunk) > room
            return
        try:
            # max_length bounds the output of this one call: a bomb never inflates past the cap.
            data = self._decoder.decompress(chunk, room + 1)
        except zlib.error:
            self.truncated = True  # a corrupt stream: keep what decoded, read no further
            return
        self._out += data[:room]
        if len(data) > room or self._raw > self.cap:
            self.truncated = True

    def finish(self) -> None:
        """Decode what a short body left pending (a deflate body of fewer than two bytes)."""
        if self._head:
            self._out += self._head[: self.cap]
            self._head = b""

    @property
    def body(self) -> bytes:
        """The body read so far."""
        return bytes(self._out)
