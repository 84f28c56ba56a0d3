// --calibration TEXT: what error-feedback rounding (compiler/quantize/Gptq.h) needs to know
// about a model's inputs. The model is compiled as a calibration bundle (float weights, every
// float linear's input observed: runtime/input_statistics.h), built for this machine, and run
// over the text with the perplexity tool's chunking. The statistics file it writes is kept
// beside that cached bundle, keyed by the text and the number of chunks.
#pragma once

#include <string>

#include "compiler/driver/Pipeline.h"
#include "llvm/Support/Error.h"

namespace edgecc {

constexpr int64_t kDefaultCalibrationChunks = 32;  // chunks of the model's context

// Returns the path of the input statistics of `model` over options.calibration_text.
llvm::Expected<std::string> observeInputs(const std::string& model, const CompileOptions& options);

}  // namespace edgecc
