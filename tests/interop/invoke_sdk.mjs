// SPDX-License-Identifier: Apache-2.0
// Service invocation as the real Dapr JS SDK (@dapr/dapr) uses it: app A's DaprClient, over HTTP or gRPC
// (OUTRIG_SDK_PROTOCOL, see common.mjs), calls app B, a DaprServer (HTTP), through two outrigd that find each other
// with the name resolver of their shared --data-dir.
//
// Environment: DAPR_HTTP_PORT (app A's outrigd, --app-id OUTRIG_CALLER_ID, no --app-port), DAPR_GRPC_PORT (its gRPC
// port, over gRPC), OUTRIG_CALLEE_HTTP_PORT and OUTRIG_CALLEE_GRPC_PORT (app B's outrigd, --app-id OUTRIG_CALLEE_ID),
// OUTRIG_APP_PORT (B's --app-port; the DaprServer listens there), OUTRIG_CALLER_ID (default "app-a"),
// OUTRIG_CALLEE_ID (default "app-b"). Run with `node --test invoke_sdk.mjs`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DaprClient, HttpMethod } from "@dapr/dapr";
import {
  GrpcCode,
  WAIT_MS,
  appServer,
  assertSdkError,
  clientOptions,
  decodeGrpcError,
  decodeSdkError,
  grpcCodeName,
  grpcSkip,
  overGrpc,
  protocol,
  sleep,
} from "./common.mjs";

const portA = process.env.DAPR_HTTP_PORT;
const portB = process.env.OUTRIG_CALLEE_HTTP_PORT;
const grpcPortB = process.env.OUTRIG_CALLEE_GRPC_PORT;
const appPort = process.env.OUTRIG_APP_PORT;
const callerId = process.env.OUTRIG_CALLER_ID ?? "app-a";
const calleeId = process.env.OUTRIG_CALLEE_ID ?? "app-b";
if (!portA || !portB || !appPort || (overGrpc && !grpcPortB)) {
  throw new Error(
    "invoke_sdk.mjs: set DAPR_HTTP_PORT (the caller's outrigd), OUTRIG_CALLEE_HTTP_PORT (the callee's outrigd) " +
      "and OUTRIG_APP_PORT (the callee's --app-port); over gRPC also OUTRIG_CALLEE_GRPC_PORT",
  );
}

// How long one call may take before the test stops waiting for it (app B may take WAIT_MS to become reachable
// from A: outrigd B registers once its app is up).
const CALL_MS = 10000;

// A calls through its own sidecar; B's own client calls B through B's sidecar (self-invocation).
const clientA = new DaprClient(clientOptions(portA));
const clientSelf = new DaprClient(clientOptions(portB, grpcPortB));
const server = appServer(appPort, portB);
const app = server.daprServer.getServer();

// Every request outrigd makes to app B, as Express parsed it (text/plain -> string, JSON -> value,
// application/octet-stream -> Buffer). Registered before any route, after the SDK's body parsers.
const seen = [];
app.use((req, res, next) => {
  seen.push({ method: req.method, url: req.originalUrl, path: req.path, headers: req.headers, body: req.body });
  next();
});
const describeSeen = () =>
  seen.map((r) => `  ${r.method} ${r.url} ${JSON.stringify(r.headers)} ${JSON.stringify(r.body)}`).join("\n") ||
  "  (none)";

