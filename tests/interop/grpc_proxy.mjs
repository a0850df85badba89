// SPDX-License-Identifier: Apache-2.0
// outrigd's gRPC proxying (issue 12 part 4): a gRPC client calls a method that is not Dapr's (outrig.test.Echo of
// tests/app_grpc/echo_app.mjs) on a sidecar's --dapr-grpc-port with metadata dapr-app-id, and the call reaches that
// app's gRPC server byte for byte, streams, metadata, status, deadline and cancellation included.
//
// Each case runs over three routes: "direct" (the echo app itself, no sidecar: a failure there is the app's or the
// test's), "A->B" (sidecar caller forwards to sidecar callee, which runs APP_API_TOKEN=token-for-echo, over the
// internal port) and "A->A" (sidecar caller to its own app). Then outrigd's own answers: no dapr-app-id, unknown app,
// app down, a sidecar without a gRPC app, Dapr's API with dapr-app-id; the memory a slow reader or a slow app
// costs the sidecars in between; and a stream through both sidecars that stays quiet for 65 s.
//
// Sidecars, sharing a --data-dir: caller (its app at CALLER_ECHO_PORT), callee (--app-protocol grpc, its app at
// ECHO_PORT), downapp (its app at DOWN_ECHO_PORT, which a case kills), noapp (no --app-port), httpapp
// (--app-protocol http, its port an echo app: so a call proxied there by mistake succeeds and fails the test) and
// stopper (no app; a case stops it with SIGTERM mid-stream). Environment: CALLER_GRPC_PORT, ECHO_PORT,
// CALLER_ECHO_PORT, DOWN_ECHO_PORT, STOPPER_GRPC_PORT, and the pids CALLER_PID, CALLEE_PID, ECHO_PID (RSS from
// /proc/<pid>/status), STOPPER_PID.
// Run with `node --test grpc_proxy.mjs` (tests/interop/app_grpc.sh proxy).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { createRequire } from "node:module";
import { grpcCodeName, sleep, until } from "./common.mjs";

const require = createRequire(import.meta.url);
const grpc = require("@grpc/grpc-js");
const { create, fromBinary, toBinary } = require("@bufbuild/protobuf");
const dapr = require("@dapr/dapr/proto/dapr/proto/runtime/v1/dapr_pb");

const env = (name) => {
  const v = process.env[name];
  if (!v) {
    throw new Error(
      `grpc_proxy.mjs: set ${name}; it needs CALLER_GRPC_PORT (sidecar caller's --dapr-grpc-port), ECHO_PORT ` +
        "(callee's echo app), CALLER_ECHO_PORT (caller's echo app), DOWN_ECHO_PORT (downapp's echo app), " +
        "STOPPER_GRPC_PORT (sidecar stopper's --dapr-grpc-port), CALLER_PID, CALLEE_PID, ECHO_PID, STOPPER_PID",
    );
  }
  return v;
};
const callerGrpcPort = env("CALLER_GRPC_PORT");
const echoPort = env("ECHO_PORT");
const callerEchoPort = env("CALLER_ECHO_PORT");
const callerPid = env("CALLER_PID");
const downEchoPort = env("DOWN_ECHO_PORT");
const stopperGrpcPort = env("STOPPER_GRPC_PORT");
const stopperPid = env("STOPPER_PID");
const calleePid = env("CALLEE_PID");
const echoPid = env("ECHO_PID");

const TOKEN = "token-for-echo";

const clients = new Map();
const clientOf = (port) => {
  if (!clients.has(port)) {
    clients.set(port, new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()));
  }
  return clients.get(port);
};
after(() => {
  for (const c of clients.values()) c.close();
});

// port: where the client connects; appId: its dapr-app-id; appPort: the echo app that answers (polled directly for
// Hang's cancellations); sidecar: whether outrigd is in between (and adds dapr-caller-app-id and the others).
const routes = [
  {
    name: "direct", port: echoPort, appId: "callee", appPort: echoPort, sidecar: false,
    watch: { "echo app": echoPid },
  },
  {
    name: "A->B", port: callerGrpcPort, appId: "callee", appPort: echoPort, sidecar: true, token: TOKEN,
    watch: { "outrigd caller": callerPid, "outrigd callee": calleePid },
  },
  {
    name: "A->A", port: callerGrpcPort, appId: "caller", appPort: callerEchoPort, sidecar: true,
    watch: { "outrigd caller": callerPid },
  },
];

