// The dashboard page's registry on IndexedDB, driven like a person would: clicks on the ImGui canvas (widgets are
// found through window.cairnDashboard.widgets(), the rectangles ImGui reported last frame, see shell/widget_map.h)
// and keys. Checked against the JS API (Cairn.open on the same origin and database) and across reloads.
//   - train iris -> promote v1 -> train again -> promote v2 -> roll back: the alias and its history in IndexedDB
//   - a version registered through the JS API in another page appears in the dashboard; everything survives a reload
//   - Storage: Export downloads a package; Import takes a file (a bad one: a clear error, nothing written)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { animationFrames, clickAt, serverAndBrowser, watch } from './harness.mjs';

const env = serverAndBrowser();
const problems = [];

const frames = (page, n = 4) => animationFrames(page, n);

async function openDashboard(context, db) {
    const page = await context.newPage();
    const log = watch(page, []);
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    await page.goto(`${env.server.url}/index.html?db=${db}`);
    await page.waitForFunction(() => window.cairnDashboard, null, { timeout: 60000 });
    await frames(page);
    page.log = log;
    return page;
}

// CAIRN_DASHBOARD_DUMP=DIR keeps screenshots of what the tests saw.
async function dump(page, name) {
    if (process.env.CAIRN_DASHBOARD_DUMP) await writeFile(join(process.env.CAIRN_DASHBOARD_DUMP, `registry_${name}.png`), await page.screenshot());
}

const status = (page) => page.evaluate(() => window.cairnDashboard.status());

// Waits until every change the dashboard made is in IndexedDB (and nothing is queued on the page's side).
async function saved(page) {
    await page.waitForFunction(async () => {
        await window.cairnDashboard.idle();
        return window.cairnDashboard.status().unsaved === 0;
    }, null, { timeout: 30000, polling: 100 });
    await frames(page);
}

// Clicks the widget labelled `label` (optionally inside a window whose name contains `within`).
async function click(page, label, within = '') {
    let w;
    for (let tries = 0; tries < 40 && !w; tries++) {
        const all = await page.evaluate(() => window.cairnDashboard.widgets());
        w = all.find((x) => x.label === label && x.window.includes(within));
        if (!w && label.startsWith('##')) w = await page.evaluate(([a, b]) => window.cairnDashboard.widgetById(a, b), [within, label]);
        if (!w) await frames(page, 2);
    }
    assert.ok(w, `no widget labelled '${label}' on screen`);
    const dpr = await page.evaluate(() => window.devicePixelRatio);
    await clickAt(page, (w.x0 + w.x1) / 2 / dpr, (w.y0 + w.y1) / 2 / dpr);
}

async function trainIris(page) {
    await click(page, '2  Train');
    await click(page, '##dataset', 'config');
    await click(page, 'iris');
    await click(page, 'Start (Space)');
    await page.waitForFunction(() => window.cairnDashboard.status().train_state === 3, null, { timeout: 60000, polling: 100 });
    await saved(page);
    const s = await status(page);
    assert.match(s.train_message, /^Registered iris-mlp\/\d+/, s.train_message);
    return Number(s.train_message.match(/iris-mlp\/(\d+)/)[1]);
}

async function confirm(page, button) {
    await click(page, '3  Registry');
    await click(page, button);
    await click(page, 'Confirm (Enter)', 'Confirm');
    await saved(page);
}

// The JS API, in a page of the same origin: what IndexedDB holds.
async function jsApi(page, db, fn, arg) {
    return page.evaluate(async ({ db, fn, arg }) => {
        const { Cairn } = await import('./cairn.mjs');
        const cairn = await Cairn.open({ db });
        try {
            return await new Function('cairn', 'arg', `return (${fn})(cairn, arg);`)(cairn, arg);
        } finally {
            await cairn.close();
        }
    }, { db, fn: fn.toString(), arg });
}

