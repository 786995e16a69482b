#!/usr/bin/env node
// Process entry: pick the command, run it, exit with its code (0 ok, 1 check failed, 2 usage).
import { dispatch } from './cli/dispatch.js';
import { processIo } from './cli/io.js';

dispatch(process.argv.slice(2), processIo).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    processIo.stderr(`epochgate: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
