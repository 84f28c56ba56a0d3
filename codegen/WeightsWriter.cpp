#include "codegen/WeightsWriter.h"

#include <cstring>
#include <vector>

#include "compiler/ir/ConstantData.h"
#include "runtime/weights_format.h"

namespace edgecc {

WeightsWriter::WeightsWriter(const std::string& path)
    : path_(path), file_(path, std::ios::binary | std::ios::trunc), checksum_(ek::fnv1a64(nullptr, 0)) {
  // Room for the header, written last when the size and checksum are known.
  const ek::WeightsHeader placeholder{};
  file_.write(reinterpret_cast<const char*>(&placeholder), sizeof placeholder);
}

int64_t WeightsWriter::add(mlir::ElementsAttr value) {
  auto it = offsets_.find(value);
  if (it != offsets_.end()) return it->second;
  const int64_t offset = (size_ + int64_t(ek::kWeightsAlign) - 1) / int64_t(ek::kWeightsAlign) * int64_t(ek::kWeightsAlign);
  const std::vector<uint8_t> pad(size_t(offset - size_), 0);
  const std::vector<uint8_t> bytes = elementsBytes(value);
  checksum_ = ek::fnv1a64(pad.data(), pad.size(), checksum_);
  checksum_ = ek::fnv1a64(bytes.data(), bytes.size(), checksum_);
  file_.write(reinterpret_cast<const char*>(pad.data()), std::streamsize(pad.size()));
  file_.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  size_ = offset + int64_t(bytes.size());
  offsets_[value] = offset;
  return offset;
}

bool WeightsWriter::finish(std::string* error) {
  ek::WeightsHeader h{};
  std::memcpy(h.magic, ek::kWeightsMagic, sizeof h.magic);
  h.version = ek::kWeightsVersion;
  h.payload_bytes = uint64_t(size_);
  h.checksum = checksum_;
  file_.seekp(0);
  file_.write(reinterpret_cast<const char*>(&h), sizeof h);
  file_.close();
  if (!file_) {
    if (error) *error = path_ + ": cannot write";
    return false;
  }
  return true;
}

}  // namespace edgecc
