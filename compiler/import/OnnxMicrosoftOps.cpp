// ONNX Runtime's contrib ops (domain com.microsoft, plus SimplifiedLayerNormalization, which
// ONNX Runtime registers in the default domain), as its GenAI model builder and int4
// quantizers write them. Each maps onto the project's own ops and weight formats:
//   MatMulNBits                      -> linear on q4_0 / q8_0 blocks (repacked), else f32
//   SimplifiedLayerNormalization     -> rms_norm
//   SkipSimplifiedLayerNormalization -> add (+ bias), rms_norm
//   RotaryEmbedding                  -> rotary tables gathered at the positions, elementwise
//   GroupQueryAttention              -> rotary (do_rotary), concat onto the past, attention
// so the passes after import (KV cache, packing, kernels) treat them as any other export.
#include <cmath>
#include <cstring>

#include "compiler/import/OnnxImporterImpl.h"
#include "compiler/ir/ConstantData.h"
#include "runtime/half.h"
#include "runtime/weight_format.h"

namespace edgecc::onnx_import {

#define EDGECC_TRY(var, expr) \
  auto var = (expr);          \
  if (failed(var)) return failure();

namespace {

// The values of a float constant (f32 or f16), or nullopt.
std::optional<std::vector<float>> floatConstant(Value v) {
  ElementsAttr c = constantValue(v);
  if (!c || !isa<FloatType>(c.getElementType())) return std::nullopt;
  std::vector<float> out;
  for (double x : floatValues(c)) out.push_back(float(x));
  return out;
}

// MatMulNBits' weight: N rows of K codes of `bits` bits, packed low bits first, in blocks of
// `block` codes; each block has a scale and a zero point: value = (code - zero point) * scale.
struct NBitsWeight {
  int64_t n = 0, k = 0, bits = 4, block = 32, blocks_per_row = 0;
  std::vector<uint8_t> packed;  // [n, blocks_per_row, block * bits / 8]
  std::vector<float> scales;    // [n * blocks_per_row]
  std::vector<float> zeros;     // [n * blocks_per_row]: integer codes, or floats

