// The whole JS API (web/cairn.mjs) under Node against the wasm build, with fake-indexeddb as the store.
// Oracles: iris is learnable to >= 90% test accuracy by an MLP; a stored and reloaded model must predict bit-identically;
// registry semantics (aliases, rollback, archive refusal) are spelled out by hand; memory must stay flat.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { Cairn, CairnError } from '../../build/wasm/web/cairn.mjs';
import { flipBlobBit } from './idb_tamper.mjs';

const IRIS_CSV = readFileSync(new URL('../../assets/datasets/iris.csv', import.meta.url), 'utf8');
const openOn = (indexedDB, db = 'cairn') => Cairn.open({ db, indexedDB, IDBKeyRange });
const trainIris = (cairn, ds, extra = {}) => cairn.train(ds, { model: 'mlp', epochs: 40, batchSize: 16, seed: 7, test: 0.2, optimizer: { type: 'adam', lr: 0.01 }, ...extra });

// The test split of the iris CSV as the trainer saw it is internal; as an independent check, predict every row of the
// file and compare with its label (a trained MLP gets > 90% of iris right).
function irisRows(cairn) {
    const lines = IRIS_CSV.trim().split('\n').slice(1).map((l) => l.split(','));
    const classes = [...new Set(lines.map((l) => l[l.length - 1]))].sort();
    const x = Float32Array.from(lines.flatMap((l) => l.slice(0, -1).map(Number)));
    const y = lines.map((l) => classes.indexOf(l[l.length - 1]));
    return { x, y, classes, n: lines.length };
}
const accuracy = (pred, y) => pred.reduce((a, p, i) => a + (p === y[i] ? 1 : 0), 0) / y.length;


test('datasets: CSV text, bundled, typed arrays; bad input is a CairnError naming the problem', async () => {
    const cairn = await Cairn.open({ memory: true });
    const ds = await cairn.datasets.fromCSV(IRIS_CSV, { name: 'iris' });
    assert.equal(ds.size, 150);
    assert.deepEqual(ds.shape, [150, 4]);
    assert.deepEqual(ds.classNames, ['setosa', 'versicolor', 'virginica']);
    assert.deepEqual(ds.classCounts, [50, 50, 50]);
    assert.ok(cairn.datasets.bundledNames().includes('iris'));
    const b = cairn.datasets.bundled('iris');
    assert.equal(b.fingerprint(), ds.fingerprint(), 'the bundled iris is the same data as the CSV file');
    const arr = cairn.datasets.fromArrays({ ...ds.toArrays() });
    assert.equal(arr.fingerprint(), ds.fingerprint(), 'typed arrays with the same schema give the same fingerprint');
    await assert.rejects(cairn.datasets.fromCSV('a,b,label\n1,2,x\n3,oops,y\n', { name: 'bad.csv' }),
        (e) => e instanceof CairnError && e instanceof Error && e.code === 'parse_error' && /bad\.csv/.test(e.message) && /line 3|:3/.test(e.message));
    assert.throws(() => cairn.datasets.bundled('nope'), (e) => e.code === 'not_found' && /iris/.test(e.message));
    assert.throws(() => cairn.datasets.fromArrays({ features: new Float32Array(5), shape: [2, 3], labels: [0, 1] }), (e) => e.code === 'shape_mismatch');
    // A value that is not a number is refused with its position, never trained on as NaN.
    const holey = new Float32Array(6).fill(1);
    holey[4] = Number('abc');
    assert.throws(() => cairn.datasets.fromArrays({ features: holey, shape: [2, 3], labels: [0, 1] }),
        (e) => e.code === 'invalid_input' && /value 4 \(sample 1, feature 1\) is NaN/.test(e.message));
    for (const d of [ds, b, arr]) d.dispose();
    await cairn.close();
});