// Over HTTP each call carries a unique x-outrig-call header, so a test finds exactly the request its call made.
// GRPCClientInvoker.invoke sends no headers at all (it ignores options.headers), so over gRPC a call's requests are
// those app B saw while the call was under way: the tests that look at them make one call at a time.
let callSeq = 0;
const run = `${process.pid}-${Date.now()}`;
const callWindows = new Map();
function requestsOf(callId) {
  if (overGrpc && callWindows.has(callId)) {
    const [from, to] = callWindows.get(callId);
    return seen.slice(from, to);
  }
  return seen.filter((r) => r.headers["x-outrig-call"] === callId);
}
function requestOf(callId) {
  const reqs = requestsOf(callId);
  assert.equal(reqs.length, 1, `app B saw ${reqs.length} requests for call ${callId}; all requests:\n${describeSeen()}`);
  return reqs[0];
}
const noHeaders = "GRPCClientInvoker.invoke ignores options.headers: no header of the caller reaches outrigd (SDK limitation)";

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${CALL_MS} ms`)), CALL_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// invoke(client, appId, method, verb, body, headers) -> { result, callId }. A fresh headers object per call:
// the SDK writes user-agent and Content-Type into the object it is given.
async function invoke(client, appId, method, verb, body, headers = {}) {
  const callId = `${run}-${++callSeq}`;
  const from = seen.length;
  try {
    const result = await withTimeout(
      client.invoker.invoke(appId, method, verb, body, { headers: { ...headers, "x-outrig-call": callId } }),
      `${verb.toUpperCase()} ${appId}/${method}`,
    );
    return { result, callId };
  } finally {
    callWindows.set(callId, [from, seen.length]);
  }
}

// A call that must fail: { err (what the SDK threw), callId }.
async function invokeError(client, appId, method, verb, body) {
  const callId = `${run}-${++callSeq}`;
  const from = seen.length;
  let err;
  try {
    const res = await withTimeout(
      client.invoker.invoke(appId, method, verb, body, { headers: { "x-outrig-call": callId } }),
      `${verb.toUpperCase()} ${appId}/${method}`,
    );
    assert.fail(`${verb.toUpperCase()} ${appId}/${method} should have failed; it returned ${JSON.stringify(res)}`);
  } catch (e) {
    if (e instanceof assert.AssertionError) {
      throw e;
    }
    err = e;
  } finally {
    callWindows.set(callId, [from, seen.length]);
  }
  return { err, callId };
}

// daprd's CodeFromHTTPStatus and Go's status text, for the statuses app B answers here.
const grpcOfHttp = {
  404: [GrpcCode.NOT_FOUND, "Not Found"],
  418: [GrpcCode.UNKNOWN, "I'm a teapot"],
  500: [GrpcCode.UNKNOWN, "Internal Server Error"],
  503: [GrpcCode.UNAVAILABLE, "Service Unavailable"],
};

// An app's non-2xx answer as the SDK surfaces it. Over HTTP: its status and body as they are, returned as
// { status, raw, body } for further checks. Over gRPC, what daprd makes of it: the code from the HTTP status, the
// status text as grpc-message, and an ErrorInfo whose metadata holds http.code and http.error_message (the body's
// first 63 bytes). body: the app's exact body, or a RegExp its start must match.
function assertAppError(err, status, body, what) {
  if (!overGrpc) {
    const e = decodeSdkError(err);
    assert.equal(e.status, status, `${what}: status (body ${e.raw})`);
    return e;
  }
  const e = decodeGrpcError(err);
  const [code, text] = grpcOfHttp[status];
  const show = `${e.codeName} ${JSON.stringify(e.message)} ${JSON.stringify(e.errorInfo)}`;
  assert.equal(e.codeName, grpcCodeName(code), `${what}: gRPC code for HTTP ${status} (got ${show})`);
  assert.equal(e.message, text, `${what}: grpc-message (got ${show})`);
  assert.ok(e.errorInfo, `${what}: no google.rpc.ErrorInfo in grpc-status-details-bin (got ${show})`);
  assert.equal(e.errorInfo.domain, "dapr.io", `${what}: ErrorInfo domain (got ${show})`);
  assert.equal(e.errorInfo.metadata["http.code"], String(status), `${what}: ErrorInfo http.code (got ${show})`);
  const detail = e.errorInfo.metadata["http.error_message"];
  if (body instanceof RegExp) {
    assert.match(detail ?? "", body, `${what}: ErrorInfo http.error_message (got ${show})`);
  } else {
    const first63 = Buffer.from(body).subarray(0, 63).toString();
    assert.equal(detail, first63, `${what}: ErrorInfo http.error_message (got ${show})`);
  }
  return e;
}

// GRPCClientInvoker.invoke JSON.parses the answer and, when that fails, throws
// Error({"error":"COULD_NOT_PARSE_RESULT","error_msg":"Could not parse the returned resultset: <body>"}): a text or
// empty answer still shows what outrigd passed back. Returns that body.
async function unparsedAnswer(promise, what) {
  try {
    const res = await promise;
    assert.fail(`${what}: the SDK over gRPC returned ${JSON.stringify(res)} for an answer that is not JSON`);
  } catch (e) {
    if (e instanceof assert.AssertionError) {
      throw e;
    }
    const outer = JSON.parse(e.message);
    assert.equal(outer.error, "COULD_NOT_PARSE_RESULT", `${what}: ${e.message}`);
    const prefix = "Could not parse the returned resultset: ";
    assert.ok(outer.error_msg.startsWith(prefix), `${what}: ${e.message}`);
    return outer.error_msg.slice(prefix.length);
  }
}

// App B. The SDK's invoker.listen hands its callback { body: JSON.stringify(req.body), query: req.originalUrl,
// metadata: { contentType }, headers } and answers JSON.stringify(return value) with no Content-Type.
const verbs = [HttpMethod.GET, HttpMethod.POST, HttpMethod.PUT, HttpMethod.DELETE, HttpMethod.PATCH];
const echo = (verb) => async (data) => ({
  verb,
  body: data.body === undefined ? null : JSON.parse(data.body),
  query: data.query,
  contentType: data.metadata?.contentType ?? null,
  caller: data.headers?.["dapr-caller-app-id"] ?? null,
  callee: data.headers?.["dapr-callee-app-id"] ?? null,
  custom: data.headers?.["x-outrig-custom"] ?? null,
});

async function registerRoutes() {
  for (const verb of verbs) {
    await server.invoker.listen("echo", echo(verb), { method: verb });
  }
  await server.invoker.listen(
    "api/v1/orders/add",
    async (data) => {
      const { a, b } = JSON.parse(data.body);
      return { sum: a + b };
    },
    { method: HttpMethod.POST },
  );
  await server.invoker.listen("deep/a/b/c/d/e", async () => ({ deep: true }), { method: HttpMethod.GET });
  // A string result: the SDK sends it JSON-encoded ("\"...\"") and the client's JSON.parse gives it back.
  await server.invoker.listen("greeting", async (data) => `héllo ${JSON.parse(data.body)} ✓ 😀`, {
    method: HttpMethod.POST,
  });

  // Plain Express routes for what invoker.listen cannot express: a status, a content type, a thrown error.
  // (An async invoker.listen callback that throws is an unhandled rejection under Express 4: no response at all.)
  app.get("/plain", (req, res) => res.type("text/plain; charset=utf-8").send("plain text ✓ ünïcode 😀"));
  app.get("/json-array", (req, res) => res.json([1, "two", { three: 3 }, null]));
  app.post("/created", (req, res) => res.status(201).json({ id: `created-${req.body?.n}` }));
  app.delete("/gone", (req, res) => res.status(204).end());
  app.get("/reply-headers", (req, res) => {
    res.status(203).set("x-outrig-reply", "yes");
    res.type("application/vnd.outrig+json").send(JSON.stringify({ headers: true }));
  });
  app.get("/fail/teapot", (req, res) => res.status(418).json({ why: "teapot", unicode: "tëapot ✓" }));
  app.get("/fail/throw", () => {
    throw new Error("kaboom from app B");
  });
  app.post("/fail/unavailable", () => {
    const e = new Error("app B is unavailable");
    e.status = 503;
    throw e;
  });
  // The app's error handler, as an app would have one: Express's default one also prints the stack to stderr.
  app.use((err, req, res, next) => {
    if (res.headersSent) {
      return next(err);
    }
    res.status(err.status ?? 500).type("text/plain; charset=utf-8").send(`app B failed: ${err.message}`);
  });
}

// Set by before(): whether A reached B before WAIT_MS, and the last error if not. A failing before() would
// hide every test's own result, so readiness is a test of its own.
let ready = false;
let readyError = null;

before(async () => {
  await registerRoutes();
  // Listens on OUTRIG_APP_PORT (outrigd B is polling it), then waits for B's sidecar like any SDK app.
  await server.start();
  await clientA.start();
  await clientSelf.start();
  const end = Date.now() + WAIT_MS;
  while (Date.now() < end) {
    try {
      await invoke(clientA, calleeId, "echo", HttpMethod.GET);
      ready = true;
      return;
    } catch (e) {
      readyError = e;
    }
    await sleep(100);
  }
});

after(async () => {
  await server.stop();
  await clientA.stop();
  await clientSelf.stop();
});

describe(`service invocation through @dapr/dapr over ${protocol}: ${callerId} -> ${calleeId}`, () => {
  test(`${callerId} reaches ${calleeId} within ${WAIT_MS} ms`, () => {
    assert.ok(ready, `last error: ${readyError?.message}; requests app B saw:\n${describeSeen()}`);
  });

  test("every verb reaches the handler of that verb, at the method path", async () => {
    for (const verb of verbs) {
      const body = verb === HttpMethod.GET ? undefined : { verb };
      const { result, callId } = await invoke(clientA, calleeId, "echo", verb, body);
      assert.equal(result?.verb, verb, `${verb}: ${JSON.stringify(result)}`);
      const req = requestOf(callId);
      assert.equal(req.method, verb.toUpperCase());
      assert.equal(req.path, "/echo");
      if (body) {
        assert.deepEqual(result.body, body, `${verb}: body the handler saw`);
      }
    }
  });

  test("JSON objects and arrays arrive unchanged as application/json", async () => {
    const values = [
      { run, name: "Tatooine", moons: 3, ratio: 0.25, tags: ["desert", "binary"], nested: { ok: true, none: null } },
      { unicode: "héllo wörld ✓ 😀 日本語", quote: 'say "hi"\n\ttab\\', empty: "" },
      [run, 1, "two", { three: 3 }, [], false],
    ];
    for (const v of values) {
      const { result, callId } = await invoke(clientA, calleeId, "echo", HttpMethod.POST, v);
      assert.deepEqual(result.body, v);
      assert.match(result.contentType ?? "", /^application\/json/, `content type at the app: ${result.contentType}`);
      assert.deepEqual(requestOf(callId).body, v);
    }
  });

  test("strings arrive as text/plain strings, never parsed as JSON", async () => {
    for (const v of [`plain ${run}`, "héllo wörld ✓ 😀 日本語", '{"looks":"like json"}', "[1,2]", "42"]) {
      const { result, callId } = await invoke(clientA, calleeId, "echo", HttpMethod.PUT, v);
      assert.equal(result.body, v);
      assert.match(result.contentType ?? "", /^text\/plain/, `content type at the app: ${result.contentType}`);
      assert.equal(requestOf(callId).body, v);
    }
  });

  test("bytes arrive unchanged as application/octet-stream", async () => {
    const bytes = Buffer.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0, 0x0d, 0x0a, 0xc3, 0x28]);
    const { callId } = await invoke(clientA, calleeId, "echo", HttpMethod.POST, bytes);
    const req = requestOf(callId);
    assert.match(req.headers["content-type"] ?? "", /^application\/octet-stream/);
    assert.ok(Buffer.isBuffer(req.body), `body at the app: ${JSON.stringify(req.body)}`);
    assert.equal(req.body.toString("hex"), bytes.toString("hex"));
  });

  test("a 1 MiB body and its echo pass unchanged", async () => {
    const big = { run, blob: "ünïcode ✓ ".repeat(1024 * 1024 / 16) };
    const { result } = await invoke(clientA, calleeId, "echo", HttpMethod.POST, big);
    assert.equal(result.body?.blob?.length, big.blob.length, "length of the echoed string");
    assert.ok(result.body.blob === big.blob, "the echoed string differs");
  });

  test("nested method paths reach the handler at the same path", async () => {
    const add = await invoke(clientA, calleeId, "api/v1/orders/add", HttpMethod.POST, { a: 2, b: 40 });
    assert.deepEqual(add.result, { sum: 42 });
    assert.equal(requestOf(add.callId).path, "/api/v1/orders/add");
    const deep = await invoke(clientA, calleeId, "deep/a/b/c/d/e", HttpMethod.GET);
    assert.deepEqual(deep.result, { deep: true });
    assert.equal(requestOf(deep.callId).path, "/deep/a/b/c/d/e");
  });

  test("the query string reaches the app verbatim", async () => {
    const qs = "x=1&y=h%C3%A9llo&z=a+b&z=c&empty=";
    if (overGrpc) {
      // GRPCClientInvoker.invoke has no query argument and never sets http_extension.querystring: the query stays in
      // InvokeRequest.method, where outrigd refuses a '?' before anything is sent (core/api/internal/
      // internal_protocol.md, which says daprd refuses the same bytes in a method).
      const { err, callId } = await invokeError(clientA, calleeId, `echo?${qs}`, HttpMethod.GET);
      assertSdkError(err, {
        grpc: GrpcCode.INTERNAL,
        message: new RegExp(`^failed to invoke, id: ${calleeId}, err: .*0x3f`),
      });
      assert.equal(requestsOf(callId).length, 0, "app B must not see it");
      return;
    }
    const { result, callId } = await invoke(clientA, calleeId, `echo?${qs}`, HttpMethod.GET);
    assert.equal(result.query, `/echo?${qs}`);
    assert.equal(requestOf(callId).url, `/echo?${qs}`);
  });

  test("the app's results come back: objects, JSON-encoded strings, text, arrays, 201, 204", async () => {
    const greeting = await invoke(clientA, calleeId, "greeting", HttpMethod.POST, "wörld");
    assert.equal(greeting.result, "héllo wörld ✓ 😀");
    if (overGrpc) {
      // Not JSON: the SDK over gRPC throws, with the body outrigd passed back in its message.
      const text = await unparsedAnswer(invoke(clientA, calleeId, "plain", HttpMethod.GET), "GET plain");
      assert.equal(text, "plain text ✓ ünïcode 😀");
    } else {
      const plain = await invoke(clientA, calleeId, "plain", HttpMethod.GET);
      assert.equal(plain.result, "plain text ✓ ünïcode 😀");
    }
    const arr = await invoke(clientA, calleeId, "json-array", HttpMethod.GET);
    assert.deepEqual(arr.result, [1, "two", { three: 3 }, null]);
    const created = await invoke(clientA, calleeId, "created", HttpMethod.POST, { n: 7 });
    assert.deepEqual(created.result, { id: "created-7" });
    if (overGrpc) {
      // A 204 is OK over gRPC, with empty data, which the SDK cannot JSON.parse either.
      assert.equal(await unparsedAnswer(invoke(clientA, calleeId, "gone", HttpMethod.DELETE), "DELETE gone"), "");
    } else {
      const gone = await invoke(clientA, calleeId, "gone", HttpMethod.DELETE);
      assert.equal(gone.result, "");
    }
  });

  test("headers: dapr-caller-app-id and dapr-callee-app-id set by outrigd", async () => {
    const { result, callId } = await invoke(clientA, calleeId, "echo", HttpMethod.POST, { h: 0 });
    assert.equal(result.caller, callerId, "dapr-caller-app-id");
    assert.equal(result.callee, calleeId, "dapr-callee-app-id");
    assert.equal(requestOf(callId).headers["dapr-api-token"], undefined);
  });

  test("headers: custom ones forwarded, caller-supplied dapr-caller/callee-app-id replaced", { skip: grpcSkip(noHeaders) }, async () => {
    const { result, callId } = await invoke(clientA, calleeId, "echo", HttpMethod.POST, { h: 1 }, {
      "x-outrig-custom": "custom value",
      "dapr-caller-app-id": "spoofed-caller",
      "dapr-callee-app-id": "spoofed-callee",
    });
    assert.equal(result.custom, "custom value");
    assert.equal(result.caller, callerId, "dapr-caller-app-id (a caller-supplied one must be replaced)");
    assert.equal(result.callee, calleeId, "dapr-callee-app-id (a caller-supplied one must be replaced)");
    const h = requestOf(callId).headers;
    assert.match(h["user-agent"] ?? "", /^dapr-sdk-js\//, `user-agent forwarded: ${JSON.stringify(h)}`);
    assert.equal(h["dapr-api-token"], undefined);
  });

  test("headers: traceparent and X-Forwarded-* / Forwarded added toward the app (API.md §3.1)", async () => {
    const { callId } = await invoke(clientA, calleeId, "echo", HttpMethod.GET);
    const h = requestOf(callId).headers;
    const show = JSON.stringify(h);
    assert.match(h.traceparent ?? "", /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, `traceparent in ${show}`);
    assert.ok(h["x-forwarded-for"], `x-forwarded-for in ${show}`);
    assert.notEqual(h["x-forwarded-for"], "unknown", `x-forwarded-for in ${show}`);
    assert.ok(h["x-forwarded-host"], `x-forwarded-host in ${show}`);
    assert.match(h.forwarded ?? "", /for=/, `forwarded in ${show}`);
    assert.doesNotMatch(h.forwarded ?? "", /(for|by)=unknown/, `forwarded in ${show}`);
  });

  test("response status, headers and body pass back as the app sent them", async () => {
    const callId = `${run}-${++callSeq}`;
    const res = await withTimeout(
      fetch(`http://127.0.0.1:${portA}/v1.0/invoke/${calleeId}/method/reply-headers`, {
        headers: { "x-outrig-call": callId },
      }),
      "GET reply-headers",
    );
    const text = await res.text();
    assert.equal(res.status, 203, `status (body ${text})`);
    assert.equal(res.headers.get("x-outrig-reply"), "yes");
    assert.match(res.headers.get("content-type") ?? "", /^application\/vnd\.outrig\+json/);
    assert.deepEqual(JSON.parse(text), { headers: true });
    requestOf(callId);
  });

  test("an error status and body from the app pass back to the SDK (gRPC: daprd's status with an ErrorInfo)", async () => {
    const body = { why: "teapot", unicode: "tëapot ✓" };
    const { err, callId } = await invokeError(clientA, calleeId, "fail/teapot", HttpMethod.GET);
    const teapot = assertAppError(err, 418, JSON.stringify(body), "GET fail/teapot");
    if (!overGrpc) {
      assert.deepEqual(teapot.body, body, `body ${teapot.raw}`);
    }
    requestOf(callId);
  });

  test("a handler that throws: its 500 passes back, with the app's body", async () => {
    const boom = await invokeError(clientA, calleeId, "fail/throw", HttpMethod.GET);
    const e500 = assertAppError(boom.err, 500, "app B failed: kaboom from app B", "GET fail/throw");
    if (!overGrpc) {
      assert.equal(e500.raw, "app B failed: kaboom from app B", "the app's error body");
    }
    requestOf(boom.callId);
    const unavailable = await invokeError(clientA, calleeId, "fail/unavailable", HttpMethod.POST, { x: 1 });
    const e503 = assertAppError(unavailable.err, 503, "app B failed: app B is unavailable", "POST fail/unavailable");
    if (!overGrpc) {
      assert.equal(e503.raw, "app B failed: app B is unavailable");
    }
    // A sidecar that retries an answered call would show the request twice.
    requestOf(unavailable.callId);
  });

  test("a method app B does not serve: the app's 404 passes back", async () => {
    const { err, callId } = await invokeError(clientA, calleeId, "no/such/method", HttpMethod.GET);
    // Express's 404 page; over gRPC only its first 63 bytes travel, before the "Cannot GET" line.
    const e = assertAppError(err, 404, /^<!DOCTYPE html>/, "GET no/such/method");
    if (!overGrpc) {
      assert.match(e.raw, /Cannot GET \/no\/such\/method/, "Express's 404 page");
    }
    requestOf(callId);
  });

  test("an unknown app id: 500 ERR_DIRECT_INVOKE (gRPC INTERNAL), surfaced by the SDK", async () => {
    const { err, callId } = await invokeError(clientA, "no-such-app", "echo", HttpMethod.POST, { x: 1 });
    assertSdkError(err, {
      status: 500,
      errorCode: "ERR_DIRECT_INVOKE",
      grpc: GrpcCode.INTERNAL,
      message: /^failed to invoke, id: no-such-app/,
    });
    assert.equal(requestsOf(callId).length, 0, "app B must not see it");
  });

  test(`self-invocation: ${calleeId} calls itself through its own outrigd`, async () => {
    const { result, callId } = await invoke(clientSelf, calleeId, "echo", HttpMethod.POST, { self: "✓" });
    assert.deepEqual(result.body, { self: "✓" });
    assert.equal(result.caller, calleeId, "dapr-caller-app-id");
    assert.equal(result.callee, calleeId, "dapr-callee-app-id");
    requestOf(callId);
    const add = await invoke(clientSelf, calleeId, "api/v1/orders/add", HttpMethod.POST, { a: 1, b: 1 });
    assert.deepEqual(add.result, { sum: 2 });
    const teapot = await invokeError(clientSelf, calleeId, "fail/teapot", HttpMethod.GET);
    assertAppError(teapot.err, 418, JSON.stringify({ why: "teapot", unicode: "tëapot ✓" }), "self GET fail/teapot");
  });

  test("concurrent calls each get their own answer", async () => {
    const n = 24;
    const calls = Array.from({ length: n }, (_, i) =>
      invoke(i % 2 ? clientA : clientSelf, calleeId, "echo", HttpMethod.POST, { i, run }),
    );
    const results = await Promise.all(calls);
    results.forEach(({ result }, i) => assert.deepEqual(result.body, { i, run }, `call ${i}`));
  });
});
