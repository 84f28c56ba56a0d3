#include "runtime/forward_plan.h"

#include "runtime/model_support.h"

namespace ek {

const char* run_forward(const ForwardPlan& plan, const ForwardBases& bases, const Shape* shapes, const int64_t* values,
                        Tensor* buffers, Tensor* scratch) {
  for (int b = 0; b < plan.num_buffers; ++b) {
    const BufferSpec& spec = plan.buffers[b];
    const Shape& shape = shapes[spec.shape];
    Tensor& t = buffers[b];
    t = Tensor{};
    t.dtype = spec.dtype;
    t.rank = shape.rank;
    for (int d = 0; d < shape.rank; ++d) t.dims[d] = shape.dims[d];
    switch (spec.where) {
      case Where::Input: t.data = bases.inputs[spec.index].data; break;
      case Where::Output: t.data = bases.outputs[spec.index].data; break;
      case Where::Arena: t.data = bases.arena + spec.offset; break;
      case Where::Weights: t.data = const_cast<uint8_t*>(bases.weights) + spec.offset; break;
      case Where::State: t.data = bases.state + spec.offset; break;
      case Where::ViewOf: t.data = buffers[spec.index].data; break;
    }
  }
  for (int s = 0; s < plan.num_steps; ++s) {
    const Step& step = plan.steps[s];
    const uint32_t* operands = plan.operands + step.first_operand;
    for (int k = 0; k < step.num_in + step.num_out; ++k) scratch[k] = buffers[operands[k]];
    const Attrs* attrs = &plan.attrs[step.attrs];
    Attrs patched;
    if (step.extra) {
      const StepExtra& e = plan.extras[step.extra - 1];
      if (e.num_patches) {
        patched = *attrs;
        for (uint32_t p = e.first_patch; p < e.first_patch + e.num_patches; ++p)
          patched.i[plan.patches[p].slot] = values[plan.patches[p].value];
        attrs = &patched;
      }
      if (e.index_error && !indices_in_range(scratch[1], scratch[0].dims[e.axis], e.wraps)) return e.index_error;
      if (e.observe) e.observe(e.observe_names, scratch[0]);
    }
    plan.kernels[step.kernel](scratch, step.num_in, scratch + step.num_in, *attrs);
  }
  return nullptr;
}

}  // namespace ek
