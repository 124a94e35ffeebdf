import net from 'node:net';

/** A TCP proxy a test can cut and restore, to play a network or server outage. */
export interface TcpProxy {
  port: number;
  /** Drops every connection and stops listening. */
  cut(): Promise<void>;
  /** Drops every connection and accepts new ones without ever answering, as a host that stopped responding. */
  stall(): Promise<void>;
  /** Forwards again on the same port (after a cut or a stall). */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/** Forwards 127.0.0.1:<random port> to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  // Connections accepted while stalled: never forwarded, dropped on restore.
  const held = new Set<net.Socket>();
  let isStalled = false;
  const server = net.createServer((client) => {
    if (isStalled) {
      held.add(client);
      client.on('close', () => held.delete(client));
      client.on('error', () => undefined);
      return;
    }
    const upstream = net.connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
  await listen(0);
  const port = (server.address() as net.AddressInfo).port;
  const cut = async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
  };
  const stall = async () => {
    isStalled = true;
    for (const socket of sockets) socket.destroy();
    if (!server.listening) await listen(port);
  };
  const restore = async () => {
    isStalled = false;
    for (const socket of held) socket.destroy();
    if (!server.listening) await listen(port);
  };
  const close = async () => {
    for (const socket of held) socket.destroy();
    await cut();
  };
  return { port, cut, stall, restore, close };
}
