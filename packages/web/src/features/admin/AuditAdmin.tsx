import { useEffect, useState } from 'react';
import type { AuditEvent } from '@parley/wire';
import { messageOf } from '../../api/http';
import { auditExportUrl, listAuditEvents, type AuditFilters } from '../../api/observability';
import { describeDetails } from './audit-format';
import '../../styles/admin-observability.css';

const pageSize = 50;

/** The action filter's choices: a whole area (a dotted prefix) or one action. */
const actionGroups: Array<{ label: string; actions: string[] }> = [
  { label: 'Sign-in and accounts', actions: ['auth.signin.success', 'auth.signin.failure', 'auth.signin.throttled', 'auth.signup', 'auth.password.changed', 'auth.api_key.created', 'auth.api_key.revoked'] },
  { label: 'Users', actions: ['user.role.changed', 'user.updated', 'user.deleted'] },
  { label: 'Connections', actions: ['connection.created', 'connection.updated', 'connection.deleted'] },
  { label: 'Model presets', actions: ['preset.created', 'preset.updated', 'preset.deleted'] },
  { label: 'Settings', actions: ['settings.updated'] },
];
const areaOf = (action: string) => action.split('.')[0] ?? action;

/** The audit log: filter by action, actor, target and dates; page through it; export it as CSV. */
export function AuditAdmin() {
  const [filters, setFilters] = useState<AuditFilters>({});
  const [page, setPage] = useState(1);
  const [data, setData] = useState<{ events: AuditEvent[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let isCurrent = true;
    // Typing in the text filters waits for a pause before asking the server.
    const timer = setTimeout(() => {
      listAuditEvents(filters, page, pageSize).then(
        (next) => isCurrent && (setData(next), setError(null)),
        (caught: unknown) => isCurrent && setError(messageOf(caught)),
      );
    }, 200);
    return () => {
      isCurrent = false;
      clearTimeout(timer);
    };
  }, [filters, page]);

  function filter(patch: Partial<AuditFilters>) {
    setFilters((current) => ({ ...current, ...patch }));
    setPage(1);
  }

  const pages = data ? Math.max(1, Math.ceil(data.total / pageSize)) : 1;
  return (
    <div className="audit">
      <div className="admin__toolbar audit__filters">
        <select aria-label="Action" value={filters.action ?? ''} onChange={(e) => filter({ action: e.target.value })}>
          <option value="">All actions</option>
          {actionGroups.map((group) => (
            <optgroup key={group.label} label={group.label}>
              <option value={areaOf(group.actions[0] ?? '')}>All: {group.label.toLowerCase()}</option>
              {group.actions.map((action) => (
                <option key={action} value={action}>
                  {action}
                </option>
              ))}
            </optgroup>
          ))}
        </select>
        <input type="search" aria-label="Actor" placeholder="Actor email or id" value={filters.actor ?? ''} onChange={(e) => filter({ actor: e.target.value.trim() })} />
        <input type="search" aria-label="Target id" placeholder="Target id" value={filters.target ?? ''} onChange={(e) => filter({ target: e.target.value.trim() })} />
        <label className="audit__date">
          From <input type="date" aria-label="From (UTC)" value={filters.from ?? ''} onChange={(e) => filter({ from: e.target.value })} />
        </label>
        <label className="audit__date">
          To <input type="date" aria-label="To (UTC, inclusive)" value={filters.to ?? ''} onChange={(e) => filter({ to: e.target.value })} />
        </label>
        <a className="button button--small" href={auditExportUrl(filters)} download="audit-log.csv">
          Export CSV
        </a>
        {data && <span className="muted">{data.total.toLocaleString()} events</span>}
      </div>
      {error && <p className="form-error" role="alert">{error}</p>}
      <div className="table-scroll">
        <table className="admin-table audit__table">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Action</th>
              <th scope="col">Actor</th>
              <th scope="col">Target</th>
              <th scope="col">Address</th>
              <th scope="col">Details</th>
            </tr>
          </thead>
          <tbody>
            {data?.events.map((event) => (
              <tr key={event.id} data-action={event.action}>
                <td className="audit__time">
                  <time dateTime={new Date(event.at * 1000).toISOString()}>{new Date(event.at * 1000).toLocaleString()}</time>
                </td>
                <td>
                  <code className={event.action.endsWith('.failure') ? 'audit__action audit__action--failure' : 'audit__action'}>{event.action}</code>
                </td>
                <td>{event.actor_email ?? event.actor_id ?? '—'}</td>
                <td className="audit__target">{event.target_id ? `${event.target_type ?? ''} ${event.target_id}` : '—'}</td>
                <td>{event.ip ?? '—'}</td>
                <td className="audit__details">{describeDetails(event.details)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data && data.events.length === 0 && <p className="muted">No events match.</p>}
      {data && data.total > pageSize && (
        <div className="pager">
          <button type="button" className="button button--small" disabled={page <= 1} onClick={() => setPage(page - 1)}>
            Previous
          </button>
          <span>
            Page {page} of {pages}
          </span>
          <button type="button" className="button button--small" disabled={page >= pages} onClick={() => setPage(page + 1)}>
            Next
          </button>
        </div>
      )}
    </div>
  );
}
