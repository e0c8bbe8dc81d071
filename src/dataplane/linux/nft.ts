// The nftables driver: our table's listing, and transactions. A transaction
// is written to a private file and run by a long-lived `nft -i` as
// `include "<file>"`: one include is one batch, so it commits or fails whole,
// exactly like `nft -f`, without a process per transaction (see
// command-session.ts for why that matters). An nft without the interactive
// CLI, or an Exec without sessions, gets `nft -f -` per transaction.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataplaneError } from '../errors.js';
import type { Exec, Nft } from '../ports.js';
import { NFT_FAMILY, NFT_TABLE } from '../../rules/names.js';
import { CommandSession, type SessionDialect } from './command-session.js';

/**
 * A transaction this large (a first sync, a full rewrite) ends its session
 * afterwards: nft keeps the memory it parsed it with (~25 MiB at 10k
 * endpoints) for as long as it lives, while the small transactions of steady
 * state need a few MiB. The process exits in the background.
 */
const RECYCLE_AFTER_BYTES = 256 * 1024;

/** `describe` needs no kernel state and prints one fixed line. */
const NFT_DIALECT: SessionDialect = {
  argv: ['nft', '-i'],
  marker: 'describe meta mark\n',
  markerOutput: /^meta expression, datatype mark\b.*\n/m,
};

export class LinuxNft implements Nft {
  private readonly session: CommandSession;
  /** undefined until the first transaction finds out whether `nft -i` works here. */
  private interactive: boolean | undefined;

  constructor(private readonly exec: Exec) {
    this.session = new CommandSession(exec, NFT_DIALECT);
  }

  async listTable(): Promise<string> {
    const r = await this.exec.run(['nft', 'list', 'table', NFT_FAMILY, NFT_TABLE]);
    if (r.code !== 0) {
      if (/No such file or directory/.test(r.stderr)) return '';
      throw new DataplaneError('nft table', `nft list failed: ${r.stderr.trim()}`);
    }
    return r.stdout;
  }

  async apply(script: string): Promise<void> {
    if (!(await this.sessionWorks())) {
      const r = await this.exec.run(['nft', '-f', '-'], { input: script });
      if (r.code !== 0) throw new DataplaneError('nft transaction', `nft -f - exited ${r.code}: ${r.stderr.trim().slice(0, 2000)}`);
      return;
    }
    // A private directory per transaction, gone with it: nothing is left behind by an agent that is never stopped.
    const dir = await mkdtemp(join(tmpdir(), 'calico-nft-'));
    const file = join(dir, 'transaction.nft');
    await writeFile(file, script);
    let output: string;
    try {
      ({ output } = await this.session.request(`include "${file}"\n`));
    } catch (e) {
      // The process died mid-transaction: it committed whole or not at all, and the caller's read-back finds out which.
      throw new DataplaneError('nft transaction', (e as Error).message);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    if (script.length > RECYCLE_AFTER_BYTES) this.session.close();
    // Success prints nothing; a failed batch prints "Error: ..." with the offending line (and changed nothing).
    if (/\bError\b/.test(output)) throw new DataplaneError('nft transaction', `nft -i: ${output.trim().slice(0, 2000)}`);
  }

  /** Ends the session process (a later transaction starts it again). */
  close(): void {
    this.session.close();
  }

  private async sessionWorks(): Promise<boolean> {
    if (this.interactive === undefined) {
      if (!this.session.available) this.interactive = false;
      else {
        try {
          const { output } = await this.session.request('');
          this.interactive = output.trim() === '';
        } catch {
          this.interactive = false;
        }
        if (!this.interactive) this.session.close();
      }
    }
    return this.interactive;
  }
}
