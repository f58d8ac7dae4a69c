// Network endpoints: docker network ls/inspect/create/rm/connect/disconnect/prune over the engine's
// network methods. Bridge networks only; options Glassbox does not implement are refused by name.
import { createHash } from 'node:crypto';
import type { EngineApi } from '../../engine/index.js';
import type { NetworkCreateRequest, NetworkInfo } from '../../engine/index.js';
import { isUnset } from './create-config.js';
import { ApiError, badRequest, unsupported } from './errors.js';
import { checkFilterKeys, labelMatches, parseFilters, type Filters } from './filters.js';
import { jsonBody, sendEmpty, sendJson, type Ctx } from './http.js';
import { pruneFilters } from './prune-filters.js';

/** A stable endpoint id for a container on a network (Glassbox keeps none of its own). */
export function endpointId(networkId: string, containerId: string): string {
  return createHash('sha256').update(`${networkId}/${containerId}`).digest('hex');
}

/** NetworkInfo → Docker's network JSON (GET /networks, /networks/{id}). */
export function networkJson(n: NetworkInfo, names: (id: string) => string | undefined = () => undefined) {
  const containers: Record<string, unknown> = {};
  for (const [id, c] of Object.entries(n.containers)) {
    containers[id] = {
      Name: names(id) ?? c.name,
      EndpointID: endpointId(n.id, id),
      MacAddress: c.mac,
      IPv4Address: c.ip ? `${c.ip}/${c.prefixLen}` : '',
      IPv6Address: '',
    };
  }
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv4: true,
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: n.subnet ? [{ Subnet: n.subnet, ...(n.ipRange ? { IPRange: n.ipRange } : {}), ...(n.gateway ? { Gateway: n.gateway } : {}) }] : [] },
    Internal: n.internal === true,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: n.driver === 'bridge' && n.bridge ? { 'com.docker.network.bridge.name': n.bridge } : {},
    Labels: { ...n.labels },
  };
}

function nameLookup(engine: EngineApi): (id: string) => string | undefined {
  let byId: Map<string, string> | undefined;
  return (id) => {
    byId ??= new Map(engine.list({ all: true }).map((r) => [r.id, r.name]));
    return byId.get(id);
  };
}

function networkFilter(filters: Filters): (n: NetworkInfo) => boolean {
  checkFilterKeys(filters, ['name', 'id', 'driver', 'type', 'label', 'scope', 'dangling']);
  for (const t of filters.get('type') ?? []) if (t !== 'builtin' && t !== 'custom') throw badRequest(`invalid filter: 'type'='${t}'`);
  for (const d of filters.get('dangling') ?? []) if (!['true', 'false', '1', '0'].includes(d)) throw badRequest(`invalid filter 'dangling=${d}'`);
  return (n) => {
    const any = (key: string, test: (v: string) => boolean) => {
      const vs = filters.get(key);
      return !vs || vs.length === 0 || vs.some(test);
    };
    return (
      any('name', (v) => n.name.includes(v)) &&
      any('id', (v) => n.id.includes(v)) &&
      any('driver', (v) => n.driver === v) &&
      any('type', (v) => (v === 'builtin') === n.builtin) &&
      any('scope', (v) => v === 'local') &&
      any('dangling', (v) => (v === 'true' || v === '1') === (!n.builtin && Object.keys(n.containers).length === 0)) &&
      labelMatches(n.labels, filters.get('label') ?? [])
    );
  };
}

/** GET /networks */
export function listNetworks(ctx: Ctx, engine: EngineApi): void {
  const keep = networkFilter(parseFilters(ctx.query.get('filters')));
  const names = nameLookup(engine);
  sendJson(ctx, 200, engine.listNetworks().filter(keep).map((n) => networkJson(n, names)));
}

/** GET /networks/{id} */
export function inspectNetwork(ctx: Ctx, engine: EngineApi): void {
  const scope = ctx.query.get('scope');
  if (scope && scope !== 'local') throw new ApiError(404, `network ${ctx.params[0]} not found`);
  sendJson(ctx, 200, networkJson(engine.inspectNetwork(ctx.params[0]), nameLookup(engine)));
}

