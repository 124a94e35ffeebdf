import net from 'node:net';

/** A TCP proxy whose traffic a test can stall (a silent network: nothing refused, nothing answered) and let go. */
export interface StallingProxy {
  port: number;
  /** Holds every byte in both directions, on open connections and new ones. */
  stall(): void;
  /** Lets the held bytes and all later ones through. */
  flow(): void;
  close(): Promise<void>;
}

/** Forwards 127.0.0.1:<random port> to `target`. */
export async function startStallingProxy(target: { host: string; port: number }): Promise<StallingProxy> {
  const sockets = new Set<net.Socket>();
  let isStalled = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
      if (isStalled) socket.pause();
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as net.AddressInfo).port,
    stall() {
      isStalled = true;
      for (const socket of sockets) socket.pause();
    },
    flow() {
      isStalled = false;
      for (const socket of sockets) socket.resume();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
