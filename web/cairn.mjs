// Cairn's JavaScript API: `const cairn = await Cairn.open({ db: 'cairn' })`. Types: web/cairn.d.ts.
//
// Index
//   [SECTION] Errors       CairnError {code, message}: the stable codes of cairn::Error
//   [SECTION] Core         loading the wasm module (one instance per Cairn.open: each has its own mirror)
//   [SECTION] Cairn        open/close, the store mirror, serialized operations with commit + re-plan on conflict
//   [SECTION] Datasets     CSV text / File / Blob / URL, typed arrays, bundled
//   [SECTION] Models       predict, dispose (wasm memory is freed explicitly, with a finalizer as a safety net)
//   [SECTION] Training     in a Web Worker (browsers) or in time slices on this thread; progress, pause, cancel
//   [SECTION] Registry     register, list, get, alias/promote/rollback, history, diff, archive/delete, export/import
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
// Two builds of the same core: cairn-core (single thread, works anywhere) and cairn-core-mt (wasm threads; needs
// SharedArrayBuffer, which a browser gives only to a cross-origin isolated page: COOP/COEP headers, as `cairn
// serve` sends). chooseCore() picks one from `threads`: 'auto' (default) = the threaded build with
// min(hardwareConcurrency, MAX_THREADS) threads when the page is isolated (in Node only when asked for), else the
// single one; 1 = the single build; N > 1 = the threaded build with N threads, or an error naming what is missing.
// Results do not depend on the choice: the threaded kernels split work, never a sum (bit-identical output).
export const MAX_THREADS = 4;  // = CAIRN_WASM_THREADS in CMakeLists.txt (the module's pre-spawned workers + 1)

export function chooseCore(threads = 'auto') {
    const shared = typeof SharedArrayBuffer === 'function';
    const isolated = isNode || globalThis.crossOriginIsolated === true;
    if (threads === 'auto') {
        const cores = isNode ? 1 : (globalThis.navigator?.hardwareConcurrency ?? 1);
        const n = Math.min(cores, MAX_THREADS);
        return shared && isolated && n > 1 ? { threaded: true, threads: n } : { threaded: false, threads: 1 };
    }
    if (!Number.isInteger(threads) || threads < 1)
        throw new CairnError('invalid_argument', `threads: expected 'auto' or a whole number >= 1, got ${JSON.stringify(threads)}`);
    if (threads === 1) return { threaded: false, threads: 1 };
    if (threads > MAX_THREADS) throw new CairnError('invalid_argument', `threads: at most ${MAX_THREADS}, got ${threads}`);
    if (!shared || !isolated)
        throw new CairnError('unsupported', `threads: ${threads} threads need ${!shared ? 'SharedArrayBuffer' : 'a cross-origin isolated page'} (serve with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)`);
    return { threaded: true, threads };
}

const wasmBinaries = {};

// Loads one build (`choice` from chooseCore) and sets its thread count. Also used by web/worker.mjs.
export async function loadCore(choice = { threaded: false, threads: 1 }) {
    const file = choice.threaded ? 'cairn-core-mt' : 'cairn-core';
    const { default: factory } = choice.threaded ? await import('./cairn-core-mt.mjs') : await import('./cairn-core.mjs');
    const args = {};
    if (isNode) {
        // Node 20 cannot fetch a file: URL; read the binary ourselves (once per process).
        wasmBinaries[file] ??= import('node:fs/promises').then((fs) => fs.readFile(new URL(`./${file}.wasm`, import.meta.url)));
        args.wasmBinary = await wasmBinaries[file];
        if (choice.threaded) await installNodeWorker();
    }
    // What each thread's worker imports (in Node a relative path would resolve against the process's directory).
    if (choice.threaded) args.mainScriptUrlOrBlob = new URL(`./${file}.mjs`, import.meta.url).href;
    args.print = (s) => console.log(s);
    // The threaded build warns once that its main thread may block: it does, by design, for the length of one
    // split kernel call (core/parallel.h); training in the worker blocks nothing the page needs.
    args.printErr = (s) => { if (!(choice.threaded && s.startsWith('Blocking on the main thread'))) console.warn(s); };
    const M = await factory(args);
    const threads = M.setThreads(choice.threads);
    if (threads !== choice.threads) throw new CairnError('internal', `${file}: asked for ${choice.threads} threads, runs ${threads}`);
    M.build = { module: file, threaded: choice.threaded, threads };
    return M;
}

