#ifndef EDGECC_EXEC_OPS
#define EDGECC_EXEC_OPS

include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributes.td"

def Exec_Dialect : Dialect {
  let name = "exec";
  let summary = "Buffer-level program: kernel calls over arena slices and weights";
  let description = [{
    What the generated C++ does, op for op. Buffers are memrefs: `exec.alloc` is a slice
    of the one static arena (its `offset` is set by the memory planner), `exec.weight` a
    slice of the weights file, `exec.view` a reshape that aliases its source, and
    `exec.call` one kernel call writing its `outs`.
  }];
  let cppNamespace = "::edgecc::exec";
}

class Exec_Op<string mnemonic, list<Trait> traits = []> : Op<Exec_Dialect, mnemonic, traits>;

def Exec_AllocOp : Exec_Op<"alloc"> {
  let summary = "An arena buffer; `offset` (bytes) is assigned by the memory planner";
  let description = [{
    With symbolic dims, `dims` gives every dim as an expression over the symbols; the buffer
    is planned at the symbols' upper bounds.
  }];
  let arguments = (ins OptionalAttr<I64Attr>:$offset, OptionalAttr<AffineMapAttr>:$dims);
  let results = (outs AnyMemRef:$buffer);
  let assemblyFormat = "attr-dict `:` type($buffer)";
}

def Exec_StateOp : Exec_Op<"state"> {
  let summary = "A buffer that persists from call to call (a KV cache slot)";
  let description = [{
    Lives in the model's state memory, not the arena; `offset` (bytes) is assigned by the
    memory planner. Its shape is the full capacity; kernels are told how much is in use.
  }];
  let arguments = (ins I64Attr:$slot, OptionalAttr<I64Attr>:$offset);
  let results = (outs AnyMemRef:$buffer);
  let assemblyFormat = "attr-dict `:` type($buffer)";
}

def Exec_WeightOp : Exec_Op<"weight"> {
  let summary = "A constant buffer stored in the weights file";
  let arguments = (ins ElementsAttr:$value, OptionalAttr<StrAttr>:$name);
  let results = (outs AnyMemRef:$buffer);
  let assemblyFormat = "attr-dict `:` type($buffer)";
}

def Exec_ViewOp : Exec_Op<"view"> {
  let summary = "Reinterprets a buffer with another shape of the same size (no copy)";
  let arguments = (ins AnyMemRef:$source, OptionalAttr<AffineMapAttr>:$dims);
  let results = (outs AnyMemRef:$buffer);
  let assemblyFormat = "$source attr-dict `:` type($source) `->` type($buffer)";
  let hasVerifier = 1;
}

def Exec_CallOp : Exec_Op<"call", [AttrSizedOperandSegments]> {
  let summary = "Calls a runtime kernel";
  let description = [{
    `ints` and `floats` fill the kernel's attribute slots in order (see
    runtime/kernels/kernels.h); `sym_ints`, when present, fills the int slots with
    expressions over the symbolic dims, evaluated at run time. `source` names the op it came
    from for the generated comment. `kernel` is a portable kernel (runtime/kernels/kernels.h)
    or a variant `isa::kernel` (runtime/kernels/variants.h); `why` says why it was chosen,
    with its tile sizes, for report.json.
  }];
  let arguments = (ins StrAttr:$kernel, Variadic<AnyMemRef>:$ins,
                       Variadic<AnyMemRef>:$outs, DenseI64ArrayAttr:$ints,
                       DenseF32ArrayAttr:$floats, OptionalAttr<StrAttr>:$source,
                       OptionalAttr<AffineMapAttr>:$sym_ints, OptionalAttr<StrAttr>:$why);
  let assemblyFormat = [{
    $kernel (`ins` `(` $ins^ `:` type($ins) `)`)? `outs` `(` $outs `:` type($outs) `)` attr-dict
  }];
  let hasVerifier = 1;
}

#endif
