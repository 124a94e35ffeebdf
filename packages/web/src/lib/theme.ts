import { useEffect } from 'react';
import { resolveTheme, useSettings } from '../state/settings';

/** Keeps <html data-theme> in line with the user's choice and, for `system`, the OS setting. */
export function useThemeEffect(): void {
  const theme = useSettings((s) => s.theme);
  useEffect(() => {
    const query = window.matchMedia('(prefers-color-scheme: dark)');
    const apply = () => {
      const resolved = resolveTheme(theme, query.matches);
      document.documentElement.dataset.theme = resolved;
      document.documentElement.style.colorScheme = resolved;
    };
    apply();
    query.addEventListener('change', apply);
    return () => query.removeEventListener('change', apply);
  }, [theme]);
}
