// Registry commands: models, versions, show, alias set|rm, promote, rollback, history, diff, archive, delete, verify,
// export, import, gc. Tables for people by default, --json for scripts. The store is --store DIR, else $CAIRN_STORE,
// else $XDG_DATA_HOME/cairn, else ~/.local/share/cairn.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>

#include "core/error.h"
#include "core/registry.h"
#include "native/cli.h"
#include "native/file_store.h"

namespace cairn::cli {
namespace {

//-----------------------------------------------------------------------------
// [SECTION] Helpers
//-----------------------------------------------------------------------------

struct Common {
    std::string store;
    bool json = false;
};

void add_common(CLI::App* cmd, Common& c) {
    cmd->add_option("--store", c.store, "Registry folder (default: $CAIRN_STORE, $XDG_DATA_HOME/cairn or ~/.local/share/cairn)");
    cmd->add_flag("--json", c.json, "Print JSON instead of a table");
}

FileStore open_store(const Common& c) { return FileStore(c.store.empty() ? default_store_dir() : c.store); }

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string time_str(const Json& ms) {
    if (!ms.is_number_integer() || ms.get<int64_t>() <= 0) return "-";
    std::time_t t = static_cast<std::time_t>(ms.get<int64_t>() / 1000);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
    return buf;
}

std::string val(const Json& j) {
    if (j.is_null()) return "-";
    if (j.is_string()) return j.get<std::string>();
    if (j.is_number_float()) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.6g", j.get<double>());
        return buf;
    }
    return j.dump();
}

void print_json(const Json& j) { std::printf("%s\n", j.dump(2).c_str()); }

// Left-aligned columns sized to their content.
void print_table(const std::vector<std::string>& head, const std::vector<std::vector<std::string>>& rows) {
    std::vector<size_t> w(head.size());
    for (size_t i = 0; i < head.size(); ++i) w[i] = head[i].size();
    for (auto& r : rows)
        for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], r[i].size());
    auto line = [&](const std::vector<std::string>& r) {
        std::string s;
        for (size_t i = 0; i < r.size(); ++i) {
            s += r[i];
            if (i + 1 < r.size()) s += std::string(w[i] - r[i].size() + 2, ' ');
        }
        std::printf("%s\n", s.c_str());
    };
    line(head);
    for (auto& r : rows) line(r);
}

std::string aliases_of(const Json& rec, int64_t v) {
    std::string s;
    for (auto& [k, x] : rec["aliases"].items())
        if (x == v) s += (s.empty() ? "" : ",") + k;
    return s.empty() ? "-" : s;
}

Bytes read_input(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail("not_found", "cannot open '" + path + "'");
    return Bytes(std::istreambuf_iterator<char>(in), {});
}

void print_alias_change(const Json& r, const char* verb) {
    if (r.value("unchanged", false)) {
        std::printf("%s@%s already points at version %s\n", val(r["model"]).c_str(), val(r["alias"]).c_str(), val(r["to"]).c_str());
        return;
    }
    std::printf("%s %s@%s: %s -> %s\n", verb, val(r["model"]).c_str(), val(r["alias"]).c_str(), val(r["from"]).c_str(),
                val(r["to"]).c_str());
}

//-----------------------------------------------------------------------------
// [SECTION] Read commands
//-----------------------------------------------------------------------------

void cmd_models(const Common& c) {
    FileStore s = open_store(c);
    Json out = Json::array();
    std::vector<std::vector<std::string>> rows;
    for (const std::string& m : list_models(s)) {
        Json rec = model_record(s, m);
        std::vector<int64_t> vs = list_versions(s, m, false);
        Json e = {{"name", m}, {"description", rec["description"]}, {"versions", vs.size()},
                  {"latest", vs.empty() ? Json(nullptr) : Json(vs.back())}, {"aliases", rec["aliases"]}};
        out.push_back(e);
        std::string aliases;
        for (auto& [k, v] : rec["aliases"].items()) aliases += (aliases.empty() ? "" : " ") + k + "=" + v.dump();
        rows.push_back({m, std::to_string(vs.size()), val(e["latest"]), aliases.empty() ? "-" : aliases, val(rec["description"])});
    }
    if (c.json) return print_json(out);
    if (rows.empty()) return (void)std::printf("no models in %s\n", s.describe().c_str());
    print_table({"MODEL", "VERSIONS", "LATEST", "ALIASES", "DESCRIPTION"}, rows);
}

