#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# Distributed tracing end to end: a Zipkin and an OTLP/HTTP receiver written here (stdlib only) take the spans of
# two real outrigd: app A (this script) -> sidecar A -> sidecar B -> app B over HTTP, and publish -> delivery on B.
# Asserts one trace with the right parent ids in both formats, the caller's traceparent continued, malformed ones
# starting a new trace, samplingRate "0" exporting nothing, and a dead collector dropping spans without slowing calls.
# Environment (tests/local.mk): OUTRIGD, OUTRIG_PLUGIN_PATH. TAP-ish output: "ok - ..." / "not ok - ...".
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

OUTRIGD = os.environ.get("OUTRIGD", "core/outrigd")
PLUGINS = os.environ.get("OUTRIG_PLUGIN_PATH", "plugins/.libs")
TMP = tempfile.mkdtemp(prefix="check_tracing.")
PROCS = []
GRPC_PORTS = {}
FAILED = 0
PASSED = 0


def ok(cond, name, detail=""):
    global FAILED, PASSED
    if cond:
        PASSED += 1
        print("ok - " + name, flush=True)
    else:
        FAILED += 1
        print("not ok - " + name + ("\n#   " + str(detail).replace("\n", "\n#   ") if detail else ""), flush=True)
    return cond


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def setup(self):
        super().setup()
        # Headers and body go in two writes: without this, Nagle's algorithm holds the second for 40 ms.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self, code, data=b"", ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class Collector:
    """Zipkin v2 JSON on /api/v2/spans and OTLP/HTTP JSON on /v1/traces, normalized to one list each."""

    def __init__(self):
        self.zipkin, self.otlp, self.lock = [], [], threading.Lock()
        col = self

        class H(Quiet):
            def do_POST(self):
                data = json.loads(self.body() or b"null")
                with col.lock:
                    if self.path == "/api/v2/spans":
                        for s in data:
                            col.zipkin.append({"trace": s["traceId"], "id": s["id"], "parent": s.get("parentId"),
                                               "name": s["name"], "service": s["localEndpoint"]["serviceName"],
                                               "tags": s.get("tags", {}), "kind": s.get("kind")})
                    elif self.path == "/v1/traces":
                        for rs in data["resourceSpans"]:
                            svc = {a["key"]: a["value"]["stringValue"] for a in rs["resource"]["attributes"]}
                            for ss in rs["scopeSpans"]:
                                for s in ss["spans"]:
                                    col.otlp.append({"trace": s["traceId"], "id": s["spanId"],
                                                     "parent": s.get("parentSpanId"), "name": s["name"],
                                                     "service": svc.get("service.name"),
                                                     "tags": {a["key"]: a["value"]["stringValue"]
                                                              for a in s.get("attributes", [])}})
                self.answer(202 if self.path == "/api/v2/spans" else 200, b"{}")

        self.port = free_port()
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()

    def spans(self, fmt, trace):
        with self.lock:
            return [s for s in (self.zipkin if fmt == "zipkin" else self.otlp) if s["trace"] == trace]

    def count(self):
        with self.lock:
            return len(self.zipkin) + len(self.otlp)

    def wait(self, trace, n, timeout=8):
        end = time.time() + timeout
        while time.time() < end:
            if len(self.spans("zipkin", trace)) >= n and len(self.spans("otlp", trace)) >= n:
                return True
            time.sleep(0.1)
        return False


class AppB:
    """App B: answers invocations and takes the events of topic orders, recording the headers it was sent."""

    def __init__(self):
        self.seen, self.events, self.ticks = [], [], []
        app = self

        class H(Quiet):
            def do_GET(self):
                if self.path == "/dapr/subscribe":
                    self.answer(200, json.dumps([{"pubsubname": "pubsub", "topic": "orders",
                                                  "route": "/orders"}]).encode())
                elif self.path == "/dapr/config":
                    self.answer(404)
                else:
                    app.seen.append(dict(self.headers))
                    self.answer(200, b"pong", "text/plain")

            def do_POST(self):
                body = self.body()
                if self.path == "/orders":
                    app.events.append((dict(self.headers), json.loads(body)))
                    self.answer(200, b'{"status":"SUCCESS"}')
                elif self.path == "/tick":
                    app.ticks.append(dict(self.headers))
                    self.answer(200, b"{}")
                else:
                    app.seen.append(dict(self.headers))
                    self.answer(200, b"pong", "text/plain")

        self.port = free_port()
        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), H)
        threading.Thread(target=self.srv.serve_forever, daemon=True).start()


