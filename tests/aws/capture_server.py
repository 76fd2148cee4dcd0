#!/usr/bin/env python3
"""A loopback HTTP server that records what is sent to it, for tests: every request's
method, path, headers and body, appended as one JSON line to --record, answered 200 with an
empty body (or --status). It plays the presigned S3 URL a CloudFormation custom resource
answers to, and the ECS task metadata endpoint (--json-get PATH=FILE answers a GET of PATH
with FILE's contents).

  capture_server.py --port-file F --record R [--status N] [--json-get /task=task.json]
                    [--lifetime SECONDS]

Listens on 127.0.0.1 only; exits after --lifetime seconds (default 120).
"""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler

import loopback_server


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record", required=True)
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--json-get", action="append", default=[])
    ap.add_argument("--lifetime", type=float, default=120)
    args = ap.parse_args()
    gets = dict(g.split("=", 1) for g in args.json_get)
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            with lock, open(args.record, "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path,
                                    "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": body.decode("utf-8", "replace")}) + "\n")
            answer = b""
            if self.command == "GET" and self.path in gets:
                with open(gets[self.path], "rb") as f:
                    answer = f.read()
            self.send_response(args.status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        do_GET = do_PUT = do_POST = do_DELETE = handle_any

    loopback_server.serve(Handler, args.port_file, args.lifetime, daemon_threads=False)


if __name__ == "__main__":
    main()
