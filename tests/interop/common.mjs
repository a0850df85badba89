// SPDX-License-Identifier: Apache-2.0
// What the JS SDK interop tests (state_sdk.mjs, pubsub_sdk.mjs, invoke_sdk.mjs, bindings_sdk.mjs) share: the SDK's
// logger and client options, a DaprServer on the app port, waiting with a deadline, and decoding the SDK's errors.
import assert from "node:assert/strict";
import { CommunicationProtocolEnum, DaprServer, LogLevel } from "@dapr/dapr";

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

// DaprClient options for the outrigd listening on HTTP port `port` of 127.0.0.1.
export const clientOptions = (port) => ({
  daprHost: "127.0.0.1",
  daprPort: String(port),
  communicationProtocol: CommunicationProtocolEnum.HTTP,
  logger: sdkLogger,
});

// A DaprServer app on 127.0.0.1:appPort whose own client talks to the outrigd on daprPort.
export const appServer = (appPort, daprPort) =>
  new DaprServer({
    serverHost: "127.0.0.1",
    serverPort: String(appPort),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    clientOptions: clientOptions(daprPort),
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
