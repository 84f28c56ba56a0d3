// Reference outputs of an ONNX decoder with a KV cache (Hugging Face / GenAI style: input_ids,
// attention_mask, optional position_ids, past_key_values.N.* -> logits, present.N.*), computed
// by ONNX Runtime (onnxruntime-node, which implements the com.microsoft ops on CPU):
//   1. a prefill of the prompt on an empty cache: logits and presents;
//   2. one decode step of DECODE_ID on those presents: logits;
//   3. greedy generation of N tokens from the prompt.
// Prints one JSON object; tensors as {dims, data}.
//
//   node ort_llm_steps.js ORT_MODULE_DIR MODEL.onnx PROMPT_IDS(comma-separated) DECODE_ID N KV_HEADS HEAD_DIM
const [moduleDir, modelPath, idsArg, decodeArg, nArg, headsArg, headDimArg] = process.argv.slice(2);
if (!headDimArg) {
  console.error("usage: node ort_llm_steps.js ORT_MODULE_DIR MODEL.onnx PROMPT_IDS DECODE_ID N KV_HEADS HEAD_DIM");
  process.exit(2);
}
const ort = require(moduleDir);
const { argmaxLast } = require(require("path").join(__dirname, "..", "..", "benchmarks", "ort_common.js"));

const int64 = (values, dims) => new ort.Tensor("int64", BigInt64Array.from(values.map(BigInt)), dims);
const plain = (t) => ({ dims: t.dims, data: Array.from(t.data) });

async function main() {
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential",
  });
  const pastNames = session.inputNames.filter((n) => n.startsWith("past"));
  const presentOf = (past) => past.replace("past_key_values", "present");
  const empty = () => new ort.Tensor("float32", new Float32Array(0), [1, Number(headsArg), 0, Number(headDimArg)]);

  // One step: ids at positions past .. past + ids.length, a mask of ones over all of them.
  async function step(ids, past, pastLen) {
    const total = pastLen + ids.length;
    const feeds = { input_ids: int64(ids, [1, ids.length]), attention_mask: int64(Array(total).fill(1), [1, total]) };
    if (session.inputNames.includes("position_ids"))
      feeds.position_ids = int64(ids.map((_, i) => pastLen + i), [1, ids.length]);
    for (const n of pastNames) feeds[n] = past ? past[presentOf(n)] : empty();
    return session.run(feeds);
  }

  const prompt = idsArg.split(",").map(Number);
  const prefill = await step(prompt, null, 0);
  const decode = await step([Number(decodeArg)], prefill, prompt.length);
  const greedy = [];
  let out = prefill, len = prompt.length;
  for (let i = 0; i < Number(nArg); ++i) {
    greedy.push(argmaxLast(out.logits));
    if (i + 1 < Number(nArg)) out = await step([greedy[i]], out, len++);  // the last token needs no step
  }
  const presents = {};
  for (const n of pastNames) presents[presentOf(n)] = plain(prefill[presentOf(n)]);
  console.log(JSON.stringify({ prefill: { logits: plain(prefill.logits), presents }, decode: { logits: plain(decode.logits) }, greedy }));
}

main().catch((e) => {
  console.error(`ort_llm_steps: ${e.message || e}`);
  process.exit(1);
});
