import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StatusError, type StatusCode } from '../../src/errors.ts';
import { MAX_OBJECT_NAME, objectNameKey } from '../../src/names.ts';

function fails(name: unknown, code: StatusCode): void {
  assert.throws(() => objectNameKey(name as string), (e: unknown) => {
    assert.ok(e instanceof StatusError, `expected StatusError for ${JSON.stringify(name)}, got ${String(e)}`);
    assert.equal(e.code, code, `code for ${JSON.stringify(name)}`);
    return true;
  });
}

test('ordinary names are accepted, in the session (Local) namespace', () => {
  for (const name of ['a', 'my mutex', 'ümlaut 名前 😀', 'with.dots-and_dashes:colons', '0', ' ']) {
    assert.equal(objectNameKey(name), `Local\\${name}`);
  }
});

test('Local\\X and X are the same object; Global\\X is another', () => {
  assert.equal(objectNameKey('Local\\x'), objectNameKey('x'));
  assert.equal(objectNameKey('Global\\x'), 'Global\\x');
  assert.notEqual(objectNameKey('Global\\x'), objectNameKey('x'));
});

test('names are case-sensitive, and so are the prefixes', () => {
  assert.notEqual(objectNameKey('Name'), objectNameKey('name'));
  // "local\x" is not the Local prefix: its backslash is inside the name.
  fails('local\\x', 'ERROR_INVALID_NAME');
  fails('GLOBAL\\x', 'ERROR_INVALID_NAME');
});

test('an empty name, with or without a prefix, is ERROR_INVALID_NAME', () => {
  fails('', 'ERROR_INVALID_NAME');
  fails('Local\\', 'ERROR_INVALID_NAME');
  fails('Global\\', 'ERROR_INVALID_NAME');
});

test('NUL and every other control character is ERROR_INVALID_NAME', () => {
  for (let c = 0; c < 0x20; c++) {
    fails(String.fromCharCode(c), 'ERROR_INVALID_NAME');
    fails(`a${String.fromCharCode(c)}b`, 'ERROR_INVALID_NAME');
    fails(`Global\\x${String.fromCharCode(c)}`, 'ERROR_INVALID_NAME');
  }
});

test('a backslash or slash beyond the one prefix is ERROR_INVALID_NAME', () => {
  for (const name of ['a\\b', '\\a', 'a\\', 'a/b', '/a', 'Local\\a\\b', 'Global\\a/b', 'Local\\Global\\a', 'Global\\Local\\a', 'Local\\\\a', 'Session\\1\\a']) {
    fails(name, 'ERROR_INVALID_NAME');
  }
});

test(`${MAX_OBJECT_NAME} characters are accepted, ${MAX_OBJECT_NAME + 1} are ERROR_FILENAME_EXCED_RANGE`, () => {
  assert.equal(MAX_OBJECT_NAME, 255);
  const longest = 'n'.repeat(255);
  assert.equal(objectNameKey(longest), `Local\\${longest}`);
  assert.equal(objectNameKey(`Local\\${longest}`), `Local\\${longest}`);
  assert.equal(objectNameKey(`Global\\${longest}`), `Global\\${longest}`);
  fails('n'.repeat(256), 'ERROR_FILENAME_EXCED_RANGE');
  fails(`Local\\${'n'.repeat(256)}`, 'ERROR_FILENAME_EXCED_RANGE');
  fails(`Global\\${'n'.repeat(256)}`, 'ERROR_FILENAME_EXCED_RANGE');
  fails('n'.repeat(100_000), 'ERROR_FILENAME_EXCED_RANGE');
});

test('a name that is not a string is ERROR_INVALID_PARAMETER', () => {
  for (const name of [undefined, null, 1, {}]) fails(name, 'ERROR_INVALID_PARAMETER');
});

test('pipe and mailslot names: \\\\HOST\\device\\PATH, case-insensitive', async () => {
  const { parseDeviceName } = await import('../../src/names.ts');
  assert.deepEqual(parseDeviceName('\\\\.\\pipe\\Echo', 'pipe'), { host: '.', path: 'Echo', key: 'echo' });
  assert.equal(parseDeviceName('\\\\.\\PIPE\\A\\b', 'pipe').key, 'a\\b');
  assert.deepEqual(parseDeviceName('\\\\*\\mailslot\\status', 'mailslot'), { host: '*', path: 'status', key: 'status' });
  assert.equal(parseDeviceName('\\\\host-1.lan\\MailSlot\\x', 'mailslot').host, 'host-1.lan');
  const bad = (name: unknown, device: 'pipe' | 'mailslot', code: StatusCode) =>
    assert.throws(() => parseDeviceName(name as string, device), (e: unknown) => e instanceof StatusError && e.code === code, String(name));
  bad('not a named pipe', 'pipe', 'ERROR_INVALID_NAME');
  bad('blah', 'mailslot', 'ERROR_INVALID_NAME');
  bad(null, 'mailslot', 'ERROR_PATH_NOT_FOUND');
  bad('\\\\.\\mailslot\\x', 'pipe', 'ERROR_INVALID_NAME');
  bad('\\\\.\\pipe\\', 'pipe', 'ERROR_INVALID_NAME');
  bad('\\\\.\\pipe\\a\\\\b', 'pipe', 'ERROR_INVALID_NAME');
  bad('\\\\.\\pipe\\a\u0000', 'pipe', 'ERROR_INVALID_NAME');
  bad(`\\\\.\\pipe\\${'x'.repeat(256)}`, 'pipe', 'ERROR_INVALID_NAME');
  assert.equal(parseDeviceName(`\\\\.\\pipe\\${'x'.repeat(256 - 9)}`, 'pipe').path.length, 247);
});
