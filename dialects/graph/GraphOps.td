#ifndef EDGECC_GRAPH_OPS
#define EDGECC_GRAPH_OPS

include "dialects/graph/GraphDialect.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"

class Graph_Op<string mnemonic, list<Trait> traits = []>
    : Op<Graph_Dialect, mnemonic, !listconcat(traits, [Pure])>;

//===----------------------------------------------------------------------===//
// Constants and weights
//===----------------------------------------------------------------------===//

def Graph_ConstantOp : Graph_Op<"constant", [ConstantLike]> {
  let summary = "A constant tensor or a model weight";
  let description = [{
    Small constants hold a dense attribute; weights hold a `dense_resource` blob so a large
    model's bytes are never copied into attributes. `name` keeps the ONNX initializer name.
  }];
  let arguments = (ins ElementsAttr:$value, OptionalAttr<StrAttr>:$name);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Graph_SymbolicOp : Graph_Op<"symbolic"> {
  let summary = "A small int64 tensor whose values are affine in the symbolic dims";
  let description = [{
    Shape arithmetic on symbolic dims (positions from a past length, a sequence length used as
    data) yields values known only at run time: `values` gives them as expressions over the
    symbols, evaluated when the bundle binds the symbols from its inputs.
  }];
  let arguments = (ins AffineMapAttr:$values);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def Graph_RangeOp : Graph_Op<"range"> {
  let summary = "output[i] = start + i * delta for i < the result's (possibly symbolic) length";
  let arguments = (ins AnyRankedTensor:$start, AnyRankedTensor:$delta);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$start `,` $delta attr-dict `:` type($start) `,` type($delta) `->` type($output)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Graph_UnaryOp<string mnemonic> : Graph_Op<mnemonic, [SameOperandsAndResultType]> {
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def Graph_NegOp : Graph_UnaryOp<"neg">;
def Graph_AbsOp : Graph_UnaryOp<"abs">;
def Graph_SqrtOp : Graph_UnaryOp<"sqrt">;
def Graph_ReciprocalOp : Graph_UnaryOp<"reciprocal">;
def Graph_ExpOp : Graph_UnaryOp<"exp">;
def Graph_LogOp : Graph_UnaryOp<"log">;
def Graph_SigmoidOp : Graph_UnaryOp<"sigmoid">;
def Graph_TanhOp : Graph_UnaryOp<"tanh">;
def Graph_ErfOp : Graph_UnaryOp<"erf">;
def Graph_CosOp : Graph_UnaryOp<"cos">;
def Graph_SinOp : Graph_UnaryOp<"sin">;
def Graph_ReluOp : Graph_UnaryOp<"relu">;
def Graph_FloorOp : Graph_UnaryOp<"floor">;
def Graph_CeilOp : Graph_UnaryOp<"ceil">;
def Graph_NotOp : Graph_UnaryOp<"logical_not"> { let hasVerifier = 1; }
def Graph_SiluOp : Graph_UnaryOp<"silu"> { let summary = "x * sigmoid(x) (fused)"; }
def Graph_SwigluOp : Graph_Op<"swiglu"> {
  let summary = "silu(x[..., :F]) * x[..., F:] for x [..., 2F] (fused gated MLP activation)";
  let description = [{
    The gate and up projections of a SwiGLU MLP computed by one `linear` over their
    concatenated rows, then gated in one pass: no slices, no separate silu and mul.
  }];
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Graph_GeluOp : Graph_Op<"gelu", [SameOperandsAndResultType]> {
  let summary = "GELU (fused); approximate = true selects the tanh form";
  let arguments = (ins AnyRankedTensor:$input, DefaultValuedAttr<BoolAttr, "false">:$approximate);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def Graph_CastOp : Graph_Op<"cast"> {
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

class Graph_BinaryOp<string mnemonic, list<Trait> traits = []> : Graph_Op<mnemonic, traits> {
  let summary = "Elementwise op with numpy broadcasting";
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)";
  let hasVerifier = 1;
}

def Graph_AddOp : Graph_BinaryOp<"add", [Commutative]>;
def Graph_SubOp : Graph_BinaryOp<"sub">;
def Graph_MulOp : Graph_BinaryOp<"mul", [Commutative]>;
def Graph_DivOp : Graph_BinaryOp<"div">;
def Graph_PowOp : Graph_BinaryOp<"pow">;
def Graph_MaxOp : Graph_BinaryOp<"max", [Commutative]>;
def Graph_MinOp : Graph_BinaryOp<"min", [Commutative]>;
def Graph_EqualOp : Graph_BinaryOp<"equal", [Commutative]>;
def Graph_LessOp : Graph_BinaryOp<"less">;
def Graph_LessEqualOp : Graph_BinaryOp<"less_equal">;
def Graph_GreaterOp : Graph_BinaryOp<"greater">;
def Graph_GreaterEqualOp : Graph_BinaryOp<"greater_equal">;
def Graph_AndOp : Graph_BinaryOp<"logical_and", [Commutative]>;
def Graph_OrOp : Graph_BinaryOp<"logical_or", [Commutative]>;
def Graph_XorOp : Graph_BinaryOp<"logical_xor", [Commutative]>;

def Graph_WhereOp : Graph_Op<"where"> {
  let arguments = (ins AnyRankedTensor:$condition, AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$condition `,` $lhs `,` $rhs attr-dict `:` type($condition) `,` type($lhs) `,` type($rhs) `->` type($output)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def Graph_MatMulOp : Graph_Op<"matmul"> {
  let summary = "Batched matrix product with numpy semantics";
  let arguments = (ins AnyRankedTensor:$lhs, AnyRankedTensor:$rhs);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs) `->` type($output)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Layout (static shapes: the result type carries the target shape)
//===----------------------------------------------------------------------===//

def Graph_ReshapeOp : Graph_Op<"reshape"> {
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Graph_TransposeOp : Graph_Op<"transpose"> {
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Graph_ConcatOp : Graph_Op<"concat"> {
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, $output)";
  let hasVerifier = 1;
}

def Graph_SliceOp : Graph_Op<"slice"> {
  let summary = "Strided slice: output[i] = input[offsets + i * steps] per axis";
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$offsets, DenseI64ArrayAttr:$steps);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

def Graph_GatherOp : Graph_Op<"gather"> {
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$indices, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input `,` $indices attr-dict `:` type($input) `,` type($indices) `->` type($output)";
  let hasVerifier = 1;
}

def Graph_GatherElementsOp : Graph_Op<"gather_elements"> {
  let summary = "output[i] = input[i with its `axis` coordinate replaced by indices[i]]";
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$indices, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input `,` $indices attr-dict `:` type($input) `,` type($indices) `->` type($output)";
  let hasVerifier = 1;
}

def Graph_ExpandOp : Graph_Op<"expand"> {
  let summary = "Broadcast to the result shape";
  let arguments = (ins AnyRankedTensor:$input);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions and normalization
//===----------------------------------------------------------------------===//

class Graph_ReduceOp<string mnemonic> : Graph_Op<mnemonic> {
  let summary = "Reduction over `axes`; the result type says whether dims are kept";
  let arguments = (ins AnyRankedTensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Graph_ReduceSumOp : Graph_ReduceOp<"reduce_sum">;
def Graph_ReduceMeanOp : Graph_ReduceOp<"reduce_mean">;
def Graph_ReduceMaxOp : Graph_ReduceOp<"reduce_max">;
def Graph_ReduceMinOp : Graph_ReduceOp<"reduce_min">;
def Graph_ReduceProdOp : Graph_ReduceOp<"reduce_prod">;

class Graph_ArgOp<string mnemonic> : Graph_Op<mnemonic> {
  let summary = "int64 index of the extreme element along `axis` (kept as a dim of 1): the first of ties, or the last";
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis, BoolAttr:$select_last_index);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  let hasVerifier = 1;
}

def Graph_ArgMaxOp : Graph_ArgOp<"arg_max">;
def Graph_ArgMinOp : Graph_ArgOp<"arg_min">;

def Graph_TopKOp : Graph_Op<"top_k"> {
  let summary = "The k largest (or smallest) elements along `axis`, in order, and their int64 indices";
  let description = [{
    k is the results' size on the axis. Equal values keep their input order (the lower index
    first), as ONNX specifies.
  }];
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis, BoolAttr:$largest);
  let results = (outs AnyRankedTensor:$values, AnyRankedTensor:$indices);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($values) `,` type($indices)";
  let hasVerifier = 1;
}

def Graph_CumSumOp : Graph_Op<"cumsum", [SameOperandsAndResultType]> {
  let summary = "Running sums along `axis`; exclusive leaves out the element itself, reverse sums from the end";
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis, BoolAttr:$exclusive, BoolAttr:$reverse);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def Graph_SoftmaxOp : Graph_Op<"softmax", [SameOperandsAndResultType]> {
  let arguments = (ins AnyRankedTensor:$input, I64Attr:$axis);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def Graph_LayerNormOp : Graph_Op<"layer_norm"> {
  let summary = "(x - mean) / sqrt(var + eps) * scale [+ bias] over axes [axis, rank)";
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale, Optional<AnyRankedTensor>:$bias,
                       I64Attr:$axis, F32Attr:$epsilon);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input `,` $scale (`,` $bias^)? attr-dict `:` type($input) `,` type($scale) (`,` type($bias)^)? `->` type($output)";
  let hasVerifier = 1;
}

def Graph_RmsNormOp : Graph_Op<"rms_norm"> {
  let summary = "x / sqrt(mean(x^2) + eps) * scale over the last axis";
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$scale, F32Attr:$epsilon);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input `,` $scale attr-dict `:` type($input) `,` type($scale) `->` type($output)";
  let hasVerifier = 1;
}

def Graph_ConvOp : Graph_Op<"conv"> {
  let summary = "Convolution (cross-correlation) of [N, C, spatial...] with [M, C / group, kernel...] [+ bias [M]]";
  let description = [{
    Per spatial dim d: output position o reads input positions o * strides[d] - pads[d] +
    k * dilations[d] for k < kernel[d]; positions outside the input read zero. `pads` are the
    leading pads; the output shape says where each dim ends.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight, Optional<AnyRankedTensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input `,` $weight (`,` $bias^)? attr-dict `:` type($input) `,` type($weight) (`,` type($bias)^)? `->` type($output)";
  let hasVerifier = 1;
}

def Graph_AttentionOp : Graph_Op<"attention"> {
  let summary = "softmax(q k^T * scale + mask) v with grouped-query heads";
  let description = [{
    q: [B, H, S, D], k: [B, Hkv, T, D], v: [B, Hkv, T, Dv], optional additive mask
    broadcastable to [B, H, S, T]. H must be a multiple of Hkv: query head h reads
    key/value head h / (H / Hkv). With `causal`, query i (of S) sees keys 0 .. T - S + i: the
    last S keys are the queries' own positions, the ones before them the cache.
  }];
  let arguments = (ins AnyRankedTensor:$query, AnyRankedTensor:$key, AnyRankedTensor:$value,
                       Optional<AnyRankedTensor>:$mask, F32Attr:$scale, UnitAttr:$causal);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$query `,` $key `,` $value (`,` $mask^)? attr-dict `:` type($query) `,` type($key) `,` type($value) (`,` type($mask)^)? `->` type($output)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// LLM ops: weights as stored (quantized blocks), rotary positions, the KV cache
//===----------------------------------------------------------------------===//

def Graph_LinearOp : Graph_Op<"linear"> {
  let summary = "input [..., K] times weight^T, weight kept as stored: f32, f16 or ggml blocks";
  let description = [{
    `weight` holds N rows of K values in `format`: "f32" and "f16" are [N, K] of that type;
    "q8_0" and "q4_0" are i8 [N, K / 32 * bytes-per-block] holding llama.cpp's blocks of 32
    (an f16 scale, then 32 int8 or 16 bytes of 4-bit nibbles). The result is f32 [..., N].
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$weight, StrAttr:$format);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `,` type($weight) `->` type($output)";
  let hasVerifier = 1;
}

def Graph_EmbeddingOp : Graph_Op<"embedding"> {
  let summary = "Rows of a (possibly quantized) table: output[..., :] = table[indices[...]]";
  let description = [{
    `table` holds rows in `format` as for `linear`; the result is f32 [indices..., D]. An
    index outside the table gives a zero row (never a read outside it); the LLM interface
    refuses such ids before running.
  }];
  let arguments = (ins AnyRankedTensor:$table, AnyRankedTensor:$indices, StrAttr:$format);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$table `,` $indices attr-dict `:` type($table) `,` type($indices) `->` type($output)";
  let hasVerifier = 1;
}

def Graph_RopeOp : Graph_Op<"rope"> {
  let summary = "Rotary position embedding of [B, H, S, D] at the given positions [S]";
  let description = [{
    Rotates pairs of the last axis by position * theta^(-2i/D). `interleaved` pairs adjacent
    elements (2i, 2i+1), as llama.cpp's `llama` architecture does; otherwise the halves
    (i, i + D/2), as Hugging Face models and llama.cpp's NEOX mode do.
  }];
  let arguments = (ins AnyRankedTensor:$input, AnyRankedTensor:$positions, F32Attr:$theta, BoolAttr:$interleaved);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$input `,` $positions attr-dict `:` type($input) `,` type($positions) `->` type($output)";
  let hasVerifier = 1;
}

// The KV cache is state that outlives one call, so its two ops are not Pure.
def Graph_KvCacheOp : Op<Graph_Dialect, "kv_cache", [MemoryEffects<[MemRead]>]> {
  let summary = "The keys or values cached so far for one layer: [B, H, past, D]";
  let description = [{
    Reads cache `slot`, which holds up to `capacity` positions. It replaces a model input
    `past_*`: the bundle owns the cache and binds the past length from its position.
    `storage` is how the rows are kept: "f32", "f16" or "q8_0" (blocks of 32 values under an
    f16 scale, as llama.cpp's `--cache-type-k/v q8_0`). The value read is f32 whatever the
    storage: appending rounds to it, attention reads it directly.
  }];
  let arguments = (ins I64Attr:$slot, I64Attr:$capacity, DefaultValuedAttr<StrAttr, "\"f32\"">:$storage);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def Graph_KvAppendOp : Op<Graph_Dialect, "kv_append", [MemoryEffects<[MemWrite]>]> {
  let summary = "Appends [B, H, S, D] to a cache in place; the value is concat(cache, update, axis 2)";
  let arguments = (ins AnyRankedTensor:$cache, AnyRankedTensor:$update);
  let results = (outs AnyRankedTensor:$output);
  let assemblyFormat = "$cache `,` $update attr-dict `:` type($cache) `,` type($update) `->` type($output)";
  let hasVerifier = 1;
}

#endif
