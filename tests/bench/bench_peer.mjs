// One peer's benchmark run in the Chromium page (bench.html) or in a dedicated worker (bench_worker.js): the same
// code in both, only the way a classic script is loaded differs.
import { loadFashion, runTfjs, runOrt, runCairn, loadCairn, cairnTraining } from './workloads.mjs';

const nm = '/tests/node_modules/';
const bytes = async (url) => {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return new Uint8Array(await r.arrayBuffer());
};

// cfg: { peer, threads, workloads, quick, onnx (URL), module (URL of the Emscripten factory), maxSeconds }
// loadScript(url): runs a classic script in this global scope (a <script> tag on the page, importScripts in a worker).
export async function runPeer(cfg, loadScript) {
    const d = await loadFashion((name) => bytes('/data/' + name), cfg.quick);
    const info = hostInfo();
    let out;
    if (cfg.peer === 'tfjs-wasm' || cfg.peer === 'tfjs-cpu') {
        await loadScript(nm + '@tensorflow/tfjs/dist/tf.min.js');
        if (cfg.peer === 'tfjs-wasm') await loadScript(nm + '@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js');
        out = await runTfjs(self.tf, d, { backend: cfg.peer.slice(5), threads: cfg.threads, workloads: cfg.workloads,
            quick: cfg.quick, maxSeconds: cfg.maxSeconds ?? Infinity,
            wasmPaths: nm + '@tensorflow/tfjs-backend-wasm/dist/' });
    } else if (cfg.peer === 'ort') {
        const ort = await import(nm + 'onnxruntime-web/dist/ort.wasm.min.mjs');
        out = await runOrt(ort, d, { onnx: await bytes(cfg.onnx), threads: cfg.threads, quick: cfg.quick,
            wasmPaths: nm + 'onnxruntime-web/dist/' });
    } else if (cfg.peer === 'cairn') {
        out = await runCairn(await cairnModule(cfg, loadScript), d, { workloads: cfg.workloads, quick: cfg.quick, threads: cfg.threads });
    } else {
        throw new Error(`unknown peer ${cfg.peer}`);
    }
    out.info = { ...out.info, ...info };
    return out;
}

// Where a peer ran: the page's isolation and thread (the page's own, or a worker).
function hostInfo() {
    return { crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency,
             thread: typeof window === 'undefined' ? 'worker' : 'page' };
}

async function cairnModule(cfg, loadScript) {
    const url = new URL(cfg.module, self.location.href).href;
    await loadScript(url);
    // The factory looks for its .wasm and .worker.js next to the script that runs it, which in a worker is the
    // worker's own script: name the module's place explicitly.
    return self.CairnBench({ mainScriptUrlOrBlob: url, locateFile: (f) => new URL(f, url).href });
}

// Cairn's W1 in phases (warmup, epoch, settled: cairnTraining in workloads.mjs) for a caller that interleaves two
// modules' epochs; `info` as runPeer's.
export async function openCairnW1(cfg, loadScript) {
    const d = await loadFashion((name) => bytes('/data/' + name), cfg.quick);
    const M = await cairnModule(cfg, loadScript);
    const error = loadCairn(M, d, cfg.threads);
    if (error) throw new Error(error);
    const info = { threads: cfg.threads, ...hostInfo(), paired: true };
    return { ...cairnTraining(M, 1, cfg.quick), info: () => info };
}
