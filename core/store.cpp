#include "core/store.h"

namespace cairn {

std::optional<Bytes> MemoryStore::get(const std::string& key) const {
    auto it = data_.find(key);
    if (it == data_.end()) return std::nullopt;
    return it->second;
}

std::vector<std::string> MemoryStore::list(const std::string& prefix) const {
    return keys_with_prefix(data_, prefix);
}

bool conditions_hold(const Store& store, const Batch& batch) {
    for (const StoreCondition& c : batch.conditions)
        if (store.get(c.key) != c.expected) return false;
    return true;
}

bool MemoryStore::commit(const Batch& batch) {
    if (!conditions_hold(*this, batch)) return false;
    for (const StoreWrite& w : batch.writes) {
        if (w.value) data_[w.key] = *w.value;
        else data_.erase(w.key);
    }
    return true;
}

}  // namespace cairn
