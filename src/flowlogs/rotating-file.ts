// The JSON lines file, bounded on disk: `<dir>/flows.log`, and when a write
// would take it past maxFileSizeBytes it becomes flows.log.1 (flows.log.1
// becomes .2, ...), keeping maxFiles files in all (FelixConfiguration
// flowLogsFileMaxFiles, flowLogsFileMaxFileSizeMB). A single batch larger
// than the limit is still written whole, to a fresh file: lines are never cut.
import { join } from 'node:path';
import type { FlowLogFileSystem } from './ports.js';

export const FLOW_LOG_FILE = 'flows.log';

export class RotatingFile {
  readonly path: string;
  /** Rotations done, for metrics. */
  rotations = 0;

  constructor(private readonly opts: { fs: FlowLogFileSystem; directory: string; maxFiles: number; maxFileSizeBytes: number }) {
    this.path = join(opts.directory, FLOW_LOG_FILE);
  }

  async write(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    const text = lines.map((l) => l + '\n').join('');
    const { fs } = this.opts;
    await fs.ensureDirectory(this.opts.directory);
    const size = await fs.size(this.path);
    if (size > 0 && size + Buffer.byteLength(text) > this.opts.maxFileSizeBytes) await this.rotate();
    await fs.append(this.path, text);
  }

  private async rotate(): Promise<void> {
    const { fs, maxFiles } = this.opts;
    const nth = (n: number) => (n === 0 ? this.path : `${this.path}.${n}`);
    // maxFiles 1: no history, the file starts again.
    await fs.remove(nth(maxFiles - 1 > 0 ? maxFiles - 1 : 0));
    for (let n = maxFiles - 2; n >= 0; n--) await fs.rename(nth(n), nth(n + 1));
    this.rotations++;
  }
}
