/**
 * Per-object activity rates from the counters each object carries (waits, signals,
 * messages, bytes since it was made): the increase over the last WINDOW_MS, per second.
 * Counters are sampled when an event brings the object, so a rate falls back to zero by
 * itself once nothing happens.
 */
import type { InspectedObject, ObjectActivity } from '../../src/protocol/inspection.ts';

export const WINDOW_MS = 3000;

interface Sample {
  t: number;
  activity: ObjectActivity;
}

const ZERO: ObjectActivity = { waits: 0, signals: 0, messages: 0, bytes: 0 };

export class ActivityRates {
  private readonly samples = new Map<number, Sample[]>();

  reset(objects: readonly InspectedObject[], t: number): void {
    this.samples.clear();
    this.update(objects, [], t);
  }

  update(upsert: readonly InspectedObject[], remove: readonly number[], t: number): void {
    for (const id of remove) this.samples.delete(id);
    for (const o of upsert) {
      const list = this.samples.get(o.id) ?? [];
      list.push({ t, activity: o.activity });
      // Keep one sample at or before the window's start: the counters as they were then.
      while (list.length > 1 && list[1]!.t <= t - WINDOW_MS) list.shift();
      this.samples.set(o.id, list);
    }
  }

  /** Per second over the last WINDOW_MS, at time `now`. */
  rate(id: number, now: number): ObjectActivity {
    const list = this.samples.get(id);
    if (list === undefined || list.length === 0) return ZERO;
    let base = list[0]!;
    for (const s of list) if (s.t <= now - WINDOW_MS) base = s;
    const latest = list[list.length - 1]!;
    const per = (k: keyof ObjectActivity) => Math.max(0, latest.activity[k] - base.activity[k]) / (WINDOW_MS / 1000);
    return { waits: per('waits'), signals: per('signals'), messages: per('messages'), bytes: per('bytes') };
  }
}
