// SPDX-License-Identifier: Apache-2.0
// A gRPC app for tests/app_grpc/check_resiliency_grpc_app.c: pub/sub and input-binding deliveries that hang or fail
// with chosen gRPC status codes, so a Resiliency file's inbound timeout and matching.gRPCStatusCodes can be seen
// at work. @grpc/grpc-js with the Dapr JS SDK's own message schemas. Usage: node resil_app.mjs PORT.
// Each OnTopicEvent and OnBindingEvent is written to stdout as one JSON line {at (ms), kind, name} before it is
// answered. By topic (pubsub "pubsub") or binding name:
//   hang      answers SUCCESS (topic) or an empty answer (binding) after 3 s
//   unavail   fails UNAVAILABLE (14)
//   internal  fails INTERNAL (13); the topic's dead-letter topic is "dead"
//   else      succeeds at once
import { createRequire } from "node:module";

const require = createRequire(new URL("../interop/package.json", import.meta.url));
const grpc = require("@grpc/grpc-js");
const { create, toBinary, fromBinary } = require("@bufbuild/protobuf");
const ac = require("@dapr/dapr/proto/dapr/proto/runtime/v1/appcallback_pb");

const port = Number(process.argv[2]);
const raw = (b) => b;
const unary = (name, reqSchema, resSchema) => ({
  path: `/dapr.proto.runtime.v1.AppCallback/${name}`,
  requestStream: false,
  responseStream: false,
  requestSerialize: raw,
  requestDeserialize: reqSchema ? (b) => fromBinary(reqSchema, b) : raw,
  responseSerialize: (m) => Buffer.from(toBinary(resSchema, m)),
  responseDeserialize: raw,
});
const service = {
  ListTopicSubscriptions: unary("ListTopicSubscriptions", null, ac.ListTopicSubscriptionsResponseSchema),
  OnTopicEvent: unary("OnTopicEvent", ac.TopicEventRequestSchema, ac.TopicEventResponseSchema),
  ListInputBindings: unary("ListInputBindings", null, ac.ListInputBindingsResponseSchema),
  OnBindingEvent: unary("OnBindingEvent", ac.BindingEventRequestSchema, ac.BindingEventResponseSchema),
};
const seen = (kind, name) => console.log(JSON.stringify({ at: Date.now(), kind, name }));
// Answers per name: what OnTopicEvent and OnBindingEvent share.
const answer = (name, ok, cb) => {
  if (name === "hang") return setTimeout(() => cb(null, ok()), 3000);
  if (name === "unavail") return cb({ code: grpc.status.UNAVAILABLE, details: "unavailable on purpose" });
  if (name === "internal") return cb({ code: grpc.status.INTERNAL, details: "internal on purpose" });
  return cb(null, ok());
};

const impl = {
  ListTopicSubscriptions(call, cb) {
    const sub = (topic, more) => create(ac.TopicSubscriptionSchema, { pubsubName: "pubsub", topic, ...more });
    cb(null, create(ac.ListTopicSubscriptionsResponseSchema, {
      subscriptions: [sub("hang"), sub("fine"), sub("unavail"), sub("internal", { deadLetterTopic: "dead" }), sub("dead")],
    }));
  },
  OnTopicEvent(call, cb) {
    seen("topic", call.request.topic);
    answer(call.request.topic, () => create(ac.TopicEventResponseSchema, { status: 0 }), cb);
  },
  ListInputBindings(call, cb) {
    cb(null, create(ac.ListInputBindingsResponseSchema, { bindings: ["hang", "unavail", "internal"] }));
  },
  OnBindingEvent(call, cb) {
    seen("binding", call.request.name);
    answer(call.request.name, () => create(ac.BindingEventResponseSchema, {}), cb);
  },
};

const server = new grpc.Server();
server.addService(service, impl);
server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    console.error(`resil_app.mjs: cannot listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`resil_app.mjs: AppCallback on 127.0.0.1:${port}`);
});
