#include "compiler/driver/QualityReport.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include "compiler/driver/ModelRunner.h"
#include "compiler/import/GgufFile.h"
#include "compiler/quantize/BlockQuantizer.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

namespace edgecc {

namespace {

llvm::Error fail(const std::string& message) { return llvm::createStringError(llvm::inconvertibleErrorCode(), message); }

std::string fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

struct Measured {
  double ppl = 0, ppl_error = 0, kl = 0, kl_p99 = 0, top1 = 0, weight_bytes = 0;
  int64_t scored = 0, chunks = 0, n_ctx = 0;
};

// Builds `model` with `compile` into a fresh directory, runs its perplexity tool over the text
// (storing or comparing log-probabilities), then removes the bundle.
llvm::Expected<Measured> measure(const QualityOptions& o, const std::string& model, const CompileOptions& compile,
                                 const std::string& logitsFlag, const std::string& logitsFile, int64_t chunks) {
  const std::string bundle = o.work_dir + "/bundle";
  llvm::sys::fs::remove_directories(bundle);
  auto tool = prepareGenerate(model, compile, bundle);
  if (!tool) return tool.takeError();
  std::vector<std::string> cmd = {tool->exe, "--dir", tool->bundle, "--perplexity", o.text, "--json", logitsFlag, logitsFile};
  if (o.ctx > 0) cmd.insert(cmd.end(), {"--ctx", std::to_string(o.ctx)});
  if (chunks > 0) cmd.insert(cmd.end(), {"--chunks", std::to_string(chunks)});
  if (o.threads > 0) cmd.insert(cmd.end(), {"--threads", std::to_string(o.threads)});
  const std::string out = o.work_dir + "/run.out", err = o.work_dir + "/run.err";
  llvm::sys::fs::remove(out), llvm::sys::fs::remove(err);  // the redirects do not truncate
  std::vector<llvm::StringRef> argv(cmd.begin(), cmd.end());
  const std::optional<llvm::StringRef> redirects[] = {llvm::StringRef(""), llvm::StringRef(out), llvm::StringRef(err)};
  std::string why;
  const int rc = llvm::sys::ExecuteAndWait(cmd[0], argv, std::nullopt, redirects, 0, 0, &why);
  auto read = [](const std::string& path) {
    auto buf = llvm::MemoryBuffer::getFile(path);
    return buf ? (*buf)->getBuffer().str() : std::string();
  };
  if (rc != 0) {
    std::string e = read(err);
    while (!e.empty() && (e.back() == '\n' || e.back() == '\r')) e.pop_back();
    const size_t nl = e.find_last_of("\r\n");
    return fail(model + ": the perplexity run failed: " + (why.empty() ? e.substr(nl == std::string::npos ? 0 : nl + 1) : why));
  }
  std::string text = read(out);
  const size_t last = text.rfind('{');
  auto json = llvm::json::parse(last == std::string::npos ? text : text.substr(last));
  if (!json) return json.takeError();
  const llvm::json::Object* obj = json->getAsObject();
  auto num = [&](const char* key) { return obj ? obj->getNumber(key).value_or(0) : 0; };
  Measured m;
  m.ppl = num("ppl"), m.ppl_error = num("ppl_error"), m.kl = num("kl"), m.kl_p99 = num("kl_p99"), m.top1 = num("top1");
  m.scored = int64_t(num("scored_tokens")), m.chunks = int64_t(num("chunks")), m.n_ctx = int64_t(num("n_ctx"));
  uint64_t bytes = 0;
  llvm::sys::fs::file_size(bundle + "/weights.bin", bytes);
  m.weight_bytes = double(bytes);
  llvm::sys::fs::remove_directories(bundle);
  return m;
}

QualityRow rowOf(const std::string& name, const std::string& source, const Measured& m, double parameters) {
  QualityRow r;
  r.name = name, r.source = source;
  r.weight_bytes = m.weight_bytes, r.bits_per_weight = parameters > 0 ? 8 * m.weight_bytes / parameters : 0;
  r.ppl = m.ppl, r.ppl_error = m.ppl_error, r.kl = m.kl, r.kl_p99 = m.kl_p99, r.top1 = m.top1;
  return r;
}

std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) out += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : std::string(1, c);
  return out;
}

}  // namespace

