// Registry over MemoryStore: versions and lineage, references, aliases (random promote/rollback sequences checked
// against an independent model of the history), archive/delete rules, gc, compare, tamper detection, export/import.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "core/bundle.h"
#include "core/registry.h"
#include "core/random.h"
#include "tests/core/test_registry_util.h"

using namespace cairn;
using namespace cairn::test;

namespace {

void expect_same_tensors(const std::vector<NamedTensor>& a, const std::vector<NamedTensor>& b) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a[i].name, b[i].name);
        ASSERT_EQ(a[i].tensor.shape(), b[i].tensor.shape());
        ASSERT_EQ(a[i].tensor.dtype(), b[i].tensor.dtype());
        EXPECT_EQ(std::memcmp(a[i].tensor.data<uint8_t>(), b[i].tensor.data<uint8_t>(),
                              a[i].tensor.numel() * dtype_size(a[i].tensor.dtype())), 0) << a[i].name;
    }
}

Json set_alias(Store& s, const std::string& ref, const std::string& alias, int64_t t, const std::string& why = "") {
    return commit_plan(s, [&](const Store& x) { return plan_set_alias(x, ref, alias, t, why); });
}
Json rollback(Store& s, const std::string& model, const std::string& alias, int64_t t) {
    return commit_plan(s, [&](const Store& x) { return plan_rollback(x, model, alias, t); });
}

}  // namespace

TEST(Registry, VersionsAreConsecutiveImmutableAndRoundTrip) {
    MemoryStore s;
    VersionDesc d1 = make_desc("iris", 2, 1000);
    EXPECT_EQ(register_version(s, d1).version, 1);
    EXPECT_EQ(register_version(s, make_desc("iris", 3, 2000, "iris/1")).version, 2);
    EXPECT_EQ(register_version(s, make_desc("digits", 4, 2500)).version, 1);
    EXPECT_EQ(register_version(s, make_desc("iris", 5, 3000, "iris@latest")).version, 3);
    EXPECT_EQ(list_models(s), (std::vector<std::string>{"iris", "digits"}));
    EXPECT_EQ(list_versions(s, "iris"), (std::vector<int64_t>{1, 2, 3}));

    LoadedVersion v1 = load_version(s, "iris/1");
    expect_same_tensors(v1.artifact.weights, d1.artifact.weights);
    expect_same_tensors(v1.artifact.optimizer_state, d1.artifact.optimizer_state);
    EXPECT_EQ(v1.artifact.architecture, d1.artifact.architecture);
    EXPECT_EQ(v1.artifact.optimizer, d1.artifact.optimizer);
    EXPECT_EQ(v1.artifact.preprocessing, d1.artifact.preprocessing);
    const Json& m = v1.manifest;
    EXPECT_EQ(m["format_version"], kManifestFormatVersion);
    EXPECT_EQ(m["dataset"]["fingerprint"], "fp0");
    EXPECT_EQ(m["hyperparameters"], d1.hyperparameters);
    EXPECT_EQ(m["metrics"], d1.metrics);
    EXPECT_EQ(m["training_history"], d1.training_history);
    EXPECT_EQ(m["created_ms"], 1000);
    EXPECT_EQ(m["sizes"]["parameters"], 5 * 4 + 4 + 4 * 3 + 3 + 6);
    EXPECT_TRUE(m["parent"].is_null());
    EXPECT_EQ(load_version(s, "iris/2").manifest["parent"], (Json{{"model", "iris"}, {"version", 1}}));
    EXPECT_EQ(load_version(s, "iris/3").manifest["parent"], (Json{{"model", "iris"}, {"version", 2}}));

    // Two writers planning from the same snapshot: the second plan's counter condition fails, nothing is written,
    // and re-planning gives the next number rather than overwriting version 4.
    MemoryStore snapshot = s;
    Plan a = plan_register(snapshot, make_desc("iris", 6, 4000)), b = plan_register(snapshot, make_desc("iris", 7, 4001));
    ASSERT_TRUE(s.commit(a.batch));
    auto before = s.data();
    EXPECT_FALSE(s.commit(b.batch));
    EXPECT_EQ(s.data(), before);
    EXPECT_EQ(register_version(s, make_desc("iris", 7, 4001)).version, 5);
    EXPECT_EQ(load_version(s, "iris/4").manifest["created_ms"], 4000);
}

