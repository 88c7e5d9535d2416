// The dashboard page's JavaScript side (web/index.html loads it once dashboard.js is running): connects the
// dashboard's registry to the JS API's IndexedDB store and does the browser work the wasm asks for.
//
// The store is opened with Cairn.open({core: Module}) (web/cairn.mjs) on the dashboard's own wasm module, so the
// page and the JS API share one database (default "cairn", or ?db=NAME), one commit path (a batch per IndexedDB
// transaction, re-planned on a conflict with another tab) and one way of loading values on demand. Requests from
// wasm (web/dashboard.cpp, EM_JS) are queued here and answered through its KEEPALIVE callbacks, one at a time:
//   commit()  Cairn.mutate re-plans the kept changes (cairn_dashboard_replan) and writes them; then
//             cairn_dashboard_committed(n) or cairn_dashboard_failed(n, message)
//   fetch()   Cairn.read loads the values the panels missed (cairn_dashboard_missing); then cairn_dashboard_reloaded()
//   save()    export: a Blob download;  open(): import: a file picker whose bytes go to Module.dashboardImport
//   openCsv() the Data panel's file picker: the CSV's text goes to Module.dashboardOpenCsv
// Changes committed by other tabs or the JS API arrive as Cairn 'change' events: the mirror is reloaded by Cairn,
// then cairn_dashboard_reloaded() rebuilds the panels.
//
// For tests: window.cairnDashboard = {cairn, widgets(), widgetById(window, label), status(), idle()} (see tests/browser/dashboard_registry.test.mjs).
import { Cairn, CairnError } from './cairn.mjs';

export async function startHost(Module, { db = 'cairn' } = {}) {
    let queue = Promise.resolve();
    let pendingTasks = 0;
    const enqueue = (task) => {
        pendingTasks++;
        queue = queue.then(task).catch((e) => console.error('dashboard:', e)).finally(() => pendingTasks--);
        return queue;
    };
    const str = (name, ...args) => Module.ccall(name, 'string', args.map((a) => typeof a), args);

    const cairn = await Cairn.open({ db, core: Module });
    const reloaded = async () => {
        const { quota } = await cairn.storage();
        if (quota) Module._cairn_dashboard_quota(quota);
        Module._cairn_dashboard_reloaded();
    };

    const pick = (id) => {
        const input = document.getElementById(id);
        input.value = '';
        input.click();
    };
    let commitQueued = false;
    const host = {
        commit() {
            if (commitQueued) return;
            commitQueued = true;
            enqueue(async () => {
                commitQueued = false;
                let n = 0;
                try {
                    await cairn.mutate(() => {
                        const r = JSON.parse(str('cairn_dashboard_replan'));
                        if (r.need_fetch) throw new CairnError('need_fetch', r.need_fetch);
                        n = r.batches;
                        return null;
                    });
                    Module._cairn_dashboard_committed(n);
                } catch (e) {
                    Module.ccall('cairn_dashboard_failed', null, ['number', 'string'], [n, `${e.code ?? 'error'}: ${e.message}`]);
                }
            });
        },
        fetch() {
            enqueue(async () => {
                await cairn.read(() => {
                    const keys = str('cairn_dashboard_missing');
                    if (keys) throw new CairnError('need_fetch', keys);
                });
                Module._cairn_dashboard_reloaded();
            });
        },
        save(bytes, name) {
            const url = URL.createObjectURL(new Blob([bytes], { type: 'application/x-cairn-package' }));
            const a = Object.assign(document.createElement('a'), { href: url, download: name });
            document.body.append(a);
            a.click();
            a.remove();
            setTimeout(() => URL.revokeObjectURL(url), 60000);
        },
        open() { pick('import-file'); },
        openCsv() { pick('csv-file'); },
    };
    document.getElementById('import-file').addEventListener('change', async (ev) => {
        const file = ev.target.files?.[0];
        if (!file) return;
        const bytes = new Uint8Array(await file.arrayBuffer());
        Module.dashboardImport(bytes, file.name);
    });
    document.getElementById('csv-file').addEventListener('change', async (ev) => {
        const file = ev.target.files?.[0];
        if (file) Module.dashboardOpenCsv(await file.text(), file.name);
    });
    cairn.addEventListener('change', (ev) => { if (ev.remote) enqueue(reloaded); });
    // Closing the tab while a change is still being written would lose it: ask the browser to confirm.
    window.addEventListener('beforeunload', (ev) => {
        if (pendingTasks > 0 || JSON.parse(str('cairn_dashboard_status')).unsaved > 0) {
            ev.preventDefault();
            ev.returnValue = '';
        }
    });
    Module.cairnHost = host;
    await enqueue(reloaded);

    window.cairnDashboard = {
        cairn,
        widgets: () => JSON.parse(str('cairn_dashboard_widgets')),
        widgetById: (window, label) => JSON.parse(str('cairn_dashboard_widget_by_id', window, label)),
        status: () => JSON.parse(str('cairn_dashboard_status')),
        // Resolves once every queued store operation has finished (tests wait on it before reading IndexedDB).
        idle: async () => { while (pendingTasks > 0) await queue; },
    };
    return host;
}
