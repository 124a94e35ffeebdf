import type { App } from '../../http/app-types.js';
import { callerOf } from '../../http/access.js';
import { httpErrors } from '../../http/errors.js';
import { contentDisposition, isActiveContent } from './file-names.js';
import { toFileResponse } from './files.presenter.js';
import { fileIdParams, listFilesQuery } from './files.schema.js';
import type { FilesService } from './files.service.js';

/** Open WebUI's /api/v1/files endpoints; every user sees only their own files. */
export function filesRoutes(app: App, files: FilesService): void {
  const base = '/api/v1/files';

  app.post(`${base}/`, { config: { access: 'verified' } }, async (request) => {
    let part;
    try {
      part = await request.file();
    } catch (error) {
      // The plugin's own errors carry a status (415 not multipart, 413 limits); the parser's do not.
      if (typeof (error as { statusCode?: unknown }).statusCode === 'number') throw error;
      throw httpErrors.badRequest(`Malformed multipart body: ${(error as Error).message}`);
    }
    if (!part) throw httpErrors.badRequest('No file part in the upload; send it as the multipart field "file"');
    if (part.fieldname !== 'file') {
      part.file.resume();
      throw httpErrors.badRequest(`Unexpected file field "${part.fieldname}"; send the file as the field "file"`);
    }
    const stream = part.file;
    const row = await files.upload(callerOf(request).id, {
      filename: part.filename,
      contentType: part.mimetype,
      body: stream,
      isTruncated: () => stream.truncated,
    });
    return toFileResponse(row);
  });

  app.get(`${base}/`, { config: { access: 'verified' }, schema: { querystring: listFilesQuery } }, async (request) =>
    (await files.list(callerOf(request).id, request.query.page)).map(toFileResponse),
  );

  app.delete(`${base}/all`, { config: { access: 'verified' } }, async (request) => {
    await files.deleteAllForUser(callerOf(request).id);
    return { status: true };
  });

  app.get(`${base}/:id`, { config: { access: 'verified' }, schema: { params: fileIdParams } }, async (request) =>
    toFileResponse(await files.get(callerOf(request).id, request.params.id)),
  );

  app.get(`${base}/:id/content`, { config: { access: 'verified' }, schema: { params: fileIdParams } }, async (request, reply) => {
    const { file, body } = await files.open(callerOf(request).id, request.params.id);
    const isActive = isActiveContent(file.content_type);
    return reply
      .header('content-type', isActive ? 'application/octet-stream' : file.content_type)
      .header('content-disposition', contentDisposition(isActive ? 'attachment' : 'inline', file.filename))
      .header('content-length', String(file.size))
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'private, no-cache')
      .send(body);
  });

  app.delete(`${base}/:id`, { config: { access: 'verified' }, schema: { params: fileIdParams } }, async (request) => {
    await files.delete(callerOf(request).id, request.params.id);
    return { status: true };
  });
}
