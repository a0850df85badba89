// SPDX-License-Identifier: Apache-2.0
// A gRPC server that is not outrig (@grpc/grpc-js), for tests/grpc_client/check_grpc_client.c.
// Usage: node server.mjs PORT. Serves outrig.test.Probe on 127.0.0.1:PORT through a TCP relay that counts
// connections and can cut them all (Drop). Messages are raw bytes: no .proto, no protobuf.
//   Echo   answers the request; initial metadata seen-<name> for each x-* and dapr-* name it got,
//          seen-deadline-ms (time left when it arrived); trailer echo-trailer: done
//   Fail   request {"code": N, "message": "..."} (JSON): fails with that status and message
//   Sleep  request "MS": answers "slept" after MS milliseconds (counts in-flight and cancelled calls)
//   Huge   request "N": answers N bytes of 'a'
//   Drop   cuts every connection through the relay, this call's own included; never answers
//   Stats  answers {"connections", "cancelled", "maxSleeping"} as JSON
import { createRequire } from 'node:module';
import net from 'node:net';

const require = createRequire(new URL('../interop/package.json', import.meta.url));
const grpc = require('@grpc/grpc-js');

const port = Number(process.argv[2]);
const raw = (b) => b;
const method = (name) => ({
	path: `/outrig.test.Probe/${name}`,
	requestStream: false,
	responseStream: false,
	requestSerialize: raw,
	requestDeserialize: raw,
	responseSerialize: raw,
	responseDeserialize: raw,
});
const service = Object.fromEntries(['Echo', 'Fail', 'Sleep', 'Huge', 'Drop', 'Stats'].map((n) => [n, method(n)]));

const stats = { connections: 0, cancelled: 0, maxSleeping: 0 };
let sleeping = 0;
const sockets = new Set();

const impl = {
	Echo(call, cb) {
		const md = new grpc.Metadata();
		for (const [k, v] of Object.entries(call.metadata.getMap()))
			if (k.startsWith('x-') || k.startsWith('dapr-')) md.set(`seen-${k}`, String(v));
		const left = Number(call.getDeadline()) - Date.now();
		if (Number.isFinite(left)) md.set('seen-deadline-ms', String(Math.round(left)));
		call.sendMetadata(md);
		const trailer = new grpc.Metadata();
		trailer.set('echo-trailer', 'done');
		cb(null, call.request, trailer);
	},
	Fail(call, cb) {
		const { code, message } = JSON.parse(call.request.toString());
		cb({ code, details: message });
	},
	Sleep(call, cb) {
		sleeping++;
		stats.maxSleeping = Math.max(stats.maxSleeping, sleeping);
		const timer = setTimeout(() => {
			sleeping--;
			cb(null, Buffer.from('slept'));
		}, Number(call.request.toString()));
		call.on('cancelled', () => {
			clearTimeout(timer);
			sleeping--;
			stats.cancelled++;
		});
	},
	Huge(call, cb) {
		cb(null, Buffer.alloc(Number(call.request.toString()), 0x61));
	},
	Drop() {
		for (const s of sockets) s.destroy();
	},
	Stats(call, cb) {
		cb(null, Buffer.from(JSON.stringify(stats)));
	},
};

const server = new grpc.Server();
server.addService(service, impl);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, inner) => {
	if (err) {
		console.error(`server.mjs: cannot bind the gRPC server: ${err.message}`);
		process.exit(1);
	}
	// The relay: the client's connections end here, so that Drop can cut them and Stats count them.
	const relay = net.createServer((front) => {
		// Counted once it speaks: the test harness's port probe connects and says nothing.
		front.once('data', () => stats.connections++);
		const back = net.connect(inner, '127.0.0.1');
		front.setNoDelay(true);
		back.setNoDelay(true);
		sockets.add(front);
		sockets.add(back);
		const end = () => {
			front.destroy();
			back.destroy();
			sockets.delete(front);
			sockets.delete(back);
		};
		for (const s of [front, back]) {
			s.on('error', end);
			s.on('close', end);
		}
		front.pipe(back);
		back.pipe(front);
	});
	relay.listen(port, '127.0.0.1', () => console.log(`server.mjs: outrig.test.Probe on 127.0.0.1:${port}`));
});
