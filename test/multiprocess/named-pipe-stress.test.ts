/**
 * A multi-instance named-pipe server under load: 32 client processes, 500 transactions each,
 * against 4 instances each served by its own async task; every reply is checked by its client.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withPipeAgents } from '../helpers/pipe-agents.ts';

const CLIENTS = 32;
const TRANSACTIONS = 500;
const INSTANCES = 4;

test(`${CLIENTS} client processes × ${TRANSACTIONS} transactions against ${INSTANCES} instances: every reply is the client's own`, async (t) => {
  const { pipeAgent, status } = await withPipeAgents(t);
  const name = `\\\\.\\pipe\\ntipc-stress-${process.pid}`;
  const server = await pipeAgent();
  await server.call('echoServer', name, INSTANCES);
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => pipeAgent()));
  const results = (await Promise.all(clients.map((c) => c.call('echoClient', name, TRANSACTIONS)))) as { busy: number }[];
  assert.equal(results.length, CLIENTS);
  assert.ok(results.some((r) => r.busy > 0), 'with more clients than instances, some found every instance busy and waited');
  const served = await server.call('echoServed', CLIENTS);
  assert.deepEqual(served, { clients: CLIENTS, transactions: CLIENTS * TRANSACTIONS, errors: [] });
  assert.ok((await status()).pendingWaits <= INSTANCES, "only the server's connects may be pending: no client is left waiting");
});
