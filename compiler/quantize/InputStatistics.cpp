#include "compiler/quantize/InputStatistics.h"

#include <cstring>

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/MemoryBuffer.h"

namespace edgecc {

llvm::Expected<InputStatistics> readInputStatistics(const std::string& path) {
  auto fail = [&](const std::string& why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", (path + ": " + why).c_str());
  };
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false, /*RequiresNullTerminator=*/false);
  if (!buffer) return fail("cannot read (" + buffer.getError().message() + ")");
  llvm::StringRef rest = (*buffer)->getBuffer();
  auto take = [&](void* to, size_t n) {
    if (rest.size() < n) return false;
    std::memcpy(to, rest.data(), n);
    rest = rest.drop_front(n);
    return true;
  };
  char magic[8];
  uint32_t count = 0;
  if (!take(magic, 8) || std::memcmp(magic, "EKHSTAT1", 8) != 0 || !take(&count, 4))
    return fail("not an input statistics file (a calibration bundle's --observe-inputs output)");
  InputStatistics stats;
  for (uint32_t e = 0; e < count; ++e) {
    uint32_t nameBytes = 0, k = 0;
    auto m = std::make_shared<InputMoments>();
    if (!take(&nameBytes, 4) || rest.size() < nameBytes) return fail("truncated");
    llvm::StringRef names = rest.take_front(nameBytes);
    rest = rest.drop_front(nameBytes);
    if (!take(&k, 4) || !take(&m->tokens, 8) || k == 0 || rest.size() / 4 / k < k) return fail("truncated");
    m->k = k;
    m->h.resize(size_t(k) * k);
    take(m->h.data(), m->h.size() * 4);
    llvm::SmallVector<llvm::StringRef> split;
    names.split(split, ',');
    for (llvm::StringRef n : split) stats[n.str()] = m;
  }
  if (!rest.empty()) return fail("trailing bytes after " + std::to_string(count) + " entries");
  return stats;
}

}  // namespace edgecc
