// Damage behind the API's back, for tests that must see tampering detected: flips bits of one byte in the first
// weights blob record of a Cairn IndexedDB database. Self-contained (no imports, no closures), so browser tests can
// hand it to page.evaluate() and run it on the page's own indexedDB; Node tests pass a fake-indexeddb factory.
// Resolves to the record's key ("blob/<sha256>"), or null when the database holds no blob.
export function flipBlobBit({ db = 'cairn', fromEnd = 1, mask = 0x01, factory = globalThis.indexedDB } = {}) {
    return new Promise((resolve, reject) => {
        const r = factory.open(db);
        r.onerror = () => reject(r.error);
        r.onsuccess = () => {
            const tx = r.result.transaction('records', 'readwrite');
            const c = tx.objectStore('records').openCursor();
            let key = null;
            c.onsuccess = () => {
                const cur = c.result;
                if (!cur) return;
                if (!String(cur.key).startsWith('blob/')) return cur.continue();
                const v = cur.value;
                v.data = v.data.slice();
                v.data[v.data.length - fromEnd] ^= mask;
                key = cur.key;
                cur.update(v);
            };
            tx.oncomplete = () => (r.result.close(), resolve(key));
            tx.onerror = () => reject(tx.error);
        };
    });
}
