/**
 * @module clock
 * The simulator's virtual clock and scheduler. Simulated time either follows the wall clock
 * multiplied by a time scale (tasks fire on their own, through `setTimeout`), or stands still until
 * `advance(ms)` moves it (manual mode, for deterministic tests). Either way `advance` runs every task
 * that falls due in order, so a test can cover Telerivet's 24 h retry horizon in milliseconds.
 */

interface Task {
  at: number
  seq: number
  run: () => Promise<void>
}

/** Options of {@link Scheduler}. */
export interface ClockOptions {
  /** Simulated milliseconds per real millisecond (default 1). */
  timeScale?: number
  /** When true, time moves only through `advance()` (default false). */
  manual?: boolean
  /** Simulated start time in ms since the epoch (default: now). */
  start?: number
}

/** Runs tasks at simulated times. */
export class Scheduler {
  readonly timeScale: number
  readonly manual: boolean
  private readonly realBase = Date.now()
  private readonly simBase: number
  private skipped = 0
  private tasks: Task[] = []
  private seq = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly inFlight = new Set<Promise<void>>()
  private closed = false
  private advancing = false

  constructor(opts: ClockOptions = {}) {
    this.timeScale = opts.timeScale ?? 1
    if (!(this.timeScale > 0)) throw new RangeError('timeScale must be > 0')
    this.manual = opts.manual ?? false
    this.simBase = opts.start ?? Date.now()
  }

  /** Simulated time, ms since the epoch. */
  now(): number {
    const real = this.manual ? 0 : (Date.now() - this.realBase) * this.timeScale
    return Math.floor(this.simBase + real + this.skipped)
  }

  /** Simulated ms -> real ms (for timeouts of real HTTP requests). */
  toReal(simMs: number): number {
    return simMs / this.timeScale
  }

  /** Runs `run` once simulated time reaches `now() + delayMs`. */
  schedule(delayMs: number, run: () => Promise<void>): void {
    if (this.closed) return
    this.tasks.push({ at: this.now() + Math.max(0, delayMs), seq: this.seq++, run })
    this.tasks.sort((a, b) => a.at - b.at || a.seq - b.seq)
    this.arm()
  }

  /** Number of tasks waiting. */
  pending(): number {
    return this.tasks.length
  }

  /**
   * Moves simulated time forward by `ms`, running every task that falls due, in time order, each
   * awaited before the next (tasks scheduled meanwhile run too if they fall inside the window).
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError('advance(ms) needs ms >= 0')
    await this.idle()
    const target = this.now() + ms
    this.advancing = true
    try {
      for (;;) {
        const next = this.tasks[0]
        if (next === undefined || next.at > target) break
        this.tasks.shift()
        const now = this.now()
        if (next.at > now) this.skipped += next.at - now
        await this.track(next.run())
      }
      const now = this.now()
      if (target > now) this.skipped += target - now
    } finally {
      this.advancing = false
      this.arm()
    }
  }

  /** Waits until no task started by the timer is still running. */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight])
  }

  /** Drops every pending task and stops the timer. */
  close(): void {
    this.closed = true
    this.tasks = []
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private track(p: Promise<void>): Promise<void> {
    const t = p.catch(() => {}).finally(() => this.inFlight.delete(t))
    this.inFlight.add(t)
    return t
  }

  private arm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (this.manual || this.closed || this.advancing) return
    const next = this.tasks[0]
    if (next === undefined) return
    const delay = Math.max(0, this.toReal(next.at - this.now()))
    // Cap the delay: a long wait on a scaled clock must still re-read the time.
    this.timer = setTimeout(() => this.fire(), Math.min(delay, 2 ** 31 - 1))
    // A pending retry must not keep a script or a test process alive on its own.
    ;(this.timer as { unref?: () => void }).unref?.()
  }

  private fire(): void {
    this.timer = undefined
    const now = this.now()
    while (this.tasks[0] !== undefined && this.tasks[0].at <= now) {
      const task = this.tasks.shift() as Task
      // Wall-clock mode runs due tasks concurrently, as Telerivet's workers would.
      void this.track(task.run())
    }
    this.arm()
  }
}
