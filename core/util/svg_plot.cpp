#include "util/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace squint {

namespace {

const char* kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"};

std::string esc(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '&') o += "&amp;";
    else if (c == '<') o += "&lt;";
    else if (c == '>') o += "&gt;";
    else if (c == '"') o += "&quot;";
    else o += c;
  }
  return o;
}

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f", v);
  return b;
}

std::string tick_label(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", std::fabs(v) < 1e-12 ? 0.0 : v);
  return b;
}

struct Range {
  double lo = 0, hi = 1;
  bool any = false;
  void add(double v) {
    if (!std::isfinite(v)) return;
    if (!any) lo = hi = v;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
    any = true;
  }
  void pad() {
    if (!any) {
      lo = 0;
      hi = 1;
    } else if (hi - lo < 1e-12 * std::max(1.0, std::fabs(hi))) {
      lo -= 0.5 * std::max(1e-6, std::fabs(lo));
      hi += 0.5 * std::max(1e-6, std::fabs(hi));
    }
  }
};

}  // namespace

std::vector<double> nice_ticks(double lo, double hi, int target) {
  std::vector<double> t;
  if (!(hi > lo) || target < 1) return {lo};
  const double raw = (hi - lo) / target, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) t.push_back(v);
  return t;
}

std::string render_line_plot_svg(const LinePlot& p) {
  const double W = p.width, H = p.height, L = 70, R = p.y2_label.empty() ? 30 : 75, T = 40, B = 95;
  const double pw = W - L - R, ph = H - T - B;
  Range xr, yl, yr;
  bool has_right = false;
  // A point is drawn when its y is finite and it fits the log axes; the left log axis works in decades.
  auto log_left = [&](const PlotSeries& s) { return p.log_y && !s.right_axis; };
  auto drawn = [&](const PlotSeries& s, std::size_t i) {
    return std::isfinite(s.y[i]) && (!p.log_x || s.x[i] > 0) && (!log_left(s) || s.y[i] > 0);
  };
  auto yval = [&](const PlotSeries& s, double y) { return log_left(s) ? std::log10(y) : y; };
  for (const auto& s : p.series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!drawn(s, i)) continue;
      xr.add(p.log_x ? std::log10(s.x[i]) : s.x[i]);
      (s.right_axis ? yr : yl).add(yval(s, s.y[i]));
      has_right |= s.right_axis;
    }
  for (const auto& m : p.marks)
    if (!p.log_x || m.x > 0) xr.add(p.log_x ? std::log10(m.x) : m.x);
  xr.pad();
  yl.pad();
  yr.pad();
  // Axes start at round ticks so the frame is tidy.
  auto ticks_l = nice_ticks(yl.lo, yl.hi), ticks_r = nice_ticks(yr.lo, yr.hi);
  auto widen = [](Range& r, const std::vector<double>& t) {
    if (t.size() < 2) return;
    const double step = t[1] - t[0];
    r.lo = std::min(r.lo, t.front() > r.lo ? t.front() - step : t.front());
    r.hi = std::max(r.hi, t.back() < r.hi ? t.back() + step : t.back());
  };
  if (p.log_y) {  // whole decades
    yl.lo = std::floor(yl.lo);
    yl.hi = std::max(std::ceil(yl.hi), yl.lo + 1);
    ticks_l.clear();
    for (double e = yl.lo; e <= yl.hi + 1e-9; e += 1) ticks_l.push_back(e);
  } else {
    widen(yl, ticks_l);
    ticks_l = nice_ticks(yl.lo, yl.hi);
  }
  widen(yr, ticks_r);
  ticks_r = nice_ticks(yr.lo, yr.hi);
  const double xspan = xr.hi - xr.lo, xpad = 0.04 * xspan;
  xr.lo -= xpad;
  xr.hi += xpad;

  auto X = [&](double x) { return L + ((p.log_x ? std::log10(x) : x) - xr.lo) / (xr.hi - xr.lo) * pw; };
  // y in axis units (decades on a log left axis).
  auto Y = [&](double y, bool right) {
    const Range& r = right ? yr : yl;
    return T + ph - (y - r.lo) / (r.hi - r.lo) * ph;
  };

  std::string o;
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(W) + "\" height=\"" + num(H) + "\" viewBox=\"0 0 " +
       num(W) + " " + num(H) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!p.title.empty())
    o += "<text x=\"" + num(W / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" + esc(p.title) + "</text>\n";
  // Grid and y ticks.
  for (double t : ticks_l) {
    const double y = Y(t, false);
    o += "<line x1=\"" + num(L) + "\" y1=\"" + num(y) + "\" x2=\"" + num(L + pw) + "\" y2=\"" + num(y) +
         "\" stroke=\"#e4e4e4\"/>\n";
    o += "<text x=\"" + num(L - 6) + "\" y=\"" + num(y + 4) + "\" text-anchor=\"end\">" +
         (p.log_y ? "1e" + tick_label(t) : tick_label(t)) + "</text>\n";
  }
  if (has_right)
    for (double t : ticks_r) {
      const double y = Y(t, true);
      o += "<text x=\"" + num(L + pw + 6) + "\" y=\"" + num(y + 4) + "\">" + tick_label(t) + "</text>\n";
    }
  // x ticks: decades × {1, 2, 5} on a log axis, round steps on a linear one.
  std::vector<double> xt;
  if (p.log_x) {
    for (int e = static_cast<int>(std::floor(xr.lo)); e <= static_cast<int>(std::ceil(xr.hi)); ++e)
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, e);
        if (std::log10(v) >= xr.lo && std::log10(v) <= xr.hi) xt.push_back(v);
      }
  } else {
    xt = nice_ticks(xr.lo, xr.hi, 6);
  }
  for (double t : xt) {
    const double x = X(t);
    o += "<line x1=\"" + num(x) + "\" y1=\"" + num(T) + "\" x2=\"" + num(x) + "\" y2=\"" + num(T + ph) +
         "\" stroke=\"#f0f0f0\"/>\n";
    o += "<text x=\"" + num(x) + "\" y=\"" + num(T + ph + 16) + "\" text-anchor=\"middle\">" + tick_label(t) + "</text>\n";
  }
  o += "<rect x=\"" + num(L) + "\" y=\"" + num(T) + "\" width=\"" + num(pw) + "\" height=\"" + num(ph) +
       "\" fill=\"none\" stroke=\"#444\"/>\n";
  if (!p.x_label.empty())
    o += "<text x=\"" + num(L + pw / 2) + "\" y=\"" + num(T + ph + 36) + "\" text-anchor=\"middle\">" + esc(p.x_label) +
         "</text>\n";
  if (!p.y_label.empty())
    o += "<text transform=\"translate(18," + num(T + ph / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         esc(p.y_label) + "</text>\n";
  if (has_right && !p.y2_label.empty())
    o += "<text transform=\"translate(" + num(W - 14) + "," + num(T + ph / 2) + ") rotate(90)\" text-anchor=\"middle\">" +
         esc(p.y2_label) + "</text>\n";
  for (const auto& m : p.marks) {
    if (p.log_x && !(m.x > 0)) continue;
    const double x = X(m.x);
    o += "<line x1=\"" + num(x) + "\" y1=\"" + num(T) + "\" x2=\"" + num(x) + "\" y2=\"" + num(T + ph) +
         "\" stroke=\"#888\" stroke-dasharray=\"2,3\"/>\n";
    o += "<text x=\"" + num(x + 4) + "\" y=\"" + num(T + 14) + "\" fill=\"#555\">" + esc(m.label) + "</text>\n";
  }
  // Series.
  std::size_t si = 0;
  for (const auto& s : p.series) {
    const std::string color = s.color.empty() ? kPalette[si % 6] : s.color;
    std::string path;
    bool pen_up = true;
    std::string dots;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!drawn(s, i)) {
        pen_up = true;
        continue;
      }
      const double x = X(s.x[i]), y = Y(yval(s, s.y[i]), s.right_axis);
      path += (pen_up ? "M" : "L") + num(x) + "," + num(y) + " ";
      pen_up = false;
      dots += "<circle cx=\"" + num(x) + "\" cy=\"" + num(y) + "\" r=\"3\" fill=\"" + color + "\"/>\n";
      if (i < s.labels.size() && !s.labels[i].empty())
        dots += "<text x=\"" + num(x + 5) + "\" y=\"" + num(y - 5) + "\" font-size=\"10\">" + esc(s.labels[i]) + "</text>\n";
    }
    if (s.points_only)
      o += dots;
    else if (!path.empty())
      o += "<path d=\"" + path + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"2\"" +
           (s.dashed ? " stroke-dasharray=\"6,4\"" : "") + "/>\n" + dots;
    // Legend below the plot, two entries per line.
    const double lx = L + static_cast<double>(si % 2) * (pw / 2), ly = T + ph + 56 + 18 * static_cast<double>(si / 2);
    if (s.points_only)
      o += "<circle cx=\"" + num(lx + 12) + "\" cy=\"" + num(ly - 4) + "\" r=\"3\" fill=\"" + color + "\"/>\n";
    else
      o += "<line x1=\"" + num(lx) + "\" y1=\"" + num(ly - 4) + "\" x2=\"" + num(lx + 24) + "\" y2=\"" + num(ly - 4) +
           "\" stroke=\"" + color + "\" stroke-width=\"2\"" + (s.dashed ? " stroke-dasharray=\"6,4\"" : "") + "/>\n";
    o += "<text x=\"" + num(lx + 30) + "\" y=\"" + num(ly) + "\">" + esc(s.label) +
         (s.right_axis && has_right ? " (right axis)" : "") + "</text>\n";
    ++si;
  }
  o += "</svg>\n";
  return o;
}

}  // namespace squint
