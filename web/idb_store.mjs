// The Store contract of core/store.h on IndexedDB (and an in-memory fallback with the same interface).
//
// Index
//   [SECTION] Errors        StoreError with the stable codes of cairn::Error ("quota_exceeded", "io_error", ...)
//   [SECTION] Layout        two object stores: `records` (key -> {size, data | chunks}) and `chunks` ([key, i] -> bytes)
//   [SECTION] IdbStore      open (upgrade / blocked / versionchange), loadIndex, get, commit, change notifications
//   [SECTION] MemoryKV      the same interface in memory: Node, tests, and browsers without IndexedDB
//
// commit(batch) is the whole contract: ONE readwrite transaction over both object stores; it first reads every key
// the batch has conditions on and compares them with what the plan expected, and only then writes. Any failure
// (a condition, a quota error, a thrown put) aborts the transaction, so nothing is ever half-written. Version numbers
// are safe across tabs because the registry's plan carries conditions ("v/3 must be absent", "head must still be 2"):
// the second tab's transaction sees the first tab's write, returns false, and the caller refreshes and re-plans.

//------------------------------------------------------------------------------
// [SECTION] Errors
//------------------------------------------------------------------------------
export class StoreError extends Error {
    constructor(code, message, options) {
        super(message, options);
        this.name = 'CairnError';
        this.code = code;
    }
}

