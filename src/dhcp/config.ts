// calico-dhcp-agent's configuration from its environment (pure). Every bad
// value is an error naming the variable and the fix.
//   NODENAME            this node (else <CALICO_RUN_DIR>/nodename as calico-node wrote it, else the host name)
//   CALICO_RUN_DIR      run directory shared with calico-node (default /var/run/calico); state in <dir>/dhcp
//   CALICO_DHCP_INTERFACE       the host interface holding the VMs' gateways (default ns-calico-dhcp)
//   CALICO_DHCP_LEASE_SECONDS   lease time (default 86400, Neutron's dhcp_lease_duration)
//   CALICO_DHCP_ORCHESTRATORS   comma list of WorkloadEndpoint orchestrators served (default openstack)
//   CALICO_DHCP_DNSMASQ         the dnsmasq binary (default dnsmasq)
//   DATASTORE_TYPE / ETCD_*     the datastore, as calicoctl
import { join } from 'node:path';
import { CalicoError } from '../base/errors.js';

export interface DhcpAgentConfig {
  nodeName: string;
  runDir: string;
  stateDir: string;
  leaseFile: string;
  dhcpInterface: string;
  leaseSeconds: number;
  orchestrators: string[];
  dnsmasq: string;
}

export const DEFAULT_DHCP_INTERFACE = 'ns-calico-dhcp';

/**
 * `nodenameFile`: the content of <CALICO_RUN_DIR>/nodename if it exists.
 * `workloadPrefixes`: interface prefixes the DHCP interface must not start with
 * (calico-node would take it for a workload interface and police it as one).
 */
export function dhcpAgentConfigFromEnv(env: Record<string, string | undefined>, host: { hostname: string; nodenameFile?: (runDir: string) => string | undefined }): DhcpAgentConfig {
  const issues: string[] = [];
  const runDir = env.CALICO_RUN_DIR?.trim() || '/var/run/calico';
  const nodeName = (env.NODENAME?.trim() || host.nodenameFile?.(runDir)?.trim() || host.hostname.trim()).toLowerCase();
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(nodeName)) issues.push(`NODENAME: "${nodeName}" is not a valid node name (lower-case DNS name); set NODENAME to this node's Calico name`);
  const dhcpInterface = env.CALICO_DHCP_INTERFACE?.trim() || DEFAULT_DHCP_INTERFACE;
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(dhcpInterface)) issues.push(`CALICO_DHCP_INTERFACE: "${dhcpInterface}" is not an interface name (1-15 letters, digits, '_', '.', '-')`);
  else if (/^(cali|tap)/.test(dhcpInterface)) issues.push(`CALICO_DHCP_INTERFACE: "${dhcpInterface}" starts with a workload interface prefix (cali, tap); calico-node would police it as a workload: pick another name, e.g. ${DEFAULT_DHCP_INTERFACE}`);
  const leaseText = env.CALICO_DHCP_LEASE_SECONDS?.trim() || '86400';
  const leaseSeconds = Number(leaseText);
  // dnsmasq's minimum lease is 120 s.
  if (!/^\d+$/.test(leaseText) || leaseSeconds < 120) issues.push(`CALICO_DHCP_LEASE_SECONDS: "${leaseText}" must be a whole number of seconds, at least 120`);
  const orchestrators = (env.CALICO_DHCP_ORCHESTRATORS ?? 'openstack').split(',').map((s) => s.trim()).filter(Boolean);
  if (orchestrators.length === 0) issues.push('CALICO_DHCP_ORCHESTRATORS: empty; name at least one orchestrator, e.g. openstack');
  if (issues.length) throw new CalicoError('validation', `calico-dhcp-agent configuration:\n  ${issues.join('\n  ')}`);
  const stateDir = join(runDir, 'dhcp');
  return { nodeName, runDir, stateDir, leaseFile: join(stateDir, 'dnsmasq.leases'), dhcpInterface, leaseSeconds, orchestrators, dnsmasq: env.CALICO_DHCP_DNSMASQ?.trim() || 'dnsmasq' };
}