def config(name, rate, zipkin=None, otlp=None, stdout=False):
    path = os.path.join(TMP, name + ".yaml")
    with open(path, "w") as f:
        f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: %s\nspec:\n  tracing:\n"
                "    samplingRate: \"%s\"\n" % (name, rate))
        if stdout:
            f.write("    stdout: true\n")
        if zipkin:
            f.write("    zipkin:\n      endpointAddress: \"%s\"\n" % zipkin)
        if otlp:
            f.write("    otel:\n      endpointAddress: \"%s\"\n      isSecure: false\n      protocol: http\n" % otlp)
    return path


def start(app_id, cfg, shared, app_port=None, resources=None, extra=()):
    port, grpc, internal = free_port(), free_port(), free_port()
    log = os.path.join(TMP, "%s-%d.log" % (app_id, port))
    args = [OUTRIGD, "--app-id", app_id, "--dapr-http-port", str(port), "--dapr-grpc-port", str(grpc),
            "--dapr-internal-grpc-port", str(internal), "--plugin-dir", PLUGINS, "--data-dir", shared,
            "--config", cfg]
    if app_port:
        args += ["--app-port", str(app_port)]
    if resources:
        args += ["--resources-path", resources]
    args += list(extra)
    env = dict(os.environ, XDG_DATA_HOME=os.path.join(TMP, "xdg-" + app_id))
    p = subprocess.Popen(args, stdout=open(log, "w"), stderr=subprocess.STDOUT, env=env)
    PROCS.append(p)
    GRPC_PORTS[port] = grpc
    end = time.time() + 15
    while time.time() < end:
        try:
            if urllib.request.urlopen("http://127.0.0.1:%d/v1.0/healthz" % port, timeout=1).status == 204:
                return port, p, log
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if p.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError("outrigd %s did not start; its log:\n%s" % (app_id, open(log).read()))


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def call(port, path, headers=None, data=None, method=None):
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, path), data=data, headers=headers or {},
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def tp_fields(tp):
    parts = (tp or "").split("-")
    return parts if len(parts) == 4 else [None, None, None, None]


