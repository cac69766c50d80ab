#!/usr/bin/env node
// Entry point of the `isartor` command; the bundle is built by `npm run build`.
require('../dist/cli.js');
