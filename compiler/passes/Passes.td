#ifndef EDGECC_PASSES
#define EDGECC_PASSES

include "mlir/Pass/PassBase.td"

def FoldConstants : Pass<"edgecc-fold-constants", "mlir::ModuleOp"> {
  let summary = "Evaluate graph ops whose operands are all constants";
  let description = [{
    Runs the runtime's own kernels on constant operands and replaces the op with a
    graph.constant, so what is folded is computed by exactly the code the bundle would run.
  }];
}

def DeadCodeElimination : Pass<"edgecc-dce", "mlir::ModuleOp"> {
  let summary = "Erase graph ops whose results are unused";
}

def FuseNorms : Pass<"edgecc-fuse-norms", "mlir::ModuleOp"> {
  let summary = "Recognize decomposed RMSNorm and LayerNorm and fuse them";
  let description = [{
    RMSNorm:   x * (1 / sqrt(mean(x^2) + eps)) * w   (also x / sqrt(...), pow(x, 2) or x * x)
    LayerNorm: (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * w + b
  }];
}

def FuseActivations : Pass<"edgecc-fuse-activations", "mlir::ModuleOp"> {
  let summary = "Recognize SiLU and GELU (erf and tanh forms)";
}

def FuseAttention : Pass<"edgecc-fuse-attention", "mlir::ModuleOp"> {
  let summary = "Fuse softmax(q k^T * scale + mask) v into graph.attention";
  let description = [{
    Also absorbs the grouped-query "repeat_kv" pattern (unsqueeze, expand, reshape of the
    key/value heads), so the fused op reads the un-repeated cache.
  }];
}

def KvCacheToState : Pass<"edgecc-kv-cache", "mlir::ModuleOp"> {
  let summary = "Turn explicit past/present key-value tensors into an in-place cache";
  let description = [{
    Exports pass the cache through the graph: an input `past` [B, H, past, D] is concatenated
    with the new keys along axis 2 and returned as `present`, to be fed back next call. Each
    such pair whose concatenation only feeds attention (and the output) becomes
    graph.kv_cache + graph.kv_append: the bundle owns the cache, sized for the past
    symbol's bound, appends in place and binds `past` from its own position. Inputs and
    outputs of the pattern leave the signature. Sets `graph.kv_past_symbol`; with
    `required`, a model without the pattern is an error naming what did not match.
    `kv-type` is the storage of every cache (graph.kv_cache's `storage`).
  }];
  let options = [Option<"required", "required", "bool", "true", "Fail when no KV cache is found">,
                 Option<"kvType", "kv-type", "std::string", "\"f32\"", "How cached rows are stored: f32, f16 or q8_0">];
}

def LowerToExec : Pass<"edgecc-lower-to-exec", "mlir::ModuleOp"> {
  let summary = "Lower graph ops to exec kernel calls on buffers";
  let description = [{
    Each graph op becomes an exec.alloc for its result plus one exec.call; reshapes become
    exec.view aliases; constants become exec.weight. Results returned by the function are
    written straight into the caller's output buffers (destination passing).
  }];
  let dependentDialects = ["::edgecc::exec::ExecDialect", "::mlir::memref::MemRefDialect"];
}

def PlanMemory : Pass<"edgecc-plan-memory", "mlir::ModuleOp"> {
  let summary = "Assign every exec.alloc an offset in one static arena";
  let description = [{
    Live ranges come from the op order (views extend their source's range); buffers are
    placed greedily by decreasing size at the lowest offset that overlaps no buffer live at
    the same time (TFLite's arena strip packing). Sets `exec.arena_bytes` on the module.
  }];
  let options = [Option<"alignment", "alignment", "int64_t", "64", "Byte alignment of every buffer">];
}

def QuantizeWeights : Pass<"edgecc-quantize-weights", "mlir::ModuleOp"> {
  let summary = "Convert float linear and embedding weights to a block format (--weights)";
  let description = [{
    Every f32/f16 constant read only as a weight (graph.linear's right-hand side, or an
    embedding table) whose rows are whole blocks becomes `weights` with ggml's arithmetic
    (compiler/quantize), so a GGUF file quantized here and by llama-quantize holds the same
    bytes. The head (embedding tables and a linear that produces a function result) takes
    `head` instead; empty: q8_0 when `weights` is q4_0 and q6_k when it is a k-quant
    (llama.cpp's mixes also keep the output layer at higher precision), else `weights`.
    Rows that are not whole 256-value super-blocks take q8_0 under a k-quant.
    With `statistics` (a calibration bundle's input moments), each weight they cover is
    rounded with error feedback (compiler/quantize/Gptq.h): same format, smaller output error.
  }];
  let options = [
    Option<"weights", "weights", "std::string", "\"\"", "Format for weights: f32, f16, q8_0, q4_0, q6_k, q5_k, q4_k, q3_k, q2_k">,
    Option<"head", "head", "std::string", "\"\"", "Format for the embedding table and output head">,
    ListOption<"overrides", "overrides", "std::string", "Per-tensor formats, NAME=FORMAT (NAME: the weight constant's name)">,
    Option<"statistics", "statistics", "std::string", "\"\"", "Input statistics from calibration text (runtime/input_statistics.h): weights they cover get error-feedback rounding">
  ];
}

def AttachTarget : Pass<"edgecc-attach-target", "mlir::ModuleOp"> {
  let summary = "Attach a device profile to the module (edgecc.target)";
  let description = [{
    The compiler attaches the profile named by --target before the first pass; this pass
    does the same for `edgecc-opt`, so each pass that reads the target can be tested alone.
  }];
  let options = [Option<"target", "target", "std::string", "\"x86-64-avx2\"", "Device profile name (edgecc targets)">];
}

def MatMulToLinear : Pass<"edgecc-matmul-to-linear", "mlir::ModuleOp"> {
  let summary = "Turn matmuls by a constant f32 matrix into graph.linear";
  let description = [{
    x [..., K] times a constant W [K, N] is `linear` with the rows of W^T (transposed here,
    once): ONNX exports then get the same packed kernels, tiles and threads as GGUF weights.
  }];
}

def FuseGateUp : Pass<"edgecc-fuse-gate-up", "mlir::ModuleOp"> {
  let summary = "Fuse silu(linear(x, Wg)) * linear(x, Wu) into linear(x, [Wg; Wu]) + swiglu";
  let description = [{
    The two projections of a SwiGLU MLP read the same input: one `linear` over the
    concatenated weight rows quantizes and reads it once, and `graph.swiglu` gates the two
    halves in one pass. Same arithmetic per output, so the results are unchanged.
  }];
}

def PackWeights : Pass<"edgecc-pack-weights", "mlir::ModuleOp"> {
  let summary = "Rearrange quantized linear weights into the layout of the target's kernel";
  let description = [{
    A weight read by `graph.linear` (and perhaps by `graph.embedding`, for a tied output
    head) in f32, f16, q8_0 or q4_0 becomes f32x8, f16x8, q8_0x8 or q4_0x8
    (runtime/weight_format.h) when the target has
    a kernel variant for that format and the weight's rows come in whole groups. The bytes
    are rearranged once, here; the bundle never repacks at load.
  }];
}

def SelectKernels : Pass<"edgecc-select-kernels", "mlir::ModuleOp"> {
  let summary = "Choose each call's kernel variant and tile sizes for the target";
  let description = [{
    Replaces an `exec.call` of a portable kernel by the first variant of
    runtime/kernels/variants.h whose CPU features the target has and that takes the call's
    weight format; fills the variant's tile slots from the target's registers and caches;
    records on every call why it runs what it runs (`why`, for report.json).
  }];
}

#endif
