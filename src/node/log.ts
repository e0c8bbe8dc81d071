// Structured logs: one JSON object per line with a level, so the lab and
// operators can filter by field. The sink is injected (stderr in main.ts, an
// array in tests); levels follow Felix's logSeverityScreen names.

export type LogLevel = 'debug' | 'info' | 'warning' | 'error' | 'fatal';
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warning: 30, error: 40, fatal: 50 };

export interface Logger {
  readonly level: LogLevel | 'none';
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warning(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  fatal(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every entry. */
  child(fields: LogFields): Logger;
}

/** Felix severities (Debug, Info, Warning, Error, Fatal, Panic, None), case-insensitive; unknown -> info. */
export function parseLogLevel(text: string | undefined): LogLevel | 'none' {
  switch ((text ?? '').trim().toLowerCase()) {
    case 'debug':
      return 'debug';
    case 'warning':
    case 'warn':
      return 'warning';
    case 'error':
      return 'error';
    case 'fatal':
    case 'panic':
      return 'fatal';
    case 'none':
      return 'none';
    default:
      return 'info';
  }
}

/** `level` may be a function so the level can change after start (stored logSeverityScreen). */
export function createLogger(opts: { level: LogLevel | 'none' | (() => LogLevel | 'none'); sink: (line: string) => void; now: () => Date; fields?: LogFields }): Logger {
  const base = opts.fields ?? {};
  const current = typeof opts.level === 'function' ? opts.level : () => opts.level as LogLevel | 'none';
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    const threshold = current();
    if (threshold === 'none' || RANK[level] < RANK[threshold]) return;
    const entry: LogFields = { time: opts.now().toISOString(), level, msg, ...base, ...(fields ?? {}) };
    for (const [k, v] of Object.entries(entry)) if (v instanceof Error) entry[k] = v.message;
    opts.sink(JSON.stringify(entry));
  };
  return {
    get level() {
      return current();
    },
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warning: (m, f) => emit('warning', m, f),
    error: (m, f) => emit('error', m, f),
    fatal: (m, f) => emit('fatal', m, f),
    child: (fields) => createLogger({ ...opts, fields: { ...base, ...fields } }),
  };
}