test('training: progress per epoch, learns iris, predict single and batch agree', async () => {
    const cairn = await Cairn.open({ memory: true });
    const ds = await cairn.datasets.fromCSV(IRIS_CSV, { name: 'iris' });
    const epochs = [], progress = [];
    const model = await trainIris(cairn, ds, { onEpoch: (e) => epochs.push(e), onProgress: (p) => progress.push(p) });
    assert.equal(epochs.length, 40);
    assert.deepEqual(epochs.map((e) => e.epoch), Array.from({ length: 40 }, (_, i) => i + 1));
    assert.ok(epochs[39].loss < epochs[0].loss, 'training loss decreases');
    assert.ok(progress.at(-1).done);
    assert.ok(model.info.metrics.test.accuracy >= 0.9, `test accuracy ${model.info.metrics.test.accuracy}`);
    assert.ok(model.info.metrics.test.macro_f1 >= 0.85);
    // evaluate() on the full dataset agrees with an accuracy computed here from predict().
    const report = model.evaluate(ds);
    assert.equal(report.n, 150);
    assert.deepEqual(report.confusion.flat().reduce((a, b) => a + b, 0), 150);
    const { x, y, n } = irisRows(cairn);
    const probs = model.predict(x);
    assert.equal(probs.length, n * 3);
    for (let i = 0; i < n; i++) assert.ok(Math.abs(probs[i * 3] + probs[i * 3 + 1] + probs[i * 3 + 2] - 1) < 1e-5);
    assert.ok(accuracy([...model.predictClass(x)], y) >= 0.9);
    assert.ok(Math.abs(report.accuracy - accuracy([...model.predictClass(x)], y)) < 1e-12);
    // A file of virginica alone, columns reordered: matched to the model by name, it scores as those rows do above.
    const lines = IRIS_CSV.trim().split('\n');
    const reordered = ['species,petal_width,petal_length,sepal_width,sepal_length',
        ...lines.slice(1).filter((l) => l.endsWith('virginica')).map((l) => l.split(',').reverse().join(','))].join('\n');
    const virginica = await cairn.datasets.fromCSV(reordered, { name: 'virginica', label: 'species' });
    const sub = model.evaluate(virginica);
    const predicted = [...model.predictClass(x)];
    const wantRight = y.reduce((k, c, i) => k + (c === 2 && predicted[i] === 2 ? 1 : 0), 0);
    assert.equal(sub.n, 50);
    assert.ok(Math.abs(sub.accuracy - wantRight / 50) < 1e-12, `${sub.accuracy} vs ${wantRight / 50}`);
    virginica.dispose();
    // Drift: live rows without labels and in another column order, matched to the reference by name; the same
    // rows drift nowhere, and a feature moved by a constant is the only one flagged.
    const live = (shift) => ['petal_length,sepal_length,petal_width,sepal_width',
        ...lines.slice(1).map((l) => { const f = l.split(','); return [Number(f[2]) + shift, f[0], f[3], f[1]].join(','); })].join('\n');
    const same = await cairn.datasets.fromCSV(live(0), { name: 'same', label: 'species', labelOptional: true });
    const moved = await cairn.datasets.fromCSV(live(2), { name: 'moved', label: 'species', labelOptional: true });
    assert.equal(same.labels().length, 0);
    const still = ds.drift(same);
    assert.equal(still.drifted, 0);
    assert.equal(still.max_ks, 0);
    const shifted = ds.drift(moved);
    assert.deepEqual(shifted.features.filter((f) => f.drifted).map((f) => f.name), ['petal_length']);
    assert.throws(() => ds.drift(moved, { bins: 1 }), (e) => e.code === 'invalid_argument' && /bins/.test(e.message));
    await assert.rejects(cairn.datasets.fromCSV('a,b\n1,2\n', { labelOptional: true }), (e) => e.code === 'invalid_argument');
    same.dispose();
    moved.dispose();
    const one = model.predict(x.subarray(4 * 10, 4 * 11));
    assert.deepEqual([...one], [...probs.subarray(30, 33)]);
    assert.throws(() => model.predict(new Float32Array(5)), (e) => e.code === 'shape_mismatch' && /4/.test(e.message));
    assert.throws(() => model.predict([5.1, 3.5, Infinity, 0.2]), (e) => e.code === 'invalid_input' && /value 2 \(sample 0, feature 2\) is Infinity/.test(e.message));
    assert.throws(() => model.predict(['5.1', 'abc', '1.4', '0.2']), (e) => e.code === 'invalid_input' && /value 1 .* is NaN/.test(e.message));
    model.dispose();
    assert.throws(() => model.predict(x), (e) => e.code === 'disposed');
    ds.dispose();
    await cairn.close();
});

test('training: pause stops progress, resume continues, cancel rejects with code cancelled', async () => {
    const cairn = await Cairn.open({ memory: true });
    const ds = cairn.datasets.bundled('iris');
    let steps = 0;
    const run = cairn.train(ds, { epochs: 500, batchSize: 8, sliceMs: 1, onProgress: () => steps++ });
    while (steps < 3) await new Promise((r) => setTimeout(r, 1));
    run.pause();
    await new Promise((r) => setTimeout(r, 20));
    const frozen = steps;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(steps, frozen, 'no steps while paused');
    run.resume();
    while (steps < frozen + 3) await new Promise((r) => setTimeout(r, 1));
    run.cancel();
    await assert.rejects(run, (e) => e.code === 'cancelled');
    ds.dispose();
    await cairn.close();
});

