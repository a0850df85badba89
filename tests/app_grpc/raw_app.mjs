// SPDX-License-Identifier: Apache-2.0
// A gRPC app that gives the answers the Dapr SDKs never give, for tests/app_grpc/check_app_grpc.c: @grpc/grpc-js
// with the Dapr JS SDK's own message schemas (@bufbuild/protobuf), so the wire is checked against Dapr's
// field numbers rather than outrig's .proto files. Usage: node raw_app.mjs PORT [bare]. With "bare" it
// serves no service at all (every method answers UNIMPLEMENTED).
//   OnInvoke by method:
//     echo     answers JSON {method, verb, query, contentType, typeUrl, data (text), metadata (all of it)}
//              in an Any with the request's type_url; content type "application/json"; initial
//              metadata x-answer: yes, grpc-extra: g, x-raw-bin (binary); trailer x-trailer: t
//     typed    answers bytes 01 02 03 in an Any typed "type.googleapis.com/outrig.test.Thing"
//     nodata   answers an InvokeResponse with no data, content type "text/plain"
//     fail-N   fails with gRPC status N and message "failed with N", trailer x-why: because
//     rich     fails NOT_FOUND with grpc-status-details-bin (bytes 08 05 12 01 78: google.rpc.Status{code 5, message "x"})
//     big      answers 2 MiB of data
//     garbage  answers bytes that are no InvokeResponse
//     sleep    answers after 3 s
//     sick / well   make HealthCheck fail (UNAVAILABLE) / succeed
//     seen     answers JSON of the topic, binding and health-check requests seen so far
//   ListTopicSubscriptions: one subscription with every field set, one with only pubsub and topic
//   OnTopicEvent by topic: status-N answers status N (3 is none of SUCCESS, RETRY, DROP); unimpl fails
//     UNIMPLEMENTED; internal fails INTERNAL; else records the request and answers SUCCESS
//   ListInputBindings: ["b1", "b2"]
//   OnBindingEvent by name: fail fails ABORTED; else records the request and answers data, to,
//     concurrency PARALLEL, store_name and two states (one with etag, metadata and options)
import { createRequire } from "node:module";

const require = createRequire(new URL("../interop/package.json", import.meta.url));
const grpc = require("@grpc/grpc-js");
const { create, toBinary, fromBinary, toJson } = require("@bufbuild/protobuf");
const { AnySchema } = require("@bufbuild/protobuf/wkt");
const common = require("@dapr/dapr/proto/dapr/proto/common/v1/common_pb");
const ac = require("@dapr/dapr/proto/dapr/proto/runtime/v1/appcallback_pb");

const port = Number(process.argv[2]);
const bare = process.argv[3] === "bare";
const seen = [];
let healthy = true;

