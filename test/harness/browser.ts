import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type Page, type Request } from 'playwright-core';

/** Debian's chromium (scripts/bootstrap.sh installs it); playwright-core only drives it, it downloads nothing. */
export const CHROMIUM = process.env.BENCHLINE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * The web console in a real browser for integration tests: pages opened at the api's URL, signed
 * in (the token in sessionStorage, as the sign-in form leaves it) or not, and screenshots kept as
 * the run's artifacts under its scratch folder (artifacts/<name>/).
 */
export class ConsoleBrowser {
  private constructor(
    private readonly browser: Browser,
    private readonly apiUrl: string,
    readonly shots: string,
  ) {}

  static async launch(apiUrl: string, name: string): Promise<ConsoleBrowser> {
    const shots = join(process.env.BENCHLINE_TEST_SCRATCH!, 'artifacts', name);
    await mkdir(shots, { recursive: true });
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    return new ConsoleBrowser(browser, apiUrl, shots);
  }

  /**
   * A fresh context (its own sessionStorage) with a page at `path`, signed in with `token` when
   * given; `onRequest` sees every request the page makes, from the first.
   */
  async open(path: string, token?: string, onRequest?: (request: Request) => void): Promise<Page> {
    const context = await this.browser.newContext({ viewport: { width: 1280, height: 900 } });
    if (token) await context.addInitScript(`sessionStorage.setItem('benchline.token', ${JSON.stringify(token)})`);
    const page = await context.newPage();
    if (onRequest) page.on('request', onRequest);
    await page.goto(`${this.apiUrl}${path}`);
    return page;
  }

  shot(page: Page, name: string): Promise<Buffer> {
    return page.screenshot({ path: join(this.shots, `${name}.png`), fullPage: true });
  }

  close(): Promise<void> {
    return this.browser.close();
  }
}
