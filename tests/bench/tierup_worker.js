// The W1 step loop of the benchmark module (workloads.mjs, runCairn) in a dedicated worker, posting a mark at each
// phase so tierup.mjs can tell which wasm compilations happened during which. In: { module, threads, warmup, epochs }.
onmessage = async ({ data: cfg }) => {
    const mark = (phase, ms) => postMessage({ phase, ms });
    try {
        importScripts(cfg.module);
        const M = await self.CairnBench({ mainScriptUrlOrBlob: cfg.module, locateFile: (f) => new URL(f, cfg.module).href });
        const bytes = async (u) => new Uint8Array(await (await fetch(u)).arrayBuffer());
        const img = await bytes('/data/train-images-idx3-ubyte.gz'), lab = await bytes('/data/train-labels-idx1-ubyte.gz');
        const put = (a) => { const p = M._malloc(a.byteLength); M.HEAPU8.set(a, p); return p; };
        if (M._cb_load(put(img), img.byteLength, put(lab), lab.byteLength, 60000) !== 0) throw new Error('cb_load failed');
        if (M._cb_threads(cfg.threads) !== cfg.threads) throw new Error(`${cfg.module} cannot run ${cfg.threads} threads`);
        mark('warm-up');
        let t0 = performance.now();
        for (let left = cfg.warmup; left > 0; left -= 937) {  // as the benchmark's warm-up, one begin per epoch's worth
            M._cb_train_begin(1, 64, 1e-3, Math.min(left, 937) * 64);
            while (M._cb_train_step()) {}
        }
        for (let e = 1; e <= cfg.epochs; ++e) {
            M._cb_train_begin(1, 64, 1e-3, 60000);
            const t = performance.now();
            mark(`epoch ${e}`, t - t0);
            t0 = t;
            while (M._cb_train_step()) {}
        }
        mark('end', performance.now() - t0);
    } catch (e) {
        postMessage({ error: String(e.message || e) });
    }
};
