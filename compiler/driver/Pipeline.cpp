#include "compiler/driver/Pipeline.h"

#include "compiler/driver/Calibration.h"

#include <algorithm>
#include <cctype>

#include "compiler/import/GgufFile.h"
#include "compiler/import/GgufImporter.h"
#include "compiler/import/GgufVocab.h"
#include "compiler/ir/WeightBlobRelease.h"
#include "compiler/passes/Passes.h"
#include "compiler/target/DeviceProfile.h"
#include "compiler/target/TargetAttr.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "runtime/weights_format.h"
#include "llvm/Support/raw_ostream.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using llvm::Error;
using llvm::Expected;

namespace edgecc {

namespace {

// The float matrices of a GGUF model, each of which may take its own format. An untied
// embedding table (only its rows are read) saves no resident memory.
std::vector<WeightTensor> floatMatrices(const gguf::File& file, const ResidentPlan& plan) {
  std::vector<WeightTensor> out;
  for (const gguf::TensorInfo& t : file.tensors()) {
    const auto type = gguf::TensorType(t.type);
    if (t.ne.size() != 2 || (type != gguf::TensorType::F32 && type != gguf::TensorType::F16)) continue;
    const bool rowsOnly = std::count(plan.row_read_weights.begin(), plan.row_read_weights.end(), t.name) > 0;
    const bool head = std::count(plan.head_weights.begin(), plan.head_weights.end(), t.name) > 0;
    out.push_back({t.name, t.ne[1], t.ne[0], type == gguf::TensorType::F32 ? ek::WeightFormat::F32 : ek::WeightFormat::F16, !rowsOnly, head});
  }
  return out;
}

}  // namespace

void registerDialects(DialectRegistry& registry) {
  registry.insert<graph::GraphDialect, exec::ExecDialect, func::FuncDialect, memref::MemRefDialect>();
}

void registerAllPasses() {
  registerEdgeccPasses();
  registerCanonicalizerPass();
  registerCSEPass();
}

void addGraphPasses(OpPassManager& pm, std::unique_ptr<Pass> quantize, bool fuseGateUp) {
  pm.addPass(createFoldConstants());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createFuseNorms());
  pm.addPass(createFuseActivations());
  pm.addPass(createFuseAttention());
  pm.addPass(createMatMulToLinear());
  // Once every weight is a linear's, and before gate and up fuse: a per-tensor format sees
  // the model's own tensors (and gate and up in different formats do not fuse).
  if (quantize) pm.addPass(std::move(quantize));
  if (fuseGateUp) pm.addPass(createFuseGateUp());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createDeadCodeElimination());
}

void addLoweringPasses(OpPassManager& pm) {
  pm.addPass(createPackWeights());
  pm.addPass(createLowerToExec());
  pm.addPass(createSelectKernels());
  pm.addPass(createPlanMemory());
}

std::string compileOptionsKey(const CompileOptions& o) {
  std::string key = o.target + "/" + std::to_string(o.max_context) + "/" + std::to_string(o.max_batch) +
                    (o.all_logits ? "/all-logits" : "") + "/probe " + std::to_string(o.gguf_probe_tokens) + "/kv " + o.kv_type + "/" + o.weights + "/" + o.weights_head +
                    (o.observe_inputs ? "/observe" : "") + "/" + o.input_statistics + "/budget " +
                    std::to_string(o.ram_budget) + (o.fit ? " fit" : "") + "/sensitivity " + o.sensitivity_file + "/kernels " + o.kernels;
  for (const std::string& w : o.weight_overrides) key += "/" + w;
  for (const auto& [name, size] : o.import.dims) key += "/dim " + name + "=" + std::to_string(size);
  for (const auto& [name, sum] : o.import.dim_sums) key += "/dim " + name + "=" + sum;
  for (const auto& [name, bound] : o.import.max_dims) key += "/max-dim " + name + "=" + std::to_string(bound);
  if (!o.calibration_text.empty()) {
    auto text = llvm::MemoryBuffer::getFile(o.calibration_text, /*IsText=*/false, /*RequiresNullTerminator=*/false);
    key += "/calibration " + std::to_string(o.calibration_chunks) + " " +
           std::to_string(text ? ek::fnv1a64((*text)->getBufferStart(), (*text)->getBufferSize()) : 0);
  }
  return key;
}

