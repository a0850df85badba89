// SPDX-License-Identifier: Apache-2.0
// outrigd --app-protocol grpc with tests/app_grpc/raw_app.mjs as the app (grpc-js with Dapr's schemas, for answers
// the SDK's DaprServer never gives): typed data both ways through InvokeService, an app's gRPC status to gRPC and
// HTTP callers, of this sidecar and of another one, input bindings chosen by ListInputBindings, and an app whose
// HealthCheck starts failing.
//
// outrigd runs with --resources-path tests/data/interop/app_grpc_raw, --app-protocol grpc, --app-port
// OUTRIG_APP_PORT, --enable-app-health-check, --app-health-probe-interval 1 and --app-health-threshold 1, and
// APP_API_TOKEN=token-for-the-app in its environment; a second outrigd, "caller", without an app, shares its
// --data-dir (name resolution). Environment: DAPR_HTTP_PORT, DAPR_GRPC_PORT (the first outrigd's), CALLER_HTTP_PORT,
// CALLER_GRPC_PORT (the second's).
// Run with `node --test app_grpc_raw.mjs`.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { CommunicationProtocolEnum, DaprClient } from "@dapr/dapr";
import { sdkLogger, sleep, until } from "./common.mjs";

const require = createRequire(import.meta.url);
const grpcjs = require("@grpc/grpc-js");
const { create, toBinary } = require("@bufbuild/protobuf");
const { AnySchema } = require("@bufbuild/protobuf/wkt");
const common = require("@dapr/dapr/proto/dapr/proto/common/v1/common_pb");
const dapr = require("@dapr/dapr/proto/dapr/proto/runtime/v1/dapr_pb");

const httpPort = process.env.DAPR_HTTP_PORT;
const grpcPort = process.env.DAPR_GRPC_PORT;
const callerHttpPort = process.env.CALLER_HTTP_PORT;
const callerGrpcPort = process.env.CALLER_GRPC_PORT;
if (!httpPort || !grpcPort || !callerHttpPort || !callerGrpcPort) {
  throw new Error(
    "app_grpc_raw.mjs: set DAPR_HTTP_PORT and DAPR_GRPC_PORT (the app's outrigd's ports), CALLER_HTTP_PORT and " +
      "CALLER_GRPC_PORT (those of an outrigd without an app sharing its name resolution)",
  );
}

const grpcClient = (port) =>
  new DaprClient({
    daprHost: "127.0.0.1",
    daprPort: String(port),
    communicationProtocol: CommunicationProtocolEnum.GRPC,
    logger: sdkLogger,
  });
const client = grpcClient(grpcPort);
const callerClient = grpcClient(callerGrpcPort);
after(async () => {
  await client.stop();
  await callerClient.stop();
});

const POST = 3; // HTTPExtension.Verb: NONE 0, GET 1, HEAD 2, POST 3

// InvokeService through the SDK's own connect client, with data typed as typeUrl; POST, or no HTTPExtension.
async function invokeService(method, value, typeUrl = "", extension = true, via = client) {
  const grpc = await via.daprClient.getClient();
  return grpc.invokeService(
    create(dapr.InvokeServiceRequestSchema, {
      id: "myapp",
      message: create(common.InvokeRequestSchema, {
        method,
        httpExtension: extension ? create(common.HTTPExtensionSchema, { verb: POST }) : undefined,
        data: create(AnySchema, { typeUrl, value }),
        contentType: "application/json",
      }),
    }),
  );
}

const invokeHttp = (path, port = httpPort) =>
  fetch(`http://127.0.0.1:${port}/v1.0/invoke/myapp/method/${path}`, { method: "POST" });

const healthy = () =>
  until("the app to become healthy", async () => {
    const r = await invokeHttp("nodata");
    return { ok: r.status === 200, why: `${r.status} ${await r.text()}` };
  });

const seen = async () => JSON.parse(Buffer.from((await invokeService("seen", new Uint8Array())).data.value).toString());

test("a gRPC caller's type_url reaches the app with APP_API_TOKEN, and the app's type_url reaches the caller", async () => {
  await healthy();
  const echo = await invokeService("echo", new TextEncoder().encode("{}"), "type.googleapis.com/outrig.test.In");
  const body = JSON.parse(Buffer.from(echo.data.value).toString());
  assert.equal(body.typeUrl, "type.googleapis.com/outrig.test.In");
  assert.equal(body.metadata["dapr-api-token"], "token-for-the-app", JSON.stringify(body.metadata));
  const typed = await invokeService("typed", new Uint8Array());
  assert.equal(typed.data.typeUrl, "type.googleapis.com/outrig.test.Thing");
  assert.deepEqual([...typed.data.value], [1, 2, 3]);
});

