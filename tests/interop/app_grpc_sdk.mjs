// SPDX-License-Identifier: Apache-2.0
// outrigd --app-protocol grpc with an app written with the real Dapr JS SDK: a DaprServer with communicationProtocol
// GRPC, started for real (start() waits for the sidecar's GetMetadata over gRPC), reached by service invocation from
// HTTP (/v1.0/invoke) and from gRPC (the SDK's gRPC DaprClient, InvokeService), by pub/sub (ListTopicSubscriptions,
// OnTopicEvent with SUCCESS, RETRY and DROP), by the input binding bindings.cron "mybinding" (ListInputBindings,
// OnBindingEvent), all with app health checks on (AppCallbackHealthCheck).
//
// outrigd runs with --resources-path tests/data/interop/app_grpc, --app-protocol grpc, --app-port OUTRIG_APP_PORT and
// --enable-app-health-check. Environment: DAPR_HTTP_PORT, DAPR_GRPC_PORT (outrigd's), OUTRIG_APP_PORT (the
// DaprServer's). Run with `node --test app_grpc_sdk.mjs`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { CommunicationProtocolEnum, DaprClient, DaprPubSubStatusEnum, DaprServer, HttpMethod } from "@dapr/dapr";
import { sdkLogger, sleep, waitFor as waitUntil } from "./common.mjs";

const httpPort = process.env.DAPR_HTTP_PORT;
const grpcPort = process.env.DAPR_GRPC_PORT;
const appPort = process.env.OUTRIG_APP_PORT;
if (!httpPort || !grpcPort || !appPort) {
  throw new Error("app_grpc_sdk.mjs: set DAPR_HTTP_PORT, DAPR_GRPC_PORT (outrigd's ports) and OUTRIG_APP_PORT");
}

const grpcOptions = {
  daprHost: "127.0.0.1",
  daprPort: String(grpcPort),
  communicationProtocol: CommunicationProtocolEnum.GRPC,
  logger: sdkLogger,
};
const server = new DaprServer({
  serverHost: "127.0.0.1",
  serverPort: String(appPort),
  communicationProtocol: CommunicationProtocolEnum.GRPC,
  clientOptions: grpcOptions,
  logger: sdkLogger,
});
const client = new DaprClient(grpcOptions);

// outrigd keeps its HTTP/2 connection to the app open, and the SDK's stop() (http2's close) waits for every session
// to end: the sessions are closed here first. daprServer is the SDK's GRPCServer and server its http2 server (both internal).
const sessions = new Set();
server.daprServer.server.on("session", (s) => {
  sessions.add(s);
  s.on("close", () => sessions.delete(s));
});

// What the app's handlers saw, in order.
const seen = [];
const describeSeen = () => seen.map((s) => `  ${JSON.stringify(s)}`).join("\n") || "  (none)";
const waitFor = (what, fn, ms) => waitUntil(what, fn, describeSeen, ms);
const topicEvents = (topic, id) => seen.filter((s) => s.kind === "topic" && s.topic === topic && s.data?.id === id);

const invokeHttp = (method, path, body) =>
  fetch(`http://127.0.0.1:${httpPort}/v1.0/invoke/myapp/method/${path}`, {
    method,
    headers: body !== undefined ? { "content-type": "application/json" } : {},
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });

before(async () => {
  await server.invoker.listen(
    "echo",
    async (data) => ({ body: data.body, query: data.query ?? null, contentType: data.metadata?.contentType ?? null }),
    { method: HttpMethod.POST },
  );
  await server.invoker.listen("hello", async () => "hi", { method: HttpMethod.GET });
  await server.invoker.listen(
    "throw",
    async () => {
      throw new Error("the handler failed on purpose");
    },
    { method: HttpMethod.POST },
  );
  // data.answer says how to answer: SUCCESS, RETRY, DROP, or RETRY-ONCE (RETRY the first time, then SUCCESS).
  await server.pubsub.subscribeWithOptions("pubsub", "orders", {
    deadLetterTopic: "dead",
    callback: async (data) => {
      const before = topicEvents("orders", data?.id).length;
      seen.push({ kind: "topic", topic: "orders", data });
      if (data?.answer === "RETRY-ONCE") {
        return before === 0 ? DaprPubSubStatusEnum.RETRY : DaprPubSubStatusEnum.SUCCESS;
      }
      return DaprPubSubStatusEnum[data?.answer] ?? DaprPubSubStatusEnum.SUCCESS;
    },
  });
  await server.pubsub.subscribe("pubsub", "dead", async (data) => {
    seen.push({ kind: "topic", topic: "dead", data });
    return DaprPubSubStatusEnum.SUCCESS;
  });
  await server.binding.receive("mybinding", async (data) => {
    seen.push({ kind: "binding", name: "mybinding", data });
  });
  // Starts the app's gRPC server, then waits until outrigd answers GetMetadata.
  await server.start();
});

