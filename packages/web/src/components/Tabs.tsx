import type { KeyboardEvent } from 'react';

/** A row of tabs (arrow keys move between them); the caller renders the selected panel with id `${id}-panel`. */
export function Tabs<T extends string>({ id, tabs, selected, onSelect, label }: { id: string; tabs: readonly { id: T; label: string }[]; selected: T; onSelect: (tab: T) => void; label: string }) {
  function onKeyDown(event: KeyboardEvent) {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const at = tabs.findIndex((tab) => tab.id === selected);
    const next = tabs[(at + (event.key === 'ArrowRight' ? 1 : -1) + tabs.length) % tabs.length];
    if (next) {
      onSelect(next.id);
      document.getElementById(`${id}-tab-${next.id}`)?.focus();
    }
  }
  return (
    <div className="tabs" role="tablist" aria-label={label} onKeyDown={onKeyDown}>
      {tabs.map((tab) => (
        <button
          key={tab.id}
          id={`${id}-tab-${tab.id}`}
          type="button"
          role="tab"
          className="tabs__tab"
          aria-selected={tab.id === selected}
          aria-controls={`${id}-panel`}
          tabIndex={tab.id === selected ? 0 : -1}
          onClick={() => onSelect(tab.id)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}
