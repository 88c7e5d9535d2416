// The dashboard page in headless Chromium (WebGL2 through SwiftShader): it starts, draws at devicePixelRatio,
// follows window resizes, answers keyboard shortcuts, and shows the right panel. Pixels are read from
// playwright screenshots decoded by the page's own 2-D canvas.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { animationFrames, clickAt, launch } from './harness.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cairn = join(root, 'build/native/native/cairn');
const webRoot = join(root, 'build/wasm/web');

// Colours from shell/dashboard.cpp: the top of the heatmap ramp, and the window background.
const HEAT_TOP = [250, 230, 50];
const HEAT_BOTTOM = [30, 35, 70];
const BACKGROUND = [26, 29, 34];

let server, browser, base;
const consoleErrors = [];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitForServer(url, ms = 10000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try { if ((await fetch(url)).ok) return; } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`cairn serve did not answer at ${url}`);
}

before(async () => {
  assert.ok(existsSync(cairn), `${cairn} missing: build the native target`);
  assert.ok(existsSync(join(webRoot, 'dashboard.wasm')), 'build/wasm/web/dashboard.wasm missing: build the wasm target');
  const port = await freePort();
  server = spawn(cairn, ['serve', '--root', webRoot, '--port', String(port)], { stdio: 'ignore' });
  base = `http://127.0.0.1:${port}`;
  await waitForServer(`${base}/index.html`);
  browser = await launch();  // the same headless Chromium as the other browser tests; here behind `cairn serve`
});

after(async () => {
  await browser?.close();
  server?.kill();
});

async function openDashboard(options) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.goto(`${base}/index.html`);
  await page.waitForFunction(() => window.cairnDashboardReady === true, null, { timeout: 60000 });
  await settle(page);
  return { context, page };
}

// A few animation frames, so the app has drawn after the last input or resize.
const settle = (page, frames = 12) => animationFrames(page, frames);

// CAIRN_DASHBOARD_DUMP=DIR keeps the screenshots, to look at what the tests saw.
function dump(name, png) {
  if (process.env.CAIRN_DASHBOARD_DUMP) writeFileSync(join(process.env.CAIRN_DASHBOARD_DUMP, `browser_${name}.png`), png);
}

// Statistics of a region of a screenshot (CSS pixels x deviceScaleFactor), computed in the page.
async function regionStats(page, png, rect, colour, tolerance = 6) {
  return page.evaluate(async ({ b64, rect, colour, tolerance }) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width; c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const [x, y, w, h] = rect || [0, 0, img.width, img.height];
    const d = g.getImageData(x, y, w, h).data;
    const colours = new Set();
    let matches = 0;
    for (let i = 0; i < d.length; i += 4) {
      colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      if (colour && Math.abs(d[i] - colour[0]) <= tolerance && Math.abs(d[i + 1] - colour[1]) <= tolerance &&
          Math.abs(d[i + 2] - colour[2]) <= tolerance) matches++;
    }
    return { width: img.width, height: img.height, distinct: colours.size, matches, pixels: d.length / 4 };
  }, { b64: png.toString('base64'), rect, colour, tolerance });
}

