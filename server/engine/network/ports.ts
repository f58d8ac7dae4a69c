// Published ports, the userland half. DNAT (nat.ts) carries traffic that arrives from outside or is
// sent by the host to one of its non-loopback addresses. What DNAT cannot carry without loosening
// the kernel (route_localnet=1 on the bridge lets containers reach the host's 127.0.0.1 services)
// goes through this small proxy, like Docker's docker-proxy: connections to 127.0.0.1:HOSTPORT, and
// from containers on our bridges to a published port (hairpin and other networks). The proxy's
// listening socket also reserves the port, so a host program cannot take it and a second container
// asking for it gets a clear error.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { Conflict, InvalidArgument } from '../types.js';

export interface ProxySpec {
  hostIp?: string;
  hostPort: number;
  protocol: 'tcp' | 'udp';
  targetIp: string;
  targetPort: number;
}

export function bindAddress(hostIp?: string): string {
  return !hostIp ? '0.0.0.0' : hostIp;
}

export function describe(p: { hostIp?: string; hostPort: number; protocol: string }): string {
  return `${bindAddress(p.hostIp)}:${p.hostPort}/${p.protocol}`;
}

function inUse(p: { hostIp?: string; hostPort: number; protocol: string }, e: NodeJS.ErrnoException): Error {
  if (e.code === 'EADDRINUSE') return new Conflict(`Bind for ${describe(p)} failed: port is already in use by a program on the host`);
  if (e.code === 'EADDRNOTAVAIL') return new InvalidArgument(`Bind for ${describe(p)} failed: ${p.hostIp} is not an address of this host`);
  if (e.code === 'EACCES') return new Conflict(`Bind for ${describe(p)} failed: permission denied`);
  return e;
}

export class PortProxy {
  private tcp: Server | null = null;
  private udp: UdpSocket | null = null;
  private readonly conns = new Set<Socket>();
  private readonly flows = new Map<string, { sock: UdpSocket; timer: NodeJS.Timeout }>();

  constructor(readonly spec: ProxySpec) {}

  start(): Promise<void> {
    return this.spec.protocol === 'tcp' ? this.startTcp() : this.startUdp();
  }

  private startTcp(): Promise<void> {
    const { targetIp, targetPort } = this.spec;
    const server = createServer({ pauseOnConnect: false }, (client) => {
      this.conns.add(client);
      const up = connect({ host: targetIp, port: targetPort });
      this.conns.add(up);
      const end = () => {
        client.destroy();
        up.destroy();
        this.conns.delete(client);
        this.conns.delete(up);
      };
      client.on('error', end).on('close', end);
      up.on('error', end).on('close', end);
      client.pipe(up);
      up.pipe(client);
    });
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(inUse(this.spec, e as NodeJS.ErrnoException)));
      server.listen({ host: bindAddress(this.spec.hostIp), port: this.spec.hostPort, exclusive: true }, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        server.unref();
        this.tcp = server;
        resolve();
      });
    });
  }

  private startUdp(): Promise<void> {
    const { targetIp, targetPort } = this.spec;
    const server = createSocket({ type: 'udp4', reuseAddr: false });
    server.on('message', (msg, rinfo) => {
      const key = `${rinfo.address}:${rinfo.port}`;
      let flow = this.flows.get(key);
      if (!flow) {
        const sock = createSocket('udp4');
        sock.on('message', (reply) => server.send(reply, rinfo.port, rinfo.address));
        sock.on('error', () => {});
        sock.unref();
        const f = { sock, timer: setTimeout(() => {}, 0) };
        this.flows.set(key, f);
        flow = f;
      }
      const f = flow;
      clearTimeout(f.timer);
      f.timer = setTimeout(() => {
        f.sock.close();
        this.flows.delete(key);
      }, 60_000);
      f.timer.unref();
      f.sock.send(msg, targetPort, targetIp);
    });
    return new Promise((resolve, reject) => {
      server.once('error', (e) => {
        server.close();
        reject(inUse(this.spec, e as NodeJS.ErrnoException));
      });
      server.bind({ address: bindAddress(this.spec.hostIp), port: this.spec.hostPort, exclusive: true }, () => {
        server.removeAllListeners('error');
        server.on('error', () => {});
        server.unref();
        this.udp = server;
        resolve();
      });
    });
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.destroy();
    this.conns.clear();
    for (const f of this.flows.values()) {
      clearTimeout(f.timer);
      f.sock.close();
    }
    this.flows.clear();
    if (this.tcp) {
      const s = this.tcp;
      this.tcp = null;
      await new Promise<void>((r) => s.close(() => r()));
    }
    if (this.udp) {
      const s = this.udp;
      this.udp = null;
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
}

/** Is the port free on the host? Binds and closes at once; throws Conflict if not. */
export async function probePort(p: { hostIp?: string; hostPort: number; protocol: 'tcp' | 'udp' }): Promise<void> {
  const proxy = new PortProxy({ ...p, targetIp: '127.0.0.1', targetPort: 9 });
  await proxy.start();
  await proxy.close();
}

/** An ephemeral port the kernel considers free (for -p CONTAINERPORT without a host port). */
export async function ephemeralPort(protocol: 'tcp' | 'udp', hostIp?: string): Promise<number> {
  if (protocol === 'tcp') {
    const s = createServer();
    await new Promise<void>((res, rej) => s.once('error', rej).listen({ host: bindAddress(hostIp), port: 0 }, () => res()));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  const u = createSocket('udp4');
  await new Promise<void>((res, rej) => u.once('error', rej).bind({ address: bindAddress(hostIp), port: 0 }, () => res()));
  const port = u.address().port;
  await new Promise<void>((r) => u.close(() => r()));
  return port;
}
