// edgecc-opt: runs edgecc's passes on MLIR text, for lit/FileCheck tests and debugging.
#include "compiler/driver/Pipeline.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char** argv) {
  mlir::DialectRegistry registry;
  edgecc::registerDialects(registry);
  edgecc::registerAllPasses();
  return mlir::asMainReturnCode(mlir::MlirOptMain(argc, argv, "edgecc optimizer driver\n", registry));
}