llvm::Expected<QualityReport> measureQuality(const QualityOptions& o) {
  if (!llvm::sys::fs::exists(o.model)) return fail(o.model + ": no such model file");
  if (!llvm::sys::fs::exists(o.text)) return fail(o.text + ": no such text file");
  if (o.work_dir.empty()) return fail("quality needs a work directory");
  llvm::sys::fs::create_directories(o.work_dir);
  auto stage = [&](const std::string& s) {
    if (o.progress) o.progress(s);
  };
  CompileOptions base;
  base.target = o.target;
  base.all_logits = true;
  const std::string referenceLogits = o.work_dir + "/reference.logprobs";

  QualityReport report;
  stage("reference: " + o.model + " with f32 weights");
  CompileOptions f32 = base;
  f32.weights = "f32";
  auto ref = measure(o, o.model, f32, "--save-logits", referenceLogits, o.chunks);
  if (!ref) return ref.takeError();
  const double parameters = ref->weight_bytes / 4;  // every weight (norms too) as f32
  report.reference = rowOf("f32", "edgecc --weights f32", *ref, parameters);
  report.scored_tokens = ref->scored, report.chunks = ref->chunks, report.n_ctx = ref->n_ctx;

  // One row: a model file compiled with `c`, its logits compared with the reference's.
  auto addRow = [&](const std::string& file, const CompileOptions& c, const std::string& name,
                    const std::string& source) -> llvm::Error {
    stage(source == "file" ? "file " + file : source.substr(std::string("edgecc ").size()));
    auto m = measure(o, file, c, "--compare-logits", referenceLogits, o.chunks);
    if (!m) return m.takeError();
    report.rows.push_back(rowOf(name, source, *m, parameters));
    return llvm::Error::success();
  };
  for (const std::string& format : o.formats) {
    CompileOptions c = base;
    c.weights = format;
    if (auto e = addRow(o.model, c, format, "edgecc --weights " + format)) return std::move(e);
  }
  if (!o.calibration_text.empty())
    for (const std::string& format : o.formats) {
      auto f = parseQuantizableFormat(format);
      if (!f || !ek::is_quantized(*f)) continue;
      CompileOptions c = base;
      c.weights = format;
      c.calibration_text = o.calibration_text;
      c.calibration_chunks = o.calibration_chunks;
      c.progress = o.progress;
      if (auto e = addRow(o.model, c, format + "+cal", "edgecc --weights " + format + " --calibration")) return std::move(e);
    }
  for (const std::string& kv : o.kv_types) {
    CompileOptions c = f32;
    c.kv_type = kv;
    if (auto e = addRow(o.model, c, "f32, KV " + kv, "edgecc --weights f32 --kv-type " + kv)) return std::move(e);
  }
  for (const std::string& file : o.compare_files)
    if (auto e = addRow(file, base, llvm::sys::path::filename(file).str(), "file")) return std::move(e);

  if (!o.sensitivity_formats.empty()) {
    auto file = gguf::File::open(o.model);
    if (!file) return fail(o.model + ": per-tensor sensitivity needs a GGUF model (" + llvm::toString(file.takeError()) + ")");
    std::vector<std::string> tensors;
    for (const gguf::TensorInfo& t : (*file)->tensors())
      if (t.ne.size() == 2 && (gguf::TensorType(t.type) == gguf::TensorType::F32 || gguf::TensorType(t.type) == gguf::TensorType::F16))
        tensors.push_back(t.name);
    int64_t done = 0;
    for (const std::string& tensor : tensors)
      for (const std::string& format : o.sensitivity_formats) {
        stage("sensitivity " + std::to_string(++done) + "/" + std::to_string(tensors.size() * o.sensitivity_formats.size()) +
              ": " + tensor + " alone in " + format);
        CompileOptions c = f32;
        c.weight_overrides = {tensor + "=" + format};
        // A prefix of the reference's positions: fewer chunks read the start of its file.
        const int64_t chunks = o.sensitivity_chunks > 0 && (o.chunks <= 0 || o.sensitivity_chunks < o.chunks) ? o.sensitivity_chunks : o.chunks;
        auto m = measure(o, o.model, c, "--compare-logits", referenceLogits, chunks);
        if (!m) return m.takeError();
        report.sensitivity.push_back({tensor, format, m->kl, m->ppl, m->chunks});
      }
  }
  llvm::sys::fs::remove(referenceLogits);
  return report;
}