Expected<CompileResult> compileModelToBundle(const std::string& modelPath, const std::string& outDir,
                                             const CompileOptions& requested) {
  auto error = [](const std::string& msg) { return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", msg.c_str()); };
  CompileOptions options = requested;
  if (!options.calibration_text.empty() && options.input_statistics.empty()) {
    if (options.weights.empty() && options.weight_overrides.empty())
      return error("--calibration needs --weights (or --weights-override): it changes how float weights are quantized");
    auto statistics = observeInputs(modelPath, options);
    if (!statistics) return statistics.takeError();
    options.input_statistics = *statistics;
  }
  std::optional<TensorSensitivities> sensitivities;
  if (!options.sensitivity_file.empty()) {
    if (!isGgufFile(modelPath)) return error(modelPath + ": --sensitivity-from needs a GGUF model (its sensitivities name GGUF tensors)");
    auto read = readTensorSensitivities(options.sensitivity_file);
    if (!read) return read.takeError();
    sensitivities = std::move(*read);
  }
  const DeviceProfile* profile = findDeviceProfile(options.target);
  if (!profile) {
    std::string known;
    for (const DeviceProfile& p : deviceProfiles()) known += (known.empty() ? "" : ", ") + p.name;
    return error("unknown target '" + options.target + "' (known: " + known + ")");
  }
  if (options.kernels != "hand" && options.kernels != "halide")
    return error("--kernels wants hand or halide, got '" + options.kernels + "'");
  DeviceProfile device = *profile;
  device.generated_kernels = options.kernels == "halide";
  const std::string& ns = options.cpp_namespace;
  if (ns.empty() || !(std::isalpha((unsigned char)ns[0]) || ns[0] == '_') ||
      !std::all_of(ns.begin(), ns.end(), [](char c) { return std::isalnum((unsigned char)c) || c == '_'; }))
    return error("namespace '" + ns + "' is not a C++ identifier");
  DialectRegistry registry;
  registerDialects(registry);
  MLIRContext ctx(registry, MLIRContext::Threading::DISABLED);

  // Diagnostics (pass failures, verifier errors) become the error message, naming the node.
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&ctx, [&](Diagnostic& d) {
    std::string loc;
    llvm::raw_string_ostream os(loc);
    d.getLocation().print(os);
    diagnostics += modelPath + ": " + (isa<UnknownLoc>(d.getLocation()) ? "" : os.str() + ": ") + d.str() + "\n";
    return success();
  });

  auto stage = [&](const std::string& what) {
    if (options.progress) options.progress(what);
  };
  stage("importing " + modelPath);
  const bool gguf = isGgufFile(modelPath);
  Expected<OwningOpRef<ModuleOp>> module = OwningOpRef<ModuleOp>();
  std::unique_ptr<gguf::File> ggufFile;  // read once: the graph's weights, then the tokenizer
  if (gguf) {
    auto file = gguf::File::open(modelPath);
    if (!file) return file.takeError();
    ggufFile = std::move(*file);
    GgufImportOptions import{options.max_context, options.max_batch, options.all_logits, options.gguf_probe_tokens};
    module = importGguf(ctx, *ggufFile, import);
  } else {
    ImportOptions import = options.import;
    if (options.max_context > 0) {
      import.kv_context = options.max_context;
      if (options.max_batch > 0) import.kv_batch = options.max_batch;
    }
    module = importOnnxFile(ctx, modelPath, import);
  }
  if (!module) return module.takeError();
  attachTarget(**module, device);  // before the first pass: passes read the device from the module
  if (options.dump_after == "import") (*module)->print(llvm::errs());

  auto run = [&](llvm::function_ref<void(OpPassManager&)> add) -> Error {
    PassManager pm(&ctx);
    pm.addInstrumentation(createWeightBlobRelease());
    add(pm);
    if (!options.dump_after.empty() && options.dump_after != "import")
      pm.enableIRPrinting([](Pass*, Operation*) { return false; },
                          [&](Pass* p, Operation*) { return p->getArgument() == options.dump_after; },
                          /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
    if (failed(pm.run(**module))) return error(diagnostics.empty() ? modelPath + ": compilation failed" : diagnostics);
    return Error::success();
  };
  std::unique_ptr<Pass> quantize;
  if (!options.weights.empty() || !options.weights_head.empty() || !options.weight_overrides.empty()) {
    QuantizeWeightsOptions q;
    q.weights = options.weights.empty() ? options.weights_head : options.weights;
    q.head = options.weights_head;
    q.overrides = options.weight_overrides;
    q.statistics = options.input_statistics;
    quantize = createQuantizeWeights(q, stage);
  }
  stage(quantize ? "graph passes (fold, fuse, quantize weights)" : "graph passes (fold, fuse)");
  if (Error e = run([&](OpPassManager& pm) { addGraphPasses(pm, std::move(quantize), !options.observe_inputs); })) return std::move(e);
  if ((gguf && options.gguf_probe_tokens == 0) || (!gguf && options.max_context > 0)) {
    stage("KV cache");
    KvCacheToStateOptions kv;
    kv.kvType = options.kv_type;
    if (Error e = run([&](OpPassManager& pm) { pm.addPass(createKvCacheToState(kv)); })) return std::move(e);
  }

  CompileResult result;
  result.target = device.name;
  (*module)->walk([&](Operation* op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "graph") ++result.graph_ops[op->getName().getStringRef().str()];
  });
  stage("packing weights, lowering to exec, choosing kernels, planning memory");
  if (Error e = run(addLoweringPasses)) return std::move(e);

  // Every byte the bundle will hold, against the budget, before anything is written.
  ResidentOptions resident;
  resident.threads = std::max(1, device.cores);
  resident.tokenizer = gguf;
  result.plan = planResidentMemory(**module, resident);
  result.ram_budget = options.ram_budget > 0 ? options.ram_budget : device.ram_budget_bytes;
  result.plan.fit = options.fitted;
  if (result.ram_budget > 0 && result.plan.total() > result.ram_budget) {
    FitInputs fitInputs;
    fitInputs.current_weights = options.weights;
    if (sensitivities) {
      fitInputs.quality = sensitivities->quality;
      if (options.weight_overrides.empty()) {
        fitInputs.sensitivities = &*sensitivities;
        fitInputs.tensors = floatMatrices(*ggufFile, result.plan);
      }
    }
    const std::vector<FittingPlan> fits = plansThatFit(result.plan, result.ram_budget, fitInputs);
    if (options.fit) {
      // Most accurate first; the estimate re-prices weights by bits per value, so each choice
      // is compiled and checked again.
      for (const FittingPlan& f : fits) {
        CompileOptions next = options;
        next.fit = false;
        if (!f.weights.empty()) next.weights = f.weights;
        for (const auto& [tensor, format] : f.per_tensor) next.weight_overrides.push_back(tensor + "=" + format);
        if (!f.kv_type.empty()) next.kv_type = f.kv_type;
        if (f.context > 0) next.max_context = f.context;
        if (f.batch > 0) next.max_batch = f.batch;
        next.fitted = FitChoice{f.label(), f.flags(), f.predicted_kl};
        stage("--fit: trying " + f.label() + " (planned " + humanBytes(f.total) + ")");
        auto fitted = compileModelToBundle(modelPath, outDir, next);
        if (fitted) {
          fitted->fitted = f.label();
          fitted->fitted_flags = f.flags();
          fitted->fitted_kl = f.predicted_kl;
          return fitted;
        }
        llvm::consumeError(fitted.takeError());
      }
    }
    std::string why = modelPath + ": the bundle needs " + humanBytes(result.plan.total()) + ", over the " +
                      humanBytes(result.ram_budget) + " RAM budget" +
                      (options.ram_budget > 0 ? std::string() : " of target " + device.name + " (--ram-budget sets another)") +
                      "\n  the plan:\n" + residentPlanText(result.plan, result.ram_budget);
    if (fits.empty()) {
      why += "  nothing --weights, --kv-type, --max-batch or --max-context can change fits the budget";
    } else {
      why += std::string("  what would fit") + (options.fit ? " (estimated; --fit found none that does once compiled)" : " (or --fit picks the first)") + ":\n";
      for (const FittingPlan& f : fits) why += "    " + f.label() + ": " + humanBytes(f.total) + ", " + predictedLossText(f) + "\n";
      why += std::string("  losses predicted from ") +
             (sensitivities ? sensitivities->file : "the reference model's quality table (--sensitivity-from gives the model's own)") + "\n";
    }
    return error(why);
  }

  BundleOptions bundle;
  bundle.cpp_namespace = options.cpp_namespace;
  bundle.source_name = modelPath.substr(modelPath.find_last_of('/') + 1);
  bundle.target = device;
  bundle.observe_inputs = options.observe_inputs;
  bundle.plan = result.plan;
  bundle.ram_budget = result.ram_budget;
  stage("writing the bundle to " + outDir);
  // LLMs from GGUF carry their tokenizer: tokenizer.bin, written before the code and report
  // (the report comes last and marks a complete bundle). A file that says it has no
  // vocabulary ("none") gives a bundle driven by token ids.
  if (gguf) {
    if (auto ec = llvm::sys::fs::create_directories(outDir)) return error("cannot create " + outDir + ": " + ec.message());
    const gguf::Value* kind = ggufFile->find("tokenizer.ggml.model");
    if (!kind || kind->s == "none" || kind->s == "no_vocab") {
      llvm::sys::fs::remove(outDir + "/tokenizer.bin");
    } else {
      auto vocab = vocabFromGguf(*ggufFile);
      if (!vocab) return vocab.takeError();
      std::string why;
      if (!ek::write_vocab((outDir + "/tokenizer.bin").c_str(), *vocab, &why)) return error(why);
    }
  }
  auto summary = emitBundle(**module, outDir, bundle);
  if (!summary) return summary.takeError();
  result.bundle = *summary;
  return result;
}

}  // namespace edgecc
