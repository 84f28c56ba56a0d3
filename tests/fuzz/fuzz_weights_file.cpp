// The bundle's weights.bin loader: any file gives a mapped payload or an error, never a read
// outside the file. The expected size is taken from the file's own header (and from its
// length) so runs get past the size check to the checksum.
#include <cstring>

#include "runtime/weights.h"
#include "runtime/weights_format.h"
#include "tests/fuzz/fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = edgecc_fuzz::write_fuzz_file("weights.bin", data, size);
  uint64_t claimed = 0;
  if (size >= sizeof(ek::WeightsHeader)) std::memcpy(&claimed, data + offsetof(ek::WeightsHeader, payload_bytes), sizeof claimed);
  const uint64_t actual = size >= sizeof(ek::WeightsHeader) ? size - sizeof(ek::WeightsHeader) : 0;
  for (uint64_t expected : {claimed, actual}) {
    ek::WeightsFile w;
    std::string error;
    if (!w.open(path.c_str(), expected, &error)) {
      if (error.empty()) __builtin_trap();  // a refusal always says why
      continue;
    }
    // Accepted: every payload byte is readable.
    volatile uint8_t sum = 0;
    for (uint64_t i = 0; i < expected; ++i) sum = uint8_t(sum + w.payload()[i]);
  }
  return 0;
}
