#include "compiler/import/GgufFile.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace edgecc::gguf {
namespace {

constexpr uint64_t kMaxStringBytes = uint64_t(1) << 30;
constexpr uint64_t kMaxArrayElems = uint64_t(1) << 24;  // all metadata arrays together
constexpr int kMaxArrayDepth = 4;

// Bounds-checked cursor over the mapped bytes. Every read says what it was reading, so an
// error can name it.
struct Cursor {
  const uint8_t* data;
  uint64_t size;
  uint64_t pos = 0;
  uint64_t array_elems = 0;  // metadata array elements read so far
  std::string error;

  bool need(uint64_t n, const char* what) {
    if (!error.empty()) return false;
    if (n > size - pos) {
      error = std::string("truncated file while reading ") + what;
      return false;
    }
    return true;
  }
  template <class T> bool read(T* out, const char* what) {
    if (!need(sizeof(T), what)) return false;
    std::memcpy(out, data + pos, sizeof(T));
    pos += sizeof(T);
    return true;
  }
  bool readString(std::string* out, const char* what) {
    uint64_t n = 0;
    if (!read(&n, what)) return false;
    if (n > kMaxStringBytes) {
      error = std::string("implausible string length ") + std::to_string(n) + " in " + what;
      return false;
    }
    if (!need(n, what)) return false;
    out->assign(reinterpret_cast<const char*>(data + pos), n);
    pos += n;
    return true;
  }
};

bool readValue(Cursor& c, ValueType type, Value* v, int depth, const std::string& key) {
  v->type = type;
  const char* what = key.c_str();
  switch (type) {
    case ValueType::U8: { uint8_t x; if (!c.read(&x, what)) return false; v->u = x; v->i = x; return true; }
    case ValueType::I8: { int8_t x; if (!c.read(&x, what)) return false; v->i = x; return true; }
    case ValueType::U16: { uint16_t x; if (!c.read(&x, what)) return false; v->u = x; v->i = x; return true; }
    case ValueType::I16: { int16_t x; if (!c.read(&x, what)) return false; v->i = x; return true; }
    case ValueType::U32: { uint32_t x; if (!c.read(&x, what)) return false; v->u = x; v->i = x; return true; }
    case ValueType::I32: { int32_t x; if (!c.read(&x, what)) return false; v->i = x; return true; }
    case ValueType::U64: { uint64_t x; if (!c.read(&x, what)) return false; v->u = x; v->i = int64_t(x); return true; }
    case ValueType::I64: { int64_t x; if (!c.read(&x, what)) return false; v->i = x; return true; }
    case ValueType::F32: { float x; if (!c.read(&x, what)) return false; v->f = x; return true; }
    case ValueType::F64: { double x; if (!c.read(&x, what)) return false; v->f = x; return true; }
    case ValueType::Bool: {
      uint8_t x;
      if (!c.read(&x, what)) return false;
      if (x > 1) { c.error = "bool value " + std::to_string(x) + " in " + key; return false; }
      v->u = x; v->i = x;
      return true;
    }
    case ValueType::String: return c.readString(&v->s, what);
    case ValueType::Array: {
      if (depth >= kMaxArrayDepth) { c.error = "arrays nested too deeply in " + key; return false; }
      uint32_t elem = 0;
      uint64_t n = 0;
      if (!c.read(&elem, what) || !c.read(&n, what)) return false;
      if (elem > uint32_t(ValueType::F64)) { c.error = "unknown array element type " + std::to_string(elem) + " in " + key; return false; }
      // Every element takes at least its fixed size in the file: a count beyond the file is
      // corrupt; and all arrays together are capped, since each element is expanded in memory.
      const uint64_t minBytes = elem == uint32_t(ValueType::String) ? 8 : elem == uint32_t(ValueType::Array) ? 12
                                : elem == uint32_t(ValueType::U64) || elem == uint32_t(ValueType::I64) || elem == uint32_t(ValueType::F64) ? 8
                                : elem == uint32_t(ValueType::U32) || elem == uint32_t(ValueType::I32) || elem == uint32_t(ValueType::F32) ? 4
                                : elem == uint32_t(ValueType::U16) || elem == uint32_t(ValueType::I16) ? 2 : 1;
      c.array_elems += n;
      if (n > kMaxArrayElems || n > (c.size - c.pos) / minBytes || c.array_elems > kMaxArrayElems) {
        c.error = "implausible array length " + std::to_string(n) + " in " + key;
        return false;
      }
      v->elem_type = ValueType(elem);
      v->array.resize(n);
      for (uint64_t k = 0; k < n; ++k)
        if (!readValue(c, v->elem_type, &v->array[k], depth + 1, key)) return false;
      return true;
    }
  }
  c.error = "unknown value type " + std::to_string(uint32_t(type)) + " for " + key;
  return false;
}

}  // namespace

