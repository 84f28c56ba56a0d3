// Helpers shared by the scripts that run decoders with ONNX Runtime for Node
// (benchmarks/ort_generate.js, tests/e2e/ort_llm_steps.js).

// The greedy token: argmax of the last position's logits [1, seq, vocab].
function argmaxLast(logits) {
  const [, seq, vocab] = logits.dims;
  const data = logits.data, base = (seq - 1) * vocab;
  let best = 0;
  for (let i = 1; i < vocab; ++i) if (data[base + i] > data[base + best]) best = i;
  return best;
}

module.exports = { argmaxLast };
