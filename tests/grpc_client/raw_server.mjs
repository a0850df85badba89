// SPDX-License-Identifier: Apache-2.0
// A hand-made gRPC server on Node's own HTTP/2 (node:http2), for tests/grpc_client/check_grpc_client.c: answers
// that a well-behaved gRPC library never sends, so that the client's reading of each is seen.
// Usage: node raw_server.mjs PORT. Every path answers by its last segment:
//   Split        OK, the message "split" sent a byte or two per DATA frame, the 5-byte prefix split too
//   TrailersOnly  one HEADERS with END_STREAM: grpc-status 7, grpc-message "denied%20here"
//   Http503      HTTP status 503, no grpc-status
//   NoStatus     a message, then the stream ends without trailers
//   TwoMessages  two messages in answer to a unary call
//   Compressed   a message flagged compressed
//   BadStatus    grpc-status "abc"
//   Reset        RST_STREAM ENHANCE_YOUR_CALM, no headers
//   Goaway       the first time: GOAWAY that refuses the call (its last stream is the one before; so the
//                call must not be the first on its connection), no answer; then OK "retried"
//   BigHeaders   OK "big", with 40 000 bytes of initial metadata (x-big): HEADERS and CONTINUATION frames
//   Sleep        OK "slept" after 200 ms; Sleeping: the most Sleep calls ever in flight at once, as text
//   Connections  OK, the number of connections so far as text
//   Echo         OK, the request's message
// The server allows 3 concurrent streams (SETTINGS_MAX_CONCURRENT_STREAMS) and refuses more, and opens
// 16 MiB flow-control windows: a client may send megabytes before it hears anything.
import http2 from 'node:http2';

const port = Number(process.argv[2]);
const message = (bytes, flag = 0) => {
	const body = Buffer.from(bytes);
	const prefix = Buffer.alloc(5);
	prefix[0] = flag;
	prefix.writeUInt32BE(body.length, 1);
	return Buffer.concat([prefix, body]);
};
const ok = { ':status': 200, 'content-type': 'application/grpc' };
let refused = false;
let connections = 0;
let sleeping = 0;
let maxSleeping = 0;
const answerOk = (stream, text) => {
	stream.respond(ok, { waitForTrailers: true });
	stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
	stream.end(message(text));
};

const answers = {
	Split(stream) {
		stream.respond(ok, { waitForTrailers: true });
		const bytes = message('split');
		let at = 0;
		const next = () => {
			if (at >= bytes.length) {
				stream.end();
				return;
			}
			stream.write(bytes.subarray(at, at + 2));
			at += 2;
			setTimeout(next, 5);
		};
		stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
		next();
	},
	TrailersOnly(stream) {
		stream.respond({ ...ok, 'grpc-status': '7', 'grpc-message': 'denied%20here' }, { endStream: true });
	},
	Http503(stream) {
		stream.respond({ ':status': 503, 'content-type': 'text/plain' });
		stream.end('busy');
	},
	NoStatus(stream) {
		stream.respond(ok);
		stream.end(message('no status'));
	},
	TwoMessages(stream) {
		stream.respond(ok, { waitForTrailers: true });
		stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
		stream.end(Buffer.concat([message('one'), message('two')]));
	},
	Compressed(stream) {
		stream.respond(ok, { waitForTrailers: true });
		stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
		stream.end(message('zipped?', 1));
	},
	BadStatus(stream) {
		stream.respond(ok, { waitForTrailers: true });
		stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': 'abc' }));
		stream.end(message('x'));
	},
	Reset(stream) {
		stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
	},
	Goaway(stream) {
		if (!refused) {
			refused = true;
			// The last stream it takes is the one before this call's (0 would mean "the last one seen").
			stream.session.goaway(http2.constants.NGHTTP2_NO_ERROR, stream.id - 2);
			return;
		}
		stream.respond(ok, { waitForTrailers: true });
		stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
		stream.end(message('retried'));
	},
	BigHeaders(stream) {
		stream.respond({ ...ok, 'x-big': 'b'.repeat(40000) }, { waitForTrailers: true });
		stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'x-after': 'yes' }));
		stream.end(message('big'));
	},
	Sleep(stream) {
		sleeping++;
		maxSleeping = Math.max(maxSleeping, sleeping);
		setTimeout(() => {
			sleeping--;
			answerOk(stream, 'slept');
		}, 200);
	},
	Sleeping(stream) {
		answerOk(stream, String(maxSleeping));
	},
	Echo(stream) {
		stream.respond(ok, { waitForTrailers: true });
		stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
		stream.end(Buffer.concat(stream.received));
	},
	Connections(stream) {
		stream.respond(ok, { waitForTrailers: true });
		stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
		stream.end(message(String(connections)));
	},
};

const windowSize = 16 << 20;
const server = http2.createServer({ settings: { maxConcurrentStreams: 3, initialWindowSize: windowSize } });
server.on('session', (session) => {
	connections++;
	session.on('connect', () => session.setLocalWindowSize(windowSize));
});
server.on('stream', (stream, headers) => {
	stream.on('error', () => {});
	const name = String(headers[':path']).split('/').pop();
	// The request is read to its end first, as a gRPC server would (Echo sends it back, prefix included).
	stream.received = [];
	stream.on('data', (chunk) => stream.received.push(chunk));
	stream.on('end', () => (answers[name] ?? answers.TrailersOnly)(stream));
});
server.listen(port, '127.0.0.1', () => console.log(`raw_server.mjs: on 127.0.0.1:${port}`));
