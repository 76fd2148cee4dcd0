"""fault_proxy.py - an HTTP proxy on loopback in front of moto that injects AWS faults.

    fault_proxy.py --upstream http://127.0.0.1:PORT --port-file FILE [--rate 0.3] [--seed 7]
                   [--faults throttle,unprocessed,500,reset] [--lifetime 150] [--stats FILE]
                   [--record FILE] [--hold-first-part] [--fail-part N[:K]]
                   [--barrier-parts N] [--barrier-timeout 30]

Each request that a fault applies to draws from a seeded random generator; with
probability --rate it gets one of the enabled faults that fit it:
  throttle     DynamoDB/Secrets Manager: 400 ThrottlingException or
               ProvisionedThroughputExceededException; S3: 503 SlowDown (not forwarded)
  unprocessed  DynamoDB BatchWriteItem: only some of the items are forwarded (the request is
               re-signed with the credentials in the environment, as moto checks signatures);
               the others come back in UnprocessedItems, so only a resend writes them
  500          500 InternalError (not forwarded)
  reset        S3 GET of an object: the response starts, then the connection is reset
               (RST) after a random part of the body
--fail-part N[:K] answers 500 InternalError to the first K attempts (every attempt without
:K) of S3 UploadPart number N, whatever the rate. --barrier-parts N holds the first N S3
UploadPart requests (their bodies read) until all N have arrived, so they pass only when
the client sends that many parts at once; after --barrier-timeout seconds without them
they go on anyway and the statistics count a "barrier_timeout".
Everything else is forwarded unchanged (same Host header and signature). The proxy exits
after --lifetime seconds. Counts of injected faults go to --stats (JSON) after every
fault. --record appends every request as one JSON line (method, path, the X-Amz-Target,
whether it was signed, the body as text) and the status moto answered; with --rate 0 the
proxy is a recorder in front of moto. --hold-first-part: a ranged GET of an object from
byte 0 ("Range: bytes=0-N") is answered only after another ranged GET has been answered
in full (at most 20 s later), so a parallel read sees its parts complete out of order.
"""
import argparse
import http.client
import http.server
import json
import os
import random
import socket
import struct
import sys
import threading
import time
from urllib.parse import urlsplit

import loopback_server

