// Loaded into every Node peer with `node --require` (NODE_OPTIONS): the peer reaches the
// simulator and nothing else. The peers already run in a network namespace of their own
// with only a loopback interface (bench/peers.py); this is the second wall, and what
// confines them where no namespace can be made.
//
// - Every socket connect to a host other than loopback, and every DNS lookup of a name
//   other than localhost, fails at once.
// - aws-sdk v2 ignores AWS_ENDPOINT_URL: each copy of it a peer loads is pointed at the
//   simulator by AWS.config.sqs, which every SQS client inherits whatever region it is
//   built for (replay-aws-dlq's sqs-producer and sqs-consumer default to eu-west-1).
// - lumigo-cli reports each command to Segment (src/lib/analytics.js, with no switch):
//   its analytics-node module is replaced by one that sends nothing. Its npm version
//   check is turned off by SKIP_VERSION_CHECK, set by the bench.
"use strict";

const dns = require("dns");
const Module = require("module");
const net = require("net");

const endpoint = process.env.DLQCTL_BENCH_ENDPOINT;
const region = process.env.AWS_REGION || "us-east-1";

function loopback(host) {
  if (host === undefined || host === null || host === "") return true; // Node's default: localhost
  const name = String(host).replace(/^\[|\]$/g, "").toLowerCase();
  return name === "localhost" || name === "::1" || /^127\./.test(name) || /^::ffff:127\./.test(name);
}

function refused(host) {
  const error = new Error(`bench: ${host} is not loopback; peers reach 127.0.0.1 only`);
  error.code = "ECONNREFUSED";
  return error;
}

const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function confinedConnect(...args) {
  // net.createConnection passes its normalized arguments as one array.
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  let host;
  if (first !== null && typeof first === "object") {
    if (first.path) return connect.apply(this, args); // a Unix socket
    host = first.host;
  } else if (typeof first === "number" || /^\d+$/.test(String(first))) {
    host = typeof args[1] === "string" ? args[1] : undefined;
  } else {
    return connect.apply(this, args); // a Unix socket path
  }
  if (!loopback(host)) {
    process.nextTick(() => this.destroy(refused(host)));
    return this;
  }
  return connect.apply(this, args);
};

const lookup = dns.lookup;
dns.lookup = function confinedLookup(host, ...rest) {
  if (!loopback(host)) {
    const callback = rest[rest.length - 1];
    process.nextTick(() => callback(Object.assign(refused(host), { code: "ENOTFOUND" })));
    return {};
  }
  return lookup.call(this, host, ...rest);
};

const configured = new Set();
const load = Module._load;
Module._load = function confinedLoad(request, parent, isMain) {
  if (request === "analytics-node") {
    return class NoAnalytics {
      track() {}
      identify() {}
      flush(callback) {
        if (callback) callback();
      }
    };
  }
  const loaded = load.apply(this, arguments);
  if (endpoint && (request === "aws-sdk" || request.startsWith("aws-sdk/"))) {
    const core = Module._resolveFilename("aws-sdk/lib/core", parent);
    if (!configured.has(core)) {
      configured.add(core);
      const AWS = load.call(this, core, parent, false);
      AWS.config.update({ region });
      AWS.config.sqs = { endpoint, region };
    }
  }
  return loaded;
};