test('train, register, promote, promote again and roll back by clicking; the JS API sees it; it survives a reload', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    const db = 'dash-flow';
    const page = await openDashboard(context, db);
    assert.match((await status(page)).backend, /IndexedDB store "dash-flow"/);
    const twin = await openDashboard(context, db);  // a second dashboard tab on the same database

    const v1 = await trainIris(page);
    assert.equal(v1, 1);
    await confirm(page, 'Promote to production');
    let s = await status(page);
    assert.equal(s.models[0].aliases.production, 1, JSON.stringify(s));

    const v2 = await trainIris(page);
    assert.equal(v2, 2);
    await confirm(page, 'Promote to production');
    assert.equal((await status(page)).models[0].aliases.production, 2);
    await confirm(page, 'Roll back production');
    s = await status(page);
    assert.equal(s.models[0].aliases.production, 1, s.registry_message);
    await dump(page, 'rollback');
    // The other tab heard of every commit (BroadcastChannel) and shows the same alias and history.
    await twin.waitForFunction(() => {
        const m = window.cairnDashboard.status().models[0];
        return m?.versions.length === 2 && m.aliases.production === 1 && m.history.length === 3;
    }, null, { timeout: 20000, polling: 100 });
    await twin.close();

    // The JS API on the same database: the alias moved back, and its history recorded every step.
    const fromApi = await jsApi(page, db, async (cairn) => {
        const list = await cairn.registry.list();
        const rec = await cairn.registry.model('iris-mlp');
        return { list, history: rec.history, production: rec.aliases.production };
    });
    assert.deepEqual(fromApi.list.map((m) => [m.name, m.versions]), [['iris-mlp', [1, 2]]]);
    assert.equal(fromApi.production, 1);
    assert.deepEqual(fromApi.history.map((h) => [h.alias, h.action, h.from, h.to]),
        [['production', 'set', null, 1], ['production', 'set', 1, 2], ['production', 'rollback', 2, 1]]);

    // A version registered through the JS API in another page of the origin shows up in the dashboard.
    const other = await context.newPage();
    await other.goto(`${env.server.url}/console.html?db=${db}`).catch(() => {});
    const ref = await jsApi(other, db, async (cairn) => {
        const model = await cairn.train(cairn.datasets.bundled('iris'), { epochs: 2, seed: 7, worker: false });
        return (await cairn.registry.register(model, { name: 'iris-mlp' })).ref;
    });
    assert.equal(ref, 'iris-mlp/3');
    await page.waitForFunction(() => window.cairnDashboard.status().models[0]?.versions.length === 3, null, { timeout: 20000, polling: 100 });
    await other.close();

    // Reload: the dashboard reads the same versions and alias back from IndexedDB.
    await page.reload();
    await page.waitForFunction(() => window.cairnDashboard?.status().models.length === 1, null, { timeout: 60000, polling: 100 });
    s = await status(page);
    assert.deepEqual(s.models[0].versions, [1, 2, 3]);
    assert.equal(s.models[0].aliases.production, 1);
    assert.deepEqual(s.models[0].history.map((h) => h.action), ['set', 'set', 'rollback']);
    await context.close();
});

test('Storage: Export downloads the registry package, Import takes a file, a bad file is refused with nothing written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cairn-dash-'));
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, acceptDownloads: true });
    const page = await openDashboard(context, 'dash-export');
    await trainIris(page);

    await click(page, '7  Storage');
    const [download] = await Promise.all([page.waitForEvent('download'), click(page, 'Export (E)')]);
    assert.equal(download.suggestedFilename(), 'cairn-registry.cairnpkg');
    const pkg = join(dir, 'export.cairnpkg');
    await download.saveAs(pkg);
    const bytes = await readFile(pkg);
    // The same package the JS API exports for the same registry.
    const expected = await jsApi(page, 'dash-export', async (cairn) => Array.from(await cairn.registry.exportBytes()));
    assert.deepEqual([...bytes], expected);

    // A bad file: a clear error in the panel, and the store is exactly as before.
    const keysBefore = await jsApi(page, 'dash-export', async (cairn) => cairn.kv.list(''));
    assert.ok(keysBefore.length > 0);
    const bad = join(dir, 'bad.cairnpkg');
    await writeFile(bad, Buffer.concat([bytes.subarray(0, bytes.length >> 1)]));
    let [chooser] = await Promise.all([page.waitForEvent('filechooser'), click(page, 'Import')]);
    await chooser.setFiles(bad);
    await page.waitForFunction(() => /^Import failed: /.test(window.cairnDashboard.status().storage_message), null, { timeout: 10000, polling: 100 });
    const msg = (await status(page)).storage_message;
    await dump(page, 'bad_import');
    assert.match(msg, /bad\.cairnpkg/, msg);
    await saved(page);
    assert.deepEqual(await jsApi(page, 'dash-export', async (cairn) => cairn.kv.list('')), keysBefore);
    assert.deepEqual(await jsApi(page, 'dash-export', async (cairn) => Array.from(await cairn.registry.exportBytes())), expected);

    // The good package into a fresh database: its version arrives in IndexedDB.
    const fresh = await openDashboard(context, 'dash-import');
    assert.deepEqual((await status(fresh)).models, []);
    await click(fresh, '7  Storage');
    [chooser] = await Promise.all([fresh.waitForEvent('filechooser'), click(fresh, 'Import')]);
    await chooser.setFiles(pkg);
    await fresh.waitForFunction(() => /^Imported 1 versions/.test(window.cairnDashboard.status().storage_message), null, { timeout: 10000, polling: 100 });
    await saved(fresh);
    const imported = await jsApi(fresh, 'dash-import', async (cairn) => (await cairn.registry.list()).map((m) => [m.name, m.versions]));
    assert.deepEqual(imported, [['iris-mlp', [1]]]);
    await context.close();
});

