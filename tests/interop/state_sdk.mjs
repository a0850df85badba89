// SPDX-License-Identifier: Apache-2.0
// The state API as the real Dapr JS SDK (@dapr/dapr, HTTP protocol) uses it, run against a live outrigd.
//
// Environment: DAPR_HTTP_PORT (outrigd's HTTP port), OUTRIG_STORE (store name, default "statestore"),
// OUTRIG_STORE_TYPE (component type metadata must report, e.g. "state.sqlite"), OUTRIG_APP_ID (default "myapp").
// Run with `node --test state_sdk.mjs`.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { DaprClient, StateConcurrencyEnum } from "@dapr/dapr";
import { clientOptions, decodeSdkError } from "./common.mjs";

const port = process.env.DAPR_HTTP_PORT;
const store = process.env.OUTRIG_STORE ?? "statestore";
const storeType = process.env.OUTRIG_STORE_TYPE;
const appId = process.env.OUTRIG_APP_ID ?? "myapp";
if (!port) {
  throw new Error("state_sdk.mjs: set DAPR_HTTP_PORT to the port outrigd listens on");
}

const client = new DaprClient(clientOptions(port));

// Keys unique to this run, so a rerun against a persistent store starts from nothing.
const run = `${process.pid}-${Date.now()}`;
const k = (name) => `sdk-${run}-${name}`;

function assertDaprError(err, status, errorCode) {
  const e = decodeSdkError(err);
  assert.equal(e.status, status, `HTTP status (body: ${e.raw})`);
  assert.ok(e.body && typeof e.body === "object", `error body is not JSON: ${e.raw}`);
  assert.equal(e.body.errorCode, errorCode, `errorCode (body: ${e.raw})`);
  assert.equal(typeof e.body.message, "string", `message (body: ${e.raw})`);
}

// getBulk is the only SDK read that surfaces the etag (state.get returns just the value).
async function etagOf(key) {
  const items = await client.state.getBulk(store, [key]);
  assert.equal(items.length, 1);
  assert.equal(items[0].key, key);
  assert.equal(typeof items[0].etag, "string", `no etag for ${key} in ${JSON.stringify(items)}`);
  assert.notEqual(items[0].etag, "");
  return items[0].etag;
}

const values = {
  plain: "DeathStar",
  jsonLooking: '{"name":"Tatooine","moons":3}',
  quoted: '"already quoted"',
  unicode: "héllo wörld ✓",
  object: { name: "Tatooine", moons: 3, tags: ["desert", "binary"], nested: { ok: true, none: null } },
  number: 42.5,
  array: [1, "two", { three: 3 }],
  boolean: false,
};

before(async () => {
  // Runs the SDK's own readiness poll (GET /v1.0/metadata) before any state call.
  await client.start();
});

after(async () => {
  await client.stop();
});

