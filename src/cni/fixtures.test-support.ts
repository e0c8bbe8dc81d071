// Shared inputs of the CNI unit tests: an attachment's environment and a
// configuration, parsed the way runPlugin parses them.
import { parseNetConf, type NetConf } from './config.js';
import { hostInterfaceName } from './names.js';
import { parseCniEnv, type CniEnv } from './protocol.js';

export const NETNS = '/var/run/netns/c1';
export const HOST_IF = hostInterfaceName('web', 'a');
export const WEP = 'host1-k8s-a-eth0';

export const env = (command = 'ADD', extra: Record<string, string> = {}): CniEnv =>
  parseCniEnv({ CNI_COMMAND: command, CNI_CONTAINERID: 'c0ffee', CNI_NETNS: NETNS, CNI_IFNAME: 'eth0', CNI_ARGS: 'K8S_POD_NAMESPACE=web;K8S_POD_NAME=a', CNI_PATH: '/opt/cni/bin', ...extra });

export const conf = (extra: Record<string, unknown> = {}, plugin: 'calico' | 'calico-ipam' = 'calico'): NetConf =>
  parseNetConf(JSON.stringify({ cniVersion: '1.0.0', name: 'net1', type: plugin === 'calico' ? 'calico' : 'bridge', ipam: { type: 'calico-ipam', assign_ipv6: 'true' }, ...extra }), { plugin });

export const args = (command = 'ADD', c: NetConf = conf(), e: Record<string, string> = {}) => ({ env: env(command, e), conf: c, node: 'host1' });
