// SPDX-License-Identifier: Apache-2.0
// One unary gRPC call with Node's own http2 (no npm package), for tests/trace/check_tracing.py:
// node grpc_call.mjs PORT PATH HEX_BODY [name=value metadata...]
// prints {"status": grpc-status, "headers": {...response headers}, "body": hex}
import http2 from "node:http2";

const [port, path, hex, ...md] = process.argv.slice(2);
const msg = Buffer.from(hex, "hex");
const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), msg]);
frame.writeUInt32BE(msg.length, 1);
const client = http2.connect(`http://127.0.0.1:${port}`);
client.on("error", (e) => {
  console.log(JSON.stringify({ error: String(e) }));
  process.exit(1);
});
const headers = { ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" };
for (const kv of md) {
  const i = kv.indexOf("=");
  headers[kv.slice(0, i)] = kv.slice(i + 1);
}
const req = client.request(headers);
let resHeaders = {};
let status = null;
const chunks = [];
req.on("response", (h) => (resHeaders = h));
req.on("trailers", (t) => (status = t["grpc-status"]));
req.on("data", (c) => chunks.push(c));
req.on("end", () => {
  if (status === null) status = resHeaders["grpc-status"];
  console.log(JSON.stringify({ status, headers: resHeaders, body: Buffer.concat(chunks).toString("hex") }));
  client.close();
});
req.end(frame);
