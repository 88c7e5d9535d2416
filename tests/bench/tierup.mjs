// When V8 compiles Cairn's wasm in Chromium: runs W1's step loop (300 warm-up steps, then whole epochs, as the
// benchmark does) in a worker of a cross-origin isolated page, with V8 tracing every compilation, and prints the
// TurboFan tier-ups of each phase with the C++ function names (from the module's name section). PROFILE.md,
// "2026-11-28 (second)", explains why it matters: a tier-up during a timed 2-thread epoch takes its CPU from our threads.
// With --loads N the page is loaded N times in one browser profile, as the benchmark's rounds are, and Chromium's own
// counters say whether a load found the module's compiled code in its code cache ("2026-12-08: the code cache").
//   node tests/bench/tierup.mjs [--threads N] [--warmup STEPS] [--epochs E] [--loads N] [--js-flags "..."]
//   (needs tests/bench/run.sh built once)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../static_server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const require = createRequire(path.join(root, 'tests', 'package.json'));
const argv = process.argv.slice(2), opt = (name, dflt) => { const i = argv.indexOf(name); return i < 0 ? dflt : Number(argv[i + 1]); };
const threads = opt('--threads', 2), warmup = opt('--warmup', 300), epochs = opt('--epochs', 2), loads = opt('--loads', 1);
const extraJsFlags = argv.includes('--js-flags') ? argv[argv.indexOf('--js-flags') + 1] : '';
const wasmBuild = path.resolve(root, process.env.CAIRN_WASM_BUILD || 'build/wasm');
const moduleFile = path.join(wasmBuild, 'tests/bench', threads > 1 ? 'cairn_bench_web_mt.js' : 'cairn_bench_web.js');

