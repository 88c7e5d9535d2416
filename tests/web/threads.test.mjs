// The threaded core build (cairn-core-mt) under Node: it loads (its threads are worker_threads, see installNodeWorker
// in web/cairn.mjs), and training with the same seed and predicting give bit-identical results to the
// single-threaded build. Oracle: the single-threaded build in the same process. Digits with batches of 128 make
// the GEMMs large enough to be split across threads (iris alone would stay below the threshold).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Cairn, chooseCore, MAX_THREADS } from '../../build/wasm/web/cairn.mjs';

const IRIS_CSV = readFileSync(new URL('../../assets/datasets/iris.csv', import.meta.url), 'utf8');
const bytes = (f32) => Buffer.from(f32.buffer, f32.byteOffset, f32.byteLength);

test('build choice: auto is single-threaded in Node, a number asks; bad values are CairnErrors', async () => {
    assert.deepEqual(chooseCore('auto'), { threaded: false, threads: 1 });
    assert.deepEqual(chooseCore(1), { threaded: false, threads: 1 });
    assert.deepEqual(chooseCore(2), { threaded: true, threads: 2 });
    assert.throws(() => chooseCore(0), (e) => e.code === 'invalid_argument' && /threads/.test(e.message));
    assert.throws(() => chooseCore('two'), (e) => e.code === 'invalid_argument');
    assert.throws(() => chooseCore(MAX_THREADS + 1), (e) => e.code === 'invalid_argument' && new RegExp(`${MAX_THREADS}`).test(e.message));
    const single = await Cairn.open({ memory: true });
    assert.deepEqual(single.build, { module: 'cairn-core', threaded: false, threads: 1 });
    await single.close();
});

test('threaded build: digits and iris train and predict bit-identically to the single-threaded build', async () => {
    const results = [];
    for (const threads of [1, 2, 3]) {
        const cairn = await Cairn.open({ memory: true, threads });
        assert.deepEqual(cairn.build, { module: threads > 1 ? 'cairn-core-mt' : 'cairn-core', threaded: threads > 1, threads });
        const digits = cairn.datasets.bundled('digits');
        const iris = await cairn.datasets.fromCSV(IRIS_CSV, { name: 'iris' });
        const md = await cairn.train(digits, { model: 'mlp', epochs: 3, batchSize: 128, seed: 5, test: 0.2, optimizer: { type: 'adam', lr: 0.003 } });
        const mi = await cairn.train(iris, { model: 'mlp', epochs: 20, batchSize: 16, seed: 7, test: 0.2, optimizer: { type: 'adam', lr: 0.01 } });
        const xd = digits.features(), xi = iris.features();
        // A C++ cairn::Error crosses as a CairnError with its code in both builds.
        await assert.rejects(cairn.datasets.fromCSV('a,b\n1\n', { name: 'bad' }), (e) => e.code === 'parse_error' && /line/.test(e.message));
        results.push({ threads, digits: md.predict(xd), iris: mi.predict(xi), acc: md.info.metrics.test.accuracy });
        for (const o of [md, mi, digits, iris]) o.dispose();
        await cairn.close();
    }
    const [one, ...rest] = results;
    assert.ok(one.acc >= 0.85, `digits test accuracy ${one.acc}`);  // it learned (so the comparison means something)
    for (const r of rest) {
        assert.ok(bytes(r.digits).equals(bytes(one.digits)), `digits predictions with ${r.threads} threads differ from 1`);
        assert.ok(bytes(r.iris).equals(bytes(one.iris)), `iris predictions with ${r.threads} threads differ from 1`);
        assert.equal(r.acc, one.acc);
    }
});

test('close() ends the threaded core\'s workers; a model kept past it predicts the same on one thread', async () => {
    const cairn = await Cairn.open({ memory: true, threads: 2 });
    const { PThread } = cairn.core;
    assert.ok(PThread.runningWorkers.length + PThread.unusedWorkers.length > 0, 'the threaded core has workers');
    const digits = cairn.datasets.bundled('digits');
    const m = await cairn.train(digits, { model: 'mlp', epochs: 1, batchSize: 128, seed: 5, test: 0.2 });
    const x = digits.features();
    const before = m.predict(x);
    await cairn.close();
    assert.equal(PThread.runningWorkers.length + PThread.unusedWorkers.length, 0, 'workers left after close()');
    assert.equal(cairn.core.threads(), 1);
    assert.ok(bytes(m.predict(x)).equals(bytes(before)), 'predictions changed after close()');
    m.dispose();
    digits.dispose();
});
