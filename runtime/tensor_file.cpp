#include "runtime/tensor_file.h"

#include <cstring>
#include <fstream>
#include <sstream>

namespace ek {
namespace {

// TensorProto field numbers (onnx.proto).
enum Field { kDims = 1, kDataType = 2, kFloatData = 4, kInt32Data = 5, kInt64Data = 7, kName = 8,
             kRawData = 9, kDoubleData = 10, kUint64Data = 11, kDataLocation = 14 };

struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool ok = true;
  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p >= end) { ok = false; return 0; }
      uint8_t b = *p++;
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    ok = false;
    return 0;
  }
  bool bytes(uint64_t n, const uint8_t** out) {
    if (uint64_t(end - p) < n) return ok = false;
    *out = p;
    p += n;
    return true;
  }
};

template <class T>
void append(std::vector<uint8_t>& v, T x) {
  uint8_t b[sizeof(T)];
  std::memcpy(b, &x, sizeof(T));
  v.insert(v.end(), b, b + sizeof(T));
}

}  // namespace

bool parse_tensor_proto(const uint8_t* bytes, size_t n, HostTensor* out, std::string* error) {
  Reader r{bytes, bytes + n};
  HostTensor t;
  int32_t data_type = 0;
  std::vector<uint8_t> raw, typed;  // typed: values from the *_data fields, converted to dtype later
  std::vector<double> fvals;
  std::vector<int64_t> ivals;
  auto fail = [&](const std::string& why) { if (error) *error = why; return false; };
  while (r.ok && r.p < r.end) {
    const uint64_t key = r.varint();
    const int field = int(key >> 3), wire = int(key & 7);
    auto each_varint = [&](auto&& push) {
      if (wire == 0) { push(r.varint()); return; }
      const uint8_t* b; uint64_t len = r.varint();
      if (!r.bytes(len, &b)) return;
      Reader sub{b, b + len};
      while (sub.ok && sub.p < sub.end) push(sub.varint());
      r.ok = r.ok && sub.ok;
    };
    auto each_fixed = [&](int width, auto&& push) {
      const uint8_t* b;
      if (wire == 2) {
        uint64_t len = r.varint();
        if (!r.bytes(len, &b) || len % width) { r.ok = false; return; }
        for (uint64_t i = 0; i < len; i += width) push(b + i);
      } else if (r.bytes(uint64_t(width), &b)) {
        push(b);
      }
    };
    switch (field) {
      case kDims: each_varint([&](uint64_t v) { t.dims.push_back(int64_t(v)); }); break;
      case kDataType: data_type = int32_t(r.varint()); break;
      case kFloatData: each_fixed(4, [&](const uint8_t* b) { float f; std::memcpy(&f, b, 4); fvals.push_back(f); }); break;
      case kDoubleData: each_fixed(8, [&](const uint8_t* b) { double f; std::memcpy(&f, b, 8); fvals.push_back(f); }); break;
      case kInt32Data: each_varint([&](uint64_t v) { ivals.push_back(int64_t(int32_t(uint32_t(v)))); }); break;
      case kInt64Data: case kUint64Data: each_varint([&](uint64_t v) { ivals.push_back(int64_t(v)); }); break;
      case kName: case kRawData: {
        const uint8_t* b; uint64_t len = r.varint();
        if (!r.bytes(len, &b)) break;
        if (field == kName) t.name.assign(reinterpret_cast<const char*>(b), len);
        else raw.assign(b, b + len);
        break;
      }
      case kDataLocation:
        if (r.varint() == 1) return fail("tensor data stored externally is not supported here");
        break;
      default:  // skip unknown fields by wire type
        if (wire == 0) r.varint();
        else if (wire == 1) { const uint8_t* b; r.bytes(8, &b); }
        else if (wire == 5) { const uint8_t* b; r.bytes(4, &b); }
        else if (wire == 2) { const uint8_t* b; r.bytes(r.varint(), &b); }
        else r.ok = false;
    }
  }
  if (!r.ok) return fail("malformed TensorProto");
  if (!dtype_known(data_type)) return fail("unsupported tensor element type " + std::to_string(data_type));
  if (t.dims.size() > size_t(kMaxRank)) return fail("tensor rank above " + std::to_string(kMaxRank));
  t.dtype = DType(data_type);
  int64_t numel = 1;
  for (int64_t d : t.dims) {
    if (d < 0) return fail("negative dimension");
    if (__builtin_mul_overflow(numel, d, &numel) || numel > (int64_t(1) << 48)) return fail("tensor shape too large");
  }
  const size_t want = size_t(numel) * dtype_size(t.dtype);
  if (!fvals.empty() && t.dtype != DType::F32 && t.dtype != DType::F64)
    return fail("float values for a tensor of element type " + std::string(dtype_name(t.dtype)));
  if (!raw.empty() || (fvals.empty() && ivals.empty())) {
    if (raw.size() != want) return fail("tensor holds " + std::to_string(raw.size()) + " bytes, its shape needs " + std::to_string(want));
    t.data = std::move(raw);
  } else {
    const size_t count = fvals.empty() ? ivals.size() : fvals.size();
    if (count != size_t(numel)) return fail("tensor holds " + std::to_string(count) + " values, its shape needs " + std::to_string(numel));
    t.data.reserve(want);
    for (size_t i = 0; i < count; ++i) {
      const double f = fvals.empty() ? double(ivals[i]) : fvals[i];
      const int64_t v = fvals.empty() ? ivals[i] : 0;  // float values come only for F32 and F64
      switch (t.dtype) {
        case DType::F32: append(t.data, float(f)); break;
        case DType::F64: append(t.data, f); break;
        case DType::I64: append(t.data, v); break;
        case DType::I32: append(t.data, int32_t(v)); break;
        case DType::I16: append(t.data, int16_t(v)); break;
        case DType::U16: append(t.data, uint16_t(v)); break;
        case DType::I8: append(t.data, int8_t(v)); break;
        case DType::U8: append(t.data, uint8_t(v)); break;
        case DType::Bool: append(t.data, uint8_t(v != 0)); break;
        case DType::U32: append(t.data, uint32_t(v)); break;
        case DType::U64: append(t.data, uint64_t(v)); break;
        case DType::F16: case DType::BF16: append(t.data, uint16_t(v)); break;  // int32_data holds the bits
      }
    }
  }
  *out = std::move(t);
  return true;
}

