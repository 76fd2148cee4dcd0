"""s3_static.py - one file served as one S3 object on loopback, for bench/s3_get.sh.

    s3_static.py --file PATH --path /bucket/key --port-file FILE [--mbps 80] [--lifetime 900]
                 [--upstream URL]

Answers HEAD (Content-Length, ETag) and GET of --path, with "Range: bytes=A-B" / "bytes=A-"
(206) and If-Match (412 when it is not the ETag), sending the bytes with sendfile, so a
range costs its own length (moto copies the whole object for every ranged GET, which
makes it useless for timing parts). --mbps caps each connection at that many MB/s (0: no
cap), as one S3 connection gives a Lambda about 50-100 MB/s. Signatures are not checked.
Every other request goes to --upstream (moto) unchanged, so outputs can be uploaded there.
"""
import argparse
import http.client
import http.server
import os
import re
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "aws"))
import loopback_server  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", required=True)
    ap.add_argument("--path", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--mbps", type=float, default=80)
    ap.add_argument("--lifetime", type=float, default=900)
    ap.add_argument("--upstream")
    a = ap.parse_args()
    size = os.path.getsize(a.file)
    etag = '"%x-%x"' % (size, int(os.path.getmtime(a.file)))

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, length, extra=()):
            self.send_response(status)
            self.send_header("Content-Length", str(length))
            self.send_header("ETag", etag)
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()

        def forward(self):
            if not a.upstream:
                return self.answer(404, 0)
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            up = a.upstream.split("//", 1)[1]
            conn = http.client.HTTPConnection(up, timeout=600)
            conn.request(self.command, self.path, body=body, headers=dict(self.headers.items()))
            r = conn.getresponse()
            data = r.read()
            conn.close()
            loopback_server.relay(self, r, data)

        do_PUT = do_POST = do_DELETE = forward

        def do_HEAD(self):
            if self.path.split("?")[0] != a.path:
                return self.forward()
            self.answer(200, size)

        def do_GET(self):
            if self.path != a.path and not self.path.startswith(a.path + "?versionId"):
                return self.forward()
            im = self.headers.get("If-Match")
            if im and im != etag:
                return self.answer(412, 0)
            first, last, status, extra = 0, size - 1, 200, []
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            if m:
                first = int(m.group(1))
                last = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
                if first > last:
                    return self.answer(416, 0)
                status, extra = 206, [("Content-Range", "bytes %d-%d/%d" % (first, last, size))]
            self.answer(status, last - first + 1, extra)
            self.wfile.flush()
            step = 1 << 18
            t0, sent, n = time.monotonic(), 0, last - first + 1
            with open(a.file, "rb") as f:
                while sent < n:
                    k = os.sendfile(self.connection.fileno(), f.fileno(), first + sent,
                                    min(step, n - sent))
                    if k <= 0:
                        return
                    sent += k
                    if a.mbps > 0:
                        ahead = sent / (a.mbps * 1e6) - (time.monotonic() - t0)
                        if ahead > 0:
                            time.sleep(ahead)

    loopback_server.serve(Handler, a.port_file, a.lifetime)


if __name__ == "__main__":
    sys.exit(main())
