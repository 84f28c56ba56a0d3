#include "codegen/WeightsWriter.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "compiler/ir/ConstantData.h"
#include "runtime/weights_format.h"

namespace edgecc {

WeightsWriter::WeightsWriter(const std::string& path)
    : path_(path), file_(path, std::ios::binary | std::ios::trunc) {
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
  append(pad.data(), pad.size());
  append(bytes.data(), bytes.size());
  offsets_[value] = offset;
  return offset;
}

void WeightsWriter::append(const uint8_t* data, size_t bytes) {
  file_.write(reinterpret_cast<const char*>(data), std::streamsize(bytes));
  size_ += int64_t(bytes);
  while (bytes > 0) {
    const size_t n = std::min(bytes, ek::kChecksumSection - section_.size());
    section_.insert(section_.end(), data, data + n);
    data += n;
    bytes -= n;
    if (section_.size() == ek::kChecksumSection) {
      checksum_ = ek::fold_section(checksum_, ek::section_hash(section_.data(), section_.size()));
      section_.clear();
    }
  }
}

bool WeightsWriter::finish(std::string* error) {
  // payload_checksum: whole sections were folded as they filled; the last one is partial.
  uint64_t checksum = checksum_;
  if (!section_.empty()) checksum = ek::fold_section(checksum, ek::section_hash(section_.data(), section_.size()));
  ek::WeightsHeader h{};
  std::memcpy(h.magic, ek::kWeightsMagic, sizeof h.magic);
  h.version = ek::kWeightsVersion;
  h.payload_bytes = uint64_t(size_);
  h.checksum = checksum;
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
