#!/usr/bin/env node
import { main } from '../dist/src/runtime/daemon/main.js';

const code = await main(process.argv.slice(2));
// Once shutdown has finished, nothing left open (a library's forgotten socket) may keep the daemon alive.
const leftOpen = process.getActiveResourcesInfo().filter((name) => /Server|TCPWrap/.test(name));
if (leftOpen.length > 0)
  console.error(`iotedged: exiting with listeners or connections still open: ${leftOpen.join(', ')}`);
process.exit(code);