  uint8_t code(int64_t row, int64_t col) const {
    const int64_t b = col / block, e = col % block;
    const size_t bit = size_t(e * bits);
    const uint8_t byte = packed[size_t((row * blocks_per_row + b) * (block * bits / 8)) + bit / 8];
    return uint8_t((byte >> (bit % 8)) & ((1 << bits) - 1));
  }
  float scale(int64_t row, int64_t col) const { return scales[size_t(row * blocks_per_row + col / block)]; }
  float zero(int64_t row, int64_t col) const { return zeros[size_t(row * blocks_per_row + col / block)]; }
};

// The weight as llama.cpp blocks of 32 in `format` ("q4_0": (code' - 8) * d with code' =
// code - zero + 8 in 0..15; "q8_0": int8 code - zero), or an empty string when the codes do not
// fit that format exactly, or when a scale is outside f16's normal range. Scales become f16:
// the only rounding (relative 2^-11).
std::string repackBlocks(const NBitsWeight& w, const std::string& format) {
  const bool q4 = format == "q4_0";
  const int64_t blockBytes = q4 ? ek::kQ4_0BlockBytes : ek::kQ8_0BlockBytes;
  std::string out(size_t(w.n * (w.k / 32) * blockBytes), '\0');
  for (int64_t r = 0; r < w.n; ++r) {
    for (int64_t b = 0; b < w.k / 32; ++b) {
      char* dst = out.data() + (r * (w.k / 32) + b) * blockBytes;
      const float scale = w.scale(r, b * 32), zero = w.zero(r, b * 32);
      if (zero != std::floor(zero) || std::fabs(zero) > 255) return "";
      // f16 keeps 11 significant bits only for normal values: 2^-14 up to 65504.
      if (scale != 0 && (std::fabs(scale) < 0x1p-14f || std::fabs(scale) > 65504.f || !std::isfinite(scale))) return "";
      const uint16_t d = ek::f32_to_f16_bits(scale);
      std::memcpy(dst, &d, 2);
      for (int64_t e = 0; e < 32; ++e) {
        const int q = int(w.code(r, b * 32 + e)) - int(zero);
        if (q4) {
          if (q < -8 || q > 7) return "";
          uint8_t& byte = reinterpret_cast<uint8_t&>(dst[2 + e % 16]);
          byte |= uint8_t((q + 8) << (e < 16 ? 0 : 4));
        } else {
          if (q < -127 || q > 127) return "";
          dst[2 + e] = char(int8_t(q));
        }
      }
    }
  }
  return out;
}

}  // namespace

FailureOr<Value> OnnxImporter::matMulNBits(const onnx::NodeProto& n) {
  NBitsWeight w;
  w.k = attrInt(n, "K", 0);
  w.n = attrInt(n, "N", 0);
  w.bits = attrInt(n, "bits", 4);
  w.block = attrInt(n, "block_size", 0);
  if (w.k <= 0 || w.n <= 0 || w.k > (int64_t(1) << 24) || w.n > (int64_t(1) << 24) || w.block < 16 || w.block > 4096 ||
      (w.block & (w.block - 1)) != 0)
    return failNode(n, "needs K and N in 1..2^24 and a power-of-two block_size in 16..4096");
  if (w.bits != 2 && w.bits != 4 && w.bits != 8) return failNode(n, "bits must be 2, 4 or 8");
  if (hasInput(n, 4)) return failNode(n, "g_idx (act-order) is not supported");
  w.blocks_per_row = (w.k + w.block - 1) / w.block;
  EDGECC_TRY(a, input(n, 0));
  EDGECC_TRY(b, input(n, 1));
  EDGECC_TRY(s, input(n, 2));
  ElementsAttr packed = constantValue(*b);
  const int64_t blob = w.block * w.bits / 8;
  if (!packed || !packed.getElementType().isInteger(8) || packed.getNumElements() != w.n * w.blocks_per_row * blob)
    return failNode(n, "B must be a constant uint8 [N, ceil(K / block_size), block_size * bits / 8]");
  w.packed = elementsBytes(packed);
  auto scales = floatConstant(*s);
  if (!scales || int64_t(scales->size()) != w.n * w.blocks_per_row)
    return failNode(n, "scales must be a constant float tensor of N * ceil(K / block_size) values");
  w.scales = std::move(*scales);
  w.zeros.assign(w.scales.size(), float(1 << (w.bits - 1)));  // the default zero point
  if (hasInput(n, 3)) {
    EDGECC_TRY(z, input(n, 3));
    if (auto floats = floatConstant(*z)) {
      if (floats->size() != w.zeros.size()) return failNode(n, "float zero_points must match scales");
      w.zeros = std::move(*floats);
    } else {
      // Packed like B: each row's zero points in ceil(blocks * bits / 8) bytes, low bits first.
      ElementsAttr zc = constantValue(*z);
      const int64_t rowBytes = (w.blocks_per_row * w.bits + 7) / 8;
      if (!zc || !zc.getElementType().isInteger(8) || zc.getNumElements() != w.n * rowBytes)
        return failNode(n, "zero_points must be a constant uint8 [N * ceil(blocks * bits / 8)] or float tensor");
      const std::vector<uint8_t> bytes = elementsBytes(zc);
      for (int64_t r = 0; r < w.n; ++r)
        for (int64_t blk = 0; blk < w.blocks_per_row; ++blk) {
          const size_t bit = size_t(blk * w.bits);
          w.zeros[size_t(r * w.blocks_per_row + blk)] = float((bytes[size_t(r * rowBytes) + bit / 8] >> (bit % 8)) & ((1 << w.bits) - 1));
        }
    }
  }
  const Shape in = shapeOf(*a);
  if (in.empty() || in.back() != SymDim(w.k)) return failNode(n, "A's last axis must be K = " + std::to_string(w.k));

  // The most compact of our formats that holds the codes exactly: q4_0, then q8_0; else f32.
  std::string format, bytes;
  if (w.k % 32 == 0 && w.block % 32 == 0) {
    if (w.bits <= 4) bytes = repackBlocks(w, format = "q4_0");
    if (bytes.empty()) bytes = repackBlocks(w, format = "q8_0");
  }
  HostData weight;
  if (!bytes.empty()) {
    weight = HostData{ek::DType::I8, {w.n, graph::storedRowBytes(format, w.k)}, std::move(bytes)};
  } else {
    format = "f32";
    weight = HostData{ek::DType::F32, {w.n, w.k}, std::string(size_t(w.n * w.k) * 4, '\0')};
    float* dst = reinterpret_cast<float*>(weight.bytes.data());
    for (int64_t r = 0; r < w.n; ++r)
      for (int64_t c = 0; c < w.k; ++c) dst[r * w.k + c] = (float(w.code(r, c)) - w.zero(r, c)) * w.scale(r, c);
  }
  Value x = *a;
  const ek::DType dtype = dtypeOfValue(x);
  if (dtype != ek::DType::F32) { EDGECC_TRY(c, make<graph::CastOp>(tensorType(in, ek::DType::F32), x)); x = *c; }
  Shape out = in;
  out.back() = w.n;
  EDGECC_TRY(y, make<graph::LinearOp>(tensorType(out, ek::DType::F32), x, constant(std::move(weight), n.input(1)),
                                      builder_.getStringAttr(format)));
  Value result = *y;
  if (hasInput(n, 5)) {
    EDGECC_TRY(bias, input(n, 5));
    Value bv = *bias;
    if (dtypeOfValue(bv) != ek::DType::F32) { EDGECC_TRY(c, make<graph::CastOp>(tensorType(shapeOf(bv), ek::DType::F32), bv)); bv = *c; }
    EDGECC_TRY(sum, binary<graph::AddOp>(result, bv));
    if (shapeOf(*sum) != out) return failNode(n, "bias must have N values");
    result = *sum;
  }
  if (dtype != ek::DType::F32) { EDGECC_TRY(c, make<graph::CastOp>(tensorType(out, dtype), result)); result = *c; }
  return result;
}

FailureOr<Value> OnnxImporter::rmsNorm(const onnx::NodeProto& n, Value x, Value scale) {
  const Shape in = shapeOf(x);
  EDGECC_TRY(ax, axis(n, attrInt(n, "axis", -1), int64_t(in.size())));
  if (*ax != int64_t(in.size()) - 1) return failNode(n, "only normalization over the last axis is supported");
  if (dtypeOfValue(x) != ek::DType::F32 || dtypeOfValue(scale) != ek::DType::F32)
    return failNode(n, "only f32 normalization is supported");
  auto scaleType = cast<RankedTensorType>(scale.getType());
  if (!in.back().isConstant() || !scaleType.hasStaticShape() || scaleType.getNumElements() != in.back().c)
    return failNode(n, "scale must have the size of the last axis");
  return make<graph::RmsNormOp>(x.getType(), x, scale, builder_.getF32FloatAttr(attrFloat(n, "epsilon", 1e-5f)));
}

FailureOr<Value> OnnxImporter::rotary(const onnx::NodeProto& n, Value x, Value positions, Value cosCache, Value sinCache,
                                      int64_t headAxis, bool interleaved) {
  // x: [B, ..., D] with heads at `headAxis` and positions [B, S] (or [S]) naming each token's
  // row of the tables [max position, R / 2]. The first R values of each head rotate; the rest
  // pass through. Pairs are (i, i + R/2), or (2i, 2i + 1) when interleaved.
  const Shape xs = shapeOf(x);
  const Shape cs = shapeOf(cosCache);
  if (cs.size() != 2 || shapeOf(sinCache) != cs || !cs[1].isConstant() || !xs.back().isConstant())
    return failNode(n, "cos_cache and sin_cache must be [max position, rotary dim / 2]");
  const int64_t half = cs[1].c, d = xs.back().c, rank = int64_t(xs.size());
  if (2 * half > d) return failNode(n, "the rotary dim exceeds the head size");
  auto table = [&](Value t) -> FailureOr<Value> {
    // Gathered at the positions, then a head axis of 1 inserted so it broadcasts over heads.
    Shape g = shapeOf(positions);
    g.push_back(half);
    EDGECC_TRY(rows, make<graph::GatherOp>(tensorType(g, ek::DType::F32), t, positions, builder_.getI64IntegerAttr(0)));
    Shape shape = xs;
    shape[size_t(headAxis)] = 1;
    shape.back() = half;
    FailureOr<Value> r = reshape(*rows, shape);
    if (failed(r)) return failNode(n, "positions do not match the input's batch and sequence");
    return r;
  };
  EDGECC_TRY(cosT, table(cosCache));
  EDGECC_TRY(sinT, table(sinCache));
  auto part = [&](Value v, int64_t offset, int64_t step) -> FailureOr<Value> {
    Ints offsets(size_t(rank), 0), steps(size_t(rank), 1);
    offsets.back() = offset;
    steps.back() = step;
    Shape sizes = xs;
    sizes.back() = half;
    return slice(v, offsets, steps, sizes);
  };
  // x1 = first of each pair, x2 = second; out1 = x1 cos - x2 sin, out2 = x2 cos + x1 sin.
  EDGECC_TRY(x1, part(x, 0, interleaved ? 2 : 1));
  EDGECC_TRY(x2, part(x, interleaved ? 1 : half, interleaved ? 2 : 1));
  EDGECC_TRY(a1, binary<graph::MulOp>(*x1, *cosT));
  EDGECC_TRY(b1, binary<graph::MulOp>(*x2, *sinT));
  EDGECC_TRY(out1, binary<graph::SubOp>(*a1, *b1));
  EDGECC_TRY(a2, binary<graph::MulOp>(*x2, *cosT));
  EDGECC_TRY(b2, binary<graph::MulOp>(*x1, *sinT));
  EDGECC_TRY(out2, binary<graph::AddOp>(*a2, *b2));
  Value rotated;
  Shape full = xs;
  full.back() = 2 * half;
  if (interleaved) {
    // Back to (2i, 2i + 1) order: stack the halves on a new last axis and flatten it.
    Shape pair = xs;
    pair.back() = half;
    pair.push_back(1);
    EDGECC_TRY(p1, reshape(*out1, pair));
    EDGECC_TRY(p2, reshape(*out2, pair));
    pair.back() = 2;
    EDGECC_TRY(stacked, make<graph::ConcatOp>(tensorType(pair, ek::DType::F32), ValueRange{*p1, *p2}, builder_.getI64IntegerAttr(rank)));
    EDGECC_TRY(flat, reshape(*stacked, full));
    rotated = *flat;
  } else {
    EDGECC_TRY(joined, make<graph::ConcatOp>(tensorType(full, ek::DType::F32), ValueRange{*out1, *out2}, builder_.getI64IntegerAttr(rank - 1)));
    rotated = *joined;
  }
  if (2 * half == d) return rotated;
  Ints offsets(size_t(rank), 0), steps(size_t(rank), 1);
  offsets.back() = 2 * half;
  Shape rest = xs;
  rest.back() = d - 2 * half;
  EDGECC_TRY(pass, slice(x, offsets, steps, rest));
  return make<graph::ConcatOp>(x.getType(), ValueRange{rotated, *pass}, builder_.getI64IntegerAttr(rank - 1));
}

LogicalResult OnnxImporter::groupQueryAttention(const onnx::NodeProto& n) {
  const int64_t heads = attrInt(n, "num_heads", 0), kvHeads = attrInt(n, "kv_num_heads", 0);
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads != 0) return failNode(n, "num_heads must be a positive multiple of kv_num_heads");
  if (attrInt(n, "local_window_size", -1) != -1) return failNode(n, "local_window_size (sliding-window attention) is not supported");
  if (attrFloat(n, "softcap", 0.f) != 0.f) return failNode(n, "softcap is not supported");
  if (attrInt(n, "smooth_softmax", 0) != 0) return failNode(n, "smooth_softmax is not supported");
  if (hasInput(n, 10)) return failNode(n, "attention_bias is not supported");
  if (!hasInput(n, 3) || !hasInput(n, 4)) return failNode(n, "needs past_key and past_value (the KV cache)");
  EDGECC_TRY(q0, input(n, 0));
  const Shape qs = shapeOf(*q0);
  if (qs.size() != 3 || !qs[2].isConstant() || dtypeOfValue(*q0) != ek::DType::F32)
    return failNode(n, "query must be f32 [batch, sequence, hidden]");
  const SymDim batch = qs[0], seq = qs[1];
  EDGECC_TRY(pastK, input(n, 3));
  EDGECC_TRY(pastV, input(n, 4));
  const Shape ps = shapeOf(*pastK);
  if (ps.size() != 4 || ps[1] != SymDim(kvHeads) || !ps[3].isConstant() || shapeOf(*pastV) != ps)
    return failNode(n, "past_key and past_value must be [batch, kv_num_heads, past, head size]");
  const int64_t headSize = ps[3].c;

