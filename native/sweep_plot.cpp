#include "sweep_plot.h"

#include <algorithm>
#include <map>

#include "util/svg_plot.h"

namespace squint {

// KL mean (log scale) against bits per weight: each squint setting as a curve, the uniform configs as
// labelled points. Drawn by core's one SVG writer (util/svg_plot), like drift's plots.
std::string sweep_svg(const SweepResult& r, const std::string& title) {
  LinePlot p;
  p.title = title;
  p.x_label = "bits per weight (8·bytes / params)";
  p.y_label = "mean KL(float ‖ model), nats/token";
  p.log_y = true;
  std::map<std::string, std::vector<std::pair<double, double>>> curves;
  std::vector<std::string> order;
  PlotSeries uniform;
  uniform.label = "uniform b/g";
  uniform.color = "black";
  uniform.points_only = true;
  for (const auto& x : r.rows) {
    if (!x.bytes || !(x.kl.mean > 0)) continue;
    if (x.kind == "squint") {
      if (!curves.count(x.setting)) order.push_back(x.setting);
      curves[x.setting].emplace_back(x.bpw, x.kl.mean);
    } else if (x.kind == "uniform") {
      uniform.x.push_back(x.bpw);
      uniform.y.push_back(x.kl.mean);
      uniform.labels.push_back(x.size.size() > 8 ? x.size.substr(8) : x.size);  // "uniform 4/64" -> "4/64"
    }
  }
  for (const auto& name : order) {
    auto& pts = curves[name];
    std::sort(pts.begin(), pts.end());
    PlotSeries s;
    s.label = "squint " + name;
    for (const auto& [bx, k] : pts) {
      s.x.push_back(bx);
      s.y.push_back(k);
    }
    p.series.push_back(std::move(s));
  }
  if (!uniform.x.empty()) p.series.push_back(std::move(uniform));
  return render_line_plot_svg(p);
}

}  // namespace squint