def wait_for(cond, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        if cond():
            return True
        time.sleep(0.1)
    return False


def by_name(spans, name):
    return [s for s in spans if s["name"] == name]


def check_invoke(col, port_a, app, fmt_list=("zipkin", "otlp")):
    trace, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    app.seen.clear()
    st, hdrs, body = call(port_a, "/v1.0/invoke/app-b/method/hello",
                          {"traceparent": "00-%s-%s-01" % (trace, parent), "tracestate": "vendor=x"})
    ok(st == 200 and body == b"pong", "HTTP invoke A -> B answers", (st, body))
    rtp = tp_fields(hdrs.get("traceparent") or hdrs.get("Traceparent"))
    ok(rtp[1] == trace, "the answer carries traceparent of the caller's trace", hdrs)
    got = app.seen[-1] if app.seen else {}
    atp = tp_fields(got.get("traceparent") or got.get("Traceparent"))
    ok(atp[1] == trace and atp[3] == "01", "app B gets a sampled traceparent of the same trace", got)
    ok((got.get("tracestate") or got.get("Tracestate")) == "vendor=x", "tracestate travels to app B", got)
    ok(col.wait(trace, 2), "both collectors get the invocation's spans",
       (col.spans("zipkin", trace), col.spans("otlp", trace)))
    for fmt in fmt_list:
        spans = col.spans(fmt, trace)
        a = by_name(spans, "CallLocal/app-b/hello")
        b = by_name(spans, "/dapr.proto.internals.v1.ServiceInvocation/CallLocal")
        ok(len(a) == 1 and a[0]["parent"] == parent and a[0]["service"] == "app-a",
           "[%s] sidecar A's span CallLocal/app-b/hello is the caller's child" % fmt, spans)
        ok(len(a) == 1 and a[0]["tags"].get("rpc.service") == "ServiceInvocation" and
           a[0]["tags"].get("net.peer.name") == "app-b" and a[0]["tags"].get("dapr.protocol") == "http" and
           a[0]["tags"].get("dapr.status_code") == "200",
           "[%s] sidecar A's span has daprd's attributes" % fmt, a)
        ok(len(a) == 1 and len(b) == 1 and b[0]["parent"] == a[0]["id"] and b[0]["service"] == "app-b",
           "[%s] sidecar B's span is sidecar A's child" % fmt, spans)
        ok(len(b) == 1 and b[0]["id"] == atp[2], "[%s] app B's traceparent names sidecar B's span" % fmt,
           (b, atp))
        ok(len(a) == 1 and a[0]["id"] == rtp[2], "[%s] the answer's traceparent names sidecar A's span" % fmt,
           (a, rtp))

    # No traceparent from the app: sidecar A starts the trace.
    st, hdrs, _ = call(port_a, "/v1.0/invoke/app-b/method/fresh")
    rtp = tp_fields(hdrs.get("traceparent") or hdrs.get("Traceparent"))
    ok(st == 200 and rtp[1] is not None and col.wait(rtp[1], 2),
       "without a traceparent, sidecar A starts a trace that B continues", hdrs)
    spans = col.spans("zipkin", rtp[1])
    a = by_name(spans, "CallLocal/app-b/fresh")
    b = by_name(spans, "/dapr.proto.internals.v1.ServiceInvocation/CallLocal")
    ok(len(a) == 1 and a[0]["parent"] is None and len(b) == 1 and b[0]["parent"] == a[0]["id"],
       "the new trace's root is sidecar A's span, B's its child", spans)


def check_malformed(port_a, app):
    bad = ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",       # no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",    # upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    # zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    # zero span id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    # version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xx",  # version 00 with more
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",    # not hex
           "x" * 300, ""]
    good = True
    for v in bad:
        st, hdrs, _ = call(port_a, "/v1.0/invoke/app-b/method/bad", {"traceparent": v})
        rtp = tp_fields(hdrs.get("traceparent") or hdrs.get("Traceparent"))
        if st != 200 or rtp[1] is None or rtp[1] == "4bf92f3577b34da6a3ce929d0e0e4736":
            good = ok(False, "malformed traceparent %r starts a new trace" % v, (st, hdrs))
    if good:
        ok(True, "malformed traceparents start a new trace, and the call is served")
    st, hdrs, _ = call(port_a, "/v1.0/invoke/app-b/method/later",
                       {"traceparent": "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future"})
    rtp = tp_fields(hdrs.get("traceparent") or hdrs.get("Traceparent"))
    ok(rtp[1] == "4bf92f3577b34da6a3ce929d0e0e4736", "a later version's traceparent is read as 00", hdrs)


def pb_str(field, text):
    data = text.encode() if isinstance(text, str) else text
    return bytes([field << 3 | 2, len(data)]) + data


def grpc_call(port, path, body, *md):
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "grpc_call.mjs")
    r = subprocess.run(["node", script, str(port), path, body.hex()] + list(md), capture_output=True, text=True,
                       timeout=20)
    try:
        return json.loads(r.stdout)
    except ValueError:
        return {"error": r.stdout + r.stderr}


