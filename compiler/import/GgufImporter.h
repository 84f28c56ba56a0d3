// GGUF (llama.cpp's model file) -> `graph` dialect, for the decoder architectures `llama`
// (Llama, TinyLlama, SmolLM: grouped-query attention, tied or untied head) and `qwen2` (adds
// Q/K/V biases). Weights stay as stored (f32, f16, q8_0, q4_0 blocks) and feed
// graph.linear / graph.embedding directly.
//
// The graph has the same form as a PyTorch export with an explicit cache: inputs
// `input_ids` [1, seq] (i32) and `past_k.N` / `past_v.N` [1, kv_heads, past, head_dim],
// outputs `logits` [1, 1, vocab] (the last position only, unless all_logits: [1, seq, vocab]) and `present_k.N` / `present_v.N`.
// So the KV-cache pass turns both importers' graphs into an in-place cache the same way.
#pragma once

#include <string>
#include <vector>

#include "compiler/import/GgufFile.h"
#include "llvm/Support/Error.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"

namespace edgecc {

constexpr int64_t kDefaultMaxContext = 4096;

struct GgufImportOptions {
  int64_t max_context = 0;  // bound of `past` (the cache capacity); 0: the model's context length,
                            // at most kDefaultMaxContext
  int64_t max_batch = 0;    // bound of `seq` (tokens per call); 0: min(max_context, 64)
  bool all_logits = false;  // logits for every position (perplexity); else the last one only
  // > 0: the bisection probe (`edgecc bisect MODEL.gguf`): exactly this many tokens from
  // position 0, no KV cache inputs, logits for every position, and every intermediate that
  // llama.cpp names (attn_norm-L, kqv_out-L, attn_out-L, ffn_inp-L, ffn_norm-L, ffn_out-L,
  // l_out-L, result_norm) also a result under that name, in graph order after the logits.
  int64_t probe_tokens = 0;
};

// The intermediates a probe exposes, in graph order (llama.cpp's callback names).
std::vector<std::string> ggufProbeValueNames(int64_t layers);

// Errors read "FILE: reason" and name the tensor or key at fault. Large weights are not copied:
// the module's blobs point into the file's mapping and keep it alive, so `file` may close
// afterwards.
llvm::Expected<mlir::OwningOpRef<mlir::ModuleOp>> importGguf(mlir::MLIRContext& ctx, const gguf::File& file,
                                                             const GgufImportOptions& options);

bool isGgufFile(const std::string& path);  // by its magic

}  // namespace edgecc
