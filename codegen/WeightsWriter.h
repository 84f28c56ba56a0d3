// Streams constant tensors into the weights file (64-byte aligned), one at a time, so
// writing a large model needs memory for one tensor, not the model. The checksum is taken
// as the bytes go out, one section at a time (reading the file back would map all of it).
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "llvm/ADT/DenseMap.h"
#include "mlir/IR/BuiltinAttributes.h"

namespace edgecc {

class WeightsWriter {
 public:
  // Opens `path` for writing; check ok().
  explicit WeightsWriter(const std::string& path);
  bool ok() const { return bool(file_); }

  // Appends `value` and returns its payload offset; identical attributes are stored once.
  int64_t add(mlir::ElementsAttr value);
  int64_t payloadBytes() const { return size_; }

  // Writes the header (magic, version, size, checksum). Returns false on I/O failure.
  bool finish(std::string* error);

 private:
  std::string path_;
  std::ofstream file_;
  int64_t size_ = 0;
  llvm::DenseMap<mlir::Attribute, int64_t> offsets_;
  std::vector<uint8_t> section_;  // the payload's current checksum section, not yet hashed
  uint64_t checksum_ = 0;         // the sections hashed so far, folded

  void append(const uint8_t* data, size_t bytes);
};

}  // namespace edgecc
