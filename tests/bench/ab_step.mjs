// Compares W1 training steps of two or more builds of the benchmark module in one Node process, interleaved: on a
// shared VM, separate runs minutes apart differ by more than most changes do (PROFILE.md).
//   node tests/bench/ab_step.mjs [--threads N] [--rounds R] [--steps S] A/cairn_bench_web_mt.js B/cairn_bench_web_mt.js
// Each module loads Fashion-MNIST and warms up 300 steps; then blocks of S steps alternate between the modules R
// times (the order rotates each round). Prints each module's step-time percentiles in ms.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { endlessW1Steps, loadCairn, loadFashion } from './workloads.mjs';

const argv = process.argv.slice(2), opt = (name, dflt) => {
    const i = argv.indexOf(name);
    return i < 0 ? dflt : Number(argv.splice(i, 2)[1]);
};
const threads = opt('--threads', 2), rounds = opt('--rounds', 30), steps = opt('--steps', 50);
const modules = argv.map((m) => path.resolve(m));
if (modules.length < 2) throw new Error('usage: ab_step.mjs [--threads N] [--rounds R] [--steps S] A.js B.js [...]');
const dir = process.env.CAIRN_FASHION_DIR || '/usr/share/datasets/fashion-mnist';
const d = await loadFashion((name) => readFileSync(path.join(dir, name)), false);

const runs = [];
for (const file of modules) {
    const factory = createRequire(file)(file);
    const M = await factory({ wasmBinary: readFileSync(file.replace(/\.js$/, '.wasm')) });
    const error = loadCairn(M, d, threads);
    if (error) throw new Error(`${file}: ${error}`);
    const step = endlessW1Steps(M);
    for (let i = 0; i < 300; ++i) step();
    runs.push({ file, step, ms: [] });
}
for (let r = 0; r < rounds; ++r) {
    for (let k = 0; k < runs.length; ++k) {
        const run = runs[(k + r) % runs.length];
        let prev = performance.now();
        for (let i = 0; i < steps; ++i) { run.step(); const t = performance.now(); run.ms.push(t - prev); prev = t; }
    }
}
for (const { file, ms } of runs) {
    const s = [...ms].sort((a, b) => a - b), q = (p) => s[Math.floor(p * (s.length - 1))].toFixed(3);
    console.log(`${path.relative(process.cwd(), file)}: p10 ${q(0.1)}  median ${q(0.5)}  p90 ${q(0.9)} ms per step`);
}
process.exit(0);
