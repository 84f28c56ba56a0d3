#include "compiler/ir/MappedBlobs.h"

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <string>
#include <unordered_set>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "runtime/weights.h"

using namespace mlir;

namespace edgecc {

namespace {

// The start of every live blob that lives in a file mapping: only those may have their pages
// dropped (on heap memory, MADV_DONTNEED would zero the data).
struct FileBackedBlobs {
  std::mutex mutex;
  std::unordered_set<const char*> starts;

  void add(const char* p) {
    std::lock_guard<std::mutex> lock(mutex);
    starts.insert(p);
  }
  void remove(const char* p) {
    std::lock_guard<std::mutex> lock(mutex);
    starts.erase(p);
  }
  bool contains(const char* p) {
    std::lock_guard<std::mutex> lock(mutex);
    return starts.count(p) != 0;
  }
};

FileBackedBlobs& fileBacked() {
  static FileBackedBlobs blobs;
  return blobs;
}

// One unlinked file in TMPDIR for the whole compilation, grown by appending page-aligned
// extents; a freed extent's space goes back to the file system (a hole).
class ScratchFile {
 public:
  ~ScratchFile() {
    if (fd_ >= 0) close(fd_);
  }

  // The offset `bytes` were written at, or -1.
  off_t append(ArrayRef<char> bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (fd_ < 0 && !open()) return -1;
    const off_t at = end_;
    for (size_t done = 0; done < bytes.size();) {
      const ssize_t n = pwrite(fd_, bytes.data() + done, bytes.size() - done, at + off_t(done));
      if (n <= 0) return -1;
      done += size_t(n);
    }
    end_ = at + off_t((bytes.size() + page_ - 1) / page_ * page_);
    return at;
  }

  int fd() const { return fd_; }

  void release(off_t at, size_t bytes) {
#if defined(FALLOC_FL_PUNCH_HOLE)
    fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, at, off_t(bytes));
#else
    (void)at;
    (void)bytes;
#endif
  }

 private:
  bool open() {
    const char* dir = std::getenv("TMPDIR");
    std::string path = std::string(dir && *dir ? dir : "/tmp") + "/edgecc-scratch-XXXXXX";
    fd_ = mkstemp(path.data());
    if (fd_ < 0) return false;
    unlink(path.c_str());  // gone when the compiler exits, however it exits
    return true;
  }

  std::mutex mutex_;
  int fd_ = -1;
  off_t end_ = 0;
  const size_t page_ = size_t(sysconf(_SC_PAGESIZE));
};

ScratchFile& scratch() {
  static ScratchFile file;
  return file;
}

}  // namespace

AsmResourceBlob mappedBlob(ArrayRef<char> bytes, std::shared_ptr<const void> keep) {
  fileBacked().add(bytes.data());
  return AsmResourceBlob(
      bytes, alignof(std::max_align_t),
      [keep = std::move(keep)](void* data, size_t size, size_t) {
        fileBacked().remove(static_cast<const char*>(data));
        ek::drop_pages(data, size);
      },
      /*dataIsMutable=*/false);
}

size_t heapConstantBytes() {
  static const size_t limit = [] {
    const char* env = std::getenv("EDGECC_COMPILE_HEAP_BYTES");
    return env && *env ? size_t(std::strtoull(env, nullptr, 10)) : size_t(512) << 20;
  }();
  return limit;
}

AsmResourceBlob ownedBlob(std::string&& bytes) {
  static std::atomic<size_t> heapBytes{0};
  const size_t size = bytes.size();
  if (heapBytes + size > heapConstantBytes()) {
    const off_t at = scratch().append(ArrayRef<char>(bytes.data(), size));
    void* map = at < 0 ? MAP_FAILED : mmap(nullptr, size, PROT_READ, MAP_SHARED, scratch().fd(), at);
    if (map == MAP_FAILED && at >= 0) scratch().release(at, size);  // written but not mappable: keep them on the heap
    if (map != MAP_FAILED) {
      std::string().swap(bytes);  // the scratch file holds them now
      auto* start = static_cast<const char*>(map);
      fileBacked().add(start);
      return AsmResourceBlob(
          ArrayRef<char>(start, size), alignof(std::max_align_t),  // page aligned, but IR dumps must not show where it lives
          [at](void* data, size_t size, size_t) {
            fileBacked().remove(static_cast<const char*>(data));
            munmap(data, size);
            scratch().release(at, size);
          },
          /*dataIsMutable=*/false);
    }
  }
  heapBytes += size;
  auto* owned = new std::string(std::move(bytes));
  // operator new aligns to __STDCPP_DEFAULT_NEW_ALIGNMENT__ (16 here): enough for any element type.
  return AsmResourceBlob(
      ArrayRef<char>(owned->data(), size), alignof(std::max_align_t),
      [owned](void*, size_t size, size_t) {
        heapBytes -= size;
        delete owned;
      },
      /*dataIsMutable=*/false);
}

void dropResidentPages(ElementsAttr attr) {
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource || !resource.getRawHandle().getBlob()) return;
  ArrayRef<char> data = resource.getRawHandle().getBlob()->getData();
  if (!data.empty() && fileBacked().contains(data.data())) ek::drop_pages(data.data(), data.size());
}

}  // namespace edgecc
