#!/usr/bin/env node
// Entry point of the `isartor` command; the bundle is built by `npm run build`. It runs with a V8
// code cache (./codeCache.js), made by `serve`: the command whose start-up is waited for, and the
// one whose functions are worth having compiled.
const { join } = require('node:path');
const { runWithCodeCache } = require('./codeCache.js');

runWithCodeCache(join(__dirname, '..', 'dist', 'cli.js'), module, { makeCache: process.argv[2] === 'serve' });
