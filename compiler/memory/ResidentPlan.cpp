#include "compiler/memory/ResidentPlan.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "compiler/ir/KernelMapping.h"
#include "compiler/ir/SymbolicShape.h"
#include "compiler/memory/ArenaLayout.h"
#include "compiler/quantize/BlockQuantizer.h"
#include "dialects/exec/ExecDialect.h"
#include "llvm/ADT/DenseSet.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "runtime/kernels/kernels.h"
#include "runtime/llm/json_output.h"
#include "runtime/weights_format.h"

namespace edgecc {

using namespace mlir;

namespace {

// Stated estimates where the program does not fix the figure, from what model_generate holds on
// Linux x86-64 (/proc/PID/smaps; benchmarks/bench_memory.py compares the plan with peak RSS).
constexpr int64_t kStackBytesPerThread = 64 << 10;    // touched stack per worker thread
constexpr int64_t kCodeBytes = 9 << 19;               // 4.5 MiB: the tool (1.3) and libc, libstdc++, libm, ld.so (3.0)
constexpr int64_t kRuntimeHeapBytes = 2 << 20;        // the C/C++ runtime's own heap and the main stack
constexpr int64_t kTokenizerBytesPerEntry = 48;       // piece string, score, type, lookup entry
constexpr int64_t kSamplerBytesPerEntry = 16;         // logits copy, probability, index

// linear's scratch (runtime/kernels/linear.cpp): the quantized activations of its largest input
// on the calling thread (int8 values, a scale per 32, sums per 16), and each worker's row of
// accumulators.
int64_t linearScratch(func::FuncOp func, const SymbolBounds& bounds, int threads) {
  int64_t scratch = 0;
  func.walk([&](exec::CallOp call) {
    if (!isKernel(call.getKernel(), "linear") || call.getIns().empty()) return;
    SymShape dims = execDims(func, call.getIns()[0]);
    if (dims.empty()) return;
    int64_t m = 1;
    for (size_t d = 0; d + 1 < dims.size(); ++d) m *= maxValue(dims[d], bounds);
    const int64_t k = maxValue(dims.back(), bounds);
    scratch = std::max(scratch, m * k + m * k / 32 * 4 + m * k / 16 * 2 + threads * m * 4);
  });
  return scratch;
}

// attention's span states (runtime/kernels/attention.cpp): a decode step over a long context
// keeps a span state per query head and span of keys, sized for the whole cache (value heads
// counted as wide as query heads), and a line to align them.
int64_t attentionPartials(func::FuncOp func, const SymbolBounds& bounds) {
  int64_t partials = 0;
  func.walk([&](exec::CallOp call) {
    if (!isKernel(call.getKernel(), "attention") || call.getIns().size() < 3) return;
    SymShape q = execDims(func, call.getIns()[0]), k = execDims(func, call.getIns()[1]);
    if (q.size() != 4 || k.size() < 3) return;
    const int64_t heads = maxValue(q[0], bounds) * maxValue(q[1], bounds), keys = maxValue(k[2], bounds);
    const int64_t spans = ek::attention_key_spans(1, keys);
    if (spans > 1) partials = std::max(partials, (heads * spans * ek::attention_span_state_floats(maxValue(q[3], bounds)) + 16) * 4);
  });
  return partials;
}

// Every input and output at its largest shape.
int64_t ioBytes(func::FuncOp func, const SymbolBounds& bounds) {
  int64_t io = 0;
  for (BlockArgument a : func.getArguments()) io += boundedBytes(func, a, bounds);
  return io;
}

}  // namespace

SymShape execDims(func::FuncOp func, Value v) {
  AffineMapAttr dims;
  if (auto arg = dyn_cast<BlockArgument>(v)) dims = func.getArgAttrOfType<AffineMapAttr>(arg.getArgNumber(), "exec.dims");
  else if (auto alloc = v.getDefiningOp<exec::AllocOp>()) dims = alloc.getDimsAttr();
  else if (auto view = v.getDefiningOp<exec::ViewOp>()) dims = view.getDimsAttr();
  return symbolicShape(v.getType(), dims);
}

int64_t boundedBytes(func::FuncOp func, Value v, const SymbolBounds& bounds) {
  auto dtype = dtypeOf(cast<MemRefType>(v.getType()).getElementType());
  int64_t n = 1;
  for (const SymDim& d : execDims(func, v)) n *= maxValue(d, bounds);
  return n * int64_t(dtype ? ek::dtype_size(*dtype) : 8);
}

int64_t ResidentPlan::total() const {
  int64_t t = 0;
  for (const ResidentItem& i : items) t += i.bytes;
  return t;
}

int64_t ResidentPlan::bytesOf(const std::string& name) const {
  for (const ResidentItem& i : items)
    if (i.name == name) return i.bytes;
  return 0;
}

bool readsOnlyRows(exec::WeightOp weight) {
  if (weight->use_empty() || cast<MemRefType>(weight.getType()).getRank() != 2) return false;
  return llvm::all_of(weight->getUsers(), [](Operation* user) {
    auto call = dyn_cast<exec::CallOp>(user);
    return call && isKernel(call.getKernel(), "embedding");
  });
}

ResidentPlan planResidentMemory(ModuleOp module, const ResidentOptions& o) {
  ResidentPlan p;
  auto funcs = module.getOps<func::FuncOp>();
  if (funcs.empty()) return p;
  func::FuncOp func = *funcs.begin();
  const SymbolBounds bounds = symbolBounds(module);
  const int threads = std::max(1, o.threads);

  // The token batch: the bound of input_ids' second dim (LLMs), else 1.
  const int64_t numInputs = func->hasAttr("exec.num_inputs") ? func->getAttrOfType<IntegerAttr>("exec.num_inputs").getInt() : 0;
  p.max_batch = 1;
  int batchSymbol = -1;  // the symbol that dim is, when it is one
  for (int64_t i = 0; i < numInputs; ++i)
    if (auto role = func.getArgAttrOfType<StringAttr>(unsigned(i), "graph.llm_input"); role && role.getValue() == "token_ids") {
      SymShape dims = execDims(func, func.getArgument(unsigned(i)));
      if (dims.size() != 2) continue;
      p.max_batch = maxValue(dims[1], bounds);
      for (int s = 0; s < int(bounds.bounds.size()) && s < kMaxSymbols; ++s)
        if (dims[1] == SymDim::symbol(s)) batchSymbol = s;
    }

  int64_t vocab = 0;  // the logits' last dim (LLMs)
  for (unsigned a = unsigned(numInputs); a < func.getNumArguments(); ++a)
    if (func.getArgAttrOfType<StringAttr>(a, "graph.llm_output"))
      if (auto t = cast<MemRefType>(func.getArgument(a).getType()); t.getRank() == 3 && !t.isDynamicDim(2)) vocab = t.getDimSize(2);

  // Weights: matrices read by linear or embedding (re-priced by --weights), the rest as stored.
  // weights.bin's payload as WeightsWriter lays it out: each distinct value once, aligned.
  int64_t payload = 0, tableRowBytes = 0, tableBytes = 0;
  llvm::DenseSet<Attribute> stored;
  func.walk([&](exec::WeightOp w) {
    auto t = cast<MemRefType>(w.getType());
    const int64_t bytes = t.getNumElements() * int64_t(t.getElementTypeBitWidth() / 8);
    if (!stored.insert(w.getValue()).second) return;
    payload = (payload + int64_t(ek::kWeightsAlign) - 1) / int64_t(ek::kWeightsAlign) * int64_t(ek::kWeightsAlign) + bytes;
    const bool tableOnly = readsOnlyRows(w);
    bool head = false;
    std::optional<ek::WeightFormat> format;
    for (Operation* user : w->getUsers()) {
      auto call = dyn_cast<exec::CallOp>(user);
      const StringRef kernel = call ? call.getKernel() : StringRef();
      const bool embedding = isKernel(kernel, "embedding"), linear = isKernel(kernel, "linear");
      head |= embedding || (linear && vocab > 0 && t.getRank() == 2 && t.getDimSize(0) == vocab);
      if ((embedding || linear) && !call.getInts().empty() && call.getIns()[embedding ? 0 : 1] == w.getResult())
        format = ek::stored_format(ek::WeightFormat(call.getInts()[0]));
    }
    if (auto name = w.getName(); name && head) p.head_weights.push_back(name->str());
    if (format && (*format == ek::WeightFormat::F32 || *format == ek::WeightFormat::F16)) {
      (head ? p.head_bytes : p.matrix_bytes)[*format] += bytes;
      (head ? p.head_values : p.matrix_values)[*format] += int64_t(std::llround(double(bytes) * 8.0 / bitsPerValue(*format)));
    }
    if (tableOnly && t.getDimSize(0) > 0) {
      tableBytes += bytes;
      tableRowBytes += bytes / t.getDimSize(0);
      if (auto name = w.getName()) p.row_read_weights.push_back(name->str());
    }
  });
  // The rows one batch of tokens touches.
  auto tableRows = [&](int64_t batch) { return std::min(tableBytes, tableRowBytes * batch); };
  p.items.push_back({"weights", payload - tableBytes, true,
                     tableBytes ? "weights.bin, mapped, but for the embedding table" : "weights.bin, mapped"});
  if (tableBytes)
    p.items.push_back({"embedding rows", tableRows(p.max_batch), true,
                       "rows of a " + humanBytes(tableBytes) + " untied table one batch of tokens touches"});

  // The KV cache (state) and the arena, as the memory planner laid them out.
  auto state = module->getAttrOfType<IntegerAttr>("exec.state_bytes");
  if (state && state.getInt() > 0) {
    func.walk([&](exec::StateOp s) {
      if (p.context) return;
      p.context = s.getType().getDimSize(2);
      // The stored rows' element type (LowerToExec): f16 values, or q8_0 blocks as bytes.
      const Type e = s.getType().getElementType();
      p.kv_type = e.isF16() ? "f16" : e.isInteger(8) ? "q8_0" : "f32";
      const int64_t last = s.getType().getDimSize(3);
      p.kv_head_size = p.kv_type == "q8_0" ? last / ek::kQ8_0BlockBytes * ek::kBlockValues : last;
    });
    p.kv_bytes_per_position = p.context ? state.getInt() / p.context : 0;
    p.items.push_back({"KV cache", state.getInt(), false,
                       std::to_string(p.context) + " positions x " + humanBytes(p.kv_bytes_per_position) + " (" + p.kv_type + ")"});
  }
  auto arena = module->getAttrOfType<IntegerAttr>("exec.arena_bytes");
  int64_t ops = 0;
  func.walk([&](Operation*) { ++ops; });
  p.ops = ops;
  for (auto& [alloc, life] : arenaLifetimes(func, bounds))
    p.arena_buffers.push_back({alloc.getOffset() ? int64_t(*alloc.getOffset()) : 0, life.bytes, life.first, life.last});
  auto planner = module->getAttrOfType<StringAttr>("exec.arena_planner");
  p.items.push_back({"arena", arena ? arena.getInt() : 0, false,
                     std::to_string(p.arena_buffers.size()) + " activation buffers, overlapping where their lifetimes do not" +
                         (planner ? " (" + planner.str() + ", the smallest of the planners)" : std::string())});

  const int64_t linearBytes = linearScratch(func, bounds, threads), partials = attentionPartials(func, bounds);
  const int64_t scratch = linearBytes + partials;
  if (scratch)
    p.items.push_back({"kernel scratch", scratch, false,
                       std::string("linear's activation quantization and per-thread accumulators") +
                           (partials ? ", attention's key-span states" : "")});

  const int64_t io = ioBytes(func, bounds);
  p.items.push_back({"inputs and outputs", io, false, "every input and output at its largest shape"});
  if (vocab > 0 && o.tokenizer)
    p.items.push_back({"tokenizer", vocab * kTokenizerBytesPerEntry, false,
                       std::to_string(vocab) + " entries x " + std::to_string(kTokenizerBytesPerEntry) + " bytes (estimate)"});
  if (vocab > 0)
    p.items.push_back({"sampler", vocab * kSamplerBytesPerEntry, false,
                       std::to_string(vocab) + " entries x " + std::to_string(kSamplerBytesPerEntry) + " bytes"});
  p.items.push_back({"thread stacks", threads * kStackBytesPerThread, false,
                     std::to_string(threads) + " threads x " + humanBytes(kStackBytesPerThread) + " touched (estimate)"});
  p.items.push_back({"runtime heap", kRuntimeHeapBytes, false, "the C and C++ runtime's own allocations and the main stack (estimate)"});
  p.items.push_back({"code", kCodeBytes, true, "the bundle's tool and the C and C++ runtime libraries it maps (estimate)"});

  // Smaller token batches: the items that grow with the batch, laid out and sized again.
  if (batchSymbol >= 0) {
    auto batchBytes = [&](const SymbolBounds& at, int64_t batch) {
      return layOutArena(func, at, kArenaAlignment).plan.arena_bytes + linearScratch(func, at, threads) +
             attentionPartials(func, at) + ioBytes(func, at) + tableRows(batch);
    };
    const int64_t now = batchBytes(bounds, p.max_batch);
    for (int64_t batch = p.max_batch / 2; batch >= 1; batch /= 2) {
      SymbolBounds at = bounds;
      at.bounds[size_t(batchSymbol)] = batch;
      p.batch_totals.push_back({batch, p.total() - now + batchBytes(at, batch)});
    }
  }
  return p;
}

std::string humanBytes(int64_t bytes) {
  char s[32];
  const double b = double(bytes);
  if (b >= double(1ll << 30)) std::snprintf(s, sizeof s, "%.2f GiB", b / double(1ll << 30));
  else if (b >= double(1 << 20)) std::snprintf(s, sizeof s, "%.1f MiB", b / double(1 << 20));
  else if (b >= 1024) std::snprintf(s, sizeof s, "%.1f KiB", b / 1024.0);
  else std::snprintf(s, sizeof s, "%lld B", (long long)bytes);
  return s;
}

int64_t parseByteSize(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(v >= 0)) return -1;
  std::string unit(end);
  for (char& c : unit) c = char(std::tolower(static_cast<unsigned char>(c)));
  const std::map<std::string, double> units = {
      {"", 1},           {"b", 1},           {"kb", 1e3},       {"mb", 1e6},        {"gb", 1e9},       {"tb", 1e12},
      {"k", 1024.0},     {"m", 1048576.0},   {"g", 1073741824.0}, {"kib", 1024.0}, {"mib", 1048576.0}, {"gib", 1073741824.0}};
  auto u = units.find(unit);
  if (u == units.end()) return -1;
  return int64_t(std::llround(v * u->second));
}

