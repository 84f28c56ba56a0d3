#include "codegen/GeneratedKernels.h"

#include <sstream>

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"

namespace edgecc {

namespace {

llvm::Error fail(const std::string& msg) { return llvm::createStringError(llvm::inconvertibleErrorCode(), "%s", msg.c_str()); }

// edgecc-halide next to this program (an installed edgecc), else where the build put it.
std::string generatorPath() {
  static int anchor;
  const std::string self = llvm::sys::fs::getMainExecutable(nullptr, &anchor);
  llvm::SmallString<256> beside(llvm::sys::path::parent_path(self));
  llvm::sys::path::append(beside, "edgecc-halide");
  if (llvm::sys::fs::can_execute(beside)) return std::string(beside);
#ifdef EDGECC_HALIDE_GENERATOR
  if (llvm::sys::fs::can_execute(EDGECC_HALIDE_GENERATOR)) return EDGECC_HALIDE_GENERATOR;
#endif
  return "";
}

}  // namespace

llvm::Expected<std::vector<std::string>> generateKernels(const std::set<std::string>& variants, const DeviceProfile& target,
                                                         const std::string& dir) {
  std::vector<std::string> objects;
  for (const ek::KernelVariant& v : ek::kKernelVariants) {
    if (!v.generated || !variants.count(v.ns)) continue;
    const std::string generator = generatorPath();
    if (generator.empty())
      return fail(std::string("variant ") + v.ns + " needs Halide-generated kernels, but this edgecc was built without "
                  "edgecc-halide (Halide 14 and llc-14: scripts/setup.sh); compile without --kernels halide");
    std::istringstream names(v.generated);
    for (std::string name; names >> name;) {
      const std::string object = std::string("runtime/kernels/") + v.ns + "/" + name + ".o";
      const std::string path = dir + "/" + object;
      llvm::SmallVector<llvm::StringRef> args = {generator, name, "--isa", target.isa, "--features", target.features, "-o", path};
      std::string message;
      const int rc = llvm::sys::ExecuteAndWait(generator, args, std::nullopt, {}, 0, 0, &message);
      if (rc != 0)
        return fail("edgecc-halide failed to make " + name + " for target " + target.name + (message.empty() ? "" : ": " + message));
      objects.push_back(object);
    }
  }
  return objects;
}

}  // namespace edgecc