def check_grpc(col, grpc_a, app):
    """InvokeService over gRPC: grpc-trace-bin or traceparent in, the same trace through both sidecars."""
    if shutil.which("node") is None:
        print("ok - # SKIP gRPC tracing: node not found")
        return
    trace, parent = "5bf92f3577b34da6a3ce929d0e0e4737", "10f067aa0ba902b8"
    app.seen.clear()
    # InvokeServiceRequest{id: "app-b", message: InvokeRequest{method: "viagrpc", http_extension{verb: POST}}}
    req = pb_str(1, "app-b") + pb_str(3, pb_str(1, "viagrpc") + pb_str(4, bytes([8, 3])))
    res = grpc_call(grpc_a, "/dapr.proto.runtime.v1.Dapr/InvokeService", req,
                    "traceparent=00-%s-%s-01" % (trace, parent))
    ok(res.get("status") == "0", "gRPC InvokeService A -> B answers", res)
    rtp = tp_fields(res.get("headers", {}).get("traceparent"))
    ok(rtp[1] == trace and "grpc-trace-bin" in res.get("headers", {}),
       "the gRPC answer carries traceparent and grpc-trace-bin of the caller's trace", res)
    got = app.seen[-1] if app.seen else {}
    atp = tp_fields(got.get("traceparent"))
    ok(atp[1] == trace, "app B gets the gRPC caller's trace", got)
    ok(col.wait(trace, 2), "the collectors get the gRPC invocation's spans", col.spans("zipkin", trace))
    spans = col.spans("zipkin", trace)
    a = by_name(spans, "CallLocal/app-b/viagrpc")
    b = by_name(spans, "/dapr.proto.internals.v1.ServiceInvocation/CallLocal")
    ok(len(a) == 1 and a[0]["parent"] == parent and a[0]["tags"].get("dapr.protocol") == "grpc" and
       a[0]["tags"].get("dapr.status_code") == "0" and a[0]["tags"].get("net.peer.name") == "app-b" and
       a[0]["tags"].get("dapr.api") == "/dapr.proto.runtime.v1.Dapr/InvokeService",
       "sidecar A's gRPC span CallLocal/app-b/viagrpc is the caller's child, with dapr.protocol grpc", spans)
    ok(len(a) == 1 and len(b) == 1 and b[0]["parent"] == a[0]["id"] and b[0]["id"] == atp[2],
       "sidecar B's span is the gRPC span's child, and names what app B got", spans)
    # grpc-trace-bin only (OpenCensus binary, as daprd's gRPC clients send it).
    trace2 = "6bf92f3577b34da6a3ce929d0e0e4738"
    import base64
    bin_ctx = bytes([0, 0]) + bytes.fromhex(trace2) + bytes([1]) + bytes.fromhex(parent) + bytes([2, 1])
    res = grpc_call(grpc_a, "/dapr.proto.runtime.v1.Dapr/GetMetadata", b"",
                    "grpc-trace-bin=" + base64.b64encode(bin_ctx).decode())
    ok(res.get("status") == "0" and tp_fields(res.get("headers", {}).get("traceparent"))[1] == trace2,
       "grpc-trace-bin is read as the caller's context", res)
    ok(col.wait(trace2, 1) and by_name(col.spans("zipkin", trace2), "/dapr.proto.runtime.v1.Dapr/GetMetadata"),
       "GetMetadata's span is exported", col.spans("zipkin", trace2))


def check_grpc_proxy(col, cfg, shared, grpc_a):
    """gRPC proxying (a non-Dapr method with dapr-app-id): sidecar C continues sidecar A's trace to its gRPC app."""
    if shutil.which("node") is None:
        print("ok - # SKIP gRPC proxy tracing: node not found")
        return None
    port = free_port()
    out = os.path.join(TMP, "grpc-app.log")
    app = subprocess.Popen(["node", os.path.join(os.path.dirname(os.path.abspath(__file__)), "grpc_app.mjs"),
                            str(port)], stdout=open(out, "w"), stderr=subprocess.STDOUT)
    PROCS.append(app)
    if not wait_for(lambda: "LISTENING" in open(out).read(), 10):
        ok(False, "the gRPC app starts", open(out).read())
        return None
    _, pc, _ = start("app-c", cfg, shared, port, None, ["--app-protocol", "grpc"])
    trace, parent = "9bf92f3577b34da6a3ce929d0e0e473b", "30f067aa0ba902ba"
    res = {}
    for _ in range(50):  # until A resolves app-c
        res = grpc_call(grpc_a, "/outrig.test.Echo/Say", b"hi", "dapr-app-id=app-c",
                        "traceparent=00-%s-%s-01" % (trace, parent))
        if res.get("status") == "0":
            break
        time.sleep(0.2)
    ok(res.get("status") == "0", "a proxied gRPC call A -> C answers", res)
    calls = [json.loads(l) for l in open(out).read().splitlines() if l.startswith("{")]
    said = [c for c in calls if c["path"] == "/outrig.test.Echo/Say"]
    atp = tp_fields(said[-1]["headers"].get("traceparent") if said else None)
    ok(atp[1] == trace, "the gRPC app gets the caller's trace", said[-1:])
    ok(col.wait(trace, 2), "the proxied call's spans are exported", col.spans("zipkin", trace))
    spans = by_name(col.spans("zipkin", trace), "/outrig.test.Echo/Say")
    a = [s for s in spans if s["service"] == "app-a"]
    c = [s for s in spans if s["service"] == "app-c"]
    ok(len(a) == 1 and a[0]["parent"] == parent and len(c) == 1 and c[0]["parent"] == a[0]["id"] and
       c[0]["id"] == atp[2], "sidecar C's span is sidecar A's child and names what the gRPC app got", spans)
    return pc