const raw = (b) => b;
const path = (m) => `/outrig.test.Echo/${m}`;
const mdOf = (pairs) => {
  const md = new grpc.Metadata();
  for (const [k, v] of pairs) md.add(k, v);
  return md;
};
const routeMd = (route, extra = []) => mdOf([["dapr-app-id", route.appId], ...extra]);
const optionsOf = (deadlineMs) => (deadlineMs ? { deadline: new Date(Date.now() + deadlineMs) } : {});
const show = (md) => JSON.stringify(md?.toJSON ? md.toJSON() : md);

// A unary call: { err, value, headers, gotHeaders, status } (headers and status.metadata as grpc-js Metadata;
// gotHeaders false when the answer was trailers-only).
function unary(port, method, bytes, md, deadlineMs) {
  return new Promise((resolve) => {
    const out = { headers: new grpc.Metadata() };
    let pending = 2;
    const done = () => --pending === 0 && resolve(out);
    const call = clientOf(port).makeUnaryRequest(path(method), raw, raw, bytes, md, optionsOf(deadlineMs),
      (err, value) => {
        out.err = err;
        out.value = value;
        done();
      });
    call.on("metadata", (h) => {
      out.headers = h;
      out.gotHeaders = true;
    });
    call.on("status", (st) => {
      out.status = st;
      done();
    });
  });
}

// The status of a call that must fail, with its message and trailers.
async function failing(port, method, bytes, md, deadlineMs) {
  const r = await unary(port, method, bytes, md, deadlineMs);
  assert.ok(r.err, `${method} succeeded: ${r.value?.toString()}`);
  return r;
}

// The status of a call that reads a stream, once every message it was sent has been read too (grpc-js may report
// the status while a paused reader still has messages to take).
const streamEnd = (call) =>
  new Promise((resolve) => {
    let status;
    let ended = false;
    call.on("error", () => {});
    call.on("end", () => {
      ended = true;
      if (status) resolve(status);
    });
    call.on("status", (st) => {
      status = st;
      if (ended || st.code !== grpc.status.OK) resolve(st);
    });
  });

// A Bidi call: { call, next() (the next echo; fails once 5 s passed or the call ended without one), status }.
function openBidi(port, md) {
  const call = clientOf(port).makeBidiStreamRequest(path("Bidi"), raw, raw, md, {});
  const status = streamEnd(call);
  const queue = [];
  let waiting = null;
  let ended = null;
  const wake = () => {
    if (waiting && (queue.length || ended)) {
      const w = waiting;
      waiting = null;
      w();
    }
  };
  call.on("data", (m) => {
    queue.push(m);
    wake();
  });
  status.then((st) => {
    ended = st;
    wake();
  });
  const next = async () => {
    if (!queue.length && !ended) {
      let timer;
      await Promise.race([
        new Promise((resolve) => (waiting = resolve)),
        new Promise((resolve) => (timer = setTimeout(resolve, 5000))),
      ]);
      clearTimeout(timer);
    }
    if (queue.length) return queue.shift();
    assert.fail(ended ? `the call ended: ${ended.code} ${ended.details}` : "no echo within 5 s");
  };
  return { call, next, status };
}

const json = (v) => Buffer.from(JSON.stringify(v));
const sha256 = (...bufs) => {
  const h = createHash("sha256");
  for (const b of bufs) h.update(b);
  return h.digest("hex");
};
const first = (md, key) => md.get(key)[0];

// The metadata the echo app received, from its x-echo-md header: {key: [values]}.
const echoedMd = (r) => {
  const text = first(r.headers, "x-echo-md");
  assert.ok(text, `no x-echo-md among the headers: ${show(r.headers)}`);
  return JSON.parse(text);
};

// Hang calls with this tag, as the app counts them: {started, cancelled}.
const hangCount = async (route, tag) => {
  const r = await unary(route.appPort, "Cancelled", Buffer.from(tag), new grpc.Metadata());
  assert.ifError(r.err);
  return JSON.parse(r.value.toString());
};

// Whether the process runs (not gone, not a zombie its parent has yet to wait for).
const alive = (pid) => {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
};

const portOpen = (port) =>
  new Promise((resolve) => {
    const sock = connect({ host: "127.0.0.1", port: Number(port) });
    sock.on("connect", () => (sock.destroy(), resolve(true)));
    sock.on("error", () => resolve(false));
  });