void cmd_versions(const Common& c, const std::string& model, bool all) {
    FileStore s = open_store(c);
    Json rec = model_record(s, model);
    Json out = Json::array();
    std::vector<std::vector<std::string>> rows;
    for (int64_t v : list_versions(s, model, all)) {
        Json m = load_manifest(s, {model, v});
        bool archived = rec["archived"].contains(std::to_string(v));
        Json note = version_annotation(rec, m);
        Json parent = m["parent"].is_null() ? Json(nullptr) : Json(m["parent"]["model"].get<std::string>() + "/" + m["parent"]["version"].dump());
        std::string metrics;
        for (auto& [split, ms] : m["metrics"].items())
            for (auto& [k, x] : ms.items())
                if (k != "samples") metrics += (metrics.empty() ? "" : " ") + split + "." + k + "=" + val(x);
        out.push_back({{"version", v}, {"created_ms", m["created_ms"]}, {"parent", parent}, {"parameters", m["sizes"]["parameters"]},
                       {"metrics", m["metrics"]}, {"aliases", aliases_of(rec, v)}, {"archived", archived}, {"notes", note["notes"]}, {"tags", note["tags"]}});
        rows.push_back({std::to_string(v), time_str(m["created_ms"]), val(parent), val(m["sizes"]["parameters"]),
                        aliases_of(rec, v), archived ? "archived" : "-", metrics.empty() ? "-" : metrics});
    }
    if (c.json) return print_json(out);
    print_table({"VERSION", "CREATED (UTC)", "PARENT", "PARAMS", "ALIASES", "STATUS", "METRICS"}, rows);
}

void cmd_show(const Common& c, const std::string& ref) {
    FileStore s = open_store(c);
    LoadedVersion lv = load_version(s, ref);  // verifies every blob
    const Json& m = lv.manifest;
    if (c.json) return print_json(m);
    Json rec = model_record(s, lv.ref.model);
    std::printf("%s   (verified: every blob matches its SHA-256)\n", lv.ref.str().c_str());
    std::printf("  created      %s UTC\n", time_str(m["created_ms"]).c_str());
    std::printf("  parent       %s\n", m["parent"].is_null() ? "-" : (m["parent"]["model"].get<std::string>() + "/" + m["parent"]["version"].dump()).c_str());
    std::printf("  aliases      %s\n", aliases_of(rec, lv.ref.version).c_str());
    std::printf("  status       %s\n", rec["archived"].contains(std::to_string(lv.ref.version)) ? "archived" : "active");
    std::printf("  dataset      %s (fingerprint %s, %s samples)\n", val(m["dataset"]["name"]).c_str(), val(m["dataset"]["fingerprint"]).c_str(),
                val(m["dataset"]["samples"]).c_str());
    std::printf("  parameters   %s (weights %s bytes, optimizer state %s bytes)\n", val(m["sizes"]["parameters"]).c_str(),
                val(m["sizes"]["weights_bytes"]).c_str(), val(m["sizes"]["optimizer_bytes"]).c_str());
    std::printf("  weights blob %s\n", val(m["weights"]["blob"]).c_str());
    std::printf("  hyper-parameters %s\n", m["hyperparameters"].dump().c_str());
    for (auto& [split, ms] : m["metrics"].items())
        for (auto& [k, x] : ms.items()) std::printf("  metric       %s.%s = %s\n", split.c_str(), k.c_str(), val(x).c_str());
    Json note = version_annotation(rec, m);
    std::string tags;
    for (const Json& t : note["tags"]) tags += (tags.empty() ? "" : ", ") + t.get<std::string>();
    if (!tags.empty()) std::printf("  tags         %s\n", tags.c_str());
    if (!note["notes"].get<std::string>().empty()) std::printf("  notes        %s\n", note["notes"].get<std::string>().c_str());
    std::printf("  tensors\n");
    for (const NamedTensor& t : lv.artifact.weights)
        std::printf("    %-32s %-4s %s\n", t.name.c_str(), dtype_name(t.tensor.dtype()), shape_str(t.tensor.shape()).c_str());
}

