// Every byte a bundle holds while it runs, planned at compile time from the lowered program:
// the mapped weights (file-backed: the OS may evict and re-read them), the KV cache, the
// activation arena, the kernels' scratch, the I/O buffers, the tokenizer and sampler, thread
// stacks and code. `--ram-budget` compares the total with the budget; a plan over it is refused
// with what would fit instead (plansThatFit). Items the program does not determine exactly
// (scratch, tokenizer, sampler, stacks, code) say so in their basis.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "compiler/ir/SymbolicShape.h"
#include "compiler/passes/ArenaPlanner.h"
#include "dialects/exec/ExecDialect.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "runtime/weight_format.h"

namespace edgecc {

struct ResidentItem {
  std::string name;
  int64_t bytes = 0;
  bool file_backed = false;  // mapped from weights.bin: evictable, re-read on demand
  std::string basis;         // how the figure was obtained
};

// One arena buffer over the op sequence, for the picture.
struct ArenaBufferUse {
  int64_t offset = 0, bytes = 0, first = 0, last = 0;
};

struct ResidentPlan {
  std::vector<ResidentItem> items;
  std::vector<ArenaBufferUse> arena_buffers;
  int64_t ops = 0;  // the op sequence's length (the picture's x axis)
  int64_t context = 0, kv_bytes_per_position = 0, max_batch = 0;
  std::string kv_type = "f32";  // how the KV cache stores its rows (graph.kv_cache's storage)
  int64_t kv_head_size = 0;     // values per cached row (q8_0 needs a multiple of 32)
  // Bytes and values of the float matrices (linear and embedding weights) --weights converts,
  // by their stored format; the head (embedding table, output layer) apart, as it takes
  // --weights-head's format.
  std::map<ek::WeightFormat, int64_t> matrix_bytes, matrix_values, head_bytes, head_values;

  int64_t total() const;
  int64_t bytesOf(const std::string& name) const;  // 0 when there is no such item
};

struct ResidentOptions {
  int threads = 1;
  bool tokenizer = false;  // the bundle carries one (its size: the logits' vocabulary)
};

// The symbolic dims of an exec value (a function argument, alloc or view): its memref type with
// the exec.dims attribute that names its dynamic dims.
SymShape execDims(mlir::func::FuncOp func, mlir::Value v);

// The arena buffers of `func` in op order: bytes at the symbols' bounds and live ranges (a use
// of a view is a use of the buffer it aliases). PlanMemory places them; the picture draws them.
std::vector<std::pair<exec::AllocOp, BufferLifetime>> arenaLifetimes(mlir::func::FuncOp func, const SymbolBounds& bounds);

// `module` must be lowered to exec and memory-planned.
ResidentPlan planResidentMemory(mlir::ModuleOp module, const ResidentOptions& options);

// A weight that only `embedding` reads (an untied token table): a batch touches a few of its
// rows, so the plan counts those, and a loaded bundle evicts the table's pages after checking
// them (ek::WeightsFile::release).
bool readsOnlyRows(exec::WeightOp weight);

// Byte counts for people: "2.91 GiB", "640.0 KiB".
std::string humanBytes(int64_t bytes);
// "3GB", "512MiB", "1.5G", "2000000": bytes (decimal units for B/KB/MB/GB, binary for KiB/MiB/GiB,
// bare K/M/G binary). -1 when unreadable.
int64_t parseByteSize(const std::string& text);

// One screen: the plan item by item against `budget` (0: none).
std::string residentPlanText(const ResidentPlan& plan, int64_t budget);
std::string residentPlanJson(const ResidentPlan& plan, int64_t budget);

// Changes that would bring the plan under `budget`, each a line of flags, the total they give
// and the quality they are predicted to lose ("--weights q4_k --kv-type q8_0: 2.20 GiB,
// predicted KL 0.0027"). First the plans that keep the whole context, the smallest predicted
// loss first (weights format x KV cache type), then shorter contexts, longest first. Weights are
// re-priced by bits per value (the head by its default format under each), the KV cache by
// bytes per value, the context by the KV cache's bytes per position.
struct FittingPlan {
  std::string weights;     // "" keeps the weights
  std::string kv_type;     // "" keeps the KV cache's type
  int64_t context = 0;     // positions; 0 keeps the context
  int64_t total = 0;
  double predicted_kl = 0;  // predictedKl() of the weights and the KV type
  std::string flags() const;
};
std::vector<FittingPlan> plansThatFit(const ResidentPlan& plan, int64_t budget, const std::string& currentWeights);

// The mean KL divergence (nats per token) from the f32 model a weights format and a KV cache
// type are predicted to add, as measured on the reference model's held-out text
// (benchmarks/results/quality-brown-6m.md); the two are taken to add up. "" is f32.
double predictedKl(const std::string& weights, const std::string& kvType);
// A plan's predicted loss for people: "predicted loss 0.0026 nats/token (KL)", and "and a
// shorter context" when it shortens it.
std::string predictedLossText(const FittingPlan& plan);

// memory.svg: the arena's buffers over the op sequence (offset against op index), and beside
// them, to one scale, every item of the plan.
std::string memorySvg(const ResidentPlan& plan, int64_t budget);

}  // namespace edgecc
