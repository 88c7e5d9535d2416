// Runs every workload for Cairn and each peer, interleaved (round 1: A B C …, round 2: A B C …), then prints ONE
// table (median, min–max over rounds) with the target ratios and writes the same as JSON. Called by run.sh, which
// builds and fetches what this needs; see README "Benchmarks". In Chromium, W1 of Cairn's 1-thread and 2-thread
// builds runs as one pair per round, their epochs back to back in one page (`pairW1` below).
//
// Environment: CAIRN_BENCH_QUICK=1 (smoke run: small counts, 1 round), CAIRN_BENCH_ROUNDS=N (default 5),
// CAIRN_BENCH_ONLY=regex (config ids to run; the W1 pair runs if either of its ids matches), CAIRN_BENCH_OUT=file.json,
// CAIRN_OPENBLAS=dir (PyTorch's BLAS),
// CAIRN_BENCH_PAGE_THREAD=1 (Chromium peers run on the page's thread instead of in a dedicated worker),
// CAIRN_NATIVE_BUILD / CAIRN_WASM_BUILD (build trees; the wasm tree holds both the single and the threaded engine).
//
// Index of this file
// [SECTION] Configuration
// [SECTION] Runners (native, Node, Chromium)
// [SECTION] Rounds
// [SECTION] Report
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { serveStatic } from '../static_server.mjs';
import { sampleSteal } from './steal.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const require = createRequire(path.join(root, 'tests', 'package.json'));

//-----------------------------------------------------------------------------
// [SECTION] Configuration
//-----------------------------------------------------------------------------

const env = process.env;
const quick = env.CAIRN_BENCH_QUICK === '1';
const rounds = Number(env.CAIRN_BENCH_ROUNDS || (quick ? 1 : 5));
const only = env.CAIRN_BENCH_ONLY ? new RegExp(env.CAIRN_BENCH_ONLY) : null;
const nativeBuild = path.resolve(root, env.CAIRN_NATIVE_BUILD || 'build/native');
const wasmBuild = path.resolve(root, env.CAIRN_WASM_BUILD || 'build/wasm');
const outJson = path.resolve(root, env.CAIRN_BENCH_OUT || path.join(nativeBuild, 'tests/bench/workloads.json'));
const onnxFile = path.join(nativeBuild, 'tests/bench/mlp.onnx');
const dataDir = env.CAIRN_FASHION_DIR || '/usr/share/datasets/fashion-mnist';
// In Chromium every peer runs in a dedicated worker, where Cairn's app trains (web/worker.mjs). On the page's thread
// a 2-thread Cairn epoch ran at 42–61k samples/s against 50–62k in a worker (12 interleaved page loads each).
const inWorker = env.CAIRN_BENCH_PAGE_THREAD !== '1';
const tfjsCpuCap = quick ? 5 : 20;  // seconds: TF.js cpu trains W3 at a few samples/s (see report notes)

const cairnNative = path.join(nativeBuild, 'tests/bench/bench_workloads');
const cairnWeb = path.join(wasmBuild, 'tests/bench/cairn_bench_web.js');
// The threaded engine: the same program on the -pthread core (cairn_core_mt); its cb_threads() honours N (<= 4).
const cairnWebMt = path.join(wasmBuild, 'tests/bench/cairn_bench_web_mt.js');
const xnnpackPeer = path.join(nativeBuild, 'tests/bench/peer_xnnpack');

