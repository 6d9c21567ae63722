/** Processes: their threads (what each owns and waits on) and their handles. */
import type { InspectedProcess } from '../../src/protocol/inspection.ts';
import { threadNode, type DeadlockMarks } from './model.ts';

export function ProcessList(props: { processes: readonly InspectedProcess[]; marks: DeadlockMarks }) {
  if (props.processes.length === 0) return <p class="muted">no client process</p>;
  return (
    <div class="processes">
      {props.processes.map((p) => (
        <details key={p.pid} open data-pid={p.pid}>
          <summary>
            pid {p.pid} · {p.threads.length} thread{p.threads.length === 1 ? '' : 's'} · {p.handles.length} handle{p.handles.length === 1 ? '' : 's'}
          </summary>
          <ul class="threads">
            {p.threads.map((t) => {
              const deadlocked = props.marks.nodes.has(threadNode({ pid: p.pid, threadId: t.threadId }));
              return (
                <li key={t.threadId} data-deadlock={deadlocked ? '' : undefined} class={deadlocked ? 'deadlock' : undefined}>
                  thread {p.pid}.{t.threadId} {t.agent && <span class="muted">({t.agent})</span>}
                  {t.owns.length > 0 && <> · owns {t.owns.map((id) => `#${id}`).join(' ')}</>}
                  {t.waits.map((w) => (
                    <>
                      {' '}
                      · waits for {w.all ? 'all of' : w.objectIds.length > 1 ? 'any of' : ''} {w.objectIds.map((id) => `#${id}`).join(' ')}{' '}
                      <span class="muted">({w.request ?? 'wait'}, {Math.max(0, Math.round((Date.now() - w.sinceMs) / 1000))} s)</span>
                    </>
                  ))}
                </li>
              );
            })}
          </ul>
          {p.handles.length > 0 && (
            <table class="handles">
              <thead>
                <tr>
                  <th>handle</th>
                  <th>object</th>
                  <th>type</th>
                  <th>name</th>
                  <th>access</th>
                </tr>
              </thead>
              <tbody>
                {p.handles.map((h) => (
                  <tr key={h.handle}>
                    <td class="num">{h.handle}</td>
                    <td class="num">#{h.objectId}</td>
                    <td>{h.type}</td>
                    <td>{h.name ?? ''}</td>
                    <td class="num">0x{h.access.toString(16).padStart(8, '0')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </details>
      ))}
    </div>
  );
}
