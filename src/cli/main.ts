// Process entry for bin/calicoctl: real I/O in, exit code out.
import { main } from './calicoctl.js';
import { NodeIO } from './node-io.js';

process.exitCode = await main(process.argv.slice(2), new NodeIO());
