import { useState } from 'react';
import { Dialog } from '../../components/Dialog';
import { Tabs } from '../../components/Tabs';
import { AccountSettings } from './AccountSettings';
import { ArchivedChats } from './ArchivedChats';
import { GeneralSettings } from './GeneralSettings';

const tabs = [
  { id: 'general', label: 'General' },
  { id: 'account', label: 'Account' },
  { id: 'archived', label: 'Archived chats' },
] as const;
type Tab = (typeof tabs)[number]['id'];

/** The user's settings: theme, defaults, password, API key, archived chats. */
export function SettingsDialog({ onClose }: { onClose: () => void }) {
  const [tab, setTab] = useState<Tab>('general');
  return (
    <Dialog title="Settings" onClose={onClose} wide>
      <Tabs id="settings" label="Settings sections" tabs={tabs} selected={tab} onSelect={setTab} />
      <div id="settings-panel" role="tabpanel" aria-labelledby={`settings-tab-${tab}`} className="tab-panel">
        {tab === 'general' && <GeneralSettings />}
        {tab === 'account' && <AccountSettings />}
        {tab === 'archived' && <ArchivedChats />}
      </div>
    </Dialog>
  );
}
