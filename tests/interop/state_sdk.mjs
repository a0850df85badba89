// SPDX-License-Identifier: Apache-2.0
// The state API as the real Dapr JS SDK (@dapr/dapr) uses it, over HTTP or gRPC (OUTRIG_SDK_PROTOCOL, see
// common.mjs), run against a live outrigd; with both ports known, values also cross from one protocol to the other.
//
// Environment: DAPR_HTTP_PORT (outrigd's HTTP port), DAPR_GRPC_PORT (its gRPC port; required over gRPC, and for the
// cross-protocol case), OUTRIG_STORE (store name, default "statestore"), OUTRIG_STORE_TYPE (component type metadata
// must report, e.g. "state.sqlite"), OUTRIG_APP_ID (default "myapp"). Run with `node --test state_sdk.mjs`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DaprClient, StateConcurrencyEnum } from "@dapr/dapr";
import {
  GrpcCode,
  assertSdkError,
  clientOptions,
  decodeGrpcError,
  decodeSdkError,
  grpcClientOptions,
  grpcSkip,
  httpClientOptions,
  outcome,
  overGrpc,
  protocol,
} from "./common.mjs";

const port = process.env.DAPR_HTTP_PORT;
const grpcPort = process.env.DAPR_GRPC_PORT;
const store = process.env.OUTRIG_STORE ?? "statestore";
const storeType = process.env.OUTRIG_STORE_TYPE;
const appId = process.env.OUTRIG_APP_ID ?? "myapp";
if (!port) {
  throw new Error("state_sdk.mjs: set DAPR_HTTP_PORT to the port outrigd listens on");
}

const client = new DaprClient(clientOptions(port));
// One client of each protocol for the cross-protocol case, whatever OUTRIG_SDK_PROTOCOL says.
const crossClients = grpcPort
  ? { http: new DaprClient(httpClientOptions(port)), grpc: new DaprClient(grpcClientOptions(grpcPort)) }
  : null;

// Keys unique to this run, so a rerun against a persistent store starts from nothing.
const run = `${process.pid}-${Date.now()}`;
const k = (name) => `sdk-${run}-${name}`;

// Over HTTP the SDK's save and delete return { error }; over gRPC they throw. Either way: the error, or undefined.
const failureOf = async (promise) => (await outcome(promise)).error;

// HTTP status and errorCode over HTTP; over gRPC the code core/blocks/errors.c gives the same failure.
const assertDaprError = (err, want) => assertSdkError(err, want);

// Whether a rejected etag came back as malformed for the store (HTTP 400, gRPC INVALID_ARGUMENT) rather than as a
// mismatch (409, ABORTED): Dapr answers either, by the store's etag format (API.md 1.2).
const malformedEtag = (err) =>
  overGrpc ? decodeGrpcError(err).code === GrpcCode.INVALID_ARGUMENT : decodeSdkError(err).status === 400;

// GRPCClientState.transaction hands each value to Buffer.from as it is (an object or a number throws in the SDK,
// a string goes in without JSON quotes); JSON-encoding it first stores the bytes the HTTP client's JSON body does.
const txValue = (v) => (overGrpc ? JSON.stringify(v) : v);

// getBulk is the only SDK read that surfaces the etag (state.get returns just the value).
async function etagOf(key) {
  const items = await client.state.getBulk(store, [key]);
  assert.equal(items.length, 1);
  assert.equal(items[0].key, key);
  assert.equal(typeof items[0].etag, "string", `no etag for ${key} in ${JSON.stringify(items)}`);
  assert.notEqual(items[0].etag, "");
  return items[0].etag;
}

const allValues = {
  plain: "DeathStar",
  jsonLooking: '{"name":"Tatooine","moons":3}',
  quoted: '"already quoted"',
  unicode: "héllo wörld ✓",
  object: { name: "Tatooine", moons: 3, tags: ["desert", "binary"], nested: { ok: true, none: null } },
  number: 42.5,
  array: [1, "two", { three: 3 }],
  boolean: false,
};
// Strings that parse as JSON: GRPCClientState.save writes a string's bytes without JSON quotes and get JSON.parses
// what it reads, so over gRPC the SDK itself turns them into what they look like.
const jsonLookingStrings = ["jsonLooking", "quoted"];
const sdkGrpcJsonStrings =
  "GRPCClientState.save writes a string without JSON quotes and get JSON.parses it back, so a string that looks " +
  "like JSON comes back parsed (SDK limitation, not outrigd's)";
const values = Object.fromEntries(
  Object.entries(allValues).filter(([name]) => !(overGrpc && jsonLookingStrings.includes(name))),
);

before(async () => {
  // Runs the SDK's own readiness poll (GET /v1.0/metadata, or GetMetadata over gRPC) before any state call.
  await client.start();
  if (crossClients) {
    await crossClients.http.start();
    await crossClients.grpc.start();
  }
});

