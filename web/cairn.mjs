// Cairn's JavaScript API: `const cairn = await Cairn.open({ db: 'cairn' })`. Types: web/cairn.d.ts.
//
// Index
//   [SECTION] Errors       CairnError {code, message}: the stable codes of cairn::Error
//   [SECTION] Core         loading the wasm module (threaded build when the page is cross-origin isolated)
//   [SECTION] Cairn        open/close, the store mirror, serialized operations with commit + re-plan on conflict
//
// How the store works: the C++ registry plans every change synchronously against a mirror of the stored records
// (web/bindings.cpp, MirrorStore) and leaves the resulting batch queued; this file commits that batch with ONE
// IndexedDB transaction (web/idb_store.mjs). If another tab changed a record the plan depended on, the transaction
// writes nothing and returns false: we refresh the mirror and plan the operation again.
import { IdbStore, MemoryKV, StoreError } from './idb_store.mjs';

//------------------------------------------------------------------------------
// [SECTION] Errors
//------------------------------------------------------------------------------
export class CairnError extends StoreError {}

const isNode = typeof process === 'object' && !!process.versions?.node && typeof window === 'undefined';

//------------------------------------------------------------------------------
// [SECTION] Core
//------------------------------------------------------------------------------
let wasmBinaryPromise = null;

async function loadCore({ threads = 'auto' } = {}) {
    const { default: factory } = await import('./cairn-core.mjs');
    const args = {};
    if (isNode) {
        // Node 20 cannot fetch a file: URL; read the binary ourselves (once per process).
        wasmBinaryPromise ??= import('node:fs/promises').then((fs) => fs.readFile(new URL('./cairn-core.wasm', import.meta.url)));
        args.wasmBinary = await wasmBinaryPromise;
    }
    args.print = (s) => console.log(s);
    args.printErr = (s) => console.warn(s);
    return factory(args);
}

// Calls a binding and turns the error it left behind into a thrown CairnError.
function call(M, fn, ...args) {
    const r = fn.apply(M, args);
    const e = M.takeError();
    if (e) {
        r?.delete?.();
        throw new CairnError(e.code, e.message);
    }
    return r;
}

//------------------------------------------------------------------------------
// [SECTION] Cairn
//------------------------------------------------------------------------------
export class Cairn extends EventTarget {
    // options: {db: IndexedDB name (default 'cairn'); memory: true for an in-memory store;
    //           indexedDB / IDBKeyRange: implementations to use (fake-indexeddb in Node); persist: ask the browser to
    //           keep the data (default true in browsers)}
    static async open(options = {}) {
        const M = await loadCore(options);
        const cairn = new Cairn(M, options);
        await cairn.#connect();
        return cairn;
    }

    #M;
    #options;
    #store = null;
    #queue = Promise.resolve();
    #stale = false;

    constructor(M, options) {
        super();
        this.#M = M;
        this.#options = options;
        this.warning = null;  // set when the data is not kept (no IndexedDB): the page shows it
    }

    get core() {
        return this.#M;
    }
    get storeDescription() {
        return this.#store.describe();
    }

