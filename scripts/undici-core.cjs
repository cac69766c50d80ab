'use strict';
// The CLI bundle's `undici` (see scripts/build.mjs): the three exports Isartor's CLI code imports
// (Agent, request, errors), without what undici's index.js loads besides (fetch, WebSocket, mocks,
// caches, proxies: ~50 ms and ~0.5 MB of every `isartor serve` start). `request` is index.js's own
// wrapper (makeDispatcher, undici 7.x) restated; the bundle's build fails if code imports more.
const Dispatcher = require('undici/lib/dispatcher/dispatcher');
const Agent = require('undici/lib/dispatcher/agent');
const errors = require('undici/lib/core/errors');
const util = require('undici/lib/core/util');
const api = require('undici/lib/api');
const { getGlobalDispatcher } = require('undici/lib/global');

// index.js gives every dispatcher its request/stream/pipeline methods this way.
Object.assign(Dispatcher.prototype, api);

const { InvalidArgumentError } = errors;

function request(url, opts, handler) {
  if (typeof opts === 'function') {
    handler = opts;
    opts = null;
  }
  if (!url || (typeof url !== 'string' && typeof url !== 'object' && !(url instanceof URL))) throw new InvalidArgumentError('invalid url');
  if (opts != null && typeof opts !== 'object') throw new InvalidArgumentError('invalid opts');
  if (opts && opts.path != null) {
    if (typeof opts.path !== 'string') throw new InvalidArgumentError('invalid opts.path');
    const path = opts.path.startsWith('/') ? opts.path : `/${opts.path}`;
    url = new URL(util.parseOrigin(url).origin + path);
  } else {
    if (!opts) opts = typeof url === 'object' ? url : {};
    url = util.parseURL(url);
  }
  const { agent, dispatcher = getGlobalDispatcher() } = opts;
  if (agent) throw new InvalidArgumentError('unsupported opts.agent. Did you mean opts.client?');
  return api.request.call(dispatcher, { ...opts, origin: url.origin, path: url.search ? `${url.pathname}${url.search}` : url.pathname, method: opts.method || (opts.body ? 'PUT' : 'GET') }, handler);
}

module.exports = { Agent, Dispatcher, errors, request };
