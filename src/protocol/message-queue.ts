/**
 * System V message queues on the control-plane wire: the limits both sides know, named as
 * Linux names its tunables (their Linux defaults, except where stated), and the key forms.
 */

export const MessageQueueLimits = {
  /** MSGMAX: the largest message, in bytes; a larger send fails EINVAL. */
  maxMessageBytes: 8192,
  /** MSGMNB: the byte limit (msg_qbytes) of a new queue unless `maxBytes` says otherwise. */
  defaultMaxBytes: 16_384,
  /** The largest byte limit a queue may have (Linux: MSGMNB without CAP_SYS_RESOURCE). */
  maxQueueBytes: 16 * 1024 * 1024,
  /** MSGMNI: most queues at once; a further create fails ENOSPC. */
  maxQueues: 32_000,
  /**
   * Most memory that queued messages and blocked sends hold, all queues together, each
   * message counted with {@link messageOverhead}; a send past it fails ENOMEM.
   */
  poolBytes: 256 * 1024 * 1024,
  /** What a message costs the pool beyond its data. */
  messageOverhead: 64,
  /** Longest string key, in characters. */
  maxKeyLength: 255,
} as const;

/** IPC_PRIVATE: the numeric key that always makes a new queue no other get can find. */
export const IPC_PRIVATE = 0;

/** The permission bits a mode may have (owner, group, other: rwx each; x is ignored). */
export const MODE_BITS = 0o777;