bool Value::isInteger() const {
  switch (type) {
    case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
    case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
    case ValueType::Bool: return true;
    default: return false;
  }
}
int64_t Value::asInt() const { return type == ValueType::U64 ? int64_t(u) : i; }
double Value::asFloat() const { return isFloat() ? f : double(asInt()); }

const char* tensorTypeName(uint32_t type) {
  switch (TensorType(type)) {
    case TensorType::F32: return "f32";
    case TensorType::F16: return "f16";
    case TensorType::Q4_0: return "q4_0";
    case TensorType::Q4_1: return "q4_1";
    case TensorType::Q5_0: return "q5_0";
    case TensorType::Q5_1: return "q5_1";
    case TensorType::Q8_0: return "q8_0";
    case TensorType::Q8_1: return "q8_1";
    case TensorType::Q2_K: return "q2_k";
    case TensorType::Q3_K: return "q3_k";
    case TensorType::Q4_K: return "q4_k";
    case TensorType::Q5_K: return "q5_k";
    case TensorType::Q6_K: return "q6_k";
    case TensorType::Q8_K: return "q8_k";
    case TensorType::IQ2_XXS: return "iq2_xxs";
    case TensorType::IQ2_XS: return "iq2_xs";
    case TensorType::IQ3_XXS: return "iq3_xxs";
    case TensorType::IQ1_S: return "iq1_s";
    case TensorType::IQ4_NL: return "iq4_nl";
    case TensorType::IQ3_S: return "iq3_s";
    case TensorType::IQ2_S: return "iq2_s";
    case TensorType::IQ4_XS: return "iq4_xs";
    case TensorType::IQ1_M: return "iq1_m";
    case TensorType::TQ1_0: return "tq1_0";
    case TensorType::TQ2_0: return "tq2_0";
    case TensorType::MXFP4: return "mxfp4";
    case TensorType::I8: return "i8";
    case TensorType::I16: return "i16";
    case TensorType::I32: return "i32";
    case TensorType::I64: return "i64";
    case TensorType::F64: return "f64";
    case TensorType::BF16: return "bf16";
  }
  static thread_local std::string name;
  name = "type " + std::to_string(type);
  return name.c_str();
}

bool tensorTypeBlock(uint32_t type, int64_t* block_elems, int64_t* block_bytes) {
  int64_t e = 1, b = 0;
  switch (TensorType(type)) {
    case TensorType::F32: b = 4; break;
    case TensorType::F16: b = 2; break;
    case TensorType::BF16: b = 2; break;
    case TensorType::F64: b = 8; break;
    case TensorType::I8: b = 1; break;
    case TensorType::I16: b = 2; break;
    case TensorType::I32: b = 4; break;
    case TensorType::I64: b = 8; break;
    case TensorType::Q4_0: e = 32; b = 18; break;
    case TensorType::Q4_1: e = 32; b = 20; break;
    case TensorType::Q5_0: e = 32; b = 22; break;
    case TensorType::Q5_1: e = 32; b = 24; break;
    case TensorType::Q8_0: e = 32; b = 34; break;
    case TensorType::Q8_1: e = 32; b = 36; break;
    case TensorType::Q2_K: e = 256; b = 84; break;
    case TensorType::Q3_K: e = 256; b = 110; break;
    case TensorType::Q4_K: e = 256; b = 144; break;
    case TensorType::Q5_K: e = 256; b = 176; break;
    case TensorType::Q6_K: e = 256; b = 210; break;
    case TensorType::Q8_K: e = 256; b = 292; break;
    case TensorType::IQ2_XXS: e = 256; b = 66; break;
    case TensorType::IQ2_XS: e = 256; b = 74; break;
    case TensorType::IQ3_XXS: e = 256; b = 98; break;
    case TensorType::IQ1_S: e = 256; b = 50; break;
    case TensorType::IQ4_NL: e = 32; b = 18; break;
    case TensorType::IQ3_S: e = 256; b = 110; break;
    case TensorType::IQ2_S: e = 256; b = 82; break;
    case TensorType::IQ4_XS: e = 256; b = 136; break;
    case TensorType::IQ1_M: e = 256; b = 56; break;
    case TensorType::TQ1_0: e = 256; b = 54; break;
    case TensorType::TQ2_0: e = 256; b = 66; break;
    case TensorType::MXFP4: e = 32; b = 17; break;
    default: return false;
  }
  *block_elems = e;
  *block_bytes = b;
  return true;
}

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

