// Shared by the registry tests (tests/core) and the file store tests (tests/native): hand-built artifacts with
// random tensors, so the registry is tested without the training code.
#pragma once
#include <functional>
#include <string>

#include "core/error.h"
#include "core/random.h"
#include "core/registry.h"

namespace cairn::test {

inline Tensor random_tensor(Rng& rng, const Shape& shape) {
    Tensor t = Tensor::empty(shape);
    for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = rng.normal();
    return t;
}

inline ModelArtifact make_artifact(uint64_t seed, int hidden = 4, bool with_optimizer = false) {
    Rng rng(seed);
    ModelArtifact a;
    a.architecture = {{"layers", {{{"type", "dense"}, {"units", hidden}}, {{"type", "dense"}, {"units", 3}}}}};
    a.weights = {{"0.dense.weight", random_tensor(rng, {5, hidden})}, {"0.dense.bias", random_tensor(rng, {hidden})},
                 {"1.dense.weight", random_tensor(rng, {hidden, 3})}, {"1.dense.bias", random_tensor(rng, {3})}};
    Tensor q = Tensor::empty({6}, DType::i8);
    for (int i = 0; i < 6; ++i) q.data<int8_t>()[i] = static_cast<int8_t>(rng.next_u32());
    a.weights.push_back({"1.dense.qweight", q});
    a.preprocessing = {{"mean", {0.1, 0.2}}, {"classes", {"a", "b", "c"}}};
    if (with_optimizer) {
        a.optimizer = {{"type", "adam"}, {"step", 10}};
        a.optimizer_state = {{"0.dense.weight.m", random_tensor(rng, {5, hidden})}};
    }
    return a;
}

inline VersionDesc make_desc(const std::string& model, uint64_t seed, int64_t time_ms, const std::string& parent = "") {
    VersionDesc d;
    d.model = model;
    d.model_description = "test model";
    d.artifact = make_artifact(seed, 4, seed % 2 == 0);
    d.dataset_name = "iris";
    d.dataset_fingerprint = "fp" + std::to_string(seed / 10);
    d.dataset_schema = {{"feature_names", {"a", "b"}}};
    d.dataset_samples = 150;
    d.parent = parent;
    d.hyperparameters = {{"lr", 0.01 * static_cast<double>(seed)}, {"epochs", 10}};
    d.training_history = {{"loss", {1.0, 0.5}}};
    d.metrics = {{"test", {{"accuracy", 0.5 + 0.01 * static_cast<double>(seed)}}}};
    d.created_ms = time_ms;
    return d;
}

inline std::string code_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.code();
    }
    return "no error";
}

}  // namespace cairn::test
