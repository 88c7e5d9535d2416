// The console page (web/console.html): a minimal UI over the JS API, beside the ImGui dashboard (web/index.html).
import { Cairn } from './cairn.mjs';

const $ = (id) => document.getElementById(id);
const state = { cairn: null, dataset: null, model: null, run: null, frames: null };
window.cairnConsole = state;  // for tests and the devtools console

function showError(e) {
    $('error').textContent = e ? `${e.code ?? 'error'}: ${e.message ?? e}` : '';
    if (e) console.error(e);
}
const guard = (fn) => async (...args) => {
    showError(null);
    try {
        await fn(...args);
    } catch (e) {
        showError(e);
    }
};

const fmtBytes = (n) => (n == null ? '?' : n < 1 << 20 ? `${(n / 1024).toFixed(0)} KiB` : `${(n / (1 << 20)).toFixed(1)} MiB`);

async function refreshStatus() {
    const s = await state.cairn.storage();
    $('status').textContent = `${s.store} · ${crossOriginIsolated ? 'cross-origin isolated' : 'not isolated'}`;
    $('storage').textContent = `used ${fmtBytes(s.usage)} of ${fmtBytes(s.quota)}${s.persisted ? ' · persistent' : ''}`;
    $('warning').hidden = !s.warning;
    $('warning').textContent = s.warning ?? '';
}

async function refreshModels() {
    const list = await state.cairn.registry.list();
    const body = $('models').tBodies[0];
    body.replaceChildren(...list.map((m) => {
        const tr = document.createElement('tr');
        const aliases = Object.entries(m.aliases).map(([a, v]) => `${a}→${v}`).join(' ');
        tr.innerHTML = `<td>${m.name}</td><td class="versions">${m.versions.join(', ')}</td><td class="aliases">${aliases}</td><td></td>`;
        const actions = tr.lastChild;
        const button = (label, fn) => {
            const b = document.createElement('button');
            b.textContent = label;
            b.onclick = guard(async () => { await fn(); await refreshModels(); });
            actions.append(b, ' ');
        };
        const latest = m.versions.at(-1);
        if (latest) button(`promote v${latest}`, () => state.cairn.registry.promote(`${m.name}/${latest}`));
        if (m.aliases.production) button('rollback', () => state.cairn.registry.rollback(m.name));
        return tr;
    }));
}

function setDataset(ds) {
    state.dataset?.dispose();
    state.dataset = ds;
    $('dataset').textContent = `${ds.name}: ${ds.size} samples, ${ds.numFeatures} features, classes ${ds.classNames.join(' / ')}`;
}

// Frame times while training: the page must keep rendering (training runs in a worker).
function measureFrames() {
    const times = [];
    let last = performance.now(), on = true;
    const tick = (t) => {
        times.push(t - last);
        last = t;
        if (on) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    return () => {
        on = false;
        const sorted = [...times].sort((a, b) => a - b);
        const q = (p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
        return { frames: times.length, mean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length), p50: q(0.5), p95: q(0.95), max: sorted.at(-1) ?? 0 };
    };
}

async function train() {
    if (!state.dataset) throw Object.assign(new Error('choose a dataset first'), { code: 'invalid_argument' });
    const stopFrames = measureFrames();
    $('train').disabled = true;
    $('pause').disabled = $('cancel').disabled = false;
    state.run = state.cairn.train(state.dataset, {
        model: $('preset').value, epochs: Number($('epochs').value), seed: Number($('seed').value), test: 0.2,
        optimizer: { type: 'adam', lr: 0.01 },
        onProgress: (p) => ($('progress').textContent = `epoch ${p.epoch}/${p.epochs} · batch ${p.batch}/${p.batches} · loss ${p.loss.toFixed(4)}`),
    });
    try {
        const model = await state.run;
        state.model?.dispose();
        state.model = model;
        const test = model.info.metrics.test;
        $('progress').textContent += ` · done, test accuracy ${test ? (test.accuracy * 100).toFixed(1) + '%' : 'n/a'}`;
        $('register').disabled = false;
    } finally {
        const f = (state.frames = stopFrames());
        $('frames').textContent = `frames while training: ${f.frames}, mean ${f.mean.toFixed(1)} ms, p95 ${f.p95.toFixed(1)} ms, max ${f.max.toFixed(1)} ms`;
        $('train').disabled = false;
        $('pause').disabled = $('cancel').disabled = true;
        state.run = null;
    }
}

async function main() {
    state.cairn = await Cairn.open({ db: new URLSearchParams(location.search).get('db') ?? 'cairn' });
    state.cairn.addEventListener('change', () => refreshModels().catch(showError));
    state.cairn.addEventListener('warning', (e) => { $('warning').hidden = false; $('warning').textContent = e.message; });
    for (const n of state.cairn.datasets.bundledNames()) $('bundled').add(new Option(n, n));
    $('bundled').onchange = guard(() => setDataset(state.cairn.datasets.bundled($('bundled').value)));
    $('csv').onchange = guard(async () => setDataset(await state.cairn.datasets.fromCSV($('csv').files[0])));
    $('train').onclick = guard(train);
    $('pause').onclick = () => {
        if (state.run?.paused) state.run.resume(), ($('pause').textContent = 'Pause');
        else state.run?.pause(), ($('pause').textContent = 'Resume');
    };
    $('cancel').onclick = () => state.run?.cancel();
    $('register').onclick = guard(async () => {
        const r = await state.cairn.registry.register(state.model, { name: $('name').value });
        $('progress').textContent = `registered ${r.ref}`;
        await refreshModels();
    });
    $('export').onclick = guard(async () => {
        const blob = await state.cairn.registry.export();
        const a = Object.assign(document.createElement('a'), { href: URL.createObjectURL(blob), download: 'cairn-registry.cairnpkg' });
        a.click();
        URL.revokeObjectURL(a.href);
    });
    $('import').onchange = guard(async () => {
        await state.cairn.registry.import($('import').files[0]);
        await refreshModels();
    });
    $('predict').onclick = guard(async () => {
        const model = await state.cairn.registry.get($('ref').value);
        try {
            const features = $('features').value.split(/[\s,]+/).filter(Boolean).map((text, i) => {
                const v = Number(text);
                if (!Number.isFinite(v)) throw new Error(`feature ${i + 1}: expected a number, got "${text}"`);
                return v;
            });
            const p = model.predict(features);
            const best = p.indexOf(Math.max(...p));
            $('prediction').textContent = `${model.ref}: ${model.classNames[best] ?? best} (${[...p].map((v) => v.toFixed(3)).join(', ')})`;
        } finally {
            model.dispose();
        }
    });
    setDataset(state.cairn.datasets.bundled(state.cairn.datasets.bundledNames()[0] === 'iris' ? 'iris' : $('bundled').value));
    $('bundled').value = state.dataset.name;
    await refreshStatus();
    await refreshModels();
    state.cairn.prepareTraining();
    document.body.dataset.ready = 'true';
}

main().catch(showError);