  // Query, key and value as [B, S, heads, head size]: separate inputs, or packed in the query.
  auto heads4 = [&](Value v, int64_t offset, int64_t count) -> FailureOr<Value> {
    Value part = v;
    if (shapeOf(v)[2] != SymDim(count * headSize)) {
      EDGECC_TRY(sl, slice(v, Ints{0, 0, offset * headSize}, Ints{1, 1, 1}, Shape{batch, seq, count * headSize}));
      part = *sl;
    }
    return reshape(part, Shape{batch, seq, count, headSize});
  };
  Value q, k, v;
  if (hasInput(n, 1)) {
    if (!hasInput(n, 2)) return failNode(n, "has a key but no value");
    EDGECC_TRY(k0, input(n, 1));
    EDGECC_TRY(v0, input(n, 2));
    if (qs[2] != SymDim(heads * headSize) || shapeOf(*k0) != Shape{batch, seq, kvHeads * headSize} || shapeOf(*v0) != shapeOf(*k0))
      return failNode(n, "query, key and value do not match num_heads, kv_num_heads and the cache's head size");
    EDGECC_TRY(q1, heads4(*q0, 0, heads));
    EDGECC_TRY(k1, heads4(*k0, 0, kvHeads));
    EDGECC_TRY(v1, heads4(*v0, 0, kvHeads));
    q = *q1, k = *k1, v = *v1;
  } else {
    if (qs[2] != SymDim((heads + 2 * kvHeads) * headSize))
      return failNode(n, "packed query/key/value must hold (num_heads + 2 kv_num_heads) heads");
    EDGECC_TRY(q1, heads4(*q0, 0, heads));
    EDGECC_TRY(k1, heads4(*q0, heads, kvHeads));
    EDGECC_TRY(v1, heads4(*q0, heads + kvHeads, kvHeads));
    q = *q1, k = *k1, v = *v1;
  }
  // seqlens_k and total_sequence_length restate the past and new lengths the shapes already
  // carry: with a batch of one and no padding (what the bundle's LLM API feeds), token i of
  // the new ones sits at position past + i and sees keys 0 .. past + i.
  if (attrInt(n, "do_rotary", 0)) {
    if (!hasInput(n, 7) || !hasInput(n, 8)) return failNode(n, "do_rotary needs cos_cache and sin_cache");
    EDGECC_TRY(cosCache, input(n, 7));
    EDGECC_TRY(sinCache, input(n, 8));
    Value positions;
    if (hasInput(n, 9)) {
      EDGECC_TRY(p, input(n, 9));
      positions = *p;
    } else {
      const Value past = symbolicValue(SymTensor{{}, {ps[2]}});
      EDGECC_TRY(range, make<graph::RangeOp>(tensorType(Shape{seq}, ek::DType::I64), past, scalarLike(past, 1)));
      positions = *range;
    }
    const bool interleaved = attrInt(n, "rotary_interleaved", 0) != 0;
    EDGECC_TRY(qr, rotary(n, q, positions, *cosCache, *sinCache, 2, interleaved));
    EDGECC_TRY(kr, rotary(n, k, positions, *cosCache, *sinCache, 2, interleaved));
    q = *qr, k = *kr;
  }
  EDGECC_TRY(qt, transpose(q, Ints{0, 2, 1, 3}));
  EDGECC_TRY(kt, transpose(k, Ints{0, 2, 1, 3}));
  EDGECC_TRY(vt, transpose(v, Ints{0, 2, 1, 3}));
  const Shape present{batch, kvHeads, ps[2] + seq, headSize};
  EDGECC_TRY(presentK, make<graph::ConcatOp>(tensorType(present, ek::DType::F32), ValueRange{*pastK, *kt}, builder_.getI64IntegerAttr(2)));
  EDGECC_TRY(presentV, make<graph::ConcatOp>(tensorType(present, ek::DType::F32), ValueRange{*pastV, *vt}, builder_.getI64IntegerAttr(2)));
  const float scale = attrFloat(n, "scale", 0.f) != 0.f ? attrFloat(n, "scale", 0.f) : float(1.0 / std::sqrt(double(headSize)));
  EDGECC_TRY(att, make<graph::AttentionOp>(tensorType(Shape{batch, heads, seq, headSize}, ek::DType::F32), *qt, *presentK,
                                           *presentV, Value(), builder_.getF32FloatAttr(scale), builder_.getUnitAttr()));
  EDGECC_TRY(back, transpose(*att, Ints{0, 2, 1, 3}));
  EDGECC_TRY(out, reshape(*back, Shape{batch, seq, heads * headSize}));
  setOutput(n, 0, *out);
  setOutput(n, 1, *presentK);
  setOutput(n, 2, *presentV);
  return success();
}

