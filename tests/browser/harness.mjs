// Shared by the browser tests: a static server with the COOP/COEP headers `cairn serve` sets (so the page is
// cross-origin isolated, as in production), and headless Debian Chromium through playwright-core.
import { fileURLToPath } from 'node:url';
import { before, after } from 'node:test';
import { chromium } from 'playwright-core';
import { serveStatic } from '../static_server.mjs';

export const WEB_ROOT = fileURLToPath(new URL('../../build/wasm/web/', import.meta.url));

// Cross-origin isolated, as behind `cairn serve` (tests/static_server.mjs).
export const startServer = (root = WEB_ROOT) => serveStatic(root);

export async function launch() {
    return chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
               '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
               '--disable-quic'],
    });
}

// One server and one browser for the calling test file: registers its before/after hooks and returns the object
// whose .server and .browser are set once they have started.
export function serverAndBrowser() {
    const env = { server: null, browser: null };
    before(async () => {
        env.server = await startServer();
        env.browser = await launch();
    });
    after(async () => {
        await env.browser?.close();
        await env.server?.close();
    });
    return env;
}

// Collects the page's console errors and uncaught exceptions so a failing test shows them.
export function watch(page, log = []) {
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log.push(`[${m.type()}] ${m.text()}`); });
    page.on('pageerror', (e) => log.push(`[pageerror] ${e.message}`));
    return log;
}

// Waits for n animation frames, so a canvas app has drawn after the last input or resize.
export async function animationFrames(page, n) {
    await page.evaluate((k) => new Promise((resolve) => {
        let left = k;
        const tick = () => (--left <= 0 ? resolve() : requestAnimationFrame(tick));
        requestAnimationFrame(tick);
    }), n);
}

// A mouse click at (x, y) CSS pixels that an app polling its input once per frame sees: the move, the press and the
// release each land in a frame of their own.
export async function clickAt(page, x, y) {
    await page.mouse.move(x, y);
    await animationFrames(page, 2);
    await page.mouse.down();
    await animationFrames(page, 2);
    await page.mouse.up();
    await animationFrames(page, 3);
}
