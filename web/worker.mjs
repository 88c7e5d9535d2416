// Training worker: its own wasm instance runs Trainer::step() in slices, so the page's thread never blocks.
// Protocol (web/cairn.mjs, trainInWorker):
//   page -> worker  {type: 'train', dataset: {features, labels, shape, name, classNames, featureNames, labelName},
//                    spec, sliceMs}   then {type: 'pause' | 'resume' | 'cancel'};  {type: 'init'} loads the wasm early
//   worker -> page  {type: 'progress', progress}  {type: 'done', model: Uint8Array (Model.serialize)}
//                   {type: 'error', code, message}
// Many short step() calls rather than one long one also let V8 tier the hot loops up (see TOOLCHAIN.md).
// The page passes its build's thread count in the URL (?threads=N): N > 1 loads cairn-core-mt here too, whose
// threads are then workers nested in this one (Chromium allows that in a cross-origin isolated page).
import { loadCore } from './cairn.mjs';

const threads = Number(new URL(import.meta.url).searchParams.get('threads') ?? 1);
const CairnCore = () => loadCore({ threaded: threads > 1, threads });

let paused = null, cancelled = false;
let core = null;  // one wasm instance for the worker's lifetime: the page reuses this worker for every training

function check(M, r) {
    const e = M.takeError();
    if (e) {
        r?.delete?.();
        throw Object.assign(new Error(e.message), { code: e.code });
    }
    return r;
}

const yieldToMessages = () => new Promise((resolve) => setTimeout(resolve, 0));

async function train({ dataset, spec, sliceMs }) {
    core ??= CairnCore();
    const M = await core;
    const meta = { name: dataset.name, shape: dataset.shape, class_names: dataset.classNames, feature_names: dataset.featureNames, label_name: dataset.labelName };
    const ds = check(M, M.datasetFromArrays(dataset.features, dataset.labels, JSON.stringify(meta)));
    let t = null;
    try {
        t = check(M, M.trainingStart(ds, JSON.stringify(spec)));
        for (;;) {
            while (paused) await paused;
            if (cancelled) {
                t.cancel();
                throw Object.assign(new Error('training cancelled'), { code: 'cancelled' });
            }
            const p = JSON.parse(check(M, t.step(sliceMs)));
            postMessage({ type: 'progress', progress: p });
            if (p.done) break;
            await yieldToMessages();  // lets pause/cancel messages in
        }
        const model = check(M, t.finish());
        const bytes = check(M, model.serialize());
        model.delete();
        postMessage({ type: 'done', model: bytes }, [bytes.buffer]);
    } finally {
        t?.delete();
        ds.delete();
    }
}

let resumeNow = null;
onmessage = (ev) => {
    const m = ev.data;
    if (m.type === 'train') {
        paused = null;
        cancelled = false;
        train(m).catch((e) => postMessage({ type: 'error', code: e.code ?? 'internal', message: e.message ?? String(e) }));
    } else if (m.type === 'init') {
        core ??= CairnCore();  // compile ahead of the first training
    } else if (m.type === 'pause') {
        paused ??= new Promise((r) => (resumeNow = r));
    } else if (m.type === 'resume') {
        paused = null;
        resumeNow?.();
    } else if (m.type === 'cancel') {
        cancelled = true;
        paused = null;
        resumeNow?.();
    }
};