TEST(Registry, ReferencesResolveOrSayWhatIsWrong) {
    MemoryStore s;
    for (int i = 0; i < 3; ++i) register_version(s, make_desc("iris", 10 + i, i));
    set_alias(s, "iris/2", "production", 10);
    EXPECT_EQ(resolve(s, "iris/3").version, 3);
    EXPECT_EQ(resolve(s, "iris@production").version, 2);
    EXPECT_EQ(resolve(s, "iris@latest").version, 3);
    EXPECT_EQ(resolve(s, "iris").version, 3);
    EXPECT_EQ(code_of([&] { resolve(s, "iris/0"); }), "bad_reference");
    EXPECT_EQ(code_of([&] { resolve(s, "iris/x"); }), "bad_reference");
    EXPECT_EQ(code_of([&] { resolve(s, "iris@"); }), "bad_reference");
    EXPECT_EQ(code_of([&] { resolve(s, "iris/2@production"); }), "bad_reference");
    EXPECT_EQ(code_of([&] { resolve(s, "/3"); }), "bad_reference");
    EXPECT_EQ(code_of([&] { resolve(s, "ir is/3"); }), "bad_reference");
    EXPECT_EQ(code_of([&] { resolve(s, "iris/9"); }), "not_found");
    EXPECT_EQ(code_of([&] { resolve(s, "iris@staging"); }), "not_found");
    EXPECT_EQ(code_of([&] { resolve(s, "irsi/1"); }), "not_found");
    try {
        resolve(s, "irsi/1");
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("models: iris"), std::string::npos) << e.what();
    }
    try {
        resolve(s, "iris@staging");
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("aliases: production"), std::string::npos) << e.what();
    }
    EXPECT_EQ(code_of([&] { set_alias(s, "iris/1", "latest", 0); }), "invalid_name");
    EXPECT_EQ(code_of([&] { set_alias(s, "iris/1", "12", 0); }), "invalid_name");
    // The arguments the other way round: the version reference comes first, and the error says so.
    for (const char* swapped : {"iris/1", "iris@production"}) {
        try {
            set_alias(s, "production", swapped, 0);
            ADD_FAILURE() << "alias '" << swapped << "' accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), "invalid_name");
            EXPECT_NE(std::string(e.what()).find("looks like a version reference"), std::string::npos) << e.what();
        }
    }
    EXPECT_EQ(code_of([&] { register_version(s, make_desc("bad/name", 1, 0)); }), "invalid_name");
}

// Names made from file names: each is accepted by check_name (the rule the registry enforces), whatever the text.
TEST(Registry, ModelNamesFromFreeTextAreValid) {
    EXPECT_EQ(model_name_for("iris", "-mlp"), "iris-mlp");
    EXPECT_EQ(model_name_for("my data (1)", "-mlp"), "my-data-1-mlp");
    EXPECT_EQ(model_name_for(".hidden", "-mlp"), "hidden-mlp");  // a name cannot start with '.'
    EXPECT_EQ(model_name_for("donn\xc3\xa9" "es_2024", ""), "donn-es_2024");
    EXPECT_EQ(model_name_for("(((", "-mlp"), "model-mlp");
    EXPECT_EQ(model_name_for("", ""), "model");
    const std::string long_name = model_name_for(std::string(100, 'a'), "-mlp");
    EXPECT_EQ(long_name, std::string(60, 'a') + "-mlp");
    Rng rng(7);
    for (int i = 0; i < 2000; ++i) {
        std::string text(rng.below(90), ' ');
        for (char& c : text) c = static_cast<char>(rng.below(256));
        const std::string suffix = i % 2 ? "-mlp" : "";
        const std::string name = model_name_for(text, suffix);
        EXPECT_NO_THROW(check_name(name, "model")) << "from " << testing::PrintToString(text);
        EXPECT_EQ(name.substr(name.size() - suffix.size()), suffix);
    }
}

