// SPDX-License-Identifier: Apache-2.0
// What the JS SDK interop tests (state_sdk.mjs, pubsub_sdk.mjs, invoke_sdk.mjs, bindings_sdk.mjs) share: the SDK's
// logger and client options, a DaprServer on the app port, waiting with a deadline, and decoding the SDK's errors.
//
// OUTRIG_SDK_PROTOCOL=http|grpc (default http) picks the protocol of the DaprClient under test: over grpc it talks to
// outrigd's DAPR_GRPC_PORT. The app side (DaprServer) and its own client stay HTTP whatever the switch says.
import assert from "node:assert/strict";
import { CommunicationProtocolEnum, DaprServer, LogLevel } from "@dapr/dapr";

export const protocol = process.env.OUTRIG_SDK_PROTOCOL ?? "http";
if (protocol !== "http" && protocol !== "grpc") {
  throw new Error(`OUTRIG_SDK_PROTOCOL is "${protocol}"; set it to http or grpc`);
}
export const overGrpc = protocol === "grpc";
const grpcPort = process.env.DAPR_GRPC_PORT;
if (overGrpc && !grpcPort) {
  throw new Error("OUTRIG_SDK_PROTOCOL=grpc: set DAPR_GRPC_PORT to outrigd's --dapr-grpc-port");
}

// How long a test waits for outrigd to do something asynchronous (deliver, subscribe, reach the other app).
export const WAIT_MS = 15000;

// The SDK logs failed calls at error level, including those the tests provoke on purpose; prefix its lines so
// they are not mistaken for test failures.
export const sdkLogger = {
  level: LogLevel.Warn,
  service: {
    error: (m, ...r) => console.error("[sdk error]", m, ...r),
    warn: (m, ...r) => console.error("[sdk warn]", m, ...r),
    info: () => {},
    verbose: () => {},
    debug: () => {},
  },
};

// DaprClient options for the outrigd listening on HTTP port `port` of 127.0.0.1, always over HTTP.
export const httpClientOptions = (port) => ({
  daprHost: "127.0.0.1",
  daprPort: String(port),
  communicationProtocol: CommunicationProtocolEnum.HTTP,
  logger: sdkLogger,
});

// DaprClient options over gRPC to the outrigd whose --dapr-grpc-port is `port`.
export const grpcClientOptions = (port) => ({
  daprHost: "127.0.0.1",
  daprPort: String(port),
  communicationProtocol: CommunicationProtocolEnum.GRPC,
  logger: sdkLogger,
});

// Options of the DaprClient under test, in the protocol OUTRIG_SDK_PROTOCOL names: the outrigd with HTTP port
// `httpPort`, or over gRPC its port `grpcPortOf` (DAPR_GRPC_PORT unless the test talks to another outrigd).
export const clientOptions = (httpPort, grpcPortOf = grpcPort) =>
  overGrpc ? grpcClientOptions(grpcPortOf) : httpClientOptions(httpPort);

// The reason a case cannot run over this protocol, for node:test's `skip` (which prints it), or false.
export const grpcSkip = (reason) => overGrpc && `the SDK over gRPC: ${reason}`;

// A DaprServer app on 127.0.0.1:appPort whose own client talks to the outrigd on daprPort, over HTTP.
export const appServer = (appPort, daprPort) =>
  new DaprServer({
    serverHost: "127.0.0.1",
    serverPort: String(appPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: httpClientOptions(daprPort),
    logger: sdkLogger,
  });

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Polls fn until it returns something truthy and returns that; fails after ms, with describe() (what the app saw).
export async function waitFor(what, fn, describe, ms = WAIT_MS) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) {
      return v;
    }
    if (Date.now() > end) {
      assert.fail(`timed out after ${ms} ms waiting for ${what}; requests the app saw:\n${describe()}`);
    }
    await sleep(25);
  }
}

// Polls the async fn until it returns {ok: true, ...} and returns that; fails after ms with the last answer's why.
export async function until(what, fn, ms = WAIT_MS) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last.ok) {
      return last;
    }
    if (Date.now() > end) {
      assert.fail(`timed out after ${ms} ms waiting for ${what}; last: ${last.why}`);
    }
    await sleep(50);
  }
}

// HTTPClient.execute turns any status outside 200..399 into Error(JSON.stringify({error, error_msg, status}));
// error_msg is the raw response body. Returns { status, raw (the body), body (parsed, or null if not JSON) }.
export function decodeSdkError(err) {
  assert.ok(err instanceof Error, `expected an Error from the SDK, got ${String(err)}`);
  let outer;
  try {
    outer = JSON.parse(err.message);
  } catch {
    assert.fail(`not the SDK's HTTP error (the call did not reach a status): ${err.message}`);
  }
  let body = null;
  try {
    body = JSON.parse(outer.error_msg);
  } catch {
    // Some bodies are not JSON; callers assert on raw or body.
  }
  return { status: outer.status, raw: outer.error_msg, body };
}

// gRPC status codes by name (the numbers are gRPC's; ConnectError.code uses the same).
export const GrpcCode = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
});
export const grpcCodeName = (code) => Object.keys(GrpcCode).find((k) => GrpcCode[k] === code) ?? `code ${code}`;