// InvokeService of method through grpc-js, which shows headers and trailers as they came (the SDK's connect client
// decodes them): { err, headers, trailers } as grpc-js metadata maps.
async function rawInvoke(method) {
  const raw = new grpcjs.Client(`127.0.0.1:${grpcPort}`, grpcjs.credentials.createInsecure());
  const req = create(dapr.InvokeServiceRequestSchema, {
    id: "myapp",
    message: create(common.InvokeRequestSchema, {
      method,
      httpExtension: create(common.HTTPExtensionSchema, { verb: POST }),
    }),
  });
  const out = { headers: {}, trailers: {} };
  await new Promise((resolve) => {
    const call = raw.makeUnaryRequest(
      "/dapr.proto.runtime.v1.Dapr/InvokeService",
      (m) => Buffer.from(toBinary(dapr.InvokeServiceRequestSchema, m)),
      (b) => b,
      req,
      (e) => {
        out.err = e;
      },
    );
    call.on("metadata", (md) => {
      out.headers = md.getMap();
    });
    call.on("status", (st) => {
      out.trailers = st.metadata.getMap();
      resolve();
    });
  });
  raw.close();
  return out;
}

test("the app's metadata reaches a gRPC caller: headers as headers, trailers as trailers, gRPC's own left out", async () => {
  await healthy();
  const ok = await rawInvoke("echo");
  assert.ok(!ok.err, String(ok.err));
  assert.equal(ok.headers["x-answer"], "yes", JSON.stringify(ok.headers));
  assert.equal(ok.headers["grpc-extra"], undefined, JSON.stringify(ok.headers));
  assert.equal(ok.trailers["x-trailer"], "t", JSON.stringify(ok.trailers));
  const failed = await rawInvoke("fail-5");
  assert.equal(failed.err?.code, 5, String(failed.err));
  assert.equal(failed.trailers["x-why"], "because", JSON.stringify(failed.trailers));
});

test("the app's grpc-status-details-bin reaches a gRPC caller as the app sent it", async () => {
  await healthy();
  const { err } = await rawInvoke("rich");
  assert.ok(err, "rich succeeded");
  assert.equal(err.code, 5, String(err));
  const details = err.metadata.get("grpc-status-details-bin");
  assert.equal(details.length, 1, `details: ${JSON.stringify(err.metadata.getMap())}`);
  assert.deepEqual([...details[0]], [8, 5, 0x12, 1, 0x78]);
});

test("a gRPC caller's call without an HTTPExtension reaches the gRPC app without one, as daprd passes it", async () => {
  await healthy();
  const echo = await invokeService("echo", new TextEncoder().encode("{}"), "", false);
  const body = JSON.parse(Buffer.from(echo.data.value).toString());
  assert.equal(body.hasExtension, false, JSON.stringify(body));
  assert.equal(body.method, "echo");
});

test("the app's gRPC status reaches a gRPC caller as it is, and an HTTP caller as daprd maps it", async () => {
  await healthy();
  let caught;
  try {
    await invokeService("fail-5", new Uint8Array());
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, "fail-5 succeeded");
  assert.equal(caught.code, 5, String(caught));
  assert.match(caught.rawMessage ?? caught.message, /failed with 5/);
  const r = await invokeHttp("fail-5");
  assert.equal(r.status, 404, await r.text());
});

test("HTTP and gRPC callers of another sidecar reach the gRPC app through the sidecar-to-sidecar protocol", async () => {
  await healthy();
  const r = await invokeHttp("echo?q=1", callerHttpPort);
  const text = await r.text();
  assert.equal(r.status, 200, text);
  const viaHttp = JSON.parse(text);
  assert.equal(viaHttp.query, "q=1");
  assert.equal(viaHttp.metadata["dapr-caller-app-id"], "caller", text);
  const viaGrpc = await invokeService("echo", new TextEncoder().encode("{}"), "", true, callerClient);
  const body = JSON.parse(Buffer.from(viaGrpc.data.value).toString());
  assert.equal(body.method, "echo");
  assert.equal(body.metadata["dapr-caller-app-id"], "caller", JSON.stringify(body));
  // The app's NOT_FOUND crosses as HTTP 404, which the caller's sidecar turns back into NOT_FOUND.
  let caught;
  try {
    await invokeService("fail-5", new Uint8Array(), "", true, callerClient);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught, "fail-5 through the caller's sidecar succeeded");
  assert.equal(caught.code, 5, String(caught));
});

test("only the input bindings the app lists in ListInputBindings are started, each named as its component", async () => {
  await healthy();
  const named = (s, name) => s.some((e) => e.kind === "binding" && e.request.name === name);
  await until("events of b1 and b2", async () => {
    const s = await seen();
    return { ok: named(s, "b1") && named(s, "b2"), why: JSON.stringify(s) };
  });
  await sleep(1500);
  const s = await seen();
  assert.ok(!s.some((e) => e.kind === "binding" && !["b1", "b2"].includes(e.request.name)), JSON.stringify(s));
});

test("an app whose HealthCheck fails becomes unhealthy: calls to it are refused", async () => {
  await healthy();
  await invokeService("sick", new Uint8Array());
  await until("calls to be refused", async () => {
    const r = await invokeHttp("nodata");
    const text = await r.text();
    return { ok: r.status === 500 && /not in a healthy state/.test(text), why: `${r.status} ${text}` };
  });
});
