//===- GptqCalibration.h - the calibration run behind int4-gptq -*- C++ -*-===//
//
// `llamac compile --quantize int4-gptq --calibration FILE`: before the
// quantized weights are computed, the same checkpoint is compiled once more
// as an instrumented f32 CPU artifact (a temporary file), the calibration
// text is run through it by the runtime library, and the Hessians of every
// projection's inputs are collected from the kernels' own buffers
// (compiler/quantize/Calibration.h). GPTQ (compiler/quantize/Gptq.h) then
// chooses each int4 matrix against its Hessian.
//
//===----------------------------------------------------------------------===//

#ifndef LLAMAC_COMPILER_DRIVER_GPTQCALIBRATION_H
#define LLAMAC_COMPILER_DRIVER_GPTQCALIBRATION_H

#include "compiler/artifact/WeightTable.h"
#include "compiler/driver/Compile.h"
#include "compiler/quantize/QuantizedWeights.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace llamac {

/// Checks the calibration options against `--quantize` and reads the text:
/// int4-gptq needs --calibration, a readable regular file holding more
/// than whitespace; the other schemes take none of the calibration flags.
/// Returns the text (empty when no calibration is needed).
llvm::Expected<std::string> readCalibrationText(const CompileOptions &options);

/// Compiles `options.input` as the instrumented f32 model, runs `text`
/// through it and returns the quantizer that runs GPTQ on each tensor of
/// `table` marked gptq. Progress goes to `log` when `progress` is set.
llvm::Expected<GptqQuantizer> calibrateGptq(const CompileOptions &options,
                                            const std::string &text,
                                            llvm::ArrayRef<WeightSpec> table,
                                            llvm::raw_ostream &log, bool progress);

} // namespace llamac

#endif // LLAMAC_COMPILER_DRIVER_GPTQCALIBRATION_H