test('registry: register, reload from IndexedDB, identical predictions; aliases, promote, rollback, history, diff', async () => {
    const idb = new IDBFactory();
    let cairn = await openOn(idb);
    const ds = await cairn.datasets.fromCSV(IRIS_CSV, { name: 'iris' });
    const m1 = await trainIris(cairn, ds);
    const m2 = await trainIris(cairn, ds, { seed: 8, epochs: 30 });
    const r1 = await cairn.registry.register(m1, { name: 'iris', description: 'iris MLP', notes: 'first' });
    const r2 = await cairn.registry.register(m2, { name: 'iris', parent: r1.ref });
    assert.equal(r1.version, 1);
    assert.equal(r2.version, 2);
    const { x } = irisRows(cairn);
    const p1 = m1.predict(x), p2 = m2.predict(x);
    await cairn.registry.promote('iris/1');
    await cairn.registry.promote('iris/2');
    await cairn.close();

    cairn = await openOn(idb);  // a fresh page: everything comes back from IndexedDB
    const list = await cairn.registry.list();
    assert.equal(list.length, 1);
    assert.deepEqual(list[0].versions, [1, 2]);
    assert.equal(list[0].aliases.production, 2);
    const l1 = await cairn.registry.get('iris/1');
    assert.deepEqual(l1.predict(x), p1, 'version 1 predicts bit-identically after the round trip');
    const prod = await cairn.registry.get('iris@production');
    assert.equal(prod.ref, 'iris/2');
    assert.deepEqual(prod.predict(x), p2);
    await cairn.registry.rollback('iris');  // production back to 1
    const back = await cairn.registry.get('iris@production');
    assert.equal(back.ref, 'iris/1');
    const history = await cairn.registry.history('iris');
    assert.deepEqual(history.map((h) => [h.action, h.from, h.to]), [['set', null, 1], ['set', 1, 2], ['rollback', 2, 1]]);
    const diff = await cairn.registry.diff('iris/1', 'iris/2');
    assert.ok(Array.isArray(diff.metrics) && diff.metrics.some((m) => m.metric === 'accuracy'));
    const manifest = await cairn.registry.manifest('iris/2');
    assert.deepEqual(manifest.parent, { model: 'iris', version: 1 });
    // Archive is refused while an alias points at the version; works on the other one.
    await assert.rejects(cairn.registry.archive('iris/1'), (e) => e.code === 'alias_in_use');
    await cairn.registry.archive('iris/2', 'superseded');
    assert.deepEqual((await cairn.registry.list())[0].versions, [1]);
    await cairn.registry.unarchive('iris/2');
    assert.deepEqual((await cairn.registry.list())[0].versions, [1, 2]);
    // Notes and tags edited after registration: saved, shown on load, bad tags refused by name.
    await cairn.registry.annotate('iris/1', { notes: 'baseline for the demo', tags: ['baseline', 'reviewed'] });
    const annotated = await cairn.registry.get('iris/1');
    assert.equal(annotated.info.notes, 'baseline for the demo');
    assert.deepEqual(annotated.info.tags, ['baseline', 'reviewed']);
    annotated.dispose();
    await assert.rejects(cairn.registry.annotate('iris/1', { tags: ['ok', 'a,b'] }),
        (e) => e.code === 'invalid_argument' && /tag 2/.test(e.message));
    await assert.rejects(cairn.registry.get('iris/9'), (e) => e.code === 'not_found' && /iris/.test(e.message));
    // Delete names its version (it cannot be undone): 'iris' is iris/2 now, and is refused as a name for it.
    await assert.rejects(cairn.registry.delete('iris'), (e) => e.code === 'bad_reference' && /use iris\/2/.test(e.message));
    await assert.rejects(cairn.registry.delete('iris/1'), (e) => e.code === 'alias_in_use');
    await cairn.registry.delete('iris/2');
    assert.deepEqual((await cairn.registry.list())[0].versions, [1]);
    assert.ok((await cairn.registry.gc()).deleted >= 1, "gc frees the deleted version's blobs");
    assert.equal((await cairn.registry.verify()).ok, true);
    for (const m of [m1, m2, l1, prod, back]) m.dispose();
    ds.dispose();
    await cairn.close();
});