std::string residentPlanText(const ResidentPlan& plan, int64_t budget) {
  std::ostringstream s;
  char line[256];
  for (const ResidentItem& i : plan.items) {
    std::snprintf(line, sizeof line, "    %-20s %11s  %s%s\n", i.name.c_str(), humanBytes(i.bytes).c_str(),
                  i.file_backed ? "[file-backed] " : "", i.basis.c_str());
    s << line;
  }
  std::snprintf(line, sizeof line, "    %-20s %11s", "total", humanBytes(plan.total()).c_str());
  s << line;
  if (budget > 0) s << "  of a " << humanBytes(budget) << " budget (" << (plan.total() <= budget ? "fits" : "over") << ")";
  s << "\n";
  return s.str();
}

std::string residentPlanJson(const ResidentPlan& plan, int64_t budget) {
  std::ostringstream s;
  s << "{\n    \"total_bytes\": " << plan.total() << ",\n    \"budget_bytes\": " << budget << ",\n    \"items\": [";
  for (size_t k = 0; k < plan.items.size(); ++k) {
    const ResidentItem& i = plan.items[k];
    s << (k ? "," : "") << "\n      {\"name\": \"" << i.name << "\", \"bytes\": " << i.bytes
      << ", \"file_backed\": " << (i.file_backed ? "true" : "false") << ", \"basis\": \"" << i.basis << "\"}";
  }
  s << "\n    ],\n    \"context\": " << plan.context << ",\n    \"kv_type\": \"" << plan.kv_type << "\",\n    \"kv_bytes_per_position\": " << plan.kv_bytes_per_position
    << ",\n    \"arena_buffers\": " << plan.arena_buffers.size() << ",\n    \"max_batch\": " << plan.max_batch
    << ",\n    \"batch_totals\": {";
  for (size_t k = 0; k < plan.batch_totals.size(); ++k)
    s << (k ? ", " : "") << "\"" << plan.batch_totals[k].first << "\": " << plan.batch_totals[k].second;
  s << "}";
  if (plan.fit) {
    char kl[32];
    std::snprintf(kl, sizeof kl, "%.6g", plan.fit->predicted_kl);
    s << ",\n    \"fit\": {\"chose\": " << ek::json_string(plan.fit->label) << ", \"flags\": " << ek::json_string(plan.fit->flags)
      << ", \"predicted_kl\": " << kl << "}";
  }
  s << "\n  }";
  return s.str();
}