// id: peer/engine/threads. Missing Cairn builds are reported, not fatal, so peers can be measured on their own.
const C = (peer, engine, threads, workloads, extra = {}) => ({ id: `${peer}/${engine}/${threads}t`, peer, engine, threads, workloads, ...extra });
// W1's target 2t / 1t compares two Cairn builds. In workers they share one page per round and time their epochs
// back to back (bench.html, runPair): measured in pages seconds apart, the two epochs could fall in different
// stretches of the VM's speed, which moved that ratio between 1.3 and 1.9 round by round. Their rows keep their ids.
const pairW1 = inWorker;
const cairnChromium1t = C('cairn', 'chromium', 1, [...(pairW1 ? [] : ['W1']), 'W2', 'W3', 'GEMM'], { needs: cairnWeb, module: cairnWeb });
const cairnChromium2t = C('cairn', 'chromium', 2, [...(pairW1 ? [] : ['W1']), 'W2', 'W3'], { needs: cairnWebMt, module: cairnWebMt });
// TF.js wasm 2t: in Node it has no threaded build; in the isolated page its threaded binary loads, and the row
// reports an error if getThreadsCount() does not give the threads asked for (never a 1-thread figure labelled 2t).
const all = [
    C('cairn', 'native', 1, ['W1', 'W2', 'W3'], { needs: cairnNative }),
    C('torch', 'native', 1, ['W1', 'W2', 'W3']),
    C('xnnpack', 'native', 1, ['W2'], { needs: xnnpackPeer }),
    C('cairn', 'native', 2, ['W1', 'W2', 'W3'], { needs: cairnNative }),
    C('torch', 'native', 2, ['W1', 'W2', 'W3']),
    C('xnnpack', 'native', 2, ['W2'], { needs: xnnpackPeer }),
    C('cairn', 'node', 1, ['W1', 'W2', 'W3', 'GEMM'], { needs: cairnWeb, module: cairnWeb }),
    C('tfjs-wasm', 'node', 1, ['W1', 'W2']),
    C('tfjs-cpu', 'node', 1, ['W3']),
    C('ort', 'node', 1, ['W2']),
    C('ort', 'node', 2, ['W2']),
    C('cairn', 'node', 2, ['W1', 'W2'], { needs: cairnWebMt, module: cairnWebMt }),
    // What the machine's second core gives to work that shares nothing, just before the W1 pair (cores.mjs): the
    // context the 2t / 1t ratios need on a shared VM.
    C('machine', 'node', 2, ['CORES'], { needs: cairnWebMt, module: cairnWebMt }),
    ...(pairW1 ? [{ id: 'cairn/chromium/1t+2t', peer: 'cairn', engine: 'chromium', workloads: ['W1'], needs: [cairnWeb, cairnWebMt],
                    pair: [cairnChromium1t, cairnChromium2t] }] : []),
    cairnChromium1t,
    cairnChromium2t,
    C('tfjs-wasm', 'chromium', 1, ['W1', 'W2', 'W3']),
    C('tfjs-wasm', 'chromium', 2, ['W1', 'W2']),
    C('tfjs-cpu', 'chromium', 1, ['W3']),
    C('ort', 'chromium', 1, ['W2']),
    C('ort', 'chromium', 2, ['W2']),
];
const missing = all.filter((c) => [c.needs ?? []].flat().some((f) => !existsSync(f)));
const configs = all.filter((c) => !missing.includes(c) && (!only || [c, ...(c.pair ?? [])].some((x) => only.test(x.id))));

//-----------------------------------------------------------------------------
// [SECTION] Runners (native, Node, Chromium)
//-----------------------------------------------------------------------------

