#!/usr/bin/env python3
"""A real HTTP server on 127.0.0.1 for feedcorpus's tests.

Usage: http_server.py ROOT_DIR [HOST [CERT KEY]]   (HOST: a loopback address, 127.0.0.1 by default;
       with CERT and KEY PEM files it serves https)
Prints "PORT <n>" on its first stdout line, then serves until killed or stdin closes.

Routes
  /files/NAME            the file ROOT_DIR/NAME, with ETag and Last-Modified validators;
                         answers 304 to a matching If-None-Match / If-Modified-Since
  /novalidators/NAME     the same file without any validator
  /gzip/NAME             the file, gzip-encoded
  /status/CODE           an empty response with that status
  /redirect/N/NAME       302 hops N times, then the file (N=0 serves it)
  /moved/NAME            301 to /files/NAME
  /retry/CODE/SECONDS    that status with Retry-After: SECONDS
  /retrydate/CODE/SECONDS  that status with Retry-After as an HTTP date SECONDS ahead
  /cached/SECONDS        a body with Cache-Control: max-age=SECONDS
Absolute-form request lines (GET http://host/path) are served too, so the server can act as a
proxy for tests.
  /goto/CODE/TARGET      that status with Location: TARGET (URL-encoded; any host)
  /loop                  redirects to itself forever
  /big/BYTES             a chunked body of BYTES bytes (no Content-Length)
  /announce/BYTES        a Content-Length of BYTES and a few bytes of body
  /gzipbomb/BYTES        a small gzip body that inflates to BYTES zero bytes
  /trickle/SECONDS       one byte per second for SECONDS seconds
  /slow/SECONDS/NAME     the file, sent in 20 pieces over SECONDS
  /hang                  accepts, then never answers
  /headers               the request headers as JSON
  /log                   every request so far as JSON lines (method path)
  /robots.txt            the file ROOT_DIR/robots.txt as text/plain, else 404
  /ANY/OTHER/PATH        the file ROOT_DIR/site/ANY/OTHER/PATH when it exists (a site's own paths)
Every request path is also appended to ROOT_DIR/requests.log with a monotonic timestamp.
"""
import email.utils
import gzip
import hashlib
import json
import os
import sys
import urllib.parse
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".")
LOG = []
LOG_LOCK = threading.Lock()


_bombs = {}
_bombs_lock = threading.Lock()


