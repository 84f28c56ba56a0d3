// The bundle's file formats: TensorProto round trip and weights-file integrity checks.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <vector>

#include "codegen/WeightsWriter.h"
#include "llvm/Support/FileSystem.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/MLIRContext.h"
#include "runtime/tensor_file.h"
#include "runtime/weights.h"
#include "runtime/weights_format.h"

namespace {

std::string tempPath(const char* suffix) {
  llvm::SmallString<128> p;
  llvm::sys::fs::createTemporaryFile("edgecc-test", suffix, p);
  return std::string(p);
}

TEST(TensorFile, RoundTripKeepsNameTypeShapeAndBytes) {
  ek::HostTensor t;
  t.name = "logits";
  t.dtype = ek::DType::I64;
  t.dims = {2, 3};
  for (int64_t i = 0; i < 6; ++i) {
    int64_t v = i * 1000000007LL - 3;
    t.data.insert(t.data.end(), reinterpret_cast<uint8_t*>(&v), reinterpret_cast<uint8_t*>(&v) + 8);
  }
  std::string bytes = ek::serialize_tensor_proto(t);
  ek::HostTensor back;
  std::string error;
  ASSERT_TRUE(ek::parse_tensor_proto(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &back, &error)) << error;
  EXPECT_EQ(back.name, t.name);
  EXPECT_EQ(back.dtype, t.dtype);
  EXPECT_EQ(back.dims, t.dims);
  EXPECT_EQ(back.data, t.data);
  // Truncation is an error, not a crash.
  EXPECT_FALSE(ek::parse_tensor_proto(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size() - 5, &back, &error));
}

class WeightsFileTest : public ::testing::Test {
 protected:
  std::string path = tempPath("bin");
  int64_t payload = 0;
  void TearDown() override { llvm::sys::fs::remove(path); }
  void writeTwoTensors() {
    mlir::MLIRContext ctx;
    mlir::Builder b(&ctx);
    edgecc::WeightsWriter w(path);
    ASSERT_TRUE(w.ok());
    auto t = mlir::RankedTensorType::get({3}, b.getF32Type());
    auto a = mlir::DenseElementsAttr::get(t, llvm::ArrayRef<float>({1.f, 2.f, 3.f}));
    auto c = mlir::DenseElementsAttr::get(t, llvm::ArrayRef<float>({4.f, 5.f, 6.f}));
    EXPECT_EQ(w.add(a), 0);
    EXPECT_EQ(w.add(c), 64);  // next 64-byte boundary
    EXPECT_EQ(w.add(a), 0);   // identical tensors are stored once
    std::string error;
    ASSERT_TRUE(w.finish(&error)) << error;
    payload = w.payloadBytes();
  }
  void flipByte(size_t at) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(std::streamoff(at));
    char c;
    f.get(c);
    f.seekp(std::streamoff(at));
    f.put(char(c ^ 1));
  }
};

TEST_F(WeightsFileTest, LoadsWhatWasWritten) {
  writeTwoTensors();
  ek::WeightsFile wf;
  std::string error;
  ASSERT_TRUE(wf.open(path.c_str(), uint64_t(payload), &error)) << error;
  float v[3];
  std::memcpy(v, wf.payload() + 64, sizeof v);
  EXPECT_EQ(v[2], 6.f);
}

// A payload of several checksum sections, the writer hashing as the bytes go out: the loader's
// section-parallel check agrees, a flip in the last section is caught, and a table opened as
// read by rows reads back the written bytes after its pages were evicted (at open and later).
TEST_F(WeightsFileTest, MultiSectionPayloadAndTablesReadByRows) {
  const size_t n = 2 * ek::kChecksumSection + 12345;  // two whole sections and a partial one
  std::vector<uint8_t> bytes(n);
  uint64_t x = 0x9E3779B97F4A7C15ull;
  for (uint8_t& b : bytes) b = uint8_t((x = x * 6364136223846793005ull + 1442695040888963407ull) >> 56);
  {
    mlir::MLIRContext ctx;
    mlir::Builder b(&ctx);
    edgecc::WeightsWriter w(path);
    ASSERT_TRUE(w.ok());
    auto t = mlir::RankedTensorType::get({int64_t(n)}, b.getIntegerType(8));
    auto blob = mlir::HeapAsmResourceBlob::allocateAndCopyWithAlign(
        llvm::ArrayRef<char>(reinterpret_cast<const char*>(bytes.data()), n), 64);
    EXPECT_EQ(w.add(mlir::DenseResourceElementsAttr::get(t, "table", std::move(blob))), 0);
    std::string error;
    ASSERT_TRUE(w.finish(&error)) << error;
    payload = w.payloadBytes();
  }
  const uint64_t want = ek::payload_checksum(bytes.data(), n);  // the one-shot definition
  ek::WeightsHeader h;
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char*>(&h), sizeof h);
  EXPECT_EQ(h.checksum, want);
  {
    const ek::WeightsFile::Range table{4096, n - 8192};
    ek::WeightsFile wf;
    std::string error;
    ASSERT_TRUE(wf.open(path.c_str(), uint64_t(payload), &error, &table, 1)) << error;
    EXPECT_EQ(std::memcmp(wf.payload(), bytes.data(), n), 0);
    wf.evict_read_by_rows();
    EXPECT_EQ(std::memcmp(wf.payload(), bytes.data(), n), 0);
  }
  flipByte(sizeof(ek::WeightsHeader) + n - 7);
  ek::WeightsFile wf;
  std::string error;
  EXPECT_FALSE(wf.open(path.c_str(), uint64_t(payload), &error));
  EXPECT_NE(error.find("checksum"), std::string::npos) << error;
}

TEST_F(WeightsFileTest, CorruptionAndMismatchesAreRefused) {
  writeTwoTensors();
  std::string error;
  {
    ek::WeightsFile wf;
    EXPECT_FALSE(wf.open(path.c_str(), uint64_t(payload) + 64, &error));
    EXPECT_NE(error.find("the model expects"), std::string::npos) << error;
  }
  flipByte(sizeof(ek::WeightsHeader) + 4);
  {
    ek::WeightsFile wf;
    EXPECT_FALSE(wf.open(path.c_str(), uint64_t(payload), &error));
    EXPECT_NE(error.find("checksum"), std::string::npos) << error;
  }
  flipByte(0);
  {
    ek::WeightsFile wf;
    EXPECT_FALSE(wf.open(path.c_str(), uint64_t(payload), &error));
    EXPECT_NE(error.find("bad magic"), std::string::npos) << error;
  }
  {
    ek::WeightsFile wf;
    EXPECT_FALSE(wf.open("/nonexistent/weights.bin", 0, &error));
    EXPECT_NE(error.find("cannot open"), std::string::npos) << error;
  }
}

}  // namespace
