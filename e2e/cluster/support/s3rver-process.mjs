// s3rver (an S3-compatible server in Node) in its own process, on a given port, so the
// cluster test can stop the object store and start it again where the instances expect it.
// Usage: node s3rver-process.mjs <directory> <port>; sends {port} over IPC once it listens.
import S3rver from 's3rver';

const [directory, port] = process.argv.slice(2);
const server = new S3rver({ address: '127.0.0.1', port: Number(port), directory, silent: true });
const { port: bound } = await server.run();
process.send({ port: bound });
// The test process went away: do not outlive it.
process.on('disconnect', () => process.exit(0));
