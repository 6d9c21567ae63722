/**
 * libc through koffi, loaded once and lazily. A binding that cannot be loaded on this
 * platform fails with a clear IpcError when it is first used, not at import.
 */
import { createRequire } from 'node:module';
import { IpcError } from '../errors.ts';

type Koffi = typeof import('koffi');

let koffi: Koffi | undefined;
let libc: ReturnType<Koffi['load']> | undefined;

/** The koffi module and the C library, or an IpcError saying why not. */
export function loadLibc(): { koffi: Koffi; libc: ReturnType<Koffi['load']> } {
  if (koffi === undefined || libc === undefined) {
    try {
      const require = createRequire(import.meta.url);
      koffi = require('koffi') as Koffi;
      libc = koffi.load(process.platform === 'linux' ? 'libc.so.6' : process.platform === 'darwin' ? 'libc.dylib' : 'libc.so');
    } catch (e) {
      throw new IpcError('ERROR_NOT_SUPPORTED', 'dlopen', 'libc', (e as Error).message);
    }
  }
  return { koffi, libc };
}
