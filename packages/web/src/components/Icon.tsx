// Stroke icons drawn on a 24-unit grid (in the spirit of Feather/Lucide, written here to stay tiny).
const paths = {
  plus: 'M12 5v14M5 12h14',
  send: 'M5 12h14M13 6l6 6-6 6',
  stop: 'M7 7h10v10H7z',
  copy: 'M9 9h10v10H9zM5 15V5h10',
  check: 'M5 12l5 5 9-10',
  edit: 'M4 20h4L19 9l-4-4L4 16v4zM14 6l4 4',
  refresh: 'M20 11a8 8 0 1 0-2.3 5.7M20 5v6h-6',
  info: 'M12 21a9 9 0 1 0 0-18 9 9 0 0 0 0 18zM12 11v6M12 7.5v.5',
  left: 'M15 5l-7 7 7 7',
  right: 'M9 5l7 7-7 7',
  menu: 'M4 7h16M4 12h16M4 17h16',
  sidebar: 'M4 5h16v14H4zM9 5v14',
  search: 'M11 18a7 7 0 1 0 0-14 7 7 0 0 0 0 14zM20 20l-4-4',
  more: 'M6 12h.01M12 12h.01M18 12h.01',
  pin: 'M9 4h6l-1 6 4 4H6l4-4-1-6zM12 14v6',
  archive: 'M4 5h16v4H4zM6 9v10h12V9M10 13h4',
  download: 'M12 4v11M7 10l5 5 5-5M5 20h14',
  trash: 'M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13',
  settings: 'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM19 12l2-1-2-4-2 1-2-1-1-2h-4l-1 2-2 1-2-1-2 4 2 1v0l-2 1 2 4 2-1 2 1 1 2h4l1-2 2-1 2 1 2-4z',
  shield: 'M12 3l8 3v6c0 5-4 8-8 9-4-1-8-4-8-9V6l8-3z',
  logout: 'M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10',
  close: 'M6 6l12 12M18 6L6 18',
  paperclip: 'M20 11l-8 8a5 5 0 0 1-7-7l8-8a3.5 3.5 0 0 1 5 5l-8 8a2 2 0 0 1-3-3l7-7',
  file: 'M6 3h8l4 4v14H6zM14 3v4h4',
  wifiOff: 'M3 3l18 18M9 17a4 4 0 0 1 6 0M5 13a10 10 0 0 1 5-3M19 13a10 10 0 0 0-3-2M12 20h.01',
  alert: 'M12 3l10 18H2L12 3zM12 10v5M12 18v.01',
  chevronDown: 'M6 9l6 6 6-6',
  image: 'M4 5h16v14H4zM4 16l5-5 4 4 3-3 4 4M15 9h.01',
  key: 'M15 9a4 4 0 1 1-4 4l-7 7H2v-3l7-7a4 4 0 0 1 6-1zM16 8h.01',
} as const;

/** The names of the icons available. */
export type IconName = keyof typeof paths;

/** A decorative icon; the control holding it carries the accessible name. */
export function Icon({ name, size = 18 }: { name: IconName; size?: number }) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.8"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      <path d={paths[name]} />
    </svg>
  );
}