const raw = (b) => b;
const unary = (service, name, reqSchema, resSchema) => ({
  path: `/dapr.proto.runtime.v1.${service}/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: raw,
  requestDeserialize: reqSchema ? (b) => fromBinary(reqSchema, b) : raw,
  responseSerialize: (m) => (m instanceof Uint8Array ? Buffer.from(m) : Buffer.from(toBinary(resSchema, m))),
  responseDeserialize: raw,
});
const fail = (code, details, trailer) => {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(trailer ?? {})) md.set(k, v);
  return { code, details, metadata: md };
};
const metadataOf = (call) => {
  const out = {};
  for (const [k, v] of Object.entries(call.metadata.getMap())) out[k] = Buffer.isBuffer(v) ? v.toString("base64") : v;
  return out;
};

const appCallback = {
  OnInvoke: unary("AppCallback", "OnInvoke", common.InvokeRequestSchema, common.InvokeResponseSchema),
  ListTopicSubscriptions: unary("AppCallback", "ListTopicSubscriptions", null, ac.ListTopicSubscriptionsResponseSchema),
  OnTopicEvent: unary("AppCallback", "OnTopicEvent", ac.TopicEventRequestSchema, ac.TopicEventResponseSchema),
  ListInputBindings: unary("AppCallback", "ListInputBindings", null, ac.ListInputBindingsResponseSchema),
  OnBindingEvent: unary("AppCallback", "OnBindingEvent", ac.BindingEventRequestSchema, ac.BindingEventResponseSchema),
};
const healthCheck = {
  HealthCheck: unary("AppCallbackHealthCheck", "HealthCheck", null, ac.HealthCheckResponseSchema),
};

const json = (v) => new TextEncoder().encode(JSON.stringify(v));

const impl = {
  OnInvoke(call, cb) {
    const req = call.request;
    const m = req.method;
    if (m === "echo") {
      const md = new grpc.Metadata();
      md.set("x-answer", "yes");
      md.set("grpc-extra", "g");
      md.set("x-raw-bin", Buffer.from([0, 1, 2]));
      call.sendMetadata(md);
      const trailer = new grpc.Metadata();
      trailer.set("x-trailer", "t");
      const body = {
        method: m,
        hasExtension: req.httpExtension !== undefined,
        verb: req.httpExtension?.verb ?? null,
        query: req.httpExtension?.querystring ?? null,
        contentType: req.contentType,
        hasData: req.data !== undefined,
        typeUrl: req.data?.typeUrl ?? null,
        data: req.data ? Buffer.from(req.data.value).toString("latin1") : null,
        metadata: metadataOf(call),
      };
      const data = create(AnySchema, { typeUrl: req.data?.typeUrl ?? "", value: json(body) });
      return cb(null, create(common.InvokeResponseSchema, { data, contentType: "application/json" }), trailer);
    }
    if (m === "typed") {
      const data = create(AnySchema, { typeUrl: "type.googleapis.com/outrig.test.Thing", value: new Uint8Array([1, 2, 3]) });
      return cb(null, create(common.InvokeResponseSchema, { data, contentType: "ignored/when-typed" }));
    }
    if (m === "nodata") return cb(null, create(common.InvokeResponseSchema, { contentType: "text/plain" }));
    if (m.startsWith("fail-")) {
      const n = Number(m.slice(5));
      return cb(fail(n, `failed with ${n}`, { "x-why": "because" }));
    }
    if (m === "rich") {
      const md = new grpc.Metadata();
      md.set("grpc-status-details-bin", Buffer.from([8, 5, 0x12, 1, 0x78]));
      return cb({ code: grpc.status.NOT_FOUND, details: "x", metadata: md });
    }
    if (m === "big") {
      const data = create(AnySchema, { value: new Uint8Array(2 << 20).fill(0x61) });
      return cb(null, create(common.InvokeResponseSchema, { data, contentType: "text/plain" }));
    }
    if (m === "garbage") return cb(null, new Uint8Array([0xff, 0xff, 0xff]));
    if (m === "sleep") return setTimeout(() => cb(null, create(common.InvokeResponseSchema, {})), 3000);
    if (m === "sick" || m === "well") {
      healthy = m === "well";
      return cb(null, create(common.InvokeResponseSchema, {}));
    }
    if (m === "seen") {
      const data = create(AnySchema, { value: json(seen) });
      return cb(null, create(common.InvokeResponseSchema, { data, contentType: "application/json" }));
    }
    return cb(fail(grpc.status.NOT_FOUND, `no method ${m}`));
  },
  ListTopicSubscriptions(call, cb) {
    cb(null, create(ac.ListTopicSubscriptionsResponseSchema, {
      subscriptions: [
        create(ac.TopicSubscriptionSchema, {
          pubsubName: "ps",
          topic: "full",
          metadata: { rawPayload: "true", priority: "high" },
          routes: create(ac.TopicRoutesSchema, {
            rules: [
              create(ac.TopicRuleSchema, { match: 'event.type == "a"', path: "/a" }),
              create(ac.TopicRuleSchema, { match: 'event.type == "b"', path: "/b" }),
            ],
            default: "/other",
          }),
          deadLetterTopic: "dlq",
          bulkSubscribe: create(ac.BulkSubscribeConfigSchema, { enabled: true, maxMessagesCount: 50, maxAwaitDurationMs: 250 }),
        }),
        create(ac.TopicSubscriptionSchema, { pubsubName: "ps", topic: "plain" }),
      ],
    }));
  },
  OnTopicEvent(call, cb) {
    const req = call.request;
    if (req.topic.startsWith("status-")) return cb(null, create(ac.TopicEventResponseSchema, { status: Number(req.topic.slice(7)) }));
    if (req.topic === "unimpl") return cb(fail(grpc.status.UNIMPLEMENTED, "no events here"));
    if (req.topic === "internal") return cb(fail(grpc.status.INTERNAL, "broken inside"));
    const rec = toJson(ac.TopicEventRequestSchema, req);
    rec.metadata = metadataOf(call);
    seen.push({ kind: "topic", request: rec });
    cb(null, create(ac.TopicEventResponseSchema, { status: 0 }));
  },
  ListInputBindings(call, cb) {
    cb(null, create(ac.ListInputBindingsResponseSchema, { bindings: ["b1", "b2"] }));
  },
  OnBindingEvent(call, cb) {
    const req = call.request;
    if (req.name === "fail") return cb(fail(grpc.status.ABORTED, "binding refused"));
    const rec = toJson(ac.BindingEventRequestSchema, req);
    rec.grpcMetadata = metadataOf(call);
    seen.push({ kind: "binding", request: rec });
    cb(null, create(ac.BindingEventResponseSchema, {
      storeName: "store",
      states: [
        create(common.StateItemSchema, {
          key: "k1",
          value: new TextEncoder().encode("v1"),
          etag: create(common.EtagSchema, { value: "7" }),
          metadata: { ttlInSeconds: "60" },
          options: create(common.StateOptionsSchema, { concurrency: 1, consistency: 2 }),
        }),
        create(common.StateItemSchema, { key: "k2", value: new TextEncoder().encode("v2") }),
      ],
      to: ["out1", "out2"],
      data: new TextEncoder().encode("answer"),
      concurrency: 1,
    }));
  },
  HealthCheck(call, cb) {
    seen.push({ kind: "health", metadata: metadataOf(call) });
    if (!healthy) return cb(fail(grpc.status.UNAVAILABLE, "the app is sick"));
    cb(null, create(ac.HealthCheckResponseSchema, {}));
  },
};

// TLS when OUTRIG_TEST_TLS_CERT and OUTRIG_TEST_TLS_KEY name PEM files (tests/interop/app_grpcs.mjs), else h2c.
const serverCredentials = () => {
  const { OUTRIG_TEST_TLS_CERT: cert, OUTRIG_TEST_TLS_KEY: key } = process.env;
  if (!cert || !key) return grpc.ServerCredentials.createInsecure();
  const fs = require("node:fs");
  return grpc.ServerCredentials.createSsl(null, [{ cert_chain: fs.readFileSync(cert), private_key: fs.readFileSync(key) }], false);
};

const server = new grpc.Server();
if (!bare) {
  server.addService(appCallback, impl);
  server.addService(healthCheck, impl);
}
server.bindAsync(`127.0.0.1:${port}`, serverCredentials(), (err) => {
  if (err) {
    console.error(`raw_app.mjs: cannot listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`raw_app.mjs: AppCallback on 127.0.0.1:${port}${bare ? " (bare: no service)" : ""}`);
});
