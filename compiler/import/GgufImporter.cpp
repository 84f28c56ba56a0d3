#include "compiler/import/GgufImporter.h"

#include <cmath>
#include <fstream>
#include <set>

#include "compiler/import/GgufFile.h"
#include "compiler/ir/ConstantData.h"
#include "compiler/ir/FunctionNames.h"
#include "compiler/ir/MappedBlobs.h"
#include "compiler/ir/SymbolicShape.h"
#include "dialects/graph/GraphDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "runtime/half.h"

using namespace mlir;
using llvm::Error;
using llvm::Expected;

namespace edgecc {
namespace {

constexpr int kSeq = 0, kPast = 1, kNumSymbols = 2;  // the two symbols

struct Hyper {
  std::string arch;
  int64_t embd = 0, layers = 0, ff = 0, heads = 0, kv_heads = 0, head_dim = 0, vocab = 0, context = 0;
  double eps = 1e-5, theta = 10000.0;
};

class GgufImporter {
 public:
  GgufImporter(MLIRContext& ctx, const gguf::File& file, const GgufImportOptions& options)
      : ctx_(ctx), file_(file), options_(options), b_(&ctx) {}

  Expected<OwningOpRef<ModuleOp>> run() {
    if (Error e = readHyper()) return std::move(e);
    // Without a request, the cache covers the model's context up to kDefaultMaxContext (an f32
    // cache for a 128k context would be gigabytes).
    const int64_t maxContext = options_.max_context > 0 ? options_.max_context : std::min(h_.context, kDefaultMaxContext);
    const int64_t maxBatch = options_.max_batch > 0 ? options_.max_batch : std::min<int64_t>(maxContext, 64);
    if (maxContext < 1 || maxContext > (int64_t(1) << 24)) return fail("max context must be in 1..2^24");
    if (maxBatch < 1 || maxBatch > maxContext) return fail("max batch must be in 1..max context");
    if (options_.probe_tokens < 0 || options_.probe_tokens > maxContext) return fail("probe tokens must be in 1..max context");

    // Every block's first tensor, before anything is sized by the block count: a small file
    // claiming thousands of blocks is refused at once, not after building their inputs.
    for (int64_t l = 0; l < h_.layers; ++l)
      if (!file_.tensor("blk." + std::to_string(l) + ".attn_norm.weight"))
        return fail("missing tensor 'blk." + std::to_string(l) + ".attn_norm.weight' (block_count is " + std::to_string(h_.layers) + ")");

    OwningOpRef<ModuleOp> module = ModuleOp::create(UnknownLoc::get(&ctx_));
    // The probe is static: its tokens start at position 0 with nothing cached.
    const bool probe = options_.probe_tokens > 0;
    if (!probe) setSymbolBounds(*module, SymbolBounds{{"seq", "past"}, {maxBatch, maxContext}});
    b_.setInsertionPointToEnd(module->getBody());
    const SymDim S = probe ? SymDim(options_.probe_tokens) : SymDim::symbol(kSeq);
    const SymDim P = probe ? SymDim(0) : SymDim::symbol(kPast);
    const int64_t D = h_.head_dim, Hq = h_.heads, Hk = h_.kv_heads;
    SmallVector<Type> args = {type({1, S}, b_.getI32Type())};
    SmallVector<std::string> argNames = {"input_ids"};
    for (int64_t l = 0; l < h_.layers && !probe; ++l)
      for (const char* kv : {"past_k.", "past_v."}) {
        args.push_back(type({1, Hk, P, D}));
        argNames.push_back(kv + std::to_string(l));
      }
    auto func = b_.create<func::FuncOp>(UnknownLoc::get(&ctx_), "main", b_.getFunctionType(args, {}));
    Block* body = func.addEntryBlock();
    setArgNames(func, argNames);
    b_.setInsertionPointToEnd(body);

    auto embdTable = weight("token_embd.weight", h_.vocab, h_.embd);
    if (!embdTable) return embdTable.takeError();
    setLoc("token_embd");
    Value x = op<graph::EmbeddingOp>(type({1, S, h_.embd}), embdTable->value, body->getArgument(0), embdTable->format);

    // Positions past .. past + seq - 1, computed at run time from the bound symbols.
    auto scalar = RankedTensorType::get({}, b_.getI64Type());
    Value start = probe ? constantI64(0) : op<graph::SymbolicOp>(scalar, dimsMap(&ctx_, {P}, kNumSymbols));
    Value one = constantI64(1);
    Value positions = op<graph::RangeOp>(type({S}, b_.getI64Type()), start, one);

    SmallVector<Value> results;
    SmallVector<std::string> resultNames = {"logits"};
    SmallVector<Value> presents;
    SmallVector<Value> probed;  // the probe's intermediates, in ggufProbeValueNames order
    auto expose = [&](Value v) {
      if (probe) probed.push_back(v);
    };
    const float scale = float(1.0 / std::sqrt(double(D)));
    for (int64_t l = 0; l < h_.layers; ++l) {
      const std::string blk = "blk." + std::to_string(l) + ".";
      setLoc(blk + "attn");
      auto attnNorm = vector(blk + "attn_norm.weight", h_.embd);
      if (!attnNorm) return attnNorm.takeError();
      Value n = op<graph::RmsNormOp>(x.getType(), x, *attnNorm, b_.getF32FloatAttr(float(h_.eps)));
      expose(n);
      auto q = projection(n, blk + "attn_q", Hq * D, h_.embd, h_.arch == "qwen2");
      auto k = projection(n, blk + "attn_k", Hk * D, h_.embd, h_.arch == "qwen2");
      auto v = projection(n, blk + "attn_v", Hk * D, h_.embd, h_.arch == "qwen2");
      if (!q) return q.takeError();
      if (!k) return k.takeError();
      if (!v) return v.takeError();
      // llama.cpp's `llama` files hold Q/K rows permuted for adjacent-pair rotation; qwen2
      // (NEOX mode) rotates halves.
      const bool interleaved = h_.arch == "llama";
      auto heads = [&](Value t, int64_t h) {
        Value r = op<graph::ReshapeOp>(type({1, S, h, D}), t);
        return op<graph::TransposeOp>(type({1, h, S, D}), r, b_.getDenseI64ArrayAttr({0, 2, 1, 3}));
      };
      auto rope = [&](Value t) {
        return op<graph::RopeOp>(t.getType(), t, positions, b_.getF32FloatAttr(float(h_.theta)), b_.getBoolAttr(interleaved));
      };
      Value qh = rope(heads(*q, Hq)), kh = rope(heads(*k, Hk)), vh = heads(*v, Hk);
      Value kAll = kh, vAll = vh;
      if (!probe) {
        kAll = op<graph::ConcatOp>(type({1, Hk, P + S, D}), ValueRange{body->getArgument(unsigned(1 + 2 * l)), kh},
                                   b_.getI64IntegerAttr(2));
        vAll = op<graph::ConcatOp>(type({1, Hk, P + S, D}), ValueRange{body->getArgument(unsigned(2 + 2 * l)), vh},
                                   b_.getI64IntegerAttr(2));
      }
      presents.push_back(kAll);
      presents.push_back(vAll);
      Value att = b_.create<graph::AttentionOp>(loc_, type({1, Hq, S, D}), qh, kAll, vAll, Value(),
                                                b_.getF32FloatAttr(scale), b_.getUnitAttr());
      Value merged = op<graph::TransposeOp>(type({1, S, Hq, D}), att, b_.getDenseI64ArrayAttr({0, 2, 1, 3}));
      merged = op<graph::ReshapeOp>(type({1, S, Hq * D}), merged);
      expose(merged);
      auto o = projection(merged, blk + "attn_output", h_.embd, Hq * D, false);
      if (!o) return o.takeError();
      expose(*o);
      x = op<graph::AddOp>(x.getType(), x, *o);
      expose(x);

      setLoc(blk + "ffn");
      auto ffnNorm = vector(blk + "ffn_norm.weight", h_.embd);
      if (!ffnNorm) return ffnNorm.takeError();
      n = op<graph::RmsNormOp>(x.getType(), x, *ffnNorm, b_.getF32FloatAttr(float(h_.eps)));
      expose(n);
      auto gate = projection(n, blk + "ffn_gate", h_.ff, h_.embd, false);
      auto up = projection(n, blk + "ffn_up", h_.ff, h_.embd, false);
      if (!gate) return gate.takeError();
      if (!up) return up.takeError();
      Value act = op<graph::MulOp>(gate->getType(), op<graph::SiluOp>(gate->getType(), *gate), *up);
      auto down = projection(act, blk + "ffn_down", h_.embd, h_.ff, false);
      if (!down) return down.takeError();
      expose(*down);
      x = op<graph::AddOp>(x.getType(), x, *down);
      expose(x);
    }

    // Only the last position's logits, unless asked for all: an app samples from them, and
    // the vocabulary projection is the largest matmul of a decode step.
    setLoc("output");
    Value last = x;
    const bool allLogits = options_.all_logits || probe;
    const SymDim rows = allLogits ? S : SymDim(1);
    if (!allLogits) {
      Value lastIndex = op<graph::SymbolicOp>(scalar, dimsMap(&ctx_, {S - SymDim(1)}, kNumSymbols));
      last = op<graph::GatherOp>(type({1, h_.embd}), x, lastIndex, b_.getI64IntegerAttr(1));
      last = op<graph::ReshapeOp>(type({1, 1, h_.embd}), last);
    }
    auto outNorm = vector("output_norm.weight", h_.embd);
    if (!outNorm) return outNorm.takeError();
    last = op<graph::RmsNormOp>(last.getType(), last, *outNorm, b_.getF32FloatAttr(float(h_.eps)));
    expose(last);
    Weight head = *embdTable;  // tied head unless the file has its own
    if (file_.tensor("output.weight")) {
      auto w = weight("output.weight", h_.vocab, h_.embd);
      if (!w) return w.takeError();
      head = *w;
    }
    results.push_back(op<graph::LinearOp>(type({1, rows, h_.vocab}), last, head.value, head.format));
    if (probe) {
      resultNames[0] = "result_output";  // llama.cpp's name for the logits
      for (const std::string& name : ggufProbeValueNames(h_.layers)) resultNames.push_back(name);
      results.append(probed.begin(), probed.end());
    } else {
      for (int64_t l = 0; l < h_.layers; ++l) {
        resultNames.push_back("present_k." + std::to_string(l));
        resultNames.push_back("present_v." + std::to_string(l));
      }
      results.append(presents.begin(), presents.end());
    }
    // A tensor the graph does not read carries something this importer would silently get
    // wrong (rope_freqs: Llama 3 frequency scaling; experts; ...): refuse the file.
    for (const gguf::TensorInfo& t : file_.tensors())
      if (!used_.count(t.name))
        return fail("tensor '" + t.name + "' is not used by edgecc's " + h_.arch +
                    " graph (e.g. rope_freqs: Llama 3 rope scaling), so the model is not supported");
    b_.create<func::ReturnOp>(UnknownLoc::get(&ctx_), results);
    SmallVector<Type> resultTypes;
    for (Value r : results) resultTypes.push_back(r.getType());
    func.setType(b_.getFunctionType(args, resultTypes));
    setResultNames(func, resultNames);
    module.get()->setAttr("graph.source_arch", b_.getStringAttr(h_.arch));
    return std::move(module);
  }

