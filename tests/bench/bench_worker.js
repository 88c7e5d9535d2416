// A dedicated worker that runs one peer's benchmark (bench_peer.mjs), as Cairn's app trains in a worker
// (web/worker.mjs): nothing else runs on its thread, and it may block on a futex, which the page's thread may not.
// A classic worker, so that the peers' classic scripts load with importScripts.
// In: cfg, out: the result or { error }. Or, for W1's paired run (bench.html, runPair): { cmd: 'open', cfg }, then
// { cmd: 'warmup' | 'epoch' | 'settled' | 'info' }, each answered with { value } or { error }.
let phases = null;
onmessage = async ({ data: msg }) => {
    try {
        const { runPeer, openCairnW1 } = await import('./bench_peer.mjs');
        const loadScript = async (url) => importScripts(url);
        if (msg.cmd === undefined) postMessage(await runPeer(msg, loadScript));
        else if (msg.cmd === 'open') { phases = await openCairnW1(msg.cfg, loadScript); postMessage({ value: null }); }
        else postMessage({ value: phases[msg.cmd]() });
    } catch (e) {
        postMessage({ error: String(e.message || e).split('\n')[0] });
    }
};