def gzip_bomb(size):
    """A gzip body inflating to `size` zero bytes, compressed once per size (compressing 200 MB
    takes seconds on a loaded machine, which the client would see as a stalled transfer)."""
    with _bombs_lock:
        if size not in _bombs:
            _bombs[size] = gzip.compress(b"\0" * size, compresslevel=9)
        return _bombs[size]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send_body(self, status, body, content_type="application/xml", extra=None):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_file(self, name):
        path = os.path.realpath(os.path.join(ROOT, name))
        if not path.startswith(ROOT + os.sep) or not os.path.isfile(path):
            return None, None
        with open(path, "rb") as handle:
            return handle.read(), os.path.getmtime(path)

    def serve_file(self, name, validators=True, encoding=None):
        body, mtime = self.read_file(name)
        if body is None:
            return self.send_body(404, b"not found", "text/plain")
        extra = {}
        if validators:
            etag = '"%s"' % hashlib.sha256(body).hexdigest()[:16]
            last_modified = email.utils.formatdate(int(mtime), usegmt=True)
            extra = {"ETag": etag, "Last-Modified": last_modified}
            if self.headers.get("If-None-Match") == etag or (
                self.headers.get("If-None-Match") is None and self.headers.get("If-Modified-Since") == last_modified
            ):
                self.send_response(304)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        if encoding == "gzip":
            body = gzip.compress(body)
            extra["Content-Encoding"] = "gzip"
        content_type = "text/html; charset=utf-8" if name.endswith(".html") else "application/xml"
        return self.send_body(200, body, content_type, extra=extra)

    def do_GET(self):
        with LOG_LOCK:
            LOG.append({"method": self.command, "path": self.path, "user_agent": self.headers.get("User-Agent")})
            with open(os.path.join(ROOT, "requests.log"), "a") as handle:
                handle.write("%s %.6f\n" % (self.path, time.monotonic()))
        path = self.path
        if path.startswith("http://"):  # absolute-form request line: we are being used as a proxy
            path = "/" + path.split("/", 3)[3] if path.count("/") >= 3 else "/"
            self.path = path
        parts = path.split("?")[0].strip("/").split("/")
        route, rest = parts[0], parts[1:]
        if route == "files":
            return self.serve_file("/".join(rest))
        if route == "novalidators":
            return self.serve_file("/".join(rest), validators=False)
        if route == "gzip":
            return self.serve_file("/".join(rest), encoding="gzip")
        if route == "status":
            return self.send_body(int(rest[0]), b"", "text/plain")
        if route == "redirect":
            hops = int(rest[0])
            name = "/".join(rest[1:])
            if hops == 0:
                return self.serve_file(name)
            return self.send_body(302, b"", "text/plain", {"Location": "/redirect/%d/%s" % (hops - 1, name)})
        if route == "retry":
            return self.send_body(int(rest[0]), b"slow down", "text/plain", {"Retry-After": rest[1]})
        if route == "retrydate":
            when = email.utils.formatdate(time.time() + int(rest[1]), usegmt=True)
            return self.send_body(int(rest[0]), b"slow down", "text/plain", {"Retry-After": when})
        if route == "cached":
            return self.send_body(200, b"<rss/>", "application/xml", {"Cache-Control": "public, max-age=" + rest[0]})
        if route == "moved":
            return self.send_body(301, b"", "text/plain", {"Location": "/files/" + "/".join(rest)})
        if route == "goto":  # /goto/STATUS/URL-ENCODED-TARGET: a redirect anywhere, other hosts included
            target = urllib.parse.unquote("/".join(rest[1:]))
            return self.send_body(int(rest[0]), b"", "text/plain", {"Location": target})
        if route == "loop":
            return self.send_body(302, b"", "text/plain", {"Location": "/loop"})
        if route == "big":
            total = int(rest[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b"x" * 65536
            sent = 0
            try:
                while sent < total:
                    piece = chunk[: min(len(chunk), total - sent)]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                    sent += len(piece)
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if route == "announce":
            self.send_response(200)
            self.send_header("Content-Length", rest[0])
            self.end_headers()
            try:
                self.wfile.write(b"<rss/>")
            except (BrokenPipeError, ConnectionResetError):
                pass
            self.close_connection = True
            return
        if route == "gzipbomb":
            body = gzip_bomb(int(rest[0]))
            return self.send_body(200, body, "application/xml", {"Content-Encoding": "gzip"})
        if route == "trickle":
            seconds = int(rest[0])
            self.send_response(200)
            self.send_header("Content-Length", str(seconds))
            self.end_headers()
            try:
                for _ in range(seconds):
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if route == "slow":
            body, _ = self.read_file("/".join(rest[1:]))
            if body is None:
                return self.send_body(404, b"not found", "text/plain")
            seconds = float(rest[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            steps = 20
            try:
                for index in range(steps):
                    self.wfile.write(body[index * len(body) // steps:(index + 1) * len(body) // steps])
                    self.wfile.flush()
                    time.sleep(seconds / steps)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        if route == "hang":
            time.sleep(120)
            return
        if route == "headers":
            return self.send_body(200, json.dumps(dict(self.headers.items())).encode(), "application/json")
        if route == "robots.txt":
            body, _ = self.read_file("robots.txt")
            if body is None:
                return self.send_body(404, b"not found", "text/plain")
            return self.send_body(200, body, "text/plain")
        if route == "log":
            with LOG_LOCK:
                body = "".join(json.dumps(entry) + "\n" for entry in LOG).encode()
            return self.send_body(200, body, "application/json")
        if os.path.isfile(os.path.join(ROOT, "site", path.split("?")[0].strip("/"))):
            return self.serve_file("site/" + path.split("?")[0].strip("/"))
        return self.send_body(404, b"no such route", "text/plain")

    do_HEAD = do_GET


def main():
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    server = ThreadingHTTPServer((host, 0), Handler)
    if len(sys.argv) > 4:  # CERT KEY: serve https
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[3], sys.argv[4])
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print("PORT %d" % server.server_address[1], flush=True)
    # Exit when the parent test process goes away (it holds our stdin open).
    sys.stdin.read()
    os._exit(0)


if __name__ == "__main__":
    main()
