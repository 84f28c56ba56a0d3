#include "codegen/WeightsWriter.h"

#include <cstring>
#include <vector>

#include "compiler/ir/ConstantData.h"
#include "llvm/Support/MemoryBuffer.h"
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
  file_.write(reinterpret_cast<const char*>(pad.data()), std::streamsize(pad.size()));
  file_.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  size_ = offset + int64_t(bytes.size());
  offsets_[value] = offset;
  return offset;
}

bool WeightsWriter::finish(std::string* error) {
  // The checksum is taken over the payload as written (read back mapped).
  file_.flush();
  uint64_t checksum = ek::payload_checksum(nullptr, 0);
  if (size_ > 0) {
    auto written = llvm::MemoryBuffer::getFileSlice(path_, uint64_t(size_), sizeof(ek::WeightsHeader), /*IsVolatile=*/false);
    if (!written) {
      if (error) *error = path_ + ": cannot read back the weights written";
      return false;
    }
    checksum = ek::payload_checksum(reinterpret_cast<const uint8_t*>((*written)->getBufferStart()), size_t(size_));
  }
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