// Random promote / remove / rollback sequences against an independent model: the alias value after each step,
// and the full history (time, alias, from, to) must match.
TEST(Registry, PromoteRollbackSequencesMatchHistory) {
    MemoryStore s;
    for (int i = 0; i < 6; ++i) register_version(s, make_desc("m", 20 + i, i));
    Rng rng(42);
    const char* names[] = {"production", "staging"};
    struct Expected { std::optional<int64_t> current; std::vector<int64_t> stack; };
    std::map<std::string, Expected> model;
    Json expected_history = Json::array();
    for (int step = 0; step < 300; ++step) {
        std::string alias = names[rng.below(2)];
        Expected& e = model[alias];
        int64_t t = 100 + step;
        uint32_t op = rng.below(3);
        if (op == 0) {
            int64_t v = 1 + rng.below(6);
            Json r = set_alias(s, "m/" + std::to_string(v), alias, t, "promote");
            if (e.current == v) {
                EXPECT_TRUE(r.value("unchanged", false));
                continue;
            }
            Json from = e.current ? Json(*e.current) : Json(nullptr);
            if (e.current) e.stack.push_back(*e.current);
            e.current = v;
            expected_history.push_back({{"time_ms", t}, {"alias", alias}, {"action", "set"}, {"from", from}, {"to", v}});
        } else if (op == 1) {
            std::string c = code_of([&] { commit_plan(s, [&](const Store& x) { return plan_remove_alias(x, "m", alias, t); }); });
            if (!e.current) {
                EXPECT_EQ(c, "not_found");
                continue;
            }
            EXPECT_EQ(c, "no error");
            expected_history.push_back({{"time_ms", t}, {"alias", alias}, {"action", "remove"}, {"from", *e.current}, {"to", nullptr}});
            e.stack.push_back(*e.current);
            e.current.reset();
        } else {
            std::string c = code_of([&] { rollback(s, "m", alias, t); });
            if (e.stack.empty()) {
                EXPECT_EQ(c, "nothing_to_rollback");
                continue;
            }
            EXPECT_EQ(c, "no error");
            Json from = e.current ? Json(*e.current) : Json(nullptr);
            e.current = e.stack.back();
            e.stack.pop_back();
            expected_history.push_back({{"time_ms", t}, {"alias", alias}, {"action", "rollback"}, {"from", from}, {"to", *e.current}});
        }
        for (const char* a : names) {
            Json rec = model_record(s, "m");
            if (model[a].current) EXPECT_EQ(rec["aliases"][a], *model[a].current) << step;
            else EXPECT_FALSE(rec["aliases"].contains(a)) << step;
        }
    }
    Json history = model_record(s, "m")["history"];
    ASSERT_EQ(history.size(), expected_history.size());
    for (size_t i = 0; i < history.size(); ++i) {
        for (const char* k : {"time_ms", "alias", "action", "from", "to"}) EXPECT_EQ(history[i][k], expected_history[i][k]) << i << k;
    }
}

TEST(Registry, SimpleRollbackWalksBack) {
    MemoryStore s;
    for (int i = 0; i < 3; ++i) register_version(s, make_desc("m", 30 + i, i));
    EXPECT_EQ(code_of([&] { rollback(s, "m", "production", 0); }), "not_found");  // never set: a typo, not history
    set_alias(s, "m/1", "production", 1);
    set_alias(s, "m/2", "production", 2);
    set_alias(s, "m/3", "production", 3, "new model");
    EXPECT_EQ(rollback(s, "m", "production", 4)["to"], 2);
    EXPECT_EQ(rollback(s, "m", "production", 5)["to"], 1);
    EXPECT_EQ(code_of([&] { rollback(s, "m", "production", 6); }), "nothing_to_rollback");
    EXPECT_EQ(resolve(s, "m@production").version, 1);
    Json h = model_record(s, "m")["history"];
    ASSERT_EQ(h.size(), 5u);
    EXPECT_EQ(h[2]["reason"], "new model");
    EXPECT_EQ(h[4], (Json{{"time_ms", 5}, {"alias", "production"}, {"action", "rollback"}, {"from", 2}, {"to", 1}, {"reason", ""}}));
}

