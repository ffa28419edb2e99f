/** ClusterNode is one seed node of a Redis Cluster: where a client first asks for the cluster's map. */
export interface ClusterNode {
  host: string;
  port: number;
}

/** MAX_CLUSTER_NODES bounds REDIS_CLUSTER_NODES: a few seeds are enough, the client learns the rest from them. */
export const MAX_CLUSTER_NODES = 64;
/** MAX_CLUSTER_NODES_LENGTH bounds the variable's text. */
export const MAX_CLUSTER_NODES_LENGTH = 4_096;

const NAME = 'REDIS_CLUSTER_NODES';
/** A host name or IPv4 address, or an IPv6 address in brackets, then a port. */
const HOST_PORT = /^(?:([A-Za-z0-9][A-Za-z0-9.-]*)|\[([0-9A-Fa-f:.]+)\]):(\d{1,5})$/;

/**
 * parseClusterNodes reads REDIS_CLUSTER_NODES, `host:port,host:port`. Unset or
 * blank gives undefined: one Redis, at REDIS_URL. Anything it cannot read
 * throws an error that names the variable. The nodes take no login: the
 * password comes from REDIS_URL, so an entry with an `@` is refused without
 * being quoted, in case it holds one.
 */
export function parseClusterNodes(value: string | undefined): ClusterNode[] | undefined {
  if (!value?.trim()) return undefined;
  if (value.length > MAX_CLUSTER_NODES_LENGTH) {
    throw new Error(`${NAME} is ${value.length} characters long, at most ${MAX_CLUSTER_NODES_LENGTH}: list a few seed nodes, not every node`);
  }
  const entries = value.split(',').map((entry) => entry.trim());
  if (entries.length > MAX_CLUSTER_NODES) {
    throw new Error(`${NAME} lists ${entries.length} nodes, at most ${MAX_CLUSTER_NODES}: a few seed nodes are enough`);
  }
  return entries.map((entry, i) => {
    const which = `entry ${i + 1} of ${NAME}`;
    if (!entry) throw new Error(`${which} is empty: write ${NAME}=host:port,host:port`);
    if (entry.includes('@') || entry.includes('/')) {
      throw new Error(`${which} is not host:port (it holds a login or a URL): the nodes take no password, REDIS_URL's password applies to them`);
    }
    const match = HOST_PORT.exec(entry);
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65_535) throw new Error(`${which} must be host:port with a port from 1 to 65535, got ${cut(entry)}`);
    return { host: match[1] ?? match[2]!, port };
  });
}

/** formatClusterNodes writes nodes back as REDIS_CLUSTER_NODES has them, for logs and messages. */
export function formatClusterNodes(nodes: ClusterNode[]): string {
  return nodes.map(({ host, port }) => `${host.includes(':') ? `[${host}]` : host}:${port}`).join(',');
}

/** cut quotes what was given, short enough that a huge value cannot flood the log. */
function cut(text: string, max = 60): string {
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}
