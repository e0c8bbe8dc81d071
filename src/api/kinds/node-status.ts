// CalicoNodeStatus: asks one node's agent to report its state (BIRD daemons,
// BGP sessions, routes) every updatePeriodSeconds into the resource's status.
// Stored and validated as Calico does. Nothing in calico-ts writes the status
// yet: `calicoctl node status` on the node shows the same facts live.
import { resourceName } from '../names.js';
import { int, list, obj, oneOf, type KindSchema } from '../validate.js';

export const NODE_STATUS_CLASSES = ['Agent', 'BGP', 'Routes'] as const;
export type NodeStatusClass = (typeof NODE_STATUS_CLASSES)[number];

export interface CalicoNodeStatusSpec {
  node: string;
  classes: NodeStatusClass[];
  /** 0 = report once; at most a day. */
  updatePeriodSeconds: number;
}

export const calicoNodeStatusSchema: KindSchema<CalicoNodeStatusSpec> = {
  spec: () =>
    obj<CalicoNodeStatusSpec>(
      {
        node: resourceName('node name'),
        classes: list(oneOf(NODE_STATUS_CLASSES), { unique: true }),
        updatePeriodSeconds: int({ min: 0, max: 86400 }),
      },
      { required: ['node', 'classes', 'updatePeriodSeconds'] },
    ),
  hasStatus: true,
};
