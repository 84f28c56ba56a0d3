// Reads what a calibration bundle observed (runtime/input_statistics.h): for each float weight,
// the second moment of its inputs over the calibration text.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "llvm/Support/Error.h"

namespace edgecc {

struct InputMoments {
  int64_t k = 0;
  double tokens = 0;
  std::vector<float> h;  // k x k, symmetric
};

// Weight name -> the moments of its input (weights that read one input share one entry).
using InputStatistics = std::map<std::string, std::shared_ptr<const InputMoments>>;

llvm::Expected<InputStatistics> readInputStatistics(const std::string& path);

}  // namespace edgecc