 private:
  struct Weight {
    Value value;
    StringAttr format;
  };

  Error fail(const std::string& why) const { return file_.error(why); }

  Error readHyper() {
    auto arch = file_.getString("general.architecture");
    if (!arch) return arch.takeError();
    h_.arch = *arch;
    if (h_.arch != "llama" && h_.arch != "qwen2")
      return fail("architecture '" + h_.arch + "' is not supported (llama and qwen2 are)");
    const std::string a = h_.arch + ".";
    for (auto [key, field] : {std::pair{"embedding_length", &h_.embd}, {"block_count", &h_.layers},
                              {"feed_forward_length", &h_.ff}, {"attention.head_count", &h_.heads},
                              {"context_length", &h_.context}}) {
      auto v = file_.getInt(a + key);
      if (!v) return v.takeError();
      if (*v < 1 || *v > (int64_t(1) << 24)) return fail("metadata '" + a + key + "' = " + std::to_string(*v) + " is out of range");
      *field = *v;
    }
    h_.kv_heads = file_.getInt(a + "attention.head_count_kv", h_.heads);
    if (h_.kv_heads < 1 || h_.heads % h_.kv_heads != 0)
      return fail("head_count " + std::to_string(h_.heads) + " is not a multiple of head_count_kv " + std::to_string(h_.kv_heads));
    if (h_.embd % h_.heads != 0) return fail("embedding_length is not a multiple of head_count");
    h_.head_dim = file_.getInt(a + "attention.key_length", h_.embd / h_.heads);
    if (file_.getInt(a + "attention.value_length", h_.head_dim) != h_.head_dim)
      return fail("key and value head sizes differ, which is not supported");
    if (file_.getInt(a + "rope.dimension_count", h_.head_dim) != h_.head_dim)
      return fail("partial rotary embedding (rope.dimension_count != head size) is not supported");
    if (h_.head_dim < 2 || h_.head_dim % 2 != 0 || h_.head_dim > 1024)
      return fail("head size " + std::to_string(h_.head_dim) + " must be even and in 2..1024");
    h_.eps = file_.getFloat(a + "attention.layer_norm_rms_epsilon", 1e-5);
    h_.theta = file_.getFloat(a + "rope.freq_base", 10000.0);
    if (!(h_.eps > 0 && std::isfinite(h_.eps))) return fail("attention.layer_norm_rms_epsilon must be a positive number");
    if (!(h_.theta > 0 && std::isfinite(h_.theta))) return fail("rope.freq_base must be a positive number");
    if (file_.getInt(a + "expert_count", 0) > 0) return fail("mixture-of-experts models are not supported");
    if (file_.find(a + "rope.scaling.type") && file_.find(a + "rope.scaling.type")->s != "none")
      return fail("rope scaling '" + file_.find(a + "rope.scaling.type")->s + "' is not supported");
    const gguf::TensorInfo* embd = file_.tensor("token_embd.weight");
    if (!embd) return fail("missing tensor 'token_embd.weight'");
    if (embd->ne.size() != 2) return fail("tensor 'token_embd.weight' must be 2-D");
    h_.vocab = embd->ne[1];
    return Error::success();
  }

