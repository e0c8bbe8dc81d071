// Every top-level calicoctl command. To add one (e.g. `ipam`, `node`), write
// commands/<name>.ts exporting a Command and add it to the list below; see
// docs/design/cli.md "Adding a command".
import { CommandRegistry, type Command } from '../command.js';
import { applyCommand } from './apply.js';
import { createCommand } from './create.js';
import { deleteCommand } from './delete.js';
import { explainCommand } from './explain.js';
import { getCommand } from './get.js';
import { ipamCommand } from './ipam.js';
import { labelCommand } from './label.js';
import { nodeCommand } from './node.js';
import { patchCommand } from './patch.js';
import { replaceCommand } from './replace.js';
import { validateCommand } from './validate.js';
import { versionCommand } from './version.js';
import { xlatCommand } from './xlat.js';

export const BUILTIN_COMMANDS: readonly Command[] = [
  createCommand,
  applyCommand,
  replaceCommand,
  deleteCommand,
  getCommand,
  patchCommand,
  labelCommand,
  validateCommand,
  explainCommand(),
  versionCommand,
  ipamCommand, // src/ipam owner
  nodeCommand(), // `node status|diags|checksystem`: run on the node (BIRD socket under CALICO_RUN_DIR, kernel, logs)
  xlatCommand, // src/xlat owner: address spaces
];

export function defaultRegistry(): CommandRegistry {
  const registry = new CommandRegistry();
  for (const c of BUILTIN_COMMANDS) registry.register(c);
  return registry;
}
