// Model registry (see registry.h for the key layout and the plan/commit protocol).
//
// Index of this file
// [SECTION] Keys, names, records
// [SECTION] Manifests and verified blobs
// [SECTION] References
// [SECTION] Register
// [SECTION] Aliases
// [SECTION] Archive, delete, gc
// [SECTION] Compare
// [SECTION] Verify
// [SECTION] Export and import
#include "core/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "core/bundle.h"
#include "core/error.h"
#include "core/hash.h"

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Keys, names, records
//-----------------------------------------------------------------------------

namespace {

const std::string kIndexKey = "index/models";
std::string key_model(const std::string& m) { return "model/" + m; }
std::string key_counter(const std::string& m) { return "counter/" + m; }
std::string key_versions(const std::string& m) { return "version/" + m + "/"; }
std::string key_version(const std::string& m, int64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%010lld", static_cast<long long>(v));
    return key_versions(m) + buf;
}
std::string key_blob(const std::string& sha) { return "blob/" + sha; }
std::string version_str(const std::string& m, int64_t v) { return "model '" + m + "' version " + std::to_string(v); }

constexpr size_t kMaxNameLength = 64;
bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-'; }
bool valid_name(const std::string& n) {
    return !n.empty() && n.size() <= kMaxNameLength && std::isalnum(static_cast<unsigned char>(n[0])) &&
           std::all_of(n.begin(), n.end(), name_char);
}
bool all_digits(const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
bool is_sha(const std::string& s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// Reads records while recording what was read as batch conditions, so the commit fails if any of them changed.
struct Reader {
    const Store& s;
    Batch& b;
    std::optional<Bytes> raw(const std::string& key) {
        std::optional<Bytes> v = s.get(key);
        b.conditions.push_back({key, v});
        return v;
    }
    std::optional<Json> record(const std::string& key) {
        std::optional<Bytes> v = raw(key);
        if (!v) return std::nullopt;
        return unseal_record(*v, "record " + key);
    }
};

std::optional<Json> get_record(const Store& s, const std::string& key) {
    std::optional<Bytes> v = s.get(key);
    if (!v) return std::nullopt;
    return unseal_record(*v, "record " + key);
}

void put(Batch& b, const std::string& key, const Json& record) { b.writes.push_back({key, seal_record(record)}); }

Json new_model_record(const std::string& name, const std::string& description, int64_t time_ms) {
    return {{"name", name}, {"description", description}, {"tags", Json::array()}, {"created_ms", time_ms},
            {"aliases", Json::object()}, {"archived", Json::object()}, {"annotations", Json::object()},
            {"history", Json::array()}};
}

int64_t counter_last(const std::optional<Json>& c) { return c ? c->value("last", int64_t(0)) : 0; }

std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s.empty() ? "none" : s;
}

}  // namespace

void check_annotation(const std::string& notes, const std::vector<std::string>& tags) {
    if (notes.size() > kMaxNotesBytes)
        fail("invalid_argument", "notes are " + std::to_string(notes.size()) + " bytes; at most " + std::to_string(kMaxNotesBytes) + " are kept");
    if (tags.size() > kMaxTags)
        fail("invalid_argument", std::to_string(tags.size()) + " tags given; at most " + std::to_string(kMaxTags) + " are allowed");
    std::set<std::string> seen;
    for (size_t i = 0; i < tags.size(); ++i) {
        const std::string& t = tags[i];
        std::string which = "tag " + std::to_string(i + 1) + " ('" + t + "')";
        if (t.empty() || t.size() > 64) fail("invalid_argument", which + " must be 1-64 characters, got " + std::to_string(t.size()));
        for (unsigned char c : t)
            if (c < 0x20 || c == 0x7f || c == ',') fail("invalid_argument", which + " contains a comma or a control character");
        if (!seen.insert(t).second) fail("invalid_argument", which + " appears twice");
    }
}

void check_name(const std::string& name, const char* what) {
    if (!valid_name(name)) {
        // "promote production iris/2" reads naturally but is the wrong way round.
        const bool looks_like_ref = std::string(what) == "alias" && name.find_first_of("/@") != std::string::npos;
        fail("invalid_name", std::string(what) + " name '" + name +
                                 "' is invalid: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit" +
                                 (looks_like_ref ? " (it looks like a version reference: the version comes first, then the alias)" : ""));
    }
    if (std::string(what) == "alias" && (name == "latest" || all_digits(name)))
        fail("invalid_name", "alias name '" + name + "' is reserved ('latest' and numbers are references)");
}

std::string model_name_for(const std::string& text, const std::string& suffix) {
    std::string name;
    for (char c : text) {
        if (name_char(c) && c != '-') name += c;
        else if (!name.empty() && name.back() != '-') name += '-';
    }
    // A name starts with a letter or digit, and the suffix must fit in the 64 characters.
    while (!name.empty() && !std::isalnum(static_cast<unsigned char>(name.front()))) name.erase(0, 1);
    name.resize(std::min(name.size(), kMaxNameLength - std::min(suffix.size(), kMaxNameLength - 1)));
    while (!name.empty() && (name.back() == '-' || name.back() == '.')) name.pop_back();
    if (name.empty()) name = "model";
    return (name + suffix).substr(0, kMaxNameLength);
}

//-----------------------------------------------------------------------------
// [SECTION] Manifests and verified blobs
//-----------------------------------------------------------------------------

namespace {

Json tensor_listing(const std::vector<NamedTensor>& ts) {
    Json a = Json::array();
    for (const NamedTensor& t : ts) a.push_back({{"name", t.name}, {"dtype", safetensors_dtype(t.tensor.dtype())}, {"shape", t.tensor.shape()}});
    return a;
}

void validate_blob_ref(const Json& b, const std::string& what) {
    if (!b.is_object() || !b.contains("blob") || !b["blob"].is_string() || !is_sha(b["blob"].get<std::string>()) ||
        !b.contains("size") || !b["size"].is_number_unsigned() || !b.contains("tensors") || !b["tensors"].is_array())
        fail("invalid_manifest", what + " needs blob (SHA-256 hex), size and tensors");
    for (const Json& t : b["tensors"])
        if (!t.is_object() || !t.contains("name") || !t["name"].is_string() || !t.contains("dtype") || !t.contains("shape"))
            fail("invalid_manifest", what + ": a tensors entry needs name, dtype and shape");
}

// Schema check shared by load and import. `what` names the version.
void validate_manifest(const Json& m, const std::string& what) {
    if (!m.is_object() || m.value("format", "") != "cairn.model_version")
        fail("invalid_manifest", what + ": manifest format is not \"cairn.model_version\"");
    if (!m.contains("format_version") || !m["format_version"].is_number_integer())
        fail("invalid_manifest", what + ": manifest has no integer format_version");
    int fv = m["format_version"].get<int>();
    if (fv < 1 || fv > kManifestFormatVersion)
        fail("unsupported_version", what + ": manifest format version " + std::to_string(fv) + "; this build reads " +
                                        std::to_string(kManifestFormatVersion));
    if (!m.contains("model") || !m["model"].is_string() || !valid_name(m["model"].get<std::string>()))
        fail("invalid_manifest", what + ": manifest has no valid model name");
    if (!m.contains("version") || !m["version"].is_number_integer() || m["version"].get<int64_t>() < 1)
        fail("invalid_manifest", what + ": manifest has no positive version");
    if (!m.contains("created_ms") || !m["created_ms"].is_number_integer()) fail("invalid_manifest", what + ": no created_ms");
    validate_blob_ref(m.value("weights", Json()), what + ": weights");
    if (m.contains("optimizer_state") && !m["optimizer_state"].is_null()) validate_blob_ref(m["optimizer_state"], what + ": optimizer_state");
    for (const char* k : {"hyperparameters", "metrics", "dataset", "sizes"})
        if (!m.contains(k) || !m[k].is_object()) fail("invalid_manifest", what + ": " + k + " must be an object");
    const Json& p = m.value("parent", Json());
    if (!p.is_null() && (!p.is_object() || !p.contains("model") || !p["model"].is_string() || !p.contains("version") ||
                         !p["version"].is_number_integer()))
        fail("invalid_manifest", what + ": parent must be null or {model, version}");
}

struct BlobRole {
    const char* role;  // "weights" | "optimizer_state"
    std::string sha;
    uint64_t size;
    const Json* listing;
};
std::vector<BlobRole> blob_roles(const Json& m) {
    std::vector<BlobRole> r;
    for (const char* role : {"weights", "optimizer_state"})
        if (m.contains(role) && !m[role].is_null())
            r.push_back({role, m[role]["blob"].get<std::string>(), m[role]["size"].get<uint64_t>(), &m[role]["tensors"]});
    return r;
}

// Decodes a blob and checks its tensors are the ones the manifest lists.
std::vector<NamedTensor> decode_blob(const Bytes& bytes, const BlobRole& b, const std::string& what) {
    std::string bw = what + ": blob " + b.sha + " (" + b.role + ")";
    std::vector<NamedTensor> ts = safetensors_decode(bytes, bw);
    // safetensors returns data order, which is the order the registry wrote; compare as sets by name anyway.
    Json got = tensor_listing(ts), want = *b.listing;
    auto by_name = [](Json a) {
        std::sort(a.begin(), a.end(), [](const Json& x, const Json& y) { return x["name"] < y["name"]; });
        return a;
    };
    if (by_name(got) != by_name(want)) fail("integrity", bw + " holds different tensors than the manifest lists");
    return ts;
}

// Store errors (e.g. the file store's own checksum) are re-thrown naming the model, version and blob too.
std::optional<Bytes> get_for(const Store& s, const std::string& key, const std::string& what) {
    try {
        return s.get(key);
    } catch (const Error& e) {
        fail(e.code(), what + ": " + e.what());
    }
}

Bytes verified_blob(const Store& s, const BlobRole& b, const std::string& what) {
    std::string bw = what + ": blob " + b.sha + " (" + b.role + ")";
    std::optional<Bytes> v = get_for(s, key_blob(b.sha), bw);
    if (!v) fail("integrity", bw + " is missing from the " + s.describe());
    if (v->size() != b.size)
        fail("integrity", bw + " is " + std::to_string(v->size()) + " bytes, the manifest says " + std::to_string(b.size));
    if (sha256_hex(v->data(), v->size()) != b.sha) fail("integrity", bw + " does not match its SHA-256 (the stored bytes changed)");
    return std::move(*v);
}

Json read_manifest(const Store& s, const Ref& r, std::optional<Bytes>* raw_out = nullptr) {
    std::string what = version_str(r.model, r.version);
    std::optional<Bytes> raw = get_for(s, key_version(r.model, r.version), what);
    if (!raw) fail("not_found", what + " does not exist");
    Json m;
    try {
        m = unseal_record(*raw, "manifest");
    } catch (const Error& e) {
        fail(e.code(), what + ": " + e.what());
    }
    validate_manifest(m, what);
    if (m["model"] != r.model || m["version"] != r.version) fail("integrity", what + ": manifest names a different version");
    if (raw_out) *raw_out = std::move(raw);
    return m;
}

}  // namespace

Json load_manifest(const Store& s, const Ref& ref) { return read_manifest(s, ref); }

LoadedVersion load_version(const Store& s, const std::string& ref) {
    LoadedVersion lv;
    lv.ref = resolve(s, ref);
    lv.manifest = read_manifest(s, lv.ref);
    std::string what = version_str(lv.ref.model, lv.ref.version);
    for (const BlobRole& b : blob_roles(lv.manifest)) {
        std::vector<NamedTensor> ts = decode_blob(verified_blob(s, b, what), b, what);
        (std::string(b.role) == "weights" ? lv.artifact.weights : lv.artifact.optimizer_state) = std::move(ts);
    }
    lv.artifact.architecture = lv.manifest.value("architecture", Json());
    lv.artifact.optimizer = lv.manifest.value("optimizer", Json());
    lv.artifact.preprocessing = lv.manifest.value("preprocessing", Json());
    return lv;
}

//-----------------------------------------------------------------------------
// [SECTION] References
//-----------------------------------------------------------------------------

std::vector<std::string> list_models(const Store& s) {
    std::optional<Json> idx = get_record(s, kIndexKey);
    if (!idx) return {};
    return (*idx)["models"].get<std::vector<std::string>>();
}

Json model_record(const Store& s, const std::string& model) {
    std::optional<Json> r = get_record(s, key_model(model));
    if (!r) {
        std::vector<std::string> all = list_models(s);
        fail("not_found", "no model named '" + model + "' in the " + s.describe() + " (models: " + join(all) + ")");
    }
    return *r;
}

namespace {
std::vector<int64_t> versions_from(const Store& s, const std::string& model, const Json& record, bool include_archived) {
    std::vector<int64_t> out;
    std::string prefix = key_versions(model);
    for (const std::string& k : s.list(prefix)) {
        std::string tail = k.substr(prefix.size());
        if (!all_digits(tail)) continue;
        int64_t v = std::stoll(tail);
        if (!include_archived && record["archived"].contains(std::to_string(v))) continue;
        out.push_back(v);
    }
    return out;
}

}  // namespace

std::vector<int64_t> list_versions(const Store& s, const std::string& model, bool include_archived) {
    return versions_from(s, model, model_record(s, model), include_archived);
}

namespace {
[[noreturn]] void fail_no_alias(const Json& model_record, const std::string& model, const std::string& alias) {
    std::vector<std::string> names;
    for (auto& [k, v] : model_record["aliases"].items()) names.push_back(k);
    fail("not_found", "model '" + model + "' has no alias '" + alias + "' (aliases: " + (names.empty() ? "none" : join(names)) + ")");
}
}  // namespace

Ref resolve(const Store& s, const std::string& ref) {
    auto bad = [&](const std::string& why) {
        fail("bad_reference", "bad reference '" + ref + "': " + why + " (use NAME/3, NAME@ALIAS or NAME@latest)");
    };
    size_t at = ref.find('@'), slash = ref.find('/');
    std::string model = ref.substr(0, std::min(at, slash));
    if (at != std::string::npos && slash != std::string::npos) bad("use either /VERSION or @ALIAS, not both");
    if (model.empty()) bad("the model name is empty");
    if (!valid_name(model)) bad("'" + model + "' is not a valid model name");
    Json record = model_record(s, model);
    std::string what = "model '" + model + "'";
    if (slash != std::string::npos) {
        std::string num = ref.substr(slash + 1);
        if (!all_digits(num) || num.size() > 15 || std::stoll(num) < 1) bad("the version must be a positive integer");
        int64_t v = std::stoll(num);
        if (!s.get(key_version(model, v))) {
            int64_t last = counter_last(get_record(s, key_counter(model)));
            fail("not_found", v <= last ? what + " version " + std::to_string(v) + " was deleted"
                                        : what + " has no version " + std::to_string(v) + " (the latest number is " + std::to_string(last) + ")");
        }
        return {model, v};
    }
    std::string alias = at == std::string::npos ? "latest" : ref.substr(at + 1);
    if (alias.empty()) bad("the alias after '@' is empty");
    if (alias == "latest") {
        std::vector<int64_t> vs = versions_from(s, model, record, false);
        if (vs.empty()) fail("not_found", what + " has no versions (or all are archived)");
        return {model, vs.back()};
    }
    if (!valid_name(alias)) bad("'" + alias + "' is not a valid alias name");
    const Json& aliases = record["aliases"];
    if (!aliases.contains(alias)) fail_no_alias(record, model, alias);
    return {model, aliases[alias].get<int64_t>()};
}

//-----------------------------------------------------------------------------
// [SECTION] Register
//-----------------------------------------------------------------------------

Plan plan_register(const Store& s, const VersionDesc& d) {
    check_name(d.model, "model");
    auto obj_or_null = [](const Json& j, const char* field) {
        if (!j.is_null() && !j.is_object()) fail("invalid_argument", std::string("register: ") + field + " must be a JSON object");
    };
    obj_or_null(d.hyperparameters, "hyperparameters");
    obj_or_null(d.metrics, "metrics");
    if (d.metrics.is_object())
        for (auto& [split, ms] : d.metrics.items()) {
            if (!ms.is_object()) fail("invalid_argument", "register: metrics." + split + " must be an object of numbers");
            for (auto& [k, v] : ms.items())
                if (!v.is_number() && !v.is_null()) fail("invalid_argument", "register: metrics." + split + "." + k + " is not a number");
        }
    Plan p;
    Reader r{s, p.batch};
    Json parent = nullptr;
    if (!d.parent.empty()) {
        Ref pr = resolve(s, d.parent);
        r.raw(key_version(pr.model, pr.version));  // the parent must still exist when this commits
        parent = {{"model", pr.model}, {"version", pr.version}};
    }
    check_annotation(d.notes, d.tags);
    int64_t version = counter_last(r.record(key_counter(d.model))) + 1;
    if (!s.get(key_model(d.model))) {
        r.raw(key_model(d.model));
        std::optional<Json> idx = r.record(kIndexKey);
        Json index = idx ? *idx : Json{{"models", Json::array()}};
        index["models"].push_back(d.model);
        put(p.batch, kIndexKey, index);
        put(p.batch, key_model(d.model), new_model_record(d.model, d.model_description, d.created_ms));
    }
    auto blob_entry = [&](const std::vector<NamedTensor>& ts) {
        Bytes b = safetensors_encode(ts);
        std::string sha = sha256_hex(b.data(), b.size());
        Json e = {{"blob", sha}, {"size", b.size()}, {"tensors", tensor_listing(ts)}};
        p.batch.writes.push_back({key_blob(sha), std::move(b)});
        return e;
    };
    const ModelArtifact& a = d.artifact;
    int64_t params = 0;
    for (const NamedTensor& t : a.weights) params += t.tensor.numel();
    Json weights = blob_entry(a.weights);
    Json opt_state = a.optimizer_state.empty() ? Json(nullptr) : blob_entry(a.optimizer_state);
    Json m = {
        {"format", "cairn.model_version"},
        {"format_version", kManifestFormatVersion},
        {"model", d.model},
        {"version", version},
        {"created_ms", d.created_ms},
        {"parent", parent},
        {"architecture", a.architecture},
        {"preprocessing", a.preprocessing},
        {"optimizer", a.optimizer},
        {"weights", weights},
        {"optimizer_state", opt_state},
        {"dataset", {{"name", d.dataset_name}, {"fingerprint", d.dataset_fingerprint}, {"schema", d.dataset_schema}, {"samples", d.dataset_samples}}},
        {"hyperparameters", d.hyperparameters.is_null() ? Json::object() : d.hyperparameters},
        {"training_history", d.training_history},
        {"metrics", d.metrics.is_null() ? Json::object() : d.metrics},
        {"notes", d.notes},
        {"tags", d.tags},
        {"sizes", {{"parameters", params}, {"weights_bytes", weights["size"]}, {"optimizer_bytes", opt_state.is_null() ? Json(0) : opt_state["size"]}}},
    };
    std::string vkey = key_version(d.model, version);
    p.batch.conditions.push_back({vkey, std::nullopt});
    put(p.batch, vkey, m);
    put(p.batch, key_counter(d.model), Json{{"last", version}});
    p.result = {{"model", d.model}, {"version", version}};
    return p;
}

Json commit_plan(Store& s, const std::function<Plan(const Store&)>& planner, int max_attempts) {
    for (int i = 0; i < max_attempts; ++i) {
        Plan p = planner(s);
        if (p.batch.writes.empty()) return p.result;
        if (s.commit(p.batch)) return p.result;
    }
    fail("conflict", "the " + s.describe() + " kept changing while planning; gave up after " + std::to_string(max_attempts) + " attempts");
}

Ref register_version(Store& s, const VersionDesc& desc) {
    Json r = commit_plan(s, [&](const Store& snap) { return plan_register(snap, desc); });
    return {r["model"].get<std::string>(), r["version"].get<int64_t>()};
}

//-----------------------------------------------------------------------------
// [SECTION] Aliases
//-----------------------------------------------------------------------------

namespace {

// The model record as read for an update (conditioned), with not_found naming the known models.
Json read_model_for_update(const Store& s, Reader& r, const std::string& model) {
    std::optional<Json> rec = r.record(key_model(model));
    if (!rec) model_record(s, model);  // throws not_found with the list of models
    return *rec;
}

void append_history(Json& rec, int64_t time_ms, const std::string& alias, const char* action, const Json& from,
                    const Json& to, const std::string& reason) {
    rec["history"].push_back({{"time_ms", time_ms}, {"alias", alias}, {"action", action}, {"from", from}, {"to", to}, {"reason", reason}});
}

void require_version_usable(const Store& s, Reader& r, const Json& rec, const Ref& ref, const char* doing) {
    if (!r.raw(key_version(ref.model, ref.version)))
        fail("not_found", std::string(doing) + ": " + ref.str() + " was deleted");
    if (rec["archived"].contains(std::to_string(ref.version)))
        fail("archived", std::string(doing) + ": " + ref.str() + " is archived");
    // An alias is what deployments load: never point one at a version that would fail to load. The blobs are
    // content-addressed and never change, so reading them adds no commit condition.
    const std::string what = version_str(ref.model, ref.version);
    for (const BlobRole& b : blob_roles(read_manifest(s, ref))) {
        try {
            verified_blob(s, b, what);
        } catch (const Error& e) {
            fail(e.code(), std::string(doing) + ": " + ref.str() + " cannot be loaded, so no alias may point at it (" + e.what() + ")");
        }
    }
}

}  // namespace

Plan plan_set_alias(const Store& s, const std::string& ref, const std::string& alias, int64_t time_ms, const std::string& reason) {
    check_name(alias, "alias");
    Plan p;
    Reader r{s, p.batch};
    Ref target = resolve(s, ref);
    Json rec = read_model_for_update(s, r, target.model);
    require_version_usable(s, r, rec, target, "set alias");
    Json from = rec["aliases"].contains(alias) ? rec["aliases"][alias] : Json(nullptr);
    p.result = {{"model", target.model}, {"alias", alias}, {"from", from}, {"to", target.version}};
    if (from == target.version) {
        p.result["unchanged"] = true;
        return p;
    }
    rec["aliases"][alias] = target.version;
    append_history(rec, time_ms, alias, "set", from, target.version, reason);
    put(p.batch, key_model(target.model), rec);
    return p;
}

Plan plan_remove_alias(const Store& s, const std::string& model, const std::string& alias, int64_t time_ms, const std::string& reason) {
    check_name(alias, "alias");
    Plan p;
    Reader r{s, p.batch};
    Json rec = read_model_for_update(s, r, model);
    if (!rec["aliases"].contains(alias)) fail_no_alias(rec, model, alias);
    Json from = rec["aliases"][alias];
    rec["aliases"].erase(alias);
    append_history(rec, time_ms, alias, "remove", from, nullptr, reason);
    put(p.batch, key_model(model), rec);
    p.result = {{"model", model}, {"alias", alias}, {"from", from}, {"to", nullptr}};
    return p;
}

Plan plan_rollback(const Store& s, const std::string& model, const std::string& alias, int64_t time_ms, const std::string& reason) {
    check_name(alias, "alias");
    Plan p;
    Reader r{s, p.batch};
    Json rec = read_model_for_update(s, r, model);
    // Replay the alias's history as a stack of earlier targets: a set or remove pushes what it replaced, a
    // rollback pops. So repeated rollbacks walk back through the assignments one at a time.
    std::vector<int64_t> stack;
    bool ever_set = rec["aliases"].contains(alias);
    for (const Json& e : rec["history"]) {
        if (e["alias"] != alias) continue;
        ever_set = true;
        std::string action = e["action"];
        if (action == "rollback") {
            if (!stack.empty()) stack.pop_back();
        } else if (!e["from"].is_null()) {
            stack.push_back(e["from"].get<int64_t>());
        }
    }
    if (!ever_set) fail_no_alias(rec, model, alias);  // a typo, or another spelling: aliases are case-sensitive
    if (stack.empty())
        fail("nothing_to_rollback", "alias '" + alias + "' of model '" + model + "' has no earlier version to roll back to");
    Ref target{model, stack.back()};
    require_version_usable(s, r, rec, target, "rollback");
    Json from = rec["aliases"].contains(alias) ? rec["aliases"][alias] : Json(nullptr);
    rec["aliases"][alias] = target.version;
    append_history(rec, time_ms, alias, "rollback", from, target.version, reason);
    put(p.batch, key_model(model), rec);
    p.result = {{"model", model}, {"alias", alias}, {"from", from}, {"to", target.version}};
    return p;
}

//-----------------------------------------------------------------------------
// [SECTION] Archive, delete, gc
//-----------------------------------------------------------------------------

namespace {
void refuse_if_aliased(const Json& rec, const Ref& ref, const char* doing) {
    std::vector<std::string> names;
    for (auto& [k, v] : rec["aliases"].items())
        if (v == ref.version) names.push_back(k);
    if (!names.empty())
        fail("alias_in_use", std::string("cannot ") + doing + " " + ref.str() + ": alias(es) " + join(names) +
                                 " point at it; move or remove them first");
}

// The model record as read for an update of one of its versions, which must still exist when the change commits.
Json read_version_for_update(const Store& s, Reader& r, const Ref& target) {
    Json rec = read_model_for_update(s, r, target.model);
    if (!r.raw(key_version(target.model, target.version))) fail("not_found", target.str() + " was deleted");
    return rec;
}

// The edited notes and tags of a version in a model record; null when it has none (or the record predates them).
const Json* annotation_of(const Json& rec, const std::string& version) {
    if (!rec.contains("annotations") || !rec["annotations"].is_object()) return nullptr;
    auto it = rec["annotations"].find(version);
    return it == rec["annotations"].end() ? nullptr : &*it;
}

}  // namespace

Plan plan_archive(const Store& s, const std::string& ref, int64_t time_ms, const std::string& reason) {
    Plan p;
    Reader r{s, p.batch};
    Ref target = resolve(s, ref);
    Json rec = read_version_for_update(s, r, target);
    refuse_if_aliased(rec, target, "archive");
    p.result = {{"model", target.model}, {"version", target.version}};
    std::string k = std::to_string(target.version);
    if (rec["archived"].contains(k)) return p;
    rec["archived"][k] = {{"time_ms", time_ms}, {"reason", reason}};
    put(p.batch, key_model(target.model), rec);
    return p;
}

Plan plan_unarchive(const Store& s, const std::string& ref) {
    Plan p;
    Reader r{s, p.batch};
    Ref target = resolve(s, ref);
    Json rec = read_version_for_update(s, r, target);
    p.result = {{"model", target.model}, {"version", target.version}};
    if (!rec["archived"].contains(std::to_string(target.version))) return p;
    rec["archived"].erase(std::to_string(target.version));
    put(p.batch, key_model(target.model), rec);
    return p;
}

Plan plan_annotate(const Store& s, const std::string& ref, const std::string& notes, const std::vector<std::string>& tags, int64_t time_ms) {
    check_annotation(notes, tags);
    Plan p;
    Reader r{s, p.batch};
    Ref target = resolve(s, ref);
    Json rec = read_version_for_update(s, r, target);
    p.result = {{"model", target.model}, {"version", target.version}, {"notes", notes}, {"tags", tags}};
    if (!rec.contains("annotations") || !rec["annotations"].is_object()) rec["annotations"] = Json::object();
    rec["annotations"][std::to_string(target.version)] = {{"notes", notes}, {"tags", tags}, {"time_ms", time_ms}};
    put(p.batch, key_model(target.model), rec);
    return p;
}

Json version_annotation(const Json& record, const Json& manifest) {
    auto tags_of = [](const Json& j) {
        Json out = Json::array();
        if (j.is_array())
            for (const Json& t : j)
                if (t.is_string()) out.push_back(t);
        return out;
    };
    if (const Json* a = annotation_of(record, manifest.contains("version") ? manifest["version"].dump() : ""))
        return {{"notes", a->value("notes", std::string())}, {"tags", tags_of(a->value("tags", Json()))}, {"edited_ms", a->value("time_ms", Json())}};
    return {{"notes", manifest.value("notes", std::string())}, {"tags", tags_of(manifest.value("tags", Json()))}, {"edited_ms", nullptr}};
}

Plan plan_delete(const Store& s, const std::string& ref) {
    Plan p;
    Reader r{s, p.batch};
    Ref target = resolve(s, ref);
    Json rec = read_version_for_update(s, r, target);
    std::string vkey = key_version(target.model, target.version);
    refuse_if_aliased(rec, target, "delete");
    // A delete cannot be undone, so it names its version: "iris" or "iris@latest" would be whichever one is newest.
    if (ref.find('/') == std::string::npos)
        fail("bad_reference", "delete takes a version number: '" + ref + "' is " + target.str() + " now; to delete it, use " + target.str());
    rec["archived"].erase(std::to_string(target.version));
    if (rec.contains("annotations") && rec["annotations"].is_object()) rec["annotations"].erase(std::to_string(target.version));
    put(p.batch, key_model(target.model), rec);
    p.batch.writes.push_back({vkey, std::nullopt});
    p.result = {{"model", target.model}, {"version", target.version}};
    return p;
}

Plan plan_gc(const Store& s) {
    Plan p;
    Reader r{s, p.batch};
    std::optional<Json> idx = r.record(kIndexKey);
    std::set<std::string> used;
    if (idx)
        for (const Json& jm : (*idx)["models"]) {
            std::string m = jm;
            r.record(key_counter(m));
            for (const std::string& k : s.list(key_versions(m))) {
                int64_t v = std::stoll(k.substr(key_versions(m).size()));
                Json man = read_manifest(s, {m, v});  // a damaged manifest stops gc: its blobs cannot be known
                for (const BlobRole& b : blob_roles(man)) used.insert(b.sha);
            }
        }
    uint64_t bytes = 0, n = 0;
    for (const std::string& k : s.list("blob/")) {
        if (used.count(k.substr(5))) continue;
        try {
            if (auto v = s.get(k)) bytes += v->size();
        } catch (const Error&) {  // damaged and unreferenced: deleting it is the cure
        }
        p.batch.writes.push_back({k, std::nullopt});
        ++n;
    }
    p.result = {{"deleted", n}, {"bytes", bytes}};
    return p;
}

//-----------------------------------------------------------------------------
// [SECTION] Compare
//-----------------------------------------------------------------------------

Json compare_versions(const Store& s, const std::string& ref_a, const std::string& ref_b) {
    LoadedVersion a = load_version(s, ref_a), b = load_version(s, ref_b);
    Json out = {{"a", a.ref.str()}, {"b", b.ref.str()}};
    Json metrics = Json::array();
    const Json &ma = a.manifest["metrics"], &mb = b.manifest["metrics"];
    std::set<std::pair<std::string, std::string>> seen;
    for (const Json* side : {&ma, &mb})
        for (auto& [split, ms] : side->items())
            for (auto& [k, v] : ms.items()) {
                if (!seen.insert({split, k}).second) continue;
                Json va = ma.contains(split) && ma[split].contains(k) ? ma[split][k] : Json(nullptr);
                Json vb = mb.contains(split) && mb[split].contains(k) ? mb[split][k] : Json(nullptr);
                Json delta = va.is_number() && vb.is_number() ? Json(vb.get<double>() - va.get<double>()) : Json(nullptr);
                metrics.push_back({{"split", split}, {"metric", k}, {"a", va}, {"b", vb}, {"delta", delta}});
            }
    out["metrics"] = metrics;
    Json hp = Json::array();
    // Nested settings (e.g. optimizer.lr) are compared leaf by leaf, so a diff names the one value that changed.
    const Json ha = a.manifest["hyperparameters"].flatten(), hb = b.manifest["hyperparameters"].flatten();
    std::set<std::string> keys;
    for (auto& [k, v] : ha.items()) keys.insert(k);
    for (auto& [k, v] : hb.items()) keys.insert(k);
    for (const std::string& k : keys) {
        Json va = ha.contains(k) ? ha[k] : Json(nullptr), vb = hb.contains(k) ? hb[k] : Json(nullptr);
        std::string key = k.substr(1);  // JSON pointer "/optimizer/lr" -> "optimizer.lr"
        std::replace(key.begin(), key.end(), '/', '.');
        if (va != vb) hp.push_back({{"key", key}, {"a", va}, {"b", vb}});
    }
    out["hyperparameters"] = hp;
    out["architecture"] = Json::diff(a.manifest["architecture"], b.manifest["architecture"]);
    out["dataset_changed"] = a.manifest["dataset"].value("fingerprint", "") != b.manifest["dataset"].value("fingerprint", "");
    auto as_double = [](const Tensor& t, int64_t i) -> double {
        switch (t.dtype()) {
            case DType::f32: return t.data<float>()[i];
            case DType::i8: return t.data<int8_t>()[i];
            default: return t.data<int32_t>()[i];
        }
    };
    Json weights = Json::array();
    for (const NamedTensor& ta : a.artifact.weights) {
        auto it = std::find_if(b.artifact.weights.begin(), b.artifact.weights.end(), [&](const NamedTensor& x) { return x.name == ta.name; });
        if (it == b.artifact.weights.end()) {
            weights.push_back({{"name", ta.name}, {"status", "only_a"}, {"shape_a", ta.tensor.shape()}, {"shape_b", nullptr}, {"l2", nullptr}, {"cosine", nullptr}});
            continue;
        }
        Json e = {{"name", ta.name}, {"shape_a", ta.tensor.shape()}, {"shape_b", it->tensor.shape()}, {"l2", nullptr}, {"cosine", nullptr}};
        if (ta.tensor.shape() != it->tensor.shape()) {
            e["status"] = "shape_changed";
        } else {
            double d2 = 0, dot = 0, na = 0, nb = 0;
            for (int64_t i = 0; i < ta.tensor.numel(); ++i) {
                double x = as_double(ta.tensor, i), y = as_double(it->tensor, i);
                d2 += (x - y) * (x - y), dot += x * y, na += x * x, nb += y * y;
            }
            e["status"] = d2 == 0 ? "identical" : "changed";
            e["l2"] = std::sqrt(d2);
            if (na > 0 && nb > 0) e["cosine"] = dot / (std::sqrt(na) * std::sqrt(nb));
        }
        weights.push_back(e);
    }
    for (const NamedTensor& tb : b.artifact.weights)
        if (std::none_of(a.artifact.weights.begin(), a.artifact.weights.end(), [&](const NamedTensor& x) { return x.name == tb.name; }))
            weights.push_back({{"name", tb.name}, {"status", "only_b"}, {"shape_a", nullptr}, {"shape_b", tb.tensor.shape()}, {"l2", nullptr}, {"cosine", nullptr}});
    out["weights"] = weights;
    return out;
}

//-----------------------------------------------------------------------------
// [SECTION] Verify
//-----------------------------------------------------------------------------

Json verify_registry(const Store& s) {
    Json problems = Json::array();
    auto problem = [&](const Error& e) { problems.push_back({{"code", e.code()}, {"message", e.what()}}); };
    int64_t n_models = 0, n_versions = 0, n_damaged = 0;
    std::set<std::string> used;
    std::vector<std::string> models;
    try {
        models = list_models(s);
    } catch (const Error& e) {
        problem(e);
    }
    for (const std::string& m : models) {
        try {
            Json rec = model_record(s, m);
            get_record(s, key_counter(m));
            ++n_models;
            std::vector<int64_t> vs = versions_from(s, m, rec, true);
            for (int64_t v : vs) {
                ++n_versions;
                try {
                    // Blobs count as referenced even when damaged, so each problem is reported once, with its version.
                    for (const BlobRole& b : blob_roles(read_manifest(s, {m, v}))) used.insert(b.sha);
                    load_version(s, m + "/" + std::to_string(v));
                } catch (const Error& e) {
                    ++n_damaged;
                    problem(e);
                }
            }
            for (auto& [alias, v] : rec["aliases"].items())
                if (std::find(vs.begin(), vs.end(), v.get<int64_t>()) == vs.end())
                    problem(Error("dangling_alias", "model '" + m + "': alias '" + alias + "' points at missing version " + v.dump()));
        } catch (const Error& e) {
            problem(e);
        }
    }
    int64_t n_blobs = 0, unreferenced = 0;
    for (const std::string& k : s.list("blob/")) {
        ++n_blobs;
        if (used.count(k.substr(5))) continue;  // referenced ones were verified with their version
        ++unreferenced;
        try {
            std::optional<Bytes> v = s.get(k);
            if (v && sha256_hex(v->data(), v->size()) != k.substr(5))
                problem(Error("integrity", "unreferenced " + k + " does not match its SHA-256"));
        } catch (const Error& e) {
            problem(e);
        }
    }
    return {{"ok", problems.empty()}, {"models", n_models}, {"versions", n_versions}, {"damaged_versions", n_damaged}, {"blobs", n_blobs},
            {"unreferenced_blobs", unreferenced}, {"problems", problems}};
}

//-----------------------------------------------------------------------------
// [SECTION] Export and import
//-----------------------------------------------------------------------------

namespace {

// Adds one version (verified) to a package model entry.
void export_one(const Store& s, const Ref& r, Json& entry, Package& pkg) {
    Json m = read_manifest(s, r);
    std::string what = version_str(r.model, r.version);
    for (const BlobRole& b : blob_roles(m)) {
        Bytes bytes = verified_blob(s, b, what);
        decode_blob(bytes, b, what);
        pkg.blobs[b.sha] = std::move(bytes);
    }
    entry["versions"].push_back(m);
}

Json package_header(const char* kind) {
    return {{"format", "cairn.package"}, {"format_version", kPackageFormatVersion}, {"kind", kind}, {"models", Json::array()}};
}

}  // namespace

Bytes export_version(const Store& s, const std::string& ref) {
    Ref r = resolve(s, ref);
    Json rec = model_record(s, r.model);
    Package pkg;
    pkg.header = package_header("version");
    Json entry = {{"name", r.model}, {"description", rec["description"]}, {"tags", rec["tags"]},
                  {"created_ms", rec["created_ms"]}, {"last_version", r.version}, {"aliases", Json::object()},
                  {"archived", Json::object()}, {"annotations", Json::object()}, {"history", Json::array()}, {"versions", Json::array()}};
    if (const Json* a = annotation_of(rec, std::to_string(r.version))) entry["annotations"][std::to_string(r.version)] = *a;
    export_one(s, r, entry, pkg);
    pkg.header["models"].push_back(entry);
    return package_encode(pkg);
}

Bytes export_registry(const Store& s) {
    Package pkg;
    pkg.header = package_header("registry");
    for (const std::string& m : list_models(s)) {
        Json rec = model_record(s, m);
        Json entry = rec;
        entry["last_version"] = counter_last(get_record(s, key_counter(m)));
        entry["versions"] = Json::array();
        for (int64_t v : versions_from(s, m, rec, true)) export_one(s, {m, v}, entry, pkg);
        pkg.header["models"].push_back(entry);
    }
    return package_encode(pkg);
}

Plan plan_import(const Store& s, const Bytes& file, const std::string& what) {
    Package pkg = package_decode(file, what);
    const Json& h = pkg.header;
    auto bad = [&](const std::string& code, const std::string& msg) { fail(code, what + ": " + msg); };
    std::string kind = h.value("kind", "");
    if (kind != "version" && kind != "registry") bad("invalid_format", "kind must be \"version\" or \"registry\"");
    if (!h.contains("models") || !h["models"].is_array()) bad("invalid_format", "the header has no models list");
    // 1. Everything in the file, on its own.
    std::set<std::string> used, names;
    for (const Json& e : h["models"]) {
        if (!e.is_object() || !e.contains("name") || !e["name"].is_string() || !valid_name(e["name"].get<std::string>()))
            bad("invalid_format", "a models entry has no valid name");
        std::string m = e["name"];
        if (!names.insert(m).second) bad("invalid_format", "model '" + m + "' appears twice");
        for (const char* k : {"aliases", "archived"})
            if (!e.contains(k) || !e[k].is_object()) bad("invalid_format", "model '" + m + "': " + k + " must be an object");
        if (!e.contains("history") || !e["history"].is_array()) bad("invalid_format", "model '" + m + "': history must be an array");
        if (!e.contains("last_version") || !e["last_version"].is_number_integer()) bad("invalid_format", "model '" + m + "': no last_version");
        if (!e.contains("versions") || !e["versions"].is_array()) bad("invalid_format", "model '" + m + "': no versions list");
        int64_t last = e["last_version"];
        std::set<int64_t> vs;
        for (const Json& man : e["versions"]) {
            std::string vw = what + ": model '" + m + "' version " + (man.is_object() ? man.value("version", Json()).dump() : "?");
            validate_manifest(man, vw);
            int64_t v = man["version"];
            if (man["model"] != m) bad("invalid_manifest", vw + " is listed under model '" + m + "' but names " + man["model"].dump());
            if (v > last) bad("invalid_format", vw + " is above the model's last_version " + std::to_string(last));
            if (!vs.insert(v).second) bad("invalid_format", vw + " appears twice");
            for (const BlobRole& b : blob_roles(man)) {
                auto it = pkg.blobs.find(b.sha);
                if (it == pkg.blobs.end()) bad("missing_blob", vw + ": blob " + b.sha + " (" + b.role + ") is not in the file");
                if (it->second.size() != b.size)
                    bad("invalid_manifest", vw + ": blob " + b.sha + " is " + std::to_string(it->second.size()) + " bytes, the manifest says " + std::to_string(b.size));
                decode_blob(it->second, b, vw);
                used.insert(b.sha);
            }
        }
        for (auto& [alias, v] : e["aliases"].items()) {
            if (!valid_name(alias) || !v.is_number_integer() || !vs.count(v.get<int64_t>()))
                bad("invalid_format", "model '" + m + "': alias '" + alias + "' points at " + v.dump() + ", which is not in the file");
        }
        if (e.contains("annotations")) {  // optional: packages written before annotations existed lack it
            if (!e["annotations"].is_object()) bad("invalid_format", "model '" + m + "': annotations must be an object");
            for (auto& [v, a] : e["annotations"].items()) {
                std::string where = "model '" + m + "': annotation of version " + v;
                if (!a.is_object() || !a.contains("notes") || !a["notes"].is_string() || !a.contains("tags") || !a["tags"].is_array())
                    bad("invalid_format", where + " needs notes (string) and tags (array)");
                std::vector<std::string> tags;
                for (const Json& t : a["tags"]) {
                    if (!t.is_string()) bad("invalid_format", where + ": tags must be strings");
                    tags.push_back(t);
                }
                try {
                    check_annotation(a["notes"], tags);
                } catch (const Error& err) {
                    bad("invalid_format", where + ": " + err.what());
                }
                if (std::none_of(vs.begin(), vs.end(), [&key = v](int64_t x) { return std::to_string(x) == key; }))
                    bad("invalid_format", where + " is not in the file");
            }
        }
        for (const Json& he : e["history"])
            if (!he.is_object() || !he.contains("alias") || !he["alias"].is_string() || !he.contains("action") ||
                !he.contains("from") || !he.contains("to") || !he.contains("time_ms"))
                bad("invalid_format", "model '" + m + "': a history entry needs time_ms, alias, action, from and to");
    }
    for (auto& [sha, b] : pkg.blobs)
        if (!used.count(sha)) bad("invalid_format", "blob " + sha + " is not referenced by any version in the file");
    // 2. Against the store: identical versions are skipped, different ones with the same number are refused.
    Plan p;
    Reader r{s, p.batch};
    std::optional<Json> idx = r.record(kIndexKey);
    Json index = idx ? *idx : Json{{"models", Json::array()}};
    Json imported = Json::array(), skipped = Json::array(), models = Json::array();
    bool index_changed = false;
    for (const Json& e : h["models"]) {
        std::string m = e["name"];
        int64_t dest_last = counter_last(r.record(key_counter(m)));
        std::optional<Json> dest_rec = r.record(key_model(m));
        for (const Json& man : e["versions"]) {
            int64_t v = man["version"];
            Ref ref{m, v};
            std::optional<Bytes> raw = r.raw(key_version(m, v));
            if (raw) {
                if (read_manifest(s, ref) != man)
                    fail("conflict", what + ": " + ref.str() + " already exists in the " + s.describe() + " with different content; nothing was imported");
                skipped.push_back(ref.str());
                continue;
            }
            if (v <= dest_last)
                fail("conflict", what + ": " + ref.str() + " was used and deleted in the " + s.describe() + "; version numbers are never reused; nothing was imported");
            put(p.batch, key_version(m, v), man);
            imported.push_back(ref.str());
        }
        if (e["last_version"].get<int64_t>() > dest_last) put(p.batch, key_counter(m), Json{{"last", e["last_version"]}});
        if (!dest_rec) {
            Json rec = new_model_record(m, e.value("description", ""), e.value("created_ms", int64_t(0)));
            rec["tags"] = e.value("tags", Json::array());
            rec["aliases"] = e["aliases"];
            rec["archived"] = e["archived"];
            rec["annotations"] = e.value("annotations", Json::object());
            rec["history"] = e["history"];
            put(p.batch, key_model(m), rec);
            index["models"].push_back(m);
            index_changed = true;
        }
        models.push_back({{"name", m}, {"created", !dest_rec}, {"aliases_imported", !dest_rec}});
    }
    if (index_changed) put(p.batch, kIndexKey, index);
    if (!imported.empty())
        for (auto& [sha, b] : pkg.blobs) p.batch.writes.push_back({key_blob(sha), b});
    p.result = {{"versions", imported}, {"skipped", skipped}, {"models", models}};
    return p;
}

}  // namespace cairn
