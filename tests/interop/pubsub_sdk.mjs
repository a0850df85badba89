// SPDX-License-Identifier: Apache-2.0
// Pub/sub as the real Dapr JS SDK (@dapr/dapr) uses it: a DaprServer app (HTTP) subscribed through outrigd, a DaprClient
// publishing over HTTP or gRPC (OUTRIG_SDK_PROTOCOL, see common.mjs).
//
// Environment: DAPR_HTTP_PORT (outrigd's HTTP port), DAPR_GRPC_PORT (its gRPC port, over gRPC), OUTRIG_APP_PORT (the
// port outrigd was given as --app-port; the
// DaprServer listens there), OUTRIG_PUBSUB_TYPE (component type metadata must report, e.g. "pubsub.in-memory"),
// OUTRIG_DECLARATIVE=1 when outrigd loaded tests/data/interop/subscriptions, OUTRIG_APP_ID (default "myapp").
// The pub/sub component must be named "pubsub" (the declarative fixtures name it). Run with `node --test pubsub_sdk.mjs`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DaprClient, DaprPubSubStatusEnum } from "@dapr/dapr";
import {
  GrpcCode,
  WAIT_MS,
  appServer,
  assertSdkError,
  clientOptions,
  grpcSkip,
  httpClientOptions,
  outcome,
  overGrpc,
  protocol,
  sleep,
  waitFor as waitUntil,
} from "./common.mjs";

const daprPort = process.env.DAPR_HTTP_PORT;
const appPort = process.env.OUTRIG_APP_PORT;
const pubsubType = process.env.OUTRIG_PUBSUB_TYPE;
const declarative = process.env.OUTRIG_DECLARATIVE === "1";
const appId = process.env.OUTRIG_APP_ID ?? "myapp";
const pubsub = "pubsub";
if (!daprPort || !appPort) {
  throw new Error("pubsub_sdk.mjs: set DAPR_HTTP_PORT (outrigd's port) and OUTRIG_APP_PORT (its --app-port)");
}

// Longer than outrigd's first redelivery backoff (500 ms by default): a message that was wrongly
// retried shows up within it.
const QUIET_MS = 1500;

const client = new DaprClient(clientOptions(daprPort));
// Waiting for outrigd's subscriptions reads them from the metadata API over HTTP whatever the protocol under test:
// GRPCClientMetadata.get leaves GetMetadataResponse.subscriptions out.
const setupClient = overGrpc ? new DaprClient(httpClientOptions(daprPort)) : client;
const server = appServer(appPort, daprPort);

// Every request outrigd makes to the app, as Express parsed it. The SDK does not hand the CloudEvent to
// handlers (only its data), so the envelope is checked here. daprServer is the SDK's HTTPServer (marked
// internal); its Express app has the SDK's body parsers installed already, and no routes yet.
const seen = [];
server.daprServer.getServer().use((req, res, next) => {
  seen.push({ method: req.method, path: req.path, headers: req.headers, body: req.body });
  next();
});
const describeSeen = () =>
  seen.map((r) => `  ${r.method} ${r.path} ${JSON.stringify(r.body)}`).join("\n") || "  (none)";
// Waits with the requests the app saw as the diagnostic of a timeout.
const waitFor = (what, fn, ms) => waitUntil(what, fn, describeSeen, ms);
const deliveriesTo = (path) => seen.filter((r) => r.method === "POST" && r.path === path);
// The path the SDK serves for a subscription: /{pubsub}--{topic}--{route}, route "default" unless given.
const sdkPath = (topic, route = "default") => `/${pubsub}--${topic}--${route}`;

// What each SDK handler was called with, per topic.
const inbox = new Map();
const got = (topic) => inbox.get(topic) ?? [];
function record(topic, data, headers) {
  inbox.set(topic, [...got(topic), { data, headers }]);
}
const collect = (topic) => async (data, headers) => {
  record(topic, data, headers);
  return DaprPubSubStatusEnum.SUCCESS;
};

