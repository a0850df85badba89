// SPDX-License-Identifier: Apache-2.0
// A gRPC app for tests/trace/check_tracing.py, with Node's own http2 (no npm package): every call gets an empty
// message and grpc-status 0 (so AppCallback's list methods see empty lists), and each call's path and metadata are
// printed as one JSON line. Usage: node grpc_app.mjs PORT (prints LISTENING once it listens).
import http2 from "node:http2";

const server = http2.createServer();
server.on("stream", (stream, headers) => {
  const md = {};
  for (const [k, v] of Object.entries(headers)) if (!k.startsWith(":")) md[k] = v;
  console.log(JSON.stringify({ path: headers[":path"], headers: md }));
  stream.on("data", () => {});
  stream.on("end", () => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
});
server.listen(Number(process.argv[2]), "127.0.0.1", () => console.log("LISTENING"));
