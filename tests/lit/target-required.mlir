// RUN: edgecc-opt --edgecc-select-kernels --verify-diagnostics %s

// Passes that read the device find it on the module, or stop.
// expected-error @+1 {{the module has no target (edgecc.target); run --edgecc-attach-target first}}
module {
  func.func @f() {
    return
  }
}
