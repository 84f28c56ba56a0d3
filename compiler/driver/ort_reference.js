// The reference side of `edgecc bisect`: runs an ONNX model with ONNX Runtime for Node and
// writes every output. Embedded in the compiler and written next to the tensors it exchanges.
// Graph optimizations are off, so each intermediate is computed by the op's own kernel.
//
//   node ort_reference.js ORT_MODULE_DIR MODEL.onnx DIR
//
// DIR/inputs.json lists the inputs ({name, dtype, dims, file}: raw little-endian bytes in
// DIR/file); every output is written the same way, listed in DIR/outputs.json in the
// session's output order. dtype is ONNX Runtime's name ("float32", "int64", "bool", ...).
const fs = require("fs");
const path = require("path");

const [moduleDir, modelPath, dir] = process.argv.slice(2);
if (!dir) {
  console.error("usage: node ort_reference.js ORT_MODULE_DIR MODEL.onnx DIR");
  process.exit(2);
}
const ort = require(moduleDir);

const kArrays = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, int8: Int8Array, uint8: Uint8Array,
  int16: Int16Array, uint16: Uint16Array, int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array,
  uint64: BigUint64Array, bool: Uint8Array,
};

function readTensor(entry) {
  const Array = kArrays[entry.dtype];
  if (!Array) throw new Error(`input '${entry.name}': unsupported dtype ${entry.dtype}`);
  const bytes = fs.readFileSync(path.join(dir, entry.file));
  // A copy, so the typed array starts aligned to its element size.
  const data = new Array(bytes.byteLength / Array.BYTES_PER_ELEMENT);
  new Uint8Array(data.buffer).set(bytes);
  return new ort.Tensor(entry.dtype, data, entry.dims);
}

async function main() {
  const session = await ort.InferenceSession.create(modelPath, { graphOptimizationLevel: "disabled" });
  const inputs = JSON.parse(fs.readFileSync(path.join(dir, "inputs.json"), "utf8"));
  const feeds = {};
  for (const entry of inputs) feeds[entry.name] = readTensor(entry);
  const results = await session.run(feeds);
  const listed = [];
  session.outputNames.forEach((name, k) => {
    const t = results[name];
    const file = `out_${k}.bin`;
    const data = t.data;
    fs.writeFileSync(path.join(dir, file), Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    listed.push({ name, dtype: t.type, dims: t.dims, file });
  });
  fs.writeFileSync(path.join(dir, "outputs.json"), JSON.stringify(listed));
}

main().catch((e) => {
  console.error(`ONNX Runtime: ${e.message || e}`);
  process.exit(1);
});
