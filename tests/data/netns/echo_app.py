# SPDX-License-Identifier: Apache-2.0
# tests/netns_invoke.sh: an app that tells what reached it: X-Echo-* headers, and the request body back (else a line).
# Usage: python3 echo_app.py NAME PORT. Path /status/NNN answers NNN.
import http.server
import socketserver
import sys

NAME = sys.argv[1]
PORT = int(sys.argv[2])


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                body += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def answer(self):
        body = self.read_body()
        if not body:
            body = ("%s %s %s\n" % (NAME, self.command, self.path)).encode()
        status = 200
        if self.path.startswith("/status/"):
            status = int(self.path[len("/status/"):len("/status/") + 3])
        self.send_response(status)
        self.send_header("Content-Type", self.headers.get("Content-Type") or "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Echo-App", NAME)
        self.send_header("X-Echo-Method", self.command)
        self.send_header("X-Echo-Path", self.path)
        self.send_header("X-Echo-Caller", self.headers.get("dapr-caller-app-id") or "-")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = answer

    def log_message(self, fmt, *args):
        sys.stderr.write("%s: %s\n" % (NAME, fmt % args))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


Server(("127.0.0.1", PORT), Handler).serve_forever()