std::string qualityTable(const QualityReport& r) {
  std::string s = "| weights | source | bits/weight | weights MiB | PPL | vs f32 | KL mean | KL p99 | top-1 |\n"
                  "|---|---|---|---|---|---|---|---|---|\n";
  auto line = [&](const QualityRow& q, bool reference) {
    s += "| " + q.name + " | " + q.source + " | " + fmt("%.2f", q.bits_per_weight) + " | " + fmt("%.2f", q.weight_bytes / 1048576) +
         " | " + fmt("%.4f", q.ppl) + " ± " + fmt("%.2f", q.ppl_error) + " | " +
         (reference ? std::string("-") : fmt("%+.2f %%", 100 * (q.ppl / r.reference.ppl - 1))) + " | " +
         (reference ? std::string("-") : fmt("%.5f", q.kl)) + " | " + (reference ? std::string("-") : fmt("%.5f", q.kl_p99)) +
         " | " + (reference ? std::string("-") : fmt("%.2f %%", 100 * q.top1)) + " |\n";
  };
  line(r.reference, true);
  for (const QualityRow& q : r.rows) line(q, false);
  if (!r.sensitivity.empty()) {
    std::vector<std::string> formats;
    for (const SensitivityRow& x : r.sensitivity)
      if (std::find(formats.begin(), formats.end(), x.format) == formats.end()) formats.push_back(x.format);
    s += "\nper-tensor sensitivity: KL from f32 when the tensor alone is quantized (first " +
         std::to_string(r.sensitivity.front().chunks) + " chunks)\n\n| tensor |";
    for (const std::string& f : formats) s += " KL " + f + " |";
    s += "\n|---|";
    for (size_t i = 0; i < formats.size(); ++i) s += "---|";
    s += "\n";
    std::map<std::string, std::map<std::string, double>> byTensor;
    std::vector<std::string> order;
    for (const SensitivityRow& x : r.sensitivity) {
      if (!byTensor.count(x.tensor)) order.push_back(x.tensor);
      byTensor[x.tensor][x.format] = x.kl;
    }
    for (const std::string& t : order) {
      s += "| " + t + " |";
      for (const std::string& f : formats) s += " " + fmt("%.5f", byTensor[t][f]) + " |";
      s += "\n";
    }
  }
  s += "\n" + std::to_string(r.chunks) + " chunks of " + std::to_string(r.n_ctx) + " tokens, " + std::to_string(r.scored_tokens) +
       " scored; KL(f32 || weights) in nats per token; bits/weight = 8 x weights.bin bytes / parameters\n";
  return s;
}

std::string qualityJson(const QualityReport& r) {
  auto row = [](const QualityRow& q) {
    return llvm::json::Object{{"weights", q.name},          {"source", q.source}, {"weight_bytes", q.weight_bytes},
                              {"bits_per_weight", q.bits_per_weight}, {"ppl", q.ppl},       {"ppl_error", q.ppl_error},
                              {"kl", q.kl},                 {"kl_p99", q.kl_p99}, {"top1", q.top1}};
  };
  llvm::json::Array rows, sens;
  for (const QualityRow& q : r.rows) rows.push_back(row(q));
  for (const SensitivityRow& x : r.sensitivity)
    sens.push_back(llvm::json::Object{{"tensor", x.tensor}, {"weights", x.format}, {"kl", x.kl}, {"ppl", x.ppl}, {"chunks", x.chunks}});
  llvm::json::Object out{{"reference", row(r.reference)}, {"rows", std::move(rows)}, {"sensitivity", std::move(sens)},
                         {"chunks", r.chunks}, {"n_ctx", r.n_ctx}, {"scored_tokens", r.scored_tokens}};
  std::string s;
  llvm::raw_string_ostream os(s);
  os << llvm::formatv("{0:2}", llvm::json::Value(std::move(out)));
  return os.str() + "\n";
}