// Under AddressSanitizer (CI's second run sets ASAN_OPTIONS for the daemons it starts), freed memory sits in ASan's
// quarantine (256 MB by default) instead of going back, so RSS grows with the bytes that passed, bounded or not: there
// the limit only catches gross growth; the run without ASan checks the real bound.
const rssLimitMb = process.env.ASAN_OPTIONS ? 300 : 30;
const rssKb = (pid) => {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  assert.ok(m, `no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
};

// Samples the RSS of the route's processes every 50 ms until check(t, note), which shows each one's growth and, if
// they are sidecars, fails when one grew by 30 MB or more. Direct, the app's RSS is only shown: node frees the 64 kB
// buffers it sent or read at its next GC, which comes after up to ~30 MB of them.
function watchRss(route) {
  const procs = Object.entries(route.watch).map(([label, pid]) => ({ label, pid, base: rssKb(pid) }));
  const sample = () => procs.forEach((p) => (p.peak = Math.max(p.peak ?? p.base, rssKb(p.pid))));
  const timer = setInterval(sample, 50);
  return {
    check(t, note) {
      clearInterval(timer);
      sample();
      for (const p of procs) {
        const grew = (p.peak - p.base) / 1024;
        t.diagnostic(`${p.label} (pid ${p.pid}): RSS ${p.base} kB before, at most ${p.peak} kB during; ${note}`);
        assert.ok(!route.sidecar || grew < rssLimitMb,
          `${p.label}'s RSS grew by ${grew.toFixed(1)} MB (from ${p.base} kB to ${p.peak} kB, limit ${rssLimitMb} MB); ${note}`);
      }
    },
    stop: () => clearInterval(timer),
  };
}

// A bidi stream through caller and callee, opened before every other case and used again after them, at least
// LONG_MS later: no timeout of outrigd's (GRPC_REQUEST_TIMEOUT_MS is 60 s) may cut a proxied call that is quiet.
const LONG_MS = 65000;
let longLived;
before(async () => {
  const tag = `long-${Date.now()}`;
  const bidi = openBidi(callerGrpcPort, mdOf([["dapr-app-id", "callee"], ["x-tag", tag]]));
  longLived = { ...bidi, tag, t0: Date.now(), first: null };
  bidi.call.write(Buffer.from("early"));
  longLived.first = await bidi.next().catch((err) => err);
});

