// Types of web/cairn.mjs, Cairn's JavaScript API.
//
//   import { Cairn } from './cairn.mjs';
//   const cairn = await Cairn.open({ db: 'cairn' });
//   const ds = cairn.datasets.bundled('iris');
//   const model = await cairn.train(ds, { model: 'mlp', epochs: 30, onEpoch: (e) => console.log(e.loss) });
//   const { ref } = await cairn.registry.register(model, { name: 'iris' });
//   await cairn.registry.promote(ref);                 // iris@production
//   const p = model.predict([5.1, 3.5, 1.4, 0.2]);    // Float32Array of class probabilities
//   model.dispose(); ds.dispose();

/** Every error thrown by the API. `code` is the stable cairn::Error code. */
export class CairnError extends Error {
    readonly code:
        | 'parse_error' | 'invalid_argument' | 'invalid_architecture' | 'invalid_artifact' | 'shape_mismatch'
        | 'not_found' | 'bad_reference' | 'invalid_name' | 'alias_in_use' | 'nothing_to_rollback' | 'integrity'
        | 'conflict' | 'quota_exceeded' | 'io_error' | 'diverged' | 'cancelled' | 'disposed' | 'out_of_memory'
        | 'internal' | (string & {});
    constructor(code: CairnError['code'], message: string, options?: ErrorOptions);
}

export interface OpenOptions {
    /** IndexedDB database name (default 'cairn'). */
    db?: string;
    /** Keep everything in memory (Node scripts, tests). */
    memory?: boolean;
    /** IndexedDB implementation to use (e.g. fake-indexeddb in Node) and its IDBKeyRange. */
    indexedDB?: IDBFactory | null;
    IDBKeyRange?: typeof IDBKeyRange;
    /** Ask the browser to keep the data under storage pressure (default true). */
    persist?: boolean;
    /**
     * Core build and kernel threads. 'auto' (default): the threaded build (cairn-core-mt) with
     * min(navigator.hardwareConcurrency, MAX_THREADS) threads when the page is cross-origin isolated, else the
     * single-threaded one (in Node: single unless a number > 1 is given). 1: the single-threaded build. N > 1: the
     * threaded build with N threads; CairnError 'unsupported' when SharedArrayBuffer / isolation is missing.
     * Results are bit-identical whichever build runs.
     */
    threads?: 'auto' | number;
    /** An instantiated wasm module carrying the mirror bindings (web/mirror_store.cpp) to use instead of loading
     *  cairn-core: the dashboard page shares the JS API's store this way. */
    core?: unknown;
}

/** Which core build Cairn.open chose. */
export interface BuildInfo {
    /** 'caller': a module passed to Cairn.open as `core` */
    module: 'cairn-core' | 'cairn-core-mt' | 'caller';
    threaded: boolean;
    threads: number;
}

/** Most threads the threaded build runs (its pre-spawned workers + the calling thread). */
export const MAX_THREADS: number;
/** The build Cairn.open would choose for `threads` here (throws the same CairnError it would). */
export function chooseCore(threads?: 'auto' | number): { threaded: boolean; threads: number };

export interface CsvOptions {
    name?: string;
    /** Label column (default: the last). */
    label?: string;
    /** With `label`: a file without that column is new data, every column a feature and no labels (to predict, or to check for drift). */
    labelOptional?: boolean;
    task?: 'classification' | 'regression';
    delimiter?: string;
}

export interface ArraysInput {
    features: Float32Array | number[];
    /** [samples, features] or [samples, height, width, channels]. */
    shape: number[];
    labels: Int32Array | number[];
    classNames?: string[];
    featureNames?: string[];
    labelName?: string;
    name?: string;
}

export interface Schema {
    feature_names: string[];
    label_name: string;
    class_names: string[];
    task: 'classification' | 'regression';
    image_shape?: [number, number, number];
}

/** Owns wasm memory: call dispose() when done (a finalizer frees forgotten ones eventually). */
declare class Handle {
    readonly disposed: boolean;
    dispose(): void;
    delete(): void;
}

export class Dataset extends Handle {
    readonly name: string;
    readonly size: number;
    readonly shape: number[];
    readonly numFeatures: number;
    readonly schema: Schema;
    readonly classNames: string[];
    readonly classCounts: number[];
    /** SHA-256 of schema + data (what the registry records as the training data's identity). */
    fingerprint(): string;
    features(): Float32Array;
    labels(): Int32Array;
    /** This dataset as the reference (usually the training data) against `live`, feature by feature; `live` is
     *  matched to it by column name and may lack the label column (CsvOptions.labelOptional). A feature drifts when
     *  its PSI exceeds `threshold` (default 0.25; `bins` quantile bins, default 10). */
    drift(live: Dataset, options?: { bins?: number; threshold?: number }): DriftReport;
    toArrays(): Required<Omit<ArraysInput, 'features' | 'labels'>> & { features: Float32Array; labels: Int32Array };
}