// Perplexity over bits per weight: one point per row, edgecc's formats and compared files in
// two colours, the f32 reference as a dashed line.
std::string qualitySvg(const QualityReport& r) {
  const double W = 720, H = 440, L = 70, R = 20, T = 40, B = 50;
  double xmax = 0, ymin = r.reference.ppl, ymax = r.reference.ppl;
  for (const QualityRow& q : r.rows) xmax = std::max(xmax, q.bits_per_weight), ymin = std::min(ymin, q.ppl), ymax = std::max(ymax, q.ppl);
  xmax = std::ceil(std::max(xmax, 8.0) / 2) * 2;
  const double pad = (ymax - ymin) * 0.08 + 1e-9;
  ymin -= pad, ymax += pad;
  auto X = [&](double v) { return L + (W - L - R) * v / xmax; };
  auto Y = [&](double v) { return T + (H - T - B) * (1 - (v - ymin) / (ymax - ymin)); };
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", W) + "\" height=\"" + fmt("%.0f", H) +
                  "\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  s += "<text x=\"" + fmt("%.0f", L) + "\" y=\"22\" font-size=\"15\">Held-out perplexity by bits per weight (lower left is better)</text>\n";
  for (double x = 0; x <= xmax + 1e-9; x += 2)
    s += "<line x1=\"" + fmt("%.1f", X(x)) + "\" y1=\"" + fmt("%.1f", T) + "\" x2=\"" + fmt("%.1f", X(x)) + "\" y2=\"" + fmt("%.1f", H - B) +
         "\" stroke=\"#eee\"/><text x=\"" + fmt("%.1f", X(x)) + "\" y=\"" + fmt("%.1f", H - B + 16) + "\" text-anchor=\"middle\">" +
         fmt("%.0f", x) + "</text>\n";
  for (int i = 0; i <= 5; ++i) {
    const double v = ymin + (ymax - ymin) * i / 5;
    s += "<text x=\"" + fmt("%.1f", L - 6) + "\" y=\"" + fmt("%.1f", Y(v) + 4) + "\" text-anchor=\"end\">" + fmt("%.2f", v) + "</text>\n";
  }
  s += "<text x=\"" + fmt("%.1f", (L + W - R) / 2) + "\" y=\"" + fmt("%.1f", H - 12) + "\" text-anchor=\"middle\">bits per weight</text>\n";
  s += "<line x1=\"" + fmt("%.1f", L) + "\" y1=\"" + fmt("%.1f", Y(r.reference.ppl)) + "\" x2=\"" + fmt("%.1f", W - R) + "\" y2=\"" +
       fmt("%.1f", Y(r.reference.ppl)) + "\" stroke=\"#888\" stroke-dasharray=\"5,4\"/><text x=\"" + fmt("%.1f", W - R) + "\" y=\"" +
       fmt("%.1f", Y(r.reference.ppl) - 5) + "\" text-anchor=\"end\" fill=\"#666\">f32 " + fmt("%.3f", r.reference.ppl) + "</text>\n";
  for (const QualityRow& q : r.rows) {
    const bool ours = q.source != "file";
    s += "<circle cx=\"" + fmt("%.1f", X(q.bits_per_weight)) + "\" cy=\"" + fmt("%.1f", Y(q.ppl)) + "\" r=\"5\" fill=\"" +
         (ours ? "#1f77b4" : "#d62728") + "\"/><text x=\"" + fmt("%.1f", X(q.bits_per_weight) + 7) + "\" y=\"" +
         fmt("%.1f", Y(q.ppl) + (ours ? -6 : 14)) + "\" fill=\"" + (ours ? "#1f77b4" : "#d62728") + "\">" + escape(q.name) + "</text>\n";
  }
  s += "<text x=\"" + fmt("%.1f", W - R) + "\" y=\"" + fmt("%.1f", T + 14) + "\" text-anchor=\"end\"><tspan fill=\"#1f77b4\">● edgecc --weights</tspan>"
       "  <tspan fill=\"#d62728\">● quantized files</tspan></text>\n</svg>\n";
  return s;
}

