// Weights that live in file mappings instead of the heap. A model's tensors stay in the mapped
// model file (GGUF), and once the heap holds heapConstantBytes() of constants, further large
// constants (packed, quantized, fused, imported from ONNX) are written to an unlinked scratch
// file and mapped back read-only. Mapped pages are read in when a pass or the weights writer
// reads them and dropped again after, so compiling a model of any size takes about
// heapConstantBytes() plus its largest tensors, not the whole model. Small models never touch
// the scratch file.
#pragma once

#include <memory>
#include <string>

#include "llvm/ADT/ArrayRef.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace edgecc {

// A read-only blob over `bytes`, which lie in a file mapping that `keep` holds open. Freeing the
// blob drops its pages from memory.
mlir::AsmResourceBlob mappedBlob(llvm::ArrayRef<char> bytes, std::shared_ptr<const void> keep);

// A blob that owns `bytes`. It stays on the heap while the heap holds less than
// heapConstantBytes() of such blobs; beyond that, `bytes` go to the scratch file and the blob
// maps them back read-only (freeing it unmaps them and frees their space in the file). When
// the scratch file cannot be written (no space in TMPDIR), the bytes stay on the heap.
mlir::AsmResourceBlob ownedBlob(std::string&& bytes);

// 512 MiB, or $EDGECC_COMPILE_HEAP_BYTES (0: every large constant goes to the scratch file).
size_t heapConstantBytes();

// Drops the resident pages of a constant that lives in a file mapping; the next read brings
// them back from the file. Constants on the heap are left alone.
void dropResidentPages(mlir::ElementsAttr attr);

}  // namespace edgecc
