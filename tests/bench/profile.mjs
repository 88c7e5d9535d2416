// Where Cairn's wasm time goes: runs one workload of the JS-driven wasm module under `node --cpu-prof` and prints
// the functions by self time (wasm names come from --profiling-funcs, see CMakeLists.txt). Findings: PROFILE.md.
//   node tests/bench/profile.mjs [W1|W2|W3] [--quick]      (needs build/wasm/tests/bench/cairn_bench_web.js)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const workload = process.argv.find((a) => /^W[123]$/.test(a)) || 'W1';
const quick = process.argv.includes('--quick');
const module = path.resolve(root, process.env.CAIRN_WASM_BUILD || 'build/wasm', 'tests/bench/cairn_bench_web.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'cairn-prof-'));
const run = spawnSync(process.execPath, ['--no-experimental-fetch', '--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', dir,
    path.join(here, 'node_peer.mjs'), '--peer', 'cairn', '--threads', '1', '--workloads', workload, '--module', module,
    ...(quick ? ['--quick'] : [])], { cwd: root, encoding: 'utf8' });
if (run.status !== 0) { console.error(run.stderr); process.exit(1); }
console.log(run.stdout.trim());

const prof = JSON.parse(readFileSync(path.join(dir, readdirSync(dir)[0]), 'utf8'));
rmSync(dir, { recursive: true, force: true });
// Self time per node from the sample stream, folded by function name.
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const self = new Map();
let total = 0;
prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] || 0, n = byId.get(id);
    const name = n.callFrame.functionName || `(${n.callFrame.url ? path.basename(n.callFrame.url) : 'anonymous'})`;
    self.set(name, (self.get(name) || 0) + dt);
    total += dt;
});
// Inclusive time of Cairn's own functions (layer forward/backward, optimizer, loss): the step's structure.
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
const incl = new Map();
prof.samples.forEach((id, i) => {
    const seen = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
        const f = byId.get(n).callFrame.functionName;
        if (f.startsWith('cairn::') && !seen.has(f)) { seen.add(f); incl.set(f, (incl.get(f) || 0) + (prof.timeDeltas[i] || 0)); }
    }
});
// memset / memcpy / malloc are anonymous work: charge them to the nearest Cairn caller.
const clean = (f) => f.replaceAll('(anonymous namespace)', '{anon}').replace(/\(.*$/, '');
const libc = new Map();
prof.samples.forEach((id, i) => {
    const leaf = byId.get(id).callFrame.functionName;
    if (!/^(memset|__memcpy|_emscripten_memcpy_big|dlmalloc|dlfree)$/.test(leaf)) return;
    let n = parent.get(id);
    while (n !== undefined && !byId.get(n).callFrame.functionName.startsWith('cairn::')) n = parent.get(n);
    const key = `${leaf} <- ${n === undefined ? '?' : clean(byId.get(n).callFrame.functionName)}`;
    libc.set(key, (libc.get(key) || 0) + (prof.timeDeltas[i] || 0));
});
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30);
console.log(`\nself time, ${workload}${quick ? ' (quick)' : ''}, total ${(total / 1e6).toFixed(2)} s sampled (includes data loading)`);
for (const [name, us] of rows) console.log(`${(100 * us / total).toFixed(1).padStart(6)}%  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${name.slice(0, 110)}`);
console.log(`\ninclusive time of cairn:: functions`);
for (const [name, us] of [...incl.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    console.log(`${(100 * us / total).toFixed(1).padStart(6)}%  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${clean(name).slice(0, 110)}`);
}
console.log(`\nmemset / memcpy / malloc by nearest Cairn caller`);
for (const [name, us] of [...libc.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(`${(100 * us / total).toFixed(1).padStart(6)}%  ${(us / 1e3).toFixed(0).padStart(7)} ms  ${name.slice(0, 110)}`);
}

// The same work taken apart with direct timers (cb_step_part_us): for W1 and W3 a training step (GEMMs by shape,
// Adam, the whole step), for W2 a batch-1 forward pass (each layer's product, the whole pass).
const pieces = workload === 'W2' ? 'B1' : 'STEP';
const parts = spawnSync(process.execPath, ['--no-experimental-fetch', path.join(here, 'node_peer.mjs'), '--peer', 'cairn',
    '--threads', '1', '--workloads', pieces, '--module', module, '--quick'], { cwd: root, encoding: 'utf8' });
const line = parts.stdout.split('\n').find((l) => l.startsWith('RESULT '));
if (line && pieces === 'B1') {
    const b1 = JSON.parse(line.slice(7)).B1;
    const whole = b1['whole forward'].us;
    let sum = 0;
    console.log(`\none W2 forward pass at batch 1, piece by piece, best of 50 after tier-up:`);
    for (const [name, r] of Object.entries(b1)) {
        if (name !== 'whole forward') sum += r.us;
        console.log(`${r.us.toFixed(2).padStart(8)} µs  ${name}${r.gflops ? `  ${r.gflops.toFixed(1)} GFLOP/s` : ''}`);
    }
    console.log(`${(whole - sum).toFixed(2).padStart(8)} µs  rest (layer calls, tensor allocation, shape checks)`);
} else if (line) {
    const st = JSON.parse(line.slice(7)).STEP;
    const whole = st['whole step'].us;
    let sum = 0;
    console.log(`\none W1 step (batch 64) piece by piece, best of 5 after tier-up:`);
    for (const [name, r] of Object.entries(st)) {
        if (name !== 'whole step') sum += r.us;
        console.log(`${r.us.toFixed(0).padStart(7)} µs ${(100 * r.us / whole).toFixed(1).padStart(5)}%  ${name}${r.gflops ? `  ${r.gflops.toFixed(1)} GFLOP/s` : ''}`);
    }
    console.log(`${(whole - sum).toFixed(0).padStart(7)} µs ${(100 * (whole - sum) / whole).toFixed(1).padStart(5)}%  rest (activations, loss, bias sums, grad norm, allocation, copies)`);
}
