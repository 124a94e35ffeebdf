import type { UploadedFile } from '@parley/wire';
import type { FileRow } from '../../platform/db/schema.js';

/** A file as the API shows it (Open WebUI's shape; times in epoch seconds). */
export function toFileResponse(row: FileRow): UploadedFile {
  const createdAt = Math.floor(row.created_at / 1000);
  return {
    id: row.id,
    user_id: row.user_id,
    filename: row.filename,
    hash: row.sha256,
    meta: { name: row.filename, content_type: row.content_type, size: row.size },
    created_at: createdAt,
    updated_at: createdAt,
  };
}
export type FileResponse = ReturnType<typeof toFileResponse>;
