// ClusterInformation and KubeControllersConfiguration: cluster-wide
// singletons, both only valid under the name "default".
import { int, obj, oneOf, str, bool, map, list, type KindSchema } from '../validate.js';
import { labelKey, labelValue, annotationValue, resourceName } from '../names.js';
import { cidr, duration, selector } from '../values.js';

/** kube-controllers' log levels (Calico's enum; not Felix's or BIRD's list). */
export const KUBE_CONTROLLERS_LOG_SEVERITIES = ['None', 'Debug', 'Info', 'Warning', 'Error', 'Fatal', 'Panic'] as const;
export type KubeControllersLogSeverity = (typeof KUBE_CONTROLLERS_LOG_SEVERITIES)[number];

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
  logSeverityScreen?: KubeControllersLogSeverity;
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
    migration?: { policyNameMigrator?: Mode };
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

/** Calico's schema defaults inside controllers: only for sections that are present. */
function controllerDefaults(c: NonNullable<KubeControllersConfigurationSpec['controllers']>): NonNullable<KubeControllersConfigurationSpec['controllers']> {
  return {
    ...c,
    ...(c.loadBalancer ? { loadBalancer: { ...c.loadBalancer, assignIPs: c.loadBalancer.assignIPs ?? 'AllServices' } } : {}),
    ...(c.migration ? { migration: { ...c.migration, policyNameMigrator: c.migration.policyNameMigrator ?? 'Enabled' } } : {}),
  };
}

export const kubeControllersConfigurationSchema: KindSchema<KubeControllersConfigurationSpec> = {
  spec: () =>
    obj<KubeControllersConfigurationSpec>({
      logSeverityScreen: oneOf(KUBE_CONTROLLERS_LOG_SEVERITIES),
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
                interfaceCIDRs: list(cidr({ allowBareIP: true }), { unique: true }),
                interfacePattern: str({
                  test: (x) => {
                    try {
                      new RegExp(x);
                      return undefined;
                    } catch {
                      return `"${x}" is not a valid regular expression`;
                    }
                  },
                }),
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
    controllers: controllerDefaults(s.controllers ?? {}),
  }),
  hasStatus: true,
};

