import { useEffect, useMemo, useState } from 'react';
import type { UsageByModel, UsageByUser, UsageDay, UsageSummary } from '@parley/wire';
import { messageOf } from '../../api/http';
import { usageByDay, usageByModel, usageByUser, usageSummary } from '../../api/observability';
import { formatMs } from '../../lib/format';
import { UsageChart, type ChartData } from './UsageChart';
import { formatCount, startOfUtcDay } from './usage-format';
import '../../styles/admin-observability.css';

const periods = [7, 30, 90] as const;
type Period = (typeof periods)[number];
const topUsers = 10;

interface Usage {
  summary: UsageSummary;
  days: UsageDay[];
  models: UsageByModel[];
  users: UsageByUser[];
}

function Tile({ label, value }: { label: string; value: string }) {
  return (
    <div className="usage-tile">
      <span className="usage-tile__value">{value}</span>
      <span className="usage-tile__label">{label}</span>
    </div>
  );
}

/** Usage: totals, tokens per day and per model as charts, and the heaviest users, over the last 7, 30 or 90 days. */
export function UsageAdmin() {
  const [period, setPeriod] = useState<Period>(30);
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let isCurrent = true;
    // Whole UTC days, today included, so the chart shows exactly `period` days.
    const range = { from: startOfUtcDay(Date.now(), period - 1) };
    setError(null);
    Promise.all([usageSummary(range), usageByDay(range), usageByModel(range), usageByUser(range, topUsers)]).then(
      ([summary, byDay, byModel, byUser]) => isCurrent && setUsage({ summary, days: byDay.days, models: byModel.models, users: byUser.users }),
      (caught: unknown) => isCurrent && setError(messageOf(caught)),
    );
    return () => {
      isCurrent = false;
    };
  }, [period]);

  const perDay = useMemo<ChartData | null>(
    () =>
      usage && {
        kind: 'days',
        x: usage.days.map((day) => day.start),
        series: [
          { label: 'Tokens in', values: usage.days.map((day) => day.prompt_tokens), color: '--accent' },
          { label: 'Tokens out', values: usage.days.map((day) => day.completion_tokens), color: '--hl-string' },
        ],
      },
    [usage],
  );
  const perModel = useMemo<ChartData | null>(
    () =>
      usage && {
        kind: 'categories',
        names: usage.models.map((model) => model.model),
        series: [{ label: 'Tokens', values: usage.models.map((model) => model.total_tokens), color: '--accent' }],
      },
    [usage],
  );

  const summary = usage?.summary;
  return (
    <div className="usage">
      <div className="admin__toolbar" role="group" aria-label="Period">
        {periods.map((days) => (
          <button key={days} type="button" className="button button--small" aria-pressed={period === days} onClick={() => setPeriod(days)}>
            Last {days} days
          </button>
        ))}
      </div>
      {error && <p className="form-error" role="alert">{error}</p>}
      {!usage && !error && <p className="muted">Loading…</p>}
      {summary && perDay && perModel && (
        <>
          <div className="usage-tiles">
            <Tile label="Messages" value={formatCount(summary.messages)} />
            <Tile label="Tokens in" value={formatCount(summary.prompt_tokens)} />
            <Tile label="Tokens out" value={formatCount(summary.completion_tokens)} />
            <Tile label="Active users" value={formatCount(summary.active_users)} />
            <Tile label="Failed answers" value={formatCount(summary.errors)} />
            <Tile label="Mean time to first token" value={summary.avg_ttft_ms === null ? '—' : formatMs(summary.avg_ttft_ms)} />
          </div>
          <UsageChart
            title="Tokens per day (UTC)"
            data={perDay}
            description={`Tokens per day over the last ${period} days: ${formatCount(summary.prompt_tokens)} in, ${formatCount(summary.completion_tokens)} out`}
          />
          <h2 className="usage__heading">By model</h2>
          {usage.models.length === 0 ? (
            <p className="muted">No answers in this period.</p>
          ) : (
            <>
              <UsageChart title="Tokens per model" data={perModel} description={usage.models.map((m) => `${m.model}: ${m.total_tokens} tokens`).join('; ')} />
              <UsageTable rows={usage.models.map((m) => ({ ...m, key: m.model, name: m.model }))} first="Model" />
            </>
          )}
          <h2 className="usage__heading">Top users</h2>
          {usage.users.length === 0 ? (
            <p className="muted">No answers in this period.</p>
          ) : (
            <UsageTable
              rows={usage.users.map((u) => ({ ...u, key: u.user_id, name: u.name ?? 'Deleted user', detail: u.email ?? u.user_id }))}
              first="User"
            />
          )}
        </>
      )}
    </div>
  );
}

/** Messages and tokens per row (a model or a user). */
function UsageTable({ rows, first }: { rows: Array<{ key: string; name: string; detail?: string; messages: number; prompt_tokens: number; completion_tokens: number; total_tokens: number }>; first: string }) {
  return (
    <div className="table-scroll">
      <table className="admin-table">
        <thead>
          <tr>
            <th scope="col">{first}</th>
            <th scope="col" className="numeric">Messages</th>
            <th scope="col" className="numeric">Tokens in</th>
            <th scope="col" className="numeric">Tokens out</th>
            <th scope="col" className="numeric">Total</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.key}>
              <td>
                {row.name}
                {row.detail && <div className="muted usage__detail">{row.detail}</div>}
              </td>
              <td className="numeric">{row.messages.toLocaleString()}</td>
              <td className="numeric">{row.prompt_tokens.toLocaleString()}</td>
              <td className="numeric">{row.completion_tokens.toLocaleString()}</td>
              <td className="numeric">{row.total_tokens.toLocaleString()}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
