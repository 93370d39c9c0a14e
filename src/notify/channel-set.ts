import type { Logger } from 'pino';
import { CircuitBreaker } from '../core/notify/circuit-breaker.js';
import { parseChannelConfig, type ChannelConfig } from '../core/notify/channel-config.js';
import type { ChannelRepository } from '../ports/notification-log.js';

/** A channel in force, with this process's circuit breaker for it. */
export interface LiveChannel {
  readonly config: ChannelConfig;
  readonly version: number;
  readonly breaker: CircuitBreaker;
}

/**
 * The channels in force, reloaded from the shared repository (changes made
 * through the API reach every notifier within a reload). A stored channel
 * that no longer parses is logged and left out; a channel whose
 * configuration changes gets a fresh breaker.
 */
export class ChannelSet {
  private channels = new Map<string, LiveChannel>();

  constructor(
    private readonly repository: ChannelRepository,
    private readonly logger: Logger,
  ) {}

  async reload(): Promise<void> {
    const next = new Map<string, LiveChannel>();
    for (const stored of await this.repository.list()) {
      const before = this.channels.get(stored.id);
      if (before && before.version === stored.version) {
        next.set(stored.id, before);
        continue;
      }
      try {
        const config = parseChannelConfig(stored.config, `channel ${stored.id}`);
        next.set(stored.id, { config, version: stored.version, breaker: new CircuitBreaker(config.policy.breakerFailures, config.policy.breakerCooldownMs) });
      } catch (err) {
        this.logger.error({ channel: stored.id, err: (err as Error).message }, 'stored channel is not valid; skipped');
      }
    }
    this.channels = next;
  }

  all(): LiveChannel[] {
    return [...this.channels.values()];
  }

  get(id: string): LiveChannel | undefined {
    return this.channels.get(id);
  }

  configs(): ChannelConfig[] {
    return this.all().map((c) => c.config);
  }
}