File::~File() = default;

llvm::Error File::error(const std::string& why) const {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), path_ + ": " + why);
}

llvm::Expected<std::unique_ptr<File>> File::open(const std::string& path) {
  std::unique_ptr<File> file(new File());
  file->path_ = path;
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return file->error("cannot open file");
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return file->error("not a regular file");
  }
  const uint64_t size = uint64_t(st.st_size);
  if (size < 8) {
    ::close(fd);
    return file->error("too short for a GGUF file (" + std::to_string(size) + " bytes)");
  }
  void* map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return file->error("mmap failed");
  file->mapping_ = std::shared_ptr<const void>(map, [size](const void* p) { munmap(const_cast<void*>(p), size); });

  Cursor c{static_cast<const uint8_t*>(map), size};
  if (std::memcmp(c.data, "GGUF", 4) != 0) return file->error("not a GGUF file (bad magic)");
  c.pos = 4;
  c.read(&file->version_, "version");
  if (file->version_ != 2 && file->version_ != 3)
    return file->error("GGUF version " + std::to_string(file->version_) + " is not supported (2 and 3 are)");
  uint64_t n_tensors = 0, n_kv = 0;
  c.read(&n_tensors, "tensor count");
  c.read(&n_kv, "metadata count");
  if (!c.error.empty()) return file->error(c.error);
  // Each entry takes well over 8 bytes, so counts beyond size/8 are corrupt, not huge.
  if (n_tensors > size / 8 || n_kv > size / 8)
    return file->error("implausible counts: " + std::to_string(n_tensors) + " tensors, " + std::to_string(n_kv) +
                       " metadata entries");

  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key;
    uint32_t type = 0;
    if (!c.readString(&key, "metadata key") || !c.read(&type, "metadata type")) return file->error(c.error);
    if (type > uint32_t(ValueType::F64)) return file->error("metadata '" + key + "' has unknown type " + std::to_string(type));
    Value v;
    if (!readValue(c, ValueType(type), &v, 0, "metadata '" + key + "'")) return file->error(c.error);
    if (!file->metadata_.emplace(key, std::move(v)).second) return file->error("duplicate metadata key '" + key + "'");
  }
  if (const Value* a = file->find("general.alignment")) {
    if (!a->isInteger() || a->asInt() <= 0 || (a->asInt() & (a->asInt() - 1)) != 0 || a->asInt() > 65536)
      return file->error("general.alignment must be a power of two up to 65536");
    file->alignment_ = uint64_t(a->asInt());
  }

  for (uint64_t t = 0; t < n_tensors; ++t) {
    TensorInfo info;
    uint32_t n_dims = 0;
    if (!c.readString(&info.name, "tensor name") || !c.read(&n_dims, "tensor rank")) return file->error(c.error);
    if (n_dims == 0 || n_dims > 4) return file->error("tensor '" + info.name + "' has rank " + std::to_string(n_dims) + " (1 to 4 allowed)");
    uint64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t n = 0;
      if (!c.read(&n, "tensor dims")) return file->error(c.error);
      if (n == 0 || n > (uint64_t(1) << 40) || numel > (uint64_t(1) << 40) / n)
        return file->error("tensor '" + info.name + "' has an implausible shape");
      numel *= n;
      info.ne.push_back(int64_t(n));
    }
    if (!c.read(&info.type, "tensor type") || !c.read(&info.offset, "tensor offset")) return file->error(c.error);
    int64_t block_elems = 0, block_bytes = 0;
    if (!tensorTypeBlock(info.type, &block_elems, &block_bytes))
      return file->error("tensor '" + info.name + "' has unknown type " + std::to_string(info.type));
    if (info.ne[0] % block_elems != 0)
      return file->error("tensor '" + info.name + "': row of " + std::to_string(info.ne[0]) + " is not a multiple of the " +
                         tensorTypeName(info.type) + " block size " + std::to_string(block_elems));
    info.bytes = numel / uint64_t(block_elems) * uint64_t(block_bytes);
    if (info.offset % file->alignment_ != 0) return file->error("tensor '" + info.name + "' data is not aligned");
    if (!file->tensor_index_.emplace(info.name, file->tensors_.size()).second)
      return file->error("duplicate tensor '" + info.name + "'");
    file->tensors_.push_back(std::move(info));
  }

  const uint64_t data_start = (c.pos + file->alignment_ - 1) / file->alignment_ * file->alignment_;
  for (TensorInfo& info : file->tensors_) {
    if (data_start > size || info.offset > size - data_start || info.bytes > size - data_start - info.offset)
      return file->error("tensor '" + info.name + "' data lies beyond the end of the file (truncated?)");
    info.data = c.data + data_start + info.offset;
  }
  return file;
}

