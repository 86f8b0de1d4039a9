"""A minimal FastCGI client for the tests: ping a php-fpm pool on its
own socket, the way fpmctl and mod_wlfcgi's status page do."""
import socket
import struct

# as in common/wlf_fcgi.h
PING_PATH = "/wlfcgi-fpm-ping"
STATUS_PATH = "/wlfcgi-fpm-status"


def _pair(name, value):
    out = b""
    for s in (name, value):
        n = len(s)
        out += bytes([n]) if n < 128 else struct.pack(">I", n | 0x80000000)
    return out + name + value


def request(sock_path, script, timeout=2.0):
    """GET `script` over FastCGI; returns the raw stdout bytes."""
    params = {
        "SCRIPT_NAME": script, "SCRIPT_FILENAME": script,
        "REQUEST_METHOD": "GET", "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1",
    }
    body = b"".join(_pair(k.encode(), v.encode()) for k, v in params.items())
    msg = struct.pack(">BBHHBB", 1, 1, 1, 8, 0, 0) + \
        struct.pack(">HB5x", 1, 0)
    msg += struct.pack(">BBHHBB", 1, 4, 1, len(body), 0, 0) + body
    msg += struct.pack(">BBHHBB", 1, 4, 1, 0, 0, 0)
    msg += struct.pack(">BBHHBB", 1, 5, 1, 0, 0, 0)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock_path)
        s.sendall(msg)
        data = b""
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            while len(data) >= 8:
                _, rtype, _, clen, plen = struct.unpack(">BBHHB", data[:7])
                if len(data) < 8 + clen + plen:
                    break
                content = data[8:8 + clen]
                data = data[8 + clen + plen:]
                if rtype == 6:
                    out += content
                elif rtype == 3:
                    return out
        return out
    finally:
        s.close()


def ping(sock_path, timeout=2.0):
    out = request(sock_path, PING_PATH, timeout)
    if b"pong" not in out:
        raise OSError(f"{sock_path}: no pong: {out[:200]!r}")
    return True
