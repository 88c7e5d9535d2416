#include "core/model.h"

#include <algorithm>
#include <map>

#include "core/error.h"
#include "core/ops.h"

namespace cairn {

const char* loss_name(LossKind k) {
    switch (k) {
        case LossKind::cross_entropy: return "cross_entropy";
        case LossKind::binary_cross_entropy: return "binary_cross_entropy";
        case LossKind::mse: return "mse";
    }
    return "?";
}

//-----------------------------------------------------------------------------
// [SECTION] Model
//-----------------------------------------------------------------------------

Model::Model() : rng_(std::make_unique<Rng>(0)) {}
Model::Model(Model&&) noexcept = default;
Model& Model::operator=(Model&&) noexcept = default;
Model::~Model() = default;

static void bad_arch(const std::string& field, const std::string& expected, const Json* got) {
    std::string g = got ? got->dump() : "nothing";
    if (g.size() > 40) g = g.substr(0, 37) + "...";
    fail("invalid_architecture", field + ": expected " + expected + ", got " + g);
}

Model Model::from_json(const Json& arch, uint64_t seed) {
    if (!arch.is_object()) bad_arch("architecture", "a JSON object", &arch);
    for (auto it = arch.begin(); it != arch.end(); ++it)
        if (it.key() != "input" && it.key() != "layers" && it.key() != "loss" && it.key() != "name")
            fail("invalid_architecture", it.key() + ": unknown field (expected one of: input, layers, loss, name)");
    Model m;
    m.arch_ = arch;
    auto in = arch.find("input");
    if (in == arch.end() || !in->is_array() || in->empty() || in->size() > 3)
        bad_arch("input", "a sample shape like [784] or [28, 28, 1]", in == arch.end() ? nullptr : &*in);
    for (const Json& d : *in)
        if (!d.is_number_integer() || d.get<int64_t>() < 1)
            bad_arch("input", "positive integer dimensions", &*in);
    m.input_ = in->get<Shape>();
    auto layers = arch.find("layers");
    if (layers == arch.end() || !layers->is_array() || layers->empty())
        bad_arch("layers", "a non-empty array of layers", layers == arch.end() ? nullptr : &*layers);

    LayerContext ctx{m.rng_.get()};
    Shape shape = m.input_;
    std::string output_act;
    for (size_t i = 0; i < layers->size(); ++i) {
        std::string act;
        bool last = i + 1 == layers->size();
        std::unique_ptr<Layer> l = make_layer((*layers)[i], static_cast<int>(i), shape, last, ctx, act);
        if (last) output_act = act;
        if (!l) continue;
        shape = l->output_shape();
        m.layers_.push_back(std::move(l));
    }
    if (shape.size() != 1)
        fail("invalid_architecture", "layers: the last layer's output must be 1-D (one value per class or target), "
                                     "got " + shape_str(shape) + "; end with \"flatten\" and \"dense\"");
    m.outputs_ = shape[0];

    // The loss follows "loss" if given, else the output activation; both must agree.
    LossKind implied = output_act == "sigmoid" ? LossKind::binary_cross_entropy : LossKind::cross_entropy;
    m.loss_ = implied;
    auto loss = arch.find("loss");
    if (loss != arch.end()) {
        std::string l = loss->is_string() ? loss->get<std::string>() : "";
        if (l == "cross_entropy") m.loss_ = LossKind::cross_entropy;
        else if (l == "binary_cross_entropy") m.loss_ = LossKind::binary_cross_entropy;
        else if (l == "mse") m.loss_ = LossKind::mse;
        else bad_arch("loss", "one of \"cross_entropy\", \"binary_cross_entropy\", \"mse\"", &*loss);
        if (!output_act.empty() && m.loss_ != implied)
            fail("invalid_architecture", "loss: \"" + l + "\" does not match the last layer's \"" + output_act +
                                             "\" output (use " + loss_name(implied) + ")");
    }
    if (m.loss_ == LossKind::cross_entropy && m.outputs_ < 2)
        fail("invalid_architecture", "layers[" + std::to_string(layers->size() - 1) +
                                         "]: cross_entropy needs at least 2 outputs (one per class), got " +
                                         std::to_string(m.outputs_) + "; use 1 unit with \"sigmoid\" for two classes");

    if (!m.layers_.empty()) m.layers_.front()->need_input_grad = false;
    Rng rng(seed, 0x9e3779b97f4a7c15ULL);
    for (auto& l : m.layers_) l->init(rng);
    *m.rng_ = Rng(seed);  // layers hold it by pointer; the heap object survives moves of the Model
    return m;
}

void Model::seed_dropout(uint64_t seed) { *rng_ = Rng(seed); }

std::vector<Param*> Model::params() {
    std::vector<Param*> all;
    for (auto& l : layers_)
        for (Param* p : l->params()) all.push_back(p);
    return all;
}

std::vector<Param*> Model::trainable() {
    std::vector<Param*> all;
    for (Param* p : params())
        if (p->trainable) all.push_back(p);
    return all;
}

int64_t Model::num_parameters() const {
    int64_t n = 0;
    for (Param* p : const_cast<Model*>(this)->trainable()) n += p->value.numel();
    return n;
}

ModelArtifact Model::to_artifact() const {
    ModelArtifact a;
    a.architecture = arch_;
    for (Param* p : const_cast<Model*>(this)->params()) a.weights.push_back({p->name, p->value.clone()});
    return a;
}

Model Model::from_artifact(const ModelArtifact& a) {
    Model m = from_json(a.architecture, 0);
    std::map<std::string, const Tensor*> by_name;
    for (const NamedTensor& t : a.weights)
        if (!by_name.emplace(t.name, &t.tensor).second) fail("invalid_artifact", "weight '" + t.name + "' appears twice");
    for (Param* p : m.params()) {
        auto it = by_name.find(p->name);
        if (it == by_name.end()) fail("invalid_artifact", "missing weight '" + p->name + "'");
        const Tensor& t = *it->second;
        if (t.dtype() != DType::f32 || t.shape() != p->value.shape())
            fail("invalid_artifact", "weight '" + p->name + "': expected f32 " + shape_str(p->value.shape()) +
                                         ", got " + dtype_name(t.dtype()) + " " + shape_str(t.shape()));
        p->value.copy_from(t);
        by_name.erase(it);
    }
    if (!by_name.empty())
        fail("invalid_artifact", "unknown weight '" + by_name.begin()->first + "' (not in the architecture)");
    return m;
}

bool Model::is_batch(const Tensor& x) const {
    return x.dtype() == DType::f32 && x.rank() == static_cast<int>(input_.size()) + 1 &&
           std::equal(input_.begin(), input_.end(), x.shape().begin() + 1);
}

Tensor Model::as_batch(const Tensor& x) const {
    int64_t per = shape_numel(input_);
    if (x.dtype() != DType::f32) fail("dtype_mismatch", "model input must be f32");
    if (is_batch(x)) return x;
    if (x.rank() >= 1 && x.numel() == x.dim(0) * per) {
        Shape s = {x.dim(0)};
        s.insert(s.end(), input_.begin(), input_.end());
        return x.contiguous().reshape(s);
    }
    fail("shape_mismatch", "model input: expected [n, " + shape_str(input_).substr(1) + " (or " +
                               std::to_string(per) + " values per sample), got " + shape_str(x.shape()));
}

Tensor Model::forward(const Tensor& x, bool training) {
    // A batch already in [n, input...] form reaches the first layer as it is: a copy would allocate its shape
    // vectors, which shows in a batch-1 pass.
    Tensor reshaped, h;
    const Tensor* in = is_batch(x) ? &x : &(reshaped = as_batch(x));
    kept_activations_ = false;
    for (auto& l : layers_) {
        h = l->forward(*in, training);
        in = &h;
    }
    kept_activations_ = training;
    if (layers_.empty()) return *in;
    return h;  // moved, not copied
}

Tensor Model::backward(const Tensor& dout) {
    if (!kept_activations_)
        fail("invalid_state", "backward() needs a training forward pass first (forward(x, true)); inference keeps no "
                              "activations");
    Tensor g = dout;
    for (size_t i = layers_.size(); i-- > 0;) g = layers_[i]->backward(g);
    return g;
}

Tensor Model::predict_proba(const Tensor& x, int64_t batch) {
    Tensor xb = as_batch(x);
    int64_t n = xb.dim(0);
    int64_t cols = loss_ == LossKind::binary_cross_entropy && outputs_ == 1 ? 2 : outputs_;
    Tensor out = Tensor::empty({n, cols});
    for (int64_t s = 0; s < n; s += batch) {
        int64_t e = std::min(n, s + batch);
        Tensor z = forward(xb.slice(0, s, e), false);
        Tensor p = loss_ == LossKind::cross_entropy ? ops::softmax(z)
                   : loss_ == LossKind::binary_cross_entropy ? ops::activation(Act::sigmoid, 0, z)
                                                            : z;
        Tensor dst = out.slice(0, s, e);
        if (cols == outputs_) {
            dst.copy_from(p);
        } else {
            for (int64_t i = 0; i < e - s; ++i) {
                dst.at({i, 0}) = 1 - p.at({i, 0});
                dst.at({i, 1}) = p.at({i, 0});
            }
        }
    }
    return out;
}

std::vector<int32_t> Model::predict_classes(const Tensor& x, int64_t batch) {
    Tensor p = predict_proba(x, batch);
    std::vector<int32_t> cls(p.dim(0));
    for (int64_t i = 0; i < p.dim(0); ++i) {
        const float* r = p.data() + i * p.dim(1);
        cls[i] = static_cast<int32_t>(std::max_element(r, r + p.dim(1)) - r);
    }
    return cls;
}

//-----------------------------------------------------------------------------
// [SECTION] Presets
//-----------------------------------------------------------------------------

Json architecture_preset(const std::string& name, const Shape& input, int64_t classes) {
    if (classes < 2) fail("invalid_argument", "architecture preset: need at least 2 classes, got " + std::to_string(classes));
    Json in = input;
    Json head = {{"type", "dense"}, {"units", classes}, {"activation", "softmax"}};
    Json flatten = Json::array();
    if (input.size() > 1) flatten.push_back({{"type", "flatten"}});
    if (name == "linear") {
        Json layers = flatten;
        layers.push_back(head);
        return {{"input", in}, {"layers", layers}};
    }
    if (name == "mlp") {
        Json layers = flatten;
        layers.push_back({{"type", "dense"}, {"units", 256}, {"activation", "relu"}});
        layers.push_back({{"type", "dense"}, {"units", 128}, {"activation", "relu"}});
        layers.push_back(head);
        return {{"input", in}, {"layers", layers}};
    }
    if (name == "cnn") {
        if (input.size() != 3)
            fail("invalid_argument", "architecture preset 'cnn' needs an image input [h, w, c], got " + shape_str(input));
        Json conv1 = {{"type", "conv2d"}, {"filters", 16}, {"kernel_size", 3}, {"padding", "same"}, {"activation", "relu"}};
        Json conv2 = conv1;
        conv2["filters"] = 32;
        Json pool = {{"type", "maxpool2d"}};
        return {{"input", in}, {"layers", {conv1, pool, conv2, pool, {{"type", "flatten"}}, head}}};
    }
    fail("invalid_argument", "unknown architecture preset '" + name + "' (available: linear, mlp, cnn)");
}

}  // namespace cairn
