// What a bundle should do on its device, estimated (not measured) from what one decoded token
// costs and the device profile: bytes read from DRAM, the tokens/s that the profile's DRAM
// bandwidth allows (decode reads every weight once per token, so bandwidth bounds it), the
// memory it keeps resident, and the energy per token from stated per-byte and per-operation
// constants (DeviceEstimate.cpp cites them).
#pragma once

#include <cstdint>
#include <string>

#include "compiler/target/DeviceProfile.h"

namespace edgecc {

// One decoded token, from the program (codegen counts it while it emits the calls).
struct TokenCost {
  int64_t weight_bytes = 0;          // weights read: every linear's matrix, an embedding row
  int64_t kv_bytes_per_position = 0;  // K and V of one position, all layers
  int64_t activation_bytes = 0;      // activations the linears read and write (cache-resident)
  int64_t int8_macs = 0, float_macs = 0;  // multiply-adds of the linears
  int64_t resident_bytes = 0;        // weights + arena + KV cache at its full length
};

struct DeviceEstimate {
  int64_t context = 0;            // positions in the KV cache the figures assume
  int64_t dram_bytes = 0;         // weights + KV at `context`, per token
  double roofline_tokens_per_s = 0;  // dram_gbps / dram_bytes (0: the profile has no bandwidth)
  double dram_mj = 0, compute_mj = 0;  // energy per token, millijoules (0: no memory type)
  std::string basis;              // the constants used, with their sources
};

DeviceEstimate estimateOnDevice(const DeviceProfile& device, const TokenCost& cost, int64_t context);

// The estimate as a JSON object (report.json's "expected_on_device") and as lines for `compile`.
std::string estimateJson(const DeviceProfile& device, const TokenCost& cost, const DeviceEstimate& e);
std::string estimateText(const DeviceProfile& device, const TokenCost& cost, const DeviceEstimate& e);

}  // namespace edgecc
