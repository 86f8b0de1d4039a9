"""The tests' FastCGI client: one request (role RESPONDER) over a unix
socket, and the ping that fpmctl and mod_wlfcgi's status page send to a
php-fpm pool on its own socket."""
import collections
import errno
import socket
import struct

# as in common/wlf_fcgi.h
PING_PATH = "/wlfcgi-fpm-ping"
STATUS_PATH = "/wlfcgi-fpm-status"

FcgiResponse = collections.namedtuple(
    "FcgiResponse", "status headers body stderr app_status")
FcgiResponse.text = property(lambda r: r.body.decode("utf-8", "replace"))


def _record(rtype, content=b"", req_id=1):
    return struct.pack("!BBHHBx", 1, rtype, req_id, len(content), 0) + content


def _pairs(params):
    out = b""
    for k, v in params.items():
        k, v = k.encode(), str(v).encode()
        for n in (len(k), len(v)):
            out += bytes([n]) if n < 128 else struct.pack("!I", n | 1 << 31)
        out += k + v
    return out


def fcgi_request(sock_path, params, stdin=b"", timeout=10.0):
    """Send one FastCGI request over a unix socket and return an
    FcgiResponse: status (from a Status: header, else 200), the headers
    (lower-case names), body and stderr (bytes) and app_status.
    Raises OSError when the socket refuses or the answer is cut off."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        data = _record(1, struct.pack("!HB5x", 1, 0))
        body = _pairs(params)
        for i in range(0, len(body), 65535):
            data += _record(4, body[i:i + 65535])
        data += _record(4)
        for i in range(0, len(stdin), 65535):
            data += _record(5, stdin[i:i + 65535])
        data += _record(5)
        s.sendall(data)
        buf, out, err, app = b"", b"", b"", None
        while app is None:
            chunk = s.recv(65536)
            if not chunk:
                raise OSError(errno.ECONNRESET,
                              "FastCGI connection closed before the end")
            buf += chunk
            while len(buf) >= 8:
                _, rtype, _, clen, plen = struct.unpack("!BBHHBx", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content, buf = buf[8:8 + clen], buf[8 + clen + plen:]
                if rtype == 6:
                    out += content
                elif rtype == 7:
                    err += content
                elif rtype == 3:
                    app = struct.unpack("!I", content[:4])[0]
    finally:
        s.close()
    head, sep, rest = out.partition(b"\r\n\r\n")
    if not sep:
        head, sep, rest = out.partition(b"\n\n")
    headers, status = {}, 200
    for line in head.decode("latin-1").splitlines():
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "status" in headers:
        status = int(headers["status"].split()[0])
    return FcgiResponse(status, headers, rest if sep else out, err, app)


def ping(sock_path, timeout=2.0):
    """The pool's ping path answers "pong"; raises OSError otherwise."""
    r = fcgi_request(sock_path, {
        "SCRIPT_NAME": PING_PATH, "SCRIPT_FILENAME": PING_PATH,
        "REQUEST_METHOD": "GET", "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1",
    }, timeout=timeout)
    if b"pong" not in r.body:
        raise OSError(f"{sock_path}: no pong: {r.body[:200]!r}")
    return True
