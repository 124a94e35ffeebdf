// The memory baseline of held streams: the least a Node relay can be. Each POST opens one
// streamed completion upstream through undici (HTTP/1.1 or h2c, as Parley's agents do) and
// writes its chunks straight back; no auth, database, log or metrics. GET /health answers 200.
// Env: PORT, UPSTREAM (origin of the model server), HTTP2=true for h2c.
import http from 'node:http';
import { Agent, buildConnector } from 'undici';

const upstream = process.env.UPSTREAM;
const agent =
  process.env.HTTP2 === 'true'
    ? new Agent({ allowH2: true, pipelining: 100, connect: buildConnector({ allowH2: true, useH2c: true }) })
    : new Agent({ connections: null, pipelining: 1 });
const body = JSON.stringify({ model: 'fake-model', stream: true, messages: [{ role: 'user', content: 'Tell me a story.' }] });

function relay(res) {
  agent.dispatch(
    { origin: upstream, path: '/v1/chat/completions', method: 'POST', idempotent: true, headers: { 'content-type': 'application/json' }, body },
    {
      onRequestStart() {},
      onResponseStart: (_controller, status) => res.writeHead(status, { 'content-type': 'text/event-stream' }),
      onResponseData: (_controller, chunk) => res.write(chunk),
      onResponseEnd: () => res.end(),
      onResponseError: () => res.destroy(),
    },
  );
}

http
  .createServer((req, res) => {
    if (req.method === 'GET') return res.end('ok');
    req.resume();
    req.on('end', () => relay(res));
  })
  .listen(Number(process.env.PORT), '127.0.0.1');
