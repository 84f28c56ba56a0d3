#include "compiler/ir/ConstantData.h"
#include "compiler/passes/Passes.h"
#include "compiler/passes/PatternUtils.h"
#include "compiler/quantize/BlockQuantizer.h"
#include "compiler/quantize/Gptq.h"
#include "compiler/quantize/InputStatistics.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "runtime/half.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <thread>

namespace edgecc {
#define GEN_PASS_DEF_QUANTIZEWEIGHTS
#include "compiler/passes/Passes.h.inc"

namespace {

using namespace mlir;

bool feedsReturn(Operation* op) {
  for (Operation* user : op->getUsers())
    if (isa<func::ReturnOp>(user)) return true;
  return false;
}

void quantizeRowsInParallel(ek::WeightFormat to, const float* x, int64_t rows, int64_t k, uint8_t* out) {
  const int64_t rowBytes = ek::row_bytes(to, k);
  forRowRangesInParallel(rows, [&](int64_t begin, int64_t end) {
    quantizeRows(to, x + begin * k, end - begin, k, out + begin * rowBytes);
  });
}

struct QuantizeWeightsPass : impl::QuantizeWeightsBase<QuantizeWeightsPass> {
  using QuantizeWeightsBase::QuantizeWeightsBase;
  QuantizeWeightsPass(const QuantizeWeightsOptions& options, std::function<void(const std::string&)> progress)
      : QuantizeWeightsBase(options), progress_(std::move(progress)) {}
  std::function<void(const std::string&)> progress_;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto unknown = [&](const std::string& flag, const std::string& name) {
      std::string known;
      for (const std::string& n : quantizableFormatNames()) known += (known.empty() ? "" : ", ") + n;
      module.emitError() << "unknown " << flag << " format '" << name << "' (known: " << known << ")";
      signalPassFailure();
    };
    // Formats: the body's (empty: float weights not named in an override stay as they are),
    // the head's, and each override's.
    const std::string bodyName = weights;
    std::optional<ek::WeightFormat> body, headFormat;
    if (!bodyName.empty()) {
      const std::string headName = !head.empty() ? std::string(head) : defaultHeadFormat(bodyName);
      body = parseQuantizableFormat(bodyName);
      if (!body) return unknown("--weights", bodyName);
      headFormat = parseQuantizableFormat(headName);
      if (!headFormat) return unknown("--weights-head", headName);
    }
    std::map<std::string, ek::WeightFormat> perTensor;
    for (const std::string& o : overrides) {
      const size_t eq = o.find('=');
      auto f = eq == std::string::npos ? std::nullopt : parseQuantizableFormat(o.substr(eq + 1));
      if (!f) return unknown("--weights-override", o);
      perTensor[o.substr(0, eq)] = *f;
    }
    std::set<std::string> overridden;
    // The constants to convert first (for progress by bytes), then the work.
    struct Job {
      graph::ConstantOp constant;
      ek::WeightFormat to;
      bool isTable;  // also read as an embedding table: its rows are vectors, not a linear's
    };
    std::vector<Job> jobs;
    int64_t totalValues = 0;
    module.walk([&](graph::ConstantOp c) {
      // Only constants every user reads as a float weight: linear's right-hand side, or a table.
      bool isHead = false, isTable = false;
      for (OpOperand& use : c->getUses()) {
        if (!readsAsWeight(use)) return;
        Operation* user = use.getOwner();
        auto f = graph::parseWeightFormat(weightFormatOf(user).getValue());
        if (!f || (*f != ek::WeightFormat::F32 && *f != ek::WeightFormat::F16)) return;
        isHead |= isa<graph::EmbeddingOp>(user) || feedsReturn(user);
        isTable |= isa<graph::EmbeddingOp>(user);
      }
      if (c->use_empty()) return;
      auto type = cast<RankedTensorType>(c.getType());
      if (type.getRank() != 2 || !(type.getElementType().isF16() || type.getElementType().isF32())) return;
      auto named = perTensor.find(c.getName().value_or("").str());
      if (named == perTensor.end() && !body) return;
      if (named != perTensor.end()) overridden.insert(named->first);
      auto to = formatForRows(named != perTensor.end() ? named->second : isHead ? *headFormat : *body, type.getDimSize(1));
      if (!to) return;
      jobs.push_back({c, *to, isTable});
      totalValues += type.getNumElements();
    });
    for (const auto& [name, format] : perTensor)
      if (!overridden.count(name)) {
        module.emitError() << "--weights-override: no float weight tensor named '" << name << "'";
        return signalPassFailure();
      }
    InputStatistics statistics;
    if (!std::string(this->statistics).empty()) {
      auto read = readInputStatistics(this->statistics);
      if (!read) {
        module.emitError() << llvm::toString(read.takeError());
        return signalPassFailure();
      }
      statistics = std::move(*read);
    }
    int64_t doneValues = 0, reportedTenth = 0, withFeedback = 0;
    for (const Job& job : jobs) {
      graph::ConstantOp c = job.constant;
      const ek::WeightFormat to = job.to;
      auto type = cast<RankedTensorType>(c.getType());
      const int64_t rows = type.getDimSize(0), k = type.getDimSize(1);
      const std::vector<uint8_t> bytes = elementsBytes(c.getValue());
      std::vector<float> values(size_t(rows * k));
      if (type.getElementType().isF16()) {
        for (size_t i = 0; i < values.size(); ++i)
          values[i] = ek::f16_bits_to_f32(uint16_t(bytes[2 * i] | (bytes[2 * i + 1] << 8)));
      } else {
        std::memcpy(values.data(), bytes.data(), values.size() * 4);
      }
      const int64_t rowBytes = ek::row_bytes(to, k);
      std::string out(size_t(rows * rowBytes), '\0');
      auto moments = statistics.find(c.getName().value_or("").str());
      // A tied embedding table keeps plain rounding: a row looked up must stay close to itself,
      // whatever the output layer's inputs would prefer.
      if (moments != statistics.end() && ek::is_quantized(to) && moments->second->k == k && !job.isTable) {
        std::string why;
        if (!quantizeRowsWithFeedback(to, values.data(), rows, k, moments->second->h.data(),
                                      reinterpret_cast<uint8_t*>(out.data()), &why)) {
          c.emitError() << "'" << moments->first << "': " << why;
          return signalPassFailure();
        }
        ++withFeedback;
      } else {
        quantizeRowsInParallel(to, values.data(), rows, k, reinterpret_cast<uint8_t*>(out.data()));
      }
      OpBuilder b(c);
      Type element = to == ek::WeightFormat::F32   ? Type(b.getF32Type())
                     : to == ek::WeightFormat::F16 ? Type(b.getF16Type())
                                                   : Type(b.getIntegerType(8));
      const int64_t width = ek::is_quantized(to) ? rowBytes : k;
      auto newType = RankedTensorType::get({rows, width}, element);
      c.setValueAttr(makeElementsAttr(newType, std::move(out), c.getName().value_or("weight")));
      c.getResult().setType(newType);
      const StringAttr name = b.getStringAttr(ek::weight_format_name(to));
      for (Operation* user : c->getUsers()) user->setAttr("format", name);
      // A line per tenth of the values, for models big enough to wait on.
      doneValues += rows * k;
      const int64_t tenth = totalValues ? doneValues * 10 / totalValues : 10;
      if (progress_ && totalValues >= (int64_t(16) << 20) && tenth > reportedTenth) {
        reportedTenth = tenth;
        progress_("quantized " + std::to_string(tenth * 10) + "% of " + std::to_string(totalValues / 1000000) +
                  "M weights");
      }
    }
    if (!std::string(this->statistics).empty() && withFeedback == 0 && !jobs.empty()) {
      module.emitError() << "--calibration: the input statistics name none of this model's quantized weights";
      return signalPassFailure();
    }
    if (progress_ && !statistics.empty())
      progress_("error-feedback rounding on " + std::to_string(withFeedback) + " of " + std::to_string(jobs.size()) +
                " quantized weights (calibration: " + std::to_string(int64_t(statistics.begin()->second->tokens)) +
                " tokens)");
  }
};

}  // namespace

std::unique_ptr<Pass> createQuantizeWeights(const QuantizeWeightsOptions& options,
                                            std::function<void(const std::string&)> progress) {
  return std::make_unique<QuantizeWeightsPass>(options, std::move(progress));
}

}  // namespace edgecc
