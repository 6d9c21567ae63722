/**
 * Parsing and validation of name forms. Kernel object names (mutex, semaphore, event,
 * timer, section) are case-sensitive and live in one namespace for all types.
 */
import { check } from './errors.ts';

/** Longest object name accepted, prefix excluded (the PAL's limit; Windows allows more). */
export const MAX_OBJECT_NAME = 255;

const PREFIXES = ['Local\\', 'Global\\'] as const;

/**
 * The namespace key of a kernel object name. `Local\X` and `X` are the same object (the
 * session namespace is the default one); `Global\X` is a separate one. Fails with
 * ERROR_INVALID_NAME for an empty name, a NUL or other control character, or a backslash
 * or slash beyond the one prefix, and ERROR_FILENAME_EXCED_RANGE for a name too long.
 */
export function objectNameKey(name: string): string {
  check(typeof name === 'string', 'ERROR_INVALID_PARAMETER', 'name must be a string');
  let scope = 'Local';
  let rest = name;
  for (const prefix of PREFIXES) {
    if (name.startsWith(prefix)) {
      scope = prefix.slice(0, -1);
      rest = name.slice(prefix.length);
      break;
    }
  }
  check(rest.length > 0, 'ERROR_INVALID_NAME', 'empty object name');
  check(rest.length <= MAX_OBJECT_NAME, 'ERROR_FILENAME_EXCED_RANGE', `object name longer than ${MAX_OBJECT_NAME}`);
  // eslint-disable-next-line no-control-regex
  check(!/[\u0000-\u001f\\/]/.test(rest), 'ERROR_INVALID_NAME', `invalid character in object name ${JSON.stringify(name)}`);
  return `${scope}\\${rest}`;
}

/** Longest pipe or mailslot name, the whole `\\.\pipe\…` string counted (Windows' limit). */
export const MAX_DEVICE_NAME = 256;

/** A parsed `\\HOST\pipe\PATH` or `\\HOST\mailslot\PATH` name. */
export interface DeviceName {
  /** `.` for this machine, `*` for the primary domain (mailslots), else a host or domain name as written. */
  readonly host: string;
  /** The path under `pipe\` or `mailslot\`, as written (backslashes separate components). */
  readonly path: string;
  /** The namespace key: the path in lower case (these names are case-insensitive). */
  readonly key: string;
}

/**
 * Parse a pipe or mailslot name. `\\.\pipe\x`, `\\HOST\pipe\a\b` (path components allowed);
 * the device word is case-insensitive, and so is the whole name. Fails ERROR_INVALID_NAME
 * for any other form, an empty or over-long name, an empty path component or a control
 * character, and ERROR_PATH_NOT_FOUND for no name at all (as CreateMailslot(NULL) does).
 */
export function parseDeviceName(name: string, device: 'pipe' | 'mailslot'): DeviceName {
  check(name !== undefined && name !== null, 'ERROR_PATH_NOT_FOUND', `no ${device} name`);
  check(typeof name === 'string', 'ERROR_INVALID_NAME', `${device} name must be a string`);
  check(name.length <= MAX_DEVICE_NAME, 'ERROR_INVALID_NAME', `${device} name longer than ${MAX_DEVICE_NAME} characters`);
  const m = /^\\\\([^\\]+)\\([^\\]+)\\(.+)$/.exec(name);
  check(m !== null && m[2]!.toLowerCase() === device, 'ERROR_INVALID_NAME', `not a ${device} name (\\\\.\\${device}\\NAME): ${JSON.stringify(name)}`);
  const host = m[1]!;
  const path = m[3]!;
  // eslint-disable-next-line no-control-regex
  check(!/[\u0000-\u001f]/.test(name), 'ERROR_INVALID_NAME', `control character in ${device} name`);
  check(path.split('\\').every((c) => c.length > 0), 'ERROR_INVALID_NAME', `empty component in ${device} name ${JSON.stringify(name)}`);
  check(host === '.' || host === '*' || /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(host), 'ERROR_INVALID_NAME', `bad host in ${device} name ${JSON.stringify(name)}`);
  return { host, path, key: path.toLowerCase() };
}