  RankedTensorType type(const SymShape& dims, Type element = {}) {
    return symbolicTensorType(&ctx_, dims, element ? element : b_.getF32Type(), kNumSymbols);
  }
  Value constantI64(int64_t v) {
    auto t = RankedTensorType::get({}, b_.getI64Type());
    return b_.create<graph::ConstantOp>(loc_, t, DenseElementsAttr::get(t, llvm::ArrayRef<int64_t>{v}), StringAttr());
  }

  template <class Op, class... Args>
  Value op(Type result, Args&&... args) {
    return b_.create<Op>(loc_, result, std::forward<Args>(args)...).getResult();
  }
  void setLoc(const std::string& name) { loc_ = NameLoc::get(b_.getStringAttr(name)); }

  // A large tensor stays in the mapped file, never copied: its blob holds the mapping, and when
  // a pass replaces the tensor (packed, fused, quantized) and the blob is freed, its pages
  // leave the process. This keeps compiling a model within about its size.
  ElementsAttr mappedElements(RankedTensorType type, const gguf::TensorInfo& t, const std::string& name) {
    constexpr size_t kAlign = alignof(std::max_align_t);
    if (t.bytes < kResourceThresholdBytes || uintptr_t(t.data) % kAlign != 0)
      return makeElementsAttr(type, std::string(reinterpret_cast<const char*>(t.data), t.bytes), name);
    return DenseResourceElementsAttr::get(
        type, name, mappedBlob(ArrayRef<char>(reinterpret_cast<const char*>(t.data), t.bytes), file_.mapping()));
  }

