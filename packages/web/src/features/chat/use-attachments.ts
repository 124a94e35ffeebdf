import { useCallback, useEffect, useRef, useState } from 'react';
import { uploadFile } from '../../api/files';
import { messageOf } from '../../api/http';
import { newId } from '../../lib/format';
import type { Attachment } from '../../state/exchange';

/** A file being attached to the next message. */
export interface PendingFile {
  key: string;
  name: string;
  size: number;
  type: string;
  progress: number;
  status: 'uploading' | 'done' | 'error';
  error?: string;
  /** A local preview for images. */
  previewUrl?: string;
  attachment?: Attachment;
}

// Images up to this size are also sent to the model inline (as a data URL).
const inlineImageMax = 5 * 1024 * 1024;

function readDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error('Could not read the file'));
    reader.readAsDataURL(file);
  });
}

/** Files attached to the composer: uploads with progress, previews, removal. */
export function useAttachments() {
  const [files, setFiles] = useState<PendingFile[]>([]);
  const controllers = useRef(new Map<string, AbortController>());
  const patch = (key: string, change: Partial<PendingFile>) => setFiles((all) => all.map((f) => (f.key === key ? { ...f, ...change } : f)));

  const add = useCallback((list: Iterable<File>) => {
    for (const file of list) {
      const key = newId();
      const isImage = file.type.startsWith('image/');
      const controller = new AbortController();
      controllers.current.set(key, controller);
      setFiles((all) => [
        ...all,
        { key, name: file.name, size: file.size, type: file.type, progress: 0, status: 'uploading', previewUrl: isImage ? URL.createObjectURL(file) : undefined },
      ]);
      const dataUrl = isImage && file.size <= inlineImageMax ? readDataUrl(file).catch(() => undefined) : Promise.resolve(undefined);
      uploadFile(file, (progress) => patch(key, { progress }), controller.signal)
        .then(async (uploaded) => {
          const attachment: Attachment = {
            type: isImage ? 'image' : 'file',
            id: uploaded.id,
            name: uploaded.filename,
            content_type: uploaded.meta.content_type,
            size: uploaded.meta.size,
            dataUrl: await dataUrl,
          };
          patch(key, { status: 'done', progress: 1, attachment });
        })
        .catch((error: unknown) => {
          if (!controller.signal.aborted) patch(key, { status: 'error', error: messageOf(error) });
        })
        .finally(() => controllers.current.delete(key));
    }
  }, []);

  const remove = useCallback((key: string) => {
    controllers.current.get(key)?.abort();
    setFiles((all) => {
      const file = all.find((f) => f.key === key);
      if (file?.previewUrl) URL.revokeObjectURL(file.previewUrl);
      return all.filter((f) => f.key !== key);
    });
  }, []);

  /** Empties the list after sending (previews stay valid for the sent message's chips until unmount). */
  const clear = useCallback(() => setFiles([]), []);

  useEffect(() => () => controllers.current.forEach((controller) => controller.abort()), []);

  return { files, add, remove, clear, isUploading: files.some((f) => f.status === 'uploading') };
}