export interface DriftReport {
    kind: 'drift';
    reference_n: number;
    live_n: number;
    /** Features whose PSI exceeds the threshold. */
    drifted: number;
    max_psi: number;
    max_ks: number;
    features: { name: string; psi: number | null; ks: number | null; reference_mean: number | null; live_mean: number | null; drifted: boolean }[];
}

export interface EpochStats {
    epoch: number;
    loss: number;
    accuracy?: number;
    val_loss?: number;
    val_accuracy?: number;
    lr: number;
}

export interface Progress {
    epoch: number;
    epochs: number;
    batch: number;
    batches: number;
    step: number;
    steps: number;
    loss: number;
    done: boolean;
    reason: '' | 'completed' | 'early_stopping' | 'cancelled' | 'diverged';
    epochs_done: EpochStats[];
}

export interface TrainOptions {
    /** A preset ('linear', 'mlp', 'cnn') or an architecture object (see core/model.h). */
    model?: string | object;
    epochs?: number;
    batchSize?: number;
    seed?: number;
    /** Fractions of the dataset held out (stratified) for validation and for the test metrics. */
    validation?: number;
    test?: number;
    /** Standardize features with statistics of the training part (default true). */
    standardize?: boolean;
    optimizer?: { type?: 'sgd' | 'momentum' | 'adam' | 'adamw'; lr?: number; momentum?: number; weight_decay?: number; [k: string]: unknown };
    earlyStopping?: { patience: number; monitor?: 'val_loss' | 'val_accuracy'; minDelta?: number };
    onProgress?(p: Progress): void;
    onEpoch?(e: EpochStats): void;
    signal?: AbortSignal;
    /** Train in a Web Worker (default in browsers) or in time slices on this thread. */
    worker?: boolean | 'auto';
    /** Milliseconds of training per slice. */
    sliceMs?: number;
}

/** A promise of the trained model that can be paused, resumed and cancelled (rejects with code 'cancelled'). */
export class TrainingRun implements PromiseLike<Model> {
    readonly progress: Progress | null;
    readonly history: EpochStats[];
    readonly paused: boolean;
    readonly cancelled: boolean;
    pause(): void;
    resume(): void;
    cancel(): void;
    then<A = Model, B = never>(ok?: ((m: Model) => A | PromiseLike<A>) | null, err?: ((e: CairnError) => B | PromiseLike<B>) | null): Promise<A | B>;
    catch<B = never>(err?: ((e: CairnError) => B | PromiseLike<B>) | null): Promise<Model | B>;
    finally(f?: (() => void) | null): Promise<Model>;
}

export interface ModelInfo {
    ref?: string;
    architecture: object;
    preprocessing: object;
    parameters: number;
    input_size: number;
    outputs: number;
    metrics?: Record<string, Record<string, number>>;
    history?: Record<string, number[]>;
    hyperparameters?: object;
    dataset?: { name: string; fingerprint: string; schema: Schema; samples: number };
    /** Loaded from the registry: the notes and tags in force (the latest `annotate`, else those given at registration). */
    notes?: string;
    tags?: string[];
    [k: string]: unknown;
}

export class Model extends Handle {
    readonly info: ModelInfo;
    /** "name/version" when loaded from the registry. */
    readonly ref: string | null;
    readonly inputSize: number;
    readonly numOutputs: number;
    readonly classNames: string[];
    /** One sample (inputSize values) or a batch (n * inputSize, or an array of samples): class probabilities, row-major. */
    predict(x: Float32Array | number[] | number[][]): Float32Array;
    predictClass(x: Float32Array | number[] | number[][]): Int32Array;
    /** Classification report on a dataset: accuracy, classes [{name, precision, recall, f1, support, auc}],
     *  macro/weighted averages, confusion matrix, log_loss, macro_auc, roc curves (core/metrics.h). */
    evaluate(dataset: Dataset, options?: { rocPoints?: number }): Record<string, unknown>;
    /** Weights, architecture, preprocessing and info as one safetensors buffer. */
    serialize(): Uint8Array;
}

export interface ModelSummary {
    name: string;
    description: string;
    aliases: Record<string, number>;
    /** Versions not archived. */
    versions: number[];
    all_versions: number[];
    archived: Record<string, { time_ms: number; reason: string }>;
}

export interface HistoryEntry {
    time_ms: number;
    alias: string;
    action: 'set' | 'remove' | 'rollback';
    from: number | null;
    to: number | null;
    reason: string;
}

export interface RegisterOptions {
    name: string;
    description?: string;
    notes?: string;
    tags?: string[];
    /** Reference of the version this one derives from ("iris/2", "iris@production"). */
    parent?: string;
}