// The threaded build starts its threads with `new Worker(url)` and expects a classic web worker on the other side
// (importScripts, postMessage, onmessage). Node has none, so, in Node only and only when missing, we provide one on
// worker_threads. Workers are unref'd once loaded, so idle ones do not keep the process alive.
async function installNodeWorker() {
    if (typeof globalThis.Worker === 'function') return;
    const { Worker: NodeWorker } = await import('node:worker_threads');
    const boot = `
        const { parentPort, workerData } = require('node:worker_threads');
        const fs = require('node:fs'), { fileURLToPath } = require('node:url');
        const path = (u) => (String(u).startsWith('file:') ? fileURLToPath(u) : String(u));
        Object.assign(globalThis, {
            self: globalThis, location: { href: workerData.url },
            postMessage: (m, t) => parentPort.postMessage(m, t),
            importScripts: (...files) => { for (const f of files) (0, eval)(fs.readFileSync(path(f), 'utf8')); },
            close: () => parentPort.close(),
        });
        parentPort.on('message', (data) => globalThis.onmessage?.({ data }));
        importScripts(workerData.url);`;
    globalThis.Worker = class Worker {
        constructor(url) {
            this.onmessage = this.onerror = null;
            this.w = new NodeWorker(boot, { eval: true, workerData: { url: String(url) } });
            this.w.on('message', (data) => {
                if (data?.cmd === 'loaded') this.w.unref();  // idle from now on until the module runs a thread
                this.onmessage?.({ data });
            });
            this.w.on('error', (e) => this.onerror?.(e));
        }
        postMessage(m, transfer) { this.w.postMessage(m, transfer); }
        addEventListener(type, fn) { this.w.on(type === 'message' ? 'message' : type, type === 'message' ? (data) => fn({ data }) : fn); }
        terminate() { this.w.terminate(); }
    };
}

