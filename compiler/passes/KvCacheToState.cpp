#include "compiler/ir/SymbolicShape.h"
#include "compiler/passes/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace edgecc {
#define GEN_PASS_DEF_KVCACHETOSTATE
#include "compiler/passes/Passes.h.inc"

namespace {

using namespace mlir;

std::string argName(func::FuncOp f, unsigned i) {
  auto name = f.getArgAttrOfType<StringAttr>(i, "graph.name");
  return name ? name.str() : "input " + std::to_string(i);
}

// The symbol a dim is exactly equal to, or -1.
int exactSymbol(const SymDim& d) {
  if (d.c != 0) return -1;
  int found = -1;
  for (int s = 0; s < kMaxSymbols; ++s) {
    if (d.k[size_t(s)] == 0) continue;
    if (d.k[size_t(s)] != 1 || found >= 0) return -1;
    found = s;
  }
  return found;
}

struct Match {
  unsigned arg;
  graph::ConcatOp concat;
};

// Whether `v`, through casts and reshapes, picks rows of a table of `rows` rows.
bool indexesRows(Value v, int64_t rows) {
  for (Operation* user : v.getUsers()) {
    if (isa<graph::CastOp, graph::ReshapeOp>(user)) {
      if (indexesRows(user->getResult(0), rows)) return true;
    } else if (auto g = dyn_cast<graph::GatherOp>(user)) {
      if (g.getIndices() == v && g.getAxis() == 0 && g.getInput().getType().getDimSize(0) == rows) return true;
    } else if (auto e = dyn_cast<graph::EmbeddingOp>(user)) {
      if (e.getIndices() == v && e.getTable().getType().getDimSize(0) == rows) return true;
    }
  }
  return false;
}

// What the bundle's prefill()/decode() fill and read, marked on the signature so the emitter
// only prints: `graph.llm_input` on the [1, n] inputs it can fill, `graph.llm_output =
// "logits"` on the logits result (named so, or the only result). Inputs are placed by
// structure, whatever their names: an attention mask spans the past too (n = past + new), the
// token ids pick rows of a table as long as the vocabulary, other integer inputs of the new
// tokens are their positions. Names decide only what structure leaves open. The emitter
// refuses a model with inputs left over.
void markLlmInterface(func::FuncOp func, int pastSymbol) {
  Builder b(func.getContext());
  int64_t vocab = 0;
  for (unsigned o = 0; o < func.getNumResults(); ++o) {
    auto name = func.getResultAttrOfType<StringAttr>(o, "graph.name");
    if ((name && name.getValue() == "logits") || func.getNumResults() == 1) {
      func.setResultAttr(o, "graph.llm_output", b.getStringAttr("logits"));
      auto t = cast<RankedTensorType>(func.getResultTypes()[o]);
      if (t.getRank() >= 1) vocab = t.getShape().back();
    }
  }
  std::vector<std::pair<unsigned, std::string>> roles;
  int tokenInputs = 0;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto t = cast<RankedTensorType>(func.getArgument(i).getType());
    Type e = t.getElementType();
    if (t.getRank() != 2 || !(e.isInteger(64) || e.isInteger(32) || e.isF32())) continue;
    const SymDim n = symbolicShape(t)[1];
    std::string role;
    if (n.k[size_t(pastSymbol)] == 1) role = "attention_mask";
    else if (!n.isConstant() && !e.isF32()) role = vocab > 0 && indexesRows(func.getArgument(i), vocab) ? "token_ids" : "position_ids";
    tokenInputs += role == "token_ids";
    roles.push_back({i, role});
  }
  for (auto& [i, role] : roles) {
    const std::string name = argName(func, i);
    if (role.empty() || tokenInputs != 1)  // structure left it open: the conventional names
      role = name == "input_ids" ? "token_ids" : name == "position_ids" ? "position_ids" : name == "attention_mask" ? "attention_mask" : role;
    if (!role.empty()) func.setArgAttr(i, "graph.llm_input", b.getStringAttr(role));
  }
}

