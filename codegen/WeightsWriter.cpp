#include "codegen/WeightsWriter.h"

#include <cstring>
#include <fstream>

#include "compiler/ir/ConstantData.h"
#include "runtime/weights_format.h"

namespace edgecc {

int64_t WeightsWriter::add(mlir::ElementsAttr value) {
  auto it = offsets_.find(value);
  if (it != offsets_.end()) return it->second;
  const int64_t offset = int64_t((payload_.size() + ek::kWeightsAlign - 1) / ek::kWeightsAlign * ek::kWeightsAlign);
  std::vector<uint8_t> bytes = elementsBytes(value);
  payload_.resize(size_t(offset), 0);
  payload_.insert(payload_.end(), bytes.begin(), bytes.end());
  offsets_[value] = offset;
  return offset;
}

bool WeightsWriter::write(const std::string& path, std::string* error) const {
  ek::WeightsHeader h{};
  std::memcpy(h.magic, ek::kWeightsMagic, sizeof h.magic);
  h.version = ek::kWeightsVersion;
  h.payload_bytes = payload_.size();
  h.checksum = ek::fnv1a64(payload_.data(), payload_.size());
  std::ofstream f(path, std::ios::binary);
  f.write(reinterpret_cast<const char*>(&h), sizeof h);
  f.write(reinterpret_cast<const char*>(payload_.data()), std::streamsize(payload_.size()));
  if (!f) {
    if (error) *error = path + ": cannot write";
    return false;
  }
  return true;
}

}  // namespace edgecc