for (const route of routes) {
  describe(`route ${route.name}`, () => {
    test("unary: request bytes, the client's metadata, the app's headers, message and trailers pass unchanged", async () => {
      const body = Buffer.concat([Buffer.from([...Array(256).keys()]), randomBytes(200000), Buffer.alloc(1)]);
      const md = routeMd(route, [
        ["x-test", "1"],
        ["x-data-bin", Buffer.from([0, 0xfe, 0x80, 10])],
        ["x-multi", "a"],
        ["x-multi", "b"],
        ["x-multi-bin", Buffer.from([1])],
        ["x-multi-bin", Buffer.from([2])],
        ["x-long", "v".repeat(6000)],
      ]);
      const r = await unary(route.port, "Unary", body, md);
      assert.ifError(r.err);
      assert.equal(r.status.code, grpc.status.OK);
      assert.ok(r.value.equals(body), `the answer (${r.value.length} bytes) is not the request (${body.length})`);
      const seen = echoedMd(r);
      const all = JSON.stringify({ ...seen, "x-long": seen["x-long"]?.map((v) => `(${v.length} bytes)`) });
      assert.deepEqual(seen["x-test"], ["1"], all);
      assert.deepEqual(seen["x-data-bin"], [Buffer.from([0, 0xfe, 0x80, 10]).toString("base64")], all);
      // Two values of a text key reach a node app joined, as HTTP/2 fields or as one "a, b".
      assert.equal(seen["x-multi"]?.join(", "), "a, b", all);
      assert.deepEqual(seen["x-multi-bin"], ["AQ==", "Ag=="], all);
      assert.equal(seen["x-long"]?.[0], "v".repeat(6000), "x-long (6000 bytes) did not arrive whole");
      assert.deepEqual(seen["dapr-app-id"], [route.appId], all);
      if (route.sidecar) {
        assert.deepEqual(seen["dapr-caller-app-id"], ["caller"], all);
        assert.deepEqual(seen["dapr-callee-app-id"], [route.appId], all);
      }
      if (route.token) {
        assert.deepEqual(seen["dapr-api-token"], [route.token], all);
      }
      assert.deepEqual([...first(r.headers, "x-echo-bin")], [0, 0xff, 1], show(r.headers));
      assert.deepEqual(r.status.metadata.get("x-trailer"), ["t1"], show(r.status.metadata));
      assert.deepEqual(r.headers.get("x-trailer"), [], `x-trailer came as a header: ${show(r.headers)}`);
    });

    test("unary: a 3.5 MB message each way (under gRPC's default 4 MB)", async () => {
      const body = randomBytes(3.5 * (1 << 20));
      const r = await unary(route.port, "Unary", body, routeMd(route));
      assert.ifError(r.err);
      assert.ok(r.value.equals(body), `the answer (${r.value.length} bytes) is not the request (${body.length})`);
    });

    test("a gzip-compressed request (grpc-encoding) reaches the app and is answered", async () => {
      const gz = new grpc.Client(`127.0.0.1:${route.port}`, grpc.credentials.createInsecure(), {
        "grpc.default_compression_algorithm": grpc.compressionAlgorithms.gzip,
      });
      try {
        const body = Buffer.alloc(100000, "compress me ");
        const r = await new Promise((resolve) => {
          gz.makeUnaryRequest(path("Unary"), raw, raw, body, routeMd(route), (err, value) => resolve({ err, value }));
        });
        assert.ifError(r.err);
        assert.ok(r.value.equals(body), `the answer (${r.value.length} bytes) is not the request (${body.length})`);
      } finally {
        gz.close();
      }
    });

    test("unary: an empty request and answer", async () => {
      const r = await unary(route.port, "Unary", Buffer.alloc(0), routeMd(route));
      assert.ifError(r.err);
      assert.equal(r.value.length, 0);
    });

    if (route.sidecar) {
      test("a client's own dapr-caller-app-id and dapr-callee-app-id are replaced, not added to", async () => {
        const md = routeMd(route, [
          ["dapr-caller-app-id", "forged-caller"],
          ["dapr-callee-app-id", "forged-callee"],
        ]);
        const r = await unary(route.port, "Unary", Buffer.from("x"), md);
        assert.ifError(r.err);
        const seen = echoedMd(r);
        assert.deepEqual(seen["dapr-caller-app-id"], ["caller"], JSON.stringify(seen));
        assert.deepEqual(seen["dapr-callee-app-id"], [route.appId], JSON.stringify(seen));
      });

      // outrig-caller-app-id is how sidecars tell each other the caller (core/api/internal/internal_protocol.md).
      test("a client's own outrig-caller-app-id does not change who the app is told called", async () => {
        const md = routeMd(route, [
          ["outrig-caller-app-id", "forged-caller"],
          ["outrig-callee-app-id", "forged-callee"],
        ]);
        const r = await unary(route.port, "Unary", Buffer.from("x"), md);
        assert.ifError(r.err);
        const seen = echoedMd(r);
        assert.deepEqual(seen["dapr-caller-app-id"], ["caller"], JSON.stringify(seen));
        assert.deepEqual(seen["dapr-callee-app-id"], [route.appId], JSON.stringify(seen));
      });
    }

    if (route.token) {
      test("the app gets its APP_API_TOKEN as dapr-api-token, never a client's own", async () => {
        const r = await unary(route.port, "Unary", Buffer.from("x"), routeMd(route, [["dapr-api-token", "client-token"]]));
        assert.ifError(r.err);
        const seen = echoedMd(r);
        assert.deepEqual(seen["dapr-api-token"], [route.token], JSON.stringify(seen));
      });
    }

    test("the client's deadline reaches the app", async () => {
      const r = await unary(route.port, "Unary", Buffer.from("d"), routeMd(route), 5000);
      assert.ifError(r.err);
      const left = first(r.headers, "x-echo-deadline");
      assert.notEqual(left, "none", "the app saw no deadline");
      assert.ok(Number(left) > 3000 && Number(left) <= 5000, `the app saw ${left} ms left of 5000`);
    });

    test("server stream: 300 messages of 10000 bytes arrive in order, whole, and as many as the app sent", async () => {
      const call = clientOf(route.port).makeServerStreamRequest(
        path("ServerStream"), raw, raw, json({ count: 300, size: 10000 }), routeMd(route), {});
      const got = [];
      call.on("data", (m) => got.push(m));
      const status = await streamEnd(call);
      assert.equal(status.code, grpc.status.OK, status.details);
      assert.equal(got.length, 300);
      got.forEach((m, k) => {
        assert.ok(m.equals(Buffer.alloc(10000, k % 251)), `message ${k} (${m.length} bytes) is not the app's`);
      });
      assert.deepEqual(status.metadata.get("x-sha256"), [sha256(...got)], show(status.metadata));
      assert.deepEqual(status.metadata.get("x-sent"), ["300"]);
    });

    test("server stream: no messages at all, then the app's trailers", async () => {
      const call = clientOf(route.port).makeServerStreamRequest(
        path("ServerStream"), raw, raw, json({ count: 0, size: 1 }), routeMd(route), {});
      let got = 0;
      call.on("data", () => got++);
      const status = await streamEnd(call);
      assert.equal(status.code, grpc.status.OK, status.details);
      assert.equal(got, 0);
      assert.deepEqual(status.metadata.get("x-sent"), ["0"], show(status.metadata));
    });

    test("client stream: the app counts every message and byte the client sent, empty ones included", async () => {
      const msgs = [];
      for (let i = 0; i < 200; i++) msgs.push(randomBytes(i % 10 === 0 ? 0 : (i * 997) % 40000));
      msgs.push(randomBytes(1 << 20));
      const answer = await new Promise((resolve, reject) => {
        const call = clientOf(route.port).makeClientStreamRequest(path("ClientStream"), raw, raw, routeMd(route), {},
          (err, value) => (err ? reject(err) : resolve(value)));
        for (const m of msgs) call.write(m);
        call.end();
      });
      const bytes = msgs.reduce((n, m) => n + m.length, 0);
      assert.deepEqual(JSON.parse(answer.toString()), { count: msgs.length, bytes, sha256: sha256(...msgs) });
    });

    test("bidi: each message comes back before the next is sent (no buffering until the end)", async () => {
      const { call, next, status } = openBidi(route.port, routeMd(route));
      try {
        for (let i = 0; i < 50; i++) {
          const m = i === 25 ? randomBytes(1 << 20) : Buffer.from(`ping ${i}`);
          call.write(m);
          const back = await next();
          assert.ok(back.equals(m), `message ${i} came back as ${back.length} other bytes`);
        }
      } finally {
        call.end();
      }
      const st = await status;
      assert.equal(st.code, grpc.status.OK, st.details);
    });

    test("20 unary calls and 6 server streams at once on one connection each get their own answers", async () => {
      const bodies = Array.from({ length: 20 }, (_, i) => randomBytes(1000 + i * 3001));
      const unaries = bodies.map((b) => unary(route.port, "Unary", b, routeMd(route)));
      const streams = Array.from({ length: 6 }, (_, i) => {
        const call = clientOf(route.port).makeServerStreamRequest(
          path("ServerStream"), raw, raw, json({ count: 20 + i * 7, size: 3000 + i * 1111 }), routeMd(route), {});
        const got = [];
        call.on("data", (m) => got.push(m));
        return streamEnd(call).then((st) => ({ st, got }));
      });
      const answers = await Promise.all(unaries);
      answers.forEach((r, i) => {
        assert.ifError(r.err);
        assert.ok(r.value.equals(bodies[i]), `call ${i} got ${r.value.length} bytes that are not its ${bodies[i].length}`);
      });
      (await Promise.all(streams)).forEach(({ st, got }, i) => {
        assert.equal(st.code, grpc.status.OK, st.details);
        assert.equal(got.length, 20 + i * 7, `stream ${i}`);
        got.forEach((m, k) => assert.ok(m.equals(Buffer.alloc(3000 + i * 1111, k % 251)), `stream ${i} message ${k}`));
      });
    });

    for (const code of [grpc.status.INVALID_ARGUMENT, grpc.status.FAILED_PRECONDITION]) {
      test(`the app's status ${code}, its message, trailers and grpc-status-details-bin reach the client, trailers-only`, async () => {
        const details = Buffer.from([8, code, 0x12, 3, 0x61, 0x62, 0x63, 0xff, 0]);
        const message = `refused: ${code} 100% sûr, "quoted"`;
        const req = json({ code, message, details: details.toString("base64"), trailer: { "x-why": "because" } });
        const r = await failing(route.port, "Fail", req, routeMd(route));
        // The app answers trailers-only (no headers of its own before the status), and so must the sidecars.
        assert.ok(!r.gotHeaders, `the app's trailers-only answer came with headers: ${show(r.headers)}`);
        assert.equal(r.err.code, code, String(r.err));
        assert.equal(r.err.details, message);
        assert.deepEqual(r.status.metadata.get("x-why"), ["because"], show(r.status.metadata));
        const got = r.status.metadata.get("grpc-status-details-bin");
        assert.equal(got.length, 1, show(r.status.metadata));
        assert.equal(got[0].toString("base64"), details.toString("base64"));
      });
    }

    test("a client that cancels mid-stream ends the app's call as cancelled within 2 s", async () => {
      const tag = `cancel-${route.name}-${Date.now()}`;
      const call = clientOf(route.port).makeServerStreamRequest(
        path("Hang"), raw, raw, Buffer.from(tag), routeMd(route), {});
      call.on("error", () => {});
      const firstMsg = await new Promise((resolve, reject) => {
        call.once("data", resolve);
        call.once("status", (st) => reject(new Error(`Hang ended: ${st.code} ${st.details}`)));
      });
      assert.equal(firstMsg.toString(), "started");
      call.cancel();
      await until("the app to see the call cancelled", async () => {
        const n = await hangCount(route, tag);
        return { ok: n.cancelled >= 1, why: JSON.stringify(n) };
      }, 2000);
      assert.deepEqual(await hangCount(route, tag), { started: 1, cancelled: 1 });
    });

    test("a client that cancels a bidi stream while still sending ends the app's call as cancelled within 2 s", async () => {
      const tag = `bidi-cancel-${route.name}-${Date.now()}`;
      const md = routeMd(route, [["x-tag", tag]]);
      const call = clientOf(route.port).makeBidiStreamRequest(path("Bidi"), raw, raw, md, {});
      call.on("error", () => {});
      call.write(Buffer.from("one"));
      const back = await new Promise((resolve, reject) => {
        call.once("data", resolve);
        call.once("status", (st) => reject(new Error(`Bidi ended: ${st.code} ${st.details}`)));
      });
      assert.equal(back.toString(), "one");
      call.cancel();
      await until("the app to see the call cancelled", async () => {
        const n = await hangCount(route, tag);
        return { ok: n.cancelled >= 1, why: JSON.stringify(n) };
      }, 2000);
      assert.deepEqual(await hangCount(route, tag), { started: 1, cancelled: 1 });
    });

    test("a call whose deadline passes fails DEADLINE_EXCEEDED and ends the app's call", async () => {
      const tag = `deadline-${route.name}-${Date.now()}`;
      const t0 = Date.now();
      const call = clientOf(route.port).makeServerStreamRequest(
        path("Hang"), raw, raw, Buffer.from(tag), routeMd(route), optionsOf(1000));
      call.on("data", () => {});
      call.on("error", () => {});
      const st = await new Promise((resolve) => call.on("status", resolve));
      assert.equal(st.code, grpc.status.DEADLINE_EXCEEDED, `${st.code} ${st.details}`);
      assert.ok(Date.now() - t0 < 3000, `the deadline of 1 s ended the call after ${Date.now() - t0} ms`);
      await until("the app to see the call end", async () => {
        const n = await hangCount(route, tag);
        return { ok: n.started === 1 && n.cancelled === 1, why: JSON.stringify(n) };
      }, 2000);
    });

    // That the app waits for the stream to drain while the reader stalls shows the reader's backpressure reaches it:
    // passed on by the sidecars, not soaked up (and a small RSS means nothing piled up in between).
    const noGrowth = route.sidecar ? ", and no sidecar on the way grows by 30 MB of RSS" : "";
    test(`a client reading 64 MB slowly: the app waits for it${noGrowth}`, async (t) => {
      const SIZE = 64 << 10;
      const COUNT = 1024;
      const rss = watchRss(route);
      const hash = createHash("sha256");
      let n = 0;
      let status;
      try {
        const call = clientOf(route.port).makeServerStreamRequest(
          path("ServerStream"), raw, raw, json({ count: COUNT, size: SIZE }), routeMd(route), {});
        call.on("data", (m) => {
          hash.update(m);
          n++;
          // After 1 MB the reader stalls for 2 s (what is not held back then piles up somewhere), then reads
          // 512 kB every 25 ms.
          if (n % 8 === 0) {
            call.pause();
            setTimeout(() => call.resume(), n === 16 ? 2000 : 25);
          }
        });
        status = await streamEnd(call);
      } finally {
        rss.stop();
      }
      assert.equal(status.code, grpc.status.OK, status.details);
      assert.equal(n, COUNT);
      assert.deepEqual(status.metadata.get("x-sha256"), [hash.digest("hex")]);
      const waited = Number(first(status.metadata, "x-waited-ms"));
      rss.check(t, `the app waited ${waited} ms`);
      assert.ok(waited >= 1500, `the app waited ${waited} ms in all for the stream to drain; the reader stalled 2 s`);
    });

    test(`a client writing 64 MB to an app that reads slowly waits for it${noGrowth}`, async (t) => {
      const SIZE = 64 << 10;
      const COUNT = 1024;
      const rss = watchRss(route);
      const hash = createHash("sha256");
      let waited = 0;
      let answer;
      try {
        let call;
        const done = new Promise((resolve, reject) => {
          call = clientOf(route.port).makeClientStreamRequest(path("SlowSink"), raw, raw, routeMd(route), {},
            (err, value) => (err ? reject(err) : resolve(value)));
        });
        let failed = false;
        done.catch(() => (failed = true));
        for (let k = 0; k < COUNT && !failed; k++) {
          const m = Buffer.alloc(SIZE, k % 251);
          hash.update(m);
          if (!call.write(m)) {
            const t0 = Date.now();
            await Promise.race([new Promise((resolve) => call.once("drain", resolve)), done.catch(() => {})]);
            waited += Date.now() - t0;
          }
        }
        call.end();
        answer = JSON.parse((await done).toString());
      } finally {
        rss.stop();
      }
      assert.deepEqual(answer, { count: COUNT, bytes: COUNT * SIZE, sha256: hash.digest("hex") });
      rss.check(t, `the client waited ${waited} ms`);
      assert.ok(waited >= 1500, `the client waited ${waited} ms in all for its stream to drain; the app stalled 2 s`);
    });
  });
}