void cmd_history(const Common& c, const std::string& model, const std::string& alias) {
    FileStore s = open_store(c);
    Json out = Json::array();
    std::vector<std::vector<std::string>> rows;
    Json rec = model_record(s, model);  // named: a range-for over a temporary's member would dangle
    for (const Json& e : rec["history"]) {
        if (!alias.empty() && e["alias"] != alias) continue;
        out.push_back(e);
        rows.push_back({time_str(e["time_ms"]), val(e["alias"]), val(e["action"]), val(e["from"]), val(e["to"]), val(e["reason"])});
    }
    if (c.json) return print_json(out);
    print_table({"TIME (UTC)", "ALIAS", "ACTION", "FROM", "TO", "REASON"}, rows);
}

void cmd_diff(const Common& c, const std::string& a, const std::string& b) {
    FileStore s = open_store(c);
    Json d = compare_versions(s, a, b);
    if (c.json) return print_json(d);
    std::printf("%s -> %s%s\n\nmetrics\n", d["a"].get<std::string>().c_str(), d["b"].get<std::string>().c_str(),
                d["dataset_changed"].get<bool>() ? "   (trained on different data)" : "");
    std::vector<std::vector<std::string>> rows;
    for (const Json& m : d["metrics"]) rows.push_back({"  " + val(m["split"]) + "." + val(m["metric"]), val(m["a"]), val(m["b"]), val(m["delta"])});
    print_table({"  METRIC", "A", "B", "DELTA"}, rows);
    std::printf("\nhyper-parameters%s\n", d["hyperparameters"].empty() ? ": identical" : "");
    for (const Json& h : d["hyperparameters"]) std::printf("  %s: %s -> %s\n", val(h["key"]).c_str(), val(h["a"]).c_str(), val(h["b"]).c_str());
    std::printf("\narchitecture%s\n", d["architecture"].empty() ? ": identical" : "");
    for (const Json& p : d["architecture"]) std::printf("  %s %s %s\n", val(p["op"]).c_str(), val(p["path"]).c_str(), p.contains("value") ? p["value"].dump().c_str() : "");
    std::printf("\nweights\n");
    rows.clear();
    for (const Json& w : d["weights"]) rows.push_back({"  " + val(w["name"]), val(w["status"]), val(w["l2"]), val(w["cosine"])});
    print_table({"  TENSOR", "STATUS", "L2", "COSINE"}, rows);
}

//-----------------------------------------------------------------------------
// [SECTION] Write commands
//-----------------------------------------------------------------------------

Json commit(const Common& c, const std::function<Plan(const Store&)>& planner) {
    FileStore s = open_store(c);
    return commit_plan(s, planner);
}

void cmd_verify(const Common& c) {
    FileStore s = open_store(c);
    Json r = verify_registry(s);
    if (c.json) print_json(r);
    else {
        std::printf("%s: %s models, %s versions (%s damaged), %s blobs (%s unreferenced)\n", s.describe().c_str(),
                    val(r["models"]).c_str(), val(r["versions"]).c_str(), val(r["damaged_versions"]).c_str(), val(r["blobs"]).c_str(),
                    val(r["unreferenced_blobs"]).c_str());
        for (const Json& p : r["problems"]) std::printf("  [%s] %s\n", val(p["code"]).c_str(), val(p["message"]).c_str());
        std::printf("%s\n", r["ok"].get<bool>() ? "ok: everything matches its SHA-256" : "FAILED: the store is damaged");
    }
    if (!r["ok"].get<bool>()) fail("integrity", std::to_string(r["problems"].size()) + " problem(s) found in " + s.describe());
}

