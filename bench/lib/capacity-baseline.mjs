// The baseline of the held-streams part: the same streams held by the least a Node relay can
// be (bare-relay.mjs), measured the same way in the same run. Parley's per-stream memory reads
// against it: what Parley adds, and what Node and undici cost whatever the relay does.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { collectGarbage, heapUsedBytes, startWorker, teardown } from './capacity-procs.mjs';
import { answers, freePort, spawnNode, waitUntil } from './procs.mjs';
import { memoryMiB } from './procfs.mjs';
import { startFake } from './services.mjs';
import { round } from './stats.mjs';

const RELAY = path.join(import.meta.dirname, 'bare-relay.mjs');

/** RSS and heap (MiB) after two full collections (the second frees what the first's finalizers let go). */
async function collectedMemory(pid, inspectPort) {
  await collectGarbage(inspectPort);
  await collectGarbage(inspectPort);
  return { rssMiB: memoryMiB(pid).rss, heapMiB: (await heapUsedBytes(inspectPort)) / 2 ** 20 };
}

/**
 * Holds `streams` slow streams through the bare relay (HTTP/1.1 or h2c to `fake`) and
 * reports its RSS growth per stream as is and after a forced collection, and its heap growth.
 */
export async function bareRelayMemory({ fake: fakeOptions, upstream, streams, inFlight, settleMs }) {
  const services = [];
  try {
    const fake = await startFake({ ...fakeOptions, h2c: upstream === 'http2' });
    services.push(fake.service);
    const [port, inspectPort] = [await freePort(), await freePort()];
    const relay = spawnNode('bare relay', [`--inspect=127.0.0.1:${inspectPort}`, RELAY], {
      env: { PORT: String(port), UPSTREAM: fake.origin, HTTP2: String(upstream === 'http2') },
    });
    services.push(relay);
    await waitUntil(relay, () => answers(`http://127.0.0.1:${port}/health`, 200));
    await sleep(settleMs);
    const idle = await collectedMemory(relay.pid, inspectPort);

    const worker = startWorker('capacity worker (bare relay)');
    services.push(worker);
    const body = '{}';
    const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
    worker.child.send({ type: 'hold', spec: { url: { host: '127.0.0.1', port }, path: '/', headers, body, inFlight, firstTokenTimeoutMs: 60_000 } });
    await worker.ask({ type: 'open', count: streams }, 'opened', 300_000);
    await sleep(settleMs);
    const rssMiB = memoryMiB(relay.pid).rss;
    const collected = await collectedMemory(relay.pid, inspectPort);
    const { alive } = await worker.ask({ type: 'status', windowMs: 3000 }, 'status', 30_000);
    const perStream = (mib, idleMib) => round(((mib - idleMib) * 1024) / streams, 1);
    return {
      upstream,
      streams,
      alive,
      kbPerStream: perStream(rssMiB, idle.rssMiB),
      afterGc: { rssKbPerStream: perStream(collected.rssMiB, idle.rssMiB), heapKbPerStream: perStream(collected.heapMiB, idle.heapMiB) },
    };
  } finally {
    await teardown(services, []);
  }
}
