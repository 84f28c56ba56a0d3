// The generated forward pass as data: a table of buffers (where each tensor's data lives, its
// element type and shape) and a table of steps (a kernel, its attributes, its operands), run by
// one loop. model.cpp holds only the tables, so a bundle's code does not grow with the number
// of layers; each row is commented with the buffer's or op's name.
#pragma once
#include <cstdint>

#include "runtime/tensor.h"

namespace ek {

// Where a buffer's data is: a caller's input or output, an offset into the arena, the mapped
// weights or the state (KV cache), or the data of an earlier buffer (a view).
enum class Where : uint8_t { Input, Output, Arena, Weights, State, ViewOf };

// A shape of this run: forward() builds its few distinct shapes from the symbolic dims.
struct Shape {
  int rank;
  int64_t dims[kMaxRank];
};

struct BufferSpec {
  Where where;
  DType dtype;
  uint32_t shape;   // index into the run's shapes
  uint32_t index;   // Input/Output: which one; ViewOf: the buffer viewed
  int64_t offset;   // Arena/Weights/State: bytes from the base
};

// attrs.i[slot] = values[value]: an int attribute known only at run time.
struct AttrPatch {
  uint32_t slot, value;
};

// What a few steps do besides the call.
struct StepExtra {
  uint32_t first_patch, num_patches;  // run-time attributes, in the patch table
  // Non-null: ins[1] holds indices into axis `axis` of ins[0] (negative ones from the end if
  // `wraps`), checked before the call; one out of range stops the run with this message.
  const char* index_error;
  int axis;
  bool wraps;
  // Non-null (calibration bundles): called with observe_names and ins[0] before the call.
  void (*observe)(const char* names, const Tensor& x);
  const char* observe_names;
};

// Indices, not pointers: a table of pointers would need a relocation per row in a
// position-independent binary, larger than the row itself.
struct Step {
  uint32_t kernel;         // row of the kernel table
  uint32_t attrs;          // row of the attribute table
  uint32_t first_operand;  // its inputs, then its outputs, in the operand table
  uint16_t num_in, num_out;
  uint32_t extra;          // 0, or 1 + its row in the extras table
};

struct ForwardPlan {
  const KernelFn* kernels;
  const Attrs* attrs;
  const BufferSpec* buffers;
  int num_buffers;
  const Step* steps;
  int num_steps;
  const uint32_t* operands;  // buffer indices
  const StepExtra* extras;
  const AttrPatch* patches;
};

struct ForwardBases {
  const Tensor* inputs;
  Tensor* outputs;
  unsigned char* arena;
  const uint8_t* weights;
  unsigned char* state;
};

// Builds every buffer (into `buffers`, one per BufferSpec), then runs the steps in order, each
// kernel on copies of its operands in `scratch` (room for the most operands of any step).
// Returns nullptr, or what stopped the run (an index outside its table).
const char* run_forward(const ForwardPlan& plan, const ForwardBases& bases, const Shape* shapes, const int64_t* values,
                        Tensor* buffers, Tensor* scratch);

}  // namespace ek
