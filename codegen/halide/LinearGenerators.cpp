// edgecc-halide: makes the Halide-generated kernels of a target, at compile time.
//
//   edgecc-halide KERNEL --isa x86-64|arm64 --features "avx2 fma f16c avx512f ..." -o OUT.o
//
// KERNEL is gemv_f32x8, gemv_f16x8 or gemv_q8_0x8u (one token) or gemm_f32x8, gemm_f16x8
// (kGemmTokens tokens, for prefill), through two adjacent groups of packed weights
// (runtime/kernels/linear_packed.h), 16 output rows, in the arithmetic the hand-written tiles
// follow, so the two are interchangeable bit for bit. The pipeline is lowered by Halide to
// LLVM IR for the features given, and llc-14 turns that into an object for exactly those
// features: Halide's own CPU choice for VNNI ("sapphirerapids") would allow AVX512-FP16,
// which Zen 4 lacks. The object needs no Halide runtime (no_runtime, no asserts): the bundle's
// runtime calls it with buffers it describes itself (runtime/kernels/halide_buffer.h).
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include "Halide.h"
#include "runtime/kernels/halide_tiles.h"
#include "runtime/weight_format.h"

using namespace Halide;
using namespace Halide::ConciseCasts;

namespace {

// The packed layouts (runtime/weight_format.h); a generated tile covers two groups.
constexpr int kPackRows = ek::kPackRows, kBlockValues = int(ek::kBlockValues), kGroups = 2;

// The bundle's input pointers are aligned to their element only: no aligned vector loads.
// (Halide 14 stores the output with aligned moves whatever its host alignment says: the
// caller passes an aligned one.)
void assumeElementAlignment(std::initializer_list<ImageParam> inputs) {
  for (ImageParam p : inputs) p.set_host_alignment(p.type().bytes());
}

// y(r, g, t) for g < 2 and t < tokens: the packed f32x8 / f16x8 layouts hold value (row r, k)
// of a group at r + 8 k. Two partial sums, over even and odd k, added at the end
// (linear_packed.h's float contract); f16 is widened exactly before its multiply-add. (Halide 14
// widens f16 with integer shifts and masks even where the target has F16C, not vcvtph2ps.)
Pipeline floatLinear(Type stored, int tokens, std::vector<Argument>& args) {
  ImageParam w(stored, 3, "w");     // [8 rows, K, groups]
  ImageParam x(Float(32), 2, "x");  // [K, tokens]
  Var r("r"), g("g"), t("t"), p("p");
  Func part("part"), y("y");
  RDom k(0, x.dim(0).extent() / 2, "k");
  Expr value = w(r, 2 * k + p, g);
  if (stored != Float(32)) value = cast<float>(value);
  part(r, g, t, p) = 0.f;
  part(r, g, t, p) += value * x(2 * k + p, t);
  y(r, g, t) = part(r, g, t, 0) + part(r, g, t, 1);
  w.dim(0).set_bounds(0, kPackRows).set_stride(1).dim(1).set_stride(kPackRows);
  x.dim(0).set_stride(1).dim(1).set_bounds(0, tokens);
  y.output_buffer().dim(0).set_bounds(0, kPackRows).set_stride(1).dim(1).set_bounds(0, kGroups).set_stride(kPackRows);
  y.output_buffer().dim(2).set_bounds(0, tokens).set_stride(kPackRows * kGroups);
  assumeElementAlignment({w, x});
  y.vectorize(r).unroll(g).unroll(t);
  part.compute_at(y, Var::outermost()).vectorize(r).unroll(g).unroll(t).unroll(p);
  // Every accumulator of the tile live across k: one weight load feeds `tokens` multiply-adds.
  part.update().reorder(r, p, g, t, k).vectorize(r).unroll(p).unroll(g).unroll(t);
  args = {w, x};
  return Pipeline(y);
}

// q8_0x8u: per block of 32 values, quant (row r, value 4c + j) at byte 32 c + 4 r + j, stored
// as q + 128; the scales (f16) in their own plane. The block's integer dot product starts at
// -128 * sum(x) and is exact; then y = fma(dot, dw * dx, y), block by block.
Pipeline gemvQ8x8u(std::vector<Argument>& args) {
  ImageParam wq(UInt(8), 5, "wq");   // [4 j, 8 r, 8 c, blocks, groups]
  ImageParam ws(UInt(16), 3, "ws");  // [8 r, blocks, groups]: f16 bits
  ImageParam xq(Int(8), 3, "xq");    // [4 j, 8 c, blocks]
  ImageParam xd(Float(32), 1, "xd"); // [blocks]
  ImageParam xs(Int(32), 1, "xs");   // [blocks]: sum of the block's xq
  Var r("r"), g("g"), b("b");
  Func dot("dot"), y("y");
  RDom jc(0, 4, 0, 8, "jc");
  dot(r, b, g) = -128 * xs(b);
  dot(r, b, g) += i32(wq(jc.x, r, jc.y, b, g)) * i32(xq(jc.x, jc.y, b));
  RDom kb(0, xd.dim(0).extent(), "kb");
  const Expr dw = cast<float>(reinterpret(Float(16), ws(r, kb, g)));
  y(r, g) = 0.f;
  y(r, g) += cast<float>(dot(r, kb, g)) * (dw * xd(kb));
  wq.dim(0).set_bounds(0, 4).set_stride(1).dim(1).set_bounds(0, kPackRows).set_stride(4);
  wq.dim(2).set_bounds(0, kBlockValues / 4).set_stride(kPackRows * 4).dim(3).set_stride(kPackRows * kBlockValues);
  ws.dim(0).set_bounds(0, kPackRows).set_stride(1).dim(1).set_stride(kPackRows);
  xq.dim(0).set_bounds(0, 4).set_stride(1).dim(1).set_bounds(0, kBlockValues / 4).set_stride(4).dim(2).set_stride(kBlockValues);
  y.output_buffer().dim(0).set_bounds(0, kPackRows).set_stride(1).dim(1).set_bounds(0, kGroups).set_stride(kPackRows);
  assumeElementAlignment({wq, ws, xq, xd, xs});
  y.vectorize(r).unroll(g);
  y.update().reorder(r, g, kb).vectorize(r).unroll(g);
  dot.compute_at(y, kb).vectorize(r).unroll(g);
  // The 4 products of an int32 lane reduced inside the vector: vpdpbusd / sdot.
  dot.update().reorder(jc.x, r, g, jc.y).atomic().vectorize(jc.x).vectorize(r).unroll(g).unroll(jc.y);
  args = {wq, ws, xq, xd, xs};
  return Pipeline(y);
}

bool has(const std::string& features, const std::string& f) {
  std::istringstream in(features);
  for (std::string w; in >> w;)
    if (w == f) return true;
  return false;
}

// The Halide target and llc's -mattr for the profile's features.
bool targetFor(const std::string& isa, const std::string& features, std::string& halide, std::string& mattr) {
  if (isa == "arm64") {
    // The float tiles widen f16 to f32 and multiply-add in f32, as the hand-written ones. With
    // fp16 (armv8.2) Halide widens by fcvtl; without it, by integer shifts and masks.
    halide = "arm-64-linux-no_runtime-no_asserts-no_bounds_query";
    mattr = "+neon";
    if (has(features, "fp16")) halide += "-arm_fp16", mattr += ",+fullfp16";
    return true;
  }
  if (isa != "x86-64") return false;
  halide = "x86-64-linux-no_runtime-no_asserts-no_bounds_query";
  mattr = "+sse4.2";
  for (const char* f : {"avx2", "fma", "f16c"})
    if (has(features, f)) halide += std::string("-") + f, mattr += std::string(",+") + f;
  if (has(features, "avx512f") && has(features, "avx512bw") && has(features, "avx512vl")) {
    halide += "-avx512-avx512_skylake";
    mattr += ",+avx512f,+avx512bw,+avx512vl,+avx512dq,+avx512cd";
    if (has(features, "avx512vnni")) halide += "-avx512_cannonlake-avx512_sapphirerapids", mattr += ",+avx512vnni";
  }
  return true;
}

int usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: edgecc-halide gemv_f32x8|gemv_f16x8|gemv_q8_0x8u|gemm_f32x8|gemm_f16x8 --isa x86-64|arm64 --features \"avx2 fma ...\" -o OUT.o\n"
               "  Makes one Halide-generated kernel for the given CPU features (edgecc compile runs it).\n");
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  std::string kernel, isa, features, out;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") return usage(0);
    if ((a == "--isa" || a == "--features" || a == "-o") && i + 1 < argc) {
      (a == "--isa" ? isa : a == "--features" ? features : out) = argv[++i];
    } else if (kernel.empty() && a[0] != '-') {
      kernel = a;
    } else {
      std::fprintf(stderr, "edgecc-halide: unexpected argument '%s'\n", a.c_str());
      return usage(2);
    }
  }
  if (kernel.empty() || out.empty()) return usage(2);
  std::string halideTarget, mattr;
  if (!targetFor(isa, features, halideTarget, mattr)) {
    std::fprintf(stderr, "edgecc-halide: no generated kernels for isa '%s'\n", isa.c_str());
    return 1;
  }
  std::vector<Argument> args;
  Pipeline p;
  const int gemmTokens = ek::halide::kGemmTokens;
  if (kernel == "gemv_f32x8") p = floatLinear(Float(32), 1, args);
  else if (kernel == "gemv_f16x8") p = floatLinear(Float(16), 1, args);
  else if (kernel == "gemm_f32x8") p = floatLinear(Float(32), gemmTokens, args);
  else if (kernel == "gemm_f16x8") p = floatLinear(Float(16), gemmTokens, args);
  else if (kernel == "gemv_q8_0x8u") p = gemvQ8x8u(args);
  else {
    std::fprintf(stderr, "edgecc-halide: unknown kernel '%s'\n", kernel.c_str());
    return 2;
  }
  const std::string ll = out + ".ll";
  p.compile_to({{OutputFileType::llvm_assembly, ll}}, args, "edgecc_halide_" + kernel, Target(halideTarget));
  const std::string cmd = std::string(EDGECC_LLC) + " -O3 -relocation-model=pic -filetype=obj -mattr=" + mattr + " '" + ll +
                          "' -o '" + out + "'";
  const int rc = std::system(cmd.c_str());
  std::remove(ll.c_str());
  if (rc != 0) {
    std::fprintf(stderr, "edgecc-halide: llc failed on %s (%s)\n", kernel.c_str(), cmd.c_str());
    return 1;
  }
  return 0;
}