const Value* File::find(const std::string& key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const TensorInfo* File::tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

llvm::Expected<int64_t> File::getInt(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return error("missing metadata '" + key + "'");
  if (!v->isInteger()) return error("metadata '" + key + "' is not an integer");
  return v->asInt();
}

llvm::Expected<double> File::getFloat(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return error("missing metadata '" + key + "'");
  if (!v->isInteger() && !v->isFloat()) return error("metadata '" + key + "' is not a number");
  return v->asFloat();
}

llvm::Expected<std::string> File::getString(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return error("missing metadata '" + key + "'");
  if (v->type != ValueType::String) return error("metadata '" + key + "' is not a string");
  return v->s;
}

int64_t File::getInt(const std::string& key, int64_t fallback) const {
  const Value* v = find(key);
  return v && v->isInteger() ? v->asInt() : fallback;
}

double File::getFloat(const std::string& key, double fallback) const {
  const Value* v = find(key);
  return v && (v->isInteger() || v->isFloat()) ? v->asFloat() : fallback;
}

llvm::Expected<std::vector<std::string>> File::getStrings(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return error("missing metadata '" + key + "'");
  if (v->type != ValueType::Array || v->elem_type != ValueType::String)
    return error("metadata '" + key + "' is not an array of strings");
  std::vector<std::string> out;
  out.reserve(v->array.size());
  for (const Value& e : v->array) out.push_back(e.s);
  return out;
}

llvm::Expected<std::vector<float>> File::getFloats(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return error("missing metadata '" + key + "'");
  if (v->type != ValueType::Array || (!v->array.empty() && !v->array[0].isFloat() && !v->array[0].isInteger()))
    return error("metadata '" + key + "' is not an array of numbers");
  std::vector<float> out;
  out.reserve(v->array.size());
  for (const Value& e : v->array) out.push_back(float(e.asFloat()));
  return out;
}

llvm::Expected<std::vector<int64_t>> File::getInts(const std::string& key) const {
  const Value* v = find(key);
  if (!v) return error("missing metadata '" + key + "'");
  if (v->type != ValueType::Array || (!v->array.empty() && !v->array[0].isInteger()))
    return error("metadata '" + key + "' is not an array of integers");
  std::vector<int64_t> out;
  out.reserve(v->array.size());
  for (const Value& e : v->array) out.push_back(e.asInt());
  return out;
}

}  // namespace edgecc::gguf
