// MirrorStore (web/mirror_store.h) and its Embind side: the functions web/cairn.mjs and web/dashboard_host.mjs call
// to fill the mirror from IndexedDB and to commit what the registry queued.
#include "web/mirror_store.h"

#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>

namespace cairn::web {

static std::string join_keys(const std::vector<std::string>& keys) {
    std::string s;
    for (const std::string& k : keys) s += (s.empty() ? "" : "\n") + k;
    return s;
}

NeedFetch::NeedFetch(std::vector<std::string> k) : std::runtime_error("need_fetch: " + join_keys(k)), keys(std::move(k)) {}

std::optional<Bytes> MirrorStore::get(const std::string& key) const {
    auto it = data_.find(key);
    if (it == data_.end()) return std::nullopt;
    if (!it->second) {
        missing_.insert(key);
        throw NeedFetch{{key}};
    }
    return it->second;
}

std::vector<std::string> MirrorStore::list(const std::string& prefix) const {
    return keys_with_prefix(data_, prefix);
}

bool MirrorStore::commit(const Batch& batch) {
    std::vector<std::string> unloaded;
    for (const StoreCondition& c : batch.conditions) {
        auto it = data_.find(c.key);
        if (it != data_.end() && !it->second) unloaded.push_back(c.key);
    }
    if (!unloaded.empty()) {
        missing_.insert(unloaded.begin(), unloaded.end());
        throw NeedFetch{unloaded};
    }
    if (!conditions_hold(*this, batch)) return false;
    Queued q{batch, {}};
    for (const StoreWrite& w : batch.writes) {
        auto it = data_.find(w.key);
        Undo u{w.key, std::nullopt};
        if (it != data_.end()) u.previous.emplace(it->second);
        q.undo.push_back(std::move(u));
        if (w.value) data_[w.key] = *w.value;
        else data_.erase(w.key);
    }
    pending_.push_back(std::move(q));
    ++commits_;
    return true;
}

void MirrorStore::reset() {
    data_.clear();
    pending_.clear();
    missing_.clear();
}

void MirrorStore::put(const std::string& key, std::optional<Bytes> value) {
    data_[key] = std::move(value);
}

void MirrorStore::accept(size_t n) {
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(std::min(n, pending_.size())));
}

void MirrorStore::rollback() {
    for (auto q = pending_.rbegin(); q != pending_.rend(); ++q)
        for (auto it = q->undo.rbegin(); it != q->undo.rend(); ++it) {
            if (it->previous) data_[it->key] = *it->previous;
            else data_.erase(it->key);
        }
    pending_.clear();
}

std::vector<std::string> MirrorStore::take_missing() {
    std::vector<std::string> keys(missing_.begin(), missing_.end());
    missing_.clear();
    return keys;
}

MirrorStore& mirror() {
    static MirrorStore s;
    return s;
}

//------------------------------------------------------------------------------
// The JS side: bytes cross as Uint8Array (copied, so no view into the wasm heap outlives a call).
//------------------------------------------------------------------------------
using emscripten::val;

static val to_u8(const Bytes& b) {
    return val::global("Uint8Array").new_(emscripten::typed_memory_view(b.size(), b.data())).call<val>("slice");
}

// The queued batches as [{conditions: [{key, expected}], writes: [{key, value}]}]; null bytes mean absent/delete.
static val pending_js() {
    val out = val::array();
    const MirrorStore& m = mirror();
    for (size_t i = 0; i < m.pending_count(); ++i) {
        const Batch& b = m.pending_batch(i);
        val conditions = val::array(), writes = val::array();
        for (const StoreCondition& c : b.conditions) {
            val o = val::object();
            o.set("key", c.key);
            o.set("expected", c.expected ? to_u8(*c.expected) : val::null());
            conditions.call<void>("push", o);
        }
        for (const StoreWrite& w : b.writes) {
            val o = val::object();
            o.set("key", w.key);
            o.set("value", w.value ? to_u8(*w.value) : val::null());
            writes.call<void>("push", o);
        }
        val batch = val::object();
        batch.set("conditions", conditions);
        batch.set("writes", writes);
        out.call<void>("push", batch);
    }
    return out;
}

}  // namespace cairn::web

EMSCRIPTEN_BINDINGS(cairn_mirror) {
    using namespace emscripten;
    using namespace cairn::web;
    function("mirrorReset", +[] { mirror().reset(); });
    function("mirrorDescribe", +[](const std::string& d) { mirror().set_description(d); });
    // bytes null/undefined: the key exists, its value is loaded when first read.
    function("mirrorPut", +[](const std::string& k, const val& v) {
        mirror().put(k, v.isNull() || v.isUndefined() ? std::nullopt
                                                      : std::optional(convertJSArrayToNumberVector<uint8_t>(v)));
    });
    function("mirrorForget", +[](const std::string& k) { mirror().forget(k); });
    function("mirrorPending", &pending_js);
    function("mirrorHasPending", +[] { return mirror().pending_count() > 0; });
    function("mirrorAccept", +[] { mirror().accept(); });
    function("mirrorAcceptFirst", +[](int n) { mirror().accept(static_cast<size_t>(std::max(0, n))); });
    function("mirrorRollback", +[] { mirror().rollback(); });
    function("mirrorSize", +[] { return static_cast<double>(mirror().size()); });
}
