// SPDX-License-Identifier: Apache-2.0
// A plain gRPC app (no Dapr schema at all) for outrigd's gRPC proxying, tests/interop/grpc_proxy.mjs: service
// outrig.test.Echo over @grpc/grpc-js with raw Buffer (de)serializers, so every byte the test sends is the byte the
// app sees. Usage: node echo_app.mjs PORT.
//   Unary         echoes the request bytes; initial metadata x-echo-md: JSON {key: [values]} of the metadata it
//                 received (-bin values in base64), x-echo-deadline: the ms left before the call's deadline at
//                 arrival ("none" without one), x-echo-bin: bytes 00 ff 01; trailer x-trailer: t1
//   ServerStream  request JSON {count, size}: count messages of size bytes, message k filled with byte k % 251,
//                 written as the stream drains; trailer x-sha256: hex sha256 of all it sent, x-sent: count,
//                 x-waited-ms: how long it waited in all for the stream to drain (the reader's backpressure)
//   ClientStream  answers JSON {count, bytes, sha256} of the messages it received
//   SlowSink      as ClientStream, but reads slowly: stalls 2 s after 16 messages, then pauses 25 ms every 8
//   Bidi          echoes each message as it arrives; ends when the client does; with metadata x-tag, counted
//                 as Hang's calls are
//   Fail          request JSON {code, message, details (base64), trailer {key: value}}: fails with that status,
//                 message, trailing metadata and grpc-status-details-bin = details
//   Hang          server stream, request bytes = a tag: sends one message "started" and never ends; counts per tag
//                 the calls that ended as cancelled
//   Die           server stream, request JSON {count}: sends count messages of 1000 bytes (byte k % 251), and once
//                 they went out, kills its own process (SIGKILL: no status, no trailers, the connection drops)
//   Cancelled     request bytes = a tag: answers JSON {started, cancelled} of the Hang (and tagged Bidi) calls
//                 with that tag
import { createHash } from "node:crypto";
import { createRequire } from "node:module";

const require = createRequire(new URL("../interop/package.json", import.meta.url));
const grpc = require("@grpc/grpc-js");

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) {
  console.error("usage: node echo_app.mjs PORT");
  process.exit(2);
}

const raw = (b) => b;
const method = (name, requestStream, responseStream) => ({
  path: `/outrig.test.Echo/${name}`,
  requestStream,
  responseStream,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
});
const service = {
  Unary: method("Unary", false, false),
  ServerStream: method("ServerStream", false, true),
  ClientStream: method("ClientStream", true, false),
  SlowSink: method("SlowSink", true, false),
  Bidi: method("Bidi", true, true),
  Fail: method("Fail", false, false),
  Hang: method("Hang", false, true),
  Die: method("Die", false, true),
  Cancelled: method("Cancelled", false, false),
};

const json = (v) => Buffer.from(JSON.stringify(v));
const metadataJson = (md) => {
  const out = {};
  for (const key of Object.keys(md.getMap())) {
    out[key] = md.get(key).map((v) => (Buffer.isBuffer(v) ? v.toString("base64") : v));
  }
  return out;
};
const hangs = new Map(); // tag -> {started, cancelled}
const hangCall = (tag, call) => {
  const rec = hangs.get(tag) ?? { started: 0, cancelled: 0 };
  hangs.set(tag, rec);
  rec.started++;
  call.on("cancelled", () => {
    rec.cancelled++;
  });
};

