#ifndef EDGECC_GRAPH_DIALECT
#define EDGECC_GRAPH_DIALECT

include "mlir/IR/OpBase.td"

def Graph_Dialect : Dialect {
  let name = "graph";
  let summary = "Tensor-level transformer ops";
  let description = [{
    Value-semantics ops on statically shaped tensors: what an imported model computes,
    before memory exists. Fusion passes rewrite decomposed patterns into the fused ops
    (rms_norm, layer_norm, silu, gelu, attention) that kernels implement directly.
  }];
  let cppNamespace = "::edgecc::graph";
  let hasConstantMaterializer = 1;
}

#endif
