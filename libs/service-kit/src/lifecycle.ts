import type { Logger } from './logger';

type StopHook = { name: string; stop: () => Promise<void> | void };

/**
 * Ordered stop hooks: registered in construction order, run in reverse
 * (consumers → NATS drain → ORM close → telemetry flush). A failing hook is logged and
 * does not prevent the others from running.
 */
export class Lifecycle {
  private readonly hooks: StopHook[] = [];
  private stopping?: Promise<void>;

  onStop(name: string, stop: () => Promise<void> | void): void {
    this.hooks.push({ name, stop });
  }

  stop(logger: Logger): Promise<void> {
    this.stopping ??= (async () => {
      for (const hook of [...this.hooks].reverse()) {
        try {
          await hook.stop();
        } catch (error) {
          logger.error({ err: error, hook: hook.name }, 'stop hook failed');
        }
      }
    })();
    return this.stopping;
  }
}
