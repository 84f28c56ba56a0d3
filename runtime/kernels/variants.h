// The per-ISA kernel variants, in one table: which kernel each replaces, for which weight
// formats, and which CPU features it needs. The compiler picks from it (the first variant, in
// this order, whose features the target has and that takes the op's format) and verifies each
// `exec.call` against it; a bundle declares and compiles only what its target's flags allow.
#pragma once
#include <cstdint>

#include "runtime/tensor.h"
#include "runtime/weight_format.h"

// Which variants this build compiles in (the target's compile flags decide). The VNNI kernel
// turns VNNI on for itself only (x86_avx512vnni/linear.cpp): the bundle's flags stop at
// AVX-512 BW/VL, and its CPU check asks for avx512vnni.
#if defined(__AVX512VL__) && defined(__AVX512BW__) && defined(__FMA__) && defined(__F16C__) && \
    (defined(__GNUC__) || defined(__clang__))
#define EK_COMPILED_x86_avx512vnni 1
#endif
// The Halide-generated kernels come as objects the bundle links when it uses them.
#if defined(EK_COMPILED_x86_avx512vnni) && defined(EK_HALIDE_KERNELS)
#define EK_COMPILED_x86_avx512vnni_halide 1
#endif
#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#define EK_COMPILED_x86_avx2 1
#endif
// Likewise the i8mm kernel turns i8mm on for itself (arm64_i8mm/linear.cpp): GCC 12 with +i8mm
// miscompiles plain signed int8 dot loops elsewhere, as with VNNI on x86.
#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD) && (defined(__GNUC__) || defined(__clang__))
#define EK_COMPILED_arm64_i8mm 1
#endif
#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)
#define EK_COMPILED_arm64_dotprod 1
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#define EK_COMPILED_arm64_neon 1
#endif
#if defined(EK_COMPILED_arm64_neon) && defined(EK_HALIDE_KERNELS)
#define EK_COMPILED_arm64_neon_halide 1
#endif
#if defined(EK_COMPILED_x86_avx512vnni) || defined(EK_COMPILED_x86_avx2) || defined(EK_COMPILED_arm64_neon)
#define EK_COMPILED_ANY_VARIANT 1
#endif