bool read_tensor_file(const std::string& path, HostTensor* out, std::string* error) {
  std::ifstream f(path, std::ios::binary);
  if (!f) { if (error) *error = path + ": cannot open"; return false; }
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string s = ss.str();
  std::string why;
  if (!parse_tensor_proto(reinterpret_cast<const uint8_t*>(s.data()), s.size(), out, &why)) {
    if (error) *error = path + ": " + why;
    return false;
  }
  return true;
}

std::string serialize_tensor_proto(const HostTensor& t) {
  std::string s;
  auto varint = [&](uint64_t v) {
    while (v >= 0x80) { s.push_back(char(v | 0x80)); v >>= 7; }
    s.push_back(char(v));
  };
  for (int64_t d : t.dims) { varint(kDims << 3 | 0); varint(uint64_t(d)); }
  varint(kDataType << 3 | 0);
  varint(uint64_t(t.dtype));
  varint(kName << 3 | 2);
  varint(t.name.size());
  s += t.name;
  varint(kRawData << 3 | 2);
  varint(t.data.size());
  s.append(reinterpret_cast<const char*>(t.data.data()), t.data.size());
  return s;
}

bool write_tensor_file(const std::string& path, const HostTensor& t, std::string* error) {
  std::ofstream f(path, std::ios::binary);
  const std::string s = serialize_tensor_proto(t);
  f.write(s.data(), std::streamsize(s.size()));
  if (!f) { if (error) *error = path + ": cannot write"; return false; }
  return true;
}

}  // namespace ek
