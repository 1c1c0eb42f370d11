"""Uploads files with the official client (hf_xet.upload_files) to a loopback CAS stand-in
that only records what it receives, so the Rust tests can decode the client's own xorbs and
shards. Usage: xet_capture.py OUT_DIR FILE... ; prints a JSON summary on stdout.

The stand-in answers the CAS routes as a server that holds nothing: every xorb and shard is
accepted (and written to OUT_DIR), every global dedup query is a miss (404, and its chunk
hash is recorded), and the optional routes hf_xet 1.8.0 tries first (xorb grants, telemetry,
the v2 routes) answer 404 so that it falls back to the v1 ones.
"""

import http.server
import json
import os
import sys
import threading
import time

import hf_xet

OUT = sys.argv[1]
FILES = sys.argv[2:]
LOCK = threading.Lock()
EVENTS = {"xorbs": [], "shards": [], "chunk_queries": [], "other": []}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def answer(self, status, payload=None):
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        with LOCK:
            if self.path.startswith("/v1/chunks/"):
                prefix, chunk = self.path.split("/")[3:5]
                EVENTS["chunk_queries"].append({"prefix": prefix, "hash": chunk})
            else:
                EVENTS["other"].append("GET " + self.path)
        self.answer(404)

    def do_POST(self):
        data = self.body()
        path = self.path.split("?")[0]
        if path.startswith("/v1/xorbs/"):
            name = path.rsplit("/", 1)[1]
            with open(os.path.join(OUT, "xorb-" + name), "wb") as f:
                f.write(data)
            with LOCK:
                EVENTS["xorbs"].append({"prefix": path.split("/")[3], "hash": name})
            self.answer(200, {"was_inserted": True})
        elif path == "/v1/shards":
            with LOCK:
                n = len(EVENTS["shards"])
                EVENTS["shards"].append("shard-%d" % n)
            with open(os.path.join(OUT, "shard-%d" % n), "wb") as f:
                f.write(data)
            self.answer(200, {"result": 0})
        else:
            with LOCK:
                EVENTS["other"].append("POST " + path)
            self.answer(404)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
endpoint = "http://127.0.0.1:%d" % server.server_address[1]
infos = hf_xet.upload_files(
    FILES, endpoint, ("test-token", int(time.time()) + 3600), None, None, "model"
)
server.shutdown()
EVENTS["files"] = [
    {"path": p, "hash": i.hash, "size": i.file_size, "sha256": i.sha256}
    for p, i in zip(FILES, infos)
]
print(json.dumps(EVENTS))