std::string memorySvg(const ResidentPlan& plan, int64_t budget) {
  const double w = 860, h = 420, left = 70, top = 40, chartW = 520, chartH = 320, barX = 680, barW = 60;
  std::ostringstream s;
  s << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << w << "\" height=\"" << h
    << "\" font-family=\"sans-serif\" font-size=\"11\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s << "<text x=\"" << left << "\" y=\"20\" font-size=\"14\">Arena buffers over the program (" << humanBytes(plan.bytesOf("arena"))
    << ")</text>\n";
  const double arena = std::max<double>(1, double(plan.bytesOf("arena"))), ops = std::max<double>(1, double(plan.ops));
  s << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << chartW << "\" height=\"" << chartH
    << "\" fill=\"none\" stroke=\"#999\"/>\n";
  for (const ArenaBufferUse& b : plan.arena_buffers) {
    const double x = left + chartW * double(b.first) / ops, x2 = left + chartW * double(b.last + 1) / ops;
    const double y = top + chartH * (1 - double(b.offset + b.bytes) / arena), y2 = top + chartH * (1 - double(b.offset) / arena);
    s << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << std::max(0.5, x2 - x) << "\" height=\"" << std::max(0.5, y2 - y)
      << "\" fill=\"#4e79a7\" fill-opacity=\"0.6\" stroke=\"#2b4c6f\" stroke-width=\"0.3\"><title>" << humanBytes(b.bytes)
      << " at offset " << b.offset << ", ops " << b.first << "-" << b.last << "</title></rect>\n";
  }
  s << "<text x=\"" << left + chartW / 2 << "\" y=\"" << top + chartH + 28 << "\" text-anchor=\"middle\">op index (0-"
    << plan.ops << ")</text>\n<text x=\"" << left - 8 << "\" y=\"" << top + 4 << "\" text-anchor=\"end\">"
    << humanBytes(plan.bytesOf("arena")) << "</text>\n<text x=\"" << left - 8 << "\" y=\"" << top + chartH
    << "\" text-anchor=\"end\">0</text>\n";
  // The whole plan, one bar to scale (the budget, when given, as a line).
  const double total = std::max<double>(1, double(std::max(plan.total(), budget)));
  static const char* kColors[] = {"#e15759", "#f28e2b", "#76b7b2", "#4e79a7", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  s << "<text x=\"" << barX - 20 << "\" y=\"20\" font-size=\"14\">Resident plan, to scale: " << humanBytes(plan.total()) << "</text>\n";
  double y = top + chartH;
  for (size_t k = 0; k < plan.items.size(); ++k) {
    const ResidentItem& i = plan.items[k];
    const double hgt = chartH * double(i.bytes) / total;
    y -= hgt;
    s << "<rect x=\"" << barX << "\" y=\"" << y << "\" width=\"" << barW << "\" height=\"" << hgt << "\" fill=\"" << kColors[k % 10]
      << "\"><title>" << i.name << ": " << humanBytes(i.bytes) << "</title></rect>\n";
    s << "<rect x=\"" << barX + barW + 10 << "\" y=\"" << top + 14 * double(k) << "\" width=\"10\" height=\"10\" fill=\"" << kColors[k % 10]
      << "\"/><text x=\"" << barX + barW + 24 << "\" y=\"" << top + 14 * double(k) + 9 << "\">" << i.name << " "
      << humanBytes(i.bytes) << (i.file_backed ? " (file)" : "") << "</text>\n";
  }
  if (budget > 0) {
    const double by = top + chartH * (1 - double(budget) / total);
    s << "<line x1=\"" << barX - 10 << "\" x2=\"" << barX + barW + 5 << "\" y1=\"" << by << "\" y2=\"" << by
      << "\" stroke=\"black\" stroke-dasharray=\"4 2\"/><text x=\"" << barX - 12 << "\" y=\"" << by + 4
      << "\" text-anchor=\"end\">budget " << humanBytes(budget) << "</text>\n";
  }
  s << "</svg>\n";
  return s.str();
}

}  // namespace edgecc
