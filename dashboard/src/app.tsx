/** The page: status line, deadlock banner, wait-for graph, objects, processes. */
import { useEffect, useMemo, useState } from 'preact/hooks';
import { useLiveState } from './live.ts';
import { deadlockMarks, describeCycle } from './model.ts';
import { ObjectsTable } from './objects-table.tsx';
import { ProcessList } from './process-list.tsx';
import { WaitGraph } from './wait-graph.tsx';

export function App() {
  const live = useLiveState();
  const now = useClock(1000);
  const snapshot = live.snapshot;
  const marks = useMemo(() => deadlockMarks(snapshot?.cycles ?? []), [snapshot?.cycles]);
  return (
    <main>
      <header>
        <h1>ntipc</h1>
        <span class={live.connected ? 'live on' : 'live off'} data-live={live.connected ? 'on' : 'off'}>
          {live.connected ? 'live' : 'reconnecting…'}
        </span>
        {snapshot && (
          <span class="counts">
            {snapshot.objects.length} objects · {snapshot.processes.length} processes · {snapshot.edges.length} waits ·{' '}
            {new Date(snapshot.at).toLocaleTimeString()}
          </span>
        )}
      </header>
      {snapshot && snapshot.cycles.length > 0 && (
        <div class="banner" role="alert" data-deadlock-banner>
          {snapshot.cycles.map((c) => (
            <p>deadlock: {describeCycle(c, snapshot)}</p>
          ))}
        </div>
      )}
      {snapshot === undefined ? (
        <p class="empty">connecting to the object manager…</p>
      ) : (
        <>
          <section>
            <h2>Wait-for graph</h2>
            <WaitGraph snapshot={snapshot} marks={marks} />
          </section>
          <section>
            <h2>Objects</h2>
            <ObjectsTable objects={snapshot.objects} marks={marks} rates={live.rates} now={now} />
          </section>
          <section>
            <h2>Processes</h2>
            <ProcessList processes={snapshot.processes} marks={marks} />
          </section>
        </>
      )}
    </main>
  );
}

/** performance.now(), refreshed every `ms` so that rates decay on screen (no request is made). */
function useClock(ms: number): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(performance.now()), ms);
    return () => clearInterval(timer);
  }, [ms]);
  return now;
}
