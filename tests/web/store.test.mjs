// The IndexedDB store (web/idb_store.mjs) under Node with fake-indexeddb, driven through the wasm mirror exactly as
// the registry drives it: conditions, atomic batches, chunked values, concurrent writers, quota errors, fallback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory, IDBKeyRange, IDBObjectStore } from 'fake-indexeddb';
import { Cairn } from '../../build/wasm/web/cairn.mjs';
import { CHUNK_BYTES } from '../../build/wasm/web/idb_store.mjs';

const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => (b ? new TextDecoder().decode(b) : null);
const openOn = (indexedDB, db = 'cairn') => Cairn.open({ db, indexedDB, IDBKeyRange });

// Reads every record of an object store straight from IndexedDB (the oracle: what is really stored).
function dump(indexedDB, db, storeName) {
    return new Promise((resolve, reject) => {
        const r = indexedDB.open(db);
        r.onsuccess = () => {
            const tx = r.result.transaction(storeName, 'readonly');
            const out = new Map();
            const c = tx.objectStore(storeName).openCursor();
            c.onsuccess = () => {
                if (!c.result) return;
                out.set(JSON.stringify(c.result.key), c.result.value);
                c.result.continue();
            };
            tx.oncomplete = () => (r.result.close(), resolve(out));
            tx.onerror = () => reject(tx.error);
        };
        r.onerror = () => reject(r.error);
    });
}

test('batches are all-or-nothing, conditions checked, and persist across reopen', async () => {
    const idb = new IDBFactory();
    const a = await openOn(idb);
    assert.equal(await a.kv.commit({ conditions: [{ key: 'counter', expected: null }], writes: [{ key: 'counter', value: enc('1') }, { key: 'v/1', value: enc('one') }] }), true);
    // Same plan again: counter is no longer absent, so nothing is written.
    assert.equal(await a.kv.commit({ conditions: [{ key: 'counter', expected: null }], writes: [{ key: 'v/2', value: enc('two') }] }), false);
    assert.equal(await a.kv.get('v/2'), null);
    assert.equal(await a.kv.commit({ conditions: [{ key: 'counter', expected: enc('1') }], writes: [{ key: 'counter', value: enc('2') }, { key: 'v/2', value: enc('two') }, { key: 'v/1', value: null }] }), true);
    await a.close();
    const b = await openOn(idb);
    assert.deepEqual(await b.kv.list('v/'), ['v/2']);
    assert.equal(dec(await b.kv.get('counter')), '2');
    const records = await dump(idb, 'cairn', 'records');
    assert.deepEqual([...records.keys()].sort(), ['"counter"', '"v/2"']);
    await b.close();
});

test('large values are split into bounded chunks, loaded on demand, and replaced cleanly', async () => {
    const idb = new IDBFactory();
    const a = await openOn(idb);
    const big = new Uint8Array(CHUNK_BYTES * 2 + 12345).map((_, i) => (i * 7 + 3) & 255);
    assert.equal(await a.kv.commit({ conditions: [], writes: [{ key: 'blob/w', value: big }] }), true);
    let chunks = await dump(idb, 'cairn', 'chunks');
    assert.equal(chunks.size, 3);
    for (const c of chunks.values()) assert.ok(c.length <= CHUNK_BYTES);
    await a.close();

    const b = await openOn(idb);  // the mirror knows the key, the bytes come from IndexedDB when first read
    assert.deepEqual(await b.kv.get('blob/w'), big);
    // A condition on a chunked value is checked against the reassembled bytes inside the transaction.
    const small = enc('small now');
    assert.equal(await b.kv.commit({ conditions: [{ key: 'blob/w', expected: big }], writes: [{ key: 'blob/w', value: small }] }), true);
    chunks = await dump(idb, 'cairn', 'chunks');
    assert.equal(chunks.size, 0, 'old chunks are deleted with the record they belonged to');
    assert.equal(dec(await b.kv.get('blob/w')), 'small now');
    await b.close();
});

