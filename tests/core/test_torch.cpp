// Cross-check against PyTorch: from identical initial weights and identical batches, 50 Adam steps on the
// 784-256-128-10 MLP and on the small CNN must give PyTorch's losses (relative error < 1e-3) on the active
// kernel backend, natively and in wasm. The reference runs are written at test time by
// tests/torch/make_fixtures.py (ctest fixture "torch") into CAIRN_TORCH_FIXTURES; without them the test skips.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#endif

#include "core/model.h"
#include "core/loss.h"
#include "core/optim.h"
#include "tests/core/test_util.h"

using namespace cairn;

namespace {

#ifdef CAIRN_TORCH_FIXTURES
const std::string kFixtures = CAIRN_TORCH_FIXTURES;
#else
const std::string kFixtures;
#endif

// Emscripten's getenv does not see Node's environment, so under Node ask process.env directly.
bool env_set(const char* name) {
#ifdef __EMSCRIPTEN__
    return EM_ASM_INT({ return typeof process !== 'undefined' && process.env[UTF8ToString($0)] ? 1 : 0; }, name) != 0;
#else
    return std::getenv(name) != nullptr;
#endif
}

template <class T>
std::vector<T> read_array(const std::string& path, size_t count) {
    std::string bytes = test::read_file(path);
    EXPECT_EQ(bytes.size(), count * sizeof(T)) << path;
    std::vector<T> v(count);
    std::memcpy(v.data(), bytes.data(), std::min(bytes.size(), count * sizeof(T)));
    return v;
}

void cross_check(const std::string& name) {
    std::string folder = kFixtures + "/" + name;
    std::string text = test::read_file(folder + "/manifest.json");
    if ((kFixtures.empty() || text.empty()) && env_set("CAIRN_REQUIRE_TORCH_FIXTURES"))
        FAIL() << "no PyTorch reference in '" << folder << "' (did tests/torch/make_fixtures.py find torch?)";
    if (kFixtures.empty() || text.empty())
        GTEST_SKIP() << "no PyTorch reference in '" << folder << "': run `ctest` (fixture torch_fixtures runs "
                     << "tests/torch/make_fixtures.py with /usr/bin/python3 and python3-torch)";
    Json man = Json::parse(text);
    ModelArtifact art;
    art.architecture = man["architecture"];
    for (const Json& w : man["weights"]) {
        Shape shape = w["shape"].get<Shape>();
        std::vector<float> v = read_array<float>(folder + "/" + w["file"].get<std::string>(), shape_numel(shape));
        art.weights.push_back({w["name"].get<std::string>(), Tensor::from(shape, v.data())});
    }
    Model model = Model::from_artifact(art);
    OptimizerDesc od = optimizer_from_json(man["optimizer"]);
    Optimizer opt(od, model.trainable());

    int64_t steps = man["steps"], batch = man["batch"];
    Shape xs = {batch};
    for (int64_t d : man["sample_shape"].get<Shape>()) xs.push_back(d);
    int64_t per_batch = shape_numel(xs);
    std::vector<float> x = read_array<float>(folder + "/x.bin", steps * per_batch);
    std::vector<int32_t> y = read_array<int32_t>(folder + "/y.bin", steps * batch);
    std::vector<double> expected = man["losses"].get<std::vector<double>>();
    ASSERT_EQ(static_cast<int64_t>(expected.size()), steps);

    double worst = 0;
    for (int64_t s = 0; s < steps; ++s) {
        Tensor xb = Tensor::from(xs, x.data() + s * per_batch), dout;
        Tensor out = model.forward(xb, true);
        double loss = softmax_cross_entropy(out, y.data() + s * batch, &dout);
        double rel = std::abs(loss - expected[s]) / std::abs(expected[s]);
        worst = std::max(worst, rel);
        EXPECT_LT(rel, 1e-3) << name << " step " << s << ": cairn " << loss << ", torch " << expected[s];
        model.backward(dout);
        opt.step();
    }
    std::printf("[ torch    ] %s on %s kernels: loss %.4f -> %.4f, worst relative error %.2e over %lld steps\n",
                name.c_str(), kernels().name, expected.front(), expected.back(), worst, static_cast<long long>(steps));
    // The reference must actually have trained, or equal losses would prove little.
    EXPECT_LT(expected.back(), 0.5 * expected.front());
}

}  // namespace

TEST(Torch, MlpAdam50StepsMatchesPyTorch) { cross_check("mlp"); }
TEST(Torch, CnnAdam50StepsMatchesPyTorch) { cross_check("cnn"); }