def check_state(col, port_a, grpc_a):
    """A state save: the API call's span with daprd's db.* attributes, the plugin call its child."""
    trace, parent = "7bf92f3577b34da6a3ce929d0e0e4739", "20f067aa0ba902b9"
    st, _, body = call(port_a, "/v1.0/state/statestore", {"traceparent": "00-%s-%s-01" % (trace, parent),
                                                          "Content-Type": "application/json"},
                       b'[{"key":"k1","value":{"n":1}}]')
    ok(st == 204, "state save on sidecar A", (st, body))
    ok(col.wait(trace, 2), "the state save's spans are exported", col.spans("zipkin", trace))
    for fmt in ("zipkin", "otlp"):
        spans = col.spans(fmt, trace)
        api = by_name(spans, "/v1.0/state/statestore")
        comp = [s for s in spans if s["tags"].get("dapr.component.name") == "statestore"]
        ok(len(api) == 1 and api[0]["parent"] == parent and api[0]["tags"].get("db.system") == "state" and
           api[0]["tags"].get("db.name") == "statestore" and
           api[0]["tags"].get("db.statement") == "POST /v1.0/state/statestore",
           "[%s] the state API span has daprd's db.* attributes" % fmt, spans)
        ok(len(api) == 1 and len(comp) == 1 and comp[0]["parent"] == api[0]["id"],
           "[%s] the plugin call is a child span of the API call" % fmt, spans)
    if shutil.which("node") is None:
        return
    # GetState over gRPC: GetStateRequest{store_name: "statestore", key: "k1"}
    trace2 = "8bf92f3577b34da6a3ce929d0e0e473a"
    res = grpc_call(grpc_a, "/dapr.proto.runtime.v1.Dapr/GetState", pb_str(1, "statestore") + pb_str(2, "k1"),
                    "traceparent=00-%s-%s-01" % (trace2, parent))
    ok(res.get("status") == "0" and col.wait(trace2, 2), "gRPC GetState is traced", res)
    spans = col.spans("zipkin", trace2)
    api = by_name(spans, "/dapr.proto.runtime.v1.Dapr/GetState")
    comp = [s for s in spans if s["tags"].get("dapr.component.name") == "statestore"]
    ok(len(api) == 1 and len(comp) == 1 and comp[0]["parent"] == api[0]["id"],
       "the gRPC call's plugin call is its child span", spans)


def check_binding(col, app):
    """An input binding's event (bindings.cron) is a trace's root; the app gets its context."""
    ok(wait_for(lambda: len(app.ticks) > 0, 10), "app B gets bindings.cron events")
    if not app.ticks:
        return
    tp = tp_fields(app.ticks[-1].get("traceparent"))
    ok(tp[1] is not None and tp[3] == "01", "the binding's event comes with a sampled traceparent", app.ticks[-1])
    ok(col.wait(tp[1], 1), "the binding's span is exported", tp)
    spans = by_name(col.spans("zipkin", tp[1]), "bindings/tick")
    ok(len(spans) == 1 and spans[0]["id"] == tp[2] and spans[0]["parent"] is None and
       spans[0]["tags"].get("db.name") == "tick", "span bindings/tick is the root the app's traceparent names",
       col.spans("zipkin", tp[1]))


def check_pubsub(col, port_b, app):
    trace, parent = "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331"
    st, _, body = call(port_b, "/v1.0/publish/pubsub/orders", {"traceparent": "00-%s-%s-01" % (trace, parent),
                                                               "Content-Type": "application/json"},
                       b'{"order":1}')
    ok(st == 204, "publish on sidecar B", (st, body))
    ok(wait_for(lambda: len(app.events) > 0), "app B gets the event")
    if not app.events:
        return
    headers, event = app.events[-1]
    dtp = tp_fields(headers.get("traceparent") or headers.get("Traceparent"))
    etp = tp_fields(event.get("traceparent"))
    ok(dtp[1] == trace and etp[1] == trace, "the event and its delivery carry the publisher's trace",
       (headers, event))
    ok(event.get("traceid") == event.get("traceparent"), "the CloudEvent's traceid is its traceparent", event)
    ok(col.wait(trace, 2), "both collectors get publish and delivery spans",
       (col.spans("zipkin", trace), col.spans("otlp", trace)))
    for fmt in ("zipkin", "otlp"):
        spans = col.spans(fmt, trace)
        pub = by_name(spans, "/v1.0/publish/pubsub/orders")
        dlv = by_name(spans, "pubsub/orders")
        ok(len(pub) == 1 and pub[0]["parent"] == parent and pub[0]["id"] == etp[2] and
           pub[0]["tags"].get("messaging.destination") == "orders",
           "[%s] the publish span is the caller's child; the event's traceparent names it" % fmt, spans)
        ok(len(pub) == 1 and len(dlv) == 1 and dlv[0]["parent"] == pub[0]["id"] and dlv[0]["id"] == dtp[2],
           "[%s] the delivery span's parent is the publish span; the app's traceparent names it" % fmt, spans)


