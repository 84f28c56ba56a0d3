#include <algorithm>

#include "compiler/passes/Passes.h"
#include "compiler/target/TargetAttr.h"

namespace edgecc {
#define GEN_PASS_DEF_SELECTKERNELS
#include "compiler/passes/Passes.h.inc"

namespace {

using namespace mlir;

std::string kib(int64_t bytes) { return std::to_string(bytes / 1024) + " KiB"; }

// Tile sizes of `linear` over packed weights (runtime/kernels/linear_packed.h). A tile keeps
// the variant's accumulator registers per token (kernels/variants.h) and needs a few more for
// weights and broadcasts (8 quantized, 4 float): as many tokens as fit the register file, at
// most the kernel's largest tile. Tokens are taken in blocks whose activations fill at most
// half of L2, so they stay there while every weight group streams past once per block.
struct LinearTiles {
  int64_t tokensPerTile, tokensPerBlock;
  std::string why;
};

LinearTiles linearTiles(const DeviceProfile& t, const ek::KernelVariant& v, ek::WeightFormat format, int64_t k) {
  const bool quantized = ek::is_quantized(format);
  const int perToken = quantized ? v.quantized_registers_per_token : v.float_registers_per_token;
  const int64_t tile = std::clamp<int64_t>((t.vector_registers - (quantized ? 8 : 4)) / perToken, 1, v.max_tile_tokens);
  // int8 values, then a scale and a sum per block; or the f32 activations themselves
  const int64_t rowBytes = quantized ? k + k / ek::kBlockValues * 8 : 4 * k;
  int64_t block = std::max<int64_t>(tile, t.l2_bytes / 2 / std::max<int64_t>(rowBytes, 1) / tile * tile);
  LinearTiles out{tile, block, ""};
  out.why = std::to_string(tile) + " tokens x " + std::to_string(ek::kPackRows * v.groups_per_tile) + " rows per register tile (" +
            std::to_string(t.vector_registers) + " vector registers: " + std::to_string(perToken) +
            " accumulators per token); " + std::to_string(block) + " tokens per cache block (" + std::to_string(block) +
            " x " + std::to_string(rowBytes) + " B of activations <= half of the " + kib(t.l2_bytes) + " L2)";
  return out;
}

struct SelectKernelsPass : impl::SelectKernelsBase<SelectKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<DeviceProfile> target = targetOf(module);
    if (failed(target)) return signalPassFailure();
    Builder b(module.getContext());
    module.walk([&](exec::CallOp call) {
      const std::string kernel = call.getKernel().str();
      if (kernel.find("::") != std::string::npos) return;  // chosen already
      if (kernel != "linear") {
        call.setWhyAttr(b.getStringAttr("portable kernel (no ISA variant of '" + kernel + "')"));
        return;
      }
      const auto format = ek::WeightFormat(call.getInts()[0]);
      const char* formatName = ek::weight_format_name(format);
      if (!ek::is_packed(format)) {
        call.setWhyAttr(b.getStringAttr(std::string("portable kernel: weights stay ") + formatName +
                                        " as stored (no packed variant on this target, or rows not in groups of 8)"));
        return;
      }
      const ek::KernelVariant* chosen = findKernelVariant(*target, kernel, format);
      const int64_t k = cast<MemRefType>(call.getIns()[0].getType()).getShape().back();
      const LinearTiles tiles =
          chosen ? linearTiles(*target, *chosen, format, k) : LinearTiles{1, 0, "portable reference tile, one token at a time"};
      call.setIntsAttr(b.getDenseI64ArrayAttr({int64_t(format), tiles.tokensPerTile, tiles.tokensPerBlock}));
      if (chosen) call.setKernelAttr(b.getStringAttr(std::string(chosen->ns) + "::" + chosen->kernel));
      call.setWhyAttr(b.getStringAttr(std::string(formatName) + " on " + target->name + ": " +
                                      (chosen ? std::string(chosen->how) + "; " : std::string()) + tiles.why));
    });
  }
};

}  // namespace
}  // namespace edgecc
