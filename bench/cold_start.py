#!/usr/bin/env python3
"""Cold start of `csvpipe lambda`: from exec to its first GET .../invocation/next.

  cold_start.py --runs N [--env K=V]... -- COMMAND...

Plays a minimal Runtime API on a free loopback port (AWS_LAMBDA_RUNTIME_API is added to the
environment). Each run starts COMMAND afresh, takes the time just before the exec
(subprocess.Popen) and when the first next-invocation request arrives, hands out an S3 test
event (csvpipe answers it without work) and waits for the process to exit, which must be 0.
Prints one JSON object: every run's milliseconds, the median and the minimum, and the CPU
time (user + system) of each whole process, which a busy machine does not inflate.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVENT = json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "bench"}).encode()
first_next = []
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        t = time.perf_counter()
        with lock:
            first_next.append(t)
        self.send_response(200)
        self.send_header("Lambda-Runtime-Aws-Request-Id", f"bench-{len(first_next)}")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60000))
        self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                         "arn:aws:lambda:us-east-1:123456789012:function:bench")
        self.send_header("Content-Length", str(len(EVENT)))
        self.end_headers()
        self.wfile.write(EVENT)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        self.rfile.read(n)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--env", action="append", default=[])
    ap.add_argument("command", nargs="+")
    a = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = dict(kv.split("=", 1) for kv in a.env)
    env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{srv.server_address[1]}"
    cmd = [c.replace("@API@", env["AWS_LAMBDA_RUNTIME_API"]) for c in a.command]
    cmd[0] = shutil.which(cmd[0]) or cmd[0]  # the environment below has no PATH unless given
    ms, cpu = [], []
    for _ in range(a.runs):
        with lock:
            first_next.clear()
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        err = p.stdout.read()
        _, status, usage = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        cpu.append(round((usage.ru_utime + usage.ru_stime) * 1000, 2))
        if p.returncode != 0 or not first_next:
            print(f"cold_start: {' '.join(cmd)} exited {p.returncode}: {err.decode(errors='replace')[-500:]}",
                  file=sys.stderr)
            return 1
        ms.append(round((first_next[0] - t0) * 1000, 2))
    srv.shutdown()
    print(json.dumps({"runs": ms, "median_ms": round(statistics.median(ms), 2), "min_ms": min(ms),
                      "cpu_ms": cpu, "median_cpu_ms": round(statistics.median(cpu), 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
