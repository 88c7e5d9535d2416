// A dedicated worker that runs one peer's benchmark (bench_peer.mjs), as Cairn's app trains in a worker
// (web/worker.mjs): nothing else runs on its thread, and it may block on a futex, which the page's thread may not.
// A classic worker, so that the peers' classic scripts load with importScripts. In: cfg. Out: the result or { error }.
onmessage = async ({ data: cfg }) => {
    try {
        const { runPeer } = await import('./bench_peer.mjs');
        postMessage(await runPeer(cfg, async (url) => importScripts(url)));
    } catch (e) {
        postMessage({ error: String(e.message || e).split('\n')[0] });
    }
};
