#include "gtest_runner.hpp"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "errors.hpp"
#include "mpi_launch.hpp"
#include "sandbox.hpp"
#include "testkit/markers.hpp"

namespace tutor {

namespace fs = std::filesystem;
using nlohmann::json;

std::vector<std::string> list_tests(const fs::path& binary, std::string* error,
                                    const Limits& limits) {
  RunRequest request;
  request.argv = {binary.string(), "--gtest_list_tests"};
  request.timeout = std::chrono::seconds(30);
  request.limits = limits;
  request.sandbox = true;
  RunResult r = run_command(request);
  if (!r.ok()) {
    if (error)
      *error = fmt::format("could not list the tests of {}: {}", binary.string(), r.output);
    return {};
  }
  // Format: "Suite.\n  Test\n  Test2  # GetParam() = ...\n"
  std::vector<std::string> names;
  std::istringstream lines(r.output);
  std::string line, suite;
  while (std::getline(lines, line)) {
    auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
    if (line.empty()) continue;
    if (line[0] != ' ') {
      suite = line;  // keeps its trailing '.'
    } else {
      names.push_back(suite + line.substr(line.find_first_not_of(' ')));
    }
  }
  return names;
}

std::vector<std::string> tests_named_in_source(const fs::path& test_file) {
  std::ifstream in(test_file);
  std::stringstream text;
  text << in.rdbuf();
  static const std::regex test_macro(R"(\bTEST(?:_F)?\s*\(\s*(\w+)\s*,\s*(\w+)\s*\))");
  std::vector<std::string> names;
  const std::string source = text.str();
  for (std::sregex_iterator it(source.begin(), source.end(), test_macro), end; it != end; ++it)
    names.push_back((*it)[1].str() + "." + (*it)[2].str());
  return names;
}

std::string shorten_paths(std::string text, const fs::path& source_dir) {
  if (source_dir.empty()) return text;
  std::string prefix = source_dir.string();
  if (prefix.back() != '/') prefix += '/';
  for (std::size_t at = text.find(prefix); at != std::string::npos; at = text.find(prefix, at))
    text.erase(at, prefix.size());
  return text;
}

std::string explain_output(const std::string& output) {
  struct Known {
    const char* needle;
    const char* meaning;
  };
  static const Known known[] = {
      {"terminate called without an active exception",
       "a std::thread was destroyed while still joinable, and that ends the program. Did an "
       "exception leave the function before the joins, or did a path return without joining "
       "every thread it started?"},
      {"terminate called after throwing",
       "an exception escaped and nobody caught it: was it thrown on a thread of its own, where "
       "no caller can catch it, or did it leave a destructor or a noexcept function?"},
      {"Resource deadlock avoided",
       "a thread tried to join itself, or lock a mutex it already holds."},
      {"Resource temporarily unavailable",
       "the system refused to start another thread or process: too many were started at once "
       "(the kata's process limit), probably in a loop that never ends."},
      {"pure virtual method called", "an object was used after it was destroyed."},
      {"double free",
       "memory was freed twice: two owners, a use after the object died, or a "
       "container (a std::vector, a std::map) changed by several threads at once."},
      {"corrupted",
       "the heap was corrupted: often a container (a std::vector, a std::map) "
       "changed by several threads at once without a lock."},
      {"free(): invalid",
       "the heap was corrupted: often a container changed by several "
       "threads at once without a lock."},
      {"bad_function_call",
       "an empty std::function was called: often a thread that started before the member it "
       "uses was constructed (declare the std::thread/std::jthread member last), or one that "
       "still runs after its object died."},
  };
  for (const auto& k : known)
    if (output.find(k.needle) != std::string::npos)
      return fmt::format("\"{}\": {}", k.needle, k.meaning);
  return "";
}

std::string summarize_tsan(const std::string& output, const fs::path& source_dir) {
  auto at = output.find("WARNING: ThreadSanitizer:");
  if (at == std::string::npos) return "";
  std::istringstream lines(output.substr(at));
  std::string line, headline, detail;
  std::getline(lines, headline);
  headline = headline.substr(std::string("WARNING: ThreadSanitizer: ").size());
  auto paren = headline.find(" (pid=");
  if (paren != std::string::npos) headline.erase(paren);
  // Keep the access lines ("Write of size 4 ... by thread T2:") each followed by the first
  // frame that lies in the repository, which is where the learner should look.
  std::string pending;
  int kept = 0;
  while (std::getline(lines, line) && kept < 4) {
    if (line.rfind("SUMMARY:", 0) == 0 || line.rfind("=====", 0) == 0) break;
    bool access = line.find(" by thread ") != std::string::npos ||
                  line.find(" by main thread") != std::string::npos ||
                  line.find("Mutex ") != std::string::npos;
    if (access) {
      pending = line;
      continue;
    }
    auto frame = line.find("#");
    if (!pending.empty() && frame != std::string::npos &&
        line.find(source_dir.string()) != std::string::npos &&
        line.find("/tests/support/") == std::string::npos) {
      auto open = line.rfind(" (");
      std::string where = line.substr(frame);
      if (open != std::string::npos && open > frame) where = line.substr(frame, open - frame);
      auto first = pending.find_first_not_of(' ');
      detail += fmt::format("\n  {}\n    {}", pending.substr(first), where);
      pending.clear();
      ++kept;
    }
  }
  return shorten_paths(
      fmt::format("ThreadSanitizer found a {}: {}{}", headline,
                  headline.rfind("data race", 0) == 0
                      ? "two threads touched the same memory, at least one writing, with nothing "
                        "ordering them (a mutex, an atomic, or a join between them)."
                      : "see its report in the test's output.",
                  detail),
      source_dir);
}

namespace {

std::string last_lines(const std::string& text, int count) {
  std::size_t at = text.size();
  while (at > 0 && (text[at - 1] == '\n' || text[at - 1] == ' ')) --at;
  std::size_t end = at;
  for (int i = 0; i < count && at > 0; ++i) {
    at = text.rfind('\n', at - 1);
    if (at == std::string::npos) {
      at = 0;
      break;
    }
  }
  return text.substr(at == 0 ? 0 : at + 1, end - (at == 0 ? 0 : at + 1));
}

std::string testkit_timeout_line(const std::string& output) {
  const std::string marker = testkit::markers::kTimeout;
  auto at = output.find(marker);
  if (at == std::string::npos) return "";
  at += marker.size();
  auto end = output.find('\n', at);
  return output.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

}  // namespace

TestResult classify(const std::string& test, const RunResult& process,
                    const std::string& gtest_json, const TestRun& run) {
  TestResult result;
  result.name = test;
  result.seconds = process.seconds;
  const std::string output = shorten_paths(process.output, run.source_dir);
  const std::string tsan = run.tsan ? summarize_tsan(process.output, run.source_dir) : "";
  std::string explained = explain_output(output);
  // testkit's own notes on what it refused (e.g. kill(-1, ...)) or on a failed MPI call come
  // first: they name the bug.
  result.refused = output.find(testkit::markers::kRefused) != std::string::npos;
  for (const char* marker : {testkit::markers::kRefused, testkit::markers::kMpiError}) {
    if (auto at = output.find(marker); at != std::string::npos) {
      const auto start = at + std::string(testkit::markers::kPrefix).size();
      const auto end = output.find('\n', start);
      explained = output.substr(start, end == std::string::npos ? end : end - start) +
                  (explained.empty() ? "" : " " + explained);
    }
  }
  std::string limit_note =
      process.hit_process_limit
          ? fmt::format(
                " The test hit its limit of {} processes and threads at once: is a child "
                "forking again, or a loop starting processes that never end?",
                run.limits.processes)
          : "";
  if (process.hit_memory_limit && process.signal == SIGKILL)
    limit_note += fmt::format(
        " The test used up its {} MB of memory and the kernel killed it: memory allocated in a "
        "loop that never ends, or a queue that only grows?",
        run.limits.memory_mb);

  if (process.start_failed) {
    result.status = Status::Crash;
    result.message = "the test program could not be started: " + output;
    result.summary = one_line(result.message);
    return result;
  }
  result.explained = !explained.empty() || !tsan.empty();
  if (std::string line = testkit_timeout_line(output); !line.empty()) {
    result.status = Status::Timeout;
    result.explained = true;
    result.message = line + limit_note;
    result.summary = one_line(line);
    return result;
  }
  if (process.timed_out && run.mpi_ranks > 0) {
    result.status = Status::Timeout;
    result.message = fmt::format(
        "did not finish within {} s on its {} ranks, so every rank was stopped. A rank waits for "
        "a message or a collective that never comes: two ranks that both send first with a "
        "blocking MPI_Send (above the eager limit a send waits for the matching receive: a "
        "rendezvous), a receive from the wrong rank or with the wrong tag, or a collective "
        "(MPI_Bcast, MPI_Reduce, ...) that one rank never calls.{}",
        run.timeout.count() / 1000, run.mpi_ranks, limit_note);
    result.summary =
        fmt::format("no result within {} s: a rank waits for a message that never comes",
                    run.timeout.count() / 1000);
    return result;
  }
  if (process.timed_out) {
    result.status = Status::Timeout;
    result.message = fmt::format(
        "did not finish within {} s, so it was stopped. Something waits for an event that never "
        "comes: a join on a thread that never ends, a deadlock between two locks, a pipe whose "
        "EOF never arrives, or a child that is never reaped.{}",
        run.timeout.count() / 1000, limit_note);
    result.summary = fmt::format("no result within {} s: a deadlock or a wait that never ends",
                                 run.timeout.count() / 1000);
    return result;
  }

  // What GoogleTest itself recorded.
  // Only the entry of the test that was asked for counts, and only if GoogleTest ran it to
  // its end ("COMPLETED"; a GTEST_SKIP is "SKIPPED").
  bool found = false;
  bool skipped = false;
  std::string failure;
  if (!gtest_json.empty()) {
    try {
      json report = json::parse(gtest_json);
      for (const auto& suite : report.value("testsuites", json::array())) {
        for (const auto& t : suite.value("testsuite", json::array())) {
          // "*": a whole run (make check, make stress), where every test counts.
          if (test != "*" && suite.value("name", "") + "." + t.value("name", "") != test) continue;
          if (t.value("status", "") != "RUN") continue;
          found = true;
          skipped = skipped || t.value("result", "") != "COMPLETED";
          for (const auto& f : t.value("failures", json::array())) {
            if (!failure.empty()) failure += "\n---\n";
            failure += f.value("failure", "");
          }
        }
      }
    } catch (const json::exception&) {
      // A half-written report (the process died while writing it) counts as none.
    }
  }
  failure = shorten_paths(failure, run.source_dir);

  if (process.signal != 0) {
    result.status = Status::Crash;
    result.message = fmt::format("crashed with {}.", describe_signal(process.signal));
    if (!explained.empty()) result.message += " " + explained;
    if (!tsan.empty()) result.message += "\n" + tsan;
    result.message += limit_note;
    result.message += "\nLast output:\n" + last_lines(output, 6);
    result.summary = fmt::format("crashed: {}", one_line(describe_signal(process.signal), 80));
    if (!explained.empty()) result.summary = "crashed: " + one_line(explained, 90);
    if (process.hit_memory_limit && process.signal == SIGKILL)
      result.summary = fmt::format("killed: it used up its {} MB of memory", run.limits.memory_mb);
    return result;
  }
  if (!failure.empty()) {
    result.status = Status::Fail;
    result.message = failure + limit_note;
    if (!explained.empty()) result.message += "\n" + explained;
    if (!tsan.empty()) result.message += "\n" + tsan;
    result.summary = one_line(failure.substr(0, failure.find("\n---\n")));  // the first one
    return result;
  }
  if (!tsan.empty()) {
    result.status = Status::Fail;
    result.message = tsan;
    result.summary = one_line(tsan.substr(0, tsan.find('\n')));
    return result;
  }
  if (process.exit_code != 0) {
    result.status = Status::Crash;
    result.message =
        run.mpi_ranks > 0
            // mpirun's exit code: a rank failed an MPI call or called MPI_Abort, and mpirun
            // stopped the others. Lesson 02's fork/exit advice does not apply here.
            ? fmt::format(
                  "the MPI job ended with code {} before every rank could report: an MPI call "
                  "failed, or a rank called MPI_Abort or exit(), and mpirun then stopped every "
                  "rank.{}",
                  process.exit_code, limit_note)
            : fmt::format(
                  "the test process exited with code {} before GoogleTest could report: did a "
                  "child process return into the test (call _exit in the child), or did the code "
                  "call exit()?{}",
                  process.exit_code, limit_note);
    if (!explained.empty()) result.message += " " + explained;
    result.message += "\nLast output:\n" + last_lines(output, 6);
    result.summary = one_line(result.message.substr(0, result.message.find('\n')));
    if (run.mpi_ranks > 0 && output.find(testkit::markers::kMpiError) != std::string::npos)
      result.summary = one_line(explained);  // the failed call says more than the exit code
    return result;
  }
  if (gtest_json.empty()) {
    result.status = Status::Crash;
    result.message = fmt::format(
        "the test process exited with code 0 before GoogleTest could report: did the code call "
        "exit() or _exit() in the test's own process (a child that returned into the test, or "
        "an exit where a return was meant)?{}",
        limit_note);
    result.message += "\nLast output:\n" + last_lines(output, 6);
    result.summary = one_line(result.message.substr(0, result.message.find('\n')));
    return result;
  }
  if (!found) {
    result.status = Status::Fail;
    result.message =
        "GoogleTest's report has no result for this test, though the process ended normally: "
        "the test was renamed or hidden (a #define of TEST or TEST_F?), or something other than "
        "GoogleTest wrote the report";
    result.summary = "no result for this test in GoogleTest's report";
    return result;
  }
  if (skipped) {
    result.status = Status::Fail;
    result.message = "the test was skipped (GTEST_SKIP), so it proved nothing";
    result.summary = result.message;
    return result;
  }
  if (test != "*" && output.find("[       OK ] " + test + " (") == std::string::npos) {
    // GoogleTest prints this line when the test ends well; a report that says PASS without it
    // was written by something else (kata code forging its verdict).
    result.status = Status::Fail;
    result.message =
        "GoogleTest's report says this test passed, but GoogleTest never printed that it did: the "
        "report was written by something other than GoogleTest";
    result.summary = "a report GoogleTest did not write";
    return result;
  }
  result.status = Status::Pass;
  return result;
}

namespace {

// Whether a GoogleTest report has an entry for `test` (any test for "*") that GoogleTest ran.
bool report_ran(const std::string& gtest_json, const std::string& test) {
  if (gtest_json.empty()) return false;
  try {
    const json report = json::parse(gtest_json);
    for (const auto& suite : report.value("testsuites", json::array()))
      for (const auto& t : suite.value("testsuite", json::array()))
        if ((test == "*" || suite.value("name", "") + "." + t.value("name", "") == test) &&
            t.value("status", "") == "RUN")
          return true;
  } catch (const json::exception&) {
  }
  return false;
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

}  // namespace

std::vector<std::string> mpirun_command(const std::vector<std::string>& argv, int ranks,
                                        bool as_root) {
  std::string mpirun = TUTOR_MPIEXEC;
  if (mpirun.empty()) mpirun = "/usr/bin/mpirun";
  return support::mpirun_line(mpirun, ranks, argv, as_root);
}

TestResult classify_ranks(const std::string& test, const RunResult& process,
                          const std::vector<std::string>& reports, const TestRun& run) {
  if (run.mpi_ranks <= 0 || reports.size() <= 1)
    return classify(test, process, reports.empty() ? "" : reports.front(), run);
  const int ranks = static_cast<int>(reports.size());
  // A rank whose report has the test: GoogleTest's verdict there is that rank's, whatever
  // became of the job afterwards (stopped at the time limit because another rank hung, or
  // mpirun's exit code, which is the first failed rank's).
  RunResult finished = process;
  finished.timed_out = false;
  finished.signal = 0;
  finished.exit_code = 0;
  finished.hit_process_limit = false;
  finished.hit_memory_limit = false;
  // Another rank's testkit TIMEOUT line is not this rank's verdict.
  for (auto at = finished.output.find(testkit::markers::kTimeout); at != std::string::npos;
       at = finished.output.find(testkit::markers::kTimeout, at))
    finished.output.replace(at, std::string(testkit::markers::kTimeout).size(),
                            "[testkit] (another rank) TIMEOUT: ");
  std::vector<int> without_result;
  std::optional<TestResult> failed;
  int passed = 0;
  for (int rank = 0; rank < ranks; ++rank) {
    const std::string& report = reports[static_cast<std::size_t>(rank)];
    if (!report_ran(report, test)) {
      without_result.push_back(rank);
      continue;
    }
    TestResult t = classify(test, finished, report, run);
    if (t.status == Status::Pass) {
      ++passed;
    } else if (!failed) {
      t.message = fmt::format("rank {} of {}: {}", rank, ranks, t.message);
      t.summary = fmt::format("rank {}: {}", rank, t.summary);
      failed = t;
    }
  }
  auto ranks_text = [](const std::vector<int>& list) {
    std::string text;
    for (std::size_t i = 0; i < list.size(); ++i)
      text += (i == 0 ? "" : i + 1 == list.size() ? " and " : ", ") + std::to_string(list[i]);
    return text;
  };
  if (failed) {
    if (!without_result.empty())
      failed->message += fmt::format(
          "\n(rank{} {} never finished the test{}: waiting, probably, for the rank that failed "
          "and left the test early)",
          without_result.size() == 1 ? "" : "s", ranks_text(without_result),
          process.timed_out ? fmt::format(" and {} stopped at the time limit",
                                          without_result.size() == 1 ? "was" : "were")
                            : "");
    failed->seconds = process.seconds;
    return *failed;
  }
  if (without_result.empty()) {
    TestResult result = classify(test, finished, reports.front(), run);
    const std::string ok_line = "[       OK ] " + test + " (";
    if (test != "*" && occurrences(process.output, ok_line) < reports.size()) {
      result.status = Status::Fail;
      result.message =
          "every rank's report says this test passed, but GoogleTest did not print that it did "
          "on every rank: a report was written by something other than GoogleTest";
      result.summary = "a report GoogleTest did not write";
    } else if (!process.ok()) {
      result.status = Status::Crash;
      result.message = fmt::format(
          "every rank passed the test, but the MPI job did not end well ({}): did a rank leave "
          "without MPI_Finalize, or call MPI_Abort after the tests?\nLast output:\n{}",
          process.signal != 0 ? describe_signal(process.signal)
                              : fmt::format("mpirun's exit code {}", process.exit_code),
          last_lines(shorten_paths(process.output, run.source_dir), 6));
      result.summary = one_line(result.message.substr(0, result.message.find('\n')));
    }
    return result;
  }
  // Some rank has no result: what became of the job says why (a TIMEOUT, a crash, an exit).
  TestResult result = classify(test, process, "", run);
  if (result.status != Status::Timeout || passed > 0)
    result.message =
        fmt::format("rank{} {} of {} gave no result: {}", without_result.size() == 1 ? "" : "s",
                    ranks_text(without_result), ranks, result.message);
  return result;
}

namespace {

// Run folders are named tutor-run.<pid of the tutor>.<random>. A tutor that was killed (kill -9,
// a closed terminal) could not remove its own; the next run removes those whose tutor is gone.
void remove_stale_run_folders() {
  static std::once_flag done;
  std::call_once(done, [] {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(fs::temp_directory_path(), ec)) {
      const std::string name = entry.path().filename().string();
      int pid = 0;
      if (std::sscanf(name.c_str(), "tutor-run.%d.", &pid) != 1 || pid <= 0) continue;
      if (kill(pid, 0) == 0 || errno != ESRCH) continue;  // its tutor still runs
      fs::remove_all(entry.path(), ec);
    }
  });
}

// A report file holds a few KB. A test process may write anything there, so it is read only up
// to a cap (a sparse file of 1 GiB once took the grader to 2 GB). It is read in small pieces:
// a buffer of the cap's size, zeroed for every test, was a third of the tutor's CPU in `make
// check` (page faults, copied again after every fork of a sibling thread's test).
std::string read_report(const fs::path& file) {
  constexpr std::size_t kCap = 8 * 1024 * 1024;
  std::ifstream in(file, std::ios::binary);
  std::string text;
  char piece[16384];
  while (in.read(piece, sizeof piece) || in.gcount() > 0) {
    text.append(piece, static_cast<std::size_t>(in.gcount()));
    if (text.size() >= kCap) return "";  // too large to be GoogleTest's: counts as no report
  }
  return text;
}

}  // namespace

TestResult run_test(const TestRun& run) {
  remove_stale_run_folders();
  // A private report folder per run, the only place the sandboxed test may write outside its own
  // /tmp: GoogleTest writes its report there at exit.
  std::string dir_template =
      (fs::temp_directory_path() / fmt::format("tutor-run.{}.XXXXXX", getpid())).string();
  if (mkdtemp(dir_template.data()) == nullptr)
    throw TutorError(fmt::format("cannot make a temporary folder from {}: {}", dir_template,
                                 std::strerror(errno)),
                     "Is the temporary folder (TMPDIR, else /tmp) full or not writable?");
  fs::path report = fs::path(dir_template) / "report.json";

  RunRequest request;
  // The report's path goes in the environment, not on the command line that kata code can read
  // in /proc/self/cmdline (reading the environment is a flagged construct too).
  request.argv = {run.binary.string(), "--gtest_filter=" + run.test, "--gtest_color=no"};
  request.extra_env["GTEST_OUTPUT"] = "json:" + report.string();
  for (const auto& a : run.extra_args) request.argv.push_back(a);
  if (run.mpi_ranks > 0) {
    // In the sandbox the job runs as nobody; without it, as whoever runs the grader.
    const bool as_root = geteuid() == 0 && !(run.sandbox && sandbox_support().available);
    request.argv = mpirun_command(request.argv, run.mpi_ranks, as_root);
    request.term_grace = std::chrono::seconds(1);
  }
  request.timeout = run.timeout;
  request.limits = run.limits;
  if (request.limits.cpu_seconds == 0) {
    // Two busy cores for the whole time limit, and some more: a busy loop ends at the time
    // limit anyway; this stops one that would outlive a lost grader.
    request.limits.cpu_seconds = static_cast<int>(2 * run.timeout.count() / 1000 + 10);
  }
  request.sandbox = run.sandbox;
  request.writable = {report.parent_path()};
  // The test's temporary files go to its own folder (mkstemp and friends read TMPDIR, GoogleTest
  // TEST_TMPDIR): the rest of the file system is read-only in the sandbox.
  const fs::path scratch = report.parent_path() / "tmp";
  fs::create_directories(scratch);
  request.extra_env["TMPDIR"] = scratch.string();
  request.extra_env["TEST_TMPDIR"] = scratch.string() + "/";
  if (run.tsan) {
    // Report every race, not just the first, but do not stop at it: the JSON still gets written.
    // Every option is set here, by the grader: these override what a kata's own
    // __tsan_default_options() returns (e.g. report_bugs=0, which would hide every race).
    request.extra_env["TSAN_OPTIONS"] =
        "report_bugs=1 halt_on_error=0 exitcode=66 second_deadlock_stack=1 "
        "suppressions= ignore_noninstrumented_modules=0 log_path=stderr";
  }
  RunResult process = run_command(request);
  std::vector<std::string> reports;
  if (run.mpi_ranks > 0) {
    for (int rank = 0; rank < run.mpi_ranks; ++rank)
      reports.push_back(
          read_report(report.parent_path() / fmt::format("report.rank{}.json", rank)));
  } else {
    reports.push_back(read_report(report));
  }
  std::error_code ec;
  fs::remove_all(report.parent_path(), ec);
  return classify_ranks(run.test, process, reports, run);
}

}  // namespace tutor