function run(cmd, args, extraEnv = {}) {
    return new Promise((resolve) => {
        const p = spawn(cmd, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '', err = '';
        p.stdout.on('data', (b) => { out += b; });
        p.stderr.on('data', (b) => { err += b; });
        p.on('close', (code) => {
            const line = out.split('\n').find((l) => l.startsWith('RESULT '));
            if (line) resolve(JSON.parse(line.slice(7)));
            else resolve({ error: `${path.basename(cmd)} exited ${code}: ${(err || out).trim().split('\n').slice(-3).join(' | ').slice(0, 300)}` });
        });
    });
}

const q = quick ? ['--quick'] : [];
function runNative(c) {
    const t = ['--threads', String(c.threads)];
    if (c.peer === 'cairn') return run(cairnNative, [...t, '--workloads', c.workloads.join(','), ...q]);
    if (c.peer === 'xnnpack') return run(xnnpackPeer, [...t, ...q]);
    if (c.peer === 'torch') {
        // Debian's torch links the reference BLAS unless an optimized one is found first; run.sh unpacks
        // Debian's OpenBLAS (OpenMP flavour, like torch) into the build tree and points CAIRN_OPENBLAS at it.
        const extra = env.CAIRN_OPENBLAS ? { LD_LIBRARY_PATH: env.CAIRN_OPENBLAS, OMP_WAIT_POLICY: 'PASSIVE' } : {};
        return run('/usr/bin/python3', [path.join(here, 'peer_torch.py'), ...t, '--workloads', c.workloads.join(','), ...q], extra);
    }
}

function runNode(c) {
    if (c.peer === 'machine') return run(process.execPath, [path.join(here, 'cores.mjs'), '--blocks', quick ? '2' : '10', '--module', c.module]);
    const a = [path.join(here, 'node_peer.mjs'), '--peer', c.peer, '--threads', String(c.threads), '--workloads', c.workloads.join(','), ...q];
    if (c.peer === 'ort') a.push('--onnx', onnxFile);
    if (c.peer === 'cairn') a.push('--module', c.module);
    if (c.peer === 'tfjs-cpu') a.push('--max-seconds', String(tfjsCpuCap));
    return run(process.execPath, ['--no-experimental-fetch', ...a]);
}

let browser = null, base = '', profileDir = '';
async function openBrowser() {
    const { chromium } = require('playwright-core');
    profileDir = mkdtempSync(path.join(os.tmpdir(), 'cairn-bench-'));
    browser = await chromium.launchPersistentContext(profileDir, {
        executablePath: '/usr/bin/chromium', headless: true,
        args: ['--no-sandbox', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--disable-background-networking',
            '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
            '--disable-renderer-backgrounding', '--disable-background-timer-throttling'],
    });
}

// One fresh page per run. A pair (W1 of Cairn 1t and 2t, runPair) returns one result per member, else one result.
async function runChromium(c, round) {
    const page = await browser.newPage();
    const cfg = (x) => ({ peer: x.peer, worker: inWorker, threads: x.threads, workloads: c.workloads, quick, onnx: '/' + path.relative(root, onnxFile),
        module: x.module ? '/' + path.relative(root, x.module) : undefined, maxSeconds: x.peer === 'tfjs-cpu' ? tfjsCpuCap : undefined });
    try {
        await page.goto(`${base}/tests/bench/bench.html`);
        await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30000 });
        if (c.pair) return await page.evaluate(([cfgs, round]) => window.runPair(cfgs, round), [c.pair.map(cfg), round]);
        return await page.evaluate((cfg) => window.runPeer(cfg), cfg(c));
    } catch (e) {
        return { error: String(e.message || e).split('\n')[0].slice(0, 300) };
    } finally {
        await page.close();
    }
}

// Start-up of the served page, the dashboard (build/wasm/web/index.html): navigation start to the first dashboard frame. The page
// may report it itself (window.cairnFirstFrameMs = performance.now() at its first presented frame); otherwise the
// first WebGL draw call is hooked and the frame that presents it counts, so no page cooperation is needed.
const fetched = new Set();  // files the dashboard page loaded: what its download size counts
async function runStartup() {
    const index = path.join(wasmBuild, 'web/index.html');  // the served page is the dashboard
    if (!existsSync(index)) return { error: 'no build/wasm/web/index.html' };
    const page = await browser.newPage();
    // A first visit: the pages are served for revalidation (static_server.mjs, as by `cairn serve`), so without
    // this a later round would find the page and its wasm in the HTTP cache, and any code a browser cached with them.
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    page.on('response', (r) => { const u = new URL(r.url()); if (r.status() === 200 && u.origin === base) fetched.add(path.join(root, decodeURIComponent(u.pathname))); });
    try {
        await page.addInitScript(() => {
            for (const C of [self.WebGL2RenderingContext, self.WebGLRenderingContext]) {
                if (!C) continue;
                for (const fn of ['drawElements', 'drawArrays']) {
                    const orig = C.prototype[fn];
                    C.prototype[fn] = function (...a) {
                        if (!self.__cairnDrew) {
                            self.__cairnDrew = true;
                            requestAnimationFrame(() => { self.cairnFirstFrameMs ??= performance.now(); });
                        }
                        return orig.apply(this, a);
                    };
                }
            }
        });
        await page.goto(`${base}/${path.relative(root, index)}`);
        const ms = await page.waitForFunction(() => self.cairnFirstFrameMs, null, { timeout: 20000 }).then((h) => h.jsonValue());
        return { first_frame_ms: ms };
    } catch (e) {
        return { error: 'no first frame within 20 s: ' + String(e.message || e).split('\n')[0].slice(0, 200) };
    } finally {
        await page.close();
    }
}

