/**
 * Preloaded with `node --import tsx --import THIS bin/mt.js …`: every way Node opens a socket or
 * resolves a name throws, and the attempt is appended to the file named by MT_NET_LOG, so a caller
 * that swallows the error is caught too. test/no-network.test.ts uses it to prove which commands
 * stay off the network.
 */
import * as fs from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';

const require = createRequire(import.meta.url);
const log = process.env.MT_NET_LOG;

function blocked(what: string): () => never {
  return () => {
    if (log) fs.appendFileSync(log, `${what}\n`);
    throw new Error(`network access blocked in this test: ${what}`);
  };
}

/** Replace `names` on a built-in module's exports (the CommonJS object, synced to its ESM view below). */
function block(moduleName: string, names: string[]): void {
  const mod = require(moduleName) as Record<string, unknown>;
  for (const name of names) mod[name] = blocked(`${moduleName}.${name}`);
}

block('node:net', ['connect', 'createConnection']);
block('node:tls', ['connect']);
block('node:http', ['request', 'get']);
block('node:https', ['request', 'get']);
block('node:http2', ['connect']);
block('node:dgram', ['createSocket']);
block('node:dns', ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny']);
const dnsPromises = require('node:dns').promises as Record<string, unknown>;
for (const name of ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny']) dnsPromises[name] = blocked(`dns.promises.${name}`);
// Sockets made without those helpers (undici behind fetch, a hand-made net.Socket) all connect here.
const net = require('node:net') as typeof import('node:net');
net.Socket.prototype.connect = blocked('net.Socket.prototype.connect');
globalThis.fetch = blocked('fetch');
syncBuiltinESMExports();
