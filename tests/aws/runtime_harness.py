#!/usr/bin/env python3
"""A small AWS Lambda Runtime API for tests: plays the Lambda service to `csvpipe lambda`.

It listens on a free loopback port, hands out the given events one by one on
GET /2018-06-01/runtime/invocation/next (with Lambda-Runtime-Aws-Request-Id,
Lambda-Runtime-Deadline-Ms, Lambda-Runtime-Trace-Id and
Lambda-Runtime-Invoked-Function-Arn), and records what the runtime answers:
POST .../invocation/{id}/response, POST .../invocation/{id}/error (with the
Lambda-Runtime-Function-Error-Type header) and POST /2018-06-01/runtime/init/error.

Events are files, one event each, sent byte for byte (so malformed JSON can be sent); "-"
reads one event from standard input. The record is a JSON file, rewritten after each
change:

  {"api": "127.0.0.1:PORT",
   "init_error": null | {"error_type", "body", "at_ms"},
   "invocations": [{"request_id", "deadline_ms", "handed_at_ms", "outcome":
                    "response" | "error" | null, "error_type", "body", "reported_at_ms"}],
   "extra_next": 0,          # GETs after the last event (answered with HTTP 500)
   "protocol_errors": [...], # unknown request ids, second reports, unknown paths
   "done": true}

--before N:CMD runs the shell command CMD (at most 60 s; a failure is a protocol error)
before event N (0-based) is handed out, so a test can change the world between two
invocations of the same runtime process.

The lifetime is bounded: the harness exits once every event was reported (or an init
error arrived) and --linger seconds passed, or after --timeout seconds in any case (then
"timed_out": true). It only listens on 127.0.0.1.
"""
import argparse
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/2018-06-01/runtime"


def now_ms():
    return int(time.time() * 1000)


class State:
    def __init__(self, events, args):
        self.lock = threading.Lock()
        self.events = events
        self.args = args
        self.next_index = 0
        self.by_id = {}
        self.record = {
            "api": None,
            "init_error": None,
            "invocations": [],
            "extra_next": 0,
            "protocol_errors": [],
            "done": False,
            "timed_out": False,
        }
        self.finished_at = None

    def save(self):
        tmp = self.args.record + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.record, f, indent=1)
        os.replace(tmp, self.args.record)

    def all_reported(self):
        if self.record["init_error"] is not None:
            return True
        return self.next_index == len(self.events) and all(
            inv["outcome"] is not None for inv in self.record["invocations"])


def parse_body(raw):
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", "replace")


def make_handler(state):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Lambda's endpoint

        def log_message(self, fmt, *a):
            if state.args.verbose:
                sys.stderr.write("harness: " + (fmt % a) + "\n")

        def reply(self, code, obj):
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path != PREFIX + "/invocation/next":
                with state.lock:
                    state.record["protocol_errors"].append("GET " + self.path)
                    state.save()
                return self.reply(404, {"errorMessage": "unknown path"})
            with state.lock:
                if state.next_index >= len(state.events):
                    state.record["extra_next"] += 1
                    state.save()
                    event = None
                else:
                    for cmd in state.args.before.get(state.next_index, []):
                        done = subprocess.run(cmd, shell=True, timeout=60)
                        if done.returncode != 0:
                            state.record["protocol_errors"].append(
                                f"--before {state.next_index}: exit {done.returncode}: {cmd}")
                    event = state.events[state.next_index]
                    state.next_index += 1
                    rid = str(uuid.uuid4())
                    deadline = now_ms() + state.args.deadline_ms
                    inv = {"request_id": rid, "deadline_ms": deadline,
                           "handed_at_ms": now_ms(), "outcome": None,
                           "error_type": None, "body": None, "reported_at_ms": None}
                    state.record["invocations"].append(inv)
                    state.by_id[rid] = inv
                    state.save()
            if event is None:
                # Lambda's meaning of 500 here: a container error, the runtime should exit.
                return self.reply(500, {"errorMessage": "harness: no more events",
                                        "errorType": "Harness.NoMoreEvents"})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(event)))
            self.send_header("Lambda-Runtime-Aws-Request-Id", rid)
            self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline))
            self.send_header("Lambda-Runtime-Trace-Id",
                             "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;"
                             "Sampled=1")
            self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                             "arn:aws:lambda:us-east-1:123456789012:function:csvpipe")
            self.end_headers()
            self.wfile.write(event)

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            etype = self.headers.get("Lambda-Runtime-Function-Error-Type")
            with state.lock:
                if self.path == PREFIX + "/init/error":
                    state.record["init_error"] = {"error_type": etype, "body": parse_body(raw),
                                                  "at_ms": now_ms()}
                    state.save()
                    return self.reply(202, {"status": "OK"})
                parts = self.path[len(PREFIX):].split("/") if self.path.startswith(PREFIX) else []
                # ['', 'invocation', id, 'response'|'error']
                if len(parts) != 4 or parts[1] != "invocation" or parts[3] not in (
                        "response", "error"):
                    state.record["protocol_errors"].append("POST " + self.path)
                    state.save()
                    return self.reply(404, {"errorMessage": "unknown path"})
                inv = state.by_id.get(parts[2])
                if inv is None or inv["outcome"] is not None:
                    state.record["protocol_errors"].append(
                        ("second report " if inv else "unknown request id ") + self.path)
                    state.save()
                    return self.reply(400, {"errorMessage": "invalid request id or state",
                                            "errorType": "InvalidRequestID"})
                inv["outcome"] = parts[3]
                inv["body"] = parse_body(raw)
                inv["error_type"] = etype
                inv["reported_at_ms"] = now_ms()
                state.save()
            return self.reply(202, {"status": "OK"})

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("events", nargs="*", help="event files, one event each; - for stdin")
    ap.add_argument("--record", required=True, help="JSON file to record the answers in")
    ap.add_argument("--port-file", required=True,
                    help="written with host:port once listening (AWS_LAMBDA_RUNTIME_API)")
    ap.add_argument("--deadline-ms", type=int, default=60000,
                    help="each invocation's deadline, from when it is handed out")
    ap.add_argument("--timeout", type=float, default=60, help="longest lifetime, seconds")
    ap.add_argument("--linger", type=float, default=0.3,
                    help="seconds to stay after the last report (to catch a second one)")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--before", action="append", default=[], metavar="N:CMD",
                    help="run shell command CMD before handing out event N (0-based)")
    args = ap.parse_args()
    before = {}
    for b in args.before:
        n, _, cmd = b.partition(":")
        before.setdefault(int(n), []).append(cmd)
    args.before = before

    events = []
    for path in args.events:
        if path == "-":
            events.append(sys.stdin.buffer.read())
        else:
            with open(path, "rb") as f:
                events.append(f.read())
    state = State(events, args)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state))
    server.daemon_threads = True
    host, port = server.server_address
    state.record["api"] = "%s:%d" % (host, port)
    with state.lock:
        state.save()
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(state.record["api"])
    os.replace(tmp, args.port_file)

    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    start = time.time()
    done_since = None
    while True:
        time.sleep(0.05)
        with state.lock:
            finished = state.all_reported()
        if finished:
            done_since = done_since or time.time()
            if time.time() - done_since >= args.linger:
                break
        if time.time() - start > args.timeout:
            with state.lock:
                state.record["timed_out"] = True
            break
    server.shutdown()
    server.server_close()
    with state.lock:
        state.record["done"] = True
        state.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
