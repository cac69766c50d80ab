// Where a miss's time goes inside a proxy, for scripts/miss-timeline.sh (issue 15). Preloaded
// (`node --require`) into any Node proxy, it timestamps each request at four points by watching
// Node's own socket and server methods, so the proxy's code is not touched:
//   start      the server emits 'request' (request head parsed; body not yet read)
//   up-write   the first write on an outgoing socket after that (the upstream request)
//   up-read    the first data that socket receives after the write (the upstream response)
//   out-write  the first write on the client's socket after that (the response)
// Meant for concurrency 1, where requests do not overlap. On SIGTERM it prints the medians of
// the phases between the points, over the requests after the first SKIP (default 3000).
const http = require('node:http');
const net = require('node:net');
const { performance } = require('node:perf_hooks');

const skip = Number(process.env.MISS_TIMELINE_SKIP ?? 3000);
const phases = { 'request to upstream write': [], 'upstream round trip': [], 'upstream data to client write': [], 'request to client write': [] };
let seen = 0;
let current;

const emit = http.Server.prototype.emit;
http.Server.prototype.emit = function (event, ...args) {
  if (event === 'request') current = ++seen > skip ? { start: performance.now() } : undefined;
  return emit.call(this, event, ...args);
};

/** Marks the first write on a socket of each kind; a server's sockets are the clients'. */
for (const method of ['_writev', '_write']) {
  const original = net.Socket.prototype[method];
  net.Socket.prototype[method] = function (...args) {
    const at = performance.now();
    if (current) {
      if (!this.server && current.upWrite === undefined) current.upWrite = at;
      else if (this.server && current.upRead !== undefined && current.outWrite === undefined) {
        current.outWrite = at;
        phases['request to upstream write'].push(current.upWrite - current.start);
        phases['upstream round trip'].push(current.upRead - current.upWrite);
        phases['upstream data to client write'].push(current.outWrite - current.upRead);
        phases['request to client write'].push(current.outWrite - current.start);
      }
    }
    return original.apply(this, args);
  };
}

const push = net.Socket.prototype.push;
net.Socket.prototype.push = function (chunk, encoding) {
  if (chunk && current && !this.server && current.upWrite !== undefined && current.upRead === undefined) current.upRead = performance.now();
  return push.call(this, chunk, encoding);
};

process.on('SIGTERM', () => {
  for (const [name, values] of Object.entries(phases)) {
    values.sort((a, b) => a - b);
    const median = values.length ? (values[values.length >> 1] * 1000).toFixed(1) : '-';
    process.stderr.write(`timeline ${name}: median ${median} us over ${values.length} requests\n`);
  }
  process.exit(0);
});
