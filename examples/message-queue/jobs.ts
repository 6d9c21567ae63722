/**
 * The message types of the example, as the seed's `message` struct has them: a positive
 * integer type and a body. Lower types are more urgent, so a receive of type −END takes
 * every urgent job, then every normal one, then the end marker.
 */
export const URGENT = 1;
export const NORMAL = 2;
/** Sent once every job is queued: taken only when no job is left. */
export const END = 3;
/** A producer has queued all its jobs. */
export const READY = 4;
// A reply to a producer is typed with its pid (always above READY), so it receives only its own.

/** A job's body (the seed's `text[512]`), as JSON. */
export interface Job {
  job: number;
  producer: number;
  pid: number;
}
