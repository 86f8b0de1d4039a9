"""A small HTTP/2 (h2c, prior knowledge) client for request bodies, with or
without content-length, built on python3-h2. It reports what a client
sees: the response status and body, and whether and how the stream was
reset, and stops sending once the server answered."""
import select
import socket

import h2.config
import h2.connection
import h2.events


class H2Result:
    def __init__(self):
        self.status = None
        self.headers = {}
        self.body = b""
        self.ended = False          # the response arrived complete
        self.reset = None           # RST_STREAM error code, if any
        self.sent = 0               # body bytes sent before it stopped

    def __repr__(self):
        return (f"<H2Result status={self.status} ended={self.ended} "
                f"reset={self.reset} sent={self.sent}>")


def get(port, path, host, timeout=30):
    """GET path: the headers end the stream, no body."""
    return put(port, path, host, 0, method="GET", timeout=timeout)


def put(port, path, host, size, content_length=True, chunk=16384,
        timeout=30, method="PUT"):
    """PUT `size` zero bytes to path; content_length=False sends no
    content-length (HTTP/2's equivalent of a chunked body)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.initiate_connection()
    s.sendall(conn.data_to_send())
    headers = [(":method", method), (":path", path), (":scheme", "http"),
               (":authority", host)]
    if content_length and size:
        headers.append(("content-length", str(size)))
    sid = conn.get_next_available_stream_id()
    conn.send_headers(sid, headers, end_stream=size == 0)
    s.sendall(conn.data_to_send())
    res = H2Result()
    block = b"\0" * chunk
    done_sending = size == 0
    try:
        while not (res.ended or res.reset is not None):
            want_write = not done_sending and \
                conn.local_flow_control_window(sid) > 0
            r, w, _ = select.select([s], [s] if want_write else [], [],
                                    timeout)
            if not r and not w:
                raise TimeoutError("no progress")
            if r:
                data = s.recv(65536)
                if not data:
                    break
                for ev in conn.receive_data(data):
                    if isinstance(ev, h2.events.ResponseReceived):
                        res.headers = dict(ev.headers)
                        res.status = int(res.headers[":status"])
                    elif isinstance(ev, h2.events.DataReceived):
                        res.body += ev.data
                        conn.acknowledge_received_data(
                            ev.flow_controlled_length, ev.stream_id)
                    elif isinstance(ev, h2.events.StreamEnded):
                        res.ended = True
                    elif isinstance(ev, h2.events.StreamReset):
                        res.reset = ev.error_code
                s.sendall(conn.data_to_send())
            if w and not done_sending and not res.ended:
                n = min(chunk, size - res.sent,
                        conn.local_flow_control_window(sid),
                        conn.max_outbound_frame_size)
                last = res.sent + n >= size
                conn.send_data(sid, block[:n], end_stream=last)
                res.sent += n
                done_sending = last
                s.sendall(conn.data_to_send())
    finally:
        s.close()
    return res