// Attachable only matters to swarm overlay networks: Docker takes it on a local bridge and so does
// Glassbox (every compose project sends it).
const CREATE_FLAGS: Record<string, string> = {
  Ingress: '--ingress',
  ConfigOnly: '--config-only',
  ConfigFrom: '--config-from',
  EnableIPv6: '--ipv6',
  Options: '--opt',
};

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Docker's create body → the engine's request; every option Glassbox cannot honour is refused. */
export function parseNetworkCreate(body: unknown): NetworkCreateRequest {
  if (!isObj(body)) throw badRequest('invalid network config: a JSON object was expected');
  const name = body.Name;
  if (typeof name !== 'string' || !name) throw badRequest('network name is required (Name)');
  // a field Docker does not know either is ignored, as Docker's decoder does
  const driver = body.Driver ?? '';
  if (typeof driver !== 'string') throw badRequest('Driver must be a string');
  if (driver !== '' && driver !== 'bridge') throw unsupported(`--driver ${driver}`, 'only the bridge driver is');
  if (body.Scope !== undefined && body.Scope !== '' && body.Scope !== 'local') throw unsupported(`--scope ${String(body.Scope)}`, 'networks are local');
  if (body.EnableIPv4 === false) throw unsupported('--ipv4=false', 'bridge networks always have IPv4');
  for (const [k, flag] of Object.entries(CREATE_FLAGS)) if (!isUnset(body[k])) throw unsupported(flag);

  const out: NetworkCreateRequest = { name };
  if (body.Internal !== undefined && body.Internal !== null && typeof body.Internal !== 'boolean') throw badRequest('Internal must be a boolean');
  if (body.Internal === true) out.internal = true;
  const ipam = body.IPAM;
  if (ipam !== undefined && ipam !== null) {
    if (!isObj(ipam)) throw badRequest('IPAM must be an object');
    if (ipam.Driver !== undefined && ipam.Driver !== '' && ipam.Driver !== 'default') throw unsupported(`--ipam-driver ${String(ipam.Driver)}`, 'only the default IPAM driver is');
    if (!isUnset(ipam.Options)) throw unsupported('--ipam-opt');
    const configs = (ipam.Config ?? []) as unknown;
    if (!Array.isArray(configs)) throw badRequest('IPAM.Config must be an array');
    if (configs.length > 1) throw unsupported('more than one --subnet', 'one IPv4 subnet per network');
    const c = configs[0] as unknown;
    if (c !== undefined && c !== null) {
      if (!isObj(c)) throw badRequest('IPAM.Config[0] must be an object');
      if (c.IPRange !== undefined && c.IPRange !== null && c.IPRange !== '') {
        if (typeof c.IPRange !== 'string') throw badRequest('IPAM.Config[0].IPRange must be a string');
        out.ipRange = c.IPRange;
      }
      if (!isUnset(c.AuxiliaryAddresses) || !isUnset(c.AuxAddress)) throw unsupported('--aux-address');
      // null is "unset" as much as a missing field (compose sends Gateway: null)
      if (c.Subnet !== undefined && c.Subnet !== null && c.Subnet !== '') {
        if (typeof c.Subnet !== 'string') throw badRequest('IPAM.Config[0].Subnet must be a string');
        if (c.Subnet.includes(':')) throw unsupported(`IPv6 subnet ${c.Subnet}`, 'IPv4 only');
        out.subnet = c.Subnet;
      }
      if (c.Gateway !== undefined && c.Gateway !== null && c.Gateway !== '') {
        if (typeof c.Gateway !== 'string') throw badRequest('IPAM.Config[0].Gateway must be a string');
        out.gateway = c.Gateway;
      }
    }
  }
  if (body.Labels !== undefined && body.Labels !== null) {
    if (!isObj(body.Labels) || Object.values(body.Labels).some((v) => typeof v !== 'string')) throw badRequest('Labels must be an object of strings');
    if (Object.keys(body.Labels).length) out.labels = body.Labels as Record<string, string>;
  }
  return out;
}

/** POST /networks/create */
export async function createNetwork(ctx: Ctx, engine: EngineApi): Promise<void> {
  const req = parseNetworkCreate(await jsonBody(ctx));
  // CheckDuplicate (always on since API 1.44): the engine refuses a second network of a name
  const n = await engine.createNetwork(req);
  sendJson(ctx, 201, { Id: n.id, Warning: '' });
}

/** DELETE /networks/{id} */
export async function removeNetwork(ctx: Ctx, engine: EngineApi): Promise<void> {
  await engine.removeNetwork(ctx.params[0]);
  sendEmpty(ctx, 204);
}

function containerOf(body: unknown): string {
  if (!isObj(body)) throw badRequest('invalid body: a JSON object was expected');
  const c = body.Container;
  if (typeof c !== 'string' || !c) throw badRequest('Container is required');
  return c;
}

/** POST /networks/{id}/connect */
export async function connect(ctx: Ctx, engine: EngineApi): Promise<void> {
  const body = await jsonBody(ctx);
  const container = containerOf(body);
  const ep = (body as Record<string, unknown>).EndpointConfig;
  const opts: { ip?: string; aliases?: string[] } = {};
  if (isObj(ep)) {
    // known options this endpoint cannot have are refused by name; unknown fields are ignored
    for (const [k, flag] of Object.entries({ Links: '--link (network connect)', MacAddress: '--mac-address (network connect)', GwPriority: '--gw-priority' })) {
      if (!isUnset(ep[k])) throw unsupported(flag);
    }
    const ipam = ep.IPAMConfig;
    if (isObj(ipam)) {
      if (!isUnset(ipam.IPv6Address)) throw unsupported('--ip6');
      if (!isUnset(ipam.LinkLocalIPs)) throw unsupported('--link-local-ip');
      if (typeof ipam.IPv4Address === 'string' && ipam.IPv4Address) opts.ip = ipam.IPv4Address;
    }
    if (Array.isArray(ep.Aliases) && ep.Aliases.length) {
      if (!ep.Aliases.every((a) => typeof a === 'string')) throw badRequest('--alias: a list of strings was expected');
      opts.aliases = ep.Aliases as string[];
    }
  }
  await engine.connectNetwork(ctx.params[0], container, opts);
  sendEmpty(ctx, 200);
}

/** POST /networks/{id}/disconnect ({Container, Force}: Glassbox always tears the interface down) */
export async function disconnect(ctx: Ctx, engine: EngineApi): Promise<void> {
  const container = containerOf(await jsonBody(ctx));
  await engine.disconnectNetwork(ctx.params[0], container);
  sendEmpty(ctx, 200);
}

/** POST /networks/prune: user networks without containers (filters: label, label!, until). */
export async function prune(ctx: Ctx, engine: EngineApi): Promise<void> {
  const filters = parseFilters(ctx.query.get('filters'));
  checkFilterKeys(filters, ['label', 'label!', 'until']);
  const r = await engine.pruneNetworks(pruneFilters(filters));
  sendJson(ctx, 200, { NetworksDeleted: r.deleted });
}
