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
