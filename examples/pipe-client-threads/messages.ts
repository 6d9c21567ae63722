/**
 * What a client and its client thread say to each other, one pipe message each: a request
 * carries a number, the answer its square, and says which instance of the pipe answered.
 */

export interface Request {
  client: number;
  seq: number;
  n: number;
}

export interface Answer {
  client: number;
  seq: number;
  square: number;
  /** The instance of the pipe (numbered by the server, from 1) whose client thread answered. */
  instance: number;
}

export const encode = (m: Request | Answer): Buffer => Buffer.from(JSON.stringify(m));

/** The request in a message; anything else throws. */
export function parseRequest(data: Buffer): Request {
  const r = JSON.parse(data.toString('utf8')) as Partial<Request>;
  if (!Number.isInteger(r.client) || !Number.isInteger(r.seq) || !Number.isInteger(r.n)) throw new Error(`not a request: ${data.toString('utf8')}`);
  return r as Request;
}

/** The answer in a message, or undefined for anything else. */
export function parseAnswer(data: Buffer): Answer | undefined {
  try {
    const a = JSON.parse(data.toString('utf8')) as Partial<Answer>;
    const ok = [a.client, a.seq, a.square, a.instance].every(Number.isInteger);
    return ok ? (a as Answer) : undefined;
  } catch {
    return undefined;
  }
}

/** "Use request message rm and create an answer message am." */
export function answer(r: Request, instance: number): Answer {
  return { client: r.client, seq: r.seq, square: r.n * r.n, instance };
}
