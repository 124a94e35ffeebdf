// Runs s3rver (an S3-compatible server in Node) in its own process, so a test's memory
// measurements see only Parley. Usage: node s3rver-process.mjs <directory>; sends {port} over IPC.
//
// s3rver 3.7 answers AbortMultipartUpload with 405 and ListMultipartUploads with 501; the small
// handlers below add both, on top of s3rver's own upload folders, so tests can check that an
// aborted upload leaves nothing behind.
import fs from 'node:fs';
import path from 'node:path';
import S3rver from 's3rver';

const directory = process.argv[2];
const uploadsOf = (bucket) => path.join(directory, bucket, '._S3rver_uploads');
const xml = (body) => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;
const escape = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

async function multipartHandlers(ctx, next) {
  const [bucket, ...keyParts] = ctx.path.split('/').filter(Boolean);
  if (ctx.method === 'DELETE' && keyParts.length > 0 && typeof ctx.query.uploadId === 'string') {
    const uploadDir = path.join(uploadsOf(bucket), path.basename(ctx.query.uploadId));
    if (!fs.existsSync(uploadDir)) {
      ctx.status = 404;
      ctx.type = 'application/xml';
      ctx.body = xml('<Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist.</Message></Error>');
      return;
    }
    fs.rmSync(uploadDir, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  if (ctx.method === 'GET' && keyParts.length === 0 && 'uploads' in ctx.query) {
    const root = uploadsOf(bucket);
    const ids = fs.existsSync(root) ? fs.readdirSync(root) : [];
    const uploads = ids
      .map((id) => `<Upload><Key>${escape(fs.readFileSync(path.join(root, id, 'key'), 'utf8'))}</Key><UploadId>${id}</UploadId></Upload>`)
      .join('');
    ctx.type = 'application/xml';
    ctx.body = xml(
      `<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Bucket>${escape(bucket)}</Bucket>` +
        `<MaxUploads>1000</MaxUploads><IsTruncated>false</IsTruncated>${uploads}</ListMultipartUploadsResult>`,
    );
    return;
  }
  await next();
}

const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true });
// Ahead of s3rver's router, which would refuse these requests.
server.middleware.unshift(multipartHandlers);
const { port } = await server.run();
process.send({ port });
// The test process went away: do not outlive it.
process.on('disconnect', () => process.exit(0));
