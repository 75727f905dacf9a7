// node web/screenshot.mjs URL OUT.png — the demo model's page in headless Chromium (docs/img/web-demo.png):
// a fresh page, "Try the demo model", the full page once the plan is shown.
import { chromium } from 'playwright-core';

const [url, out] = process.argv.slice(2);
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
await page.goto(url);
await page.click('#demo');
await page.waitForSelector('#status[data-state="done"]', { timeout: 180000 });
await page.waitForSelector('#curve circle.here', { timeout: 30000 });
await page.screenshot({ path: out, fullPage: true });
await browser.close();
