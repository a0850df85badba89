# SPDX-License-Identifier: Apache-2.0
# The called app of tests/cli_runfile.sh: answers POST /neworder on APP_PORT with the order it got.
import http.server
import json
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        order = json.loads(body or b"{}")
        print("received order %s (GREETING=%s)" % (order.get("id"), os.environ.get("GREETING")), flush=True)
        answer = json.dumps({"accepted": order.get("id"), "by": os.environ.get("APP_ID")}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


print("orders listening on %s in %s" % (os.environ["APP_PORT"], os.getcwd()), flush=True)
sys.stdout.flush()
http.server.HTTPServer(("127.0.0.1", int(os.environ["APP_PORT"])), Handler).serve_forever()