test('the page starts, fills the window and draws the Data panel', async () => {
  const { context, page } = await openDashboard({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const size = await page.evaluate(() => [document.getElementById('canvas').width, document.getElementById('canvas').height]);
  assert.deepEqual(size, [1280, 800]);
  const png = await page.screenshot();
  dump('data', png);
  const all = await regionStats(page, png, null, BACKGROUND, 2);
  assert.ok(all.distinct > 200, `only ${all.distinct} colours: the frame looks blank`);
  assert.ok(all.matches < all.pixels * 0.6, 'mostly background: panels are missing');
  // The header (name of the app) and the navigation column hold text.
  const header = await regionStats(page, png, [0, 0, 300, 40]);
  assert.ok(header.distinct > 20, 'no header text');
  // The Data panel shows no heatmap.
  const heat = await regionStats(page, png, null, HEAT_BOTTOM, 3);
  assert.ok(heat.matches < 500, `unexpected heatmap colour on the Data panel (${heat.matches} px)`);
  await context.close();
});

test('keyboard shortcut 4 opens Evaluate, whose heatmap uses the colour ramp', async () => {
  const { context, page } = await openDashboard({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  await page.click('#canvas', { position: { x: 700, y: 780 } });  // focus, on the status bar (no widget)
  await page.keyboard.press('4');
  await settle(page);
  const png = await page.screenshot();
  dump('evaluate', png);
  // The digits baseline gets class 0 entirely right (one cell at the top of the ramp) and most cells are empty
  // (the bottom of the ramp).
  const heat = await regionStats(page, png, null, HEAT_TOP, 6);
  assert.ok(heat.matches > 1000, `heatmap diagonal not drawn (${heat.matches} px of the ramp's top colour)`);
  const empty = await regionStats(page, png, null, HEAT_BOTTOM, 3);
  assert.ok(empty.matches > 50000, `heatmap's empty cells not drawn (${empty.matches} px of the ramp's bottom colour)`);
  await context.close();
});

test('high-DPI: the canvas backing store is CSS size x devicePixelRatio and follows resizes', async () => {
  const { context, page } = await openDashboard({ viewport: { width: 1000, height: 700 }, deviceScaleFactor: 2 });
  let size = await page.evaluate(() => [document.getElementById('canvas').width, document.getElementById('canvas').height]);
  assert.deepEqual(size, [2000, 1400]);
  const png = await page.screenshot();
  dump('dpr2', png);
  const stats = await regionStats(page, png);
  assert.equal(stats.width, 2000);
  assert.ok(stats.distinct > 200, 'blank frame at devicePixelRatio 2');
  await page.setViewportSize({ width: 1200, height: 760 });
  await settle(page);
  size = await page.evaluate(() => [document.getElementById('canvas').width, document.getElementById('canvas').height]);
  assert.deepEqual(size, [2400, 1520]);
  await context.close();
});

// A browser in fullscreen or kiosk mode gives the page the whole screen. Emscripten's glfwSetWindowSize reads a
// size equal to the screen's as a request for the Fullscreen API, which the browser refuses without a user gesture:
// the canvas then kept its old size and every frame logged a refusal.
test('a page as large as the screen (fullscreen or kiosk browser): the canvas fills it, nothing asks for fullscreen', async () => {
  const screen = { width: 1280, height: 800 };
  const { context, page } = await openDashboard({ viewport: screen, screen, deviceScaleFactor: 1 });
  const warnings = [];
  page.on('console', (m) => { if (/fullscreen/i.test(m.text())) warnings.push(m.text()); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await settle(page);
  let size = await page.evaluate(() => [document.getElementById('canvas').width, document.getElementById('canvas').height]);
  assert.deepEqual(size, [1280, 800]);
  // From a smaller window back to the screen's size.
  await page.setViewportSize({ width: 1000, height: 600 });
  await settle(page);
  await page.setViewportSize(screen);
  await settle(page);
  size = await page.evaluate(() => [document.getElementById('canvas').width, document.getElementById('canvas').height]);
  assert.deepEqual(size, [1280, 800]);
  assert.equal(await page.evaluate(() => document.fullscreenElement), null);
  assert.deepEqual(warnings, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('Space on the Train panel trains in the page, a few batches per frame, with a growing progress bar', async () => {
  const { context, page } = await openDashboard({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  await page.click('#canvas', { position: { x: 700, y: 780 } });
  await page.keyboard.press('2');
  await settle(page);
  const bar = [606, 144, 652, 22];  // the Run section's progress bar (1280x800 layout)
  const ACCENT = [69, 158, 230];     // ImGuiCol_PlotHistogram
  const before = await regionStats(page, await page.screenshot(), bar, ACCENT, 8);
  await page.keyboard.press(' ');
  await settle(page, 40);
  const png = await page.screenshot();
  dump('train', png);
  const during = await regionStats(page, png, bar, ACCENT, 8);
  assert.ok(before.matches < 50, `progress before training: ${before.matches} px`);
  assert.ok(during.matches > before.matches + 200, `progress bar did not grow (${before.matches} -> ${during.matches} px)`);
  // The frame loop keeps running while training: frames still arrive.
  const fps = await page.evaluate(() => new Promise((resolve) => {
    let n = 0; const t0 = performance.now();
    const tick = () => (++n, performance.now() - t0 < 1000 ? requestAnimationFrame(tick) : resolve(n));
    requestAnimationFrame(tick);
  }));
  assert.ok(fps >= 2, `only ${fps} frames in a second while training`);
  await context.close();
});

test('Open CSV on the Data panel: a bad file is named by line and column, a good one joins the list selected for training', async () => {
  const { context, page } = await openDashboard({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  // The page's host (dashboard_host.mjs: the file input, the IndexedDB registry) connects after the first frames.
  await page.waitForFunction(() => window.cairnDashboard, null, { timeout: 60000 });
  const status = () => page.evaluate(() => window.cairnDashboard.status());
  const before = (await status()).datasets;
  assert.ok(before.includes('iris'), JSON.stringify(before));
  // The button opens the browser's file picker.
  const button = await page.evaluate(() => window.cairnDashboard.widgets().find((w) => w.label === 'Open CSV...'));
  assert.ok(button, 'no Open CSV... button on the Data panel');
  // deviceScaleFactor 1: canvas pixels are CSS pixels.
  const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: 10000 }),
    clickAt(page, (button.x0 + button.x1) / 2, (button.y0 + button.y1) / 2)]);
  assert.equal(chooser.isMultiple(), false);
  // What the button opens: the page's hidden file input, whose change hands the text to the dashboard.
  await page.setInputFiles('#csv-file', { name: 'bad.csv', mimeType: 'text/csv', buffer: Buffer.from('a,b,label\n1,2,x\n3,oops,y\n') });
  await page.waitForFunction(() => window.cairnDashboard.status().data_message !== '');
  let s = await status();
  assert.match(s.data_message, /bad\.csv, line 3, column "b" \(2\): expected a number, got "oops"/);
  assert.deepEqual(s.datasets, before);
  const rows = ['x,y,side'];
  for (let i = 0; i < 60; i++) rows.push(`${i % 2 ? 3 : -3},${(i % 7) / 7},${i % 2 ? 'right' : 'left'}`);
  await page.setInputFiles('#csv-file', { name: 'sides.csv', mimeType: 'text/csv', buffer: Buffer.from(rows.join('\n') + '\n') });
  await page.waitForFunction(() => window.cairnDashboard.status().datasets.includes('sides.csv'));
  s = await status();
  assert.deepEqual(s.datasets, [...before, 'sides.csv']);
  assert.equal(s.dataset, before.length, 'the opened file is the one the Train panel trains on');
  assert.equal(s.data_message, 'Opened sides.csv');
  await context.close();
});

test('no errors in the console', () => {
  assert.deepEqual(consoleErrors, []);
});
