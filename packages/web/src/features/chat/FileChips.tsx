import { fileUrl } from '../../api/files';
import { Icon } from '../../components/Icon';
import { IconButton } from '../../components/IconButton';
import { formatBytes } from '../../lib/format';
import type { MessageFile } from '../../lib/message';
import type { PendingFile } from './use-attachments';

/** Files waiting in the composer: name, size, upload progress, remove button; images previewed. */
export function PendingChips({ files, onRemove }: { files: PendingFile[]; onRemove: (key: string) => void }) {
  if (files.length === 0) return null;
  return (
    <ul className="chips" aria-label="Attached files">
      {files.map((file) => (
        <li key={file.key} className={`chip chip--${file.status}`}>
          {file.previewUrl ? <img className="chip__thumb" src={file.previewUrl} alt="" /> : <Icon name="file" size={16} />}
          <span className="chip__text">
            <span className="chip__name">{file.name}</span>
            <span className="chip__meta">{file.status === 'error' ? file.error : formatBytes(file.size)}</span>
          </span>
          {file.status === 'uploading' && (
            <progress className="chip__progress" max={1} value={file.progress} aria-label={`Uploading ${file.name}`} />
          )}
          <IconButton icon="close" label={`Remove ${file.name}`} onClick={() => onRemove(file.key)} />
        </li>
      ))}
    </ul>
  );
}

/** Files of a sent message: images as previews, other files as chips linking to their content. */
export function MessageFiles({ files }: { files: MessageFile[] }) {
  if (files.length === 0) return null;
  return (
    <ul className="chips chips--message" aria-label="Files">
      {files.map((file) =>
        file.type === 'image' || file.content_type?.startsWith('image/') ? (
          <li key={file.id} className="message-image">
            <a href={fileUrl(file.id)} target="_blank" rel="noopener noreferrer" aria-label={`Open ${file.name}`}>
              <img src={fileUrl(file.id)} alt={file.name} loading="lazy" />
            </a>
          </li>
        ) : (
          <li key={file.id} className="chip">
            <Icon name="file" size={16} />
            <a className="chip__text" href={fileUrl(file.id)} target="_blank" rel="noopener noreferrer">
              <span className="chip__name">{file.name}</span>
              <span className="chip__meta">{formatBytes(file.size ?? 0)}</span>
            </a>
          </li>
        ),
      )}
    </ul>
  );
}
