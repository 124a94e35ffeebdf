import type { ButtonHTMLAttributes } from 'react';
import { Icon, type IconName } from './Icon';

/** A button showing only an icon; `label` is its accessible name and tooltip. */
export function IconButton({ icon, label, className = '', ...rest }: { icon: IconName; label: string } & ButtonHTMLAttributes<HTMLButtonElement>) {
  return (
    <button type="button" className={`icon-button ${className}`} aria-label={label} title={label} {...rest}>
      <Icon name={icon} />
    </button>
  );
}