test('registry: export/import round trip as bytes; a corrupted blob is detected on load', async () => {
    const idbA = new IDBFactory(), idbB = new IDBFactory();
    const a = await openOn(idbA);
    const ds = a.datasets.bundled('iris');
    const m = await trainIris(a, ds, { epochs: 10 });
    await a.registry.register(m, { name: 'flowers' });
    const pkg = await a.registry.export();  // ArrayBuffer in Node (Blob in browsers)
    const bytes = pkg instanceof ArrayBuffer ? pkg : await pkg.arrayBuffer();
    const b = await openOn(idbB);
    const imported = await b.registry.import(bytes);
    assert.deepEqual(imported.versions, ['flowers/1']);
    const { x } = irisRows(a);
    const mb = await b.registry.get('flowers@latest');
    assert.deepEqual(mb.predict(x), m.predict(x));
    assert.equal((await b.registry.verify()).ok, true);
    await b.close();

    const key = await flipBlobBit({ factory: idbB, db: 'cairn' });  // one bit of one weight
    assert.ok(key, 'found a blob record to corrupt');
    const c = await openOn(idbB);
    await assert.rejects(c.registry.get('flowers/1'), (e) => e.code === 'integrity' && /flowers/.test(e.message) && /SHA-256/.test(e.message));
    const report = await c.registry.verify();
    assert.equal(report.ok, false);
    assert.ok(report.problems.some((p) => p.code === 'integrity'));
    assert.equal(report.damaged_versions, 1);
    for (const h of [m, mb, ds]) h.dispose();
    await a.close();
    await c.close();
});

test('two instances registering at once on one database get distinct versions, none lost', async () => {
    const idb = new IDBFactory();
    const a = await openOn(idb), b = await openOn(idb);
    const ds = a.datasets.bundled('iris');
    const model = await trainIris(a, ds, { epochs: 2 });
    const bytes = model.serialize();
    const mb = b.modelFromBytes(bytes);
    const regs = await Promise.all([0, 1, 2, 3].flatMap(() => [a.registry.register(model, { name: 'race' }), b.registry.register(mb, { name: 'race' })]));
    assert.deepEqual(regs.map((r) => r.version).sort((p, q) => p - q), [1, 2, 3, 4, 5, 6, 7, 8]);
    const c = await openOn(idb);
    assert.deepEqual((await c.registry.list())[0].versions, [1, 2, 3, 4, 5, 6, 7, 8]);
    for (const h of [model, mb, ds]) h.dispose();
    await Promise.all([a.close(), b.close(), c.close()]);
});

test('memory: 10,000 predict calls and dataset/model churn leave the wasm heap and embind handles flat', async () => {
    const cairn = await Cairn.open({ memory: true });
    const ds = cairn.datasets.bundled('iris');
    const model = await trainIris(cairn, ds, { epochs: 3 });
    const x = new Float32Array([5.1, 3.5, 1.4, 0.2]);
    const churn = () => {
        const d = cairn.datasets.bundled('iris');
        const m = cairn.modelFromBytes(model.serialize());
        m.predict(x);
        m.dispose();
        d.dispose();
    };
    for (let i = 0; i < 100; i++) model.predict(x);  // warm up (first-call allocations, e.g. static tables)
    churn();
    const before = cairn.memory();
    for (let i = 0; i < 10000; i++) model.predict(x);
    for (let i = 0; i < 50; i++) churn();
    const after = cairn.memory();
    // dlmalloc's in-use figure moves by a few dozen bytes with its own bookkeeping; a leak of even one small
    // allocation per call would show as >= 80 KB over 10,000 calls.
    assert.ok(Math.abs(after.allocated - before.allocated) < 1024, `malloc'd bytes ${before.allocated} -> ${after.allocated}`);
    assert.equal(after.handles, before.handles);
    assert.equal(after.heap, before.heap, 'the wasm memory did not grow');
    model.dispose();
    ds.dispose();
    await cairn.close();
});

test('registry: a model larger than one IndexedDB chunk is stored in bounded chunks and reloads bit-identically', async () => {
    const idb = new IDBFactory();
    let cairn = await openOn(idb);
    // 784 inputs through the 256-128 MLP preset: ~0.9 MB of weights, several 256 KiB chunks.
    const n = 40, d = 784;
    const features = new Float32Array(n * d).map((_, i) => Math.sin(i * 0.37));
    const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
    const ds = cairn.datasets.fromArrays({ features, shape: [n, d], labels, name: 'wide' });
    const m = await cairn.train(ds, { model: 'mlp', epochs: 1, batchSize: 20 });
    const { ref } = await cairn.registry.register(m, { name: 'wide' });
    const p = m.predict(features);
    await cairn.close();
    const chunks = await new Promise((resolve) => {
        const r = idb.open('cairn');
        r.onsuccess = () => {
            const q = r.result.transaction('chunks').objectStore('chunks').getAll();
            q.onsuccess = () => (r.result.close(), resolve(q.result));
        };
    });
    assert.ok(chunks.length >= 3, `${chunks.length} chunks`);
    assert.ok(chunks.every((c) => c.length <= 256 * 1024));
    cairn = await openOn(idb);
    const back = await cairn.registry.get(ref);
    assert.deepEqual(back.predict(features), p);
    for (const h of [m, back, ds]) h.dispose();
    await cairn.close();
});
