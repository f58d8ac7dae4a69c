import { defineLab } from '../../server/labs/format.js';
import { fail, pass, probe } from '../../server/labs/format.js';

// A fixed host port, so the step's command can name it: two sessions of this lab on one host at
// once cannot both publish it (the second start is refused, "port is already allocated", as Docker's).
const HOST_PORT = 18404;
const PAGE = 'hello from web\n';

export default defineLab({
  id: '04-network-namespace',
  title: 'Network namespace: veth, bridge, NAT, ports; none and host',
  summary: 'Follow a ping by name from one container to another over a veth pair and a bridge, fetch a page through a published port (DNAT), and compare --network none and host.',
  order: 4,
  containers: [
    {
      role: 'web',
      config: {
        image: 'base',
        cmd: ['sh', '-c', `mkdir -p /www && printf '${PAGE.replace('\n', '\\n')}' > /www/index.html && exec httpd -f -p 80 -h /www`],
        hostname: 'web',
        network: 'bridge',
        ports: [{ hostPort: HOST_PORT, containerPort: 80, protocol: 'tcp' }],
      },
      terminal: false,
    },
    // on Docker's default bridge a container knows another by name only through --link (a user
    // network names all its members): the client is linked to web
    { role: 'client', config: { image: 'base', cmd: ['sh'], tty: true, openStdin: true, hostname: 'client', network: 'bridge', endpoint: { links: [{ container: '{{web}}', alias: 'web' }] } } },
    { role: 'none', config: { image: 'base', cmd: ['sh'], tty: true, openStdin: true, hostname: 'none', network: 'none' } },
    { role: 'host', config: { image: 'base', cmd: ['sh'], tty: true, openStdin: true, network: 'host' } },
  ],
  steps: [
    {
      id: 'ping',
      title: 'A ping by name, over veth and bridge',
      terminal: 'client',
      diagram: 'network',
      highlight: 'client',
      checkLabel: "client and web each have a veth on the same bridge, and web's end received the client's pings",
      check: async (k) => {
        const pinging = (await k.processes('client')).some((p) => p.comm === 'ping');
        if (!pinging) return fail('no ping running in the client');
        const net = await k.network();
        const c = net.endpoints.find((e) => e.containerId === k.container('client').id);
        const w = net.endpoints.find((e) => e.containerId === k.container('web').id);
        if (!c?.hostVeth || !w?.hostVeth || !c.bridge || c.bridge !== w.bridge) return fail('the two containers are not on one bridge');
        const rx = w.counters?.rxPackets ?? 0;
        if (rx < 4) return fail(`web has received ${rx} packets`);
        return pass(`client ${c.ip} (veth ${c.hostVeth}) → bridge ${c.bridge} → web ${w.ip} (veth ${w.hostVeth}): web received ${rx} packets`);
      },
    },
    {
      id: 'published',
      title: 'A published port: DNAT',
      terminal: 'client',
      diagram: 'network',
      highlight: 'web',
      checkLabel: `the client fetched web's page through the host's port ${HOST_PORT}, which the NAT table maps to web:80`,
      check: async (k) => {
        const got = (await k.layers('client')).upper?.changes.find((c) => c.path === '/tmp/via-port.html');
        if (!got) return fail('no /tmp/via-port.html in the client yet');
        if (got.size !== PAGE.length) return fail(`/tmp/via-port.html has ${got.size} bytes, the page ${PAGE.length}`);
        const net = await k.network();
        const web = k.container('web');
        const dnat = net.nat.find((r) => r.includes('DNAT') && r.includes(String(HOST_PORT)));
        const masq = net.nat.find((r) => r.includes('MASQUERADE'));
        if (!dnat) return fail(`no DNAT rule for port ${HOST_PORT} in the NAT table`);
        return pass(`${PAGE.length} bytes from web (${web.network.ipAddress}:80) via port ${HOST_PORT}: "${dnat}"; and NAT out: "${masq ?? 'no MASQUERADE rule'}"`);
      },
    },
    {
      id: 'none-host',
      title: '--network none and --network host',
      terminal: 'none',
      diagram: 'network',
      highlight: 'none',
      checkLabel: "none's process is in a network namespace of its own (lo only); host's process is in the host's",
      check: async (k) => {
        const lone = await probe(k, 'none', 'sleep 403');
        const shared = await probe(k, 'host', 'sleep 404');
        if (!lone || !shared) return fail(`sleep 403 in none: ${lone ? 'yes' : 'no'}; sleep 404 in host: ${shared ? 'yes' : 'no'}`);
        const snap = await k.namespaces();
        const net = await k.network();
        if (lone.ns.net === snap.host.net) return fail('the none container shares the host network namespace');
        if (shared.ns.net !== snap.host.net) return fail('the host container has a network namespace of its own');
        if (!net.isolated.some((i) => i.containerId === k.container('none').id)) return fail('the network view does not list none as isolated');
        return pass(`none: net namespace ${lone.ns.net}, no veth; host: net namespace ${shared.ns.net} = the host's, every host interface`);
      },
    },
  ],
  corrections: [
    'The seed says containers on a bridge "talk through NAT": they talk directly, layer 2 through the bridge; NAT (MASQUERADE) is only for traffic leaving the bridge\'s subnet, and DNAT only for published ports.',
    'The seed\'s "ping by name uses Docker\'s DNS": Glassbox writes the names of the containers of a network into each one\'s /etc/hosts (busybox ping reads it); Docker answers through an embedded DNS server at 127.0.0.11 on user networks. Either way it is user space, not the network namespace.',
    'This lab sends no traffic off the machine: NAT out is shown by the MASQUERADE rule in the NAT table, not by reaching the internet.',
  ],
});
