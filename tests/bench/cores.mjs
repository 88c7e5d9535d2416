// What this machine's second core adds, for W1 and for work that shares nothing (PROFILE.md, "the machine's two
// cores"). On a shared VM W1's 2-thread / 1-thread ratio moves from run to run; this separates the machine from the
// code: if two independent products, one per core, do not run twice as fast as one, no split of W1 can.
//   node tests/bench/cores.mjs [--blocks N] [--verbose] [--module M.js]   (default build/wasm/tests/bench/cairn_bench_web_mt.js)
// Each block measures, back to back and in an order that rotates, with medians over the block:
//   arithmetic  the SIMD128 mul+add loop on each of two threads at once / on one alone (FLOP/s, summed)
//   products    64x128x784 on each of two threads at once, each on its own operands / one alone (2 x time alone / time)
//   GEMM        64x256x784 through the kernel table: 1 thread / 2 threads (time)
//   Adam updates  235,146 parameters on each of two threads at once, each on its own arrays / one alone (as products)
//   W1 steps    200 W1 training steps: 1 thread / 2 threads (time), the module warmed up 1,500 steps first
// and prints each ratio's spread over the blocks. On a machine whose two cores are its own, all of them are near 2
// (W1 steps ~1.85: its serial parts). tests/bench/run.sh runs it in every round and reports the medians (a line
// `RESULT {"CORES": {...}}`, as node_peer.mjs prints its workloads).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { endlessW1Steps, loadCairn, loadFashion } from './workloads.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const blocksArg = argv.indexOf('--blocks');
const blocks = blocksArg < 0 ? 40 : Number(argv[blocksArg + 1]);
const verbose = argv.includes('--verbose');
const moduleArg = argv.indexOf('--module');
const file = moduleArg >= 0 ? path.resolve(argv[moduleArg + 1])
    : path.resolve(root, process.env.CAIRN_WASM_BUILD || 'build/wasm', 'tests/bench/cairn_bench_web_mt.js');
const dir = process.env.CAIRN_FASHION_DIR || '/usr/share/datasets/fashion-mnist';

const M = await createRequire(file)(file)({ wasmBinary: readFileSync(file.replace(/\.js$/, '.wasm')) });
const error = loadCairn(M, await loadFashion((name) => readFileSync(path.join(dir, name)), false), 2);
if (error) throw new Error(error);
const step = endlessW1Steps(M);
for (let i = 0; i < 1500; ++i) step();

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };
const timed = (fn) => { const t = performance.now(); fn(); return performance.now() - t; };
const probe = (threads, p, n) => { M._cb_threads(threads); return median(Array.from({ length: n }, () => M._cb_cores_probe(p))); };
const w1 = (threads) => { M._cb_threads(threads); return timed(() => { for (let i = 0; i < 200; ++i) step(); }); };
const measures = {  // name: [key in the RESULT line, measure]
    arithmetic: ['arithmetic', () => probe(2, 1, 5) / probe(1, 0, 5)],
    products: ['products', () => 2 * probe(1, 2, 20) / probe(2, 3, 20)],
    GEMM: ['gemm', () => probe(1, 4, 20) / probe(2, 4, 20)],
    'Adam updates': ['updates', () => 2 * probe(1, 5, 20) / probe(2, 6, 20)],
    'W1 steps': ['w1_steps', () => w1(1) / w1(2)],
};
for (let i = 0; i < 10; ++i) for (const [alone, both] of [[0, 1], [2, 3], [4, 4], [5, 6]]) probe(1, alone, 1), probe(2, both, 1);  // tier-up

const names = Object.keys(measures), ratios = Object.fromEntries(names.map((n) => [n, []]));
for (let b = 0; b < blocks; ++b) {
    for (let k = 0; k < names.length; ++k) {
        const name = names[(k + b) % names.length];
        ratios[name].push(measures[name][1]());
    }
    if (verbose) console.log(`block ${b + 1}: ${names.map((n) => `${n} ${ratios[n].at(-1).toFixed(2)}`).join('  ')}`);
}
const quantile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.round(p * (xs.length - 1))];
console.log(`2 threads / 1 thread over ${blocks} blocks       min   p10  median   p90   max`);
for (const n of names) {
    const r = ratios[n];
    console.log(`${n.padEnd(40)} ${[0, 0.1, 0.5, 0.9, 1].map((p) => quantile(r, p).toFixed(2).padStart(5)).join(' ')}`);
}
console.log(`RESULT ${JSON.stringify({ CORES: Object.fromEntries(names.map((n) => [measures[n][0], quantile(ratios[n], 0.5)])) })}`);
process.exit(0);
