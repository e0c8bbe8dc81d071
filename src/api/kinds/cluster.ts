// ClusterInformation and KubeControllersConfiguration: cluster-wide
// singletons, both only valid under the name "default".
import { int, obj, oneOf, str, bool, map, list, type KindSchema } from '../validate.js';
import { labelKey, labelValue, annotationValue, resourceName } from '../names.js';
import { cidr, duration, selector } from '../values.js';
import { LOG_SEVERITIES, type LogSeverity } from './bgp.js';

export interface ClusterInformationSpec {
  clusterGUID?: string;
  clusterType?: string;
  calicoVersion?: string;
  /** False stops every agent from programming the dataplane (e.g. during an upgrade). */
  datastoreReady?: boolean;
  variant?: string;
}

type Mode = 'Enabled' | 'Disabled';

export interface KubeControllersConfigurationSpec {
  logSeverityScreen?: LogSeverity;
  healthChecks?: Mode;
  etcdV3CompactionPeriod?: string;
  prometheusMetricsPort?: number;
  debugProfilePort?: number;
  controllers?: {
    node?: {
      reconcilerPeriod?: string;
      syncLabels?: Mode;
      hostEndpoint?: { autoCreate?: Mode; createDefaultHostEndpoint?: string; templates?: unknown[] };
      leakGracePeriod?: string;
    };
    policy?: { reconcilerPeriod?: string };
    workloadEndpoint?: { reconcilerPeriod?: string };
    serviceAccount?: { reconcilerPeriod?: string };
    namespace?: { reconcilerPeriod?: string };
    loadBalancer?: { assignIPs?: 'AllServices' | 'RequestedServicesOnly' };
  };
}

const onlyDefault = (kind: string) => (name: string) =>
  name === 'default' ? undefined : `"${name}" is not valid: there is one ${kind} and it is named "default"`;

export const clusterInformationSchema: KindSchema<ClusterInformationSpec> = {
  spec: () =>
    obj<ClusterInformationSpec>({
      clusterGUID: str(),
      clusterType: str(),
      calicoVersion: str(),
      datastoreReady: bool(),
      variant: str(),
    }),
  name: onlyDefault('ClusterInformation'),
};

const mode = oneOf(['Enabled', 'Disabled'] as const);
const period = obj({ reconcilerPeriod: duration });

export const kubeControllersConfigurationSchema: KindSchema<KubeControllersConfigurationSpec> = {
  spec: () =>
    obj<KubeControllersConfigurationSpec>({
      logSeverityScreen: oneOf(LOG_SEVERITIES),
      healthChecks: mode,
      etcdV3CompactionPeriod: duration,
      prometheusMetricsPort: int({ min: 0, max: 65535 }),
      debugProfilePort: int({ min: 0, max: 65535 }),
      controllers: obj({
        node: obj({
          reconcilerPeriod: duration,
          syncLabels: mode,
          hostEndpoint: obj({
            autoCreate: mode,
            createDefaultHostEndpoint: mode,
            templates: list(
              obj({
                generateName: resourceName('name'),
                interfaceCIDRs: list(cidr()),
                interfacePattern: str(),
                labels: map(labelKey, labelValue),
                annotations: map(labelKey, annotationValue),
                nodeSelector: selector(),
              }),
            ),
          }),
          leakGracePeriod: duration,
        }),
        policy: period,
        workloadEndpoint: period,
        serviceAccount: period,
        namespace: period,
        loadBalancer: obj({ assignIPs: oneOf(['AllServices', 'RequestedServicesOnly'] as const) }),
        migration: obj({ policyNameMigrator: mode }),
      }),
    }),
  name: onlyDefault('KubeControllersConfiguration'),
  defaults: (s) => ({
    ...s,
    logSeverityScreen: s.logSeverityScreen ?? 'Info',
    healthChecks: s.healthChecks ?? 'Enabled',
    etcdV3CompactionPeriod: s.etcdV3CompactionPeriod ?? '10m',
    prometheusMetricsPort: s.prometheusMetricsPort ?? 9094,
    controllers: s.controllers ?? {},
  }),
  hasStatus: true,
};

