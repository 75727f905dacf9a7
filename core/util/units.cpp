#include "util/units.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace squint {

namespace {
struct Unit {
  const char* name;
  double mult;
};
constexpr Unit kUnits[] = {{"B", 1},           {"KB", 1e3},        {"MB", 1e6},          {"GB", 1e9},
                           {"TB", 1e12},       {"KiB", 1024.0},    {"MiB", 1048576.0},   {"GiB", 1073741824.0},
                           {"TiB", 1099511627776.0}};

bool ieq(const std::string& a, const char* b) {
  std::size_t i = 0;
  for (; i < a.size() && b[i]; ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return i == a.size() && !b[i];
}

const Unit* find_unit(const std::string& u) {
  for (const auto& x : kUnits)
    if (ieq(u, x.name)) return &x;
  if (ieq(u, "K")) return &kUnits[1];
  if (ieq(u, "M")) return &kUnits[2];
  if (ieq(u, "G")) return &kUnits[3];
  return nullptr;
}

void split(const std::string& s, std::string* num, std::string* unit) {
  std::size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  *num = s.substr(0, i);
  std::size_t j = i;
  while (j < s.size() && s[j] == ' ') ++j;
  *unit = s.substr(j);
}
}  // namespace

std::optional<uint64_t> parse_size(const std::string& s) {
  std::string num, unit;
  split(s, &num, &unit);
  if (num.empty() || num == ".") return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(num.c_str(), &end);
  if (!end || *end != '\0' || !(v >= 0)) return std::nullopt;
  double mult = 1;
  if (!unit.empty()) {
    const Unit* u = find_unit(unit);
    if (!u) return std::nullopt;
    mult = u->mult;
  }
  double b = std::floor(v * mult);
  if (b > 1.8e19) return std::nullopt;
  return static_cast<uint64_t>(b);
}

std::string size_unit_of(const std::string& s) {
  std::string num, unit;
  split(s, &num, &unit);
  if (unit.empty()) return "B";
  const Unit* u = find_unit(unit);
  return u ? u->name : "B";
}

std::string format_size(uint64_t bytes, const std::string& unit) {
  const Unit* u = find_unit(unit);
  char buf[64];
  if (!u || u->mult == 1) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.2f %s", static_cast<double>(bytes) / u->mult, u->name);
  }
  return buf;
}

std::string human_size(uint64_t bytes) {
  if (bytes >= 1000000000000ull) return format_size(bytes, "TB");
  if (bytes >= 1000000000ull) return format_size(bytes, "GB");
  if (bytes >= 1000000ull) return format_size(bytes, "MB");
  if (bytes >= 1000ull) return format_size(bytes, "KB");
  return format_size(bytes, "B");
}

std::string show_size(uint64_t bytes, const std::string& user_unit) {
  return user_unit.empty() ? human_size(bytes) : format_size(bytes, user_unit);
}

}  // namespace squint
