#pragma once
// A small self-contained SVG line chart (no scripts, no external fonts): lines with point markers on a left
// and an optional right y axis, linear or log x and left y axes, vertical marks with labels, a legend. Portable (used by
// the CLI and usable from the wasm core); the output is deterministic text.
#include <string>
#include <vector>

namespace squint {

struct PlotSeries {
  std::string label;
  std::vector<double> x, y;   // points with a non-finite y are skipped (a gap in the line)
  bool right_axis = false;    // plotted against the right y axis
  std::string color;          // CSS colour; empty = from the palette
  bool dashed = false;
  bool points_only = false;          // markers without a connecting line (e.g. uniform configs)
  std::vector<std::string> labels;   // optional per-point text beside each marker
};

struct PlotMark {
  double x = 0;
  std::string label;
};

struct LinePlot {
  std::string title, x_label, y_label, y2_label;
  bool log_x = false;
  bool log_y = false;  // left axis in decades (points with y <= 0 are skipped)
  std::vector<PlotSeries> series;
  std::vector<PlotMark> marks;
  int width = 760, height = 440;
};

std::string render_line_plot_svg(const LinePlot& p);

// Round tick values covering [lo, hi] (about `target` of them, steps of 1, 2 or 5 × 10^k).
std::vector<double> nice_ticks(double lo, double hi, int target = 5);

}  // namespace squint