// Just enough protobuf to read google.rpc.ErrorInfo {1 reason, 2 domain, 3 map<string,string> metadata} out of a
// detail of grpc-status-details-bin; the SDK ships no descriptor for it. Returns null if the bytes are not that.
function readErrorInfo(bytes) {
  let pos = 0;
  const varint = (buf) => {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= buf.length) {
        throw new Error("truncated varint");
      }
      const b = buf[pos++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) {
        return v;
      }
    }
    throw new Error("varint too long");
  };
  // Calls onField(number, bytes) for each length-delimited field of buf; skips varints, fails on other types.
  const fields = (buf, onField) => {
    const saved = pos;
    pos = 0;
    while (pos < buf.length) {
      const tag = varint(buf);
      if ((tag & 7) === 0) {
        varint(buf);
        continue;
      }
      if ((tag & 7) !== 2) {
        throw new Error(`wire type ${tag & 7}`);
      }
      const len = varint(buf);
      if (pos + len > buf.length) {
        throw new Error("truncated field");
      }
      const value = buf.subarray(pos, pos + len);
      pos += len;
      onField(tag >>> 3, value);
    }
    pos = saved;
  };
  const text = (b) => Buffer.from(b).toString("utf8");
  try {
    const info = { reason: "", domain: "", metadata: {} };
    fields(bytes, (n, v) => {
      if (n === 1) {
        info.reason = text(v);
      } else if (n === 2) {
        info.domain = text(v);
      } else if (n === 3) {
        let key = "";
        let value = "";
        fields(v, (m, w) => {
          if (m === 1) {
            key = text(w);
          } else if (m === 2) {
            value = text(w);
          }
        });
        info.metadata[key] = value;
      }
    });
    return info;
  } catch {
    return null;
  }
}

// The SDK over gRPC (ConnectRPC's gRPC transport) throws a ConnectError: code (gRPC's number), rawMessage (the
// grpc-message trailer), metadata (headers and trailers) and details (the Any entries of grpc-status-details-bin,
// undecoded). A grpc-js ServiceError (code, details as the message, metadata with getMap()) is read as well.
// Returns { code, codeName, message, metadata (plain object), errorInfo (google.rpc.ErrorInfo or null) }.
export function decodeGrpcError(err) {
  assert.ok(err && typeof err === "object", `expected an error from the SDK, got ${String(err)}`);
  assert.equal(
    typeof err.code,
    "number",
    `not a gRPC error (no numeric code; the call did not reach a status): ${err.message ?? JSON.stringify(err)}`,
  );
  const metadata = {};
  if (err.metadata && typeof err.metadata.forEach === "function" && typeof err.metadata.getMap !== "function") {
    err.metadata.forEach((value, key) => {
      metadata[key] = value;
    });
  } else if (err.metadata && typeof err.metadata.getMap === "function") {
    Object.assign(metadata, err.metadata.getMap());
  }
  const message = typeof err.rawMessage === "string" ? err.rawMessage : (err.details ?? err.message);
  let errorInfo = null;
  for (const d of Array.isArray(err.details) ? err.details : []) {
    if (d && d.type === "google.rpc.ErrorInfo" && d.value instanceof Uint8Array) {
      errorInfo = readErrorInfo(d.value);
    }
  }
  return { code: err.code, codeName: grpcCodeName(err.code), message, metadata, errorInfo };
}

// pubsub.publish over gRPC throws { error } instead of returning it; HTTP save and delete return { error } where
// the gRPC ones throw. Settles an SDK call into { value } or { error } whichever way it failed.
export async function outcome(promise) {
  try {
    const value = await promise;
    if (value && typeof value === "object" && value.error !== undefined) {
      return { error: value.error };
    }
    return { value };
  } catch (e) {
    if (e && typeof e === "object" && !(e instanceof Error) && e.error !== undefined) {
      return { error: e.error };
    }
    return { error: e };
  }
}

// Checks an error the SDK surfaced, in the shape of the protocol under test. want: { status, errorCode } as daprd
// answers over HTTP, { grpc, reason } over gRPC (the code and the ErrorInfo reason of core/blocks/errors.c's table;
// reason only where daprd sends an ErrorInfo), and message: a RegExp or string the message must match/contain in
// both. Returns what was decoded, for further checks.
export function assertSdkError(err, want, what = "error") {
  if (overGrpc) {
    const e = decodeGrpcError(err);
    const show = `${e.codeName} ${JSON.stringify(e.message)} ${JSON.stringify(e.errorInfo)}`;
    assert.equal(e.codeName, grpcCodeName(want.grpc), `${what}: gRPC code (got ${show})`);
    assert.equal(typeof e.message, "string", `${what}: grpc-message (got ${show})`);
    assert.notEqual(e.message, "", `${what}: grpc-message must say what failed (got ${show})`);
    if (want.reason !== undefined) {
      assert.equal(e.errorInfo?.reason, want.reason, `${what}: ErrorInfo reason (got ${show})`);
    }
    assertMessage(e.message, want.message, `${what} (got ${show})`);
    return e;
  }
  const e = decodeSdkError(err);
  assert.equal(e.status, want.status, `${what}: HTTP status (body: ${e.raw})`);
  if (want.errorCode !== undefined) {
    assert.ok(e.body && typeof e.body === "object", `${what}: error body is not JSON: ${e.raw}`);
    assert.equal(e.body.errorCode, want.errorCode, `${what}: errorCode (body: ${e.raw})`);
    assert.equal(typeof e.body.message, "string", `${what}: message (body: ${e.raw})`);
    assertMessage(e.body.message, want.message, `${what} (body: ${e.raw})`);
  }
  return e;
}

function assertMessage(message, want, what) {
  if (want instanceof RegExp) {
    assert.match(message, want, `${what}: message`);
  } else if (typeof want === "string") {
    assert.ok(message.includes(want), `${what}: the message should name ${want}`);
  }
}
