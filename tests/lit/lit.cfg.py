# lit configuration for the edgecc pass tests (FileCheck tests over edgecc-opt).
#   python3 /usr/lib/llvm-19/build/utils/lit/lit.py -v tests/lit --param edgecc_tools_dir=<build>/bin
import os

import lit.formats
import lit.util

config.name = "edgecc"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".mlir"]
config.excludes = ["lit.cfg.py"]

config.test_source_root = os.path.dirname(__file__)
repo_root = os.path.abspath(os.path.join(config.test_source_root, "..", ".."))

tools_dir = lit_config.params.get("edgecc_tools_dir", os.path.join(repo_root, "build", "bin"))
llvm_tools_dir = lit_config.params.get("llvm_tools_dir", "/usr/lib/llvm-19/bin")

# Test outputs go to the build tree (or wherever EDGECC_LIT_EXEC_ROOT points), never the sources.
config.test_exec_root = lit_config.params.get(
    "edgecc_lit_exec_root",
    os.environ.get("EDGECC_LIT_EXEC_ROOT", os.path.join(os.path.dirname(os.path.abspath(tools_dir)), "tests", "lit")),
)

for d in (llvm_tools_dir, tools_dir):  # the tools dir ends up first on PATH
    config.environment["PATH"] = os.path.pathsep.join((d, config.environment.get("PATH", "")))
config.substitutions.append(("%edgecc_opt", os.path.join(tools_dir, "edgecc-opt")))
