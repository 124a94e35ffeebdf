import type { ErrorBody, UploadedFile } from '@parley/wire';
import { ApiError, scriptedRequestHeader } from './http';

/** Uploads one file as multipart `file`, reporting progress from 0 to 1. XHR, since fetch cannot report upload progress. */
export function uploadFile(file: File, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<UploadedFile> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/files/');
    for (const [name, value] of Object.entries(scriptedRequestHeader)) xhr.setRequestHeader(name, value);
    xhr.responseType = 'json';
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      const body = xhr.response as (UploadedFile & Partial<ErrorBody>) | null;
      if (xhr.status >= 200 && xhr.status < 300 && body) resolve(body);
      else reject(new ApiError(xhr.status, body?.detail ?? `Upload failed (${xhr.status})`, body?.code));
    };
    xhr.onerror = () => reject(new ApiError(0, 'Upload failed: the network is unreachable'));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

/** Where a stored file's bytes are served (the session cookie authorises it). */
export const fileUrl = (fileId: string) => `/api/v1/files/${encodeURIComponent(fileId)}/content`;
