/**
 * Copying 64 MiB into a view of a FileMapping (memory-backed, warm: every page already
 * touched) against the same copy between two Buffers of this process, in GB/s. Both copies
 * are `Uint8Array.prototype.set` from the same source Buffer; the view's buffer is the
 * mapped memory itself, so the figure is the cost of writing to it, with no object manager
 * on the path (it only named and counted the section when it was made). For information it
 * also measures the copy out of the view into a Buffer, and the first copy into a fresh
 * view, which pays a page fault per 4 KiB page (`bulk.shm.first_touch` in
 * research/perf-baselines.md).
 */
import { randomFillSync } from 'node:crypto';
import { connect, FileMapping } from '../src/client/index.ts';
import { startDaemon } from './lib/daemon.ts';
import { fmt, interleave, iterations, median, ratioOfRounds, type Benchmark } from './lib/harness.ts';
import { measured } from './lib/result.ts';

const SIZE = 64 * 1024 * 1024;

/** GB/s (10^9 bytes) of `reps` copies of `src` into `dst`. */
function copyRate(dst: Uint8Array, src: Uint8Array, reps: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < reps; i++) dst.set(src);
  return (src.length * reps) / Number(process.hrtime.bigint() - t0);
}

const benchmark: Benchmark = {
  ids: ['shm.copy-64m'],
  async run(ctx) {
    const daemon = await startDaemon();
    const connection = await connect({ socketPath: daemon.socketPath, autoStart: false });
    const mapping = await FileMapping.create(undefined, { size: SIZE, protect: 'readwrite', connection });
    const view = mapping.map();
    try {
      const shm = new Uint8Array(view.buffer);
      const src = randomFillSync(Buffer.alloc(SIZE));
      const heap = Buffer.alloc(SIZE);
      const back = Buffer.alloc(SIZE);
      // Warm: every page of the view and of the heap buffers touched before the first round.
      shm.set(src);
      heap.set(src);
      back.set(src);
      const reps = iterations(ctx, 16, 2);

      /** One copy into a section made for it: every page faulted in on the way. */
      const firstTouch = async () => {
        const fresh = await FileMapping.create(undefined, { size: SIZE, protect: 'readwrite', connection });
        const v = fresh.map();
        try {
          return copyRate(new Uint8Array(v.buffer), src, 1);
        } finally {
          await v.unmap();
          await fresh.close();
        }
      };

      const [toView, toHeap, fromView, fresh] = await interleave(ctx, benchmark.ids[0]!, [
        { label: 'into view', unit: 'GB/s', run: async () => copyRate(shm, src, reps) },
        { label: 'heap to heap', unit: 'GB/s', run: async () => copyRate(heap, src, reps) },
        { label: 'out of view', unit: 'GB/s', run: async () => copyRate(back, shm, reps) },
        { label: 'first touch', unit: 'GB/s', run: firstTouch },
      ]);
      if (Buffer.compare(src, Buffer.from(view.buffer)) !== 0) throw new Error('the view does not hold what was copied into it');
      ctx.note(`shm.copy-64m out of the view into a Buffer: ${fmt(median(fromView!))} GB/s, ${fmt(ratioOfRounds(fromView!, toHeap!))}× heap to heap`);
      ctx.note(`shm.copy-64m into a fresh view (first touch, page faults): ${fmt(median(fresh!))} GB/s, ${fmt(ratioOfRounds(fresh!, toHeap!))}× heap to heap`);
      return [
        measured('shm.copy-64m', 'GB/s', toView!, 'raw.heap-copy-64m', toHeap!, { ratio: 0.9, better: 'higher' }),
      ];
    } finally {
      await view.unmap();
      await mapping.close();
      connection.close();
      await connection.closed;
      await daemon.stop();
    }
  },
};

export default benchmark;
