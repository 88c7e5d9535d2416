// The three benchmark workloads, written once for every JavaScript engine (Node and the Chromium page) and every
// JavaScript peer (TF.js wasm/cpu, ONNX Runtime Web, Cairn's wasm module). The native peers (bench_workloads.cpp,
// peer_torch.py, peer_xnnpack.cpp) implement the same SPEC; the runner (runner.mjs) compares them.
//
// Index of this file
// [SECTION] Spec and data
// [SECTION] Timing
// [SECTION] TF.js
// [SECTION] ONNX Runtime Web
// [SECTION] Cairn (wasm module driven from JS)

//-----------------------------------------------------------------------------
// [SECTION] Spec and data
//-----------------------------------------------------------------------------

// Everything a peer needs to run "the same work". Quick mode shrinks the counts, never the shapes.
// W1's warm-up (every peer's) is 300 steps: a 2-thread wasm step only settles after a few hundred (in Node, 50-step
// blocks of a fresh module ran at 2.3, 1.17, 1.18, then 1.0 ms and 0.95 from step ~500; 1 thread: 2.1, 1.76, then
// 1.66-1.7), so after 30 steps the timed 2-thread epoch still paid for its start (8% in Node, 4% in Chromium).
export function spec(quick) {
    return {
        w1: { batch: 64, lr: 1e-3, samples: quick ? 6400 : 60000, warmup_steps: quick ? 5 : 300 },
        w2: { groups: quick ? 50 : 250, group: 50, batch: 256, big_calls: quick ? 20 : 100, big_warmup: quick ? 3 : 20,
              warmup: quick ? 50 : 300 },
        w3: { batch: 64, lr: 1e-3, samples: quick ? 640 : 10000, warmup_steps: 2 },
    };
}

export function parseIdx(bytes, what) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const magic = dv.getUint32(0);
    if ((magic >>> 8) !== 0x08) throw new Error(`${what}: not an unsigned-byte IDX file (magic ${magic.toString(16)})`);
    const dims = magic & 0xff, shape = [];
    for (let i = 0; i < dims; ++i) shape.push(dv.getUint32(4 + 4 * i));
    const count = shape.reduce((a, b) => a * b, 1), off = 4 + 4 * dims;
    if (bytes.byteLength !== off + count) throw new Error(`${what}: expected ${off + count} bytes, got ${bytes.byteLength}`);
    return { shape, data: bytes.subarray(off) };
}

export async function gunzip(bytes) {
    // A plain reader, not Response: Node without fetch (--no-experimental-fetch, for Emscripten) has no Response.
    const reader = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip')).getReader();
    const parts = [];
    let size = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) { parts.push(r.value); size += r.value.length; }
    const out = new Uint8Array(size);
    for (let i = 0, off = 0; i < parts.length; off += parts[i].length, ++i) out.set(parts[i], off);
    return out;
}

// `read(name)` returns the gzip bytes of one Fashion-MNIST file. Pixels are scaled to [0, 1], as every peer does.
export async function loadFashion(read, quick) {
    const gzImages = new Uint8Array(await read('train-images-idx3-ubyte.gz'));
    const gzLabels = new Uint8Array(await read('train-labels-idx1-ubyte.gz'));
    const images = parseIdx(await gunzip(gzImages), 'train images');
    const labels = parseIdx(await gunzip(gzLabels), 'train labels');
    const n = quick ? 10000 : labels.shape[0];
    const x = new Float32Array(n * 784), y = new Int32Array(n), onehot = new Float32Array(n * 10);
    for (let i = 0; i < n * 784; ++i) x[i] = images.data[i] / 255;
    for (let i = 0; i < n; ++i) { y[i] = labels.data[i]; onehot[i * 10 + y[i]] = 1; }
    return { n, x, y, onehot, gz_images: gzImages, gz_labels: gzLabels };
}

// Glorot-uniform weights from a fixed LCG so every JS peer infers with the same numbers.
export function glorot(rows, cols, seed) {
    const w = new Float32Array(rows * cols), lim = Math.sqrt(6 / (rows + cols));
    let s = seed >>> 0;
    for (let i = 0; i < w.length; ++i) { s = (Math.imul(s, 1664525) + 1013904223) >>> 0; w[i] = (s / 4294967296 * 2 - 1) * lim; }
    return w;
}

//-----------------------------------------------------------------------------
// [SECTION] Timing
//-----------------------------------------------------------------------------

const now = () => performance.now();
// A timed epoch's start and end in Unix ms, the clock of the runner's /proc/stat samples (steal.mjs): the runner
// turns it into the share of the epoch's vCPU time the hypervisor took.
const windowMs = (t0, t1) => [performance.timeOrigin + t0, performance.timeOrigin + t1];
const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