/** References: "name/3", "name@alias", "name@latest", "name". */
export interface Registry {
    register(model: Model, options: RegisterOptions): Promise<{ model: string; version: number; ref: string }>;
    list(): Promise<ModelSummary[]>;
    model(name: string): Promise<object>;
    manifest(ref: string): Promise<object>;
    /** Loads a version; every record and blob is checked against its SHA-256 (code 'integrity' when changed). */
    get(ref: string): Promise<Model>;
    alias(ref: string, alias: string, reason?: string): Promise<object>;
    promote(ref: string, alias?: string, reason?: string): Promise<object>;
    removeAlias(name: string, alias: string, reason?: string): Promise<object>;
    rollback(name: string, alias?: string, reason?: string): Promise<object>;
    history(name: string): Promise<HistoryEntry[]>;
    diff(a: string, b: string): Promise<object>;
    archive(ref: string, reason?: string): Promise<object>;
    /** Shows an archived version in listings and @latest again. */
    unarchive(ref: string): Promise<object>;
    /** Replaces a version's notes and tags (at most 32 tags of 1-64 characters, no commas); `get(ref).info` shows them. */
    annotate(ref: string, annotation: { notes?: string; tags?: string[] }): Promise<{ model: string; version: number; notes: string; tags: string[] }>;
    /** Deletes one version, named by number (`name/3`: a delete cannot be undone, so `name` or `name@latest` is refused); refused while an alias points at it. */
    delete(ref: string): Promise<object>;
    gc(): Promise<{ deleted: number; bytes: number }>;
    /** Reads every record and blob and checks each against its SHA-256; `versions` counts all, `damaged_versions` those that failed. */
    verify(): Promise<{ ok: boolean; models: number; versions: number; damaged_versions: number; blobs: number;
                        unreferenced_blobs: number; problems: { code: string; message: string }[] }>;
    exportBytes(ref?: string): Promise<Uint8Array>;
    /** A Blob in browsers (an ArrayBuffer where Blob does not exist). */
    export(ref?: string): Promise<Blob | ArrayBuffer>;
    import(source: Blob | ArrayBuffer | Uint8Array, what?: string): Promise<{ versions: string[]; skipped: string[]; models: string[] }>;
}

export interface Datasets {
    /** CSV text, a File/Blob, or a URL to fetch. */
    fromCSV(source: string | Blob | URL, options?: CsvOptions): Promise<Dataset>;
    fromURL(url: string | URL, options?: CsvOptions): Promise<Dataset>;
    fromArrays(input: ArraysInput): Dataset;
    /** 'iris', 'digits', 'breast_cancer', and 'fashion_mnist_small' where built in. */
    bundled(name: string): Dataset;
    bundledNames(): string[];
}

export class Cairn extends EventTarget {
    static open(options?: OpenOptions): Promise<Cairn>;
    /** Set when models are not kept (no IndexedDB): show it to the user. */
    readonly warning: string | null;
    readonly storeDescription: string;
    /** The core build chosen from OpenOptions.threads; training workers use the same. */
    readonly build: BuildInfo;
    readonly datasets: Datasets;
    readonly registry: Registry;
    train(dataset: Dataset, options?: TrainOptions): TrainingRun;
    modelFromBytes(bytes: Uint8Array | ArrayBuffer): Model;
    /** Starts the training worker and compiles its wasm ahead of the first train() (browsers; no-op elsewhere). */
    prepareTraining(): void;
    storage(): Promise<{ store: string; warning: string | null; usage: number | null; quota: number | null; persisted: boolean | null }>;
    /** malloc'd bytes, wasm heap size and live embind handles: flat across repeated calls when nothing leaks. */
    memory(): { allocated: number; heap: number; handles: number | null };
    /** Closes the store and the training worker; with the threaded core it opened, ends its kernel threads (models
     *  kept past close() still predict, on one thread). */
    close(): Promise<void>;
    // Events: 'change' ({keys, remote}) after this or another tab changed the registry; 'warning' ({kind, message}).

    // Low level: what the dashboard page and tools that inspect a registry build on.
    /** Raw key-value access to the store, through the same mirror and commit path the registry uses. A commit
     *  writes nothing unless every condition holds (`expected: null` = the key is absent); false on a conflict. */
    readonly kv: {
        get(key: string): Promise<Uint8Array | null>;
        list(prefix?: string): Promise<string[]>;
        commit(batch: { conditions?: { key: string; expected: Uint8Array | null }[]; writes: { key: string; value: Uint8Array | null }[] }): Promise<boolean>;
    };
    /** The Emscripten module of the core build in use. */
    readonly core: unknown;
    /** Runs synchronous core calls against the store's mirror, loading the values they ask for and committing what
     *  they queue (re-run after a conflict with another tab); resolves to fn's result. */
    mutate<T>(fn: (core: any) => T): Promise<T>;
    /** Like mutate, for calls that only read (rejects with code 'internal' if they queued a write). */
    read<T>(fn: (core: any) => T): Promise<T>;
    /** Calls a core binding; its error is thrown as a CairnError. */
    call(fn: (...args: any[]) => unknown, ...args: unknown[]): unknown;
    /** Calls a method of a core object (a handle); its error is thrown as a CairnError. */
    invoke(self: object, method: string, ...args: unknown[]): unknown;
}

export function open(options?: OpenOptions): Promise<Cairn>;
export default Cairn;
