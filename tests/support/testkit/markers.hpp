// The lines a kata test prints for the grader to read. The test helpers print them and
// tools/tutor parses them; both include this file, so the two can never drift apart.
#pragma once

namespace testkit::markers {

// Every line meant for the grader starts with this.
inline constexpr char kPrefix[] = "[testkit] ";

// "[testkit] TIMEOUT: <what> did not finish within <n> s. <hint>": testkit::finishes_within
// gave up; the grader reports the test as TIMEOUT with the rest of the line as its message.
inline constexpr char kTimeout[] = "[testkit] TIMEOUT: ";

// "[testkit] refused <call>: <why>": the test refused a call that would reach far beyond
// itself (see guard_kill.cpp); the grader puts the rest of the line first in the message.
inline constexpr char kRefused[] = "[testkit] refused ";

// "[testkit] MPI error: rank <r>: <the call's error>": an MPI call of an MPI kata failed, and
// testkit's error handler (mpi_main.cpp) ends the job; the grader names the error as the cause.
inline constexpr char kMpiError[] = "[testkit] MPI error: ";

}  // namespace testkit::markers
