// Kata 09c · The eval loop: bytecode holds the GIL, I/O lets it go
// Lesson: lessons/09-the-gil/README.md#inside-the-eval-loop
//
// execute() is the heart of a tiny interpreter: it runs one thread's bytecode, an instruction at a
// time, and gets every answer right. But it never touches the GIL, so two threads run bytecode at
// the same moment: the very thing a GIL exists to prevent. Make it hold the GIL from its first
// instruction to its return, offer the GIL to waiters at every backward jump (a loop's back edge:
// CPython's eval breaker), and let it go around blocking calls. An exception must not leave the
// GIL held. With GilKind::Off the same code must run threads in parallel: add no lock of your own.
//
// Grade it: make test KATA=09c        Stuck? make hint KATA=09c
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "gil.hpp"

namespace kata {

enum class Op {
  Set,            // acc = arg
  Add,            // acc = acc + arg
  JumpIfNotZero,  // if acc != 0, go on at instruction number arg (to arg <= this instruction's
                  // number, it jumps backward: a loop's back edge)
  Call,           // acc = functions[arg](acc): a quick C function; runs like bytecode
  CallBlocking,   // acc = functions[arg](acc): a blocking call (a read, a sleep, a wait)
  Return,         // the end: execute() returns acc
};

struct Instruction {
  Op op;
  long arg = 0;
};

using Code = std::vector<Instruction>;

// What the program can reach outside itself.
struct Host {
  std::vector<std::function<long(long)>> functions;  // what Call and CallBlocking call
  std::function<void(std::size_t pc)> tracer;        // sys.settrace: called before every
                                                     // instruction, as part of the bytecode
};

// Runs `code` from instruction 0 on the calling thread, known to the GIL as `thread`, and
// returns the accumulator at Return.
inline long execute(support::Gil& gil, support::Gil::ThreadId thread, const Code& code,
                    const Host& host) {
  // TODO: as written, no instruction below runs with the GIL held. Take it here, for the whole
  //       run, and make sure it is dropped exactly once, however execute() ends.
  (void)gil;
  (void)thread;
  long acc = 0;
  std::size_t pc = 0;
  while (true) {
    const Instruction& instruction = code.at(pc);
    if (host.tracer) host.tracer(pc);
    switch (instruction.op) {
      case Op::Set:
        acc = instruction.arg;
        ++pc;
        break;
      case Op::Add:
        acc += instruction.arg;
        ++pc;
        break;
      case Op::JumpIfNotZero:
        if (acc == 0) {
          ++pc;
          break;
        }
        // TODO: a backward jump is where a thread that has run long enough gives others a turn.
        pc = static_cast<std::size_t>(instruction.arg);
        break;
      case Op::Call:
        acc = host.functions.at(static_cast<std::size_t>(instruction.arg))(acc);
        ++pc;
        break;
      case Op::CallBlocking:
        // TODO: this call blocks, and every other thread waits for it.
        acc = host.functions.at(static_cast<std::size_t>(instruction.arg))(acc);
        ++pc;
        break;
      case Op::Return:
        return acc;
    }
  }
}

}  // namespace kata