// RETRY for the first delivery of each message (by data.n), SUCCESS after.
const retryCount = new Map();
async function retryOnce(data, headers) {
  record("sdk-retry", data, headers);
  const n = (retryCount.get(data.n) ?? 0) + 1;
  retryCount.set(data.n, n);
  return n === 1 ? DaprPubSubStatusEnum.RETRY : DaprPubSubStatusEnum.SUCCESS;
}

async function alwaysDrop(data, headers) {
  record("sdk-drop", data, headers);
  return DaprPubSubStatusEnum.DROP;
}

const programmatic = ["sdk-json", "sdk-text", "sdk-ce", "sdk-meta", "sdk-raw", "sdk-retry", "sdk-drop", "sdk-bulk"];

// Keeps this run's messages apart from anything a broker may still hold.
const run = `${process.pid}-${Date.now()}`;

async function metadataSubscriptions() {
  const md = await setupClient.metadata.get();
  return Array.isArray(md.subscriptions) ? md.subscriptions : [];
}

// The envelope fields outrigd adds to every event it wraps (API.md §2.2).
function assertEnvelope(ce, topic, what) {
  const show = JSON.stringify(ce);
  assert.equal(ce.specversion, "1.0", `${what}: specversion in ${show}`);
  assert.equal(ce.topic, topic, `${what}: topic in ${show}`);
  assert.equal(ce.pubsubname, pubsub, `${what}: pubsubname in ${show}`);
  assert.equal(typeof ce.id, "string", `${what}: id in ${show}`);
  assert.notEqual(ce.id, "", `${what}: id in ${show}`);
  assert.ok(typeof ce.time === "string" && !Number.isNaN(Date.parse(ce.time)), `${what}: time in ${show}`);
  if (ce.traceparent !== undefined) {
    assert.match(ce.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, `${what}: traceparent in ${show}`);
    assert.equal(ce.traceid, ce.traceparent, `${what}: traceid must repeat traceparent in ${show}`);
  }
}

function assertDeliveryHeaders(headers, what) {
  assert.match(headers["content-type"] ?? "", /^application\/cloudevents\+json/, `${what}: content-type`);
  assert.equal(headers.pubsubname, pubsub, `${what}: pubsubname header in ${JSON.stringify(headers)}`);
}

// Order-insensitive: neither Dapr nor outrigd promise delivery in publish order.
function assertSameMembers(actual, expected, what) {
  const norm = (xs) => xs.map((x) => JSON.stringify(x)).sort();
  assert.deepEqual(norm(actual), norm(expected), what);
}

// Over HTTP the SDK's publish returns { error }; over gRPC it throws { error }.
async function publishOk(topic, data, options) {
  const { error } = await outcome(client.pubsub.publish(pubsub, topic, data, options));
  assert.equal(error, undefined, `publish to ${topic} failed: ${error}`);
}

before(async () => {
  for (const topic of ["sdk-json", "sdk-text", "sdk-ce", "sdk-meta", "sdk-bulk"]) {
    await server.pubsub.subscribe(pubsub, topic, collect(topic));
  }
  // The SDK JSON-encodes subscription metadata values: true becomes "true" (a string "true" would become "\"true\"").
  await server.pubsub.subscribe(pubsub, "sdk-raw", collect("sdk-raw"), "", { rawPayload: true });
  await server.pubsub.subscribe(pubsub, "sdk-retry", retryOnce);
  await server.pubsub.subscribe(pubsub, "sdk-drop", alwaysDrop);
  // The same routing as tests/data/interop/subscriptions/decl-v2.yaml: with OUTRIG_DECLARATIVE=1 outrigd must
  // prefer that file; without it this programmatic v2 subscription (rules) is the one in force.
  await server.pubsub.subscribeWithOptions(pubsub, "sdk-decl", {
    route: { rules: [{ match: 'event.type == "com.outrig.special"', path: "special" }], default: "default" },
    callback: collect("sdk-decl"),
  });
  // decl-v1.yaml's route, which the SDK knows nothing of: served as an app would, on the same Express app.
  server.daprServer.getServer().post("/decl-v1", (req, res) => {
    record("sdk-decl-v1", req.body?.data, req.headers);
    res.send({ status: DaprPubSubStatusEnum.SUCCESS });
  });
  // Listens on OUTRIG_APP_PORT (outrigd is polling it), then waits for the sidecar like any SDK app.
  await server.start();
  await client.start();
  if (setupClient !== client) {
    await setupClient.start();
  }
  // outrigd subscribes after GET /dapr/subscribe, asynchronously; metadata lists only live subscriptions.
  const want = [...programmatic, "sdk-decl", ...(declarative ? ["sdk-decl-v1"] : [])];
  const end = Date.now() + WAIT_MS;
  let subs = [];
  while (Date.now() < end) {
    subs = await metadataSubscriptions();
    if (want.every((t) => subs.some((s) => s.topic === t))) {
      return;
    }
    await sleep(50);
  }
  assert.fail(
    `outrigd did not list the subscriptions ${want.join(", ")} within ${WAIT_MS} ms; metadata: ` +
      `${JSON.stringify(subs)}; requests the app saw:\n${describeSeen()}`,
  );
});