const impl = {
  Unary(call, cb) {
    const md = new grpc.Metadata();
    md.set("x-echo-md", JSON.stringify(metadataJson(call.metadata)));
    // grpc-js gives the deadline as a Date or as ms since the epoch, Infinity without one.
    const deadline = call.getDeadline();
    const left = (deadline instanceof Date ? deadline.getTime() : Number(deadline)) - Date.now();
    md.set("x-echo-deadline", Number.isFinite(left) ? String(Math.max(0, Math.round(left))) : "none");
    md.set("x-echo-bin", Buffer.from([0, 0xff, 1]));
    call.sendMetadata(md);
    const trailer = new grpc.Metadata();
    trailer.set("x-trailer", "t1");
    cb(null, call.request, trailer);
  },
  async ServerStream(call) {
    let want;
    try {
      want = JSON.parse(call.request.toString());
    } catch {
      call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: "ServerStream wants JSON {count, size}" });
      return;
    }
    const hash = createHash("sha256");
    let gone = false;
    let waitedMs = 0;
    let wake = () => {};
    call.on("cancelled", () => {
      gone = true;
      wake();
    });
    call.on("drain", () => wake());
    for (let k = 0; k < want.count && !gone; k++) {
      const msg = Buffer.alloc(want.size, k % 251);
      hash.update(msg);
      if (!call.write(msg)) {
        const t0 = Date.now();
        await new Promise((resolve) => (wake = resolve));
        waitedMs += Date.now() - t0;
      }
    }
    if (gone) {
      return;
    }
    const trailer = new grpc.Metadata();
    trailer.set("x-sha256", hash.digest("hex"));
    trailer.set("x-sent", String(want.count));
    trailer.set("x-waited-ms", String(waitedMs));
    call.end(trailer);
  },
  ClientStream(call, cb) {
    const hash = createHash("sha256");
    let count = 0;
    let bytes = 0;
    call.on("data", (b) => {
      count++;
      bytes += b.length;
      hash.update(b);
    });
    call.on("end", () => cb(null, json({ count, bytes, sha256: hash.digest("hex") })));
    call.on("error", () => {});
  },
  SlowSink(call, cb) {
    const hash = createHash("sha256");
    let count = 0;
    let bytes = 0;
    call.on("data", (b) => {
      count++;
      bytes += b.length;
      hash.update(b);
      if (count % 8 === 0) {
        call.pause();
        setTimeout(() => call.resume(), count === 16 ? 2000 : 25);
      }
    });
    call.on("end", () => cb(null, json({ count, bytes, sha256: hash.digest("hex") })));
    call.on("error", () => {});
  },
  Bidi(call) {
    const tag = call.metadata.get("x-tag")[0];
    if (tag) hangCall(String(tag), call);
    call.on("data", (b) => call.write(b));
    call.on("end", () => call.end());
    call.on("error", () => {});
  },
  Fail(call, cb) {
    let want;
    try {
      want = JSON.parse(call.request.toString());
    } catch {
      return cb({ code: grpc.status.INVALID_ARGUMENT, details: "Fail wants JSON {code, message, details, trailer}" });
    }
    const md = new grpc.Metadata();
    for (const [k, v] of Object.entries(want.trailer ?? {})) md.set(k, v);
    if (want.details) md.set("grpc-status-details-bin", Buffer.from(want.details, "base64"));
    cb({ code: want.code, details: want.message, metadata: md });
  },
  Hang(call) {
    hangCall(call.request.toString(), call);
    call.write(Buffer.from("started"));
  },
  Die(call) {
    const { count } = JSON.parse(call.request.toString());
    let sent = 0;
    const die = () => setTimeout(() => process.kill(process.pid, "SIGKILL"), 300);
    if (count === 0) return die();
    for (let k = 0; k < count; k++) {
      call.write(Buffer.alloc(1000, k % 251), () => ++sent === count && die());
    }
  },
  Cancelled(call, cb) {
    cb(null, json(hangs.get(call.request.toString()) ?? { started: 0, cancelled: 0 }));
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
server.addService(service, impl);
server.bindAsync(`127.0.0.1:${port}`, serverCredentials(), (err) => {
  if (err) {
    console.error(`echo_app.mjs: cannot listen on 127.0.0.1:${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`echo_app.mjs: outrig.test.Echo on 127.0.0.1:${port}`);
});
