// Starting an MPI program on this machine when it was started without mpirun (lesson 11's demo
// and benchmark): the program starts itself again under mpirun, as `ranks` ranks, with the
// same arguments, and returns what mpirun returned.
//
// Why: `make lesson N=11` and `make bench` start every program the same way, directly. MPI
// could start such a program as a "singleton" (one rank), but the demo needs two. The options
// are those the tutor grades MPI katas with (mpirun_line below serves both):
// --oversubscribe (more ranks than cores is allowed), --bind-to none, the shared-memory
// transports only (self and vader: no network is probed), and --allow-run-as-root when root,
// since mpirun refuses to run as root without it.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#ifndef SUPPORT_MPIEXEC
#define SUPPORT_MPIEXEC "mpirun"
#endif

namespace support {

// Whether this process is a rank that mpirun started (Open MPI sets these in every rank).
inline bool started_by_mpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr;
}

// The one mpirun command line of the course, for the tutor (which grades MPI katas with it) and
// for the demo and benchmark: `mpirun` started with these options runs `command` (a program and
// its arguments) as `ranks` ranks.
inline std::vector<std::string> mpirun_line(const std::string& mpirun, int ranks,
                                            const std::vector<std::string>& command, bool as_root) {
  std::vector<std::string> line = {mpirun, "-np", std::to_string(ranks), "--oversubscribe",
                                   "--bind-to", "none", "--mca", "pml", "ob1", "--mca", "btl",
                                   "self,vader",
                                   // Copies through shared memory, not process_vm_readv (CMA),
                                   // which a container or a user namespace may forbid.
                                   "--mca", "btl_vader_single_copy_mechanism", "none"};
  if (as_root) line.push_back("--allow-run-as-root");
  line.insert(line.end(), command.begin(), command.end());
  return line;
}

// Runs this program again under mpirun as `ranks` ranks and returns its exit code; -1 if this
// process is a rank already (then the caller goes on with MPI_Init).
inline int rerun_under_mpirun(int argc, char** argv, int ranks) {
  if (started_by_mpirun()) return -1;
  // /proc/self/exe must be read now: in the child it would name mpirun.
  char self[4096];
  const ssize_t length = readlink("/proc/self/exe", self, sizeof self - 1);
  std::vector<std::string> command = {length > 0 ? std::string(self, static_cast<size_t>(length))
                                                 : "/proc/self/exe"};
  command.insert(command.end(), argv + 1, argv + argc);
  std::vector<std::string> line = mpirun_line(SUPPORT_MPIEXEC, ranks, command, geteuid() == 0);
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    std::vector<char*> c_args;
    for (auto& a : line) c_args.push_back(a.data());
    c_args.push_back(nullptr);
    execvp(c_args[0], c_args.data());
    std::perror(("cannot start " + line[0] + " (Debian: apt-get install openmpi-bin)").c_str());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace support
