// Runs one JavaScript peer in Node and prints one line `RESULT {json}`. Used by runner.mjs, one process per run so
// peers never share a heap or a warmed-up JIT.
//   node tests/bench/node_peer.mjs --peer tfjs-wasm|tfjs-cpu|ort|cairn --threads N --workloads W1,W2,W3 [--quick]
//        [--onnx FILE] [--module build/wasm/tests/bench/cairn_bench_web.js]
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadFashion, runTfjs, runOrt, runCairn } from './workloads.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'package.json'));
const args = Object.fromEntries(process.argv.slice(2).join(' ').split('--').filter(Boolean).map((s) => {
    const [k, ...v] = s.trim().split(' ');
    return [k, v.length ? v.join(' ') : true];
}));
const quick = !!args.quick, threads = Number(args.threads || 1);
const workloads = String(args.workloads || 'W1,W2,W3').split(',');
const dataDir = process.env.CAIRN_FASHION_DIR || '/usr/share/datasets/fashion-mnist';
const d = await loadFashion((name) => readFile(path.join(dataDir, name)), quick);

let out;
if (args.peer === 'tfjs-wasm' || args.peer === 'tfjs-cpu') {
    const silence = console.log; console.log = () => {};  // TF.js advertises tfjs-node on import
    const tf = require('@tensorflow/tfjs');
    console.log = silence;
    if (args.peer === 'tfjs-wasm') tf.wasm = require('@tensorflow/tfjs-backend-wasm');
    out = await runTfjs(tf, d, { backend: args.peer.slice(5), threads, workloads, quick,
                             maxSeconds: args['max-seconds'] ? Number(args['max-seconds']) : Infinity });
} else if (args.peer === 'ort') {
    const ort = require('onnxruntime-web');
    out = await runOrt(ort, d, { onnx: new Uint8Array(await readFile(args.onnx)), threads, quick });
} else if (args.peer === 'cairn') {
    const factory = require(path.resolve(args.module));
    const M = await factory({ wasmBinary: await readFile(path.resolve(args.module).replace(/\.js$/, '.wasm')) });
    out = await runCairn(M, d, { workloads, quick, threads });
} else {
    throw new Error(`--peer must be tfjs-wasm, tfjs-cpu, ort or cairn, got ${args.peer}`);
}
process.stdout.write('RESULT ' + JSON.stringify(out) + '\n');
process.exit(0);