// Batch-1 latency: calls are timed in groups of `group`, the result is the median of the per-call means of `groups`
// groups, so groups*group calls are timed. A cross-origin isolated page's clock ticks in 5 µs steps: a group of 10
// calls of ~11 µs read as 110 or 115 µs, so the median moved in 0.5 µs steps, ~5% of Cairn's figure; groups of 50
// take that to 0.1 µs.
async function latency(call, sp) {
    for (let i = 0; i < sp.warmup; ++i) await call();
    const per = [];
    for (let g = 0; g < sp.groups; ++g) {
        const t0 = now();
        for (let i = 0; i < sp.group; ++i) await call();
        per.push((now() - t0) * 1000 / sp.group);
    }
    return median(per);
}

// Batch 256: `warm` calls first (in Node a fresh module's first 5 calls ran ~30% slower than the rest), then the
// mean over `calls`.
async function throughput(call, batch, calls, warm) {
    for (let i = 0; i < warm; ++i) await call();
    const t0 = now();
    for (let i = 0; i < calls; ++i) await call();
    return batch * calls / ((now() - t0) / 1000);
}

//-----------------------------------------------------------------------------
// [SECTION] TF.js
//-----------------------------------------------------------------------------

function tfMlp(tf) {
    return tf.sequential({ layers: [
        tf.layers.dense({ inputShape: [784], units: 256, activation: 'relu' }),
        tf.layers.dense({ units: 128, activation: 'relu' }),
        tf.layers.dense({ units: 10 }) ] });
}

function tfCnn(tf) {
    return tf.sequential({ layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10 }) ] });
}

// One pass over `samples` samples starting at 0; the batch tensors are made from the JS arrays inside the timed
// loop because every peer has to move its batch into its own memory.
// Stops early (returning the samples done) once `maxSeconds` have passed: TF.js's cpu backend needs minutes for W3.
function tfTrain(tf, model, opt, d, shape, samples, batch, maxSeconds = Infinity) {
    const per = shape.reduce((a, b) => a * b, 1), t0 = now();
    for (let s = 0; s < samples; s += batch) {
        if ((now() - t0) / 1000 > maxSeconds) return s;
        const b = Math.min(batch, samples - s);
        tf.tidy(() => {
            const xb = tf.tensor(d.x.subarray(s * per, (s + b) * per), [b, ...shape]);
            const yb = tf.tensor2d(d.onehot.subarray(s * 10, (s + b) * 10), [b, 10]);
            opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb)), false);
        });
    }
    return samples;
}

function tfAccuracy(tf, model, d, samples) {
    let right = 0;
    for (let s = 0; s < samples; s += 2000) {
        const b = Math.min(2000, samples - s);
        const pred = tf.tidy(() => model.predict(tf.tensor2d(d.x.subarray(s * 784, (s + b) * 784), [b, 784])).argMax(1));
        const p = pred.dataSync(); pred.dispose();
        for (let i = 0; i < b; ++i) right += p[i] === d.y[s + i];
    }
    return right / samples;
}

async function tfTrainWorkload(tf, d, sp, make, shape, maxSeconds) {
    // Warm-up on a throw-away model: compiles kernels and lets V8 tier up, without touching the timed model.
    const warm = make(tf);
    tfTrain(tf, warm, tf.train.adam(sp.lr), d, shape, sp.warmup_steps * sp.batch, sp.batch);
    warm.dispose();
    const model = make(tf), opt = tf.train.adam(sp.lr);
    const t0 = now();
    const done = tfTrain(tf, model, opt, d, shape, sp.samples, sp.batch, maxSeconds);
    model.layers[0].getWeights()[0].dataSync();  // a backend that ran asynchronously has finished now
    const t1 = now(), seconds = (t1 - t0) / 1000;
    const r = { samples_per_s: done / seconds, seconds, samples: done, window_ms: windowMs(t0, t1) };
    if (shape.length === 1 && done === sp.samples) r.train_accuracy = tfAccuracy(tf, model, d, sp.samples);
    model.dispose(); opt.dispose();
    return r;
}

async function tfInfer(tf, d, sp) {
    const w = [glorot(784, 256, 1), glorot(256, 128, 2), glorot(128, 10, 3)].map((a, i) => tf.tensor2d(a, [[784, 256, 128][i], [256, 128, 10][i]]));
    const b = [256, 128, 10].map((n) => tf.zeros([n]));
    const fwd = (x) => tf.tidy(() => {
        const h1 = tf.fused.matMul({ a: x, b: w[0], bias: b[0], activation: 'relu' });
        const h2 = tf.fused.matMul({ a: h1, b: w[1], bias: b[1], activation: 'relu' });
        return tf.fused.matMul({ a: h2, b: w[2], bias: b[2] });
    });
    const run = (batch) => () => {
        const x = tf.tensor2d(d.x.subarray(0, batch * 784), [batch, 784]);
        const y = fwd(x); y.dataSync(); x.dispose(); y.dispose();
    };
    const r = { b1_us: await latency(run(1), sp), b256_samples_per_s: await throughput(run(sp.batch), sp.batch, sp.big_calls, sp.big_warmup) };
    [...w, ...b].forEach((t) => t.dispose());
    return r;
}

