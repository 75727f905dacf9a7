#include "sweep_plot.h"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace squint {

std::string sweep_svg(const SweepResult& r, const std::string& title) {
  // KL mean (log scale) against bits per weight: uniform configs as points, each setting as a curve.
  const double W = 760, H = 460, L = 70, R = 200, T = 40, B = 50;
  double x0 = 1e9, x1 = -1e9, y0 = 1e9, y1 = -1e9;
  for (const auto& x : r.rows)
    if (x.bytes && x.kl.mean > 0 && x.kind != "noise") {
      x0 = std::min(x0, x.bpw);
      x1 = std::max(x1, x.bpw);
      y0 = std::min(y0, std::log10(x.kl.mean));
      y1 = std::max(y1, std::log10(x.kl.mean));
    }
  if (x0 > x1) return "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"/>\n";
  x0 = std::floor(x0 * 2) / 2;
  x1 = std::ceil(x1 * 2) / 2;
  if (x1 <= x0) x1 = x0 + 1;
  y0 = std::floor(y0);
  y1 = std::ceil(y1);
  if (y1 <= y0) y1 = y0 + 1;
  auto X = [&](double v) { return L + (v - x0) / (x1 - x0) * (W - L - R); };
  auto Y = [&](double kl) { return T + (y1 - std::log10(kl)) / (y1 - y0) * (H - T - B); };
  std::string s = fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
                              "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
                              W, H);
  s += fmt::format("<text x=\"{}\" y=\"22\" font-size=\"14\">{}</text>\n", L, title);
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#888\"/>\n", L, T, W - L - R, H - T - B);
  for (double v = x0; v <= x1 + 1e-9; v += 0.5)
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" stroke=\"#eee\"/><text x=\"{0:.1f}\" y=\"{3}\" "
                     "text-anchor=\"middle\">{4:g}</text>\n",
                     X(v), T, H - B, H - B + 16, v);
  for (double e = y0; e <= y1 + 1e-9; e += 1)
    s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2:.1f}\" y2=\"{2:.1f}\" stroke=\"#eee\"/><text x=\"{3}\" y=\"{4:.1f}\" "
                     "text-anchor=\"end\">1e{5:g}</text>\n",
                     L, W - R, Y(std::pow(10.0, e)), L - 6, Y(std::pow(10.0, e)) + 4, e);
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">bits per weight (8·bytes / params)</text>\n", (L + W - R) / 2, H - 10);
  s += fmt::format("<text x=\"16\" y=\"{}\" transform=\"rotate(-90 16 {})\" text-anchor=\"middle\">mean KL(float ‖ model), nats/token</text>\n",
                   (T + H - B) / 2, (T + H - B) / 2);
  const char* colors[] = {"#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
  std::map<std::string, std::vector<std::pair<double, double>>> curves;
  std::vector<std::string> order;
  for (const auto& x : r.rows)
    if (x.kind == "squint" && x.bytes && x.kl.mean > 0) {
      if (!curves.count(x.setting)) order.push_back(x.setting);
      curves[x.setting].emplace_back(x.bpw, x.kl.mean);
    }
  double ly = T + 10;
  for (std::size_t i = 0; i < order.size(); ++i) {
    auto& pts = curves[order[i]];
    std::sort(pts.begin(), pts.end());
    std::string path;
    for (const auto& [bx, k] : pts) path += fmt::format("{:.1f},{:.1f} ", X(bx), Y(k));
    const char* c = colors[i % 8];
    s += fmt::format("<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n", path, c);
    for (const auto& [bx, k] : pts) s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n", X(bx), Y(k), c);
    s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\"/><text x=\"{4}\" y=\"{5}\">"
                     "squint {6}</text>\n",
                     W - R + 10, W - R + 30, ly, c, W - R + 36, ly + 4, order[i]);
    ly += 18;
  }
  for (const auto& x : r.rows)
    if (x.kind == "uniform" && x.bytes && x.kl.mean > 0)
      s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"7\" height=\"7\" fill=\"black\"><title>{}</title></rect>"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\">{}</text>\n",
                       X(x.bpw) - 3.5, Y(x.kl.mean) - 3.5, x.size, X(x.bpw) + 5, Y(x.kl.mean) - 5, x.size.substr(8));
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"7\" height=\"7\" fill=\"black\"/><text x=\"{}\" y=\"{}\">uniform b/g</text>\n",
                   W - R + 16, ly - 4, W - R + 36, ly + 4);
  s += "</svg>\n";
  return s;
}

}  // namespace squint