TEST(Registry, ArchiveAndDeleteAreRefusedWhileAliased) {
    MemoryStore s;
    for (int i = 0; i < 3; ++i) register_version(s, make_desc("m", 40 + i, i));
    set_alias(s, "m/3", "production", 10);
    auto before = s.data();
    EXPECT_EQ(code_of([&] { plan_archive(s, "m/3", 11); }), "alias_in_use");
    EXPECT_EQ(code_of([&] { plan_delete(s, "m@production"); }), "alias_in_use");
    EXPECT_EQ(s.data(), before);
    commit_plan(s, [](const Store& x) { return plan_archive(x, "m/2", 12, "old"); });
    EXPECT_EQ(list_versions(s, "m", false), (std::vector<int64_t>{1, 3}));
    EXPECT_EQ(load_version(s, "m/2").ref.version, 2);  // archived versions still load by number
    EXPECT_EQ(code_of([&] { set_alias(s, "m/2", "staging", 13); }), "archived");
    commit_plan(s, [](const Store& x) { return plan_remove_alias(x, "m", "production", 14); });
    EXPECT_EQ(resolve(s, "m@latest").version, 3);
    commit_plan(s, [](const Store& x) { return plan_archive(x, "m/3", 15); });
    EXPECT_EQ(resolve(s, "m@latest").version, 1);  // the highest non-archived
    commit_plan(s, [](const Store& x) { return plan_delete(x, "m/1"); });
    EXPECT_EQ(code_of([&] { resolve(s, "m/1"); }), "not_found");
    EXPECT_EQ(code_of([&] { resolve(s, "m@latest"); }), "not_found");
    // Numbers are never reused after a delete.
    EXPECT_EQ(register_version(s, make_desc("m", 50, 20)).version, 4);
}

// What cannot be undone, or would undo nothing, says so instead of guessing.
TEST(Registry, DeleteNamesItsVersionAndRollbackItsAlias) {
    MemoryStore s;
    for (int i = 0; i < 3; ++i) register_version(s, make_desc("m", 40 + i, i));
    set_alias(s, "m/1", "PRODUCTION", 10);
    // "m" and "m@latest" are m/3 now: a delete must name the number.
    for (const char* latest : {"m", "m@latest"}) {
        try {
            plan_delete(s, latest);
            ADD_FAILURE() << "delete " << latest << " accepted";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), "bad_reference");
            EXPECT_NE(std::string(e.what()).find("is m/3 now; to delete it, use m/3"), std::string::npos) << e.what();
        }
    }
    commit_plan(s, [](const Store& x) { return plan_delete(x, "m/3"); });
    // Aliases are case-sensitive: rolling back "production" names the ones that exist.
    try {
        rollback(s, "m", "production", 11);
        ADD_FAILURE() << "rollback of an alias that never existed accepted";
    } catch (const Error& e) {
        EXPECT_EQ(e.code(), "not_found");
        EXPECT_NE(std::string(e.what()).find("has no alias 'production' (aliases: PRODUCTION)"), std::string::npos) << e.what();
    }
    // A removed alias still has a history, so it can be rolled back into place.
    commit_plan(s, [](const Store& x) { return plan_remove_alias(x, "m", "PRODUCTION", 12); });
    EXPECT_EQ(rollback(s, "m", "PRODUCTION", 13)["to"], 1);
}