// Calls a binding and turns the error it left behind into a thrown CairnError.
function call(M, fn, ...args) {
    return invoke(M, M, fn, ...args);
}
// Same for a method of a bound object (Dataset, Model, Training handles).
function invoke(M, self, fn, ...args) {
    const r = fn.apply(self, args);
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
    //           keep the data (default true in browsers); core: an instantiated wasm module with the mirror bindings
    //           of web/mirror_store.cpp to drive instead of loading cairn-core (the dashboard page passes its own);
    //           threads: 'auto' (default) | 1 | N, which core build and how many kernel threads (see chooseCore)}
    static async open(options = {}) {
        const M = options.core ?? await loadCore(chooseCore(options.threads ?? 'auto'));
        M.build ??= { module: 'caller', threaded: false, threads: 1 };  // a module passed in: its own threads
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
    // {module: 'cairn-core' | 'cairn-core-mt', threaded, threads}: the build chooseCore picked.
    get build() {
        return { ...this.#M.build };
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
        } else if (!o.memory && (!isNode || 'indexedDB' in o)) {
            // (Node without an IndexedDB implementation simply means memory: no warning.)
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
                    // Only these: the dashboard page may queue more while we wait for IndexedDB.
                    M.mirrorAcceptFirst(batches.length);
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
    invoke(self, method, ...args) {
        return invoke(this.#M, self, self[method], ...args);
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
        this.#idleWorker?.terminate();
        this.#idleWorker = null;
        // The threaded core's kernel threads are web workers (worker_threads in Node) that live until ended. End
        // them with the store, after dropping to one thread so that a model still used afterwards computes
        // serially instead of waiting for them. A core passed in by the caller is the caller's to end.
        const M = this.#M;
        if (!this.#options.core && M.build?.threaded && M.PThread) {
            M.setThreads(1);
            M.PThread.terminateAllThreads();
        }
    }

    // Starts the training worker and compiles its wasm now, so the first train() does not wait for it (browsers).
    prepareTraining() {
        if (isNode || typeof Worker !== 'function' || this.#idleWorker) return;
        this.#idleWorker = this.#newWorker();
        this.#idleWorker.postMessage({ type: 'init' });
    }

    // One training worker is kept between trainings (its wasm is compiled once); concurrent trainings get their own.
    #idleWorker = null;
    _takeWorker() {
        const w = this.#idleWorker ?? this.#newWorker();
        this.#idleWorker = null;
        return w;
    }
    // The worker loads the same build with the same thread count as this instance (its threads are nested workers).
    #newWorker() {
        const url = new URL('./worker.mjs', import.meta.url);
        url.searchParams.set('threads', String(this.#M.build.threads));
        return new Worker(url, { type: 'module', name: 'cairn-training' });
    }
    _giveWorkerBack(w, broken) {
        if (broken || this.#idleWorker) w.terminate();
        else this.#idleWorker = w;
    }

    //--------------------------------------------------------------------------
    // [SECTION] Datasets
    //--------------------------------------------------------------------------
    get datasets() {
        const M = this.#M;
        const wrap = (h) => new Dataset(this, h);
        return {
            // source: CSV text, a File/Blob, a URL (string starting with http(s):, /, ./ or a URL object).
            // options: {name, label: column, task: 'classification'|'regression', delimiter}
            fromCSV: async (source, options = {}) => {
                let text = source, name = options.name;
                if (source instanceof URL || (typeof source === 'string' && /^(https?:|\.{0,2}\/|blob:|data:)/.test(source) && !source.includes('\n'))) {
                    const url = String(source);
                    const res = await fetch(url).catch((e) => { throw new CairnError('io_error', `dataset: cannot fetch ${url}: ${e.message}`); });
                    if (!res.ok) throw new CairnError('io_error', `dataset: cannot fetch ${url}: HTTP ${res.status}`);
                    text = await res.text();
                    name ??= url.split('/').pop().replace(/\.csv$/i, '');
                } else if (typeof Blob !== 'undefined' && source instanceof Blob) {
                    text = await source.text();
                    name ??= (source.name ?? 'data.csv').replace(/\.csv$/i, '');
                } else if (typeof source !== 'string') {
                    throw new CairnError('invalid_argument', 'dataset: fromCSV expects CSV text, a File/Blob or a URL');
                }
                const { name: _n, ...opts } = options;
                const h = call(M, M.datasetFromCSV, text, name ?? 'data.csv', JSON.stringify(opts));
                return wrap(h);
            },
            fromURL: (url, options) => this.datasets.fromCSV(url instanceof URL ? url : new URL(url, globalThis.location?.href), options),
            // {features: Float32Array (n*d or n*h*w*c), shape: [n, d] | [n, h, w, c], labels: Int32Array|number[],
            //  classNames, featureNames, labelName, name}
            fromArrays: ({ features, shape, labels, classNames, featureNames, labelName, name }) => {
                if (!shape) throw new CairnError('invalid_argument', 'dataset: fromArrays needs shape ([samples, features])');
                const f = features instanceof Float32Array ? features : Float32Array.from(features);
                const l = labels instanceof Int32Array ? labels : Int32Array.from(labels);
                const meta = { name, shape, class_names: classNames, feature_names: featureNames, label_name: labelName };
                return wrap(call(M, M.datasetFromArrays, f, l, JSON.stringify(meta)));
            },
            bundled: (name) => wrap(call(M, M.datasetBundled, name)),
            bundledNames: () => M.datasetBundledNames(),
        };
    }

    //--------------------------------------------------------------------------
    // [SECTION] Models
    //--------------------------------------------------------------------------
    // A model handed over as bytes (Model.serialize(), or a worker's result).
    modelFromBytes(bytes) {
        return new Model(this, call(this.#M, this.#M.modelDeserialize, bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes)));
    }

    //--------------------------------------------------------------------------
    // [SECTION] Training
    //--------------------------------------------------------------------------
    // options: {model: 'mlp'|'linear'|'cnn'|architecture, epochs, batchSize, seed, optimizer: {type, lr, ...},
    //           validation, test (fractions held out), standardize (default true), earlyStopping: {patience, monitor},
    //           onProgress(p), onEpoch(e), signal: AbortSignal, worker: true|false|'auto', sliceMs: time per slice}
    // Returns a TrainingRun: a promise of the trained Model with pause(), resume(), cancel() and .progress.
    train(dataset, options = {}) {
        if (!(dataset instanceof Dataset)) throw new CairnError('invalid_argument', 'train: the first argument must be a dataset from cairn.datasets');
        const spec = trainingSpec(options);
        const useWorker = options.worker ?? 'auto';
        const canWorker = typeof Worker === 'function' && !isNode;
        const run = new TrainingRun(options);
        if ((useWorker === true || useWorker === 'auto') && canWorker) run._start(trainInWorker(this, dataset, spec, run, options));
        else run._start(trainHere(this, dataset, spec, run, options));
        return run;
    }

    //--------------------------------------------------------------------------
    // [SECTION] Registry
    //--------------------------------------------------------------------------
    get registry() {
        const M = this.#M;
        const json = (fn, ...args) => JSON.parse(call(M, fn, ...args));
        const now = () => Date.now();
        const modelName = (ref) => String(ref).split(/[/@]/)[0];
        return {
            // options: {name, description, notes, tags, parent}. Returns {model, version, ref, ...}.
            register: async (model, options = {}) => {
                if (!(model instanceof Model)) throw new CairnError('invalid_argument', 'registry.register: expected a Model');
                if (!options.name) throw new CairnError('invalid_argument', 'registry.register: options.name (the model name) is required');
                const handle = model._handle();
                const r = await this.mutate(() => json(M.regRegister, handle, JSON.stringify(options), now()));
                return { ...r, ref: r.ref ?? `${r.model}/${r.version}` };
            },
            list: () => this.read(() => json(M.regList)),
            model: (name) => this.read(() => json(M.regModel, name)),
            manifest: (ref) => this.read(() => json(M.regManifest, String(ref))),
            get: (ref) => this.read(() => new Model(this, call(M, M.regLoad, String(ref)))),
            alias: (ref, alias, reason = '') => this.mutate(() => json(M.regSetAlias, String(ref), alias, now(), reason)),
            promote: (ref, alias = 'production', reason = '') => this.mutate(() => json(M.regSetAlias, String(ref), alias, now(), reason)),
            removeAlias: (name, alias, reason = '') => this.mutate(() => json(M.regRemoveAlias, name, alias, now(), reason)),
            rollback: (name, alias = 'production', reason = '') => this.mutate(() => json(M.regRollback, modelName(name), alias, now(), reason)),
            history: async (name) => (await this.read(() => json(M.regModel, modelName(name)))).history ?? [],
            diff: (a, b) => this.read(() => json(M.regDiff, String(a), String(b))),
            archive: (ref, reason = '') => this.mutate(() => json(M.regArchive, String(ref), now(), reason)),
            unarchive: (ref) => this.mutate(() => json(M.regUnarchive, String(ref))),
            // Replaces the version's notes and tags; the manifest keeps those given at registration.
            annotate: (ref, { notes = '', tags = [] } = {}) =>
                this.mutate(() => json(M.regAnnotate, String(ref), JSON.stringify({ notes: String(notes), tags: [...tags].map(String) }), now())),
            delete: (ref) => this.mutate(() => json(M.regDelete, String(ref))),
            gc: () => this.mutate(() => json(M.regGc)),
            verify: () => this.read(() => json(M.regVerify)),
            // One version (ref given) or the whole registry, as a Blob (browsers) with .bytes for the raw package.
            exportBytes: (ref = '') => this.read(() => call(M, M.regExport, ref ? String(ref) : '')),
            export: async (ref = '') => {
                const bytes = await this.registry.exportBytes(ref);
                return typeof Blob === 'function' ? new Blob([bytes], { type: 'application/x-cairn-package' }) : bytes.buffer;
            },
            // source: Blob/File, ArrayBuffer or Uint8Array holding an exported package.
            import: async (source, what = 'imported package') => {
                const bytes = typeof Blob === 'function' && source instanceof Blob ? new Uint8Array(await source.arrayBuffer())
                    : source instanceof Uint8Array ? source : new Uint8Array(source);
                return this.mutate(() => json(M.regImport, bytes, source?.name ?? what));
            },
        };
    }
}

//------------------------------------------------------------------------------
// Dataset and Model wrappers: explicit dispose() frees the wasm memory at once; the finalizer only catches leaks.
//------------------------------------------------------------------------------
const finalizer = typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry((h) => { try { h.delete(); } catch { /* already freed */ } }) : null;

class Handle {
    #h;
    constructor(cairn, h) {
        this.cairn = cairn;
        this.#h = h;
        finalizer?.register(this, h, this);
    }
    _handle() {
        if (!this.#h) throw new CairnError('disposed', `${this.constructor.name}: used after dispose()`);
        return this.#h;
    }
    get disposed() {
        return !this.#h;
    }
    dispose() {
        if (!this.#h) return;
        finalizer?.unregister(this);
        this.#h.delete();
        this.#h = null;
    }
    delete() {
        this.dispose();
    }
}

export class Dataset extends Handle {
    constructor(cairn, h) {
        super(cairn, h);
        const info = JSON.parse(h.info());
        this.name = info.name;
        this.size = info.samples;
        this.shape = info.shape;
        this.schema = info.schema;
        this.classNames = info.schema.class_names ?? [];
        this.classCounts = info.class_counts;
    }
    get numFeatures() {
        return this.shape.slice(1).reduce((a, b) => a * b, 1);
    }
    fingerprint() {
        return this.cairn.invoke(this._handle(), 'fingerprint');
    }
    features() {
        return this._handle().features();
    }
    labels() {
        return this._handle().labels();
    }
    // This dataset as the reference (usually the training data), `live` matched to it by column name.
    drift(live, { bins = 0, threshold = 0 } = {}) {
        if (!(live instanceof Dataset)) throw new CairnError('invalid_argument', 'drift: live must be a Dataset');
        return JSON.parse(this.cairn.invoke(this._handle(), 'drift', live._handle(), bins, threshold));
    }
    // The plain-data form that crosses to a worker (or is kept by the page).
    toArrays() {
        return {
            features: this.features(), labels: this.labels(), shape: this.shape, name: this.name,
            classNames: this.classNames, featureNames: this.schema.feature_names, labelName: this.schema.label_name,
        };
    }
}

export class Model extends Handle {
    constructor(cairn, h) {
        super(cairn, h);
        this.info = JSON.parse(cairn.invoke(h, 'describe'));
        this.inputSize = this.info.input_size;
        this.numOutputs = this.info.outputs;
        this.classNames = this.info.preprocessing?.schema?.class_names ?? this.info.preprocessing?.class_names ?? [];
        this.ref = this.info.ref ?? null;
    }
    // x: one sample (inputSize numbers) or a batch (n * inputSize, or an array of samples). Returns the class
    // probabilities: numOutputs values for one sample, n * numOutputs for a batch (row-major Float32Array).
    predict(x) {
        let flat = x;
        if (Array.isArray(x) && Array.isArray(x[0])) flat = Float32Array.from(x.flat());
        else if (!(x instanceof Float32Array)) flat = Float32Array.from(x);
        return this.cairn.invoke(this._handle(), 'predict', flat);
    }
    // Class indices (argmax of predict) for each sample.
    predictClass(x) {
        const p = this.predict(x), k = this.numOutputs, n = p.length / k;
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) {
            let best = 0;
            for (let c = 1; c < k; c++) if (p[i * k + c] > p[i * k + best]) best = c;
            out[i] = best;
        }
        return out;
    }
    serialize() {
        return this.cairn.invoke(this._handle(), 'serialize');
    }
    // Accuracy, per-class precision/recall/F1, confusion matrix, log-loss and ROC (core/metrics.h) on a dataset.
    evaluate(dataset, { rocPoints = 100 } = {}) {
        return JSON.parse(this.cairn.invoke(this._handle(), 'evaluate', dataset._handle(), rocPoints));
    }
}

//------------------------------------------------------------------------------
// Training runs
//------------------------------------------------------------------------------
function trainingSpec(o) {
    const spec = {};
    const copy = (from, to = from) => { if (o[from] !== undefined) spec[to] = o[from]; };
    copy('model'); copy('epochs'); copy('batchSize', 'batch_size'); copy('seed'); copy('validation'); copy('test');
    copy('standardize'); copy('optimizer');
    if (o.earlyStopping) spec.early_stopping = { patience: o.earlyStopping.patience, monitor: o.earlyStopping.monitor ?? '', min_delta: o.earlyStopping.minDelta ?? 0 };
    return spec;
}

export class TrainingRun {
    #promise;
    #paused = null;  // {promise, resolve} while paused
    #cancelled = false;
    #control = null;  // the worker's message port, when training runs in a worker
    constructor(options) {
        this.options = options;
        this.progress = null;
        this.history = [];
        options.signal?.addEventListener?.('abort', () => this.cancel());
    }
    _start(promise) {
        this.#promise = promise;
        promise.catch(() => {});
    }
    _setControl(post) {
        this.#control = post;
    }
    _report(p) {
        this.progress = p;
        for (const e of p.epochs_done ?? []) {
            this.history.push(e);
            this.options.onEpoch?.(e);
        }
        this.options.onProgress?.(p);
    }
    get paused() {
        return !!this.#paused;
    }
    get cancelled() {
        return this.#cancelled;
    }
    async _gate() {
        while (this.#paused) await this.#paused.promise;
    }
    pause() {
        if (this.#paused || this.#cancelled) return;
        let resolve;
        const promise = new Promise((r) => (resolve = r));
        this.#paused = { promise, resolve };
        this.#control?.({ type: 'pause' });
    }
    resume() {
        const p = this.#paused;
        this.#paused = null;
        p?.resolve();
        this.#control?.({ type: 'resume' });
    }
    cancel() {
        if (this.#cancelled) return;
        this.#cancelled = true;
        this.#control?.({ type: 'cancel' });
        this.resume();
    }
    then(a, b) {
        return this.#promise.then(a, b);
    }
    catch(b) {
        return this.#promise.catch(b);
    }
    finally(f) {
        return this.#promise.finally(f);
    }
}

const nextSlice = () => new Promise((resolve) => {
    // In a visible page, one slice per animation frame keeps rendering smooth; elsewhere yield to the event loop.
    if (typeof requestAnimationFrame === 'function' && globalThis.document?.visibilityState === 'visible') requestAnimationFrame(() => resolve());
    else setTimeout(resolve, 0);
});

const cancelledError = (p) => new CairnError('cancelled', `training cancelled${p ? ` at epoch ${p.epoch}, batch ${p.batch}` : ''}`);

// Training on this thread, in slices of sliceMs (default 8 ms) between which the page renders and handles input.
async function trainHere(cairn, dataset, spec, run, options) {
    const M = cairn.core;
    const t = call(M, M.trainingStart, dataset._handle(), JSON.stringify(spec));
    try {
        const sliceMs = options.sliceMs ?? 8;
        for (;;) {
            await run._gate();
            if (run.cancelled) {
                t.cancel();
                throw cancelledError(run.progress);
            }
            const p = JSON.parse(invoke(M, t, t.step, sliceMs));
            run._report(p);
            if (p.done) break;
            await nextSlice();
        }
        return new Model(cairn, invoke(M, t, t.finish));
    } finally {
        t.delete();
    }
}

// Training in web/worker.mjs (its own wasm instance): the page only receives progress and, at the end, the model's
// bytes, so nothing long runs on the page's thread.
function trainInWorker(cairn, dataset, spec, run, options) {
    return new Promise((resolve, reject) => {
        const worker = cairn._takeWorker();
        const finish = (fn, broken = false) => {
            worker.onmessage = worker.onerror = null;
            cairn._giveWorkerBack(worker, broken);
            fn();
        };
        run._setControl((msg) => worker.postMessage(msg));
        worker.onmessage = (ev) => {
            const m = ev.data;
            if (m.type === 'progress') run._report(m.progress);
            else if (m.type === 'done') finish(() => { try { resolve(cairn.modelFromBytes(m.model)); } catch (e) { reject(e); } });
            else if (m.type === 'error') finish(() => reject(m.code === 'cancelled' ? cancelledError(run.progress) : new CairnError(m.code, m.message)));
        };
        worker.onerror = (ev) => finish(() => reject(new CairnError('internal', `training worker failed: ${ev.message ?? ev}`)), true);
        const arrays = dataset.toArrays();
        worker.postMessage({ type: 'train', dataset: arrays, spec, sliceMs: options.sliceMs ?? 50 }, [arrays.features.buffer, arrays.labels.buffer]);
    });
}

export const open = (options) => Cairn.open(options);
export default Cairn;