after(async () => {
  for (const s of sessions) {
    s.destroy();
  }
  await server.stop();
  await client.stop();
});

// The first probe must succeed before calls reach the app (daprd counts an app unhealthy until then).
async function whenHealthy() {
  const end = Date.now() + 15000;
  for (;;) {
    const r = await invokeHttp("GET", "hello");
    const text = await r.text();
    if (r.status === 200) {
      return text;
    }
    if (Date.now() > end) {
      assert.fail(`GET /v1.0/invoke/myapp/method/hello still answers ${r.status} ${text}`);
    }
    await sleep(100);
  }
}

test("outrigd reports the app's protocol and its health checks", async () => {
  await whenHealthy();
  const r = await fetch(`http://127.0.0.1:${httpPort}/v1.0/metadata`);
  const doc = await r.json();
  assert.equal(doc.appConnectionProperties.protocol, "grpc");
  assert.equal(doc.appConnectionProperties.port, Number(appPort));
  assert.ok(doc.appConnectionProperties.health, `no health properties in ${JSON.stringify(doc)}`);
});

test("an HTTP caller reaches the gRPC app through /v1.0/invoke", async () => {
  assert.equal(await whenHealthy(), '"hi"');
  const r = await invokeHttp("POST", "echo?x=1&y=2", { n: 1 });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  assert.equal(r.headers.get("content-type"), "application/json");
  assert.deepEqual(JSON.parse(text), { body: '{"n":1}', query: "x=1&y=2", contentType: "application/json" });
});

test("an HTTP caller gets a failing handler's gRPC status as daprd maps it", async () => {
  await whenHealthy();
  const r = await invokeHttp("POST", "throw", {});
  const text = await r.text();
  assert.equal(r.status, 500, text);
  assert.equal(JSON.parse(text).code, 13, text);
});

test("a gRPC caller reaches the gRPC app through InvokeService", async () => {
  await whenHealthy();
  const res = await client.invoker.invoke("myapp", "echo", HttpMethod.POST, { n: 2 });
  assert.deepEqual(res, { body: '{"n":2}', query: "", contentType: "application/json" });
});

test("a gRPC caller gets a failing handler's own gRPC status, not one made from HTTP", async () => {
  await whenHealthy();
  let caught;
  try {
    await client.invoker.invoke("myapp", "throw", HttpMethod.POST, {});
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, "InvokeService of a throwing handler succeeded");
  // INTERNAL (13) as the app answered; an HTTP 500 would have made it UNKNOWN (2).
  assert.equal(caught.code, 13, String(caught));
});

test("pub/sub: SUCCESS is delivered once", async () => {
  await whenHealthy();
  await client.pubsub.publish("pubsub", "orders", { id: "s1", answer: "SUCCESS" });
  await waitFor("the event s1", () => topicEvents("orders", "s1").length === 1);
  await sleep(1500);
  assert.equal(topicEvents("orders", "s1").length, 1, describeSeen());
  assert.equal(topicEvents("dead", "s1").length, 0, describeSeen());
});

test("pub/sub: RETRY is delivered again", async () => {
  await whenHealthy();
  await client.pubsub.publish("pubsub", "orders", { id: "r1", answer: "RETRY-ONCE" });
  await waitFor("the event r1 twice", () => topicEvents("orders", "r1").length >= 2, 30000);
  assert.equal(topicEvents("dead", "r1").length, 0, describeSeen());
});

test("pub/sub: DROP goes to the dead-letter topic and is not delivered again", async () => {
  await whenHealthy();
  await client.pubsub.publish("pubsub", "orders", { id: "d1", answer: "DROP" });
  await waitFor("the event d1 on the dead-letter topic", () => topicEvents("dead", "d1").length === 1);
  await sleep(1500);
  assert.equal(topicEvents("orders", "d1").length, 1, describeSeen());
});

test("the input binding the app lists is delivered through OnBindingEvent", async () => {
  await waitFor("an event of mybinding", () => seen.some((s) => s.kind === "binding" && s.name === "mybinding"));
});
