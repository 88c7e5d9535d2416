// Store: the one persistence interface under the registry.
//
// A store maps '/'-separated string keys to byte values. Writes come only as atomic batches: all of a
// logical change or nothing. A batch may carry conditions on keys read while planning it (a key must be
// absent, or must still hold the bytes that were read); if any no longer holds, nothing is written and commit()
// returns false, so the caller re-reads and plans again (optimistic concurrency). This is what lets two
// processes, or two browser tabs, register versions at once without colliding.
//
// Implementations: MemoryStore (core/, tests and the browser fallback), the native file store (native/), and the
// IndexedDB store (web/). The browser cannot block on IndexedDB, so the registry plans every change as a Batch
// against a synchronous snapshot and the web side commits it asynchronously: keep planning and committing apart.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cairn {

using Bytes = std::vector<uint8_t>;

struct StoreWrite {
    std::string key;
    std::optional<Bytes> value;  // nullopt deletes the key
};

struct StoreCondition {
    std::string key;
    std::optional<Bytes> expected;  // nullopt: the key must be absent
};

struct Batch {
    std::vector<StoreCondition> conditions;
    std::vector<StoreWrite> writes;
    bool empty() const { return writes.empty(); }
};

class Store {
public:
    virtual ~Store() = default;
    virtual std::optional<Bytes> get(const std::string& key) const = 0;
    // Keys starting with prefix, sorted.
    virtual std::vector<std::string> list(const std::string& prefix) const = 0;
    // Applies every write or none. Returns false, writing nothing, when a condition fails.
    // Throws cairn::Error for I/O failures (code "io_error") or a full disk/quota ("quota_exceeded"); a throw also
    // leaves the store as it was.
    virtual bool commit(const Batch& batch) = 0;
    // Names the store in error messages, e.g. "file store at /home/me/.local/share/cairn".
    virtual std::string describe() const = 0;
};

// Store::list over a map ordered by key: the keys starting with prefix, in order (memory stores and mirrors).
template <class Map>
std::vector<std::string> keys_with_prefix(const Map& data, const std::string& prefix) {
    std::vector<std::string> keys;
    for (auto it = data.lower_bound(prefix); it != data.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
        keys.push_back(it->first);
    return keys;
}

// In-memory store: tests, Node scripts, and the browser when IndexedDB is unavailable.
class MemoryStore : public Store {
public:
    std::optional<Bytes> get(const std::string& key) const override;
    std::vector<std::string> list(const std::string& prefix) const override;
    bool commit(const Batch& batch) override;
    std::string describe() const override { return "memory store"; }
    const std::map<std::string, Bytes>& data() const { return data_; }

private:
    std::map<std::string, Bytes> data_;
};

// Checks a batch's conditions against any store (used by implementations that hold a lock while checking).
bool conditions_hold(const Store& store, const Batch& batch);

}  // namespace cairn
