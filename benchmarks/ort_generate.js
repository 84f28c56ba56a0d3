// Greedy generation with ONNX Runtime (onnxruntime-node) on a decoder exported with explicit
// past_*/present_* tensors (examples/models/make_gguf.py --onnx): a prefill of the prompt, then
// one step per generated token with the present tensors fed back as past. Prints one JSON line,
// timed as edgecc's model_generate times itself (prefill, then decode steps; load apart).
//
//   node benchmarks/ort_generate.js ORT_MODULE_DIR MODEL.onnx IDS(comma-separated) N THREADS KV_HEADS HEAD_DIM
const [moduleDir, modelPath, idsArg, nArg, threadsArg, headsArg, headDimArg] = process.argv.slice(2);
if (!headDimArg) {
  console.error("usage: node ort_generate.js ORT_MODULE_DIR MODEL.onnx IDS N THREADS KV_HEADS HEAD_DIM");
  process.exit(2);
}
const ort = require(moduleDir);
const { argmaxLast } = require(require("path").join(__dirname, "ort_common.js"));

async function main() {
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: Number(threadsArg), interOpNumThreads: 1, executionMode: "sequential",
    graphOptimizationLevel: "all",
  });
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const pastNames = session.inputNames.filter((n) => n.startsWith("past_"));
  const ids = idsArg.split(",").map(Number);
  const feeds = { input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) };
  // An empty past: [1, KV heads, 0, head dim].
  for (const n of pastNames) feeds[n] = new ort.Tensor("float32", new Float32Array(0), [1, Number(headsArg), 0, Number(headDimArg)]);
  const tp = process.hrtime.bigint();
  let out = await session.run(feeds);
  const prefillS = Number(process.hrtime.bigint() - tp) / 1e9;
  const generated = [argmaxLast(out.logits)];
  const td = process.hrtime.bigint();
  for (let step = 1; step < Number(nArg); ++step) {
    const next = { input_ids: new ort.Tensor("int64", BigInt64Array.from([BigInt(generated[generated.length - 1])]), [1, 1]) };
    for (const n of pastNames) next[n] = out[n.replace("past_", "present_")];
    out = await session.run(next);
    generated.push(argmaxLast(out.logits));
  }
  const decodeS = Number(process.hrtime.bigint() - td) / 1e9;
  console.log(JSON.stringify({
    ids: generated, load_ms: loadMs, prefill_tok_s: ids.length / prefillS,
    decode_tok_s: Number(nArg) > 1 ? (Number(nArg) - 1) / decodeS : 0,
  }));
}

main().catch((e) => {
  console.error(`ort_generate: ${e.message || e}`);
  process.exit(1);
});
