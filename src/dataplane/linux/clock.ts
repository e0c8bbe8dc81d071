import type { Clock } from '../ports.js';

/** The real clock (drivers may use timers; the pure core never does). */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer: (ms, fn) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};
