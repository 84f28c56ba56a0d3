# lit configuration for the edgecc pass tests (FileCheck tests over edgecc-opt).
#   python3 /usr/lib/llvm-19/build/utils/lit/lit.py -v tests/lit --param edgecc_tools_dir=<build>/bin
# Params: edgecc_tools_dir (default <repo>/build/bin), edgecc_exec_root (default: tests/lit next
# to the tools' build dir; env EDGECC_LIT_EXEC_ROOT also works), llvm_tools_dir (default
# /usr/lib/llvm-19/bin, for FileCheck and not).
import os

import lit.formats

config.name = "edgecc"
config.test_format = lit.formats.ShTest(True)
config.suffixes = [".mlir"]

config.test_source_root = os.path.dirname(__file__)
repo_root = os.path.abspath(os.path.join(config.test_source_root, "..", ".."))

tools_dir = os.path.abspath(lit_config.params.get("edgecc_tools_dir", os.path.join(repo_root, "build", "bin")))
llvm_tools_dir = lit_config.params.get("llvm_tools_dir", "/usr/lib/llvm-19/bin")

# Test outputs go to the build tree, never into the sources.
config.test_exec_root = lit_config.params.get(
    "edgecc_exec_root",
    os.environ.get("EDGECC_LIT_EXEC_ROOT", os.path.join(os.path.dirname(tools_dir), "tests", "lit")),
)

# edgecc-opt from the tools dir first, then FileCheck and not.
config.environment["PATH"] = os.pathsep.join((tools_dir, llvm_tools_dir, config.environment.get("PATH", "")))