after(async () => {
  await client.stop();
  if (crossClients) {
    await crossClients.http.stop();
    await crossClients.grpc.stop();
  }
});

describe(`state API through @dapr/dapr over ${protocol} against store "${store}"`, () => {
  test("save several items of different JSON types", async () => {
    const err = await failureOf(
      client.state.save(
        store,
        Object.entries(values).map(([name, value]) => ({ key: k(name), value })),
      ),
    );
    assert.equal(err, undefined, `save failed: ${err}`);
  });

  test("get round-trips every value exactly", async () => {
    for (const [name, value] of Object.entries(values)) {
      const got = await client.state.get(store, k(name));
      assert.deepEqual(got, value, `value of ${name}`);
    }
  });

  test("a string that looks like JSON comes back as that string, not parsed", { skip: grpcSkip(sdkGrpcJsonStrings) }, async () => {
    const got = await client.state.get(store, k("jsonLooking"));
    assert.equal(typeof got, "string");
    assert.equal(got, values.jsonLooking);
  });

  test("get of a missing key yields the SDK's empty result (204)", async () => {
    assert.equal(await client.state.get(store, k("never-saved")), "");
  });

  test("getBulk returns data and etag per key, and the bare key for a missing one", async () => {
    const keys = [k("plain"), k("object"), ...(overGrpc ? [] : [k("jsonLooking")]), k("missing")];
    const items = await client.state.getBulk(store, keys);
    assert.ok(Array.isArray(items), `getBulk returned ${JSON.stringify(items)}`);
    const byKey = new Map(items.map((it) => [it.key, it]));
    assert.deepEqual([...byKey.keys()].sort(), [...keys].sort());
    assert.equal(byKey.get(k("plain")).data, values.plain);
    assert.deepEqual(byKey.get(k("object")).data, values.object);
    if (!overGrpc) {
      assert.equal(byKey.get(k("jsonLooking")).data, values.jsonLooking);
    }
    for (const name of ["plain", "object", ...(overGrpc ? [] : ["jsonLooking"])]) {
      assert.equal(typeof byKey.get(k(name)).etag, "string", `etag of ${name}`);
      assert.notEqual(byKey.get(k(name)).etag, "", `etag of ${name}`);
    }
    const missing = byKey.get(k("missing"));
    if (overGrpc) {
      // BulkStateItem's data and etag are proto3 scalars: absent reads as empty, and the SDK passes that on.
      assert.equal(missing.data, "", JSON.stringify(missing));
      assert.equal(missing.etag, "", JSON.stringify(missing));
    } else {
      assert.equal(missing.data, undefined);
      assert.equal(missing.etag, undefined);
    }
  });

  test("delete removes the key", async () => {
    const err = await failureOf(client.state.delete(store, k("boolean")));
    assert.equal(err, undefined, `delete failed: ${err}`);
    assert.equal(await client.state.get(store, k("boolean")), "");
  });

  test("transaction applies an upsert and a delete together", async () => {
    await client.state.transaction(store, [
      { operation: "upsert", request: { key: k("tx-new"), value: txValue({ from: "transaction" }) } },
      { operation: "upsert", request: { key: k("plain"), value: txValue("replaced in transaction") } },
      { operation: "delete", request: { key: k("number") } },
    ]);
    assert.deepEqual(await client.state.get(store, k("tx-new")), { from: "transaction" });
    assert.equal(await client.state.get(store, k("plain")), "replaced in transaction");
    assert.equal(await client.state.get(store, k("number")), "");
  });

  test("save with the current etag succeeds and changes the etag", async () => {
    const key = k("etag");
    assert.equal(await failureOf(client.state.save(store, [{ key, value: "v1" }])), undefined);
    const etag1 = await etagOf(key);
    const err = await failureOf(
      client.state.save(store, [
        { key, value: "v2", etag: etag1, options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE } },
      ]),
    );
    assert.equal(err, undefined, `save with current etag failed: ${err}`);
    assert.equal(await client.state.get(store, key), "v2");
    assert.notEqual(await etagOf(key), etag1, "etag must change when the value is written");
  });

  test("save with a stale etag is surfaced by the SDK as a 409 ERR_STATE_SAVE (gRPC ABORTED)", async () => {
    const key = k("etag-stale");
    assert.equal(await failureOf(client.state.save(store, [{ key, value: "first" }])), undefined);
    const stale = await etagOf(key);
    assert.equal(await failureOf(client.state.save(store, [{ key, value: "second" }])), undefined);
    // HTTPClientState.save catches and returns {error}; GRPCClientState.save throws.
    const err = await failureOf(
      client.state.save(store, [
        { key, value: "third", etag: stale, options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE } },
      ]),
    );
    assert.ok(err, "save with a stale etag must fail");
    assertDaprError(err, {
      status: 409,
      errorCode: "ERR_STATE_SAVE",
      grpc: GrpcCode.ABORTED,
      message: `failed saving state in state store ${store}`,
    });
    assert.equal(await client.state.get(store, key), "second", "a rejected save must not change the value");
  });

  test("save with an etag the store never issued is rejected (409/ABORTED, or 400/INVALID_ARGUMENT if malformed)", async () => {
    const err = await failureOf(
      client.state.save(store, [
        { key: k("object"), value: "x", etag: "not-an-etag-this-store-issued",
          options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE } },
      ]),
    );
    assert.ok(err, "save with a wrong etag must fail");
    // Dapr answers 409 for a mismatch and 400 for an etag malformed for that store (API.md 1.2); which one
    // depends on the store's etag format (state.sqlite: any string compares, state.in-memory: decimal).
    const bad = malformedEtag(err);
    assertDaprError(err, {
      status: bad ? 400 : 409,
      errorCode: "ERR_STATE_SAVE",
      grpc: bad ? GrpcCode.INVALID_ARGUMENT : GrpcCode.ABORTED,
      message: `failed saving state in state store ${store}`,
    });
    assert.deepEqual(await client.state.get(store, k("object")), values.object);
  });

  test("delete with a stale etag is a 409 ERR_STATE_DELETE (gRPC ABORTED); with the current one it deletes", async () => {
    const key = k("delete-etag");
    assert.equal(await failureOf(client.state.save(store, [{ key, value: "first" }])), undefined);
    const stale = await etagOf(key);
    assert.equal(await failureOf(client.state.save(store, [{ key, value: "second" }])), undefined);
    const wrong = await failureOf(client.state.delete(store, key, { etag: stale }));
    assert.ok(wrong, "delete with a stale etag must fail");
    assertDaprError(wrong, {
      status: 409,
      errorCode: "ERR_STATE_DELETE",
      grpc: GrpcCode.ABORTED,
      message: `failed deleting state with key ${key}`,
    });
    assert.equal(await client.state.get(store, key), "second");
    const right = await failureOf(client.state.delete(store, key, { etag: await etagOf(key) }));
    assert.equal(right, undefined, `delete with current etag failed: ${right}`);
    assert.equal(await client.state.get(store, key), "");
  });

  test("delete with an etag the store never issued fails (409/ABORTED, or 400/INVALID_ARGUMENT) and keeps the value", async () => {
    const key = k("unicode");
    const err = await failureOf(client.state.delete(store, key, { etag: "wrong-etag" }));
    assert.ok(err, "delete with a wrong etag must fail");
    const bad = malformedEtag(err);
    assertDaprError(err, {
      status: bad ? 400 : 409,
      errorCode: "ERR_STATE_DELETE",
      grpc: bad ? GrpcCode.INVALID_ARGUMENT : GrpcCode.ABORTED,
      message: `failed deleting state with key ${key}`,
    });
    assert.equal(await client.state.get(store, key), values.unicode);
  });

  test("a transaction with a stale etag fails as a whole (500 ERR_STATE_TRANSACTION, gRPC INTERNAL)", async () => {
    const key = k("tx-etag");
    assert.equal(await failureOf(client.state.save(store, [{ key, value: "before" }])), undefined);
    await assert.rejects(
      client.state.transaction(store, [
        { operation: "upsert", request: { key: k("tx-should-not-exist"), value: txValue(1) } },
        { operation: "upsert", request: { key, value: txValue("after"), etag: "stale-etag" } },
      ]),
      (err) => {
        assertDaprError(err, {
          status: 500,
          errorCode: "ERR_STATE_TRANSACTION",
          grpc: GrpcCode.INTERNAL,
          message: "error while executing state transaction",
        });
        return true;
      },
    );
    assert.equal(await client.state.get(store, key), "before");
    assert.equal(await client.state.get(store, k("tx-should-not-exist")), "", "transaction must be atomic");
  });

  test("an unknown store is a 400 ERR_STATE_STORE_NOT_FOUND (gRPC INVALID_ARGUMENT, DAPR_STATE_NOT_FOUND)", async () => {
    await assert.rejects(client.state.get("no-such-store", k("plain")), (err) => {
      assertDaprError(err, {
        status: 400,
        errorCode: "ERR_STATE_STORE_NOT_FOUND",
        grpc: GrpcCode.INVALID_ARGUMENT,
        reason: "DAPR_STATE_NOT_FOUND",
        message: "state store no-such-store is not found",
      });
      return true;
    });
  });

  test("metadata.get reports the app id and the state component", async () => {
    const md = await client.metadata.get();
    assert.equal(md.id, appId);
    assert.ok(Array.isArray(md.components), `components: ${JSON.stringify(md)}`);
    const comp = md.components.find((c) => c.name === store);
    assert.ok(comp, `component ${store} missing from ${JSON.stringify(md.components)}`);
    if (storeType) {
      assert.equal(comp.type, storeType);
    }
    assert.equal(comp.version, "v1");
    assert.ok(comp.capabilities.includes("ETAG"), `capabilities: ${comp.capabilities}`);
    assert.ok(comp.capabilities.includes("TRANSACTIONAL"), `capabilities: ${comp.capabilities}`);
  });

  test("metadata.set adds an attribute that metadata.get reports as extended metadata", async () => {
    const key = `sdk-${protocol}-${run}`;
    const value = `set over ${protocol} ✓`;
    assert.equal(await client.metadata.set(key, value), true, "metadata.set");
    const md = await client.metadata.get();
    assert.equal(md.extended?.[key], value, `extended: ${JSON.stringify(md.extended)}`);
  });
});