test('two writers on one database: read-modify-write with conditions loses and duplicates nothing', async () => {
    const idb = new IDBFactory();
    const a = await openOn(idb), b = await openOn(idb);
    // Each increment plans against the writer's mirror (possibly stale) and claims a fresh "item/<n>" key; a lost race
    // makes the transaction write nothing, the mirror refresh and the plan run again.
    const increment = (cairn, who) =>
        cairn.mutate((M) => {
            const cur = cairn.call(M.kvGet, 'counter');
            const n = cur ? Number(dec(cur)) : 0;
            const ok = cairn.call(M.kvCommit, {
                conditions: [{ key: 'counter', expected: cur }, { key: `item/${n + 1}`, expected: null }],
                writes: [{ key: 'counter', value: enc(String(n + 1)) }, { key: `item/${n + 1}`, value: enc(who) }],
            });
            assert.equal(ok, true);
            return n + 1;
        });
    const runs = [];
    for (let i = 0; i < 15; i++) runs.push(increment(a, 'a'), increment(b, 'b'));
    const numbers = await Promise.all(runs);
    assert.deepEqual([...numbers].sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => i + 1));
    const records = await dump(idb, 'cairn', 'records');
    assert.equal(dec(records.get('"counter"').data), '30');
    const owners = [...records.keys()].filter((k) => k.startsWith('"item/')).map((k) => dec(records.get(k).data));
    assert.equal(owners.length, 30);
    assert.equal(owners.filter((o) => o === 'a').length, 15);
    await a.close();
    await b.close();
});

test('a quota error leaves the store and the mirror as they were, with code quota_exceeded', async () => {
    const idb = new IDBFactory();
    const a = await openOn(idb);
    await a.kv.commit({ conditions: [], writes: [{ key: 'keep', value: enc('old') }] });
    const put = IDBObjectStore.prototype.put;
    let calls = 0;
    IDBObjectStore.prototype.put = function (...args) {
        // The second put of the transaction fails, after the first one was issued.
        if (++calls === 2) throw Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' });
        return put.apply(this, args);
    };
    try {
        await assert.rejects(
            a.kv.commit({ conditions: [], writes: [{ key: 'keep', value: enc('new') }, { key: 'extra', value: enc('x') }] }),
            (e) => e.code === 'quota_exceeded' && /quota exceeded.*nothing was written/.test(e.message) && e instanceof Error);
    } finally {
        IDBObjectStore.prototype.put = put;
    }
    assert.equal(dec(await a.kv.get('keep')), 'old');
    assert.equal(await a.kv.get('extra'), null);
    const records = await dump(idb, 'cairn', 'records');
    assert.deepEqual([...records.keys()], ['"keep"']);
    assert.equal(dec(records.get('"keep"').data), 'old');
    await a.close();
});

test('without IndexedDB the store falls back to memory with a visible warning', async () => {
    const c = await Cairn.open({ db: 'x', indexedDB: null });
    assert.match(c.warning, /IndexedDB is unavailable/);
    assert.match((await c.storage()).store, /memory/);
    assert.equal(await c.kv.commit({ conditions: [], writes: [{ key: 'k', value: enc('v') }] }), true);
    assert.equal(dec(await c.kv.get('k')), 'v');
    await c.close();
});

test('a newer database version opened elsewhere closes this connection (no blocking) and says so', async () => {
    const idb = new IDBFactory();
    const a = await openOn(idb, 'vc');
    const warnings = [];
    a.addEventListener('warning', (e) => warnings.push(e.kind));
    await a.kv.commit({ conditions: [], writes: [{ key: 'k', value: enc('v') }] });
    // Another "tab" upgrades the schema: our versionchange handler must let it through at once.
    await new Promise((resolve, reject) => {
        const r = idb.open('vc', 2);
        r.onblocked = () => reject(new Error('upgrade blocked by the open connection'));
        r.onsuccess = () => (r.result.close(), resolve());
        r.onerror = () => reject(r.error);
    });
    assert.deepEqual(warnings, ['versionchange']);
    await assert.rejects(a.kv.commit({ conditions: [], writes: [{ key: 'k2', value: enc('v') }] }),
        (e) => e.code === 'io_error' && /reload/.test(e.message));
    await a.close();
});