describe(`state API through @dapr/dapr against store "${store}"`, () => {
  test("save several items of different JSON types", async () => {
    const res = await client.state.save(
      store,
      Object.entries(values).map(([name, value]) => ({ key: k(name), value })),
    );
    assert.equal(res.error, undefined, `save failed: ${res.error}`);
  });

  test("get round-trips every value exactly", async () => {
    for (const [name, value] of Object.entries(values)) {
      const got = await client.state.get(store, k(name));
      assert.deepEqual(got, value, `value of ${name}`);
    }
  });

  test("a string that looks like JSON comes back as that string, not parsed", async () => {
    const got = await client.state.get(store, k("jsonLooking"));
    assert.equal(typeof got, "string");
    assert.equal(got, values.jsonLooking);
  });

  test("get of a missing key yields the SDK's empty result (204)", async () => {
    assert.equal(await client.state.get(store, k("never-saved")), "");
  });

  test("getBulk returns data and etag per key, and the bare key for a missing one", async () => {
    const keys = [k("plain"), k("object"), k("jsonLooking"), k("missing")];
    const items = await client.state.getBulk(store, keys);
    assert.ok(Array.isArray(items), `getBulk returned ${JSON.stringify(items)}`);
    const byKey = new Map(items.map((it) => [it.key, it]));
    assert.deepEqual([...byKey.keys()].sort(), [...keys].sort());
    assert.equal(byKey.get(k("plain")).data, values.plain);
    assert.deepEqual(byKey.get(k("object")).data, values.object);
    assert.equal(byKey.get(k("jsonLooking")).data, values.jsonLooking);
    for (const name of ["plain", "object", "jsonLooking"]) {
      assert.equal(typeof byKey.get(k(name)).etag, "string", `etag of ${name}`);
    }
    const missing = byKey.get(k("missing"));
    assert.equal(missing.data, undefined);
    assert.equal(missing.etag, undefined);
  });

  test("delete removes the key", async () => {
    const res = await client.state.delete(store, k("boolean"));
    assert.equal(res.error, undefined, `delete failed: ${res.error}`);
    assert.equal(await client.state.get(store, k("boolean")), "");
  });

  test("transaction applies an upsert and a delete together", async () => {
    await client.state.transaction(store, [
      { operation: "upsert", request: { key: k("tx-new"), value: { from: "transaction" } } },
      { operation: "upsert", request: { key: k("plain"), value: "replaced in transaction" } },
      { operation: "delete", request: { key: k("number") } },
    ]);
    assert.deepEqual(await client.state.get(store, k("tx-new")), { from: "transaction" });
    assert.equal(await client.state.get(store, k("plain")), "replaced in transaction");
    assert.equal(await client.state.get(store, k("number")), "");
  });

  test("save with the current etag succeeds and changes the etag", async () => {
    const key = k("etag");
    assert.equal((await client.state.save(store, [{ key, value: "v1" }])).error, undefined);
    const etag1 = await etagOf(key);
    const res = await client.state.save(store, [
      { key, value: "v2", etag: etag1, options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE } },
    ]);
    assert.equal(res.error, undefined, `save with current etag failed: ${res.error}`);
    assert.equal(await client.state.get(store, key), "v2");
    assert.notEqual(await etagOf(key), etag1, "etag must change when the value is written");
  });

  test("save with a stale etag is surfaced by the SDK as a 409 ERR_STATE_SAVE", async () => {
    const key = k("etag-stale");
    assert.equal((await client.state.save(store, [{ key, value: "first" }])).error, undefined);
    const stale = await etagOf(key);
    assert.equal((await client.state.save(store, [{ key, value: "second" }])).error, undefined);
    // The SDK does not throw here: HTTPClientState.save catches and returns {error}.
    const res = await client.state.save(store, [
      { key, value: "third", etag: stale, options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE } },
    ]);
    assert.ok(res.error, "save with a stale etag must fail");
    assertDaprError(res.error, 409, "ERR_STATE_SAVE");
    assert.equal(await client.state.get(store, key), "second", "a rejected save must not change the value");
  });

  test("save with an etag the store never issued is rejected (409, or 400 if malformed for the store)", async () => {
    const res = await client.state.save(store, [
      { key: k("object"), value: "x", etag: "not-an-etag-this-store-issued",
        options: { concurrency: StateConcurrencyEnum.CONCURRENCY_FIRST_WRITE } },
    ]);
    assert.ok(res.error, "save with a wrong etag must fail");
    // Dapr answers 409 for a mismatch and 400 for an etag malformed for that store (API.md 1.2); which one
    // depends on the store's etag format (state.sqlite: any string compares, state.in-memory: decimal).
    const { status } = decodeSdkError(res.error);
    assertDaprError(res.error, status === 400 ? 400 : 409, "ERR_STATE_SAVE");
    assert.deepEqual(await client.state.get(store, k("object")), values.object);
  });

  test("delete with a stale etag is a 409 ERR_STATE_DELETE; with the current one it deletes", async () => {
    const key = k("delete-etag");
    assert.equal((await client.state.save(store, [{ key, value: "first" }])).error, undefined);
    const stale = await etagOf(key);
    assert.equal((await client.state.save(store, [{ key, value: "second" }])).error, undefined);
    const wrong = await client.state.delete(store, key, { etag: stale });
    assert.ok(wrong.error, "delete with a stale etag must fail");
    assertDaprError(wrong.error, 409, "ERR_STATE_DELETE");
    assert.equal(await client.state.get(store, key), "second");
    const right = await client.state.delete(store, key, { etag: await etagOf(key) });
    assert.equal(right.error, undefined, `delete with current etag failed: ${right.error}`);
    assert.equal(await client.state.get(store, key), "");
  });

  test("delete with an etag the store never issued fails (409, or 400 if malformed) and keeps the value", async () => {
    const key = k("unicode");
    const res = await client.state.delete(store, key, { etag: "wrong-etag" });
    assert.ok(res.error, "delete with a wrong etag must fail");
    const { status } = decodeSdkError(res.error);
    assertDaprError(res.error, status === 400 ? 400 : 409, "ERR_STATE_DELETE");
    assert.equal(await client.state.get(store, key), values.unicode);
  });

  test("a transaction with a stale etag fails as a whole (500 ERR_STATE_TRANSACTION)", async () => {
    const key = k("tx-etag");
    assert.equal((await client.state.save(store, [{ key, value: "before" }])).error, undefined);
    await assert.rejects(
      client.state.transaction(store, [
        { operation: "upsert", request: { key: k("tx-should-not-exist"), value: 1 } },
        { operation: "upsert", request: { key, value: "after", etag: "stale-etag" } },
      ]),
      (err) => {
        assertDaprError(err, 500, "ERR_STATE_TRANSACTION");
        return true;
      },
    );
    assert.equal(await client.state.get(store, key), "before");
    assert.equal(await client.state.get(store, k("tx-should-not-exist")), "", "transaction must be atomic");
  });

  test("an unknown store is a 400 ERR_STATE_STORE_NOT_FOUND", async () => {
    await assert.rejects(client.state.get("no-such-store", k("plain")), (err) => {
      assertDaprError(err, 400, "ERR_STATE_STORE_NOT_FOUND");
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
});
