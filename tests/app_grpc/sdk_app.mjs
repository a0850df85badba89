// SPDX-License-Identifier: Apache-2.0
// A gRPC app written with the real Dapr JS SDK (DaprServer, communicationProtocol GRPC), for
// tests/app_grpc/check_app_grpc.c. Usage: node sdk_app.mjs PORT. Serves AppCallback on 127.0.0.1:PORT:
//   invoke   POST echo   answers {body, query, contentType} of the call
//            GET  hello  answers "hi"
//            POST throw  throws (the SDK turns that into a gRPC error)
//            GET  seen   answers what the topic and binding handlers saw, in order
//   pubsub   "pubsub"/"orders": answers the event's data.answer (SUCCESS, RETRY or DROP)
//            "pubsub"/"routed": routes {rules [type == "big" -> /big], default /fallback}, dead letter
//            topic "dead", metadata {rawPayload: true}
//   binding  "mybinding": records the data
// DaprServer.start() starts this server and then waits for a sidecar to answer GetMetadata over gRPC;
// the app side needs no sidecar, so only the server half is started (the object start() starts first).
import { createRequire } from "node:module";

const require = createRequire(new URL("../interop/package.json", import.meta.url));
const { CommunicationProtocolEnum, DaprServer, DaprPubSubStatusEnum, HttpMethod, LogLevel } = require("@dapr/dapr");

const port = process.argv[2];
const seen = [];

const server = new DaprServer({
  serverHost: "127.0.0.1",
  serverPort: port,
  communicationProtocol: CommunicationProtocolEnum.GRPC,
  // The app's own client is never started: no sidecar is asked for anything.
  clientOptions: { daprHost: "127.0.0.1", daprPort: "1", communicationProtocol: CommunicationProtocolEnum.GRPC },
  logger: { level: LogLevel.Error },
});

await server.invoker.listen("echo", async (data) => ({ body: data.body, query: data.query ?? null,
  contentType: data.metadata?.contentType ?? null }), { method: HttpMethod.POST });
await server.invoker.listen("hello", async () => "hi", { method: HttpMethod.GET });
await server.invoker.listen("throw", async () => { throw new Error("the handler failed on purpose"); },
  { method: HttpMethod.POST });
await server.invoker.listen("seen", async () => seen, { method: HttpMethod.GET });

await server.pubsub.subscribe("pubsub", "orders", async (data, headers) => {
  seen.push({ kind: "topic", topic: "orders", data, token: headers["dapr-api-token"] ?? null,
    custom: headers["x-custom"] ?? null });
  return DaprPubSubStatusEnum[data?.answer] ?? DaprPubSubStatusEnum.SUCCESS;
});
await server.pubsub.subscribeWithOptions("pubsub", "routed", {
  route: { default: "/fallback", rules: [{ match: 'event.type == "big"', path: "/big" }] },
  deadLetterTopic: "dead",
  metadata: { rawPayload: true },
  callback: async (data) => {
    seen.push({ kind: "topic", topic: "routed", data });
    return DaprPubSubStatusEnum.SUCCESS;
  },
});

await server.binding.receive("mybinding", async (data) => {
  seen.push({ kind: "binding", data });
});

await server.getDaprClient().start("127.0.0.1", port);
console.log(`sdk_app.mjs: AppCallback on 127.0.0.1:${port}`);
