// SPDX-License-Identifier: Apache-2.0
// outrigd --app-protocol grpcs (issue 15 part 5): gRPC apps serving TLS only (tests/app_grpc/raw_app.mjs and
// echo_app.mjs with OUTRIG_TEST_TLS_CERT/KEY, a self-signed certificate made here with openssl) get AppCallback
// invocation, a pub/sub delivery, an input-binding event and health probes, and a proxied gRPC call, all over TLS;
// an h2c app behind grpcs is refused with the reason. Starts its own apps and sidecars.
// Environment: OUTRIGD, OUTRIG_PLUGIN_PATH, OUTRIG_TEST_PLUGIN_DIR (tests/interop/app_grpcs.sh sets them).
// Run with `node --test app_grpcs.mjs`.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRequire } from "node:module";
import { sleep } from "./common.mjs";

const require = createRequire(import.meta.url);
const grpc = require("@grpc/grpc-js");

const here = new URL(".", import.meta.url).pathname;
const appDir = join(here, "..", "app_grpc");
const outrigd = process.env.OUTRIGD ?? join(here, "..", "..", "core", "outrigd");
const testPlugins = process.env.OUTRIG_TEST_PLUGIN_DIR ?? join(here, "..", "plugins", ".libs");

const tmp = mkdtempSync(join(tmpdir(), "app_grpcs-"));
const children = [];

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

const portOpen = (port) =>
  new Promise((resolve) => {
    const c = connect({ host: "127.0.0.1", port });
    c.on("connect", () => {
      c.destroy();
      resolve(true);
    });
    c.on("error", () => resolve(false));
  });

// Polls the async fn until it returns true; rejects after ms.
async function until(what, fn, ms) {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

const logOf = (name) => readFileSync(join(tmp, `${name}.log`), "utf8");

function run(name, cmd, args, env = {}) {
  const fd = openSync(join(tmp, `${name}.log`), "a");
  const child = spawn(cmd, args, { stdio: ["ignore", fd, fd], env: { ...process.env, ...env } });
  children.push(child);
  return child;
}

async function startApp(name, script, tls) {
  const port = await freePort();
  const env = tls ? { OUTRIG_TEST_TLS_CERT: join(tmp, "cert.pem"), OUTRIG_TEST_TLS_KEY: join(tmp, "key.pem") } : {};
  run(name, "node", [join(appDir, script), String(port)], env);
  await until(`${script} listening on ${port}`, () => portOpen(port), 20000);
  return port;
}

async function startSidecar(name, appPort, extra = []) {
  const http = await freePort();
  const grpcPort = await freePort();
  const internal = await freePort();
  const res = join(tmp, `res-${name}`);
  mkdirSync(res, { recursive: true });
  writeFileSync(
    join(res, "components.yaml"),
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: ps
spec:
  type: pubsub.in-memory
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: b1
spec:
  type: bindings.test
  version: v1
  metadata:
    - name: ackFile
      value: "${join(tmp, `acks-${name}.txt`)}"
`,
  );
  run(`outrigd-${name}`, outrigd, [
    "--app-id", name, "--app-port", String(appPort), "--dapr-http-port", String(http), "--dapr-grpc-port",
    String(grpcPort), "--dapr-internal-grpc-port", String(internal), "--metrics-port", String(await freePort()),
    "--resources-path", res, "--plugin-dir", testPlugins, "--data-dir", join(tmp, `data-${name}`), ...extra,
  ], { XDG_DATA_HOME: join(tmp, `xdg-${name}`) });
  await until(`outrigd ${name} healthy`, async () => {
    try {
      return (await fetch(`http://127.0.0.1:${http}/v1.0/healthz`)).status === 204;
    } catch {
      return false;
    }
  }, 20000).catch((e) => {
    throw new Error(`${e.message}; its log:\n${logOf(`outrigd-${name}`)}`);
  });
  return { http, grpc: grpcPort };
}

const post = (port, path, body, type = "application/json") =>
  fetch(`http://127.0.0.1:${port}${path}`, { method: "POST", body, headers: { "content-type": type } });

before(() => {
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout", join(tmp, "key.pem"), "-out", join(tmp, "cert.pem"),
  ], { stdio: "ignore" });
});

after(async () => {
  for (const c of children) c.kill("SIGTERM");
  await sleep(200);
  rmSync(tmp, { recursive: true, force: true });
});

test("a grpcs app gets AppCallback invocation, a delivery, a binding event and health probes over TLS", async () => {
  const appPort = await startApp("raw", "raw_app.mjs", true);
  const d = await startSidecar("grpcsapp", appPort, [
    "--app-protocol", "grpcs", "--enable-app-health-check", "--app-health-probe-interval", "1",
  ]);
  // With health checks on, calls wait for the first healthy probe (over TLS too).
  let r, text;
  await until("a healthy app answering invocation", async () => {
    r = await post(d.http, "/v1.0/invoke/grpcsapp/method/echo", "hi", "text/plain");
    text = await r.text();
    return r.status === 200;
  }, 10000).catch((e) => {
    throw new Error(`${e.message}: ${r.status} ${text}; outrigd's log:\n${logOf("outrigd-grpcsapp")}`);
  });
  assert.equal(JSON.parse(text).method, "echo");
  assert.equal((await post(d.http, "/v1.0/publish/ps/plain", JSON.stringify({ n: 1 }))).status, 204);
  assert.equal((await post(d.http, "/v1.0/bindings/b1", JSON.stringify({ operation: "emit", data: "ev" }))).status, 204);
  let kinds = [];
  await until("topic, binding and health requests at the app", async () => {
    const s = await post(d.http, "/v1.0/invoke/grpcsapp/method/seen", "");
    kinds = (await s.json()).map((e) => e.kind);
    return ["topic", "binding", "health"].every((k) => kinds.includes(k));
  }, 15000).catch((e) => {
    throw new Error(`${e.message}: the app saw ${JSON.stringify(kinds)}; outrigd's log:\n${logOf("outrigd-grpcsapp")}`);
  });
  assert.match(logOf("outrigd-grpcsapp"), /calling the app over TLS \(--app-protocol grpcs\)/);
});

test("a gRPC call proxied to a grpcs app goes over TLS", async () => {
  const appPort = await startApp("echo", "echo_app.mjs", true);
  const d = await startSidecar("grpcsecho", appPort, ["--app-protocol", "grpcs"]);
  const client = new grpc.Client(`127.0.0.1:${d.grpc}`, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  md.set("dapr-app-id", "grpcsecho");
  const answer = await new Promise((resolve, reject) =>
    client.makeUnaryRequest("/outrig.test.Echo/Unary", (b) => b, (b) => b, Buffer.from("through tls"), md,
      (err, res) => (err ? reject(err) : resolve(res))),
  ).catch((e) => {
    throw new Error(`${e.message}; outrigd's log:\n${logOf("outrigd-grpcsecho")}`);
  });
  client.close();
  assert.equal(answer.toString(), "through tls");
});

test("an h2c app behind --app-protocol grpcs is refused with the reason", async () => {
  const appPort = await startApp("plain", "raw_app.mjs", false);
  const d = await startSidecar("h2capp", appPort, ["--app-protocol", "grpcs"]);
  const r = await post(d.http, "/v1.0/invoke/h2capp/method/echo", "hi", "text/plain");
  const text = await r.text();
  assert.notEqual(r.status, 200, text);
  assert.match(text, /TLS handshake|serving TLS|without TLS/, text);
});
