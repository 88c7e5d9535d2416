// The threaded build in headless Chromium. The harness serves with COOP/COEP (as `cairn serve` does), so the page is
// cross-origin isolated and Cairn.open's default ('auto') must choose cairn-core-mt. Oracle: the single-threaded build
// forced in the same page must give bit-identical predictions after training with the same seed, in the page's
// thread and in the training worker (whose wasm threads are workers nested in it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serverAndBrowser, watch } from './harness.mjs';

const env = serverAndBrowser();

test('cross-origin isolated page: the loader chooses the threaded build; iris and digits train and predict bit-identically to the single build', async () => {
    const page = await env.browser.newPage();
    const log = watch(page);
    await page.goto(`${env.server.url}/console.html?db=threads-test`);
    await page.waitForSelector('body[data-ready=true]', { timeout: 60000 }).catch((e) => {
        throw new Error(`console did not start: ${e.message}\n${log.join('\n')}`);
    });
    const r = await page.evaluate(async () => {
        const { Cairn } = await import('/cairn.mjs');
        const auto = window.cairnConsole.cairn.build;
        const hex = (f) => Array.from(new Uint8Array(f.buffer, f.byteOffset, f.byteLength), (b) => b.toString(16).padStart(2, '0')).join('');
        const runs = {};
        for (const [name, threads, worker] of [['single', 1, false], ['threaded', 2, false], ['threadedWorker', 2, true], ['singleWorker', 1, true]]) {
            const cairn = await Cairn.open({ memory: true, threads });
            const iris = cairn.datasets.bundled('iris'), digits = cairn.datasets.bundled('digits');
            const mi = await cairn.train(iris, { model: 'mlp', epochs: 20, batchSize: 16, seed: 7, test: 0.2, optimizer: { type: 'adam', lr: 0.01 }, worker });
            const md = await cairn.train(digits, { model: 'mlp', epochs: 3, batchSize: 128, seed: 5, test: 0.2, optimizer: { type: 'adam', lr: 0.003 }, worker });
            runs[name] = { build: cairn.build, iris: hex(mi.predict(iris.features())), digits: hex(md.predict(digits.features())),
                           irisAcc: mi.info.metrics.test.accuracy, digitsAcc: md.info.metrics.test.accuracy };
            for (const o of [mi, md, iris, digits]) o.dispose();
            await cairn.close();
        }
        return { isolated: globalThis.crossOriginIsolated, shared: typeof SharedArrayBuffer, cores: navigator.hardwareConcurrency, auto, runs };
    });
    assert.equal(r.isolated, true, 'the page is cross-origin isolated');
    assert.equal(r.shared, 'function');
    const want = Math.min(r.cores, 4);
    assert.deepEqual(r.auto, { module: want > 1 ? 'cairn-core-mt' : 'cairn-core', threaded: want > 1, threads: want }, 'auto chose');
    const { single, threaded, threadedWorker, singleWorker } = r.runs;
    assert.deepEqual(single.build, { module: 'cairn-core', threaded: false, threads: 1 });
    assert.deepEqual(threaded.build, { module: 'cairn-core-mt', threaded: true, threads: 2 });
    assert.ok(single.irisAcc >= 0.9 && single.digitsAcc >= 0.85, `accuracies ${single.irisAcc} ${single.digitsAcc}`);
    for (const [name, run] of Object.entries({ threaded, threadedWorker, singleWorker })) {
        assert.equal(run.iris, single.iris, `${name}: iris predictions differ from the single-threaded build`);
        assert.equal(run.digits, single.digits, `${name}: digits predictions differ from the single-threaded build`);
    }
    assert.deepEqual(log.filter((l) => l.startsWith('[pageerror]')), []);
    await page.close();
});
