// Lays out constant tensors in the weights file (64-byte aligned) and writes it.
#pragma once

#include <string>
#include <vector>

#include "llvm/ADT/DenseMap.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace edgecc {

class WeightsWriter {
 public:
  // Returns the payload offset of `value`; identical attributes are stored once.
  int64_t add(mlir::ElementsAttr value);
  int64_t payloadBytes() const { return int64_t(payload_.size()); }
  // Header (magic, version, size, checksum) + payload. Returns false on I/O failure.
  bool write(const std::string& path, std::string* error) const;

 private:
  std::vector<uint8_t> payload_;
  llvm::DenseMap<mlir::Attribute, int64_t> offsets_;
};

}  // namespace edgecc
