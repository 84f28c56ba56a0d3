// Reader for GGUF, llama.cpp's model file (versions 2 and 3): metadata key/values, the tensor
// table and the tensor data. The file is memory-mapped; tensor data are views into the map.
// Every count, offset and size is checked against the file before use, so a malformed or
// truncated file gives an error naming what is wrong, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "llvm/Support/Error.h"

namespace edgecc::gguf {

enum class ValueType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8,
  Array = 9, U64 = 10, I64 = 11, F64 = 12,
};

// One metadata value. Scalars keep their numeric value in the field of their kind; arrays
// keep their elements (all of `elem_type`).
struct Value {
  ValueType type = ValueType::U8;
  uint64_t u = 0;       // unsigned integers and bool
  int64_t i = 0;        // signed integers
  double f = 0;         // floats
  std::string s;        // strings
  ValueType elem_type = ValueType::U8;
  std::vector<Value> array;

  bool isInteger() const;
  bool isFloat() const { return type == ValueType::F32 || type == ValueType::F64; }
  int64_t asInt() const;    // any integer or bool
  double asFloat() const;   // any integer or float
};

// ggml tensor types. Only the ones edgecc consumes have kernels; the table knows the block
// sizes of a few more so that their errors can name them.
enum class TensorType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15, IQ2_XXS = 16, IQ2_XS = 17,
  IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22, IQ4_XS = 23, I8 = 24, I16 = 25,
  I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30, TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};
const char* tensorTypeName(uint32_t type);  // "q8_0", or "type 17" when unknown
// Elements per block and bytes per block; false for unknown types.
bool tensorTypeBlock(uint32_t type, int64_t* block_elems, int64_t* block_bytes);

struct TensorInfo {
  std::string name;
  std::vector<int64_t> ne;   // ggml order: ne[0] is the innermost (contiguous) dimension
  uint32_t type = 0;
  uint64_t offset = 0;       // from the start of the data section
  uint64_t bytes = 0;
  const uint8_t* data = nullptr;  // into the mapped file
  int64_t numel() const;
};

class File {
 public:
  // Errors read "PATH: reason".
  static llvm::Expected<std::unique_ptr<File>> open(const std::string& path);
  ~File();
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  const std::map<std::string, Value>& metadata() const { return metadata_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }

  const Value* find(const std::string& key) const;
  const TensorInfo* tensor(const std::string& name) const;

  // Typed getters; a missing key or a value of the wrong kind is an error naming the key.
  llvm::Expected<int64_t> getInt(const std::string& key) const;
  llvm::Expected<double> getFloat(const std::string& key) const;
  llvm::Expected<std::string> getString(const std::string& key) const;
  int64_t getInt(const std::string& key, int64_t fallback) const;
  double getFloat(const std::string& key, double fallback) const;
  // Arrays: strings, or numbers converted to the requested type.
  llvm::Expected<std::vector<std::string>> getStrings(const std::string& key) const;
  llvm::Expected<std::vector<float>> getFloats(const std::string& key) const;
  llvm::Expected<std::vector<int64_t>> getInts(const std::string& key) const;

  llvm::Error error(const std::string& why) const;

  // Keeps the file's mapping (every TensorInfo::data) valid while held, after the File is gone.
  std::shared_ptr<const void> mapping() const { return mapping_; }

 private:
  File() = default;
  std::string path_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  std::map<std::string, Value> metadata_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
  std::shared_ptr<const void> mapping_;  // unmaps when the last holder lets go
};

}  // namespace edgecc::gguf
