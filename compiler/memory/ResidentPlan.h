// Every byte a bundle holds while it runs, planned at compile time from the lowered program:
// the mapped weights (file-backed: the OS may evict and re-read them), the KV cache, the
// activation arena, the kernels' scratch, the I/O buffers, the tokenizer and sampler, thread
// stacks and code. `--ram-budget` compares the total with the budget; a plan over it is refused
// with what would fit instead (FittingPlans.h). Items the program does not determine exactly
// (scratch, tokenizer, sampler, stacks, code) say so in their basis.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/ir/SymbolicShape.h"
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

// What --fit chose to bring a plan under its budget (report.json "fit"): the choice for people,
// as compile flags, and the quality it is predicted to lose (KL in nats per token from f32).
struct FitChoice {
  std::string label, flags;
  double predicted_kl = 0;
};

struct ResidentPlan {
  std::vector<ResidentItem> items;
  std::vector<ArenaBufferUse> arena_buffers;
  int64_t ops = 0;  // the op sequence's length (the picture's x axis)
  int64_t context = 0, kv_bytes_per_position = 0, max_batch = 0;
  // The total at smaller token batches (halving down to 1): the arena laid out again, and the
  // scratch, inputs, outputs and embedding rows at that batch. Largest batch first.
  std::vector<std::pair<int64_t, int64_t>> batch_totals;
  std::string kv_type = "f32";  // how the KV cache stores its rows (graph.kv_cache's storage)
  int64_t kv_head_size = 0;     // values per cached row (q8_0 needs a multiple of 32)
  // Bytes and values of the float matrices (linear and embedding weights) --weights converts,
  // by their stored format; the head (embedding table, output layer) apart, as it takes
  // --weights-head's format.
  std::map<ek::WeightFormat, int64_t> matrix_bytes, matrix_values, head_bytes, head_values;
  std::vector<std::string> row_read_weights;  // named weights only `embedding` reads (not resident)
  std::vector<std::string> head_weights;      // named weights --weights-head converts
  std::optional<FitChoice> fit;  // how --fit brought it under the budget

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

// Bytes of an exec value at the symbols' upper bounds.
int64_t boundedBytes(mlir::func::FuncOp func, mlir::Value v, const SymbolBounds& bounds);

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

// memory.svg: the arena's buffers over the op sequence (offset against op index), and beside
// them, to one scale, every item of the plan.
std::string memorySvg(const ResidentPlan& plan, int64_t budget);

}  // namespace edgecc
