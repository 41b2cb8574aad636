#!/usr/bin/env python3
"""tests/pull/server.py -- the HTTP/1.1 server the `tl pull` tests start on 127.0.0.1.

Usage: server.py DIR PORT_FILE LOG_FILE
Binds 127.0.0.1 on a free port, writes the port number to PORT_FILE, and serves the
files in DIR under these paths (anything else is 404):
  /files/NAME      the file, with Range support (206 + Content-Range; 416 past the end)
  /stop/NAME       announces the full Content-Length, sends half the bytes asked for, closes
  /stoponce/NAME   like /stop the first time it is asked for NAME, then like /files
  /norange/NAME    ignores Range: always 200 and the whole file
  /redirect/NAME   302 to /files/NAME
  /slow/NAME       like /files, 16 KiB every 50 ms
Each request is logged to LOG_FILE as "METHOD PATH range=<Range header or ->".
"""
import http.server
import os
import re
import sys
import time

ROOT, PORT_FILE, LOG_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
stopped_once = set()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_plain(self, code, text):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        rng = self.headers.get("Range")
        with open(LOG_FILE, "a") as log:
            log.write("%s %s range=%s\n" % (self.command, self.path, rng or "-"))
        m = re.fullmatch(r"/(files|stop|stoponce|norange|redirect|slow)/([A-Za-z0-9._-]+)", self.path)
        path = os.path.join(ROOT, m.group(2)) if m else None
        if not m or not os.path.isfile(path):
            self.send_plain(404, "not found\n")
            return
        kind, name = m.group(1), m.group(2)
        if kind == "redirect":
            self.send_response(302)
            self.send_header("Location", "/files/" + name)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if kind == "stoponce":
            kind = "files" if name in stopped_once else "stop"
            stopped_once.add(name)
        data = open(path, "rb").read()
        size = len(data)
        start = 0
        if rng and kind != "norange":
            r = re.fullmatch(r"bytes=(\d+)-", rng)
            if not r:
                self.send_plain(400, "only bytes=N- ranges\n")
                return
            start = int(r.group(1))
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size - start))
        self.send_header("Accept-Ranges", "none" if kind == "norange" else "bytes")
        self.end_headers()
        if self.command == "HEAD":
            return
        body = data[start:]
        if kind == "stop":
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if kind == "slow":
            for i in range(0, len(body), 16384):
                self.wfile.write(body[i : i + 16384])
                self.wfile.flush()
                time.sleep(0.05)
            return
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # clients that hang up early (the tests make them) are not errors here


server = Server(("127.0.0.1", 0), Handler)
with open(PORT_FILE + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(PORT_FILE + ".tmp", PORT_FILE)
server.serve_forever()