after(async () => {
  await server.stop();
  await client.stop();
  if (setupClient !== client) {
    await setupClient.stop();
  }
});

describe(`pub/sub through @dapr/dapr over ${protocol} against ${pubsubType ?? "pubsub"}${declarative ? " with declarative subscriptions" : ""}`, () => {
  test("outrigd asked GET /dapr/subscribe with dapr-app-id", () => {
    const asks = seen.filter((r) => r.method === "GET" && r.path === "/dapr/subscribe");
    assert.ok(asks.length >= 1, `no GET /dapr/subscribe; requests:\n${describeSeen()}`);
    assert.equal(asks[0].headers["dapr-app-id"], appId);
  });

  test("metadata reports the pub/sub component", async () => {
    const md = await client.metadata.get();
    const comp = (md.components ?? []).find((c) => c.name === pubsub);
    assert.ok(comp, `component ${pubsub} missing from ${JSON.stringify(md.components)}`);
    if (pubsubType) {
      assert.equal(comp.type, pubsubType);
    }
    assert.equal(comp.version, "v1");
  });

  const noSubscriptions =
    "GRPCClientMetadata.get maps id, actors, extended metadata and components, and drops " +
    "GetMetadataResponse.subscriptions (SDK limitation)";
  test("metadata reports the SDK's subscriptions with their routes", { skip: grpcSkip(noSubscriptions) }, async () => {
    const md = await client.metadata.get();
    const subs = md.subscriptions;
    for (const topic of programmatic) {
      const sub = subs.find((s) => s.topic === topic);
      assert.equal(sub.pubsubname, pubsub, `pubsubname of ${topic}: ${JSON.stringify(sub)}`);
      assert.equal(sub.type, "PROGRAMMATIC", `type of ${topic}: ${JSON.stringify(sub)}`);
      assert.ok(
        sub.rules.some((r) => r.path === sdkPath(topic)),
        `rules of ${topic} lack ${sdkPath(topic)}: ${JSON.stringify(sub)}`,
      );
    }
    const raw = subs.find((s) => s.topic === "sdk-raw");
    assert.equal(raw.metadata?.rawPayload, "true", `metadata of sdk-raw: ${JSON.stringify(raw)}`);
    const decl = subs.find((s) => s.topic === "sdk-decl");
    assert.equal(subs.filter((s) => s.topic === "sdk-decl").length, 1, `one subscription per topic: ${JSON.stringify(subs)}`);
    assert.equal(decl.type, declarative ? "DECLARATIVE" : "PROGRAMMATIC", `type of sdk-decl: ${JSON.stringify(decl)}`);
    const special = decl.rules.find((r) => r.path === sdkPath("sdk-decl", "special"));
    assert.ok(special, `rules of sdk-decl: ${JSON.stringify(decl)}`);
    assert.equal(special.match, 'event.type == "com.outrig.special"');
    if (declarative) {
      const v1 = subs.find((s) => s.topic === "sdk-decl-v1");
      assert.equal(v1.type, "DECLARATIVE", JSON.stringify(v1));
      assert.ok(v1.rules.some((r) => r.path === "/decl-v1"), JSON.stringify(v1));
      assert.equal(subs.find((s) => s.topic === "sdk-hidden"), undefined, "a subscription scoped to another app");
    }
  });

  test("JSON objects and arrays reach the handler unchanged, in a CloudEvent", async () => {
    const values = [
      { run, name: "Tatooine", moons: 3, ratio: 0.25, tags: ["desert", "binary"], nested: { ok: true, none: null } },
      { run, unicode: "héllo wörld ✓ 😀", quote: 'say "hi"\n\ttab', empty: "" },
      [run, 1, "two", { three: 3 }, [], false],
    ];
    for (const v of values) {
      await publishOk("sdk-json", v);
    }
    await waitFor("3 JSON events", () => got("sdk-json").length >= values.length);
    assertSameMembers(
      got("sdk-json").map((m) => m.data),
      values,
      "data",
    );
    for (const m of got("sdk-json")) {
      assertDeliveryHeaders(m.headers, "sdk-json");
    }
    const bodies = deliveriesTo(sdkPath("sdk-json")).map((r) => r.body);
    assert.equal(bodies.length, values.length);
    for (const ce of bodies) {
      assertEnvelope(ce, "sdk-json", "JSON publish");
      assert.equal(ce.type, "com.dapr.event.sent");
      assert.equal(ce.source, appId);
      assert.equal(ce.datacontenttype, "application/json");
    }
    assert.equal(new Set(bodies.map((ce) => ce.id)).size, values.length, "each event has its own id");
  });

  test("strings arrive as text/plain strings, never parsed as JSON", async () => {
    const values = [`plain ${run}`, "héllo ✓", '{"looks":"like json"}', "[1,2]", "42"];
    for (const v of values) {
      await publishOk("sdk-text", v);
    }
    await waitFor("text events", () => got("sdk-text").length >= values.length);
    assertSameMembers(
      got("sdk-text").map((m) => m.data),
      values,
      "data",
    );
    for (const ce of deliveriesTo(sdkPath("sdk-text")).map((r) => r.body)) {
      assertEnvelope(ce, "sdk-text", "text publish");
      assert.equal(ce.datacontenttype, "text/plain");
      assert.equal(typeof ce.data, "string");
    }
  });

  test("a CloudEvent is passed through: its id, source, type and extensions are kept", async () => {
    const ce = {
      specversion: "1.0",
      id: `ce-${run}`,
      source: "interop-test",
      type: "com.outrig.order",
      subject: "order-1",
      datacontenttype: "application/json",
      myextension: "kept",
      topic: "not-this-topic",
      data: { order: 1, items: ["a", "b"] },
    };
    await publishOk("sdk-ce", ce);
    await waitFor("the CloudEvent", () => got("sdk-ce").length >= 1);
    assert.deepEqual(got("sdk-ce")[0].data, ce.data);
    assertDeliveryHeaders(got("sdk-ce")[0].headers, "sdk-ce");
    const body = deliveriesTo(sdkPath("sdk-ce"))[0].body;
    assertEnvelope(body, "sdk-ce", "CloudEvent publish");
    for (const field of ["id", "source", "type", "subject", "datacontenttype", "myextension"]) {
      assert.equal(body[field], ce[field], `${field} in ${JSON.stringify(body)}`);
    }
  });

  test("metadata cloudevent.* overrides the envelope; ttlInSeconds still delivers", async () => {
    const id = `meta-${run}`;
    await publishOk("sdk-meta", { which: "overrides" }, {
      metadata: {
        "cloudevent.id": id,
        "cloudevent.source": "meta-source",
        "cloudevent.type": "com.outrig.meta",
        "cloudevent.subject": "meta-subject",
      },
    });
    await publishOk("sdk-meta", { which: "ttl" }, { metadata: { ttlInSeconds: "60" } });
    await waitFor("2 events on sdk-meta", () => got("sdk-meta").length >= 2);
    const bodies = deliveriesTo(sdkPath("sdk-meta")).map((r) => r.body);
    const over = bodies.find((b) => b.data?.which === "overrides");
    assert.ok(over, JSON.stringify(bodies));
    assertEnvelope(over, "sdk-meta", "overrides");
    assert.equal(over.id, id);
    assert.equal(over.source, "meta-source");
    assert.equal(over.type, "com.outrig.meta");
    assert.equal(over.subject, "meta-subject");
    const ttl = bodies.find((b) => b.data?.which === "ttl");
    assert.ok(ttl, JSON.stringify(bodies));
    if (ttl.expiration !== undefined) {
      assert.ok(Date.parse(ttl.expiration) > Date.now(), `expiration in the future: ${JSON.stringify(ttl)}`);
    }
  });

  test("rawPayload: bytes published unwrapped reach a rawPayload subscription as data_base64", async () => {
    const obj = { run, raw: true, text: "ünïcode ✓" };
    const text = `raw text ${run} ✓`;
    await publishOk("sdk-raw", obj, { metadata: { rawPayload: true } });
    await publishOk("sdk-raw", text, { metadata: { rawPayload: true } });
    await waitFor("2 raw events", () => got("sdk-raw").length >= 2);
    // The SDK decodes data_base64 and parses it as JSON when it can.
    assertSameMembers(
      got("sdk-raw").map((m) => m.data),
      [obj, text],
      "data",
    );
    const bodies = deliveriesTo(sdkPath("sdk-raw")).map((r) => r.body);
    assertSameMembers(
      bodies.map((b) => Buffer.from(b.data_base64 ?? "", "base64").toString()),
      [JSON.stringify(obj), text],
      `the published bytes, base64-encoded: ${JSON.stringify(bodies)}`,
    );
    for (const b of bodies) {
      assert.equal(b.data, undefined, `no data next to data_base64: ${JSON.stringify(b)}`);
      assert.equal(b.datacontenttype, "application/octet-stream", JSON.stringify(b));
      assert.equal(b.topic, "sdk-raw");
      assert.equal(b.pubsubname, pubsub);
      assert.equal(typeof b.id, "string");
    }
  });

  test("a handler answering RETRY gets the same event again, and not after SUCCESS", async () => {
    await publishOk("sdk-retry", { n: 1, run });
    await waitFor("the redelivery", () => got("sdk-retry").length >= 2);
    await sleep(QUIET_MS);
    assert.equal(got("sdk-retry").length, 2, `deliveries: ${JSON.stringify(got("sdk-retry").map((m) => m.data))}`);
    assert.deepEqual(got("sdk-retry")[1].data, { n: 1, run });
    const ids = deliveriesTo(sdkPath("sdk-retry")).map((r) => r.body.id);
    assert.equal(ids.length, 2);
    assert.equal(ids[0], ids[1], "a redelivery carries the same CloudEvent id");
  });

  test("a handler answering DROP gets the event once; the subscription keeps working", async () => {
    await publishOk("sdk-drop", { n: 1, run });
    await waitFor("the first event", () => got("sdk-drop").length >= 1);
    await publishOk("sdk-drop", { n: 2, run });
    await waitFor("the second event", () => got("sdk-drop").some((m) => m.data.n === 2));
    await sleep(QUIET_MS);
    assert.deepEqual(
      got("sdk-drop").map((m) => m.data.n).sort(),
      [1, 2],
      "each dropped event is delivered exactly once",
    );
  });

  test("publishBulk delivers objects, strings and CloudEvents; no failed entries", async () => {
    const ce = {
      specversion: "1.0",
      id: `bulk-ce-${run}`,
      source: "bulk-source",
      type: "com.outrig.bulk",
      datacontenttype: "application/json",
      data: { inCe: true },
    };
    const res = await client.pubsub.publishBulk(pubsub, "sdk-bulk", [
      { run, entry: 1 },
      `bulk text ${run}`,
      { entryID: "the-cloudevent", event: ce, contentType: "application/cloudevents+json" },
    ]);
    assert.deepEqual(
      res.failedMessages.map((f) => ({ entry: f.message.entryID, error: String(f.error) })),
      [],
      "failed entries",
    );
    await waitFor("3 bulk events", () => got("sdk-bulk").length >= 3);
    const data = got("sdk-bulk").map((m) => m.data);
    for (const want of [{ run, entry: 1 }, `bulk text ${run}`, { inCe: true }]) {
      assert.ok(data.some((d) => JSON.stringify(d) === JSON.stringify(want)), `${JSON.stringify(want)} in ${JSON.stringify(data)}`);
    }
    const bodies = deliveriesTo(sdkPath("sdk-bulk")).map((r) => r.body);
    for (const b of bodies) {
      assertEnvelope(b, "sdk-bulk", "bulk entry");
    }
    const inCe = bodies.find((b) => b.data?.inCe === true);
    assert.equal(inCe.id, ce.id, JSON.stringify(inCe));
    assert.equal(inCe.source, ce.source);
    assert.equal(inCe.type, ce.type);
    assert.equal(bodies.find((b) => typeof b.data === "string")?.datacontenttype, "text/plain", JSON.stringify(bodies));
  });

  test("routing rules send matching events to their path, the rest to the default", async () => {
    await publishOk("sdk-decl", { plain: run });
    await publishOk("sdk-decl", {
      specversion: "1.0",
      id: `special-${run}`,
      source: "interop-test",
      type: "com.outrig.special",
      datacontenttype: "application/json",
      data: { special: run },
    });
    await waitFor("2 events on sdk-decl", () => got("sdk-decl").length >= 2);
    assert.deepEqual(
      deliveriesTo(sdkPath("sdk-decl", "special")).map((r) => r.body.data),
      [{ special: run }],
      "the rule's path",
    );
    assert.deepEqual(
      deliveriesTo(sdkPath("sdk-decl")).map((r) => r.body.data),
      [{ plain: run }],
      "the default path",
    );
  });

  test("a v1alpha1 declarative subscription delivers to its route", { skip: !declarative && "no declarative subscriptions loaded" }, async () => {
    await publishOk("sdk-decl-v1", { v1: run });
    await waitFor("the event on /decl-v1", () => got("sdk-decl-v1").length >= 1);
    assert.deepEqual(got("sdk-decl-v1")[0].data, { v1: run });
    assertDeliveryHeaders(got("sdk-decl-v1")[0].headers, "sdk-decl-v1");
    assertEnvelope(deliveriesTo("/decl-v1")[0].body, "sdk-decl-v1", "v1alpha1");
  });

  test("publishing to an unknown pubsub is a 404 ERR_PUBSUB_NOT_FOUND (gRPC INVALID_ARGUMENT, DAPR_PUBSUB_NOT_FOUND)", async () => {
    const { error } = await outcome(client.pubsub.publish("no-such-pubsub", "sdk-json", { x: 1 }));
    assert.ok(error, "publish to an unknown pubsub must fail");
    assertSdkError(error, {
      status: 404,
      errorCode: "ERR_PUBSUB_NOT_FOUND",
      grpc: GrpcCode.INVALID_ARGUMENT,
      reason: "DAPR_PUBSUB_NOT_FOUND",
      message: /pubsub no-such-pubsub (is )?not found/,
    });
  });

  test("no handler saw an event it was not meant to", () => {
    const known = new Set([
      ...programmatic.map((t) => sdkPath(t)),
      sdkPath("sdk-decl"),
      sdkPath("sdk-decl", "special"),
      "/decl-v1",
    ]);
    const stray = seen.filter((r) => r.method === "POST" && !known.has(r.path));
    assert.deepEqual(stray.map((r) => `${r.path} ${JSON.stringify(r.body)}`), []);
  });
});
