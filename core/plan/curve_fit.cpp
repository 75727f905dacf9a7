#include "plan/curve_fit.h"

#include <cmath>

namespace squint {

double CurveFit::predict(double loss) const { return a + b * std::log1p(loss); }

CurveFit fit_curve(const std::vector<CalibrationPoint>& pts) {
  CurveFit f;
  if (pts.empty()) return f;
  f.calibrated = true;
  if (pts.size() == 1) {
    f.b = 0.055;
    f.a = pts[0].ppl - f.b * std::log1p(pts[0].loss);
    return f;
  }
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  const double n = static_cast<double>(pts.size());
  for (const auto& p : pts) {
    const double x = std::log1p(p.loss);
    sx += x;
    sy += p.ppl;
    sxx += x * x;
    sxy += x * p.ppl;
  }
  const double den = n * sxx - sx * sx;
  f.b = std::abs(den) > 1e-300 ? (n * sxy - sx * sy) / den : 0.055;
  f.a = (sy - f.b * sx) / n;
  return f;
}

CurveMarks mark_curve(const std::vector<CurvePoint>& pts, const CurveFit& fit) {
  CurveMarks m;
  if (pts.size() >= 3) {
    const double x0 = static_cast<double>(pts.front().bytes), x1 = static_cast<double>(pts.back().bytes);
    const double y0 = pts.front().objective, y1 = pts.back().objective;
    if (x1 > x0 && y0 > y1) {
      double best = 0;
      for (std::size_t i = 1; i + 1 < pts.size(); ++i) {
        const double x = (static_cast<double>(pts[i].bytes) - x0) / (x1 - x0);
        const double y = (pts[i].objective - y1) / (y0 - y1);
        const double below = (1.0 - x) - y;  // distance below the chord from (0,1) to (1,0)
        if (below > best) {
          best = below;
          m.knee = static_cast<int>(i);
        }
      }
    }
  }
  if (fit.calibrated) {
    const double ref = fit.predict(0.0);
    for (std::size_t i = 0; i < pts.size(); ++i)
      if (std::abs(fit.predict(pts[i].objective) - ref) <= 0.01 * std::abs(ref)) {
        m.within_1pct = static_cast<int>(i);
        break;
      }
  }
  return m;
}

}  // namespace squint
