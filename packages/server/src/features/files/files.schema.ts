import { z } from 'zod';

/** `/files/{id}`: any string; ids that are not ours simply are not found. */
export const fileIdParams = z.object({ id: z.string().min(1).max(200) });

/** `GET /files/`: without `page` every file is listed, as in Open WebUI. */
export const listFilesQuery = z.object({
  page: z.coerce.number().int().min(1).max(1_000_000).optional(),
});

/** Files per page when `page` is given. */
export const FILES_PAGE_SIZE = 100;
