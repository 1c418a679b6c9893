#include "report.hpp"

#include <fcntl.h>
#include <fmt/color.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "console.hpp"
#include "errors.hpp"

namespace tutor {

using nlohmann::json;

Totals totals_of(const std::vector<KataResult>& katas) {
  Totals t;
  for (const auto& k : katas) {
    t.tests_passed += k.passed();
    t.tests_failed += k.failed();
    t.katas_total += 1;
    t.katas_passed += k.status == Status::Pass ? 1 : 0;
    t.points += k.points;
    t.points_possible += k.points_possible;
  }
  return t;
}

Table::Table(std::FILE* out) : out_(out), colour_(use_colour(out)) {}

namespace {
fmt::text_style style_of(Status s) {
  switch (s) {
    case Status::Pass:
      return fmt::fg(fmt::terminal_color::green) | fmt::emphasis::bold;
    case Status::Fail:
      return fmt::fg(fmt::terminal_color::red) | fmt::emphasis::bold;
    default:
      return fmt::fg(fmt::terminal_color::magenta) | fmt::emphasis::bold;
  }
}
std::string points_text(double points) {
  double whole = std::floor(points);
  return points - whole < 0.05 ? fmt::format("{:.0f}", whole) : fmt::format("{:.1f}", points);
}
}  // namespace

void Table::header() const {
  fmt::print(out_, "{:<5} {:<11} {:>5} {:>7}  {}\n", "kata", "status", "tests", "points",
             "first failure");
  fmt::print(out_, "{:-<5} {:-<11} {:->5} {:->7}  {:-<40}\n", "", "", "", "", "");
  std::fflush(out_);
}

void Table::row(const KataResult& k) const {
  std::string status = fmt::format("{:<11}", status_name(k.status));
  if (colour_) status = fmt::format(style_of(k.status), "{}", status);
  // The test's name without its suite, then what went wrong, cut to fit a terminal line.
  std::string failure;
  if (k.status != Status::Pass) {
    failure = k.summary;
    auto dot = failure.find('.');
    auto colon = failure.find(": ");
    if (k.status != Status::BuildError && dot != std::string::npos && colon != std::string::npos &&
        dot < colon)
      failure.erase(0, dot + 1);
    failure = one_line(failure, 90);
  }
  fmt::print(out_, "{:<5} {} {:>5} {:>7}  {}\n", k.id, status,
             fmt::format("{}/{}", k.passed(), k.tests.size()),
             fmt::format("{}/{}", points_text(k.points), k.points_possible), failure);
  std::fflush(out_);
}

void Table::details(const std::vector<KataResult>& katas) const {
  bool any = false;
  for (const auto& k : katas) {
    if (k.status == Status::Pass) continue;
    if (!any) fmt::print(out_, "\nWhat went wrong, kata by kata (the first failure of each):\n");
    any = true;
    std::string head = fmt::format("{} {} — {}", k.id, status_name(k.status), k.file);
    if (colour_) head = fmt::format(style_of(k.status), "{}", head);
    fmt::print(out_, "\n{}\n", head);
    std::string message = k.message.size() > 1500 ? k.message.substr(0, 1500) + "…" : k.message;
    // Indent for readability.
    std::string indented = "  ";
    for (char c : message) {
      indented += c;
      if (c == '\n') indented += "  ";
    }
    fmt::print(out_, "{}\n", indented);
  }
  std::fflush(out_);
}

void Table::flags(const std::vector<KataResult>& katas) const {
  bool any = false;
  for (const auto& k : katas) {
    for (const auto& flag : k.flags) {
      if (!any)
        fmt::print(out_,
                   "\nFlagged (what would game the grade rather than solve the kata; a flag "
                   "changes no verdict unless it says so):\n");
      any = true;
      fmt::print(out_, "  {}  {}\n", k.id, flag);
    }
  }
  if (any) fmt::print(out_, "\n");
  std::fflush(out_);
}

void Table::totals(const std::vector<KataResult>& katas) const {
  Totals t = totals_of(katas);
  fmt::print(out_, "katas: {} of {} pass · points: {} of {}\n", t.katas_passed, t.katas_total,
             points_text(t.points), t.points_possible);
  fmt::print(out_, "{}\n", closing_line(t.tests_passed, t.tests_failed));
  std::fflush(out_);
}

std::string closing_line(int passed, int failed) {
  return fmt::format("{} passed, {} failed", passed, failed);
}

namespace {
std::string now_iso8601() {
  std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}
double round3(double x) { return std::round(x * 1000.0) / 1000.0; }
}  // namespace

std::string results_json(const std::vector<KataResult>& katas, const std::string& variant) {
  Totals t = totals_of(katas);
  json root;
  root["schema"] = "concurrency-katas/results/1";
  root["generated"] = now_iso8601();
  root["variant"] = variant;
  root["summary"] = {{"tests_passed", t.tests_passed}, {"tests_failed", t.tests_failed},
                     {"katas_passed", t.katas_passed}, {"katas_total", t.katas_total},
                     {"points", round3(t.points)},     {"points_possible", t.points_possible}};
  root["katas"] = json::array();
  for (const auto& k : katas) {
    json kata = {{"id", k.id},
                 {"title", k.title},
                 {"lesson", k.lesson},
                 {"file", k.file},
                 {"status", status_name(k.status)},
                 {"message", k.message.substr(0, 2000)},
                 {"duration", round3(k.seconds)},
                 {"points", round3(k.points)},
                 {"points_possible", k.points_possible},
                 {"flags", k.flags},
                 {"tests", json::array()}};
    const double per_test =
        k.tests.empty() ? 0.0 : k.points_possible / static_cast<double>(k.tests.size());
    for (const auto& test : k.tests) {
      kata["tests"].push_back({{"name", test.name},
                               {"status", status_name(test.status)},
                               {"message", test.message.substr(0, 2000)},
                               {"duration", round3(test.seconds)},
                               {"points", round3(test.status == Status::Pass ? per_test : 0.0)}});
    }
    root["katas"].push_back(kata);
  }
  return root.dump(2) + "\n";
}

namespace {
std::string xml_escape(const std::string& text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters; terminal colour codes end up here.
        if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') break;
        out += static_cast<char>(c);
    }
  }
  return out;
}
}  // namespace

