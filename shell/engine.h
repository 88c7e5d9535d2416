// The dashboard's engine: the one place where panels' requests turn into work. Every long action is a Job that
// advances a slice per frame (engine_tick), so the UI stays responsive in the page, where nothing may block.
#pragma once
#include <string_view>

#include "core/store.h"
#include "shell/app.h"

namespace cairn::shell {

// The app over the core: make_sample_app() with the Data panel holding the core's bundled datasets, and the
// Evaluate and Playground panels driven by a nearest-class-mean baseline fitted on the bundled digits (evaluated
// with core/metrics on a held-out fifth). Registry, Compare and Storage keep sample contents until the registry
// lands.
App make_app();

// Connects the Registry, Compare, Evaluate-version and Storage panels to a registry over `store` (core/registry.h)
// and reads it; finished training runs are registered there. Errors become panel messages, never exceptions.
void registry_attach(App& app, std::shared_ptr<Store> store);
void registry_refresh(App& app);

// Data: a CSV file's text (header row, numeric features, label column last) joins the datasets under `name` and is
// selected for training; a bad file leaves the list as it was and app.data.message names the line and column.
void data_open_csv(App& app, const std::string& name, std::string_view text);

// Advances every running job by one frame's slice; dt_s is the frame time.
void engine_tick(App& app, double dt_s);

// Train
void train_start(App& app);   // from idle/done: a new run; from paused: resume
void train_pause(App& app);
void train_stop(App& app);    // ends the run; a finished run registers a new version

// Registry: applies app.registry.pending ("promote", "rollback", "archive", "delete").
void registry_apply(App& app);

// Playground: recomputes app.playground.probs from the canvas.
void playground_predict(App& app);
void playground_clear(App& app);

// Storage
void storage_check_start(App& app);
void storage_export_start(App& app);
void storage_import_start(App& app);
// Imports a package's bytes (what names it in messages); the whole package is verified before anything is written.
void storage_import_bytes(App& app, const Bytes& bytes, const std::string& what);

// The page's store (web/mirror_store.h) throws "need_fetch: <keys>" for values it has yet to load, fetches them and
// refreshes: an operation that failed with such a message is to run again, not reported as failed.
bool store_still_loading(std::string_view error_message);

// Evaluate: fills app.eval for a version of the selected model and opens the Evaluate panel. When the store is still
// loading the version's values, the evaluation waits for them: evaluate_waiting() runs it (the page calls it after
// each fetch).
void evaluate_version(App& app, int version);
void evaluate_waiting(App& app);

}  // namespace cairn::shell
