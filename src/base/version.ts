// The calico-ts release, shown by `calicoctl version` (client) and written by
// calico-node to ClusterInformation.calicoVersion (cluster).
export const CALICO_TS_VERSION = 'v0.1.0';
