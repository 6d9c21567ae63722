/** Where an object manager keeps durable state when not told: never shared, never in the runtime directory. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { stateDirFor } from '../../src/broker/queue-journal.ts';
import { socketPath } from '../../src/transport/paths.ts';

const env = { XDG_STATE_HOME: '/state', XDG_RUNTIME_DIR: '/run/user/7' };

test('the namespace\'s own socket keeps its state in the namespace\'s state directory', () => {
  assert.equal(stateDirFor(socketPath(env), env), '/state/ntipc');
  const named = { ...env, NTIPC_NAMESPACE: 'work' };
  assert.equal(stateDirFor(socketPath(named), named), '/state/ntipc/work');
});

test('any other socket gets a directory of its own under it, the same one each time', () => {
  const a = stateDirFor('/tmp/x/a.sock', env);
  const b = stateDirFor('/tmp/x/b.sock', { ...env, NTIPC_SOCKET: '/tmp/x/b.sock' });
  assert.equal(path.dirname(a), '/state/ntipc/sockets');
  assert.equal(path.dirname(b), '/state/ntipc/sockets');
  assert.notEqual(a, b);
  assert.equal(stateDirFor('/tmp/x/a.sock', env), a);
  assert.ok(!a.startsWith(path.dirname(socketPath(env))), 'never in the runtime directory');
});

test('NTIPC_STATE_DIR is taken as given, whatever the socket', () => {
  assert.equal(stateDirFor('/tmp/x/a.sock', { ...env, NTIPC_STATE_DIR: '/keep' }), '/keep');
});