def check_config_errors():
    """Settings outrig cannot honour are refused by outrigd --check, naming file:line and field."""
    cases = [
        ("otel:\n      endpointAddress: localhost:4317\n      protocol: grpc\n", "spec.tracing.otel.protocol",
         "otel over gRPC"),
        ("otel:\n      endpointAddress: localhost:4318\n      isSecure: true\n      protocol: http\n",
         "spec.tracing.otel.isSecure", "otel isSecure: true"),
        ("otel:\n      endpointAddress: localhost:4318\n", "spec.tracing.otel.protocol", "otel without protocol"),
        ("zipkin:\n      endpointAddress: https://zipkin:9411/api/v2/spans\n",
         "spec.tracing.zipkin.endpointAddress", "zipkin over https"),
    ]
    empty = os.path.join(TMP, "empty")
    os.makedirs(empty, exist_ok=True)
    for i, (section, field, what) in enumerate(cases + [("", "spec.tracing.samplingRate", "samplingRate \"abc\"")]):
        path = os.path.join(TMP, "bad%d.yaml" % i)
        with open(path, "w") as f:
            f.write("apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata:\n  name: bad\nspec:\n"
                    "  tracing:\n    samplingRate: \"%s\"\n    %s" % ("abc" if not section else "1", section))
        r = subprocess.run([OUTRIGD, "--check", "--resources-path", empty, "--config", path],
                           capture_output=True, text=True)
        out = r.stdout + r.stderr
        ok(r.returncode != 0 and (path + ":") in out and field in out,
           "outrigd --check refuses %s, naming file:line and %s" % (what, field), out)


def check_stop_flush(col, shared):
    """Spans queued at a graceful stop are sent before outrigd exits (the exporter's tick is 1 s)."""
    cfg = config("stopping", "1", "http://127.0.0.1:%d/api/v2/spans" % col.port)
    port, p, log = start("app-stop", cfg, shared)
    trace = "1cf92f3577b34da6a3ce929d0e0e4741"
    st, _, _ = call(port, "/v1.0/metadata", {"traceparent": "00-%s-00f067aa0ba902b7-01" % trace})
    t0 = time.time()
    stop(p)
    took = time.time() - t0
    ok(st == 200 and p.returncode == 0 and took < 2, "a sidecar stopped right after a call exits at once (%.2fs)" % took,
       (st, p.returncode, open(log).read()[-2000:]))
    ok(wait_for(lambda: by_name(col.spans("zipkin", trace), "/v1.0/metadata"), 1),
       "the span of a call made just before SIGTERM reaches the collector", open(log).read()[-2000:])