function describeBytes(n) {
    return n < 1024 ? `${n} B` : n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`;
}

function mapError(store, e, bytes) {
    if (e instanceof StoreError) return e;
    const name = e?.name ?? '';
    if (name === 'QuotaExceededError')
        return new StoreError('quota_exceeded',
            `${store.describe()}: storage quota exceeded while writing ${describeBytes(bytes)}; nothing was written ` +
            `(archive or delete versions, or allow persistent storage)`, { cause: e });
    return new StoreError('io_error', `${store.describe()}: ${name || 'error'}: ${e?.message ?? e}`, { cause: e });
}

//------------------------------------------------------------------------------
// [SECTION] Layout
//------------------------------------------------------------------------------
export const DB_VERSION = 1;
// Weights are split into records of at most this many bytes: IndexedDB (and structured clone) handle big values
// poorly, and bounded records keep a single put well under any per-record limit.
export const CHUNK_BYTES = 256 * 1024;


function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
}

function concat(parts, size) {
    const out = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
        const u = p instanceof Uint8Array ? p : new Uint8Array(p);
        if (at + u.length > size) break;
        out.set(u, at);
        at += u.length;
    }
    // A missing or short chunk leaves zeros; the registry's SHA-256 check reports it as corrupted.
    return out;
}

// A tight copy: storing a view would structured-clone its whole underlying buffer.
const tight = (u8) => (u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength ? u8 : u8.slice());

//------------------------------------------------------------------------------
// [SECTION] IdbStore
//------------------------------------------------------------------------------
export class IdbStore {
    // options: {indexedDB, IDBKeyRange: implementations (fake-indexeddb in Node); onBlocked(), onVersionChange(),
    //           onRemoteChange(keys): another tab committed}
    static open(name, options = {}) {
        const idb = options.indexedDB ?? globalThis.indexedDB;
        return new Promise((resolve, reject) => {
            let request;
            try {
                request = idb.open(name, DB_VERSION);
            } catch (e) {
                reject(new StoreError('io_error', `IndexedDB "${name}": cannot open: ${e?.message ?? e}`));
                return;
            }
            request.onupgradeneeded = () => {
                const db = request.result;
                if (!db.objectStoreNames.contains('records')) db.createObjectStore('records');
                if (!db.objectStoreNames.contains('chunks')) db.createObjectStore('chunks');
            };
            // Another tab still holds an older version of the database open: tell the page; the open completes
            // when that tab closes it (our versionchange handler below does so).
            request.onblocked = () => options.onBlocked?.();
            request.onerror = () =>
                reject(new StoreError('io_error', `IndexedDB "${name}": cannot open: ${request.error?.message}`));
            request.onsuccess = () => resolve(new IdbStore(name, request.result, options));
        });
    }

    constructor(name, db, options) {
        this.name = name;
        this.db = db;
        this.options = options;
        this.closed = false;
        this.KeyRange = options.IDBKeyRange ?? globalThis.IDBKeyRange;
        db.onversionchange = () => {
            // A newer version is being opened elsewhere: let it proceed, and stop using this connection.
            this.close();
            options.onVersionChange?.();
        };
        if (typeof BroadcastChannel === 'function') {
            this.channel = new BroadcastChannel(`cairn-store:${name}`);
            this.channel.onmessage = (ev) => options.onRemoteChange?.(ev.data?.keys ?? []);
            this.channel.unref?.();  // Node: do not keep the process alive
        }
    }

    #chunksOf(key) {
        return this.KeyRange.bound([key, 0], [key, Infinity]);
    }

    describe() {
        return `IndexedDB store "${this.name}"`;
    }

    close() {
        if (this.closed) return;
        this.closed = true;
        this.db.close();
        this.channel?.close();
    }

    #tx(mode) {
        if (this.closed) throw new StoreError('io_error', `${this.describe()} was closed (a newer version was opened in another tab; reload the page)`);
        return this.db.transaction(['records', 'chunks'], mode);
    }

    // Every key with its value, or null for values split into chunks (loaded on demand with get()).
    loadIndex() {
        return new Promise((resolve, reject) => {
            const tx = this.#tx('readonly');
            const out = [];
            const cursor = tx.objectStore('records').openCursor();
            cursor.onsuccess = () => {
                const c = cursor.result;
                if (!c) return;
                const rec = c.value;
                out.push({ key: c.key, value: rec.data ? new Uint8Array(rec.data) : rec.size === 0 ? new Uint8Array(0) : null });
                c.continue();
            };
            tx.oncomplete = () => resolve(out);
            tx.onabort = tx.onerror = () => reject(mapError(this, tx.error ?? cursor.error, 0));
        });
    }

    // One value (null when absent), reassembled from its chunks.
    get(key) {
        return new Promise((resolve, reject) => {
            const tx = this.#tx('readonly');
            let result = null;
            const r = tx.objectStore('records').get(key);
            r.onsuccess = () => {
                const rec = r.result;
                if (!rec) return;
                if (rec.data || !rec.chunks) {
                    result = new Uint8Array(rec.data ?? 0);
                    return;
                }
                const c = tx.objectStore('chunks').getAll(this.#chunksOf(key));
                c.onsuccess = () => (result = concat(c.result, rec.size));
            };
            tx.oncomplete = () => resolve(result);
            tx.onabort = tx.onerror = () => reject(mapError(this, tx.error, 0));
        });
    }

    // batch: {conditions: [{key, expected: Uint8Array|null}], writes: [{key, value: Uint8Array|null}]}.
    // Resolves true (all written) or false (a condition failed, nothing written); rejects with a StoreError.
    commit(batch) {
        const bytes = batch.writes.reduce((n, w) => n + (w.value?.length ?? 0), 0);
        return new Promise((resolve, reject) => {
            let tx;
            try {
                tx = this.#tx('readwrite');
            } catch (e) {
                reject(mapError(this, e, bytes));
                return;
            }
            const records = tx.objectStore('records'), chunks = tx.objectStore('chunks');
            let outcome = null;  // 'conflict' or the error that made us abort
            const abort = (why) => {
                if (!outcome) outcome = why;
                try {
                    tx.abort();
                } catch {
                    /* already finishing */
                }
            };
            tx.oncomplete = () => {
                this.channel?.postMessage({ keys: batch.writes.map((w) => w.key) });
                resolve(true);
            };
            tx.onabort = () => {
                if (outcome === 'conflict') resolve(false);
                else reject(mapError(this, outcome ?? tx.error, bytes));
            };
            tx.onerror = (ev) => {
                // A failed request aborts the transaction; remember the first cause (e.g. QuotaExceededError).
                if (!outcome) outcome = ev.target?.error ?? tx.error;
            };

            const write = () => {
                try {
                    for (const w of batch.writes) {
                        chunks.delete(this.#chunksOf(w.key));
                        if (!w.value) {
                            records.delete(w.key);
                            continue;
                        }
                        const v = w.value;
                        if (v.length <= CHUNK_BYTES) {
                            records.put({ size: v.length, data: tight(v) }, w.key);
                            continue;
                        }
                        const n = Math.ceil(v.length / CHUNK_BYTES);
                        for (let i = 0; i < n; i++) chunks.put(v.slice(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES), [w.key, i]);
                        records.put({ size: v.length, chunks: n }, w.key);
                    }
                } catch (e) {
                    abort(e);  // e.g. QuotaExceededError or DataCloneError thrown synchronously by put()
                }
            };

            // Read every condition inside this transaction, then write only if all still hold.
            let waiting = batch.conditions.length;
            const settled = (holds) => {
                if (outcome) return;
                if (!holds) return abort('conflict');
                if (--waiting === 0) write();
            };
            if (waiting === 0) write();
            try {
                for (const c of batch.conditions) {
                    const r = records.get(c.key);
                    r.onsuccess = () => {
                        const rec = r.result;
                        if (!c.expected || !rec) return settled(!c.expected && !rec);
                        if (rec.size !== c.expected.length) return settled(false);
                        if (rec.data || !rec.chunks) return settled(equalBytes(new Uint8Array(rec.data ?? 0), c.expected));
                        const cr = chunks.getAll(this.#chunksOf(c.key));
                        cr.onsuccess = () => settled(equalBytes(concat(cr.result, rec.size), c.expected));
                    };
                }
            } catch (e) {
                abort(e);
            }
        });
    }

    // Storage figures for the page: {usage, quota, persisted} (nulls where the browser does not say).
    static async estimate() {
        const s = globalThis.navigator?.storage;
        const est = s?.estimate ? await s.estimate().catch(() => null) : null;
        const persisted = s?.persisted ? await s.persisted().catch(() => null) : null;
        return { usage: est?.usage ?? null, quota: est?.quota ?? null, persisted };
    }
}

//------------------------------------------------------------------------------
// [SECTION] MemoryKV
//------------------------------------------------------------------------------
export class MemoryKV {
    constructor(label = 'memory store') {
        this.label = label;
        this.data = new Map();
    }
    describe() {
        return this.label;
    }
    close() {}
    async loadIndex() {
        return [...this.data].map(([key, value]) => ({ key, value: value.slice() }));
    }
    async get(key) {
        return this.data.get(key)?.slice() ?? null;
    }
    async commit(batch) {
        for (const c of batch.conditions) {
            const v = this.data.get(c.key);
            if (!c.expected ? v !== undefined : v === undefined || !equalBytes(v, c.expected)) return false;
        }
        for (const w of batch.writes) {
            if (w.value) this.data.set(w.key, w.value.slice());
            else this.data.delete(w.key);
        }
        return true;
    }
}