    async #connect() {
        const o = this.#options;
        const name = o.db ?? 'cairn';
        const idb = o.indexedDB ?? globalThis.indexedDB;
        if (!o.memory && idb) {
            try {
                this.#store = await IdbStore.open(name, {
                    indexedDB: idb,
                    IDBKeyRange: o.IDBKeyRange,
                    onBlocked: () => this.#warn('blocked', `Another tab holds an older version of database "${name}" open; close it to continue.`),
                    onVersionChange: () => this.#warn('versionchange', `Database "${name}" was upgraded in another tab; reload this page.`),
                    onRemoteChange: (keys) => this.#remoteChange(keys),
                });
            } catch (e) {
                this.#warn('no_indexeddb', `IndexedDB is unavailable (${e.message}); models are kept in memory only and are lost on reload.`);
            }
        } else if (!o.memory) {
            this.#warn('no_indexeddb', 'IndexedDB is unavailable; models are kept in memory only and are lost on reload.');
        }
        this.#store ??= new MemoryKV(o.memory ? 'memory store' : 'memory store (IndexedDB unavailable)');
        this.#M.mirrorDescribe(this.#store.describe());
        if (!isNode && o.persist !== false && this.#store instanceof IdbStore)
            globalThis.navigator?.storage?.persist?.().catch(() => {});
        await this.#refresh();
    }

    #warn(kind, message) {
        if (kind === 'no_indexeddb') this.warning = message;
        console.warn(`cairn: ${message}`);
        this.dispatchEvent(Object.assign(new Event('warning'), { kind, message }));
    }

    // Reloads the mirror from the store (values split into chunks are loaded when first read).
    async #refresh() {
        const index = await this.#store.loadIndex();
        const M = this.#M;
        M.mirrorReset();
        for (const { key, value } of index) call(M, M.mirrorPut, key, value);
        this.#stale = false;
    }

    #remoteChange(keys) {
        // Another tab committed: reload before the next operation, and tell the page once we have.
        this.#stale = true;
        this.#serialize(async () => {
            if (this.#stale) await this.#refresh();
            this.dispatchEvent(Object.assign(new Event('change'), { keys, remote: true }));
        }).catch((e) => console.warn('cairn: refresh after a change in another tab failed:', e));
    }

    // Operations run one at a time: they share the mirror.
    #serialize(fn) {
        const run = this.#queue.then(fn, fn);
        this.#queue = run.catch(() => {});
        return run;
    }

    // Runs fn() (synchronous wasm calls) against the mirror; loads lazily stored values it asks for and commits
    // whatever it queued. On a conflict with another tab: refresh, run fn again. Returns fn's result.
    mutate(fn) {
        return this.#serialize(async () => {
            const M = this.#M;
            if (this.#stale) await this.#refresh();
            for (let attempt = 0; ; attempt++) {
                let result;
                try {
                    result = fn(M);
                } catch (e) {
                    M.mirrorRollback();
                    if (e.code !== 'need_fetch') throw e;
                    for (const key of e.message.split('\n')) {
                        const value = await this.#store.get(key);
                        if (value) call(M, M.mirrorPut, key, value);
                        else M.mirrorForget(key);  // deleted meanwhile
                    }
                    continue;
                }
                if (!M.mirrorHasPending()) return result;
                const batches = M.mirrorPending();
                let committed = 0;
                try {
                    for (const b of batches) {
                        if (!(await this.#store.commit(b))) break;
                        committed++;
                    }
                } catch (e) {
                    result?.delete?.();
                    M.mirrorRollback();
                    if (committed) await this.#refresh();
                    throw e;
                }
                if (committed === batches.length) {
                    M.mirrorAccept();
                    this.dispatchEvent(Object.assign(new Event('change'), { keys: batches.flatMap((b) => b.writes.map((w) => w.key)), remote: false }));
                    return result;
                }
                // Another tab changed what the plan was based on: nothing of this batch was written. Re-plan.
                result?.delete?.();
                M.mirrorRollback();
                await this.#refresh();
                if (attempt >= 100) throw new CairnError('conflict', `${this.#store.describe()}: gave up after ${attempt} conflicting concurrent changes`);
            }
        });
    }

    // Read-only operations: like mutate (values loaded on demand) but never commit.
    read(fn) {
        return this.mutate((M) => {
            const r = fn(M);
            if (M.mirrorHasPending()) throw new CairnError('internal', 'a read operation tried to write');
            return r;
        });
    }

    // Calls a binding, throwing its error as a CairnError (for use inside mutate/read callbacks and for pure calls).
    call(fn, ...args) {
        return call(this.#M, fn, ...args);
    }

    // Raw key-value access to the store, through the same mirror and commit path the registry uses.
    get kv() {
        const M = this.#M;
        return {
            get: (key) => this.read(() => call(M, M.kvGet, key)),
            list: (prefix = '') => this.read(() => call(M, M.kvList, prefix)),
            commit: (batch) => this.mutate(() => call(M, M.kvCommit, batch)),
        };
    }

    // {usage, quota, persisted} from navigator.storage (nulls in Node), plus the store's name.
    async storage() {
        return { store: this.#store.describe(), warning: this.warning, ...(await IdbStore.estimate()) };
    }

    // Bytes malloc has handed out, and embind's live JS handles: both must stay flat across repeated calls.
    memory() {
        const h = this.#M.heapStats();
        return { allocated: h.allocated, heap: this.#M.HEAPU8.length, handles: this.#M.count_emval_handles?.() ?? null };
    }

    async close() {
        await this.#queue;
        this.#store?.close();
    }
}

export const open = (options) => Cairn.open(options);
export default Cairn;
