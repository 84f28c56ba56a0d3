// diffTensors (test-onnx's and bisect's comparison) on hand-worked values.
#include <cmath>
#include <cstring>
#include <limits>

#include "compiler/driver/TensorDiff.h"
#include "gtest/gtest.h"

namespace {

template <class T>
ek::HostTensor tensor(ek::DType dtype, std::vector<T> values) {
  ek::HostTensor t;
  t.dtype = dtype;
  t.dims = {int64_t(values.size())};
  t.data.resize(values.size() * sizeof(T));
  std::memcpy(t.data.data(), values.data(), t.data.size());
  return t;
}

ek::HostTensor f32(std::vector<float> v) { return tensor(ek::DType::F32, std::move(v)); }

TEST(TensorDiff, IntegersAreExact) {
  // 1001 against 1000 is within rtol 1e-3, and still wrong.
  const auto d = edgecc::diffTensors(tensor<int64_t>(ek::DType::I64, {7, 1001}), tensor<int64_t>(ek::DType::I64, {7, 1000}),
                                     edgecc::Tolerance{1e-3, 1e-5});
  EXPECT_EQ(d.beyond, 1);
  EXPECT_EQ(d.worst, 1);
  EXPECT_EQ(d.max_abs, 1.0);
  EXPECT_EQ(d.got, 1001.0);
  EXPECT_EQ(d.want, 1000.0);
}

TEST(TensorDiff, FloatsWithinTheElementwiseBound) {
  // Bounds: 1e-5 + 1e-3 * |want| = 1.01e-3 for 1, 1.001e-2 for 10.
  const auto d = edgecc::diffTensors(f32({1.001f, 10.02f}), f32({1.f, 10.f}), edgecc::Tolerance{1e-3, 1e-5});
  EXPECT_EQ(d.beyond, 1);  // only 10.02: 0.02 > 0.01001
  EXPECT_EQ(d.worst, 1);
  EXPECT_NEAR(d.max_abs, 0.02, 1e-6);
  EXPECT_NEAR(d.max_ratio, 0.02 / 0.01001, 1e-3);
  EXPECT_EQ(d.ref_max, 10.0);
}

TEST(TensorDiff, MedianFloorForgivesCancellation) {
  // want = {1000, 1, 1, 0}: median |want| = 1 (the upper middle of 0, 1, 1, 1000). At the 0 an
  // error of 5e-4 is beyond 1e-5 elementwise, and within 1e-5 + 1e-3 * 1 with the floor; the
  // 1000 keeps its own larger bound.
  const auto want = f32({1000.f, 1.f, 1.f, 0.f}), got = f32({1000.5f, 1.f, 1.f, 5e-4f});
  EXPECT_EQ(edgecc::diffTensors(got, want, edgecc::Tolerance{1e-3, 1e-5, false}).beyond, 1);
  const auto floored = edgecc::diffTensors(got, want, edgecc::Tolerance{1e-3, 1e-5, true});
  EXPECT_EQ(floored.beyond, 0);
  EXPECT_NEAR(floored.max_ratio, 0.5 / (1e-5 + 1.0), 1e-3);  // the 1000's error, against its bound of ~1
  // A mask value does not set the scale: with -3.4e38 in the tensor the floor is still 1.
  const auto masked = edgecc::diffTensors(f32({-3.4e38f, 1.f, 1.f, 0.1f}), f32({-3.4e38f, 1.f, 1.f, 0.f}),
                                          edgecc::Tolerance{1e-3, 1e-5, true});
  EXPECT_EQ(masked.beyond, 1);  // 0.1 against a bound of ~1e-3
}

TEST(TensorDiff, NonFiniteValues) {
  const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(edgecc::diffTensors(f32({nan, inf, -inf}), f32({nan, inf, -inf}), edgecc::Tolerance{}).agrees());
  const auto d = edgecc::diffTensors(f32({nan, 2.f}), f32({1.f, 2.f}), edgecc::Tolerance{});
  EXPECT_EQ(d.beyond, 1);
  EXPECT_EQ(d.worst, 0);
  EXPECT_TRUE(std::isinf(d.max_abs));
  EXPECT_EQ(edgecc::diffTensors(f32({inf}), f32({-inf}), edgecc::Tolerance{}).beyond, 1);
}

TEST(TensorDiff, ShapeAndTypeMismatchesAreProblems) {
  auto a = f32({1.f, 2.f});
  auto b = f32({1.f, 2.f});
  b.dims = {2, 1};
  EXPECT_EQ(edgecc::diffTensors(a, b, edgecc::Tolerance{}).problem, "shape [2], expected [2,1]");
  EXPECT_EQ(edgecc::diffTensors(tensor<int32_t>(ek::DType::I32, {1, 2}), a, edgecc::Tolerance{}).problem, "dtype i32, expected f32");
  EXPECT_EQ(edgecc::indexString(5, {2, 3}), "[1,2]");
}

}  // namespace