struct KvCacheToStatePass : impl::KvCacheToStateBase<KvCacheToStatePass> {
  using KvCacheToStateBase::KvCacheToStateBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    const SymbolBounds bounds = symbolBounds(module);
    for (auto func : module.getOps<func::FuncOp>()) {
      std::vector<Match> matches;
      std::string why;  // why the first candidate did not match, for the error
      std::vector<std::pair<int, std::string>> rejected;  // {past symbol, why} of candidates
      int pastSymbol = -1;
      auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
      for (BlockArgument arg : func.getArguments()) {
        auto type = cast<RankedTensorType>(arg.getType());
        if (type.getRank() != 4) continue;
        const SymShape dims = symbolicShape(type);
        const int sym = exactSymbol(dims[2]);
        if (sym < 0) continue;
        auto reject = [&](const std::string& reason) {
          rejected.push_back({sym, "input '" + argName(func, arg.getArgNumber()) + "' " + reason});
          if (why.empty()) why = rejected.back().second;
        };
        if (!dims[0].isConstant() || !dims[1].isConstant() || !dims[3].isConstant()) {
          reject("needs static batch, heads and head size (fix a named batch dim, e.g. --dim batch=1)");
          continue;
        }
        if (!arg.hasOneUse()) { reject("has more than one use"); continue; }
        auto concat = dyn_cast<graph::ConcatOp>(*arg.getUsers().begin());
        if (!concat || concat.getAxis() != 2 || concat.getNumOperands() != 2 || concat.getOperand(0) != arg) {
          reject("is not concatenated with new rows along axis 2");
          continue;
        }
        bool onlyAttention = llvm::all_of(concat->getUses(), [&](OpOperand& use) {
          auto att = dyn_cast<graph::AttentionOp>(use.getOwner());
          return use.getOwner() == ret || (att && (use.getOperandNumber() == 1 || use.getOperandNumber() == 2));
        });
        if (!onlyAttention) { reject("feeds more than attention (fuse-attention did not match its consumer)"); continue; }
        if (pastSymbol >= 0 && sym != pastSymbol) { reject("has another past length than the other caches"); continue; }
        pastSymbol = sym;
        matches.push_back({arg.getArgNumber(), concat});
      }
      // All or nothing: a cache input left behind would need the past length from a caller
      // that no longer tracks it.
      for (const auto& [sym, reason] : rejected)
        if (!matches.empty() && sym == pastSymbol) {
          func.emitError("only part of the KV cache matches: ") << reason;
          return signalPassFailure();
        }
      if (matches.empty()) {
        if (required) {
          func.emitError("no KV cache found: expected inputs [B, H, past, D] concatenated with new keys/values along "
                         "axis 2 and used by attention")
              << (why.empty() ? "" : "; " + why);
          return signalPassFailure();
        }
        continue;
      }
      if (size_t(pastSymbol) >= bounds.bounds.size() || bounds.bounds[size_t(pastSymbol)] < 1) {
        func.emitError("the past length of the KV cache needs an upper bound (the cache capacity)");
        return signalPassFailure();
      }
      const int64_t capacity = bounds.bounds[size_t(pastSymbol)];
      if (!graph::isKvStorage(kvType)) {
        func.emitError("--kv-type must be f32, f16 or q8_0, not '") << kvType << "'";
        return signalPassFailure();
      }
      for (const Match& m : matches) {
        const int64_t headSize = cast<RankedTensorType>(func.getArgument(m.arg).getType()).getDimSize(3);
        if (kvType == "q8_0" && headSize % 32 != 0) {
          func.emitError("--kv-type q8_0 stores blocks of 32 values, but input '")
              << argName(func, m.arg) << "' has head size " << headSize << " (use f16)";
          return signalPassFailure();
        }
      }
      OpBuilder b(func.getBody().front().getOperations().begin()->getContext());
      llvm::BitVector dropArgs(func.getNumArguments()), dropResults(func.getNumResults());
      for (auto [slot, m] : llvm::enumerate(matches)) {
        BlockArgument arg = func.getArgument(m.arg);
        b.setInsertionPointToStart(&func.getBody().front());
        auto cache = b.create<graph::KvCacheOp>(arg.getLoc(), arg.getType(), b.getI64IntegerAttr(int64_t(slot)),
                                                b.getI64IntegerAttr(capacity), b.getStringAttr(kvType));
        b.setInsertionPoint(m.concat);
        auto append = b.create<graph::KvAppendOp>(m.concat.getLoc(), m.concat.getType(), cache.getResult(),
                                                  m.concat.getOperand(1));
        for (OpOperand& use : llvm::make_early_inc_range(m.concat->getUses())) {
          if (use.getOwner() == ret) dropResults.set(use.getOperandNumber());
          else use.set(append.getResult());
        }
        arg.replaceAllUsesWith(cache.getResult());
        dropArgs.set(m.arg);
      }
      // Outputs that returned the cache are gone; the cache is the bundle's own.
      SmallVector<Value> kept;
      for (auto [i, v] : llvm::enumerate(ret.getOperands()))
        if (!dropResults.test(unsigned(i))) kept.push_back(v);
      ret->setOperands(kept);
      for (auto& m : matches)
        if (m.concat->use_empty()) m.concat->erase();
      func.eraseResults(dropResults);
      func.eraseArguments(dropArgs);
      module->setAttr("graph.kv_past_symbol", b.getI64IntegerAttr(pastSymbol));
      markLlmInterface(func, pastSymbol);
    }
  }
};

}  // namespace
}  // namespace edgecc