// One row per tensor, a bar per format, KL on a log scale (sensitivities span decades).
std::string sensitivitySvg(const QualityReport& r) {
  std::vector<std::string> tensors, formats;
  double kmin = 1e30, kmax = 0;
  for (const SensitivityRow& x : r.sensitivity) {
    if (std::find(tensors.begin(), tensors.end(), x.tensor) == tensors.end()) tensors.push_back(x.tensor);
    if (std::find(formats.begin(), formats.end(), x.format) == formats.end()) formats.push_back(x.format);
    if (x.kl > 0) kmin = std::min(kmin, x.kl), kmax = std::max(kmax, x.kl);
  }
  if (tensors.empty() || kmax <= 0) return "";
  const double lo = std::floor(std::log10(kmin)), hi = std::ceil(std::log10(kmax));
  const double L = 190, R = 20, T = 50, rowH = 6.0 * double(formats.size()) + 6, W = 760;
  const double H = T + rowH * double(tensors.size()) + 40;
  const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
  auto X = [&](double kl) { return L + (W - L - R) * (std::log10(std::max(kl, std::pow(10.0, lo))) - lo) / std::max(hi - lo, 1.0); };
  std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", W) + "\" height=\"" + fmt("%.0f", H) +
                  "\" font-family=\"sans-serif\" font-size=\"10\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
                  "<text x=\"10\" y=\"20\" font-size=\"14\">KL from f32 when one tensor alone is quantized (log scale)</text>\n";
  for (size_t f = 0; f < formats.size(); ++f)
    s += "<text x=\"" + fmt("%.0f", L + 140.0 * double(f)) + "\" y=\"38\" fill=\"" + colours[f % 4] + "\" font-size=\"12\">■ " + escape(formats[f]) + "</text>\n";
  for (double e = lo; e <= hi + 1e-9; e += 1)
    s += "<line x1=\"" + fmt("%.1f", X(std::pow(10.0, e))) + "\" y1=\"" + fmt("%.1f", T) + "\" x2=\"" + fmt("%.1f", X(std::pow(10.0, e))) +
         "\" y2=\"" + fmt("%.1f", H - 30) + "\" stroke=\"#ddd\"/><text x=\"" + fmt("%.1f", X(std::pow(10.0, e))) + "\" y=\"" +
         fmt("%.1f", H - 16) + "\" text-anchor=\"middle\">1e" + fmt("%.0f", e) + "</text>\n";
  for (size_t t = 0; t < tensors.size(); ++t) {
    const double y = T + rowH * double(t);
    s += "<text x=\"" + fmt("%.1f", L - 6) + "\" y=\"" + fmt("%.1f", y + rowH / 2 + 3) + "\" text-anchor=\"end\">" + escape(tensors[t]) + "</text>\n";
    for (const SensitivityRow& x : r.sensitivity) {
      if (x.tensor != tensors[t]) continue;
      const size_t f = size_t(std::find(formats.begin(), formats.end(), x.format) - formats.begin());
      s += "<rect x=\"" + fmt("%.1f", L) + "\" y=\"" + fmt("%.1f", y + 3 + 6.0 * double(f)) + "\" width=\"" + fmt("%.1f", X(x.kl) - L) +
           "\" height=\"5\" fill=\"" + colours[f % 4] + "\"/>\n";
    }
  }
  return s + "</svg>\n";
}

}  // namespace edgecc
