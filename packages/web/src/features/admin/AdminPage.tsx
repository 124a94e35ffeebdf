import { lazy, Suspense } from 'react';
import { IconButton } from '../../components/IconButton';
import { Tabs } from '../../components/Tabs';
import { navigate } from '../../lib/router';
import { toggleSidebar } from '../sidebar/Sidebar';
import { AuditAdmin } from './AuditAdmin';
import { ConnectionsAdmin } from './ConnectionsAdmin';
import { GeneralAdmin } from './GeneralAdmin';
import { PresetsAdmin } from './PresetsAdmin';
import { UsersAdmin } from './UsersAdmin';
import '../../styles/admin.css';

// Its chart library loads only when the Usage tab is opened.
const UsageAdmin = lazy(() => import('./UsageAdmin').then((module) => ({ default: module.UsageAdmin })));

const tabs = [
  { id: 'users', label: 'Users' },
  { id: 'connections', label: 'Connections' },
  { id: 'models', label: 'Model presets' },
  { id: 'general', label: 'General' },
  { id: 'usage', label: 'Usage' },
  { id: 'audit', label: 'Audit log' },
] as const;
type Tab = (typeof tabs)[number]['id'];

/** The admin area (its own chunk): users, connections, presets, general settings, usage and the audit log. */
export default function AdminPage({ tab }: { tab: string }) {
  const selected: Tab = tabs.some((t) => t.id === tab) ? (tab as Tab) : 'users';
  return (
    <div className="admin">
      <header className="chat__header">
        <IconButton icon="menu" label="Open sidebar" className="only-narrow" onClick={toggleSidebar} />
        <h1 className="admin__title">Admin</h1>
      </header>
      <div className="admin__body">
        <Tabs id="admin" label="Admin sections" tabs={tabs} selected={selected} onSelect={(next) => navigate(`/admin/${next}`)} />
        <section id="admin-panel" role="tabpanel" aria-labelledby={`admin-tab-${selected}`} className="tab-panel">
          {selected === 'users' && <UsersAdmin />}
          {selected === 'connections' && <ConnectionsAdmin />}
          {selected === 'models' && <PresetsAdmin />}
          {selected === 'general' && <GeneralAdmin />}
          {selected === 'usage' && (
            <Suspense fallback={<p className="muted">Loading…</p>}>
              <UsageAdmin />
            </Suspense>
          )}
          {selected === 'audit' && <AuditAdmin />}
        </section>
      </div>
    </div>
  );
}
