// Index of this file
// [SECTION] Spec reading (validation with named fields)
// [SECTION] Initialization
// [SECTION] Dense
// [SECTION] Conv2D
// [SECTION] MaxPool2D, Flatten
// [SECTION] Dropout
// [SECTION] BatchNorm
// [SECTION] Activation
// [SECTION] Factory
#include "core/layers.h"

#include <cmath>
#include <initializer_list>
#include <tuple>

#include "core/error.h"
#include "core/ops.h"

namespace cairn {

//-----------------------------------------------------------------------------
// [SECTION] Spec reading (validation with named fields)
//-----------------------------------------------------------------------------

namespace {

std::string json_brief(const Json& j) {
    std::string s = j.dump();
    return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

// Reads the fields of one layer spec; every error names "layers[i].field", what was expected and what was given.
struct Spec {
    const Json& j;
    int index;
    std::string type;

    std::string where(const std::string& field) const {
        return "layers[" + std::to_string(index) + "]" + (field.empty() ? "" : "." + field);
    }
    [[noreturn]] void bad(const std::string& field, const std::string& expected, const Json* got) const {
        fail("invalid_architecture", where(field) + " (" + type + "): expected " + expected + ", got " +
                                         (got ? json_brief(*got) : std::string("nothing")));
    }
    void allow(std::initializer_list<const char*> fields) const {
        for (auto it = j.begin(); it != j.end(); ++it) {
            bool known = it.key() == "type" || it.key() == "name";
            for (const char* f : fields) known = known || it.key() == f;
            if (!known) {
                std::string list = "type, name";
                for (const char* f : fields) list += std::string(", ") + f;
                fail("invalid_architecture",
                     where(it.key()) + " (" + type + "): unknown field (expected one of: " + list + ")");
            }
        }
    }
    const Json* find(const char* f) const {
        auto it = j.find(f);
        return it == j.end() || it->is_null() ? nullptr : &*it;
    }
    // def < 0 means required.
    int64_t integer(const char* f, int64_t def, int64_t min = 1) const {
        const Json* v = find(f);
        if (!v) {
            if (def < 0) bad(f, "an integer >= " + std::to_string(min), nullptr);
            return def;
        }
        if (!v->is_number_integer() || v->get<int64_t>() < min) bad(f, "an integer >= " + std::to_string(min), v);
        return v->get<int64_t>();
    }
    // An integer or [h, w].
    std::pair<int64_t, int64_t> pair(const char* f, int64_t def) const {
        const Json* v = find(f);
        if (!v) {
            if (def < 0) bad(f, "an integer >= 1 or [h, w]", nullptr);
            return {def, def};
        }
        if (v->is_number_integer() && v->get<int64_t>() >= 1) return {v->get<int64_t>(), v->get<int64_t>()};
        if (v->is_array() && v->size() == 2 && (*v)[0].is_number_integer() && (*v)[1].is_number_integer() &&
            (*v)[0].get<int64_t>() >= 1 && (*v)[1].get<int64_t>() >= 1)
            return {(*v)[0].get<int64_t>(), (*v)[1].get<int64_t>()};
        bad(f, "an integer >= 1 or [h, w]", v);
    }
    double number(const char* f, double def, double lo, double hi, bool hi_open) const {
        const Json* v = find(f);
        if (!v) return def;
        std::string range = "a number in [" + json_brief(Json(lo)) + ", " + json_brief(Json(hi)) + (hi_open ? ")" : "]");
        if (!v->is_number()) bad(f, range, v);
        double x = v->get<double>();
        if (!(x >= lo) || (hi_open ? !(x < hi) : !(x <= hi))) bad(f, range, v);
        return x;
    }
    std::string choice(const char* f, const char* def, std::initializer_list<const char*> choices) const {
        const Json* v = find(f);
        std::string list;
        for (const char* c : choices) list += (list.empty() ? "" : ", ") + std::string("\"") + c + "\"";
        if (!v) {
            if (!def) bad(f, "one of " + list, nullptr);
            return def;
        }
        if (v->is_string())
            for (const char* c : choices)
                if (v->get<std::string>() == c) return c;
        bad(f, "one of " + list, v);
    }
    void input_rank(const Shape& in, size_t rank, const char* hint) const {
        if (in.size() != rank)
            fail("invalid_architecture", where("") + " (" + type + "): expected a " + std::to_string(rank) +
                                             "-D input " + hint + ", got " + shape_str(in));
    }
};

constexpr std::initializer_list<const char*> kActChoices = {"linear", "relu", "leaky_relu", "sigmoid", "tanh",
                                                             "gelu", "softmax"};

}  // namespace

bool parse_act(const std::string& name, Act& out) {
    if (name == "linear" || name == "identity") out = Act::identity;
    else if (name == "relu") out = Act::relu;
    else if (name == "leaky_relu") out = Act::leaky_relu;
    else if (name == "sigmoid") out = Act::sigmoid;
    else if (name == "tanh") out = Act::tanh;
    else if (name == "gelu") out = Act::gelu;
    else return false;
    return true;
}

//-----------------------------------------------------------------------------
// [SECTION] Initialization
//-----------------------------------------------------------------------------

namespace {

enum class Init { he, glorot };

// He (Kaiming) normal for ReLU-like activations, Glorot (Xavier) uniform for the saturating ones.
Init default_init(Act a) { return a == Act::relu || a == Act::leaky_relu || a == Act::gelu ? Init::he : Init::glorot; }

void init_weights(Tensor& w, Init kind, int64_t fan_in, int64_t fan_out, Rng& rng) {
    float* p = w.data();
    if (kind == Init::he) {
        float sd = std::sqrt(2.0f / static_cast<float>(fan_in));
        for (int64_t i = 0, n = w.numel(); i < n; ++i) p[i] = sd * rng.normal();
    } else {
        float lim = std::sqrt(6.0f / static_cast<float>(fan_in + fan_out));
        for (int64_t i = 0, n = w.numel(); i < n; ++i) p[i] = rng.uniform(-lim, lim);
    }
}

Init read_init(const Spec& s, Act act) {
    std::string v = s.choice("init", "auto", {"auto", "he", "glorot"});
    return v == "he" ? Init::he : v == "glorot" ? Init::glorot : default_init(act);
}

// Reads "activation" (and "alpha" for leaky_relu). softmax and sigmoid on the last layer are output activations.
Act read_act(const Spec& s, bool is_last, std::string& output_act, float& alpha) {
    std::string name = s.choice("activation", "linear", kActChoices);
    alpha = static_cast<float>(s.number("alpha", 0.01, 0, 1, false));
    if (name == "softmax" && !is_last)
        s.bad("activation", "softmax only on the last layer (it is the output activation)", &s.j["activation"]);
    if (is_last && (name == "softmax" || name == "sigmoid")) {
        output_act = name;
        return Act::identity;
    }
    Act a = Act::identity;
    parse_act(name, a);
    return a;
}

Param make_param(int index, const char* type, const char* name, const Shape& shape, bool trainable = true) {
    Param p;
    p.name = std::to_string(index) + "." + type + "." + name;
    p.value = Tensor::zeros(shape);
    if (trainable) p.grad = Tensor::zeros(shape);
    p.trainable = trainable;
    return p;
}

// A layer's input, kept only when training (backward() needs it); inference drops what a last training step left.
void keep_for_backward(Tensor& slot, Tensor x, bool training) {
    if (training) slot = std::move(x);
    else if (slot.defined()) slot = Tensor();
}

// The activation step shared by Dense and Conv2D: ReLU is fused into the kernel (its derivative needs only the
// output's sign), the others keep the pre-activation z. Only training keeps z and y for backward(): inference
// holds no activations (and skips the tensor copies, a measurable part of a batch-1 forward pass in wasm).
struct ActStep {
    Act act = Act::identity;
    float alpha = 0.01f;
    Tensor z, y;
    bool fused() const { return act == Act::relu || act == Act::identity; }
    Tensor forward(Tensor pre, bool training) {
        if (!training) {
            keep_for_backward(z, Tensor(), false);
            keep_for_backward(y, Tensor(), false);
            return fused() ? pre : ops::activation(act, alpha, pre);
        }
        Tensor out = fused() ? pre : ops::activation(act, alpha, pre);
        keep_for_backward(z, std::move(pre), training);
        keep_for_backward(y, out, training);
        return out;
    }
    Tensor backward(const Tensor& dy) const {
        if (act == Act::identity) return dy;
        return ops::activation_backward(act, alpha, act == Act::relu ? y : z, y, dy);
    }
};

//-----------------------------------------------------------------------------
// [SECTION] Dense
//-----------------------------------------------------------------------------

class Dense final : public Layer {
public:
    Dense(const Spec& s, const Shape& in, bool is_last, std::string& output_act) {
        s.allow({"units", "activation", "alpha", "init", "use_bias"});
        s.input_rank(in, 1, "(add a \"flatten\" layer before it)");
        units_ = s.integer("units", -1);
        act_.act = read_act(s, is_last, output_act, act_.alpha);
        init_ = read_init(s, act_.act);
        in_ = in;
        out_ = {units_};
        w_ = make_param(s.index, "dense", "weight", {in[0], units_});
        b_ = make_param(s.index, "dense", "bias", {units_});
    }
    const char* type() const override { return "dense"; }
    void init(Rng& rng) override {
        init_weights(w_.value, init_, in_[0], units_, rng);
        b_.value.fill(0);
    }
    Tensor forward(const Tensor& x, bool training) override {
        ops::MatmulDesc d;
        d.bias = &b_.value;
        d.relu = act_.act == Act::relu;
        // Inference on a batch already in [n, in] form reads it as it is: a reshaped view allocates shape vectors,
        // a measurable part of a batch-1 pass in wasm.
        if (!training && x.rank() == 2 && x.dim(1) == in_[0] && x.is_contiguous()) {
            keep_for_backward(x_, Tensor(), false);
            return act_.forward(ops::matmul(x, w_.value, d), false);
        }
        Tensor xm = x.contiguous().reshape({-1, in_[0]});
        Tensor pre = ops::matmul(xm, w_.value, d);
        keep_for_backward(x_, std::move(xm), training);
        return act_.forward(std::move(pre), training);
    }
    Tensor backward(const Tensor& dy) override {
        Tensor dz = act_.backward(dy.contiguous());
        ops::MatmulDesc dw;
        dw.trans_a = true;
        ops::matmul_into(w_.grad, x_, dz, dw);
        b_.grad.copy_from(ops::sum_rows(dz));
        if (!need_input_grad) return Tensor();
        ops::MatmulDesc dx;
        dx.trans_b = true;
        return ops::matmul(dz, w_.value, dx);
    }
    std::vector<Param*> params() override { return {&w_, &b_}; }

private:
    int64_t units_ = 0;
    Init init_ = Init::he;
    ActStep act_;
    Param w_, b_;
    Tensor x_;
};

//-----------------------------------------------------------------------------
// [SECTION] Conv2D
//-----------------------------------------------------------------------------

class Conv2D final : public Layer {
public:
    Conv2D(const Spec& s, const Shape& in, bool is_last, std::string& output_act) {
        s.allow({"filters", "kernel_size", "strides", "padding", "activation", "alpha", "init"});
        s.input_rank(in, 3, "[height, width, channels]");
        int64_t filters = s.integer("filters", -1);
        auto [kh, kw] = s.pair("kernel_size", -1);
        std::tie(sh_, sw_) = s.pair("strides", 1);
        pad_ = s.choice("padding", "valid", {"valid", "same"}) == std::string("same") ? ops::Padding::same
                                                                                       : ops::Padding::valid;
        act_.act = read_act(s, is_last, output_act, act_.alpha);
        init_ = read_init(s, act_.act);
        ops::Padding1d ph = ops::conv_padding(in[0], kh, sh_, pad_), pw = ops::conv_padding(in[1], kw, sw_, pad_);
        if (ph.out <= 0 || pw.out <= 0)
            s.bad("kernel_size", "a kernel that fits the " + shape_str(in) + " input with padding \"" +
                                     ops::padding_name(pad_) + "\"", &s.j["kernel_size"]);
        in_ = in;
        out_ = {ph.out, pw.out, filters};
        w_ = make_param(s.index, "conv2d", "weight", {kh, kw, in[2], filters});
        b_ = make_param(s.index, "conv2d", "bias", {filters});
    }
    const char* type() const override { return "conv2d"; }
    void init(Rng& rng) override {
        const Shape& ws = w_.value.shape();
        init_weights(w_.value, init_, ws[0] * ws[1] * ws[2], ws[0] * ws[1] * ws[3], rng);
        b_.value.fill(0);
    }
    Tensor forward(const Tensor& x, bool training) override {
        Tensor xc = x.contiguous();
        shape_ = ops::conv2d_shape(xc.shape(), w_.value.shape(), sh_, sw_, pad_);
        Tensor pre = ops::conv2d(xc, w_.value, &b_.value, shape_, act_.act == Act::relu);
        keep_for_backward(x_, std::move(xc), training);
        return act_.forward(std::move(pre), training);
    }
    Tensor backward(const Tensor& dy) override {
        Tensor dz = act_.backward(dy.contiguous());
        ops::conv2d_backward_filter(x_, dz, shape_, w_.grad, &b_.grad);
        if (!need_input_grad) return Tensor();
        return ops::conv2d_backward_data(dz, w_.value, shape_);
    }
    std::vector<Param*> params() override { return {&w_, &b_}; }

private:
    int64_t sh_ = 1, sw_ = 1;
    ops::Padding pad_ = ops::Padding::valid;
    Init init_ = Init::he;
    ActStep act_;
    Param w_, b_;
    Tensor x_;
    Conv2dShape shape_;
};

//-----------------------------------------------------------------------------
// [SECTION] MaxPool2D, Flatten
//-----------------------------------------------------------------------------

class MaxPool2D final : public Layer {
public:
    MaxPool2D(const Spec& s, const Shape& in) {
        s.allow({"pool_size", "strides"});
        s.input_rank(in, 3, "[height, width, channels]");
        auto pool = s.pair("pool_size", 2), stride = s.pair("strides", 2);
        if (pool != std::pair<int64_t, int64_t>{2, 2}) s.bad("pool_size", "2 (the supported pool size)", &s.j["pool_size"]);
        if (stride != std::pair<int64_t, int64_t>{2, 2}) s.bad("strides", "2 (the supported stride)", &s.j["strides"]);
        if (in[0] < 2 || in[1] < 2)
            fail("invalid_architecture", s.where("") + " (maxpool2d): input " + shape_str(in) + " is smaller than 2x2");
        in_ = in;
        out_ = {in[0] / 2, in[1] / 2, in[2]};
    }
    const char* type() const override { return "maxpool2d"; }
    Tensor forward(const Tensor& x, bool) override {
        x_shape_ = x.shape();
        ops::Pooled p = ops::maxpool2x2(x.contiguous());
        argmax_ = p.argmax;
        return p.y;
    }
    Tensor backward(const Tensor& dy) override {
        if (!need_input_grad) return Tensor();
        return ops::maxpool2x2_backward(dy.contiguous(), argmax_, x_shape_);
    }

private:
    Shape x_shape_;
    Tensor argmax_;
};

class Flatten final : public Layer {
public:
    Flatten(const Spec& s, const Shape& in) {
        s.allow({});
        in_ = in;
        out_ = {shape_numel(in)};
    }
    const char* type() const override { return "flatten"; }
    Tensor forward(const Tensor& x, bool) override {
        x_shape_ = x.shape();
        return x.contiguous().reshape({x.dim(0), out_[0]});
    }
    Tensor backward(const Tensor& dy) override { return dy.contiguous().reshape(x_shape_); }

private:
    Shape x_shape_;
};

//-----------------------------------------------------------------------------
// [SECTION] Dropout
//-----------------------------------------------------------------------------

class Dropout final : public Layer {
public:
    Dropout(const Spec& s, const Shape& in, Rng* rng) : rng_(rng) {
        s.allow({"rate"});
        rate_ = static_cast<float>(s.number("rate", 0.5, 0, 1, true));
        in_ = out_ = in;
    }
    const char* type() const override { return "dropout"; }
    // Inverted dropout: survivors are scaled by 1/(1-rate) in training so inference is the identity.
    Tensor forward(const Tensor& x, bool training) override {
        active_ = training && rate_ > 0;
        if (!active_) return x;
        mask_ = Tensor::empty(x.shape());
        float keep = 1 / (1 - rate_), *m = mask_.data();
        for (int64_t i = 0, n = mask_.numel(); i < n; ++i) m[i] = rng_->uniform() < rate_ ? 0.f : keep;
        return ops::mul(x.contiguous(), mask_);
    }
    Tensor backward(const Tensor& dy) override { return active_ ? ops::mul(dy.contiguous(), mask_) : dy; }

private:
    float rate_ = 0.5f;
    Rng* rng_;
    bool active_ = false;
    Tensor mask_;
};

//-----------------------------------------------------------------------------
// [SECTION] BatchNorm
//-----------------------------------------------------------------------------

// Normalizes over every axis but the last (features of a dense input, channels of an NHWC image), as PyTorch's
// BatchNorm1d/2d: biased batch variance to normalize, unbiased for the running estimate, running = (1-m)·running
// + m·batch.
class BatchNorm final : public Layer {
public:
    BatchNorm(const Spec& s, const Shape& in) {
        s.allow({"momentum", "epsilon"});
        if (in.empty()) fail("invalid_architecture", s.where("") + " (batchnorm): input has no feature axis");
        momentum_ = static_cast<float>(s.number("momentum", 0.1, 0, 1, false));
        eps_ = static_cast<float>(s.number("epsilon", 1e-5, 0, 1, false));
        if (eps_ <= 0) s.bad("epsilon", "a positive number", &s.j["epsilon"]);
        in_ = out_ = in;
        int64_t c = in.back();
        gamma_ = make_param(s.index, "batchnorm", "gamma", {c});
        beta_ = make_param(s.index, "batchnorm", "beta", {c});
        mean_ = make_param(s.index, "batchnorm", "running_mean", {c}, false);
        var_ = make_param(s.index, "batchnorm", "running_var", {c}, false);
    }
    const char* type() const override { return "batchnorm"; }
    void init(Rng&) override {
        gamma_.value.fill(1);
        beta_.value.fill(0);
        mean_.value.fill(0);
        var_.value.fill(1);
    }
    Tensor forward(const Tensor& x, bool training) override {
        int64_t c = in_.back();
        x_shape_ = x.shape();
        Tensor x2 = x.contiguous().reshape({-1, c});
        int64_t rows = x2.dim(0);
        Tensor mean, var;
        if (training) {
            if (rows < 2) fail("invalid_argument", "batchnorm: training needs more than one value per feature");
            mean = ops::scale(ops::sum_rows(x2), 1.0f / rows);
            Tensor xc = x2.clone();
            ops::add_rows_(xc, ops::scale(mean, -1));
            var = ops::scale(ops::sum_rows(ops::mul(xc, xc)), 1.0f / rows);
            // running = (1-m)·running + m·batch (unbiased variance for the running estimate)
            ops::scale_(mean_.value, 1 - momentum_);
            ops::axpy(momentum_, mean, mean_.value);
            ops::scale_(var_.value, 1 - momentum_);
            ops::axpy(momentum_ * rows / static_cast<float>(rows - 1), var, var_.value);
        } else {
            mean = mean_.value;
            var = var_.value;
        }
        inv_std_ = Tensor::empty({c});
        for (int64_t i = 0; i < c; ++i) inv_std_.data()[i] = 1.0f / std::sqrt(var.data()[i] + eps_);
        xhat_ = x2.clone();
        ops::add_rows_(xhat_, ops::scale(mean, -1));
        ops::mul_rows_(xhat_, inv_std_);
        Tensor y = xhat_.clone();
        ops::mul_rows_(y, gamma_.value);
        ops::add_rows_(y, beta_.value);
        return y.reshape(x_shape_);
    }
    // dx = inv_std · (dxhat - mean(dxhat) - xhat · mean(dxhat · xhat)), dxhat = dy · gamma.
    Tensor backward(const Tensor& dy) override {
        int64_t c = in_.back();
        Tensor dy2 = dy.contiguous().reshape({-1, c});
        float inv_rows = 1.0f / dy2.dim(0);
        beta_.grad.copy_from(ops::sum_rows(dy2));
        gamma_.grad.copy_from(ops::sum_rows(ops::mul(dy2, xhat_)));
        if (!need_input_grad) return Tensor();
        Tensor dxhat = dy2.clone();
        ops::mul_rows_(dxhat, gamma_.value);
        Tensor mean_dxhat = ops::scale(ops::sum_rows(dxhat), -inv_rows);
        Tensor mean_dxhat_xhat = ops::scale(ops::sum_rows(ops::mul(dxhat, xhat_)), -inv_rows);
        Tensor dx = xhat_.clone();
        ops::mul_rows_(dx, mean_dxhat_xhat);
        ops::axpy(1, dxhat, dx);
        ops::add_rows_(dx, mean_dxhat);
        ops::mul_rows_(dx, inv_std_);
        return dx.reshape(x_shape_);
    }
    std::vector<Param*> params() override { return {&gamma_, &beta_, &mean_, &var_}; }

private:
    float momentum_ = 0.1f, eps_ = 1e-5f;
    Param gamma_, beta_, mean_, var_;
    Shape x_shape_;
    Tensor xhat_, inv_std_;
};

//-----------------------------------------------------------------------------
// [SECTION] Activation
//-----------------------------------------------------------------------------

class Activation final : public Layer {
public:
    Activation(Act act, float alpha, const Shape& in) {
        step_.act = act;
        step_.alpha = alpha;
        in_ = out_ = in;
    }
    const char* type() const override { return act_name(step_.act); }
    Tensor forward(const Tensor& x, bool training) override {
        Tensor xc = x.contiguous();
        return step_.forward(step_.fused() && step_.act == Act::relu ? ops::activation(Act::relu, 0, xc) : xc,
                             training);
    }
    Tensor backward(const Tensor& dy) override { return step_.backward(dy.contiguous()); }

private:
    ActStep step_;
};

}  // namespace

//-----------------------------------------------------------------------------
// [SECTION] Factory
//-----------------------------------------------------------------------------

std::unique_ptr<Layer> make_layer(const Json& spec, int index, const Shape& input, bool is_last,
                                  const LayerContext& ctx, std::string& output_act) {
    output_act.clear();
    std::string where = "layers[" + std::to_string(index) + "]";
    if (!spec.is_object()) fail("invalid_architecture", where + ": expected an object, got " + json_brief(spec));
    auto t = spec.find("type");
    if (t == spec.end() || !t->is_string())
        fail("invalid_architecture", where + ".type: expected a layer type string, got " +
                                         (t == spec.end() ? std::string("nothing") : json_brief(*t)));
    std::string type = t->get<std::string>();
    Spec s{spec, index, type};
    if (type == "dense") return std::make_unique<Dense>(s, input, is_last, output_act);
    if (type == "conv2d") return std::make_unique<Conv2D>(s, input, is_last, output_act);
    if (type == "maxpool2d") return std::make_unique<MaxPool2D>(s, input);
    if (type == "flatten") return std::make_unique<Flatten>(s, input);
    if (type == "dropout") return std::make_unique<Dropout>(s, input, ctx.rng);
    if (type == "batchnorm") return std::make_unique<BatchNorm>(s, input);
    if (type == "activation" || type == "softmax" || type == "relu" || type == "leaky_relu" || type == "sigmoid" ||
        type == "tanh" || type == "gelu") {
        std::string name = type;
        float alpha = 0.01f;
        if (type == "activation") {
            s.allow({"activation", "alpha"});
            name = s.choice("activation", nullptr, kActChoices);
        } else {
            s.allow({"alpha"});
        }
        alpha = static_cast<float>(s.number("alpha", 0.01, 0, 1, false));
        if (name == "softmax" && !is_last)
            fail("invalid_architecture", where + " (" + type + "): softmax must be the last layer (output activation)");
        if (is_last && (name == "softmax" || name == "sigmoid")) {
            output_act = name;
            return nullptr;  // an output activation: fused into the loss, applied by predict_proba
        }
        Act a = Act::identity;
        parse_act(name, a);
        return std::make_unique<Activation>(a, alpha, input);
    }
    fail("invalid_architecture", where + ".type: expected one of \"dense\", \"conv2d\", \"maxpool2d\", \"flatten\", "
                                         "\"dropout\", \"batchnorm\", \"activation\", \"relu\", \"leaky_relu\", "
                                         "\"sigmoid\", \"tanh\", \"gelu\", \"softmax\", got " + json_brief(*t));
}

}  // namespace cairn