lock = threading.Lock()
stats = {"requests": 0, "throttle": 0, "unprocessed": 0, "unprocessed_items": 0, "500": 0,
         "reset": 0, "part_failed": 0, "barrier_met": 0, "barrier_timeout": 0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--rate", type=float, default=0.3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--faults", default="throttle,unprocessed,500,reset")
    ap.add_argument("--lifetime", type=float, default=150)
    ap.add_argument("--stats")
    ap.add_argument("--record")
    ap.add_argument("--hold-first-part", action="store_true")
    ap.add_argument("--fail-part")
    ap.add_argument("--barrier-parts", type=int, default=0)
    ap.add_argument("--barrier-timeout", type=float, default=30)
    a = ap.parse_args()
    fail_part, fail_times = None, None
    if a.fail_part:
        n, _, k = a.fail_part.partition(":")
        fail_part, fail_times = n, int(k) if k else None
    part_attempts = {}
    barrier = threading.Barrier(a.barrier_parts) if a.barrier_parts > 0 else None
    barrier_seen = [0]
    up = urlsplit(a.upstream)
    rng = random.Random(a.seed)
    faults = set(a.faults.split(","))
    other_part_sent = threading.Event()

    def save_stats():
        if a.stats:
            with open(a.stats + ".tmp", "w") as f:
                json.dump(stats, f)
            os.replace(a.stats + ".tmp", a.stats)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            target = self.headers.get("X-Amz-Target", "")
            service = ("dynamodb" if target.startswith("DynamoDB") else
                       "secretsmanager" if target.startswith("secretsmanager") else "s3")
            path = urlsplit(self.path)
            is_object_get = (service == "s3" and self.command == "GET" and
                             path.path.count("/") >= 2 and not path.query)
            query = dict(q.split("=", 1) for q in path.query.split("&") if "=" in q)
            part = (query.get("partNumber") if service == "s3" and self.command == "PUT" and
                    "uploadId" in query else None)
            if part is not None and barrier is not None:
                with lock:
                    barrier_seen[0] += 1
                    waits = barrier_seen[0] <= a.barrier_parts
                if waits:
                    try:
                        barrier.wait(timeout=a.barrier_timeout)
                        key = "barrier_met"
                    except threading.BrokenBarrierError:
                        key = "barrier_timeout"
                    with lock:
                        stats[key] += 1
                        save_stats()
            if part is not None and part == fail_part:
                with lock:
                    part_attempts[part] = part_attempts.get(part, 0) + 1
                    fails = fail_times is None or part_attempts[part] <= fail_times
                    if fails:
                        stats["part_failed"] += 1
                        save_stats()
                if fails:
                    return self.reply(500, b"<Error><Code>InternalError</Code><Message>injected "
                                      b"(part)</Message></Error>", "application/xml")
            with lock:
                stats["requests"] += 1
                fault = None
                if rng.random() < a.rate:
                    choices = []
                    if "throttle" in faults:
                        choices.append("throttle")
                    if "500" in faults:
                        choices.append("500")
                    if "unprocessed" in faults and target.endswith("BatchWriteItem"):
                        choices += ["unprocessed", "unprocessed"]
                    if "reset" in faults and is_object_get:
                        choices += ["reset", "reset"]
                    if choices:
                        fault = rng.choice(choices)
                        stats[fault] += 1
                        save_stats()
                cut = rng.random()
            if fault == "throttle":
                if service == "s3":
                    return self.reply(503, b"<Error><Code>SlowDown</Code><Message>Please reduce "
                                      b"your request rate.</Message></Error>", "application/xml")
                code = rng.choice(["ThrottlingException",
                                   "ProvisionedThroughputExceededException"])
                return self.reply(400, json.dumps({
                    "__type": "com.amazonaws.dynamodb.v20120810#" + code,
                    "message": "injected by fault_proxy"}).encode(), "application/x-amz-json-1.0")
            if fault == "500":
                if service == "s3":
                    return self.reply(500, b"<Error><Code>InternalError</Code><Message>injected"
                                      b"</Message></Error>", "application/xml")
                return self.reply(500, json.dumps({"__type": "InternalServerError",
                                                   "message": "injected"}).encode(),
                                  "application/x-amz-json-1.0")
            ranged = is_object_get and self.headers.get("Range", "").startswith("bytes=")
            first_part = ranged and self.headers.get("Range", "").startswith("bytes=0-")
            if a.hold_first_part and first_part:
                other_part_sent.wait(20)
            headers = {k: v for k, v in self.headers.items()
                       if k.lower() not in ("connection", "keep-alive", "expect",
                                            "transfer-encoding", "proxy-connection")}
            held = []
            if fault == "unprocessed":
                body, headers, held = self.split_batch(body, headers, cut)
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=60)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                r = conn.getresponse()
                data = r.read()
            finally:
                conn.close()
            if a.record:
                with lock, open(a.record, "a") as f:
                    f.write(json.dumps({
                        "method": self.command, "path": self.path, "target": target,
                        "signed": "AWS4-HMAC-SHA256" in self.headers.get("Authorization", ""),
                        "body": body.decode("utf-8", "replace"), "status": r.status}) + "\n")
            if held and r.status == 200:
                j = json.loads(data)
                table = next(iter(held))
                j.setdefault("UnprocessedItems", {}).setdefault(table, []).extend(held[table])
                data = json.dumps(j).encode()
                with lock:
                    stats["unprocessed_items"] += len(held[table])
                    save_stats()
            if fault == "reset" and r.status in (200, 206) and len(data) > 1:
                self.send_response(r.status)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "server", "date"):
                        self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data[:int(len(data) * cut)])
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()
                return
            loopback_server.relay(self, r, data, drop=("server", "date"))
            self.wfile.flush()
            if ranged and not first_part and r.status == 206:
                other_part_sent.set()

        def split_batch(self, body, headers, cut):
            """Forwards part of a BatchWriteItem; returns the new body, headers, held items."""
            from botocore.auth import SigV4Auth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            j = json.loads(body)
            table, reqs = next(iter(j["RequestItems"].items()))
            if len(reqs) < 2:
                return body, headers, {}
            keep = max(1, int(len(reqs) * cut))
            j["RequestItems"][table] = reqs[:keep]
            held = {table: reqs[keep:]}
            body = json.dumps(j).encode()
            h = {k: v for k, v in headers.items()
                 if k.lower() not in ("authorization", "x-amz-date", "content-length",
                                      "x-amz-security-token", "accept", "user-agent")}
            req = AWSRequest(method="POST", url="http://" + headers["Host"] + "/", data=body,
                             headers=h)
            creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"],
                                os.environ["AWS_SECRET_ACCESS_KEY"],
                                os.environ.get("AWS_SESSION_TOKEN"))
            SigV4Auth(creds, "dynamodb", os.environ.get("AWS_REGION", "us-east-1")).add_auth(req)
            out = dict(req.headers.items())
            out["Content-Length"] = str(len(body))
            return body, out, held

        def reply(self, status, data, ctype):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_any

    loopback_server.serve(Handler, a.port_file, a.lifetime)
    save_stats()


if __name__ == "__main__":
    sys.exit(main())
