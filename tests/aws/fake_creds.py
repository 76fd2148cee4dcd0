"""fake_creds.py - a loopback stand-in for the ECS container credentials endpoint and for
IMDSv2, serving the temporary credentials in FAKE_AK, FAKE_SK and FAKE_TOKEN.

    fake_creds.py PORT_FILE [LIFETIME_SECONDS]

ECS:  GET /creds with "Authorization: <CSVPIPE_FAKE_TOKEN>" -> credentials JSON (else 401).
IMDS: PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds) -> a token;
      GET /latest/meta-data/iam/security-credentials/ (with the token) -> "test-role";
      GET /latest/meta-data/iam/security-credentials/test-role -> credentials JSON.
Requests are logged to stdout, one line each.
"""
import http.server
import json
import os
import sys
import threading

TOKEN = "imds-token-123"


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        print(self.command, self.path, status, flush=True)

    def creds(self):
        return json.dumps({"AccessKeyId": os.environ["FAKE_AK"],
                           "SecretAccessKey": os.environ["FAKE_SK"],
                           "Token": os.environ["FAKE_TOKEN"],
                           "Expiration": "2099-01-01T00:00:00Z"})

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get(
                "X-aws-ec2-metadata-token-ttl-seconds"):
            return self.send(200, TOKEN)
        self.send(400, "bad")

    def do_GET(self):
        if self.path == "/creds":
            if self.headers.get("Authorization") != os.environ.get("CSVPIPE_FAKE_TOKEN"):
                return self.send(401, "no")
            return self.send(200, self.creds())
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.send(401, "token required")
        if self.path == "/latest/meta-data/iam/security-credentials/":
            return self.send(200, "test-role\n")
        if self.path == "/latest/meta-data/iam/security-credentials/test-role":
            return self.send(200, self.creds())
        self.send(404, "no")


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
threading.Timer(float(sys.argv[2]) if len(sys.argv) > 2 else 120, srv.shutdown).start()
srv.serve_forever()
