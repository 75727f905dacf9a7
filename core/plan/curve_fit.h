#pragma once
// Quality prediction from the loss of a plan: PPL(L) = a + b·ln(1 + L) (method.md §4), and the marks on
// a budget curve (knee, first point within 1 % of the unquantized prediction).
#include <cstdint>
#include <vector>

#include "plan/planner.h"

namespace squint {

struct CalibrationPoint {
  uint64_t budget = 0;
  double ppl = 0;
  double loss = 0;  // filled by planning at `budget`
};

struct CurveFit {
  double a = 0, b = 0.055;
  bool calibrated = false;
  double predict(double loss) const;
};

// One point: b = 0.055 (published), a from the point. Two or more: least squares in (ln(1+L), PPL).
CurveFit fit_curve(const std::vector<CalibrationPoint>& pts);

struct CurveMarks {
  int knee = -1;         // index of the point of diminishing returns
  int within_1pct = -1;  // first point whose predicted PPL is within 1 % of PPL(0); -1 without a fit
};
// Knee: the point farthest below the chord joining the first and last (bytes, loss) points, both axes
// normalised to [0, 1] (the "kneedle" rule).
CurveMarks mark_curve(const std::vector<CurvePoint>& pts, const CurveFit& fit);

}  // namespace squint