test('a tab that missed another tab\'s change re-plans on the conflict; large values are fetched on demand', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    const db = 'dash-conflict';
    // This dashboard never hears of other tabs' commits (no BroadcastChannel), so its mirror goes stale.
    await context.addInitScript(() => { if (location.pathname.endsWith('/index.html')) delete window.BroadcastChannel; });
    const page = await openDashboard(context, db);
    assert.equal(await trainIris(page), 1);

    // Another page registers v2 behind its back; then a version 1.1 MB large (chunked in IndexedDB, loaded lazily).
    const other = await context.newPage();
    await other.goto(`${env.server.url}/console.html?db=${db}`).catch(() => {});
    const refs = await jsApi(other, db, async (cairn) => {
        const iris = await cairn.train(cairn.datasets.bundled('iris'), { epochs: 2, seed: 7, worker: false });
        const a = (await cairn.registry.register(iris, { name: 'iris-mlp' })).ref;
        const wide = { input: [64], layers: [{ type: 'dense', units: 4096, activation: 'relu' }, { type: 'dense', units: 10, activation: 'softmax' }] };
        const big = await cairn.train(cairn.datasets.bundled('digits'), { model: wide, epochs: 1, seed: 1, worker: false });
        const b = (await cairn.registry.register(big, { name: 'digits-wide' })).ref;
        return [a, b];
    });
    assert.deepEqual(refs, ['iris-mlp/2', 'digits-wide/1']);
    await other.close();
    assert.deepEqual((await status(page)).models.map((m) => [m.name, m.versions]), [['iris-mlp', [1]]], 'the dashboard should not know yet');

    // The dashboard plans v2 against its stale mirror; IndexedDB refuses the batch, it reloads and registers v3.
    assert.equal(await trainIris(page), 3);
    assert.match((await status(page)).train_message, /another tab changed the registry first/);
    // digits-wide/1's weights (1.2 MB) are stored in chunks and not in the mirror until a read asks for them: the
    // dashboard shows it whole (not as a damaged version) only if it fetched them.
    await page.waitForFunction(() => window.cairnDashboard.status().models.length === 2, null, { timeout: 20000, polling: 100 });
    await saved(page);
    const s = await status(page);
    assert.deepEqual(s.models.map((m) => [m.name, m.versions, m.damaged]), [['iris-mlp', [1, 2, 3], []], ['digits-wide', [1], []]]);
    const fromApi = await jsApi(page, db, async (cairn) => {
        const list = (await cairn.registry.list()).map((m) => [m.name, m.versions]);
        const v3 = await cairn.registry.manifest('iris-mlp/3');
        return { list, v3: v3.hyperparameters };
    });
    assert.deepEqual(fromApi.list, [['iris-mlp', [1, 2, 3]], ['digits-wide', [1]]]);
    assert.equal(fromApi.v3.optimizer, 'adam', 'v3 is the dashboard\'s run (its hyperparameters)');
    assert.equal(fromApi.v3.seed, 42);
    await context.close();
});

test('a quota error while the dashboard saves a version: it says so, and IndexedDB and the panels keep what they had', async () => {
    const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    const db = 'dash-quota';
    const page = await openDashboard(context, db);
    assert.equal(await trainIris(page), 1);
    // Every put fails from here on, as on a full disk.
    await page.evaluate(() => {
        window.realPut = IDBObjectStore.prototype.put;
        IDBObjectStore.prototype.put = function () { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };
    });
    await click(page, 'Start (Space)');
    await page.waitForFunction(() => /^Not saved: quota_exceeded/.test(window.cairnDashboard.status().storage_message), null,
                               { timeout: 60000, polling: 100 });
    await saved(page);
    const s = await status(page);
    assert.match(s.registry_message, /^Not saved: quota_exceeded: .*nothing was written/, s.registry_message);
    assert.deepEqual(s.models.map((m) => [m.name, m.versions]), [['iris-mlp', [1]]], 'the panels drop the unsaved version');
    await page.evaluate(() => { IDBObjectStore.prototype.put = window.realPut; });
    assert.deepEqual(await jsApi(page, db, async (cairn) => (await cairn.registry.list()).map((m) => [m.name, m.versions])),
                     [['iris-mlp', [1]]], 'IndexedDB holds what it held');
    // With room again, the next version gets the next number.
    assert.equal(await trainIris(page), 2);
    await context.close();
});

test('no errors in the pages', () => {
    assert.deepEqual(problems, []);
});