TEST(Registry, UnarchiveMakesAVersionVisibleAgain) {
    MemoryStore s;
    for (int i = 0; i < 2; ++i) register_version(s, make_desc("m", 60 + i, i));
    commit_plan(s, [](const Store& x) { return plan_archive(x, "m/2", 5, "old"); });
    EXPECT_EQ(resolve(s, "m@latest").version, 1);
    commit_plan(s, [](const Store& x) { return plan_unarchive(x, "m/2"); });
    EXPECT_EQ(list_versions(s, "m", false), (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(resolve(s, "m@latest").version, 2);
    EXPECT_TRUE(plan_unarchive(s, "m/1").batch.writes.empty());  // not archived: nothing to write
    commit_plan(s, [](const Store& x) { return plan_delete(x, "m/1"); });
    EXPECT_EQ(code_of([&] { plan_unarchive(s, "m/1"); }), "not_found");
}

TEST(Registry, AnnotationsReplaceTheManifestNotesAndTravelWithExports) {
    MemoryStore s;
    VersionDesc d = make_desc("m", 70, 1);
    d.notes = "first try";
    d.tags = {"baseline"};
    register_version(s, d);
    register_version(s, make_desc("m", 71, 2));
    Json manifest = load_manifest(s, {"m", 1});
    EXPECT_EQ(version_annotation(model_record(s, "m"), manifest),
              (Json{{"notes", "first try"}, {"tags", {"baseline"}}, {"edited_ms", nullptr}}));
    commit_plan(s, [](const Store& x) { return plan_annotate(x, "m/1", "reviewed by QA", {"baseline", "reviewed"}, 9); });
    EXPECT_EQ(version_annotation(model_record(s, "m"), manifest),
              (Json{{"notes", "reviewed by QA"}, {"tags", {"baseline", "reviewed"}}, {"edited_ms", 9}}));
    EXPECT_EQ(load_manifest(s, {"m", 1}), manifest);  // the manifest (the version's identity) is untouched
    EXPECT_EQ(verify_registry(s)["ok"], true);

    // Bad tags name the tag and write nothing.
    auto before = s.data();
    EXPECT_EQ(code_of([&] { plan_annotate(s, "m/1", "", {"ok", ""}, 10); }), "invalid_argument");
    EXPECT_EQ(code_of([&] { plan_annotate(s, "m/1", "", {"a,b"}, 10); }), "invalid_argument");
    EXPECT_EQ(code_of([&] { plan_annotate(s, "m/1", "", {"x", "x"}, 10); }), "invalid_argument");
    EXPECT_EQ(code_of([&] { plan_annotate(s, "m/1", std::string(kMaxNotesBytes + 1, 'n'), {}, 10); }), "invalid_argument");
    EXPECT_EQ(code_of([&] { plan_annotate(s, "m/1", "", std::vector<std::string>(kMaxTags + 1, "t"), 10); }), "invalid_argument");
    try {
        plan_annotate(s, "m/1", "", {"ok", "bad\ttag"}, 10);
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("tag 2"), std::string::npos) << e.what();
    }
    EXPECT_EQ(s.data(), before);

    // A whole-registry export and a one-version export both carry the edit.
    MemoryStore whole, one;
    commit_plan(whole, [&](const Store& x) { return plan_import(x, export_registry(s), "registry.cairn"); });
    EXPECT_EQ(version_annotation(model_record(whole, "m"), manifest)["notes"], "reviewed by QA");
    commit_plan(one, [&](const Store& x) { return plan_import(x, export_version(s, "m/1"), "v1.cairn"); });
    EXPECT_EQ(version_annotation(model_record(one, "m"), manifest)["tags"], (Json{"baseline", "reviewed"}));

    // Deleting the version drops its annotation with it.
    commit_plan(s, [](const Store& x) { return plan_delete(x, "m/1"); });
    EXPECT_FALSE(model_record(s, "m")["annotations"].contains("1"));
}

TEST(Registry, GcCollectsOnlyUnreferencedBlobs) {
    MemoryStore s;
    VersionDesc d1 = make_desc("m", 1, 0), d2 = make_desc("m", 3, 1), d3 = make_desc("m", 5, 2);
    d3.artifact.weights = d1.artifact.weights;  // same content, same blob
    register_version(s, d1);
    register_version(s, d2);
    register_version(s, d3);
    size_t blobs = s.list("blob/").size();
    EXPECT_EQ(blobs, 2u);  // odd seeds: no optimizer state; v1 and v3 share their weights blob
    EXPECT_EQ(commit_plan(s, plan_gc)["deleted"], 0);
    commit_plan(s, [](const Store& x) { return plan_delete(x, "m/1"); });
    EXPECT_EQ(commit_plan(s, plan_gc)["deleted"], 0);  // still used by v3
    commit_plan(s, [](const Store& x) { return plan_delete(x, "m/2"); });
    EXPECT_EQ(commit_plan(s, plan_gc)["deleted"], 1);
    expect_same_tensors(load_version(s, "m/3").artifact.weights, d1.artifact.weights);
    EXPECT_TRUE(verify_registry(s)["ok"]);

    // gc planned before a registration that re-uses a collectable blob must not commit over it.
    commit_plan(s, [](const Store& x) { return plan_delete(x, "m/3"); });
    Plan gc = plan_gc(s);
    register_version(s, d1);
    EXPECT_FALSE(s.commit(gc.batch));
    commit_plan(s, plan_gc);
    EXPECT_TRUE(verify_registry(s)["ok"]) << verify_registry(s).dump();
}

TEST(Registry, CompareGivesDeltasDiffsAndLayerDistances) {
    MemoryStore s;
    VersionDesc a = make_desc("m", 1, 0), b = make_desc("m", 1, 1);
    b.artifact.architecture["layers"][0]["units"] = 4;  // unchanged value
    b.artifact.architecture["dropout"] = 0.5;
    b.hyperparameters["lr"] = 0.5;
    b.metrics["test"]["accuracy"] = 0.75;
    Tensor w = b.artifact.weights[0].tensor.clone();
    for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] *= 2.0f;  // cosine 1, L2 = |w|
    b.artifact.weights[0].tensor = w;
    b.artifact.weights[1].tensor = Tensor::zeros({7});
    b.artifact.weights.erase(b.artifact.weights.begin() + 2);
    register_version(s, a);
    register_version(s, b);
    Json c = compare_versions(s, "m/1", "m/2");
    EXPECT_NEAR(c["metrics"][0]["delta"].get<double>(), 0.75 - 0.51, 1e-12);
    ASSERT_EQ(c["hyperparameters"].size(), 1u);
    EXPECT_EQ(c["hyperparameters"][0]["key"], "lr");
    EXPECT_EQ(c["architecture"], (Json::array({{{"op", "add"}, {"path", "/dropout"}, {"value", 0.5}}})));
    double norm = 0;
    const Tensor& wa = a.artifact.weights[0].tensor;
    for (int64_t i = 0; i < wa.numel(); ++i) norm += double(wa.data<float>()[i]) * wa.data<float>()[i];
    Json w0 = c["weights"][0];
    EXPECT_EQ(w0["status"], "changed");
    EXPECT_NEAR(w0["l2"].get<double>(), std::sqrt(norm), 1e-5);
    EXPECT_NEAR(w0["cosine"].get<double>(), 1.0, 1e-9);
    EXPECT_EQ(c["weights"][1]["status"], "shape_changed");
    EXPECT_EQ(c["weights"][2]["status"], "only_a");
    EXPECT_EQ(c["weights"][3]["status"], "identical");
    EXPECT_EQ(c["weights"][3]["l2"], 0.0);
    EXPECT_FALSE(c["dataset_changed"]);
}