namespace ek {

constexpr uint32_t format_bit(WeightFormat f) { return 1u << uint32_t(f); }

struct KernelVariant {
  const char* ns;        // the C++ namespace under ek::, and the folder under runtime/kernels/
  const char* kernel;    // the portable kernel it replaces, with the same attribute slots
  const char* isa;       // "x86-64" or "arm64"
  const char* features;  // CPU features it needs, space-separated (cpu_features.h names)
  uint32_t formats;      // weight formats it takes (format_bit), slot i[0]
  // Vector registers a register tile keeps per token (accumulators), for quantized and for
  // float formats: the compiler sizes tiles from them and the target's register count.
  int quantized_registers_per_token, float_registers_per_token;
  int max_tile_tokens;   // the largest register tile the kernel has code for
  int groups_per_tile;   // adjacent groups of kPackRows rows a register tile covers
  const char* how;       // for report.json
  // The Halide-generated kernels (codegen/halide/) it links, space-separated; edgecc compile
  // makes them for the target. Such a variant runs only where the profile asks for generated
  // kernels (--kernels halide): benchmarks/bench_llm.py measures which is faster.
  const char* generated = nullptr;
};

inline constexpr KernelVariant kKernelVariants[] = {
    {"x86_avx512vnni_halide", "linear", "x86-64", "avx2 fma f16c avx512f avx512bw avx512vl avx512vnni",
     format_bit(WeightFormat::Q8_0x8u) | format_bit(WeightFormat::F32x8) | format_bit(WeightFormat::F16x8), 2, 2, 8, 2,
     "Halide-generated tiles over two groups of 8 interleaved rows: f32x8/f16x8 as a GEMM of 4 tokens (a GEMV for the rest), "
     "q8_0x8u one token as a GEMV (vpdpbusd), several q8_0x8u tokens as x86_avx512vnni",
     "gemv_f32x8 gemv_f16x8 gemm_f32x8 gemm_f16x8 gemv_q8_0x8u"},
    {"x86_avx512vnni", "linear", "x86-64", "avx2 fma f16c avx512f avx512bw avx512vl avx512vnni",
     format_bit(WeightFormat::Q8_0x8u) | format_bit(WeightFormat::Q4_0x8) | format_bit(WeightFormat::F32x8) |
         format_bit(WeightFormat::F16x8),
     2, 2, 8, 2,
     "two groups of 8 interleaved weight rows in zmm lanes (int8 dot products by vpdpbusd on q8_0 stored as q + 128; "
     "f16 widened by vcvtph2ps), no horizontal sums"},
    {"x86_avx2", "linear", "x86-64", "avx2 fma f16c",
     format_bit(WeightFormat::Q8_0x8) | format_bit(WeightFormat::Q4_0x8) | format_bit(WeightFormat::F32x8) |
         format_bit(WeightFormat::F16x8),
     2, 2, 8, 1, "8 interleaved weight rows in ymm lanes (int8 dot products by maddubs+madd; f16 widened by vcvtph2ps), no horizontal sums"},
    {"arm64_neon_halide", "linear", "arm64", "asimd", format_bit(WeightFormat::F32x8) | format_bit(WeightFormat::F16x8), 4, 4, 8, 2,
     "Halide-generated tiles over two groups of 8 interleaved rows: f32x8/f16x8 as a GEMM of 4 tokens (a GEMV for the rest)",
     "gemv_f32x8 gemv_f16x8 gemm_f32x8 gemm_f16x8"},
    {"arm64_i8mm", "linear", "arm64", "asimd dotprod i8mm", format_bit(WeightFormat::Q8_0x8k8) | format_bit(WeightFormat::Q4_0x8k8),
     4, 4, 6, 1, "8 interleaved weight rows in 8-value chunks, smmla 2x8 tiles (two tokens x two rows per instruction), single tokens by sdot"},
    {"arm64_dotprod", "linear", "arm64", "asimd dotprod",
     format_bit(WeightFormat::Q8_0x8k8) | format_bit(WeightFormat::Q4_0x8k8) | format_bit(WeightFormat::F32x8) |
         format_bit(WeightFormat::F16x8),
     6, 4, 4, 1, "8 interleaved weight rows in 8-value chunks, sdot on two rows per register (f16 widened by fcvtl), lanes of a row added once per block"},
    {"arm64_neon", "linear", "arm64", "asimd",
     format_bit(WeightFormat::Q8_0x8k8) | format_bit(WeightFormat::Q4_0x8k8) | format_bit(WeightFormat::F32x8) |
         format_bit(WeightFormat::F16x8),
     6, 4, 4, 1, "8 interleaved weight rows in 8-value chunks, smull + pairwise adds on two rows per register (f16 widened by fcvtl)"},
};

#if defined(EK_COMPILED_x86_avx512vnni)
namespace x86_avx512vnni {
void linear(const Tensor* in, int n_in, Tensor* out, const Attrs& a);
}
#endif
#if defined(EK_COMPILED_x86_avx512vnni_halide)
namespace x86_avx512vnni_halide {
void linear(const Tensor* in, int n_in, Tensor* out, const Attrs& a);
}
#endif
#if defined(EK_COMPILED_x86_avx2)
namespace x86_avx2 {
void linear(const Tensor* in, int n_in, Tensor* out, const Attrs& a);
}
#endif

#if defined(EK_COMPILED_arm64_neon_halide)
namespace arm64_neon_halide {
void linear(const Tensor* in, int n_in, Tensor* out, const Attrs& a);
}
#endif
#if defined(EK_COMPILED_arm64_i8mm)
namespace arm64_i8mm {
void linear(const Tensor* in, int n_in, Tensor* out, const Attrs& a);
}
#endif
#if defined(EK_COMPILED_arm64_dotprod)
namespace arm64_dotprod {
void linear(const Tensor* in, int n_in, Tensor* out, const Attrs& a);
}
#endif
#if defined(EK_COMPILED_arm64_neon)
namespace arm64_neon {
void linear(const Tensor* in, int n_in, Tensor* out, const Attrs& a);
}
#endif

}  // namespace ek
