// A stand-in OpenTelemetry collector: accepts OTLP/HTTP trace exports and counts them, so
// the telemetry measurement can prove spans really left Parley while costing it nothing extra.
import http from 'node:http';
import { freePort } from './procs.mjs';

/** Spans and distinct trace ids in one OTLP/JSON export body; null when it is not JSON (protobuf). */
function countSpans(text) {
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  const traceIds = [];
  for (const resource of body.resourceSpans ?? []) {
    for (const scope of resource.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) traceIds.push(span.traceId);
    }
  }
  return traceIds;
}

/** Starts the sink on 127.0.0.1; `counts()` reads what arrived so far. */
export async function startOtlpSink() {
  const port = await freePort();
  const totals = { exports: 0, bytes: 0, spans: 0, unparsed: 0 };
  const traceIds = new Set();
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      if (request.method !== 'POST' || request.url !== '/v1/traces') {
        response.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      totals.exports++;
      totals.bytes += body.length;
      const ids = countSpans(body.toString('utf8'));
      if (ids === null) totals.unparsed++;
      else {
        totals.spans += ids.length;
        for (const id of ids) traceIds.add(id);
      }
      // An empty ExportTraceServiceResponse: full success, in either encoding.
      const isJson = (request.headers['content-type'] ?? '').includes('json');
      response.writeHead(200, { 'content-type': isJson ? 'application/json' : 'application/x-protobuf' }).end(isJson ? '{}' : '');
    });
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    counts: () => ({ ...totals, traces: traceIds.size }),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