void OnnxImporter::registerMicrosoftHandlers() {
  auto& h = handlers_;
  const std::string ms = "com.microsoft.";
  h[ms + "MatMulNBits"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    if (n.input_size() < 3) return failNode(n, "needs A, B and scales");
    EDGECC_TRY(y, matMulNBits(n));
    setOutput(n, 0, *y);
    return success();
  };
  auto simplified = [this](const onnx::NodeProto& n) -> LogicalResult {
    if (n.input_size() != 2) return failNode(n, "needs X and scale");
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(scale, input(n, 1));
    EDGECC_TRY(y, rmsNorm(n, *x, *scale));
    setOutput(n, 0, *y);
    return success();
  };
  h["SimplifiedLayerNormalization"] = simplified;  // ONNX Runtime registers it in the default domain
  h[ms + "SimplifiedLayerNormalization"] = simplified;
  h[ms + "SkipSimplifiedLayerNormalization"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    // Outputs: the normalized sum, mean and inverse std dev (not provided), the sum itself.
    if (n.input_size() < 3) return failNode(n, "needs input, skip and gamma");
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(skip, input(n, 1));
    EDGECC_TRY(gamma, input(n, 2));
    EDGECC_TRY(sum0, binary<graph::AddOp>(*x, *skip));
    Value sum = *sum0;
    if (hasInput(n, 3)) {
      EDGECC_TRY(bias, input(n, 3));
      EDGECC_TRY(s, binary<graph::AddOp>(sum, *bias));
      sum = *s;
    }
    if (shapeOf(sum) != shapeOf(*x)) return failNode(n, "skip and bias must broadcast to the input");
    EDGECC_TRY(y, rmsNorm(n, sum, *gamma));
    setOutput(n, 0, *y);
    setOutput(n, 3, sum);
    return success();
  };
  h[ms + "RotaryEmbedding"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    if (n.input_size() != 4) return failNode(n, "needs input, position_ids, cos_cache and sin_cache");
    if (attrFloat(n, "scale", 1.f) != 1.f) return failNode(n, "scale other than 1 is not supported");
    if (attrInt(n, "is_packed_batching", 0)) return failNode(n, "packed batching is not supported");
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(positions, input(n, 1));
    EDGECC_TRY(cosCache, input(n, 2));
    EDGECC_TRY(sinCache, input(n, 3));
    const Shape xs = shapeOf(*x);
    if (dtypeOfValue(*x) != ek::DType::F32 || (xs.size() != 3 && xs.size() != 4) || !xs.back().isConstant())
      return failNode(n, "input must be f32 [batch, sequence, hidden] or [batch, heads, sequence, head size]");
    if (shapeOf(*positions).size() != 2) return failNode(n, "position_ids must be [batch, sequence] (a scalar offset is not supported)");
    const bool interleaved = attrInt(n, "interleaved", 0) != 0;
    if (xs.size() == 4) {
      EDGECC_TRY(y, rotary(n, *x, *positions, *cosCache, *sinCache, 1, interleaved));
      setOutput(n, 0, *y);
      return success();
    }
    // [B, S, hidden]: split into heads, rotate each, join again.
    const int64_t numHeads = attrInt(n, "num_heads", 0);
    const int64_t rotaryDim = attrInt(n, "rotary_embedding_dim", 0);
    const int64_t headSize = numHeads > 0 ? xs[2].c / numHeads : 2 * shapeOf(*cosCache).back().c;
    if (headSize <= 0 || xs[2].c % headSize != 0 || (rotaryDim > 0 && rotaryDim > headSize))
      return failNode(n, "hidden size is not a whole number of heads (set num_heads)");
    EDGECC_TRY(split, reshape(*x, Shape{xs[0], xs[1], xs[2].c / headSize, headSize}));
    EDGECC_TRY(y, rotary(n, *split, *positions, *cosCache, *sinCache, 2, interleaved));
    EDGECC_TRY(joined, reshape(*y, xs));
    setOutput(n, 0, *joined);
    return success();
  };
  h[ms + "GroupQueryAttention"] = [this](const onnx::NodeProto& n) { return groupQueryAttention(n); };
}

#undef EDGECC_TRY

}  // namespace edgecc::onnx_import