const bool registered = add_commands(200, [](CLI::App& app) {
    static Common c;
    static std::string ref, ref2, model, alias, reason, file;
    static bool all = false, dry_run = false;
    static std::string notes;
    static std::vector<std::string> tags;

    auto* models = app.add_subcommand("models", "List models in the registry");
    add_common(models, c);
    models->callback([] { cmd_models(c); });

    auto* versions = app.add_subcommand("versions", "List the versions of a model");
    versions->add_option("NAME", model, "Model name")->required();
    versions->add_flag("--all", all, "Include archived versions");
    add_common(versions, c);
    versions->callback([] { cmd_versions(c, model, all); });

    auto* show = app.add_subcommand("show", "Show one version (verifies its blobs)");
    show->add_option("REF", ref, "NAME/3, NAME@ALIAS or NAME@latest")->required();
    add_common(show, c);
    show->callback([] { cmd_show(c, ref); });

    auto* alias_cmd = app.add_subcommand("alias", "Set or remove an alias");
    alias_cmd->require_subcommand(1);
    auto* aset = alias_cmd->add_subcommand("set", "Point ALIAS at REF (creates or moves it): alias set REF ALIAS");
    aset->add_option("REF", ref, "Version reference")->required();
    aset->add_option("ALIAS", alias, "Alias name")->required();
    aset->add_option("--reason", reason, "Recorded in the history");
    add_common(aset, c);
    aset->callback([] {
        Json r = commit(c, [](const Store& s) { return plan_set_alias(s, ref, alias, now_ms(), reason); });
        c.json ? print_json(r) : print_alias_change(r, "set");
    });
    auto* arm = alias_cmd->add_subcommand("rm", "Remove ALIAS from model NAME");
    arm->add_option("NAME", model, "Model name")->required();
    arm->add_option("ALIAS", alias, "Alias name")->required();
    arm->add_option("--reason", reason, "Recorded in the history");
    add_common(arm, c);
    arm->callback([] {
        Json r = commit(c, [](const Store& s) { return plan_remove_alias(s, model, alias, now_ms(), reason); });
        c.json ? print_json(r) : print_alias_change(r, "removed");
    });

    auto* promote = app.add_subcommand("promote", "Point an alias at a version: promote REF ALIAS (e.g. promote iris/3 production)");
    promote->add_option("REF", ref, "Version reference")->required();
    promote->add_option("ALIAS", alias, "Alias name")->required();
    promote->add_option("--reason", reason, "Recorded in the history");
    add_common(promote, c);
    promote->callback([] {
        Json r = commit(c, [](const Store& s) { return plan_set_alias(s, ref, alias, now_ms(), reason); });
        c.json ? print_json(r) : print_alias_change(r, "promoted");
    });

    auto* rollback = app.add_subcommand("rollback", "Move ALIAS back to the version it held before");
    rollback->add_option("NAME", model, "Model name")->required();
    rollback->add_option("ALIAS", alias, "Alias name")->required();
    rollback->add_option("--reason", reason, "Recorded in the history");
    add_common(rollback, c);
    rollback->callback([] {
        Json r = commit(c, [](const Store& s) { return plan_rollback(s, model, alias, now_ms(), reason); });
        c.json ? print_json(r) : print_alias_change(r, "rolled back");
    });

    auto* history = app.add_subcommand("history", "Alias history of a model");
    history->add_option("NAME", model, "Model name")->required();
    history->add_option("--alias", alias, "Only this alias");
    add_common(history, c);
    history->callback([] { cmd_history(c, model, alias); });

    auto* diff = app.add_subcommand("diff", "Compare two versions: metrics, hyper-parameters, architecture, weights");
    diff->add_option("A", ref, "First version")->required();
    diff->add_option("B", ref2, "Second version")->required();
    add_common(diff, c);
    diff->callback([] { cmd_diff(c, ref, ref2); });

    auto* archive = app.add_subcommand("archive", "Hide a version from @latest and listings (refused while aliased)");
    archive->add_option("REF", ref, "Version reference")->required();
    archive->add_option("--reason", reason, "Recorded with the version");
    add_common(archive, c);
    archive->callback([] {
        Json r = commit(c, [](const Store& s) { return plan_archive(s, ref, now_ms(), reason); });
        c.json ? print_json(r) : (void)std::printf("archived %s/%s\n", val(r["model"]).c_str(), val(r["version"]).c_str());
    });

    auto* unarchive = app.add_subcommand("unarchive", "Show an archived version in listings and @latest again");
    unarchive->add_option("REF", ref, "Version reference")->required();
    add_common(unarchive, c);
    unarchive->callback([] {
        Json r = commit(c, [](const Store& s) { return plan_unarchive(s, ref); });
        c.json ? print_json(r) : (void)std::printf("unarchived %s/%s\n", val(r["model"]).c_str(), val(r["version"]).c_str());
    });

    auto* annotate = app.add_subcommand("annotate", "Replace the notes and tags of a version (its manifest keeps the originals)");
    annotate->add_option("REF", ref, "Version reference")->required();
    annotate->add_option("--notes", notes, "Free text (empty clears)");
    annotate->add_option("--tag", tags, "A tag; repeat for several (none clears)")->expected(0, -1);
    add_common(annotate, c);
    annotate->callback([] {
        Json r = commit(c, [](const Store& s) { return plan_annotate(s, ref, notes, tags, now_ms()); });
        c.json ? print_json(r) : (void)std::printf("annotated %s/%s\n", val(r["model"]).c_str(), val(r["version"]).c_str());
    });

    auto* del = app.add_subcommand("delete", "Delete a version (refused while aliased; `cairn gc` frees its blobs)");
    del->add_option("REF", ref, "Version reference")->required();
    add_common(del, c);
    del->callback([] {
        Json r = commit(c, [](const Store& s) { return plan_delete(s, ref); });
        c.json ? print_json(r) : (void)std::printf("deleted %s/%s\n", val(r["model"]).c_str(), val(r["version"]).c_str());
    });

    auto* verify = app.add_subcommand("verify", "Check every record and blob against its SHA-256");
    add_common(verify, c);
    verify->callback([] { cmd_verify(c); });

    auto* exp = app.add_subcommand("export", "Write one version (REF) or the whole registry (no REF) to one file");
    exp->add_option("REF", ref, "Version reference; omit for the whole registry");
    exp->add_option("-o,--output", file, "Output file")->required();
    add_common(exp, c);
    exp->callback([] {
        FileStore s = open_store(c);
        Bytes b = ref.empty() ? export_registry(s) : export_version(s, ref);
        replace_file(file, b.data(), b.size());
        Json r = {{"file", file}, {"bytes", b.size()}, {"what", ref.empty() ? "registry" : ref}};
        c.json ? print_json(r) : (void)std::printf("exported %s to %s (%zu bytes)\n", val(r["what"]).c_str(), file.c_str(), b.size());
    });

    auto* imp = app.add_subcommand("import", "Import a file written by `cairn export` (verified before anything is written)");
    imp->add_option("FILE", file, "Package file")->required();
    add_common(imp, c);
    imp->callback([] {
        Bytes b = read_input(file);
        Json r = commit(c, [&](const Store& s) { return plan_import(s, b, file); });
        if (c.json) return print_json(r);
        std::printf("imported %zu version(s), %zu already present\n", r["versions"].size(), r["skipped"].size());
        for (const Json& v : r["versions"]) std::printf("  + %s\n", v.get<std::string>().c_str());
    });

    auto* gc = app.add_subcommand("gc", "Delete blobs that no version references");
    gc->add_flag("--dry-run", dry_run, "Only report what would be deleted");
    add_common(gc, c);
    gc->callback([] {
        Json r;
        if (dry_run) {
            FileStore s = open_store(c);
            r = plan_gc(s).result;
        } else {
            r = commit(c, plan_gc);
        }
        c.json ? print_json(r) : (void)std::printf("%s %s blob(s), %s bytes\n", dry_run ? "would delete" : "deleted",
                                                    val(r["deleted"]).c_str(), val(r["bytes"]).c_str());
    });
});

}  // namespace
}  // namespace cairn::cli
