// Embind bindings: the C++ core as seen from JavaScript (web/cairn.mjs wraps this into the public API).
//
// Index
//   [SECTION] Errors        every binding runs inside guard(): a cairn::Error becomes (code, message) that the JS side
//                           turns into a JS Error with .code; nothing C++ ever unwinds into JavaScript.
//   [SECTION] Mirror store  the registry plans against a synchronous mirror of the stored records; commits are
//                           queued for web/idb_store.mjs, which applies them in one IndexedDB transaction.
//   [SECTION] Diagnostics   heap figures for leak tests.
//   [SECTION] Registration
#include <emscripten/bind.h>
#include <emscripten/val.h>
#include <malloc.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/store.h"

using emscripten::val;

namespace cairn::web {

//------------------------------------------------------------------------------
// [SECTION] Errors
//------------------------------------------------------------------------------
// The last error, read (and cleared) by JS after a binding returned. Exceptions cannot cross into JS with their
// message under -fwasm-exceptions, and a thrown JS exception would leak the C++ exception object.
struct LastError {
    std::string code, message;
};
static LastError g_error;

// Thrown when the registry reads a record the mirror knows exists but has not loaded yet (large blobs are loaded
// lazily): JS loads the keys and runs the operation again. Not a cairn::Error, so registry code does not treat it
// as bad data.
struct NeedFetch {
    std::vector<std::string> keys;
};

template <typename F>
auto guard(F&& f) -> decltype(f()) {
    g_error = {};
    try {
        return f();
    } catch (const Error& e) {
        g_error = {e.code(), e.what()};
    } catch (const NeedFetch& e) {
        std::string keys;
        for (const std::string& k : e.keys) keys += (keys.empty() ? "" : "\n") + k;
        g_error = {"need_fetch", keys};
    } catch (const std::bad_alloc&) {
        g_error = {"out_of_memory", "out of wasm memory"};
    } catch (const std::exception& e) {
        g_error = {"internal", e.what()};
    } catch (...) {
        g_error = {"internal", "unknown C++ exception"};
    }
    using R = decltype(f());
    if constexpr (std::is_same_v<R, val>) return val::undefined();
    else if constexpr (!std::is_void_v<R>) return R{};
}

static val take_error() {
    if (g_error.code.empty()) return val::null();
    val e = val::object();
    e.set("code", g_error.code);
    e.set("message", g_error.message);
    g_error = {};
    return e;
}

//------------------------------------------------------------------------------
// [SECTION] Helpers: bytes between JS and C++
//------------------------------------------------------------------------------
static Bytes to_bytes(const val& u8) {
    // convertJSArrayToNumberVector copies a typed array in one set() call.
    return emscripten::convertJSArrayToNumberVector<uint8_t>(u8);
}

static val to_u8(const Bytes& b) {
    // A copy owned by JS: the view into the wasm heap would dangle once the vector is freed or memory grows.
    return val::global("Uint8Array").new_(emscripten::typed_memory_view(b.size(), b.data())).call<val>("slice");
}

//------------------------------------------------------------------------------
// [SECTION] Mirror store
//------------------------------------------------------------------------------
// Holds every stored key; values are loaded eagerly for small records and on demand for large ones (nullopt means
// "exists, not loaded"). commit() checks conditions and applies the batch to the mirror at once (so an operation
// that commits several batches sees its own writes) and queues it; JS then commits the queue to IndexedDB and calls
// accept(), or rollback() when IndexedDB refused (a condition failed in another tab, quota, I/O).
class MirrorStore : public Store {
public:
    std::optional<Bytes> get(const std::string& key) const override {
        auto it = data_.find(key);
        if (it == data_.end()) return std::nullopt;
        if (!it->second) throw NeedFetch{{key}};
        return it->second;
    }
    std::vector<std::string> list(const std::string& prefix) const override {
        std::vector<std::string> keys;
        for (auto it = data_.lower_bound(prefix); it != data_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
            keys.push_back(it->first);
        return keys;
    }
    bool commit(const Batch& batch) override {
        std::vector<std::string> missing;
        for (const StoreCondition& c : batch.conditions) {
            auto it = data_.find(c.key);
            if (it != data_.end() && !it->second) missing.push_back(c.key);
        }
        if (!missing.empty()) throw NeedFetch{missing};
        if (!conditions_hold(*this, batch)) return false;
        for (const StoreWrite& w : batch.writes) {
            auto it = data_.find(w.key);
            Undo u{w.key, std::nullopt};
            if (it != data_.end()) u.previous.emplace(it->second);
            undo_.push_back(std::move(u));
            if (w.value) data_[w.key] = *w.value;
            else data_.erase(w.key);
        }
        pending_.push_back(batch);
        return true;
    }
    std::string describe() const override { return describe_; }

    // --- driven from JS ---
    void set_description(const std::string& d) { describe_ = d; }
    void reset() { data_.clear(), pending_.clear(), undo_.clear(); }
    void put(const std::string& key, const val& bytes) {  // bytes null: exists, not loaded
        data_[key] = bytes.isNull() || bytes.isUndefined() ? std::nullopt : std::optional(to_bytes(bytes));
    }
    void forget(const std::string& key) { data_.erase(key); }
    bool has_pending() const { return !pending_.empty(); }
    // The queued batches as [{conditions: [{key, expected}], writes: [{key, value}]}]; null bytes mean absent/delete.
    val pending() const {
        val out = val::array();
        for (const Batch& b : pending_) {
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
    void accept() { pending_.clear(), undo_.clear(); }
    void rollback() {
        for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) {
            if (it->previous) data_[it->key] = *it->previous;
            else data_.erase(it->key);
        }
        accept();
    }
    size_t size() const { return data_.size(); }

private:
    std::map<std::string, std::optional<Bytes>> data_;
    std::vector<Batch> pending_;
    // Previous state of each written key: nullopt = absent; an inner nullopt = present but not loaded.
    struct Undo {
        std::string key;
        std::optional<std::optional<Bytes>> previous;
    };
    std::vector<Undo> undo_;
    std::string describe_ = "browser store";
};

MirrorStore& mirror() {
    static MirrorStore s;
    return s;
}

// Raw key-value access through the mirror (tests of the store contract, and tools that inspect a registry).
static val kv_get(const std::string& key) {
    return guard([&]() -> val {
        auto v = mirror().get(key);
        return v ? to_u8(*v) : val::null();
    });
}
static val kv_list(const std::string& prefix) {
    return guard([&]() -> val {
        val out = val::array();
        for (const std::string& k : mirror().list(prefix)) out.call<void>("push", k);
        return out;
    });
}
// batch: {conditions: [{key, expected: Uint8Array|null}], writes: [{key, value: Uint8Array|null}]}
static bool kv_commit(const val& batch) {
    return guard([&]() -> bool {
        Batch b;
        val cs = batch["conditions"], ws = batch["writes"];
        for (int i = 0, n = cs.isUndefined() ? 0 : cs["length"].as<int>(); i < n; ++i) {
            val c = cs[i];
            val e = c["expected"];
            b.conditions.push_back({c["key"].as<std::string>(),
                                    e.isNull() || e.isUndefined() ? std::nullopt : std::optional(to_bytes(e))});
        }
        for (int i = 0, n = ws.isUndefined() ? 0 : ws["length"].as<int>(); i < n; ++i) {
            val w = ws[i];
            val v = w["value"];
            b.writes.push_back({w["key"].as<std::string>(),
                                v.isNull() || v.isUndefined() ? std::nullopt : std::optional(to_bytes(v))});
        }
        return mirror().commit(b);
    });
}

//------------------------------------------------------------------------------
// [SECTION] Diagnostics
//------------------------------------------------------------------------------
static val heap_stats() {
    struct mallinfo mi = mallinfo();
    val o = val::object();
    o.set("allocated", static_cast<double>(mi.uordblks));  // bytes in use by malloc
    o.set("arena", static_cast<double>(mi.arena));          // bytes obtained from the wasm heap
    return o;
}

}  // namespace cairn::web

//------------------------------------------------------------------------------
// [SECTION] Registration
//------------------------------------------------------------------------------
EMSCRIPTEN_BINDINGS(cairn) {
    using namespace emscripten;
    using namespace cairn::web;
    function("takeError", &take_error);
    function("heapStats", &heap_stats);

    function("mirrorReset", +[] { mirror().reset(); });
    function("mirrorDescribe", +[](const std::string& d) { mirror().set_description(d); });
    function("mirrorPut", +[](const std::string& k, const val& v) { guard([&] { mirror().put(k, v); }); });
    function("mirrorForget", +[](const std::string& k) { mirror().forget(k); });
    function("mirrorPending", +[] { return mirror().pending(); });
    function("mirrorHasPending", +[] { return mirror().has_pending(); });
    function("mirrorAccept", +[] { mirror().accept(); });
    function("mirrorRollback", +[] { mirror().rollback(); });
    function("mirrorSize", +[] { return static_cast<double>(mirror().size()); });
    function("kvGet", &kv_get);
    function("kvList", &kv_list);
    function("kvCommit", &kv_commit);
}
