// `edgecc quality`: what each weight format costs in accuracy on one model and one text.
// Every variant is compiled, built and run over the text with llama-perplexity's chunking
// (runtime/llm/perplexity.h); the f32 build is the reference whose next-token distributions
// the others are compared with (runtime/llm/logit_compare.h: mean and 99th-percentile KL,
// top-1 agreement). Variants: edgecc's own --weights formats, and already-quantized files of
// the same model (e.g. llama-quantize's), so both quantizers meet on the same measure.
// Optionally the per-tensor sensitivity: the KL when one weight tensor alone is quantized.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "llvm/Support/Error.h"

namespace edgecc {

struct QualityOptions {
  std::string model;  // a float (f32 / f16) GGUF or ONNX model
  std::string text;
  std::vector<std::string> formats = {"f16", "q8_0", "q6_k", "q5_k", "q4_k", "q4_0", "q3_k", "q2_k"};
  std::vector<std::string> kv_types;             // e.g. {"f16", "q8_0"}: f32 weights with that KV cache
  std::vector<std::string> compare_files;        // quantized files of the same model
  std::vector<std::string> sensitivity_formats;  // e.g. {"q4_k", "q2_k"}: one run per tensor and format
  int64_t ctx = 0, chunks = -1, threads = 0;     // 0 / -1: the bundle's context, every chunk
  int64_t sensitivity_chunks = -1;                // the first chunks only, for the many sensitivity runs
  // Calibration text: each quantized format also rounded with error feedback (a "+cal" row).
  std::string calibration_text;
  int64_t calibration_chunks = 0;
  std::string target = "native";
  std::string work_dir;  // bundles are built here one at a time, then removed
  std::function<void(const std::string&)> progress;
};

struct QualityRow {
  std::string name;    // "q4_k", "q4_k+cal" (with calibration), "f32, KV q8_0", or the compared file's name
  std::string source;  // "edgecc --weights q4_k" or "file"
  double weight_bytes = 0, bits_per_weight = 0;
  double ppl = 0, ppl_error = 0, kl = 0, kl_p99 = 0, top1 = 0;
};

struct SensitivityRow {
  std::string tensor, format;
  double kl = 0, ppl = 0;
  int64_t chunks = 0;
};

struct QualityReport {
  QualityRow reference;  // f32
  std::vector<QualityRow> rows;
  std::vector<SensitivityRow> sensitivity;
  int64_t scored_tokens = 0, chunks = 0, n_ctx = 0;
};

llvm::Expected<QualityReport> measureQuality(const QualityOptions& options);

// The report as a table (stdout), JSON, and SVG pictures: perplexity against bits per
// weight, and the sensitivity of each tensor.
std::string qualityTable(const QualityReport& report);
std::string qualityJson(const QualityReport& report);
std::string qualitySvg(const QualityReport& report);
std::string sensitivitySvg(const QualityReport& report);

}  // namespace edgecc
