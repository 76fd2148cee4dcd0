"""loopback_server.py - what the loopback HTTP servers of the tests and of bench/ share
(capture_server.py, fault_proxy.py, bench/s3_static.py): the serving loop, and relaying an
upstream answer."""

import os
import threading
from http.server import ThreadingHTTPServer


def serve(handler, port_file, lifetime, daemon_threads=True):
    """Serves handler (a BaseHTTPRequestHandler class) on 127.0.0.1 at a free port, written
    to port_file once listening (through port_file.tmp, so a reader never sees half of it),
    and returns after lifetime seconds. daemon_threads: connections still open then do not
    keep the process alive."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = daemon_threads
    with open(port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    threading.Timer(lifetime, srv.shutdown).start()
    srv.serve_forever()


def relay(handler, r, data, drop=()):
    """Answers handler's request with upstream's answer r (an http.client.HTTPResponse) and its
    body data: the status, the headers but connection, transfer-encoding and those named in
    drop (lower case), and Content-Length (a HEAD answer keeps the object's)."""
    handler.send_response(r.status)
    for k, v in r.getheaders():
        if k.lower() not in ("connection", "transfer-encoding", "content-length") + tuple(drop):
            handler.send_header(k, v)
    length = r.getheader("Content-Length") if handler.command == "HEAD" else None
    handler.send_header("Content-Length", length or str(len(data)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(data)
