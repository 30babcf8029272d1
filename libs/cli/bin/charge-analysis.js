#!/usr/bin/env node
'use strict';
// Launcher: registers tsx with the repository's root tsconfig (for the @charge/* paths) and
// runs the TypeScript entry point.
const path = require('node:path');

process.env.TSX_TSCONFIG_PATH = path.resolve(__dirname, '../../../tsconfig.json');
require('tsx/cjs/api').register();
const { main } = require('../src/main.ts');

main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(`charge-analysis: internal error: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  },
);
