# Writes OUT, a C++ file holding each of FILES (paths relative to ROOT) as a string, so the
# compiler can copy the runtime into bundles without locating a source tree at run time.
string(REPLACE "|" ";" FILES "${FILES}")
file(WRITE "${OUT}.tmp" "// Generated from the runtime sources. Do not edit.\n#include \"codegen/EmbeddedRuntime.h\"\nnamespace edgecc {\nconst std::vector<EmbeddedFile>& embeddedRuntime() {\n  static const std::vector<EmbeddedFile> files = {\n")
foreach(f ${FILES})
  file(READ "${ROOT}/${f}" content)
  file(APPEND "${OUT}.tmp" "    {\"${f}\", R\"edgecc_embed(${content})edgecc_embed\"},\n")
endforeach()
file(APPEND "${OUT}.tmp" "  };\n  return files;\n}\n}  // namespace edgecc\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