// Download size of what the dashboard page fetched during start-up (else the page files in build/wasm/web),
// gzip -9 and brotli.
function downloadSize() {
    const dir = path.join(wasmBuild, 'web');
    if (!existsSync(dir)) return { error: 'no build/wasm/web' };
    const files = fetched.size ? [...fetched].filter((f) => existsSync(f))
        // A page loads one core build, never both: the threaded one (cairn-core-mt.*) is left out of this fallback.
        : readdirRecursive(dir).filter((f) => /\.(wasm|js|mjs|html|data)$/.test(f) && !/cairn-core-mt\./.test(f));
    const r = { files: files.map((f) => path.relative(dir, f)), raw: 0, gzip: 0, brotli: 0, wasm_gzip: 0 };
    for (const f of files) {
        const b = readFileSync(f);
        const gz = zlib.gzipSync(b, { level: 9 }).length;
        r.raw += b.length; r.gzip += gz;
        r.brotli += zlib.brotliCompressSync(b, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
        if (f.endsWith('.wasm')) r.wasm_gzip += gz;
    }
    return r;
}
function readdirRecursive(dir) {
    return readdirSync(dir).flatMap((e) => {
        const f = path.join(dir, e);
        return statSync(f).isDirectory() ? readdirRecursive(f) : [f];
    });
}

//-----------------------------------------------------------------------------
// [SECTION] Rounds
//-----------------------------------------------------------------------------

const samples = {};  // id -> workload -> metric -> [values]
const sampleRounds = {};  // the same shape: the round each value was measured in
const errors = {};   // id -> workload -> message (last seen)
const infos = {};
const steal = sampleSteal();
function record(c, res, round) {
    if (res.error) { (errors[c.id] ??= {}).run = res.error; return; }
    infos[c.id] = res.info;
    for (const w of ['W1', 'W2', 'W3', 'GEMM', 'START', 'CORES']) {
        const r = res[w];
        if (!r) continue;
        if (r.error) { (errors[c.id] ??= {})[w] = r.error; continue; }
        if (Array.isArray(r.window_ms)) r.steal = steal.during(...r.window_ms);  // a timed epoch
        for (const [k, v] of Object.entries(r)) {
            if (typeof v !== 'number') continue;
            (((samples[c.id] ??= {})[w] ??= {})[k] ??= []).push(v);
            (((sampleRounds[c.id] ??= {})[w] ??= {})[k] ??= []).push(round);
        }
    }
}

const t0 = Date.now();
const startup = !only || only.test('cairn/chromium/startup');
const needBrowser = startup || configs.some((c) => c.engine === 'chromium');
const server = await serveStatic(root, { mounts: { '/data/': dataDir } });
base = server.url;
if (needBrowser) await openBrowser();
console.error(`bench: ${configs.length} configurations x ${rounds} rounds${quick ? ' (quick)' : ''}` +
    (missing.length ? `; not built: ${missing.map((c) => c.id).join(', ')}` : ''));
for (let r = 1; r <= rounds; ++r) {
    for (const c of configs) {
        const s = Date.now();
        const res = c.engine === 'native' ? await runNative(c) : c.engine === 'node' ? await runNode(c) : await runChromium(c, r);
        if (c.pair) c.pair.forEach((x, i) => record(x, Array.isArray(res) ? res[i] : res, r));
        else record(c, res, r);
        console.error(`  round ${r} ${c.id.padEnd(22)} ${((Date.now() - s) / 1000).toFixed(1).padStart(6)} s ${res.error ? 'ERROR ' + res.error : ''}`);
    }
    if (startup) record({ id: 'cairn/chromium/startup' }, { START: await runStartup() }, r);
}
if (browser) { await browser.close(); rmSync(profileDir, { recursive: true, force: true }); }
await server.close();
steal.stop();
// Without the start-up run (filtered out), nothing says which files the page loads: not measured.
const download = startup ? downloadSize() : { error: 'start-up not run' };
// The engine alone (core + training, no dashboard, no Embind): a lower bound for the page's wasm download.
const engineWasm = cairnWeb.replace(/\.js$/, '.wasm');
const engine = existsSync(engineWasm) ? { raw: statSync(engineWasm).size, gzip: zlib.gzipSync(readFileSync(engineWasm), { level: 9 }).length } : null;

//-----------------------------------------------------------------------------
// [SECTION] Report
//-----------------------------------------------------------------------------

const med = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const get = (id, w, k) => samples[id]?.[w]?.[k];
// A measured series for a ratio: its median over the run, and its value in each round.
const S = (id, w, k) => {
    const v = get(id, w, k) ?? [], r = sampleRounds[id]?.[w]?.[k] ?? [];
    return { median: v.length ? med(v) : NaN, byRound: new Map(r.map((round, i) => [round, v[i]])) };
};
const K = (value) => ({ median: value, byRound: null });  // a constant or a once-per-run figure
const fmt = (v, k) => (!Number.isFinite(v) ? '—' : k === 'train_accuracy' || k === 'fraction' || k === 'steal' ? (100 * v).toFixed(1) + '%'
    : twoThreadRatios.has(k) ? v.toFixed(2) : v >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const units = { samples_per_s: 'samples/s', b1_us: 'µs (batch 1)', b256_samples_per_s: 'samples/s (batch 256)',
    settled_samples_per_s: 'samples/s (epoch after the timed one)', train_accuracy: 'train accuracy',
    peak_gflops: 'GFLOP/s SIMD peak', gemm_gflops: 'GFLOP/s GEMM 64x784x256',
    fraction: 'of peak', first_frame_ms: 'ms to first frame', arithmetic: '2t / 1t: SIMD mul+add, one loop per thread',
    products: '2t / 1t: 64x128x784 products, one per thread', gemm: '2t / 1t: 64x256x784 through the pool',
    updates: '2t / 1t: Adam updates of 235k parameters, one per thread',
    w1_steps: '2t / 1t: W1 steps in the same blocks', steal: 'vCPU time taken by the hypervisor (timed epoch)' };
const twoThreadRatios = new Set(Object.keys(units).filter((k) => units[k].startsWith('2t / 1t')));  // cores.mjs's figures
const rows = [];
for (const [id, ws] of Object.entries(samples)) {
    for (const [w, ks] of Object.entries(ws)) {
        for (const [k, v] of Object.entries(ks)) {
            if (!units[k]) continue;
            rows.push({ id, workload: w, metric: k, unit: units[k], median: med(v), min: Math.min(...v), max: Math.max(...v), n: v.length });
        }
    }
}
for (const [id, ws] of Object.entries(errors)) for (const [w, e] of Object.entries(ws)) rows.push({ id, workload: w, error: e });

// The targets of the performance issue. Each is the median of its per-round ratios: the rounds interleave the two
// sides (A B A B …), so a round's ratio compares measurements taken minutes apart, and W1's Chromium 2t / 1t pair
// seconds apart in one page, while the machine's speed moves between rounds; a ratio of the two sides' medians
// would compare one round's A with another round's B. That ratio of medians is reported too (of_medians), with the
// per-round spread and the number of rounds that alone would have met the goal.
const ratio = (name, a, b, target, higher = true) => {
    const ofMedians = a.median / b.median;
    const meets = (x) => (higher ? x >= target : x <= target);
    const perRound = [];
    for (const [round, x] of a.byRound ?? []) {
        const y = b.byRound ? b.byRound.get(round) : b.median;
        if (y !== undefined && Number.isFinite(x / y)) perRound.push(x / y);
    }
    const v = perRound.length ? med(perRound) : ofMedians;
    return { name, value: v, of_medians: ofMedians, target, pass: Number.isFinite(v) ? meets(v) : null, higher,
             per_round: perRound, rounds_met: Number.isFinite(target) ? perRound.filter(meets).length : null };
};
const ratios = [
    ratio('W1 Chromium 1t: Cairn / TF.js wasm', S('cairn/chromium/1t', 'W1', 'samples_per_s'), S('tfjs-wasm/chromium/1t', 'W1', 'samples_per_s'), 2.0),
    ratio('W1 Chromium: Cairn 2t / Cairn 1t', S('cairn/chromium/2t', 'W1', 'samples_per_s'), S('cairn/chromium/1t', 'W1', 'samples_per_s'), 1.6),
    ratio('W2 Chromium b1 latency: Cairn 1t / ORT Web 1t', S('cairn/chromium/1t', 'W2', 'b1_us'), S('ort/chromium/1t', 'W2', 'b1_us'), 0.5, false),
    ratio('W2 Chromium b256: Cairn 1t / ORT Web 1t', S('cairn/chromium/1t', 'W2', 'b256_samples_per_s'), S('ort/chromium/1t', 'W2', 'b256_samples_per_s'), 1.2),
    ratio('W2 Chromium b256: Cairn 2t / ORT Web 2t', S('cairn/chromium/2t', 'W2', 'b256_samples_per_s'), S('ort/chromium/2t', 'W2', 'b256_samples_per_s'), 1.2),
    ratio('W3 Chromium: Cairn / TF.js cpu (wasm cannot train conv)', S('cairn/chromium/1t', 'W3', 'samples_per_s'), S('tfjs-cpu/chromium/1t', 'W3', 'samples_per_s'), 2.0),
    ratio('GEMM 64x784x256 Chromium: fraction of SIMD128 peak', S('cairn/chromium/1t', 'GEMM', 'fraction'), K(1), 0.75),
    ratio('W1 native 1t: Cairn / PyTorch', S('cairn/native/1t', 'W1', 'samples_per_s'), S('torch/native/1t', 'W1', 'samples_per_s'), 1.0),
    ratio('W1 native 2t: Cairn / PyTorch', S('cairn/native/2t', 'W1', 'samples_per_s'), S('torch/native/2t', 'W1', 'samples_per_s'), 1.0),
    ratio('Start-up: first dashboard frame (ms)', S('cairn/chromium/startup', 'START', 'first_frame_ms'), K(1), 1000, false),
    ratio('Download: wasm gzip -9 (MB)', K(download.wasm_gzip ? download.wasm_gzip / 1e6 : NaN), K(1), 2.0, false),
    // Context only (no target): the same comparisons under Node, TF.js threaded, and the 2t/1t ratios elsewhere.
    ratio('(info) W1 Node 1t: Cairn / TF.js wasm', S('cairn/node/1t', 'W1', 'samples_per_s'), S('tfjs-wasm/node/1t', 'W1', 'samples_per_s'), NaN),
    ratio('(info) W2 Node b1: Cairn / ORT Web 1t', S('cairn/node/1t', 'W2', 'b1_us'), S('ort/node/1t', 'W2', 'b1_us'), NaN, false),
    // TF.js's threaded wasm variant, where it runs 2 threads (on 2 cores it chooses 1, and the row stays empty).
    ratio('(info) W1 Chromium 2t: Cairn / TF.js wasm', S('cairn/chromium/2t', 'W1', 'samples_per_s'), S('tfjs-wasm/chromium/2t', 'W1', 'samples_per_s'), NaN),
    ratio('(info) W1 Chromium, epoch after the timed one: Cairn 2t / Cairn 1t', S('cairn/chromium/2t', 'W1', 'settled_samples_per_s'), S('cairn/chromium/1t', 'W1', 'settled_samples_per_s'), NaN),
    ratio('(info) W1 Node: Cairn 2t / Cairn 1t', S('cairn/node/2t', 'W1', 'samples_per_s'), S('cairn/node/1t', 'W1', 'samples_per_s'), NaN),
    ratio('(info) W1 native: Cairn 2t / Cairn 1t', S('cairn/native/2t', 'W1', 'samples_per_s'), S('cairn/native/1t', 'W1', 'samples_per_s'), NaN),
    // The machine's own 2t / 1t on work that shares nothing: a ceiling the W1 ratios cannot be expected to pass.
    ratio('(info) machine, Node: 2 independent products at once / 1 alone', S('machine/node/2t', 'CORES', 'products'), K(1), NaN),
    ratio('(info) W2 Chromium b256: Cairn 2t / Cairn 1t', S('cairn/chromium/2t', 'W2', 'b256_samples_per_s'), S('cairn/chromium/1t', 'W2', 'b256_samples_per_s'), NaN),
    ratio('(info) W2 native b1: Cairn 1t / XNNPACK 1t', S('cairn/native/1t', 'W2', 'b1_us'), S('xnnpack/native/1t', 'W2', 'b1_us'), NaN, false),
];

const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, load_at_end: os.loadavg().map((v) => v.toFixed(2)).join(' '),
    node: process.version, date: new Date().toISOString(), quick, rounds, minutes: ((Date.now() - t0) / 60000).toFixed(1) };
const lines = [];
lines.push(`Cairn benchmarks — ${machine.cpu}, ${machine.cores} cores, load ${machine.load_at_end}, ${machine.date}, ${rounds} round(s)` +
    `${quick ? ', QUICK' : ''}, Chromium peers ${inWorker ? 'each in a dedicated worker' : 'on the page thread'}`);
lines.push('');
lines.push('| configuration | workload | metric | median | min–max | n |');
lines.push('| --- | --- | --- | ---: | ---: | ---: |');
for (const r of rows.filter((r) => !r.error).sort((a, b) => (a.workload + a.metric + a.id).localeCompare(b.workload + b.metric + b.id))) {
    lines.push(`| ${r.id} | ${r.workload} | ${r.unit} | ${fmt(r.median, r.metric)} | ${fmt(r.min, r.metric)}–${fmt(r.max, r.metric)} | ${r.n} |`);
}
lines.push('');
lines.push('| target | measured (median of rounds) | ratio of medians | per round | goal | status |');
lines.push('| --- | ---: | ---: | ---: | ---: | --- |');
for (const r of ratios) {
    const goal = Number.isFinite(r.target) ? `${r.higher ? '≥' : '≤'} ${r.target}` : '';
    const status = r.pass === null ? 'not measured' : !Number.isFinite(r.target) ? '' : r.pass ? 'met' : 'NOT met';
    const pr = r.per_round;
    const spread = pr.length < 2 ? '' : `${Math.min(...pr).toFixed(2)}–${Math.max(...pr).toFixed(2)}` +
        (r.rounds_met === null ? '' : ` (${r.rounds_met} of ${pr.length} met)`);
    const num = (v) => (Number.isFinite(v) ? v.toFixed(2) : '—');
    lines.push(`| ${r.name} | ${num(r.value)} | ${num(r.of_medians)} | ${spread} | ${goal} | ${status} |`);
}
// W1's Chromium pair round by round, with the share of the vCPUs' time the hypervisor took during each epoch
// (steal.mjs): what a round whose 2t / 1t falls short had to work with.
const byRound = (id, k) => S(id, 'W1', k).byRound;
const [one, two] = ['cairn/chromium/1t', 'cairn/chromium/2t'].map((id) => ({ rate: byRound(id, 'samples_per_s'),
    steal: byRound(id, 'steal'), order: byRound(id, 'order') }));
if (one.rate.size && two.rate.size) {
    lines.push('', '| W1 Chromium pair, round | first | 1t samples/s | 2t samples/s | 2t / 1t | steal in 1t epoch | steal in 2t epoch |',
        '| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const [round, a] of one.rate) {
        const b = two.rate.get(round);
        if (b === undefined) continue;
        const first = one.order.get(round) === 1 ? '1t' : two.order.get(round) === 1 ? '2t' : '';
        lines.push(`| ${round} | ${first} | ${fmt(a)} | ${fmt(b)} | ${(b / a).toFixed(2)} | ${fmt(one.steal.get(round), 'steal')} | ${fmt(two.steal.get(round), 'steal')} |`);
    }
}
const errs = rows.filter((r) => r.error);
if (errs.length || missing.length) lines.push('');
for (const r of errs) lines.push(`- ${r.id} ${r.workload}: ${r.error}`);
for (const c of missing) lines.push(`- ${c.id}: not built (${path.relative(root, c.needs)})`);
if (download.raw) lines.push(`- page download (${download.files.join(', ')}): ${(download.raw / 1e6).toFixed(2)} MB raw, ${(download.gzip / 1e6).toFixed(2)} MB gzip, ${(download.brotli / 1e6).toFixed(2)} MB brotli`);
if (engine) lines.push(`- engine wasm alone (${path.relative(root, engineWasm)}): ${(engine.raw / 1e6).toFixed(2)} MB raw, ${(engine.gzip / 1e6).toFixed(2)} MB gzip -9`);
const tfCpu = samples['tfjs-cpu/chromium/1t']?.W3?.samples;
if (tfCpu) lines.push(`- TF.js cpu W3 is capped at ${tfjsCpuCap} s per run (${Math.round(med(tfCpu))} of ${quick ? 640 : 10000} samples); its rate is steady per batch.`);
console.log(lines.join('\n'));

mkdirSync(path.dirname(outJson), { recursive: true });
writeFileSync(outJson, JSON.stringify({ machine, rows, ratios, infos, download, engine, samples, sample_rounds: sampleRounds, table: lines.join('\n') }, null, 2));
console.error(`bench: wrote ${path.relative(root, outJson)}`);
