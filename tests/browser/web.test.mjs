// The page and the JS API in headless Chromium against real IndexedDB: train iris in the page (in a worker),
// register, reload, identical predictions; two tabs registering at once; a corrupted record detected on load; a
// quota error that leaves the registry as it was; the embed example; frame times while training.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { serverAndBrowser, watch } from './harness.mjs';
import { flipBlobBit } from '../web/idb_tamper.mjs';

const lines = readFileSync(new URL('../../assets/datasets/iris.csv', import.meta.url), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
const CLASSES = [...new Set(lines.map((l) => l.at(-1)))].sort();
const IRIS_X = lines.flatMap((l) => l.slice(0, -1).map(Number));
const IRIS_Y = lines.map((l) => CLASSES.indexOf(l.at(-1)));

const env = serverAndBrowser();

async function openConsole(context) {
    const page = await context.newPage();
    const log = watch(page);
    await page.goto(`${env.server.url}/console.html`);
    await page.waitForSelector('body[data-ready=true]', { timeout: 30000 }).catch((e) => {
        throw new Error(`console did not start: ${e.message}\n${log.join('\n')}`);
    });
    return { page, log };
}

// Trains a small iris model inside the page (in-thread: quick) and registers it under `name`; returns the ref.
const trainAndRegister = (page, name, epochs = 5) =>
    page.evaluate(async ({ name, epochs }) => {
        const { cairn } = window.cairnConsole;
        const ds = cairn.datasets.bundled('iris');
        const m = await cairn.train(ds, { epochs, seed: 3, worker: false });
        const r = await cairn.registry.register(m, { name });
        m.dispose();
        ds.dispose();
        return r.ref;
    }, { name, epochs });

const predictIn = (page, ref, x) =>
    page.evaluate(async ({ ref, x }) => {
        const m = await window.cairnConsole.cairn.registry.get(ref);
        try {
            return Array.from(m.predict(new Float32Array(x)));
        } finally {
            m.dispose();
        }
    }, { ref, x });

const recordKeys = (page) =>
    page.evaluate(() => new Promise((resolve, reject) => {
        const r = indexedDB.open('cairn');
        r.onsuccess = () => {
            const req = r.result.transaction('records').objectStore('records').getAllKeys();
            req.onsuccess = () => (r.result.close(), resolve(req.result));
            req.onerror = () => reject(req.error);
        };
    }));

test('train iris in the page (worker), register, reload: the version is there with identical predictions', async () => {
    const context = await env.browser.newContext();
    const { page, log } = await openConsole(context);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    await page.fill('#epochs', '40');
    await page.click('#train');
    await page.waitForSelector('#register:not([disabled])', { timeout: 60000 }).catch((e) => {
        throw new Error(`${e.message}\n${log.join('\n')}`);
    });
    const trained = await page.evaluate((x) => Array.from(window.cairnConsole.model.predict(new Float32Array(x))), IRIS_X);
    await page.click('#register');
    await page.waitForFunction(() => document.querySelector('#models tbody tr .versions')?.textContent === '1');
    const frames = await page.evaluate(() => window.cairnConsole.frames);
    console.log(`# iris in a worker: ${frames.frames} frames, mean ${frames.mean.toFixed(1)} ms, p95 ${frames.p95.toFixed(1)} ms`);

    await page.reload();
    await page.waitForSelector('body[data-ready=true]');
    assert.equal(await page.textContent('#models tbody tr .versions'), '1');
    const reloaded = await predictIn(page, 'iris/1', IRIS_X);
    assert.deepEqual(reloaded, trained, 'bit-identical probabilities after the IndexedDB round trip');
    // And they are good predictions (oracle: iris labels; an MLP gets > 90%).
    let correct = 0;
    for (let i = 0; i < IRIS_Y.length; i++) {
        const p = reloaded.slice(i * 3, i * 3 + 3);
        if (p.indexOf(Math.max(...p)) === IRIS_Y[i]) correct++;
    }
    assert.ok(correct / IRIS_Y.length >= 0.9, `accuracy ${correct / IRIS_Y.length}`);
    // Datasets by URL and from a File give the same data as the bundled copy.
    const same = await page.evaluate(async () => {
        const { cairn } = window.cairnConsole;
        const byUrl = await cairn.datasets.fromURL('data/iris.csv');
        const text = await (await fetch('data/iris.csv')).text();
        const byFile = await cairn.datasets.fromCSV(new File([text], 'iris.csv', { type: 'text/csv' }));
        const bundled = cairn.datasets.bundled('iris');
        const out = [byUrl.fingerprint(), byFile.fingerprint(), bundled.fingerprint(), byUrl.name, byFile.name];
        for (const d of [byUrl, byFile, bundled]) d.dispose();
        return out;
    });
    assert.equal(same[0], same[2]);
    assert.equal(same[1], same[2]);
    assert.deepEqual(same.slice(3), ['iris', 'iris']);
    // The UI path: promote, then predict through the form.
    await page.click('#models tbody tr button');  // "promote v1"
    await page.waitForFunction(() => document.querySelector('#models .aliases')?.textContent.includes('production→1'));
    await page.fill('#features', '6.3, 3.3, 6.0, 2.5');
    await page.click('#predict');
    await page.waitForFunction(() => document.querySelector('#prediction').textContent.includes('iris/1'));
    assert.match(await page.textContent('#prediction'), /virginica/);
    // A feature that is not a number is named, not read as NaN.
    await page.fill('#features', '6.3, abc, 6.0, 2.5');
    await page.click('#predict');
    await page.waitForFunction(() => document.querySelector('#error').textContent.includes('abc'));
    assert.match(await page.textContent('#error'), /feature 2: expected a number, got "abc"/);
    await context.close();
});

test('two tabs registering at once lose and duplicate nothing; the other tab is told and refreshes', async () => {
    const context = await env.browser.newContext();
    const a = await openConsole(context), b = await openConsole(context);
    // Both tabs hold a trained model first, then fire five registrations each at the same moment.
    const prep = (page) => page.evaluate(async () => {
        const { cairn } = window.cairnConsole;
        const ds = cairn.datasets.bundled('iris');
        window.m = await cairn.train(ds, { epochs: 2, worker: false });
        ds.dispose();
    });
    await Promise.all([prep(a.page), prep(b.page)]);
    const fire = (page) => page.evaluate(() => Promise.all([0, 1, 2, 3, 4].map(() => window.cairnConsole.cairn.registry.register(window.m, { name: 'race' }).then((r) => r.version))));
    const [va, vb] = await Promise.all([fire(a.page), fire(b.page)]);
    assert.deepEqual([...va, ...vb].sort((x, y) => x - y), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // Tab A's table follows tab B's registrations through the BroadcastChannel notice.
    await a.page.waitForFunction(() => document.querySelector('#models tbody tr .versions')?.textContent === '1, 2, 3, 4, 5, 6, 7, 8, 9, 10', null, { timeout: 10000 });
    const list = await b.page.evaluate(() => window.cairnConsole.cairn.registry.list());
    assert.deepEqual(list[0].versions, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal((await a.page.evaluate(() => window.cairnConsole.cairn.registry.verify())).ok, true);
    await context.close();
});

test('a record corrupted inside IndexedDB is detected on load with a clear error', async () => {
    const context = await env.browser.newContext();
    const { page } = await openConsole(context);
    await trainAndRegister(page, 'iris');
    // Flip one bit of the weights blob, behind the API's back.
    const key = await page.evaluate(flipBlobBit, { db: 'cairn', fromEnd: 5, mask: 0x10 });
    assert.ok(key);
    await page.reload();
    await page.waitForSelector('body[data-ready=true]');
    const err = await page.evaluate(() => window.cairnConsole.cairn.registry.get('iris/1').then(() => null, (e) => ({ code: e.code, message: e.message, isError: e instanceof Error })));
    assert.equal(err?.code, 'integrity');
    assert.ok(err.isError);
    assert.match(err.message, /iris/);
    assert.match(err.message, new RegExp(key.slice(5, 17)));  // names the blob
    // The page shows it too.
    await page.fill('#ref', 'iris/1');
    await page.click('#predict');
    await page.waitForFunction(() => document.querySelector('#error').textContent.startsWith('integrity'));
    await context.close();
});

test('a quota error during a registration leaves the registry exactly as it was', async () => {
    const context = await env.browser.newContext();
    const { page } = await openConsole(context);
    await trainAndRegister(page, 'iris');
    const keysBefore = await recordKeys(page);
    const err = await page.evaluate(async () => {
        const { cairn } = window.cairnConsole;
        const ds = cairn.datasets.bundled('iris');
        const m = await cairn.train(ds, { epochs: 2, seed: 9, worker: false });
        const put = IDBObjectStore.prototype.put;
        let calls = 0;
        // The third put of the transaction fails, as a full disk would, after others were issued.
        IDBObjectStore.prototype.put = function (...args) {
            if (++calls === 3) throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
            return put.apply(this, args);
        };
        try {
            await cairn.registry.register(m, { name: 'iris' });
            return null;
        } catch (e) {
            return { code: e.code, message: e.message };
        } finally {
            IDBObjectStore.prototype.put = put;
            m.dispose();
            ds.dispose();
        }
    });
    assert.equal(err?.code, 'quota_exceeded');
    assert.match(err.message, /quota exceeded.*nothing was written/);
    assert.deepEqual(await recordKeys(page), keysBefore, 'no record added, changed away or half-written');
    assert.deepEqual((await page.evaluate(() => window.cairnConsole.cairn.registry.list()))[0].versions, [1]);
    await page.reload();
    await page.waitForSelector('body[data-ready=true]');
    assert.deepEqual((await page.evaluate(() => window.cairnConsole.cairn.registry.list()))[0].versions, [1]);
    assert.equal(await trainAndRegister(page, 'iris', 2), 'iris/2', 'the next registration gets the next number');
    await context.close();
});

test('the embed example classifies with iris@production', async () => {
    const context = await env.browser.newContext();
    const { page } = await openConsole(context);
    const ref = await trainAndRegister(page, 'iris', 60);
    await page.evaluate((r) => window.cairnConsole.cairn.registry.promote(r), ref);
    const embed = await context.newPage();
    const log = watch(embed);
    await embed.goto(`${env.server.url}/examples/embed.html`);
    await embed.waitForSelector('body[data-ready]');
    assert.equal(await embed.getAttribute('body', 'data-ready'), 'model', log.join('\n'));
    const classes = await embed.evaluate((rows) => rows.map((x) => window.classify(x)), lines.map((l) => l.slice(0, -1).map(Number)));
    const correct = classes.filter((c, i) => c === CLASSES[IRIS_Y[i]]).length;
    assert.ok(correct / classes.length >= 0.9, `embed accuracy ${correct}/${classes.length}`);
    await embed.fill('input[name=x]', '5.1, 3.5, 1.4, 0.2');
    await embed.click('button');
    await embed.waitForFunction(() => document.getElementById('result').textContent.includes('iris/1'));
    assert.match(await embed.textContent('#result'), /setosa/);
    await context.close();
});

test('training in the worker pauses, resumes and cancels', async () => {
    const context = await env.browser.newContext();
    const { page } = await openConsole(context);
    const r = await page.evaluate(async () => {
        const { cairn } = window.cairnConsole;
        const ds = cairn.datasets.bundled('digits');
        let steps = 0;
        const run = cairn.train(ds, { epochs: 1000, worker: true, sliceMs: 5, onProgress: () => steps++ });
        const until = async (f) => { while (!f()) await new Promise((res) => setTimeout(res, 5)); };
        await until(() => steps >= 3);
        run.pause();
        await new Promise((res) => setTimeout(res, 100));  // messages already in flight arrive
        const frozen = steps;
        await new Promise((res) => setTimeout(res, 300));
        const whilePaused = steps - frozen;
        run.resume();
        await until(() => steps >= frozen + 3);
        run.cancel();
        const err = await run.then(() => null, (e) => ({ code: e.code, message: e.message }));
        ds.dispose();
        return { whilePaused, err };
    });
    assert.equal(r.whilePaused, 0, 'no progress while paused');
    assert.equal(r.err?.code, 'cancelled');
    await context.close();
});

test('frame times while training: worker vs. on the page thread (figures, not asserted)', async () => {
    const context = await env.browser.newContext();
    const { page } = await openConsole(context);
    const figures = await page.evaluate(async () => {
        const { cairn } = window.cairnConsole;
        const names = cairn.datasets.bundledNames();
        const name = names.includes('fashion_mnist_small') ? 'fashion_mnist_small' : 'digits';
        const ds = cairn.datasets.bundled(name);
        const measure = async (worker) => {
            const times = [];
            let last = performance.now(), on = true;
            const tick = (t) => { times.push(t - last); last = t; if (on) requestAnimationFrame(tick); };
            requestAnimationFrame(tick);
            const t0 = performance.now();
            const m = await cairn.train(ds, { model: 'mlp', epochs: 2, batchSize: 32, worker });
            const ms = performance.now() - t0;
            on = false;
            const acc = m.info.metrics.train?.accuracy;
            m.dispose();
            times.sort((a, b) => a - b);
            return { worker, ms, frames: times.length, p50: times[times.length >> 1], p95: times[Math.floor(times.length * 0.95)], max: times.at(-1), acc };
        };
        const out = { dataset: name, samples: ds.size, runs: [await measure(true), await measure(false)] };
        ds.dispose();
        return out;
    });
    for (const r of figures.runs)
        console.log(`# ${figures.dataset} (${figures.samples} samples, mlp, 2 epochs) ${r.worker ? 'worker     ' : 'page thread'}: ` +
            `${r.ms.toFixed(0)} ms, ${r.frames} frames, frame p50 ${r.p50?.toFixed(1)} ms, p95 ${r.p95?.toFixed(1)} ms, max ${r.max?.toFixed(1)} ms, train acc ${r.acc?.toFixed(3)}`);
    assert.ok(figures.runs.every((r) => r.acc > 0.5), 'both runs actually trained');
    await context.close();
});