// One store behind both front ends: what one protocol's client writes, the other's reads back the same.
describe(`state saved over one protocol reads back the same over the other (store "${store}")`, {
  skip: !crossClients && "DAPR_GRPC_PORT is not set",
}, () => {
  const via = (from) => `x${from}`;
  const bulkOf = async (c, key) => {
    const items = await c.state.getBulk(store, [key]);
    assert.equal(items.length, 1, JSON.stringify(items));
    return items[0];
  };

  test("every value saved over HTTP reads back unchanged over gRPC", async () => {
    const { http, grpc } = crossClients;
    const err = await failureOf(
      http.state.save(store, Object.entries(allValues).map(([name, value]) => ({ key: k(`${via("http")}-${name}`), value }))),
    );
    assert.equal(err, undefined, `save over HTTP failed: ${err}`);
    // The HTTP API stores a value's JSON text, and the gRPC client JSON.parses what it reads: strings that look like
    // JSON survive this way round.
    for (const [name, value] of Object.entries(allValues)) {
      assert.deepEqual(await grpc.state.get(store, k(`${via("http")}-${name}`)), value, `${name} over gRPC`);
    }
  });

  test("every value the gRPC client encodes faithfully, saved over gRPC, reads back unchanged over HTTP", async () => {
    const { http, grpc } = crossClients;
    const faithful = Object.entries(allValues).filter(([name]) => !jsonLookingStrings.includes(name));
    const err = await failureOf(
      grpc.state.save(store, faithful.map(([name, value]) => ({ key: k(`${via("grpc")}-${name}`), value }))),
    );
    assert.equal(err, undefined, `save over gRPC failed: ${err}`);
    for (const [name, value] of faithful) {
      assert.deepEqual(await http.state.get(store, k(`${via("grpc")}-${name}`)), value, `${name} over HTTP`);
      assert.deepEqual(await grpc.state.get(store, k(`${via("grpc")}-${name}`)), value, `${name} over gRPC`);
    }
  });

  test("both front ends report the same etag, and one protocol's etag guards the other's writes", async () => {
    const { http, grpc } = crossClients;
    const key = k("x-etag");
    assert.equal(await failureOf(http.state.save(store, [{ key, value: { n: 1 } }])), undefined);
    const overHttp = await bulkOf(http, key);
    const overGrpc = await bulkOf(grpc, key);
    assert.equal(typeof overHttp.etag, "string");
    assert.notEqual(overHttp.etag, "");
    assert.equal(overGrpc.etag, overHttp.etag, "GetBulkState's etag and the HTTP bulk etag");
    assert.deepEqual(overGrpc.data, { n: 1 });
    const first = { options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE } };
    // The HTTP etag guards a gRPC save ...
    const saved = await failureOf(grpc.state.save(store, [{ key, value: { n: 2 }, etag: overHttp.etag, ...first }]));
    assert.equal(saved, undefined, `gRPC save with the etag read over HTTP failed: ${saved}`);
    // ... after which it is stale over HTTP too, and the gRPC etag is the current one there.
    const stale = await failureOf(http.state.save(store, [{ key, value: { n: 3 }, etag: overHttp.etag, ...first }]));
    assert.ok(stale, "an HTTP save with the etag the gRPC save replaced must fail");
    const current = (await bulkOf(grpc, key)).etag;
    assert.notEqual(current, overHttp.etag);
    const err = await failureOf(http.state.save(store, [{ key, value: { n: 3 }, etag: current, ...first }]));
    assert.equal(err, undefined, `HTTP save with the etag read over gRPC failed: ${err}`);
    assert.deepEqual(await grpc.state.get(store, key), { n: 3 });
    // A delete over gRPC removes what HTTP sees.
    assert.equal(await failureOf(grpc.state.delete(store, key)), undefined);
    assert.equal(await http.state.get(store, key), "");
  });
});