  // A 2-D weight of `rows` x `cols` values, kept in its stored format.
  Expected<Weight> weight(const std::string& name, int64_t rows, int64_t cols) {
    const gguf::TensorInfo* t = file_.tensor(name);
    if (!t) return fail("missing tensor '" + name + "'");
    used_.insert(name);
    if (t->ne.size() != 2 || t->ne[0] != cols || t->ne[1] != rows)
      return fail("tensor '" + name + "' has shape " + shapeText(*t) + ", expected [" + std::to_string(cols) + ", " +
                  std::to_string(rows) + "]");
    std::string format;
    Type element;
    int64_t width = cols;
    switch (gguf::TensorType(t->type)) {
      case gguf::TensorType::F32: format = "f32"; element = b_.getF32Type(); break;
      case gguf::TensorType::F16: format = "f16"; element = b_.getF16Type(); break;
      case gguf::TensorType::Q8_0: case gguf::TensorType::Q4_0: case gguf::TensorType::Q2_K: case gguf::TensorType::Q3_K:
      case gguf::TensorType::Q4_K: case gguf::TensorType::Q5_K: case gguf::TensorType::Q6_K:
        format = gguf::tensorTypeName(t->type);  // the same names as ek::weight_format_name
        element = b_.getIntegerType(8);
        width = graph::storedRowBytes(format, cols);
        if (width < 0) return fail("tensor '" + name + "' has rows of " + std::to_string(cols) + " values, not whole " + format + " blocks");
        break;
      default: {
        const std::string type = gguf::tensorTypeName(t->type);
        const bool iq = type.rfind("iq", 0) == 0 || type.rfind("tq", 0) == 0;
        return fail("tensor '" + name + "' has type " + type + "; supported: f32, f16, q8_0, q4_0, q2_k, q3_k, q4_k, q5_k, q6_k" +
                    (iq ? " (the i-quants and ternary types are not; re-quantize the f16 model with llama-quantize to a k-quant, "
                          "e.g. Q4_K_M, or compile the f16 model with --weights q4_k)"
                        : ""));
      }
    }
    auto tt = RankedTensorType::get({rows, width}, element);
    auto attr = mappedElements(tt, *t, name);
    Value v = b_.create<graph::ConstantOp>(NameLoc::get(b_.getStringAttr(name)), tt, attr, b_.getStringAttr(name));
    return Weight{v, b_.getStringAttr(format)};
  }

