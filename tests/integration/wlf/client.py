"""A small HTTP/1.1 client for large and slow request bodies.

Bodies are generated while they are sent (never held in memory), their
sha256 is computed on the way, they can be sent chunked or at a fixed
rate, and the client stops sending as soon as the server answers early
(a 413 before the body was read).
"""
import hashlib
import json
import os
import select
import socket
import time

BLOCK = 1 << 20


def pattern_block(seed=1):
    """1 MiB of pseudo-random bytes, the same for a given seed."""
    out = bytearray()
    h = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < BLOCK:
        h = hashlib.sha256(h).digest()
        out += h * 64
    return bytes(out[:BLOCK])


class Body:
    """`size` bytes of a repeating pattern, varied per block so that
    misplaced blocks change the hash; sha256 filled in while iterating."""

    def __init__(self, size, seed=1):
        self.size = size
        self.block = pattern_block(seed)
        self.sha = hashlib.sha256()

    def chunks(self, chunk=BLOCK):
        sent = 0
        i = 0
        while sent < self.size:
            n = min(chunk, self.size - sent)
            # a counter in each block: blocks are not interchangeable
            head = i.to_bytes(8, "big")
            data = (head + self.block[8:])[:n] if n >= 8 else head[:n]
            self.sha.update(data)
            yield data
            sent += n
            i += 1

    @property
    def hexdigest(self):
        return self.sha.hexdigest()


class Multipart:
    """A multipart/form-data body with one file field holding `body`."""

    def __init__(self, body, field="f", filename="big.bin"):
        self.body = body
        self.boundary = "wlfboundary" + os.urandom(8).hex()
        self.pre = (f"--{self.boundary}\r\nContent-Disposition: form-data; "
                    f'name="{field}"; filename="{filename}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n").encode()
        self.post = f"\r\n--{self.boundary}--\r\n".encode()
        self.size = len(self.pre) + body.size + len(self.post)
        self.content_type = f"multipart/form-data; boundary={self.boundary}"

    def chunks(self, chunk=BLOCK):
        yield self.pre
        yield from self.body.chunks(chunk)
        yield self.post


class Result:
    def __init__(self, status, headers, body, elapsed, sent, aborted):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed
        self.sent = sent
        self.aborted = aborted      # stopped sending because of an answer

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return (f"<Result {self.status} sent={self.sent} "
                f"aborted={self.aborted} {self.body[:300]!r}>")


def _read_response(sock, deadline):
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.1, deadline - time.time()))
        data = sock.recv(65536)
        if not data:
            break
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/"):
        raise ConnectionError(f"no HTTP response: {buf[:200]!r}")
    status = int(lines[0].split()[1])
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    body = rest
    if "content-length" in headers:
        want = int(headers["content-length"])
        while len(body) < want:
            sock.settimeout(max(0.1, deadline - time.time()))
            data = sock.recv(65536)
            if not data:
                break
            body += data
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while not body.endswith(b"0\r\n\r\n"):
            sock.settimeout(max(0.1, deadline - time.time()))
            data = sock.recv(65536)
            if not data:
                break
            body += data
        out = b""
        rest = body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            n = int(size_line.split(b";")[0] or b"0", 16)
            if n == 0:
                break
            out += rest[:n]
            rest = rest[n + 2:]
        body = out
    else:
        while True:
            sock.settimeout(max(0.1, deadline - time.time()))
            try:
                data = sock.recv(65536)
            except socket.timeout:
                break
            if not data:
                break
            body += data
    return status, headers, body


def send(port, path, host, body=None, method="POST", chunked=False,
         content_type="application/octet-stream", rate=None, timeout=300,
         chunk=BLOCK, headers=None):
    """Send a request whose body comes from body.chunks(); `rate` limits
    the send speed in bytes/s. Returns a Result."""
    t0 = time.time()
    deadline = t0 + timeout
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sent = 0
    aborted = False
    try:
        h = [f"{method} {path} HTTP/1.1", f"Host: {host}",
             "Connection: close"]
        if body is not None:
            h.append(f"Content-Type: {content_type}")
            if chunked:
                h.append("Transfer-Encoding: chunked")
            else:
                h.append(f"Content-Length: {body.size}")
        for k, v in (headers or {}).items():
            h.append(f"{k}: {v}")
        sock.sendall(("\r\n".join(h) + "\r\n\r\n").encode())
        if body is not None:
            if rate:
                chunk = max(1024, min(chunk, rate // 10))
            for data in body.chunks(chunk):
                # an early answer (413) ends the upload
                r, _, _ = select.select([sock], [], [], 0)
                if r:
                    aborted = True
                    break
                piece = (b"%x\r\n" % len(data) + data + b"\r\n") if chunked \
                    else data
                try:
                    sock.settimeout(max(0.1, deadline - time.time()))
                    sock.sendall(piece)
                except (BrokenPipeError, ConnectionResetError):
                    aborted = True
                    break
                sent += len(data)
                if rate:
                    ahead = sent / rate - (time.time() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
            if chunked and not aborted:
                try:
                    sock.sendall(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    aborted = True
        status, rh, rb = _read_response(sock, deadline)
        return Result(status, rh, rb, time.time() - t0, sent, aborted)
    finally:
        sock.close()
