import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  check,
  Errno,
  ERRNO_BASE,
  IpcError,
  statusFromWire,
  StatusError,
  Win32,
  wireStatus,
  type ErrnoCode,
  type StatusCode,
  type Win32Code,
} from '../../src/errors.ts';

const win32Codes = Object.keys(Win32) as Win32Code[];
const errnoCodes = Object.keys(Errno) as ErrnoCode[];
const allCodes: StatusCode[] = [...win32Codes, ...errnoCodes];

test('every Win32 code travels as its GetLastError number and comes back', () => {
  for (const code of win32Codes) {
    assert.equal(wireStatus(code), Win32[code][0], code);
    assert.equal(statusFromWire(wireStatus(code)), code);
  }
});

test('every errno code travels offset by ERRNO_BASE and comes back', () => {
  for (const code of errnoCodes) {
    assert.equal(wireStatus(code), ERRNO_BASE + Errno[code][0], code);
    assert.equal(statusFromWire(wireStatus(code)), code);
  }
});

test('no two codes share a wire number, and every wire number fits a u32', () => {
  const wires = allCodes.map(wireStatus);
  assert.equal(new Set(wires).size, wires.length);
  for (const w of wires) assert.ok(Number.isInteger(w) && w >= 0 && w <= 0xffff_ffff);
  for (const code of win32Codes) assert.ok(Win32[code][0] < ERRNO_BASE, code);
});

test('a wire number outside the table is unknown', () => {
  for (const n of [4, 9999, ERRNO_BASE, ERRNO_BASE + 9999, 0xffff_ffff]) assert.equal(statusFromWire(n), undefined);
});

test('the numbers are the ones Windows and Linux report', () => {
  assert.equal(Win32.ERROR_FILE_NOT_FOUND[0], 2);
  assert.equal(Win32.ERROR_INVALID_HANDLE[0], 6);
  assert.equal(Win32.ERROR_INVALID_PARAMETER[0], 87);
  assert.equal(Win32.ERROR_INVALID_NAME[0], 123);
  assert.equal(Win32.ERROR_ALREADY_EXISTS[0], 183);
  assert.equal(Win32.ERROR_FILENAME_EXCED_RANGE[0], 206);
  assert.equal(Win32.ERROR_NOT_OWNER[0], 288);
  assert.equal(Win32.ERROR_TOO_MANY_POSTS[0], 298);
  assert.equal(Win32.ERROR_REVISION_MISMATCH[0], 1306);
  assert.equal(Errno.EINVAL[0], 22);
  assert.equal(Errno.ENOENT[0], 2);
});

test('IpcError has Node\'s shape: code, a positive errno, syscall, path, and a message naming them', () => {
  for (const code of allCodes) {
    const e = new IpcError(code, 'openMutex', 'Local\\m', 'some detail');
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'IpcError');
    assert.equal(e.code, code);
    const number = code in Win32 ? Win32[code as Win32Code][0] : Errno[code as ErrnoCode][0];
    assert.equal(e.errno, number);
    if (code !== 'ERROR_SUCCESS') assert.ok(e.errno > 0, `${code} errno ${e.errno}`);
    assert.equal(e.syscall, 'openMutex');
    assert.equal(e.path, 'Local\\m');
    assert.ok(e.message.startsWith(`${code} (${number}): `), e.message);
    assert.ok(e.message.includes('openMutex Local\\m'), e.message);
    assert.ok(e.message.endsWith(': some detail'), e.message);
    assert.ok(typeof e.stack === 'string');
  }
});

test('IpcError without syscall or path has neither property', () => {
  const e = new IpcError('ERROR_NOT_OWNER');
  assert.equal(e.message, 'ERROR_NOT_OWNER (288): Attempt to release mutex not owned by caller');
  assert.equal(Object.hasOwn(e, 'syscall'), false);
  assert.equal(Object.hasOwn(e, 'path'), false);
});

test('IpcError.fromWire rebuilds every code, and an unknown number as ERROR_INVALID_FUNCTION', () => {
  for (const code of allCodes) {
    const e = IpcError.fromWire(wireStatus(code), 'wait');
    assert.equal(e.code, code);
    assert.equal(e.syscall, 'wait');
  }
  const unknown = IpcError.fromWire(0xdead_beef);
  assert.equal(unknown.code, 'ERROR_INVALID_FUNCTION');
  assert.equal(unknown.errno, 1);
});

test('check throws a StatusError with the code only when the condition fails', () => {
  check(true, 'ERROR_INVALID_PARAMETER');
  check(1, 'ERROR_INVALID_PARAMETER');
  assert.throws(() => check(0, 'ERROR_TOO_MANY_POSTS', 'count 3'), (e: unknown) => {
    assert.ok(e instanceof StatusError);
    assert.equal(e.code, 'ERROR_TOO_MANY_POSTS');
    assert.equal(e.detail, 'count 3');
    assert.equal(e.message, 'ERROR_TOO_MANY_POSTS: count 3');
    return true;
  });
});