// An alias is what deployments load: promote and rollback refuse a version whose blobs fail their SHA-256 check,
// naming it, and the alias and its history stay as they were.
TEST(Registry, NoAliasPointsAtADamagedVersion) {
    MemoryStore s;
    register_version(s, make_desc("m", 2, 0));
    register_version(s, make_desc("m", 4, 1, "m/1"));
    set_alias(s, "m/1", "production", 5);
    set_alias(s, "m/2", "production", 6);
    const std::string sha = load_version(s, "m/1").manifest["weights"]["blob"].get<std::string>();
    Bytes blob = *s.get("blob/" + sha);
    blob[blob.size() / 2] ^= 0x10;
    Batch b;
    b.writes.push_back({"blob/" + sha, blob});
    s.commit(b);
    const Json before = model_record(s, "m");
    for (const auto& attempt : std::vector<std::function<void()>>{
             [&] { set_alias(s, "m/1", "staging", 7); },
             [&] { commit_plan(s, [](const Store& st) { return plan_rollback(st, "m", "production", 8); }); }}) {
        try {
            attempt();
            ADD_FAILURE() << "an alias was pointed at the damaged m/1";
        } catch (const Error& e) {
            EXPECT_EQ(e.code(), "integrity");
            EXPECT_NE(std::string(e.what()).find("m/1"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(sha), std::string::npos) << e.what();
        }
    }
    EXPECT_EQ(model_record(s, "m"), before);
    set_alias(s, "m/2", "staging", 9);  // an intact version still can
    EXPECT_EQ(model_record(s, "m")["aliases"]["staging"], 2);
}

// Flip one byte of any stored value at many random positions: loading must fail with "integrity", naming the
// model and version (and the blob for blobs), and leave the store unchanged.
TEST(Registry, AnyFlippedStoredByteIsDetectedOnLoad) {
    MemoryStore s;
    register_version(s, make_desc("m", 2, 0));
    register_version(s, make_desc("m", 4, 1, "m/1"));
    set_alias(s, "m/1", "production", 5);
    Rng rng(99);
    std::vector<std::string> keys;
    for (auto& [k, v] : s.data()) keys.push_back(k);
    int checked = 0;
    for (int trial = 0; trial < 400; ++trial) {
        const std::string& key = keys[rng.below(static_cast<uint32_t>(keys.size()))];
        MemoryStore damaged = s;
        Bytes value = *damaged.get(key);
        size_t pos = rng.below(static_cast<uint32_t>(value.size()));
        value[pos] ^= static_cast<uint8_t>(1 + rng.below(255));
        Batch b;
        b.writes.push_back({key, value});
        damaged.commit(b);
        auto before = damaged.data();
        std::string code, message;
        bool any_failed = false;
        for (const char* ref : {"m/1", "m/2"}) {
            try {
                load_version(damaged, ref);
            } catch (const Error& e) {
                any_failed = true;
                code = e.code();
                message = e.what();
                break;
            }
        }
        // index/ and counter/ are not read by load; verify checks them.
        if (key.rfind("index/", 0) == 0 || key.rfind("counter/", 0) == 0) {
            EXPECT_FALSE(verify_registry(damaged)["ok"]) << key;
            continue;
        }
        ASSERT_TRUE(any_failed) << key << " byte " << pos;
        EXPECT_EQ(code, "integrity") << key << " " << message;
        if (key.rfind("blob/", 0) == 0) {
            EXPECT_NE(message.find("model 'm' version"), std::string::npos) << message;
            EXPECT_NE(message.find(key.substr(5)), std::string::npos) << message;
        }
        if (key.rfind("version/", 0) == 0) EXPECT_NE(message.find("model 'm' version"), std::string::npos) << message;
        EXPECT_EQ(damaged.data(), before);
        EXPECT_FALSE(verify_registry(damaged)["ok"]);
        ++checked;
    }
    EXPECT_GT(checked, 300);
}

TEST(Registry, ExportImportRoundTripsTheWholeRegistry) {
    MemoryStore s;
    register_version(s, make_desc("iris", 2, 0));
    register_version(s, make_desc("iris", 3, 1, "iris/1"));
    register_version(s, make_desc("iris", 4, 2));
    register_version(s, make_desc("digits", 5, 3));
    set_alias(s, "iris/1", "production", 4);
    set_alias(s, "iris/2", "production", 5);
    commit_plan(s, [](const Store& x) { return plan_archive(x, "iris/1", 6); });
    commit_plan(s, [](const Store& x) { return plan_delete(x, "iris/3"); });
    commit_plan(s, plan_gc);
    Bytes file = export_registry(s);
    MemoryStore t;
    Json r = commit_plan(t, [&](const Store& x) { return plan_import(x, file, "backup.cairn"); });
    EXPECT_EQ(r["versions"].size(), 3u);
    EXPECT_EQ(t.data(), s.data());  // byte for byte: records, counters (incl. the deleted number), blobs
    // Importing again changes nothing.
    Json again = commit_plan(t, [&](const Store& x) { return plan_import(x, file, "backup.cairn"); });
    EXPECT_EQ(again["skipped"].size(), 3u);
    EXPECT_EQ(t.data(), s.data());

    // One version into another registry that already has the model with other versions: refused, nothing written.
    Bytes one = export_version(s, "iris@production");
    MemoryStore u;
    register_version(u, make_desc("iris", 9, 0));
    register_version(u, make_desc("iris", 8, 0));
    auto before = u.data();
    EXPECT_EQ(code_of([&] { plan_import(u, one, "one"); }), "conflict");
    EXPECT_EQ(u.data(), before);
    MemoryStore v;
    commit_plan(v, [&](const Store& x) { return plan_import(x, one, "one"); });
    expect_same_tensors(load_version(v, "iris/2").artifact.weights, load_version(s, "iris/2").artifact.weights);
    EXPECT_EQ(register_version(v, make_desc("iris", 1, 0)).version, 3);
}

TEST(Registry, ImportRejectsBadFilesWritingNothing) {
    MemoryStore s;
    register_version(s, make_desc("iris", 2, 0));
    register_version(s, make_desc("iris", 3, 1));
    set_alias(s, "iris/2", "production", 2);
    Bytes file = export_registry(s);
    MemoryStore t;
    register_version(t, make_desc("other", 5, 0));
    auto before = t.data();
    auto rejected = [&](const Bytes& f) {
        std::string c = code_of([&] { commit_plan(t, [&](const Store& x) { return plan_import(x, f, "f"); }); });
        EXPECT_EQ(t.data(), before);
        return c;
    };
    for (size_t len = 0; len < file.size(); len += 1 + len / 8) {
        std::string c = rejected(Bytes(file.begin(), file.begin() + len));
        EXPECT_TRUE(c == "truncated" || c == "parse_error") << len << " " << c;
    }
    Bytes longer = file;
    longer.insert(longer.end(), 100, 0);
    EXPECT_EQ(rejected(longer), "oversized");
    Rng rng(5);
    Bytes garbage(4096);
    for (auto& x : garbage) x = static_cast<uint8_t>(rng.next_u32());
    EXPECT_EQ(rejected(garbage), "wrong_format");
    EXPECT_EQ(rejected(safetensors_encode(make_artifact(1).weights)), "wrong_format");
    // A header edited by hand: a newer package version, a newer manifest version, a manifest naming a missing blob,
    // an alias pointing outside the file, a size that does not match.
    Package pkg = package_decode(file, "f");
    auto edited = [&](const std::function<void(Json&)>& edit) {
        Package p = pkg;
        edit(p.header);
        return package_encode(p);
    };
    EXPECT_EQ(rejected(edited([](Json& h) { h["format_version"] = 99; })), "unsupported_version");
    EXPECT_EQ(rejected(edited([](Json& h) { h["models"][0]["versions"][0]["format_version"] = 7; })), "unsupported_version");
    EXPECT_EQ(rejected(edited([](Json& h) { h["models"][0]["versions"][0]["weights"]["blob"] = std::string(64, 'a'); })), "missing_blob");
    EXPECT_EQ(rejected(edited([](Json& h) { h["models"][0]["aliases"]["production"] = 9; })), "invalid_format");
    EXPECT_EQ(rejected(edited([](Json& h) { h["models"][0]["versions"][0]["weights"]["size"] = 3; })), "invalid_manifest");
    EXPECT_EQ(rejected(edited([](Json& h) { h["models"][0]["versions"][0]["weights"]["tensors"][0]["shape"] = {1}; })), "integrity");
    EXPECT_EQ(rejected(edited([](Json& h) { h["models"][0]["versions"].erase(0); })), "invalid_format");  // orphan blob
    // Annotations: of a version not in the file, with a bad tag, or not an object.
    EXPECT_EQ(rejected(edited([](Json& h) { h["models"][0]["annotations"]["99"] = {{"notes", ""}, {"tags", Json::array()}}; })), "invalid_format");
    EXPECT_EQ(rejected(edited([](Json& h) {
                  h["models"][0]["annotations"][h["models"][0]["versions"][0]["version"].dump()] = {{"notes", ""}, {"tags", {"a,b"}}};
              })), "invalid_format");
    EXPECT_EQ(rejected(edited([](Json& h) { h["models"][0]["annotations"] = Json::array(); })), "invalid_format");
    // Any single flipped byte anywhere in the file is rejected (the header and every blob carry a SHA-256).
    for (int i = 0; i < 200; ++i) {
        Bytes f = file;
        size_t pos = rng.below(static_cast<uint32_t>(f.size()));
        f[pos] ^= static_cast<uint8_t>(1 + rng.below(255));
        EXPECT_NE(rejected(f), "no error") << pos;
    }
}
