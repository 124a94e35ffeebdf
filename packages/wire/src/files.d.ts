/** A stored file as `/api/v1/files/` shows it (what an upload returns). */
export interface UploadedFile {
  id: string;
  user_id: string;
  filename: string;
  /** SHA-256 of the content, hex. */
  hash: string;
  meta: { name: string; content_type: string; size: number };
  created_at: number;
  updated_at: number;
}
