/** The objects, filtered by type and name (a glob with `*` and `?`, or a substring), with their activity rates. */
import { useState } from 'preact/hooks';
import type { InspectedObject } from '../../src/protocol/inspection.ts';
import { threadLabel, type DeadlockMarks } from './model.ts';
import type { ActivityRates } from './rates.ts';

export function ObjectsTable(props: { objects: readonly InspectedObject[]; marks: DeadlockMarks; rates: ActivityRates; now: number }) {
  const [type, setType] = useState('');
  const [name, setName] = useState('');
  const types = [...new Set(props.objects.map((o) => o.type))].sort();
  const matches = nameMatcher(name);
  const shown = props.objects.filter((o) => (type === '' || o.type === type) && matches(o.name ?? ''));
  return (
    <div>
      <div class="filters">
        <label>
          type{' '}
          <select data-filter="type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
            <option value="">all</option>
            {types.map((t) => (
              <option value={t}>{t}</option>
            ))}
          </select>
        </label>
        <label>
          name <input data-filter="name" type="search" placeholder="M* or part of a name" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <span class="muted">
          {shown.length} of {props.objects.length}
        </span>
      </div>
      <table class="objects">
        <thead>
          <tr>
            <th>id</th>
            <th>type</th>
            <th>name</th>
            <th>signaled</th>
            <th>state</th>
            <th>owner</th>
            <th>handles</th>
            <th>waiting</th>
            <th title="waits completed per second">waits/s</th>
            <th title="releases, sets, pulses, expiries per second">signals/s</th>
            <th>messages/s</th>
            <th>bytes/s</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((o) => {
            const r = props.rates.rate(o.id, props.now);
            const deadlocked = props.marks.objectIds.has(o.id);
            return (
              <tr key={o.id} data-object-id={o.id} data-object-name={o.name ?? undefined} data-deadlock={deadlocked ? '' : undefined} class={deadlocked ? 'deadlock' : undefined}>
                <td class="num">{o.id}</td>
                <td>{o.type}</td>
                <td>{o.name ?? <span class="muted">(unnamed)</span>}</td>
                <td>{o.signaled ? 'yes' : 'no'}</td>
                <td class="state">
                  {Object.entries(o.state)
                    .map(([k, v]) => `${k}=${v}`)
                    .join(' ')}
                </td>
                <td>{o.owner ? threadLabel(o.owner) : ''}</td>
                <td class="num">{o.handles}</td>
                <td>{o.waiting.map(threadLabel).join(' ')}</td>
                <td class="num">{fmt(r.waits)}</td>
                <td class="num">{fmt(r.signals)}</td>
                <td class="num">{fmt(r.messages)}</td>
                <td class="num">{fmt(r.bytes)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function fmt(n: number): string {
  if (n === 0) return '0';
  if (n < 10) return n.toFixed(1);
  if (n < 10_000) return Math.round(n).toString();
  return `${(n / 1000).toFixed(0)}k`;
}

function nameMatcher(filter: string): (name: string) => boolean {
  const f = filter.trim().toLowerCase();
  if (f === '') return () => true;
  if (!/[*?]/.test(f)) return (name) => name.toLowerCase().includes(f);
  const re = new RegExp(`^${f.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return (name) => re.test(name);
}
