// ONNX ops that are compositions of graph ops the project already has: activations, clipping,
// triangular masks, the norm-like reductions, log-softmax, tiling and einsum. Each is written
// once here in terms of make()/binary(), so it folds when its inputs are constants and runs on
// the existing kernels otherwise.
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "compiler/import/OnnxImporterImpl.h"
#include "compiler/ir/ConstantData.h"

namespace edgecc::onnx_import {

#define EDGECC_TRY(var, expr) \
  auto var = (expr);          \
  if (failed(var)) return failure();

FailureOr<Value> OnnxImporter::einsum(const onnx::NodeProto& n) {
  // Operands are contracted left to right: sum out the letters no later operand or the output
  // needs, then one batched matmul over [shared kept, own kept, shared summed].
  const auto* eqAttr = attr(n, "equation");
  if (!eqAttr) return failNode(n, "needs an equation");
  std::string eq;
  for (char c : eqAttr->s())
    if (c != ' ') eq += c;
  const size_t arrow = eq.find("->");
  std::string lhs = eq.substr(0, arrow);
  std::vector<std::string> terms;
  for (size_t at = 0;;) {
    const size_t comma = lhs.find(',', at);
    terms.push_back(lhs.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  if (int(terms.size()) != n.input_size()) return failNode(n, "the equation names " + std::to_string(terms.size()) + " operands");
  std::vector<Value> values;
  std::map<char, SymDim> sizes;
  // "..." stands for the leading dims an operand has beyond its letters: named '0', '1', ...
  int ellipsisDims = -1;
  for (size_t t = 0; t < terms.size(); ++t) {
    EDGECC_TRY(v, input(n, int(t)));
    values.push_back(*v);
    const Shape s = shapeOf(*v);
    std::string& term = terms[t];
    if (size_t e = term.find("..."); e != std::string::npos) {
      const int extra = int(s.size()) - int(term.size() - 3);
      if (extra < 0 || (ellipsisDims >= 0 && extra != ellipsisDims)) return failNode(n, "'...' must stand for the same number of dims in every operand");
      ellipsisDims = extra;
      std::string dims;
      for (int d = 0; d < extra; ++d) dims += char('0' + d);
      term.replace(e, 3, dims);
    }
    if (term.size() != s.size()) return failNode(n, "operand " + std::to_string(t) + " has rank " + std::to_string(s.size()) + ", its letters '" + term + "' say otherwise");
    for (size_t d = 0; d < term.size(); ++d) {
      if (term.find(term[d]) != d) return failNode(n, "a letter repeated within one operand (a diagonal) is not supported");
      auto [it, fresh] = sizes.insert({term[d], s[d]});
      if (!fresh && it->second != s[d]) return failNode(n, std::string("letter '") + term[d] + "' has two sizes (broadcasting is not supported)");
    }
  }
  std::string out;
  if (arrow != std::string::npos) {
    out = eq.substr(arrow + 2);
    if (size_t e = out.find("..."); e != std::string::npos) {
      std::string dims;
      for (int d = 0; d < std::max(ellipsisDims, 0); ++d) dims += char('0' + d);
      out.replace(e, 3, dims);
    }
  } else {  // implicit output: the ellipsis dims, then letters used once, in alphabetical order
    std::map<char, int> count;
    for (const auto& t : terms)
      for (char c : t) ++count[c];
    for (auto [c, k] : count)
      if (k == 1 || std::isdigit(c)) out += c;
  }
  for (char c : out)
    if (!sizes.count(c)) return failNode(n, std::string("output letter '") + c + "' is in no operand");
  const ek::DType dtype = dtypeOfValue(values[0]);

  auto product = [&](const std::string& letters) -> FailureOr<SymDim> {
    Shape dims;
    for (char c : letters) dims.push_back(sizes[c]);
    auto p = numel(dims);
    if (!p) return failNode(n, "multiplies two symbolic dims");
    return *p;
  };
  auto sumOut = [&](Value v, std::string& letters, const std::string& keep) -> FailureOr<Value> {
    Ints axes;
    std::string kept;
    Shape s;
    for (size_t d = 0; d < letters.size(); ++d) {
      if (keep.find(letters[d]) == std::string::npos) axes.push_back(int64_t(d));
      else { kept += letters[d]; s.push_back(sizes[letters[d]]); }
    }
    letters = kept;
    if (axes.empty()) return v;
    return make<graph::ReduceSumOp>(tensorType(s, dtype), v, builder_.getDenseI64ArrayAttr(axes));
  };
  auto arrange = [&](Value v, const std::string& from, const std::string& to) -> FailureOr<Value> {
    Ints perm;
    for (char c : to) perm.push_back(int64_t(from.find(c)));
    return transpose(v, perm);
  };

  Value acc = values[0];
  std::string accLetters = terms[0];
  for (size_t t = 1; t < terms.size(); ++t) {
    // Letters needed after this step: the output's and the later operands'.
    std::string later = out;
    for (size_t u = t + 1; u < terms.size(); ++u) later += terms[u];
    std::string bLetters = terms[t];
    // Sum out what only one side has and nothing later needs.
    EDGECC_TRY(a1, sumOut(acc, accLetters, later + bLetters));
    EDGECC_TRY(b1, sumOut(values[t], bLetters, later + accLetters));
    std::string batch, left, right, summed;
    for (char c : accLetters) {
      const bool inB = bLetters.find(c) != std::string::npos, needed = later.find(c) != std::string::npos;
      (inB ? (needed ? batch : summed) : left) += c;
    }
    for (char c : bLetters)
      if (accLetters.find(c) == std::string::npos) right += c;
    EDGECC_TRY(at, arrange(*a1, accLetters, batch + left + summed));
    EDGECC_TRY(bt, arrange(*b1, bLetters, batch + summed + right));
    EDGECC_TRY(nb, product(batch));
    EDGECC_TRY(nl, product(left));
    EDGECC_TRY(ns, product(summed));
    EDGECC_TRY(nr, product(right));
    EDGECC_TRY(a3, reshape(*at, Shape{*nb, *nl, *ns}));
    EDGECC_TRY(b3, reshape(*bt, Shape{*nb, *ns, *nr}));
    EDGECC_TRY(mm, make<graph::MatMulOp>(tensorType(Shape{*nb, *nl, *nr}, dtype), *a3, *b3));
    accLetters = batch + left + right;
    Shape dims;
    for (char c : accLetters) dims.push_back(sizes[c]);
    EDGECC_TRY(r, reshape(*mm, dims));
    acc = *r;
  }
  EDGECC_TRY(summed, sumOut(acc, accLetters, out));
  return arrange(*summed, accLetters, out);
}

void OnnxImporter::registerDecomposedHandlers() {
  auto& h = handlers_;

  // Activations: y = f(x) elementwise, from comparisons, where and exp.
  auto activation = [this](std::function<FailureOr<Value>(const onnx::NodeProto&, Value)> f) {
    return [this, f](const onnx::NodeProto& n) -> LogicalResult {
      EDGECC_TRY(x, input(n, 0));
      if (!isa<FloatType>(cast<RankedTensorType>((*x).getType()).getElementType())) return failNode(n, "needs a float input");
      EDGECC_TRY(y, f(n, *x));
      setOutput(n, 0, *y);
      return success();
    };
  };
  auto cmp = [this](auto tag, Value a, Value b) -> FailureOr<Value> {
    using OpT = decltype(tag);
    return binary<OpT>(a, b, true);
  };
  // alpha * (exp(x) - 1) where x <= 0, else x (Elu, and Selu's inner part)
  auto elu = [this, cmp](Value x, double alpha) -> FailureOr<Value> {
    EDGECC_TRY(e, make<graph::ExpOp>(x.getType(), x));
    EDGECC_TRY(em1, binary<graph::SubOp>(*e, scalarLike(x, 1)));
    EDGECC_TRY(neg, binary<graph::MulOp>(*em1, scalarLike(x, alpha)));
    EDGECC_TRY(pos, cmp(graph::GreaterOp{}, x, scalarLike(x, 0)));
    return make<graph::WhereOp>(x.getType(), *pos, x, *neg);
  };
  h["Elu"] = activation([this, elu](const onnx::NodeProto& n, Value x) { return elu(x, attrFloat(n, "alpha", 1.f)); });
  h["Selu"] = activation([this, elu](const onnx::NodeProto& n, Value x) -> FailureOr<Value> {
    EDGECC_TRY(e, elu(x, attrFloat(n, "alpha", 1.67326319217681884765625f)));
    return binary<graph::MulOp>(*e, scalarLike(x, attrFloat(n, "gamma", 1.05070102214813232421875f)));
  });
  h["LeakyRelu"] = activation([this, cmp](const onnx::NodeProto& n, Value x) -> FailureOr<Value> {
    EDGECC_TRY(scaled, binary<graph::MulOp>(x, scalarLike(x, attrFloat(n, "alpha", 0.01f))));
    EDGECC_TRY(neg, cmp(graph::LessOp{}, x, scalarLike(x, 0)));
    return make<graph::WhereOp>(x.getType(), *neg, *scaled, x);
  });
  h["ThresholdedRelu"] = activation([this, cmp](const onnx::NodeProto& n, Value x) -> FailureOr<Value> {
    EDGECC_TRY(above, cmp(graph::GreaterOp{}, x, scalarLike(x, attrFloat(n, "alpha", 1.f))));
    return make<graph::WhereOp>(x.getType(), *above, x, scalarLike(x, 0));
  });
  h["HardSigmoid"] = activation([this](const onnx::NodeProto& n, Value x) -> FailureOr<Value> {
    EDGECC_TRY(ax, binary<graph::MulOp>(x, scalarLike(x, attrFloat(n, "alpha", 0.2f))));
    EDGECC_TRY(lin, binary<graph::AddOp>(*ax, scalarLike(x, attrFloat(n, "beta", 0.5f))));
    EDGECC_TRY(low, binary<graph::MaxOp>(*lin, scalarLike(x, 0)));
    return binary<graph::MinOp>(*low, scalarLike(x, 1));
  });

  h["Clip"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    // Bounds are inputs from opset 11 on (either may be absent), attributes before.
    EDGECC_TRY(x, input(n, 0));
    Value y = *x;
    for (int i : {1, 2}) {
      Value bound;
      if (opset_ >= 11) {
        if (!hasInput(n, i)) continue;
        EDGECC_TRY(b, input(n, i));
        bound = *b;
      } else {
        const auto* a = attr(n, i == 1 ? "min" : "max");
        if (!a) continue;
        bound = scalarLike(y, a->f());
      }
      FailureOr<Value> clipped = i == 1 ? binary<graph::MaxOp>(y, bound) : binary<graph::MinOp>(y, bound);
      if (failed(clipped)) return failure();
      if (shapeOf(*clipped) != shapeOf(*x)) return failNode(n, "min and max must be scalars");
      y = *clipped;
    }
    setOutput(n, 0, y);
    return success();
  };

  h["Trilu"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    // Keeps element (i, j) of each trailing matrix where j - i >= k (upper) or <= k (lower).
    EDGECC_TRY(x, input(n, 0));
    const Shape s = shapeOf(*x);
    if (s.size() < 2 || !s[s.size() - 2].isConstant() || !s.back().isConstant())
      return failNode(n, "needs a rank >= 2 input with static trailing dims");
    int64_t k = 0;
    if (hasInput(n, 1)) {
      EDGECC_TRY(kv, constInts(n, 1));
      if (kv->size() != 1) return failNode(n, "k must be a scalar");
      k = (*kv)[0];
    }
    const bool upper = attrInt(n, "upper", 1) != 0;
    const int64_t rows = s[s.size() - 2].c, cols = s.back().c;
    HostData keep{ek::DType::Bool, {rows, cols}, std::string(size_t(rows * cols), '\0')};
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) keep.bytes[size_t(i * cols + j)] = char(upper ? j - i >= k : j - i <= k);
    EDGECC_TRY(y, make<graph::WhereOp>((*x).getType(), constant(std::move(keep)), *x, scalarLike(*x, 0)));
    setOutput(n, 0, *y);
    return success();
  };

  h["CastLike"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(like, input(n, 1));
    EDGECC_TRY(y, make<graph::CastOp>(tensorType(shapeOf(*x), dtypeOfValue(*like)), *x));
    setOutput(n, 0, *y);
    return success();
  };

  h["Mean"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(acc, input(n, 0));
    Value sum = *acc;
    for (int i = 1; i < n.input_size(); ++i) {
      EDGECC_TRY(b, input(n, i));
      EDGECC_TRY(s, binary<graph::AddOp>(sum, *b));
      sum = *s;
    }
    EDGECC_TRY(y, binary<graph::DivOp>(sum, scalarLike(sum, n.input_size())));
    setOutput(n, 0, *y);
    return success();
  };

  h["Dropout"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    // Inference (or a ratio of 0): the identity, and a mask of all true. Training mode with a
    // ratio drops at random: refused.
    EDGECC_TRY(x, input(n, 0));
    if (opset_ >= 12 && hasInput(n, 2)) {
      EDGECC_TRY(training, constInts(n, 2));
      bool dropsNone = false;
      if (hasInput(n, 1)) {
        EDGECC_TRY(r, input(n, 1));
        ElementsAttr ratio = constantValue(*r);
        dropsNone = ratio && ratio.getNumElements() == 1 && floatValues(ratio)[0] == 0.0;
      }
      if (training->size() != 1 || ((*training)[0] != 0 && !dropsNone))
        return failNode(n, "training mode (random dropout) is not supported");
    }
    if (opset_ < 7 && attrInt(n, "is_test", 0) == 0) return failNode(n, "training mode (random dropout) is not supported");
    setOutput(n, 0, *x);
    if (n.output_size() > 1 && !n.output(1).empty()) {
      // The mask is bool from opset 10 on, of the input's type before.
      Value one = opset_ >= 10 ? constant(HostData{ek::DType::Bool, {}, std::string(1, '\1')}) : scalarLike(*x, 1);
      EDGECC_TRY(mask, make<graph::ExpandOp>(tensorType(shapeOf(*x), dtypeOfValue(one)), one));
      setOutput(n, 1, *mask);
    }
    return success();
  };

  h["LogSoftmax"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    // x - max - log(sum(exp(x - max))) over the axis (before opset 13: all dims from it on).
    EDGECC_TRY(x, input(n, 0));
    const Shape in = shapeOf(*x);
    const int64_t rank = int64_t(in.size());
    EDGECC_TRY(ax, axis(n, attrInt(n, "axis", opset_ >= 13 ? -1 : 1), rank));
    if (dtypeOfValue(*x) != ek::DType::F32) return failNode(n, "only f32 log-softmax is supported");
    Ints axes;
    Shape reduced = in;
    for (int64_t d = *ax; d < (opset_ >= 13 ? *ax + 1 : rank); ++d) { axes.push_back(d); reduced[size_t(d)] = 1; }
    const RankedTensorType rt = tensorType(reduced, ek::DType::F32);
    EDGECC_TRY(m, make<graph::ReduceMaxOp>(rt, *x, builder_.getDenseI64ArrayAttr(axes)));
    EDGECC_TRY(shifted, binary<graph::SubOp>(*x, *m));
    EDGECC_TRY(e, make<graph::ExpOp>((*shifted).getType(), *shifted));
    EDGECC_TRY(s, make<graph::ReduceSumOp>(rt, *e, builder_.getDenseI64ArrayAttr(axes)));
    EDGECC_TRY(logS, make<graph::LogOp>(rt, *s));
    EDGECC_TRY(y, binary<graph::SubOp>(*shifted, *logS));
    setOutput(n, 0, *y);
    return success();
  };

  // Reductions of a function of x, finished by another: sum(|x|), sqrt(sum(x^2)), log(sum(x)),
  // log(sum(exp(x - max))) + max, sum(x^2).
  enum class Norm { L1, L2, LogSum, LogSumExp, SumSquare };
  auto normReduce = [this](Norm kind) {
    return [this, kind](const onnx::NodeProto& n) -> LogicalResult {
      EDGECC_TRY(x0, input(n, 0));
      Value x = *x0;
      EDGECC_TRY(r, reduction(n, shapeOf(x), 18));
      if (r->noop) {  // no axes to reduce: the elementwise parts alone (|x|, sqrt(x^2), log x, x^2)
        r->axes.clear();
        r->out = shapeOf(x);
      }
      const ek::DType dtype = dtypeOfValue(x);
      auto sum = [&](Value v) -> FailureOr<Value> {
        if (r->axes.empty()) return v;
        return make<graph::ReduceSumOp>(tensorType(r->out, dtype), v, builder_.getDenseI64ArrayAttr(r->axes));
      };
      Value top;
      switch (kind) {
        case Norm::L1: { EDGECC_TRY(a, make<graph::AbsOp>(x.getType(), x)); x = *a; break; }
        case Norm::L2: case Norm::SumSquare: { EDGECC_TRY(sq, binary<graph::MulOp>(x, x)); x = *sq; break; }
        case Norm::LogSumExp: {
          if (r->axes.empty()) { top = x; x = scalarLike(x, 1); break; }  // log(exp(x - x) * 1) + x
          EDGECC_TRY(m, make<graph::ReduceMaxOp>(tensorType(r->out, dtype), x, builder_.getDenseI64ArrayAttr(r->axes)));
          top = *m;
          // x - max, with the max brought back to x's rank where keepdims dropped its axes.
          Shape kept = shapeOf(x);
          for (int64_t a : r->axes) kept[size_t(a)] = 1;
          EDGECC_TRY(mk, reshape(top, kept));
          EDGECC_TRY(d, binary<graph::SubOp>(x, *mk));
          EDGECC_TRY(e, make<graph::ExpOp>((*d).getType(), *d));
          x = *e;
          break;
        }
        case Norm::LogSum: break;
      }
      EDGECC_TRY(s, sum(x));
      Value y = *s;
      if (kind == Norm::L2) { EDGECC_TRY(q, make<graph::SqrtOp>(y.getType(), y)); y = *q; }
      if (kind == Norm::LogSum || kind == Norm::LogSumExp) { EDGECC_TRY(l, make<graph::LogOp>(y.getType(), y)); y = *l; }
      if (kind == Norm::LogSumExp) { EDGECC_TRY(p, binary<graph::AddOp>(y, top)); y = *p; }
      setOutput(n, 0, y);
      return success();
    };
  };
  h["ReduceL1"] = normReduce(Norm::L1);
  h["ReduceL2"] = normReduce(Norm::L2);
  h["ReduceLogSum"] = normReduce(Norm::LogSum);
  h["ReduceLogSumExp"] = normReduce(Norm::LogSumExp);
  h["ReduceSumSquare"] = normReduce(Norm::SumSquare);

  h["Tile"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    // [d0, d1, ...] -> [1, d0, 1, d1, ...] -> broadcast to [r0, d0, r1, d1, ...] -> [r0 d0, r1 d1, ...].
    EDGECC_TRY(x, input(n, 0));
    EDGECC_TRY(repeats, constInts(n, 1));
    const Shape s = shapeOf(*x);
    if (repeats->size() != s.size()) return failNode(n, "repeats must have one value per input dim");
    Shape spread, tiled, out;
    for (size_t d = 0; d < s.size(); ++d) {
      const int64_t r = (*repeats)[d];
      if (r < 0) return failNode(n, "repeats must not be negative");
      auto t = s[d].times(SymDim(r));
      if (!t) return failNode(n, "tiling a symbolic dim is not supported");
      spread.append({SymDim(1), s[d]});
      tiled.append({SymDim(r), s[d]});
      out.push_back(*t);
    }
    EDGECC_TRY(a, reshape(*x, spread));
    EDGECC_TRY(b, make<graph::ExpandOp>(tensorType(tiled, dtypeOfValue(*x)), *a));
    EDGECC_TRY(y, reshape(*b, out));
    setOutput(n, 0, *y);
    return success();
  };

  h["Einsum"] = [this](const onnx::NodeProto& n) -> LogicalResult {
    EDGECC_TRY(y, einsum(n));
    setOutput(n, 0, *y);
    return success();
  };
}

#undef EDGECC_TRY

}  // namespace edgecc::onnx_import
