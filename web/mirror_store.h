// MirrorStore: the browser's synchronous view of the IndexedDB store (web/idb_store.mjs), shared by the JS API's
// module (web/bindings.cpp) and the page's dashboard (web/dashboard.cpp).
//
// The registry plans synchronously (core/registry.h) but IndexedDB only answers asynchronously, so wasm holds a
// mirror of every stored key: small values loaded eagerly, large ones on demand (nullopt = "exists, not loaded";
// reading one throws NeedFetch naming the keys, JS loads them and the operation runs again). commit() checks the
// batch's conditions against the mirror, applies it at once (an operation that commits several batches sees its own
// writes) and queues it; JS commits the queue to IndexedDB in order and calls accept(n) for the batches it wrote, or
// rollback() when IndexedDB refused one (a condition failed in another tab, quota, I/O): the caller then reloads the
// mirror and plans again.
//
// The mirror's JS side (mirrorPut, mirrorPending, mirrorAccept, ...) is registered with Embind in mirror_store.cpp,
// against the one mirror() of the wasm instance.
#pragma once
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/store.h"

namespace cairn::web {

// Thrown when a read needs a value the mirror knows exists but has not loaded yet. Deliberately not a cairn::Error:
// registry code that reports damaged records (verify_registry) must not take it for bad data; code that only catches
// std::exception (the dashboard's engine) shows it as a passing message while the page fetches and retries.
struct NeedFetch : std::runtime_error {
    std::vector<std::string> keys;
    explicit NeedFetch(std::vector<std::string> k);
};

class MirrorStore : public Store {
public:
    std::optional<Bytes> get(const std::string& key) const override;
    std::vector<std::string> list(const std::string& prefix) const override;
    bool commit(const Batch& batch) override;
    std::string describe() const override { return describe_; }

    // --- driven from JS ---
    void set_description(const std::string& d) { describe_ = d; }
    void reset();                                                         // forget everything (before a reload)
    void put(const std::string& key, std::optional<Bytes> value);         // nullopt: exists, not loaded
    void forget(const std::string& key) { data_.erase(key); }
    size_t pending_count() const { return pending_.size(); }
    const Batch& pending_batch(size_t i) const { return pending_[i].batch; }
    void accept() { pending_.clear(); }                                   // every queued batch was written
    void accept(size_t n);                                                // the first n were written
    void rollback();                                                      // undo every queued batch, newest first
    size_t size() const { return data_.size(); }
    // Keys a read asked for that were not loaded, since the last call (the dashboard fetches them, then retries).
    std::vector<std::string> take_missing();
    bool has_missing() const { return !missing_.empty(); }
    // Batches committed to the mirror so far (never decreases): tells whether an operation queued one.
    size_t commit_count() const { return commits_; }

private:
    // Previous state of a written key: nullopt = absent; an inner nullopt = present but not loaded.
    struct Undo {
        std::string key;
        std::optional<std::optional<Bytes>> previous;
    };
    struct Queued {
        Batch batch;
        std::vector<Undo> undo;
    };
    std::map<std::string, std::optional<Bytes>> data_;
    std::vector<Queued> pending_;
    mutable std::set<std::string> missing_;
    size_t commits_ = 0;
    std::string describe_ = "browser store";
};

// The wasm instance's one mirror (the JS side of either module drives it).
MirrorStore& mirror();

}  // namespace cairn::web
