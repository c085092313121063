// src/nn: the weight-file loader (every way a file can be wrong) and layer parity against PyTorch.
// Fixtures: tests/data/nn/, written by tools/nn/make_test_models.py (PyTorch 1.13, Debian 12).
//
// Parity tolerance: |c++ - torch| <= 1e-5 + 1e-4 * |torch|. Both sides compute in float32 but sum
// in different orders (Eigen's blocked GEMM over im2col vs PyTorch's own kernels), and the GRU feeds
// each step's rounding into the next; over the fixtures the largest difference is about 1e-6 (values
// of order 1), so the bound has margin for other compilers and SIMD widths while any indexing,
// padding or gate-order mistake (errors of order 0.1 to 1) still fails loudly.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "nn/layers.hpp"
#include "nn/weights.hpp"
#include "support/test_support.hpp"

using namespace harmony;
using namespace harmony::nn;

namespace {

std::string fixture(const std::string& name) {
    return std::string(HARMONY_SOURCE_DIR) + "/tests/data/nn/" + name;
}

std::vector<std::byte> read_bytes(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::vector<char> c((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::vector<std::byte> b(c.size());
    if (!c.empty()) std::memcpy(b.data(), c.data(), c.size());
    return b;
}

WeightFile load(const std::string& name) {
    auto w = WeightFile::from_file(fixture(name));
    EXPECT_TRUE(w.ok()) << (w.ok() ? "" : w.error().message);
    if (!w.ok()) std::abort();
    return std::move(*w);
}

Tensor get(const WeightFile& w, const std::string& name) {
    auto t = w.tensor(name);
    EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.error().message);
    return t.ok() ? std::move(*t) : Tensor();
}

void expect_close(const Tensor& actual, const Tensor& expected, const std::string& what) {
    ASSERT_EQ(shape_to_string(actual.shape()), shape_to_string(expected.shape())) << what;
    double worst = 0.0;
    std::int64_t worst_i = -1;
    for (std::int64_t i = 0; i < expected.numel(); ++i) {
        const double e = expected[i], a = actual[i];
        const double excess = std::abs(a - e) - (1e-5 + 1e-4 * std::abs(e));
        if (!(excess <= worst)) {  // also catches NaN
            worst = std::isnan(excess) ? 1e30 : excess;
            worst_i = i;
        }
    }
    EXPECT_EQ(worst_i, -1) << what << ": element " << worst_i << " is " << actual[worst_i] << ", PyTorch says "
                           << expected[worst_i];
}

template <typename T>
T ok_or_die(Result<T> r) {
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
    if (!r.ok()) std::abort();
    return std::move(*r);
}

Error expect_refused(const Result<WeightFile>& r) {
    EXPECT_FALSE(r.ok());
    if (r.ok()) return make_error(ErrorCode::kInternal, "loaded");
    EXPECT_EQ(r.error().code, ErrorCode::kModelInvalid) << r.error().message;
    return r.error();
}

std::vector<std::byte> raw(const std::string& header, std::size_t payload_bytes = 64) {
    std::vector<std::byte> payload(payload_bytes, std::byte{0});
    return encode_weight_file_raw(header, payload);
}

std::string one_tensor_header(const std::string& tensor_json) {
    return R"({"model":{"name":"t","version":1},"tensors":[)" + tensor_json + "]}";
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

}  // namespace

// ----------------------------------------------------------------------------- the loader
TEST(NnWeights, FileAndMemoryLoadAlikeWithTheirHeader) {
    const auto from_file = load("linear.hnn");
    const auto bytes = read_bytes(fixture("linear.hnn"));
    auto from_memory = WeightFile::from_memory(bytes);
    ASSERT_TRUE(from_memory.ok()) << from_memory.error().message;
    EXPECT_EQ(from_file.model_name(), "linear");
    EXPECT_EQ(from_file.model_version(), 1);
    EXPECT_EQ(from_file.hash(), from_memory->hash());
    EXPECT_EQ(from_file.hash().rfind("xxh64:", 0), 0u);
    EXPECT_EQ(from_file.hash().size(), 6u + 16u);
    EXPECT_TRUE(contains(from_file.metadata_json(), "\"seed\""));
    EXPECT_TRUE(contains(from_file.metadata_json(), "\"torch\""));
    EXPECT_TRUE(contains(from_file.metadata_json(), "make_test_models.py"));
    ASSERT_EQ(from_file.tensors().size(), 2u);
    EXPECT_EQ(from_file.tensors()[0].name, "weight");
    EXPECT_NE(load("conv1d.hnn").hash(), from_file.hash());
}

TEST(NnWeights, EncodeRoundTripsAndHashCoversTheContent) {
    Tensor a({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor b({5}, {-1, 0.5f, 1e-8f, 3e8f, 0});
    const auto bytes = encode_weight_file("roundtrip", 7, R"({"seed":3})", {{"a", a}, {"b.c", b}});
    auto w = WeightFile::from_memory(bytes.data(), bytes.size(), "roundtrip bytes");
    ASSERT_TRUE(w.ok()) << w.error().message;
    EXPECT_EQ(w->model_version(), 7);
    EXPECT_EQ(w->metadata_json(), R"({"seed":3})");
    expect_close(ok_or_die(w->tensor("a", {2, 3})), a, "a");
    expect_close(ok_or_die(w->tensor("b.c", {5})), b, "b.c");
    EXPECT_TRUE(w->expect_all_used().ok());
    Tensor b2 = b;
    b2[4] = 1;
    const auto other = encode_weight_file("roundtrip", 7, R"({"seed":3})", {{"a", a}, {"b.c", b2}});
    EXPECT_NE(ok_or_die(WeightFile::from_memory(other)).hash(), w->hash());
}

TEST(NnWeights, CorruptModelIsRefusedByItsHash) {
    const auto e = expect_refused(WeightFile::from_file(fixture("bad_hash.hnn")));
    EXPECT_TRUE(contains(e.message, "content hash mismatch")) << e.message;
    EXPECT_TRUE(contains(e.message, "bad_hash.hnn")) << e.message;
    EXPECT_EQ(error_code_name(e.code), "model_invalid");
    // Any single flipped bit anywhere (preamble, header, padding, payload) is refused.
    const auto good = read_bytes(fixture("linear.hnn"));
    for (std::size_t i = 0; i < good.size(); ++i) {
        auto bad = good;
        bad[i] ^= std::byte{0x01};
        EXPECT_FALSE(WeightFile::from_memory(bad).ok()) << "flip at byte " << i;
    }
}

TEST(NnWeights, WrongShapeIsRefusedNamingTheTensor) {
    const auto w = load("wrong_shape.hnn");
    auto l = Linear::load(w, "", {6, 4});
    ASSERT_FALSE(l.ok());
    EXPECT_EQ(l.error().code, ErrorCode::kModelInvalid);
    EXPECT_TRUE(contains(l.error().message, "tensor 'weight': expected f32 [4,6], found f32 [4,7]"))
        << l.error().message;
    EXPECT_TRUE(contains(l.error().message, "model 'linear'")) << l.error().message;
}

TEST(NnWeights, WrongNameAndUnusedTensorsAreRefused) {
    const auto w = load("linear.hnn");
    auto l = Linear::load(w, "fc", {6, 4});
    ASSERT_FALSE(l.ok());
    EXPECT_TRUE(contains(l.error().message, "no tensor named 'fc.weight' (expected f32 [4,6])")) << l.error().message;
    const auto w2 = load("linear.hnn");
    ASSERT_TRUE(Linear::load(w2, "", {6, 4, /*bias=*/false}).ok());
    auto unused = w2.expect_all_used();
    ASSERT_FALSE(unused.ok());
    EXPECT_TRUE(contains(unused.error().message, "'bias'")) << unused.error().message;
}

TEST(NnWeights, WrongDtypeIsRefused) {
    const auto bytes = raw(one_tensor_header(R"({"name":"w","dtype":"i32","shape":[2,2],"offset":0,"nbytes":16})"));
    const auto w = ok_or_die(WeightFile::from_memory(bytes));
    auto t = w.tensor("w", {2, 2});
    ASSERT_FALSE(t.ok());
    EXPECT_TRUE(contains(t.error().message, "tensor 'w': expected f32 [2,2], found i32 [2,2]")) << t.error().message;
    const auto unknown = raw(one_tensor_header(R"({"name":"w","dtype":"bf8","shape":[2],"offset":0,"nbytes":2})"));
    EXPECT_TRUE(contains(expect_refused(WeightFile::from_memory(unknown)).message, "unknown dtype \"bf8\""));
}

TEST(NnWeights, TruncatedAndEmptyFilesAreRefused) {
    const auto good = read_bytes(fixture("crnn.hnn"));
    for (std::size_t n = 0; n < good.size(); ++n) {
        auto r = WeightFile::from_memory(std::span<const std::byte>(good.data(), n));
        ASSERT_FALSE(r.ok()) << "accepted a file cut at " << n << " bytes";
        EXPECT_EQ(r.error().code, ErrorCode::kModelInvalid);
    }
    EXPECT_TRUE(contains(expect_refused(WeightFile::from_memory(std::span<const std::byte>(good.data(), 1000))).message,
                         "truncated"));
    auto longer = good;
    longer.push_back(std::byte{0});
    EXPECT_TRUE(contains(expect_refused(WeightFile::from_memory(longer)).message, "unexpected bytes"));

    test::TempDir dir;
    test::write_file(dir.file("empty.hnn"), "");
    auto empty = WeightFile::from_file(dir.file("empty.hnn"));
    ASSERT_FALSE(empty.ok());
    EXPECT_EQ(empty.error().code, ErrorCode::kEmptyFile);
    test::write_file(dir.file("cut.hnn"), std::string(reinterpret_cast<const char*>(good.data()), 100));
    expect_refused(WeightFile::from_file(dir.file("cut.hnn")));
    auto missing = WeightFile::from_file(dir.file("missing.hnn"));
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, ErrorCode::kFileNotFound);
    auto directory = WeightFile::from_file(dir.path());
    ASSERT_FALSE(directory.ok());
    EXPECT_EQ(directory.error().code, ErrorCode::kNotAFile);
}

TEST(NnWeights, HeadersClaimingHugeSizesAreRefusedWithoutAllocating) {
    auto good = read_bytes(fixture("linear.hnn"));
    auto huge_header = good;
    for (int i = 12; i < 16; ++i) huge_header[i] = std::byte{0xff};
    EXPECT_TRUE(contains(expect_refused(WeightFile::from_memory(huge_header)).message, "header claims 4294967295"));
    auto huge_payload = good;
    for (int i = 16; i < 24; ++i) huge_payload[i] = std::byte{0xff};
    EXPECT_TRUE(contains(expect_refused(WeightFile::from_memory(huge_payload)).message, "payload claims"));
    // Lies inside a header that carries a valid hash.
    const char* lies[][2] = {
        {R"({"name":"w","dtype":"f32","shape":[1073741824,1073741824],"offset":0,"nbytes":4})", "too large"},
        {R"({"name":"w","dtype":"f32","shape":[4],"offset":18446744073709551552,"nbytes":16})", "outside"},
        {R"({"name":"w","dtype":"f32","shape":[1024],"offset":0,"nbytes":4096})", "outside the 64-byte payload"},
        {R"({"name":"w","dtype":"f32","shape":[4],"offset":0,"nbytes":20})", "needs 16"},
        {R"({"name":"w","dtype":"f32","shape":[4],"offset":4,"nbytes":16})", "not 64-byte aligned"},
        {R"({"name":"w","dtype":"f32","shape":[-4],"offset":0,"nbytes":16})", "negative dimension"},
        {R"({"name":"w","dtype":"f32","shape":[1,1,1,1,1,1,1,1,1],"offset":0,"nbytes":4})", "at most 8"},
        {R"({"name":"w","dtype":"f32","shape":"4","offset":0,"nbytes":16})", "shape must be an array"},
        {R"({"name":"","dtype":"f32","shape":[4],"offset":0,"nbytes":16})", "empty name"},
        {R"({"name":"w","dtype":"f32","shape":[4],"offset":0,"nbytes":16},{"name":"w","dtype":"f32","shape":[4],"offset":0,"nbytes":16})",
         "appears twice"},
        {R"({"name":"w","dtype":"f32","shape":[8],"offset":0,"nbytes":32},{"name":"v","dtype":"f32","shape":[4],"offset":0,"nbytes":16})",
         "overlap"},
        {R"({"name":"w","dtype":"f32","shape":[4],"nbytes":16})", "'offset' missing"},
        {R"(7)", "has no name"},
    };
    for (const auto& [tensor, want] : lies) {
        const auto e = expect_refused(WeightFile::from_memory(raw(one_tensor_header(tensor))));
        EXPECT_TRUE(contains(e.message, want)) << "expected '" << want << "' in: " << e.message;
    }
    for (const std::string& header : std::vector<std::string>{
             "not json", "[1,2]", "{}", R"({"model":{"name":1},"tensors":[]})",
             R"({"model":{"name":"x","version":"1"},"tensors":[]})", R"({"model":{"name":"x"},"tensors":{}})",
             std::string(100000, '['), R"({"model":{"name":"x"},"metadata":[],"tensors":[]})"}) {
        expect_refused(WeightFile::from_memory(raw(header)));
    }
}

TEST(NnWeights, BadMagicAndFutureVersionsAreRefused) {
    auto good = read_bytes(fixture("linear.hnn"));
    auto magic = good;
    magic[0] = std::byte{'X'};
    EXPECT_TRUE(contains(expect_refused(WeightFile::from_memory(magic)).message, "bad magic"));
    auto version = good;
    version[8] = std::byte{2};
    EXPECT_TRUE(contains(expect_refused(WeightFile::from_memory(version)).message, "format version 2"));
    const std::string text = "this is a text file, not a model, but long enough for a preamble";
    expect_refused(WeightFile::from_memory(text.data(), text.size()));
}

// ----------------------------------------------------------------------------- layer parity
TEST(NnParity, Linear) {
    const auto w = load("linear.hnn");
    const auto io = load("linear.io.hnn");
    const auto l = ok_or_die(Linear::load(w, "", {6, 4}));
    EXPECT_TRUE(w.expect_all_used().ok());
    expect_close(l.forward(get(io, "input")), get(io, "output"), "linear");
    Tensor row = get(io, "input");  // a single [in] vector
    row = Tensor({6}, std::vector<float>(row.data(), row.data() + 6));
    const Tensor all = get(io, "output");
    expect_close(l.forward(row), Tensor({4}, std::vector<float>(all.data(), all.data() + 4)), "linear rank 1");
}

TEST(NnParity, Conv1dDilatedAndStrided) {
    {
        const auto w = load("conv1d.hnn");
        const auto io = load("conv1d.io.hnn");
        Conv1dConfig cfg{3, 4, 5};
        cfg.padding = 4;
        cfg.dilation = 2;
        const auto c = ok_or_die(Conv1d::load(w, "", cfg));
        EXPECT_TRUE(w.expect_all_used().ok());
        expect_close(c.forward(get(io, "input")), get(io, "output"), "conv1d");
    }
    const auto w = load("conv1d_stride.hnn");
    const auto io = load("conv1d_stride.io.hnn");
    Conv1dConfig cfg{2, 3, 3};
    cfg.stride = 2;
    cfg.padding = 1;
    cfg.bias = false;
    const auto c = ok_or_die(Conv1d::load(w, "", cfg));
    EXPECT_TRUE(w.expect_all_used().ok());
    expect_close(c.forward(get(io, "input")), get(io, "output"), "conv1d stride 2");
}

TEST(NnParity, Conv2dStridePaddingDilation) {
    const auto w = load("conv2d.hnn");
    const auto io = load("conv2d.io.hnn");
    Conv2dConfig cfg;
    cfg.in_channels = 2;
    cfg.out_channels = 3;
    cfg.kernel[0] = 3, cfg.kernel[1] = 2;
    cfg.stride[1] = 2;
    cfg.padding[0] = 1;
    cfg.dilation[0] = 2;
    const auto c = ok_or_die(Conv2d::load(w, "", cfg));
    EXPECT_TRUE(w.expect_all_used().ok());
    expect_close(c.forward(get(io, "input")), get(io, "output"), "conv2d");
}

TEST(NnParity, Conv2dWithFoldedBatchNorm) {
    const auto w = load("conv2d_bn.hnn");
    const auto io = load("conv2d_bn.io.hnn");
    Conv2dConfig cfg;
    cfg.in_channels = 2;
    cfg.out_channels = 3;
    cfg.kernel[0] = cfg.kernel[1] = 3;
    cfg.padding[0] = cfg.padding[1] = 1;
    cfg.fold_batchnorm = "bn";
    const auto c = ok_or_die(Conv2d::load(w, "conv", cfg));
    EXPECT_TRUE(w.expect_all_used().ok());
    expect_close(c.forward(get(io, "input")), get(io, "output"), "conv2d + batchnorm");
}

TEST(NnParity, BatchNormStandalone) {
    const auto w = load("batchnorm1d.hnn");
    const auto io = load("batchnorm1d.io.hnn");
    const auto bn = ok_or_die(BatchNorm::load(w, "", 4));
    EXPECT_TRUE(w.expect_all_used().ok());
    expect_close(bn.forward(get(io, "input")), get(io, "output"), "batchnorm1d");
}

TEST(NnParity, Activations) {
    const auto io = load("activations.io.hnn");
    const Tensor x = get(io, "input");
    auto run = [&](void (*f)(Tensor&)) {
        Tensor y = x;
        f(y);
        return y;
    };
    expect_close(run(relu), get(io, "relu"), "relu");
    expect_close(run([](Tensor& t) { elu(t); }), get(io, "elu"), "elu");
    expect_close(run(nn::tanh), get(io, "tanh"), "tanh");
    expect_close(run(sigmoid), get(io, "sigmoid"), "sigmoid");
    expect_close(run([](Tensor& t) { softmax(t, -1); }), get(io, "softmax_last"), "softmax");
    expect_close(run([](Tensor& t) { log_softmax(t, 0); }), get(io, "log_softmax_first"), "log_softmax");
    Tensor extreme({4}, {-1000.0f, 1000.0f, 0.0f, 88.0f});
    sigmoid(extreme);
    EXPECT_EQ(extreme[0], 0.0f);
    EXPECT_EQ(extreme[1], 1.0f);
    Tensor big({3}, {1000.0f, 999.0f, -1000.0f});
    softmax(big);
    EXPECT_NEAR(big[0] + big[1] + big[2], 1.0, 1e-6);
}

TEST(NnParity, Pooling) {
    const auto io = load("pooling.io.hnn");
    const Tensor x2 = get(io, "input2d"), x1 = get(io, "input1d");
    expect_close(max_pool2d(x2, {{2, 3}, {2, 2}, {1, 1}}), get(io, "max2d"), "max_pool2d");
    expect_close(avg_pool2d(x2, {{2, 2}, {2, 1}, {0, 1}}), get(io, "avg2d"), "avg_pool2d");
    expect_close(max_pool1d(x1, 3, 2, 1), get(io, "max1d"), "max_pool1d");
    expect_close(avg_pool1d(x1, 4, 2), get(io, "avg1d"), "avg_pool1d");
}

TEST(NnParity, GruTwoLayers) {
    const auto w = load("gru.hnn");
    const auto io = load("gru.io.hnn");
    const auto g = ok_or_die(Gru::load(w, "", {5, 6, 2}));
    EXPECT_TRUE(w.expect_all_used().ok());
    expect_close(g.forward(get(io, "input")), get(io, "output"), "gru");
}

TEST(NnParity, GruBidirectional) {
    const auto w = load("bigru.hnn");
    const auto io = load("bigru.io.hnn");
    const auto g = ok_or_die(Gru::load(w, "", {5, 4, 1, true}));
    EXPECT_TRUE(w.expect_all_used().ok());
    expect_close(g.forward(get(io, "input")), get(io, "output"), "bidirectional gru");
    auto wrong = Gru::load(w, "", {5, 4, 1, false});  // loads; the reverse tensors stay unread
    ASSERT_TRUE(wrong.ok());
}

namespace {

// The composed models as an analyzer would write them: plain structs of layers.
struct TcnBlock {
    Conv1d dilated, pointwise;
    static Result<TcnBlock> load(const WeightFile& w) {
        Conv1dConfig d{4, 4, 5};
        d.padding = 8;
        d.dilation = 4;
        d.bias = false;
        d.fold_batchnorm = "bn";
        auto dilated = Conv1d::load(w, "dilated", d);
        if (!dilated) return dilated.error();
        auto pointwise = Conv1d::load(w, "pointwise", {4, 4, 1});
        if (!pointwise) return pointwise.error();
        if (auto all = w.expect_all_used(); !all) return all.error();
        return TcnBlock{std::move(*dilated), std::move(*pointwise)};
    }
    Tensor forward(const Tensor& x) const {
        Tensor h = dilated.forward(x);
        elu(h);
        h = pointwise.forward(h);
        for (std::int64_t i = 0; i < h.numel(); ++i) h[i] += x[i];
        return h;
    }
};

struct TinyCrnn {
    Conv2d conv1, conv2;
    Linear fc, out;
    Gru gru;
    static Result<TinyCrnn> load(const WeightFile& w) {
        Conv2dConfig c1;
        c1.in_channels = 1, c1.out_channels = 4;
        c1.kernel[0] = c1.kernel[1] = 3;
        c1.padding[0] = c1.padding[1] = 1;
        c1.fold_batchnorm = "bn1";
        Conv2dConfig c2;
        c2.in_channels = 4, c2.out_channels = 6;
        c2.kernel[0] = c2.kernel[1] = 3;
        c2.padding[0] = 1, c2.padding[1] = 2;
        c2.dilation[1] = 2;
        c2.fold_batchnorm = "bn2";
        auto conv1 = Conv2d::load(w, "conv1", c1);
        if (!conv1) return conv1.error();
        auto conv2 = Conv2d::load(w, "conv2", c2);
        if (!conv2) return conv2.error();
        auto fc = Linear::load(w, "fc", {36, 12});
        if (!fc) return fc.error();
        auto gru = Gru::load(w, "gru", {12, 8, 1, true});
        if (!gru) return gru.error();
        auto out = Linear::load(w, "out", {16, 5});
        if (!out) return out.error();
        if (auto all = w.expect_all_used(); !all) return all.error();
        return TinyCrnn{std::move(*conv1), std::move(*conv2), std::move(*fc), std::move(*out), std::move(*gru)};
    }
    Tensor forward(const Tensor& x) const {  // [1, 24 bins, T frames] -> [T, 5] log-probabilities
        Tensor h = conv1.forward(x);
        relu(h);
        h = max_pool2d(h, {{2, 1}});
        h = conv2.forward(h);
        elu(h);
        h = avg_pool2d(h, {{2, 1}});
        const std::int64_t frames = h.dim(2);
        h.reshape({h.dim(0) * h.dim(1), frames});
        h = fc.forward(transpose2d(h));
        nn::tanh(h);
        h = out.forward(gru.forward(h));
        log_softmax(h, -1);
        return h;
    }
};

}  // namespace

TEST(NnParity, TcnResidualBlock) {
    const auto w = load("tcn_block.hnn");
    const auto io = load("tcn_block.io.hnn");
    const auto block = ok_or_die(TcnBlock::load(w));
    expect_close(block.forward(get(io, "input")), get(io, "output"), "tcn block");
}

TEST(NnParity, ComposedCrnn) {
    const auto w = load("crnn.hnn");
    const auto io = load("crnn.io.hnn");
    const auto model = ok_or_die(TinyCrnn::load(w));
    expect_close(model.forward(get(io, "input")), get(io, "output"), "crnn");
    // From memory too (how an embedded model loads), with the same hash.
    const auto bytes = read_bytes(fixture("crnn.hnn"));
    const auto w2 = ok_or_die(WeightFile::from_memory(bytes, "embedded crnn"));
    EXPECT_EQ(w2.hash(), w.hash());
    expect_close(ok_or_die(TinyCrnn::load(w2)).forward(get(io, "input")), get(io, "output"), "crnn from memory");
}

TEST(NnLayers, InvalidConfigsAreRefused) {
    const auto w = load("conv1d.hnn");
    auto c = Conv1d::load(w, "", {3, 4, 5, /*stride=*/0});
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().code, ErrorCode::kInvalidArgument);
    EXPECT_FALSE(Linear::load(w, "", {0, 4}).ok());
    EXPECT_FALSE(Gru::load(w, "", {5, 0}).ok());
}

TEST(NnLayers, ConvOutputLengthsFollowPyTorch) {
    // A long input crosses several im2col tiles; shorter than the kernel gives an empty output.
    const auto bytes =
        encode_weight_file("ones", 1, "{}", {{"weight", Tensor({1, 1, 3}, {1, 1, 1})}, {"bias", Tensor({1})}});
    const auto w = ok_or_die(WeightFile::from_memory(bytes));
    const auto c = ok_or_die(Conv1d::load(w, "", {1, 1, 3}));
    Tensor x({1, 100000});
    for (std::int64_t i = 0; i < x.numel(); ++i) x[i] = static_cast<float>(i % 7);
    const Tensor y = c.forward(x);
    ASSERT_EQ(y.dim(1), 99998);
    for (std::int64_t i = 0; i < y.numel(); ++i) ASSERT_EQ(y[i], x[i] + x[i + 1] + x[i + 2]) << i;
    EXPECT_EQ(c.forward(Tensor({1, 2})).dim(1), 0);
}
