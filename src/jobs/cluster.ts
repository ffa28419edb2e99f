import { Cluster, type ClusterOptions } from 'ioredis';
import type { ClusterNode } from '../cluster-nodes.ts';

/** The options of each node's connection, as ioredis's Cluster takes them. */
type NodeOptions = NonNullable<ClusterOptions['redisOptions']>;

/**
 * clusterConnection opens an ioredis Cluster on the seed nodes; it asks them
 * for the cluster's map and then talks to whichever node holds a key.
 *
 * REDIS_URL still says how to log in: its user and password (and TLS, for a
 * rediss:// URL) apply to every node, since a cluster's nodes share them. Its
 * host, port and database number are not used. One variable holds the secret,
 * and the log scrubber (log-secrets.ts) already knows it there.
 */
export function clusterConnection(nodes: ClusterNode[], redisUrl: string, options: Omit<ClusterOptions, 'redisOptions'> & { redisOptions?: NodeOptions } = {}): Cluster {
  return new Cluster(nodes, { ...options, redisOptions: { ...loginOf(redisUrl), ...options.redisOptions } });
}

/** loginOf reads the user, password and TLS of REDIS_URL, decoded. It never quotes the URL: it may hold a password. */
function loginOf(redisUrl: string): NodeOptions {
  let url: URL;
  try {
    url = new URL(redisUrl);
  } catch {
    throw new Error('REDIS_URL is not a URL: with REDIS_CLUSTER_NODES it gives the login for the nodes, as redis://:password@host');
  }
  const login: NodeOptions = {};
  if (url.username) login.username = decoded(url.username);
  if (url.password) login.password = decoded(url.password);
  if (url.protocol === 'rediss:') login.tls = {};
  return login;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a stray % that decodes to nothing: the text as written is all there is
  }
}