// Each of outrigd's own refusals is a trailers-only answer (no headers before the status).
describe("outrigd's own answers", () => {
  const caller = callerGrpcPort;

  test("a method that is not Dapr's without dapr-app-id: UNIMPLEMENTED", async (t) => {
    const r = await failing(caller, "Unary", Buffer.from("x"), mdOf([["x-test", "1"]]));
    t.diagnostic(`${grpcCodeName(r.err.code)}: ${r.err.details}`);
    assert.ok(!r.gotHeaders, `not a trailers-only answer: headers ${show(r.headers)}`);
    assert.equal(r.err.code, grpc.status.UNIMPLEMENTED, String(r.err));
  });

  test("dapr-app-id of an app no sidecar serves: UNAVAILABLE naming the app", async (t) => {
    const r = await failing(caller, "Unary", Buffer.from("x"), mdOf([["dapr-app-id", "nosuchapp"]]));
    t.diagnostic(`${grpcCodeName(r.err.code)}: ${r.err.details}`);
    assert.ok(!r.gotHeaders, `not a trailers-only answer: headers ${show(r.headers)}`);
    assert.equal(r.err.code, grpc.status.UNAVAILABLE, String(r.err));
    assert.match(r.err.details, /nosuchapp/);
  });

  test("the target app dies mid-stream: the client gets the messages that came, then UNAVAILABLE", async (t) => {
    const md = mdOf([["dapr-app-id", "downapp"]]);
    const call = clientOf(caller).makeServerStreamRequest(path("Die"), raw, raw, json({ count: 5 }), md, {});
    const got = [];
    call.on("data", (m) => got.push(m));
    const st = await streamEnd(call);
    t.diagnostic(`${grpcCodeName(st.code)}: ${st.details}`);
    assert.equal(st.code, grpc.status.UNAVAILABLE, `${grpcCodeName(st.code)}: ${st.details}`);
    assert.equal(got.length, 5, `${got.length} of the 5 messages the app sent before it died`);
    got.forEach((m, k) => assert.ok(m.equals(Buffer.alloc(1000, k % 251)), `message ${k}`));
  });

  test("the target app's gRPC server is down: UNAVAILABLE", async (t) => {
    // Killed by the case above; if that one did not run, Die with no message kills it now.
    if (await portOpen(downEchoPort)) {
      const die = clientOf(downEchoPort).makeServerStreamRequest(
        path("Die"), raw, raw, json({ count: 0 }), mdOf([]), {});
      await streamEnd(die);
    }
    const gone = async () => ({ ok: !(await portOpen(downEchoPort)), why: "it still listens" });
    await until("downapp's echo app to be gone", gone, 5000);
    const r = await failing(caller, "Unary", Buffer.from("x"), mdOf([["dapr-app-id", "downapp"]]), 10000);
    t.diagnostic(`${grpcCodeName(r.err.code)}: ${r.err.details}`);
    assert.ok(!r.gotHeaders, `not a trailers-only answer: headers ${show(r.headers)}`);
    assert.equal(r.err.code, grpc.status.UNAVAILABLE, String(r.err));
  });

  for (const id of ["noapp", "httpapp"]) {
    const what = id === "noapp" ? "no app" : "an HTTP app";
    test(`a sidecar with ${what} (${id}): UNAVAILABLE or FAILED_PRECONDITION naming it`, async (t) => {
      const r = await failing(caller, "Unary", Buffer.from("x"), mdOf([["dapr-app-id", id]]), 10000);
      t.diagnostic(`${grpcCodeName(r.err.code)}: ${r.err.details}`);
      assert.ok(!r.gotHeaders, `not a trailers-only answer: headers ${show(r.headers)}`);
      assert.ok([grpc.status.UNAVAILABLE, grpc.status.FAILED_PRECONDITION].includes(r.err.code),
        `${grpcCodeName(r.err.code)}: ${r.err.details}`);
      assert.match(r.err.details, new RegExp(id));
    });
  }

  test("Dapr's own API with dapr-app-id is served by the sidecar, not proxied", async () => {
    const got = await new Promise((resolve) => {
      clientOf(caller).makeUnaryRequest(
        "/dapr.proto.runtime.v1.Dapr/GetMetadata",
        (m) => Buffer.from(toBinary(dapr.GetMetadataRequestSchema, m)),
        (b) => fromBinary(dapr.GetMetadataResponseSchema, b),
        create(dapr.GetMetadataRequestSchema, {}),
        mdOf([["dapr-app-id", "callee"]]),
        (err, value) => resolve({ err, value }),
      );
    });
    assert.ifError(got.err);
    assert.equal(got.value.id, "caller");
  });
});

