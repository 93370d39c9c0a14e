import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const ARTIFACTS = join(import.meta.dirname, '..', '..', 'test-artifacts');
export const CHROMIUM = process.env.DRIFTSTREAM_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Debian's headless Chromium with a fresh profile (playwright passes it as
 * --user-data-dir); close() removes the profile.
 */
export async function launchChromium(): Promise<{ browser: BrowserContext; close: () => Promise<void> }> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'driftstream-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 1100 },
    deviceScaleFactor: 1,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