// backend: 'wasm' | 'cpu'. threads applies to wasm only (the cpu backend is single-threaded JS).
// maxSeconds caps each training workload (the result then reports the samples it got through).
export async function runTfjs(tf, d, { backend, threads, workloads, quick, wasmPaths, maxSeconds = Infinity }) {
    if (backend === 'wasm') {
        if (wasmPaths) tf.wasm.setWasmPaths(wasmPaths);
        // The threaded binary is only chosen when SharedArrayBuffer exists; one thread means the plain SIMD binary.
        if (threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
        else tf.wasm.setThreadsCount(threads);
    }
    if (!(await tf.setBackend(backend))) throw new Error(`TF.js backend ${backend} failed to initialise`);
    await tf.ready();
    const info = { backend: tf.getBackend(), version: tf.version.tfjs };
    if (backend === 'wasm') info.threads = tf.wasm.getThreadsCount();
    if (backend === 'wasm' && info.threads !== threads) return { info, error: `TF.js wasm runs ${info.threads} thread(s) (asked for ${threads})` };
    const sp = spec(quick), out = { info };
    for (const w of workloads) {
        try {
            if (w === 'W1') out.W1 = await tfTrainWorkload(tf, d, sp.w1, tfMlp, [784], maxSeconds);
            if (w === 'W2') out.W2 = await tfInfer(tf, d, sp.w2);
            if (w === 'W3') out.W3 = await tfTrainWorkload(tf, d, sp.w3, tfCnn, [28, 28, 1], maxSeconds);
        } catch (e) { out[w] = { error: String(e.message || e).split('\n')[0].slice(0, 200) }; }
    }
    return out;
}

//-----------------------------------------------------------------------------
// [SECTION] ONNX Runtime Web
//-----------------------------------------------------------------------------

export async function runOrt(ort, d, { onnx, threads, quick, wasmPaths }) {
    ort.env.wasm.numThreads = threads;
    if (wasmPaths) ort.env.wasm.wasmPaths = wasmPaths;
    const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const sp = spec(quick).w2;
    const run = (batch) => {
        const feeds = { x: new ort.Tensor('float32', d.x.subarray(0, batch * 784), [batch, 784]) };
        return async () => { const out = await session.run(feeds); out.logits.data; };
    };
    const r = { b1_us: await latency(run(1), sp), b256_samples_per_s: await throughput(run(sp.batch), sp.batch, sp.big_calls, sp.big_warmup) };
    await session.release();
    return { info: { version: ort.env.versions?.web ?? '', threads }, W2: r };
}

//-----------------------------------------------------------------------------
// [SECTION] Cairn (wasm module driven from JS)
//-----------------------------------------------------------------------------

// The wasm build of bench_workloads.cpp exports one C function per step so every hot loop runs in many short calls
// (a single long call would keep V8's baseline code, see TOOLCHAIN.md). The C++ side owns the model and the data.
// Returns an error message if this build cannot run `threads` threads, else null.
export function loadCairn(M, d, threads) {
    const put = (arr) => { const p = M._malloc(arr.byteLength); M.HEAPU8.set(arr, p); return p; };
    // Cairn's own loader (core/data.h) parses the gzip IDX files, as the app does with a dropped file.
    const xp = put(d.gz_images), yp = put(d.gz_labels);
    const loaded = M._cb_load(xp, d.gz_images.byteLength, yp, d.gz_labels.byteLength, d.n);
    M._free(xp); M._free(yp);
    if (loaded !== 0) throw new Error('cb_load failed (see the console)');
    const used = M._cb_threads(threads);
    return used === threads ? null : `this Cairn build runs ${used} thread(s) (asked for ${threads}); the threaded one is cairn_bench_web_mt`;
}

// W1 training steps without end, for measurements in blocks of steps (ab_step.mjs, cores.mjs): starts W1's epoch and
// returns a function that runs one step, starting the next epoch when one ends.
export function endlessW1Steps(M) {
    const s = spec(false).w1;
    const begin = () => M._cb_train_begin(1, s.batch, s.lr, s.samples);
    begin();
    return () => { if (!M._cb_train_step()) begin(); };
}

// Training workload w (1 or 3) of a loaded module in its phases, so that a caller can interleave two modules' epochs
// (bench.html times W1's 1-thread and 2-thread epochs back to back in one page).
export function cairnTraining(M, w, quick) {
    const s = w === 1 ? spec(quick).w1 : spec(quick).w3;
    const epoch = () => {
        M._cb_train_begin(w, s.batch, s.lr, s.samples);  // a fresh model for every timed epoch
        const t0 = now();
        while (M._cb_train_step()) {}
        const t1 = now();
        return { seconds: (t1 - t0) / 1000, window_ms: windowMs(t0, t1) };
    };
    return {
        warmup() {
            M._cb_train_begin(w, s.batch, s.lr, s.warmup_steps * s.batch);
            while (M._cb_train_step()) {}
        },
        // The timed epoch: samples/s, and for W1 the train accuracy after it.
        epoch() {
            const { seconds, window_ms } = epoch();
            const r = { samples_per_s: s.samples / seconds, seconds, window_ms };
            if (w === 1) r.train_accuracy = M._cb_train_accuracy();
            return r;
        },
        // The same epoch once more, on a fresh model, after V8 has finished tiering up the per-step code
        // (PROFILE.md, "which functions V8 still compiles"): not a target, it shows what the warm-up costs.
        settled() { return { settled_samples_per_s: s.samples / epoch().seconds }; },
    };
}

export async function runCairn(M, d, { workloads, quick, threads }) {
    const sp = spec(quick), out = { info: { threads } };
    const error = loadCairn(M, d, threads);
    if (error) return { error };
    const train = (w) => {
        const t = cairnTraining(M, w, quick);
        t.warmup();
        const r = t.epoch();
        return w === 1 ? { ...r, ...t.settled() } : r;
    };
    // Pieces timed inside wasm by cb_step_part_us(first + i): the best of `reps` after `warm` calls (tier-up), with
    // GFLOP/s for the pieces that are products of an [m, n, k] shape.
    const pieces = (first, names, shapes, warm, reps) => Object.fromEntries(names.map((name, i) => {
        for (let j = 0; j < warm; ++j) M._cb_step_part_us(first + i);
        let best = Infinity;
        for (let j = 0; j < reps; ++j) best = Math.min(best, M._cb_step_part_us(first + i));
        return [name, shapes[i] ? { us: best, gflops: 2 * shapes[i].reduce((a, b) => a * b, 1) / best / 1e3 } : { us: best }];
    }));
    for (const w of workloads) {
        try {
            if (w === 'W1') out.W1 = train(1);
            if (w === 'W3') out.W3 = train(3);
            if (w === 'W2') {
                M._cb_infer_begin();
                out.W2 = { b1_us: await latency(() => M._cb_infer(1), sp.w2),
                           b256_samples_per_s: await throughput(() => M._cb_infer(sp.w2.batch), sp.w2.batch, sp.w2.big_calls, sp.w2.big_warmup) };
            }
            if (w === 'GEMM') {
                // Roofline: the same binary measures its own SIMD128 mul+add peak, then the W1 GEMM shape.
                const peak = [], gemm = [];
                for (let i = 0; i < 40; ++i) { M._cb_peak_flops(); M._cb_gemm_flops(); }  // tier-up
                for (let i = 0; i < (quick ? 10 : 40); ++i) { peak.push(M._cb_peak_flops()); gemm.push(M._cb_gemm_flops()); }
                const p = Math.max(...peak), g = Math.max(...gemm);
                out.GEMM = { peak_gflops: p / 1e9, gemm_gflops: g / 1e9, fraction: g / p };
            }
            if (w === 'STEP') {
                // One W1 step taken apart (PROFILE.md): GEMMs by shape, Adam, the whole step.
                M._cb_train_begin(1, 64, 1e-3, d.n);
                out.STEP = pieces(0, ['fwd1 64x256x784', 'fwd2 64x128x256', 'fwd3 64x10x128', 'dW1 784x256x64 (Aᵀ)',
                    'dW2 256x128x64 (Aᵀ)', 'dW3 128x10x64 (Aᵀ)', 'dX3 64x128x10 (Bᵀ)', 'dX2 64x256x128 (Bᵀ)', 'adam 235k', 'whole step'],
                    [[64, 256, 784], [64, 128, 256], [64, 10, 128], [784, 256, 64], [256, 128, 64], [128, 10, 64], [64, 128, 10], [64, 256, 128]],
                    30, 10);
            }
            if (w === 'B1') {
                // W2 at batch 1 taken apart (PROFILE.md): each layer's m = 1 product, then one whole forward pass.
                M._cb_infer_begin();
                out.B1 = pieces(10, ['layer 1 1x256x784', 'layer 2 1x128x256', 'layer 3 1x10x128', 'whole forward'],
                    [[1, 256, 784], [1, 128, 256], [1, 10, 128]], 300, 50);
            }
        } catch (e) { out[w] = { error: String(e.message || e).split('\n')[0].slice(0, 200) }; }
    }
    return out;
}
