import { parse as parseYaml } from 'yaml';
import { ValidationError } from '../errors.js';
import { parseChannelList, type ChannelConfig } from '../core/notify/channel-config.js';

/**
 * The notification channels of a models file: its top-level `channels` list
 * (the models stay under `models`). A file without one declares none.
 */
export function parseNotificationChannels(text: string, source = 'models file'): ChannelConfig[] {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new ValidationError(`${source}: not valid YAML or JSON: ${(err as Error).message}`, { code: 'CHANNEL_INVALID', cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return [];
  return parseChannelList((doc as Record<string, unknown>).channels, source);
}