test("a caller sidecar stopped (SIGTERM) mid-stream lets the stream finish, then exits", async (t) => {
  const COUNT = 64;
  const md = mdOf([["dapr-app-id", "callee"]]);
  const call = clientOf(stopperGrpcPort).makeServerStreamRequest(
    path("ServerStream"), raw, raw, json({ count: COUNT, size: 64 << 10 }), md, {});
  const hash = createHash("sha256");
  let n = 0;
  let signalledAt = 0;
  // The reader takes 512 kB every 100 ms, so the stream lasts about 700 ms after the signal.
  call.on("data", (m) => {
    hash.update(m);
    n++;
    if (n === 8) {
      process.kill(Number(stopperPid), "SIGTERM");
      signalledAt = n;
    }
    if (n % 8 === 0) {
      call.pause();
      setTimeout(() => call.resume(), 100);
    }
  });
  const st = await streamEnd(call);
  assert.equal(signalledAt, 8, "the stream ended before the sidecar was signalled");
  assert.equal(st.code, grpc.status.OK, `${grpcCodeName(st.code)}: ${st.details}`);
  assert.equal(n, COUNT);
  assert.deepEqual(st.metadata.get("x-sha256"), [hash.digest("hex")]);
  await until("the stopped sidecar to exit", async () => ({ ok: !alive(stopperPid), why: "it runs" }), 10000);
});

test(`a proxied bidi stream quiet for ${LONG_MS / 1000} s still carries messages, and ends as the client ends it`, async () => {
  const { call, next, status, tag, t0, first } = longLived;
  assert.ok(Buffer.isBuffer(first) && first.toString() === "early", `the first echo: ${first}`);
  const left = t0 + LONG_MS - Date.now();
  if (left > 0) await sleep(left);
  assert.deepEqual(await hangCount({ appPort: echoPort }, tag), { started: 1, cancelled: 0 }, "the app's call did not last");
  call.write(Buffer.from("late"));
  assert.equal((await next()).toString(), "late");
  call.end();
  const st = await status;
  assert.equal(st.code, grpc.status.OK, st.details);
});
