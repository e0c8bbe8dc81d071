// calicoctl version: client version, then the cluster's (ClusterInformation "default").
import { isCalicoError } from '../../base/errors.js';
import { CALICO_TS_VERSION } from '../../base/version.js';
import { CONFIG_FLAG, ALLOW_VERSION_MISMATCH_FLAG, type Command } from '../command.js';

export const CLIENT_VERSION = CALICO_TS_VERSION;

export const versionCommand: Command = {
  name: 'version',
  summary: 'Display the version of this binary and of the cluster.',
  usage: ['version [--config=<CONFIG>]'],
  examples: [{ comment: 'Show client and cluster versions.', command: 'calicoctl version' }],
  description: `Prints the client version, then the cluster version and type read from the
ClusterInformation resource named "default" (written by calico-node when it
initialises the datastore). If the datastore cannot be reached, the client
lines are still printed and the exit code is 1.`,
  flags: [CONFIG_FLAG, ALLOW_VERSION_MISMATCH_FLAG],
  run: async (ctx) => {
    const client = ctx.io.version ?? { client: CLIENT_VERSION, gitCommit: 'unknown' };
    ctx.out(`Client Version:    ${client.client}`);
    ctx.out(`Git commit:        ${client.gitCommit}`);
    const ds = await ctx.datastore();
    try {
      const info = await ds.get({ kind: 'ClusterInformation', name: 'default' });
      const spec = (info.spec ?? {}) as { calicoVersion?: string; clusterType?: string };
      ctx.out(`Cluster Version:   ${spec.calicoVersion || 'unknown'}`);
      ctx.out(`Cluster Type:      ${spec.clusterType || 'unknown'}`);
      return 0;
    } catch (err) {
      if (!isCalicoError(err, 'not-found')) throw err;
      ctx.err('Unable to retrieve Cluster Version or Type: ClusterInformation(default) does not exist (no calico-node has initialised this datastore yet)');
      return 1;
    }
  },
};