// Function index -> name, from the "name" custom section (the module is linked with --profiling-funcs).
function functionNames(wasm) {
    let i = 8;
    const leb = () => { let r = 0, s = 0, b; do { b = wasm[i++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
    const text = (n) => new TextDecoder().decode(wasm.subarray(i, (i += n)));
    const names = new Map();
    while (i < wasm.length) {
        const id = wasm[i++], end = leb() + i;
        if (id === 0 && text(leb()) === 'name') {
            while (i < end) {
                const sub = wasm[i++], subEnd = leb() + i;
                if (sub === 1) for (let n = leb(); n > 0; --n) { const idx = leb(); names.set(idx, text(leb())); }
                i = subEnd;
            }
        }
        i = end;
    }
    return names;
}
const names = functionNames(readFileSync(moduleFile.replace(/\.js$/, '.wasm')));

const dataDir = process.env.CAIRN_FASHION_DIR || '/usr/share/datasets/fashion-mnist';
const server = await serveStatic(root, { mounts: { '/data/': dataDir } });
const base = server.url;
// Chromium is started here, not by playwright, to read the renderer's stdout, where V8 prints its trace; stdbuf
// keeps that stream unbuffered so each line arrives in the phase it belongs to.
const profile = mkdtempSync(path.join(os.tmpdir(), 'cairn-tierup-'));
const chrome = spawn('/usr/bin/chromium', ['--headless', '--no-sandbox', '--remote-debugging-port=0', `--user-data-dir=${profile}`,
    '--disable-background-networking', '--disable-component-update', '--no-first-run', `--js-flags=--trace-wasm-compilation-times ${extraJsFlags}`, 'about:blank'],
    { env: { ...process.env, LD_PRELOAD: '/usr/libexec/coreutils/libstdbuf.so', _STDBUF_O: '0' }, stdio: ['ignore', 'pipe', 'pipe'] });
const endpoint = await new Promise((ok) => { let e = ''; chrome.stderr.on('data', (b) => { e += b; const m = e.match(/ws:\/\/\S+/); if (m) ok(m[0]); }); });
const loadTag = (load) => (loads > 1 ? ` (load ${load})` : '');
let phase = `load${loadTag(1)}`, rest = '';
const phases = new Map([[phase, { compiles: [] }]]);
chrome.stdout.on('data', (b) => {
    const lines = (rest + b).split('\n');
    rest = lines.pop();
    for (const l of lines) {
        const m = l.match(/#(\d+) using TurboFan, took (\d+) (μs|ms)/);
        if (m) phases.get(phase).compiles.push({ name: names.get(Number(m[1])) ?? `#${m[1]}`, ms: Number(m[2]) / (m[3] === 'ms' ? 1 : 1000) });
    }
});

const { chromium } = require('playwright-core');
// Chromium's histograms of the renderers (chrome://histograms with its subprocesses included): V8.WasmCodeCaching
// records a sample per streaming compilation, 0 for a miss and 1 for a hit; V8.WasmSerializationTimeMilliSeconds a
// sample each time V8 handed the module's code over to be cached.
async function wasmCacheCounters(context) {
    const page = await context.newPage();
    await page.goto('chrome://histograms/');
    await page.waitForSelector('input[type=checkbox]');
    await page.evaluate(() => document.querySelectorAll('input[type=checkbox]').forEach((c) => { if (!c.checked) c.click(); }));
    await page.reload();  // the page lists what the processes had reported when it was loaded
    await new Promise((ok) => setTimeout(ok, 3000));  // the renderers report their histograms asynchronously
    const text = await page.evaluate(() => document.body.innerText);
    await page.close();
    const counter = (name) => {
        const m = text.match(new RegExp(`Histogram: ${name.replaceAll('.', '\\.')} recorded (\\d+) samples, mean = ([\\d.]+)`));
        return m ? { samples: Number(m[1]), mean: Number(m[2]) } : { samples: 0, mean: 0 };
    };
    return { lookups: counter('V8.WasmCodeCaching'), serializations: counter('V8.WasmSerializationTimeMilliSeconds') };
}
let cacheCounters = null;
const browser = await chromium.connectOverCDP(endpoint);
try {
    for (let load = 1; load <= loads; ++load) {
        const tag = loadTag(load);
        phase = `load${tag}`;
        if (!phases.has(phase)) phases.set(phase, { compiles: [] });
        const page = await browser.contexts()[0].newPage();
        await page.goto(`${base}/tests/bench/bench.html`);
        await page.exposeFunction('tierupMark', (p, ms) => {
            if (phases.has(phase) && ms !== undefined) phases.get(phase).ms = ms;
            phase = `${p}${tag}`;
            phases.set(phase, { compiles: [] });
        });
        const error = await page.evaluate((cfg) => new Promise((ok) => {
            const w = new Worker('/tests/bench/tierup_worker.js');
            w.onmessage = async ({ data }) => {
                if (data.error) ok(data.error);
                else await window.tierupMark(data.phase, data.ms);
                if (data.phase === 'end') ok(null);
            };
            w.onerror = (e) => ok(e.message);
            w.postMessage(cfg);
        }), { module: `${base}/${path.relative(root, moduleFile)}`, threads, warmup, epochs });
        if (error) throw new Error(error);
        // V8 writes the module's optimized code to Chromium's code cache (if at all) some time after its last
        // tier-up, so the page stays open for the next load to find it.
        if (load < loads) await new Promise((ok) => setTimeout(ok, 5000));
        // Leaving the page ends its module; the tab stays open so that its renderer reports its counters below.
        await page.goto('about:blank');
    }
    await new Promise((ok) => setTimeout(ok, 200));  // the last trace lines
    if (loads > 1) cacheCounters = await wasmCacheCounters(browser.contexts()[0]);
} finally {
    // Browser.close ends every Chromium process, so the profile is no longer written when it is removed.
    const exited = new Promise((ok) => chrome.once('exit', ok));
    await browser.newBrowserCDPSession().then((s) => s.send('Browser.close')).catch(() => chrome.kill());
    await exited;
    await server.close();
    rmSync(profile, { recursive: true, force: true });
}
console.log(`W1 in Chromium, ${threads} thread(s), ${warmup} warm-up steps: TurboFan compilations by phase`);
for (const [name, { compiles, ms }] of phases) {
    if (name.startsWith('end')) continue;
    const total = compiles.reduce((a, c) => a + c.ms, 0);
    console.log(`\n${name}${ms ? ` (${ms.toFixed(0)} ms)` : ''}: ${compiles.length} functions, ${total.toFixed(1)} ms of compilation`);
    if (name.startsWith('load') || name.startsWith('warm-up')) continue;
    for (const c of compiles.sort((a, b) => b.ms - a.ms)) console.log(`${c.ms.toFixed(1).padStart(8)} ms  ${c.name.replaceAll('(anonymous namespace)', '{anon}').replace(/\(.*$/, '').slice(0, 100)}`);
}
if (cacheCounters) {
    const { lookups, serializations } = cacheCounters;
    console.log(`\ncode cache: ${Math.round(lookups.samples * lookups.mean)} of ${lookups.samples} loads found the module's code cached; ` +
        `V8 handed its code over to be cached ${serializations.samples} times`);
}