  // A 1-D f32 tensor (norm scales, biases); f16 ones are widened.
  Expected<Value> vector(const std::string& name, int64_t n) {
    const gguf::TensorInfo* t = file_.tensor(name);
    if (!t) return fail("missing tensor '" + name + "'");
    used_.insert(name);
    if (t->ne.size() != 1 || t->ne[0] != n)
      return fail("tensor '" + name + "' has shape " + shapeText(*t) + ", expected [" + std::to_string(n) + "]");
    std::string bytes(size_t(n) * 4, '\0');
    if (t->type == uint32_t(gguf::TensorType::F32)) {
      bytes.assign(reinterpret_cast<const char*>(t->data), t->bytes);
    } else if (t->type == uint32_t(gguf::TensorType::F16)) {
      for (int64_t i = 0; i < n; ++i) {
        uint16_t hbits;
        std::memcpy(&hbits, t->data + 2 * i, 2);
        float f = ek::f16_bits_to_f32(hbits);
        std::memcpy(&bytes[size_t(i) * 4], &f, 4);
      }
    } else {
      return fail("tensor '" + name + "' has type " + gguf::tensorTypeName(t->type) + "; 1-D tensors must be f32 or f16");
    }
    auto tt = RankedTensorType::get({n}, b_.getF32Type());
    return b_.create<graph::ConstantOp>(NameLoc::get(b_.getStringAttr(name)), tt, makeElementsAttr(tt, std::move(bytes), name),
                                        b_.getStringAttr(name))
        .getResult();
  }

  // x W^T (+ bias) for the weight `prefix`.weight of `rows` x `cols`.
  Expected<Value> projection(Value x, const std::string& prefix, int64_t rows, int64_t cols, bool bias) {
    auto w = weight(prefix + ".weight", rows, cols);
    if (!w) return w.takeError();
    auto xt = cast<RankedTensorType>(x.getType());
    SymShape dims = symbolicShape(xt);
    dims.back() = rows;
    Value y = op<graph::LinearOp>(type(dims), x, w->value, w->format);
    if (bias) {
      auto bv = vector(prefix + ".bias", rows);
      if (!bv) return bv.takeError();
      y = op<graph::AddOp>(y.getType(), y, *bv);
    }
    return y;
  }

  static std::string shapeText(const gguf::TensorInfo& t) {
    std::string s = "[";
    for (size_t i = 0; i < t.ne.size(); ++i) s += (i ? ", " : "") + std::to_string(t.ne[i]);
    return s + "]";
  }

  MLIRContext& ctx_;
  const gguf::File& file_;
  const GgufImportOptions& options_;
  OpBuilder b_;
  Location loc_ = UnknownLoc::get(&ctx_);
  Hyper h_;
  std::set<std::string> used_;  // tensors the graph reads; any other one means a feature we lack
};

}  // namespace

std::vector<std::string> ggufProbeValueNames(int64_t layers) {
  std::vector<std::string> names;
  for (int64_t l = 0; l < layers; ++l)
    for (const char* n : {"attn_norm-", "kqv_out-", "attn_out-", "ffn_inp-", "ffn_norm-", "ffn_out-", "l_out-"})
      names.push_back(n + std::to_string(l));
  names.push_back("result_norm");
  return names;
}

bool isGgufFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[4] = {};
  return f.read(magic, 4) && std::memcmp(magic, "GGUF", 4) == 0;
}

Expected<OwningOpRef<ModuleOp>> importGguf(MLIRContext& ctx, const gguf::File& file, const GgufImportOptions& options) {
  ctx.loadDialect<graph::GraphDialect, func::FuncDialect>();
  GgufImporter importer(ctx, file, options);
  return importer.run();
}

}  // namespace edgecc