def main():
    check_config_errors()
    col = Collector()
    app = AppB()
    shared = os.path.join(TMP, "shared")
    os.makedirs(shared)
    cfg = config("traced", "1", "http://127.0.0.1:%d/api/v2/spans" % col.port, "127.0.0.1:%d" % col.port, True)
    res_b = os.path.join(TMP, "resources-b")
    os.makedirs(res_b)
    with open(os.path.join(res_b, "components.yaml"), "w") as f:
        f.write("apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n"
                "  type: pubsub.in-memory\n  version: v1\n---\n"
                "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: tick\nspec:\n"
                "  type: bindings.cron\n  version: v1\n  metadata:\n    - name: schedule\n"
                "      value: \"@every 1s\"\n    - name: direction\n      value: input\n")
    check_stop_flush(col, shared)
    port_b, pb, log_b = start("app-b", cfg, shared, app.port, res_b)
    port_a, pa, log_a = start("app-a", cfg, shared)
    grpc_a = GRPC_PORTS[port_a]
    # Sidecar B subscribes once app B answers /dapr/subscribe; A must find B through the resolver.
    wait_for(lambda: call(port_a, "/v1.0/invoke/app-b/method/warm")[0] == 200, 15)
    check_invoke(col, port_a, app)
    check_malformed(port_a, app)
    check_grpc(col, grpc_a, app)
    check_state(col, port_a, grpc_a)
    pc = check_grpc_proxy(col, cfg, shared, grpc_a)
    if pc is not None:
        stop(pc)
    check_pubsub(col, port_b, app)
    check_binding(col, app)
    logged = [l for l in open(log_a).read().splitlines() if "span {" in l and "CallLocal/app-b/hello" in l]
    ok(len(logged) == 1, "stdout: true writes each span to the log too", logged)
    st, hdrs, _ = call(port_a, "/v1.0/healthz")
    ok("traceparent" not in {k.lower() for k in hdrs}, "health probes are not traced", hdrs)
    stop(pa)
    stop(pb)
    ok(pa.returncode == 0 and pb.returncode == 0, "both sidecars stop cleanly", (pa.returncode, pb.returncode,
                                                                               open(log_a).read()[-2000:]))

    # samplingRate "0": no span, even for a sampled caller; context still travels.
    before = col.count()
    cfg0 = config("off", "0", "http://127.0.0.1:%d/api/v2/spans" % col.port, "127.0.0.1:%d" % col.port)
    port_b, pb, _ = start("app-b", cfg0, shared, app.port)
    port_a, pa, _ = start("app-a", cfg0, shared)
    wait_for(lambda: call(port_a, "/v1.0/invoke/app-b/method/warm")[0] == 200, 15)
    app.seen.clear()
    for _ in range(20):
        st, hdrs, _ = call(port_a, "/v1.0/invoke/app-b/method/hello",
                           {"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
    time.sleep(2.5)
    ok(col.count() == before, "samplingRate \"0\" exports nothing", col.count() - before)
    atp = tp_fields((app.seen[-1] if app.seen else {}).get("traceparent"))
    ok(atp[1] == "4bf92f3577b34da6a3ce929d0e0e4736" and atp[3] == "00",
       "with samplingRate \"0\" the trace context still travels, not sampled", app.seen[-1:])
    t0 = time.time()
    for _ in range(400):
        call(port_a, "/v1.0/invoke/app-b/method/x")
    took_off = time.time() - t0
    stop(pa)
    stop(pb)

    # A dead collector (refusing) and a black hole (accepts, never answers): calls are not slowed.
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(64)
    dead = free_port()
    cfgd = config("dead", "1", "http://127.0.0.1:%d/api/v2/spans" % dead, "127.0.0.1:%d" % hole.getsockname()[1])
    port_b, pb, log_b = start("app-b", cfgd, shared, app.port)
    port_a, pa, log_a = start("app-a", cfgd, shared)
    wait_for(lambda: call(port_a, "/v1.0/invoke/app-b/method/warm")[0] == 200, 15)
    t0 = time.time()
    n_ok = sum(call(port_a, "/v1.0/invoke/app-b/method/x")[0] == 200 for _ in range(400))
    took = time.time() - t0
    ok(n_ok == 400 and took < 2 * took_off + 2,
       "400 calls with the collector down all answer, not slower (%.2fs; %.2fs with samplingRate 0)" % (took, took_off),
       (n_ok, took, took_off))
    ok(wait_for(lambda: "spans dropped" in open(log_a).read(), 10),
       "dropped spans are counted and reported", open(log_a).read()[-3000:])
    reports = open(log_a).read().count("spans dropped")
    ok(reports <= 2, "the drop is reported once per period, not per span (%d lines)" % reports)
    # A span queued at stop meets the black hole: the stop waits for it 2 s at most, then counts it dropped.
    call(port_a, "/v1.0/metadata")
    t0 = time.time()
    stop(pa)
    took = time.time() - t0
    stop(pb)
    ok(pa.returncode == 0 and pb.returncode == 0, "sidecars with a dead collector stop cleanly",
       (pa.returncode, pb.returncode))
    ok(took < 4 and "not sent to otel at 127.0.0.1:%d at stop" % hole.getsockname()[1] in open(log_a).read(),
       "with a collector that never answers, the stop is bounded (%.2fs) and says what it did not send" % took,
       open(log_a).read()[-2000:])
    hole.close()


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # a crash is a failure, with what led to it
        import traceback
        ok(False, "the test ran to its end", traceback.format_exc())
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        if FAILED == 0:
            shutil.rmtree(TMP, ignore_errors=True)
        else:
            print("# logs kept in " + TMP)
    print("%d passed, %d failed" % (PASSED, FAILED))
    sys.exit(1 if FAILED else 0)
