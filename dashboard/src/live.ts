/**
 * The live state: a snapshot from `/events`, then its deltas applied in order
 * (src/protocol/dashboard-events.ts). EventSource reconnects by itself, and each new
 * connection starts again from a snapshot.
 */
import { useEffect, useState } from 'preact/hooks';
import { applyDelta, DashboardEvent, type SnapshotDelta } from '../../src/protocol/dashboard-events.ts';
import type { Snapshot } from '../../src/protocol/inspection.ts';
import { ActivityRates } from './rates.ts';

export interface LiveState {
  snapshot: Snapshot | undefined;
  connected: boolean;
  rates: ActivityRates;
  /** Events received, for the footer. */
  events: number;
}

export function useLiveState(url = '/events'): LiveState {
  const [state, setState] = useState<LiveState>(() => ({ snapshot: undefined, connected: false, rates: new ActivityRates(), events: 0 }));
  useEffect(() => {
    const source = new EventSource(url);
    const rates = state.rates;
    source.addEventListener(DashboardEvent.snapshot, (e) => {
      const snapshot = JSON.parse((e as MessageEvent<string>).data) as Snapshot;
      rates.reset(snapshot.objects, performance.now());
      setState((s) => ({ ...s, snapshot, connected: true, events: s.events + 1 }));
    });
    source.addEventListener(DashboardEvent.delta, (e) => {
      const delta = JSON.parse((e as MessageEvent<string>).data) as SnapshotDelta;
      rates.update(delta.objects.upsert, delta.objects.remove, performance.now());
      setState((s) => (s.snapshot === undefined ? s : { ...s, snapshot: applyDelta(s.snapshot, delta), events: s.events + 1 }));
    });
    source.addEventListener('error', () => setState((s) => ({ ...s, connected: false })));
    return () => source.close();
  }, [url]);
  return state;
}