std::string junit_xml(const std::vector<KataResult>& katas) {
  Totals t = totals_of(katas);
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  xml += fmt::format("<testsuites name=\"concurrency-katas\" tests=\"{}\" failures=\"{}\">\n",
                     t.tests_passed + t.tests_failed, t.tests_failed);
  for (const auto& k : katas) {
    int failures = 0, errors = 0;
    for (const auto& test : k.tests) {
      if (test.status == Status::Fail)
        ++failures;
      else if (test.status != Status::Pass)
        ++errors;
    }
    xml += fmt::format(
        "  <testsuite name=\"{} {}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{:.3f}\">\n",
        k.id, xml_escape(k.title), k.tests.size(), failures, errors, k.seconds);
    for (const auto& test : k.tests) {
      xml += fmt::format("    <testcase classname=\"kata.{}\" name=\"{}\" time=\"{:.3f}\"", k.id,
                         xml_escape(test.name), test.seconds);
      if (test.status == Status::Pass) {
        xml += "/>\n";
        continue;
      }
      const char* tag = test.status == Status::Fail ? "failure" : "error";
      xml += fmt::format(">\n      <{} type=\"{}\" message=\"{}\">{}</{}>\n    </testcase>\n", tag,
                         status_name(test.status), xml_escape(test.summary),
                         xml_escape(test.message), tag);
    }
    xml += "  </testsuite>\n";
  }
  xml += "</testsuites>\n";
  return xml;
}

void write_file(const std::filesystem::path& file, const std::string& text) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  // Written whole to a new file next to it, then renamed over it: a reader (or a grader killed
  // half-way) sees the old file or the new one, never half of one. The temporary is created
  // with O_EXCL | O_NOFOLLOW, and rename() replaces a symbolic link at `file` instead of writing
  // through it: a link planted there cannot make the tutor write into a file of its choosing.
  const std::string temporary =
      file.string() + fmt::format(".{}.{}.tmp", getpid(), std::hash<std::string>{}(text) % 100000);
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST) {
    unlink(temporary.c_str());  // left by a tutor killed while writing
    fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  }
  bool written = fd >= 0;
  for (std::size_t done = 0; written && done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    written = n > 0;
    if (written) done += static_cast<std::size_t>(n);
  }
  if (fd >= 0) close(fd);
  if (!written) {
    unlink(temporary.c_str());
    throw TutorError(fmt::format("cannot write {}: {}", temporary, std::strerror(errno)),
                     "Is the build folder writable, and is the disk full?");
  }
  std::filesystem::rename(temporary, file, ec);
  if (ec) {
    unlink(temporary.c_str());
    throw TutorError(fmt::format("cannot replace {}: {}", file.string(), ec.message()),
                     "Is the build folder writable?");
  }
}

}  // namespace tutor
