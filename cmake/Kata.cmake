# How a kata becomes build targets. One function, add_kata(), registers one kata; add_course()
# calls it for every row of a manifest (curriculum.json for the course; the tutor's own tests
# register a small fixture course the same way, with the prefix "course.").
#
# For kata <id> with folder <dir> it makes:
#   <prefix>kata.<id>           tests/<dir>_test.cpp built against katas/<dir>/  (the learner's)
#   <prefix>kata.<id>.first     the same with only the file's first test in it, compiled beside
#                               kata.<id> after a save, for an early verdict
#   <prefix>solution.<id>       the same test built against solutions/<dir>/
#   <prefix>kata.<id>.tsan      } with -fsanitize=thread (built by default only when the
#   <prefix>solution.<id>.tsan  }  manifest flags the kata "tsan"; SANITIZE=thread asks for any)
#   <prefix>kata.<id>.both, <prefix>solution.<id>.both   both binaries of one side, side by side
#   <prefix>katas.all, <prefix>solutions.all             every kata's binaries (one goal:
#                                       parallel, and with -k a kata that does not compile
#                                       stops no other)
# Binaries land in build/bin/ under the target's name; the tutor finds them by that name. The
# link of a plain binary also touches bin/<name>.ready, so the tutor can start its tests while
# the slower ThreadSanitizer twin is still compiling.

# kata_glob(<variable> <folder> <pattern>): the files of a folder that match, found again when
# a file is added to the folder or taken out of it. Not file(GLOB CONFIGURE_DEPENDS): that
# makes every build, the learner's too, start with a ~0.1 s re-check of every glob. Here CMake
# depends on the folder itself, whose time changes when its list of files does (and when an
# editor saves a file there by renaming a copy: then CMake runs again, ~3 s, once). Only
# maintainers' folders use it; the learner's katas/ is never globbed.
function(kata_glob variable folder pattern)
  file(GLOB found ${folder}/${pattern})
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${folder})
  set(${variable} ${found} PARENT_SCOPE)
endfunction()

# Can bubblewrap make a sandbox here (tools/sandbox/compile uses it for the learner's compiles)?
find_program(BWRAP_PROGRAM bwrap)
set(KATA_COMPILE_SANDBOX OFF)
if(BWRAP_PROGRAM)
  execute_process(COMMAND ${BWRAP_PROGRAM} --unshare-all --die-with-parent --ro-bind / /
                          --dev /dev --proc /proc true
                  RESULT_VARIABLE bwrap_result OUTPUT_QUIET ERROR_QUIET)
  if(bwrap_result EQUAL 0)
    set(KATA_COMPILE_SANDBOX ON)
  endif()
endif()

# The address space a compile of the learner's code may take (tools/sandbox/compile). The
# largest kata test compiles in about 300 MiB; the tutor's hostile-code tests set less.
if(NOT DEFINED KATA_COMPILE_MEMORY_MB)
  set(KATA_COMPILE_MEMORY_MB 2048)
endif()

set(KATA_SUPPORT_INCLUDES ${CMAKE_SOURCE_DIR}/tests/support ${CMAKE_SOURCE_DIR}/support)
set(KATA_LIBRARIES GTest::gtest_main Threads::Threads fmt::fmt)

# A precompiled header that kata tests reuse: GoogleTest and the standard headers are most of
# a test file's compile time; with this, editing a kata and re-running it takes about a second.
# kata_add_pch(<name> <sanitize flags> [<library> [<its extra header>]]): with a library, a
# header for the katas that link it (their rows list it under "link"), built with the library's
# compile flags (OpenMP's -fopenmp must match) and, if given, its headers on top.
function(kata_add_pch name sanitize_flags)
  set(library "")
  set(extra_header "")
  if(ARGC GREATER 2)
    set(library ${ARGV2})
  endif()
  if(ARGC GREATER 3)
    set(extra_header ${ARGV3})
  endif()
  add_library(${name} OBJECT ${CMAKE_SOURCE_DIR}/cmake/pch_anchor.cpp)
  target_link_libraries(${name} PUBLIC ${KATA_LIBRARIES} ${library})
  target_include_directories(${name} PUBLIC ${KATA_SUPPORT_INCLUDES})
  target_precompile_headers(${name} PUBLIC ${CMAKE_SOURCE_DIR}/cmake/kata_pch.hpp ${extra_header})
  if(sanitize_flags)
    target_compile_options(${name} PUBLIC ${sanitize_flags})
    target_link_options(${name} PUBLIC ${sanitize_flags})
  endif()
endfunction()

# The precompiled header a kata's plain build reuses: kata_pch, kata_pch_openmp for a kata that links OpenMP, or kata_pch_tbb for a kata that
# links oneTBB. oneTBB's headers were ~0.4 s of each lesson-07 test file's compile (clang 14,
# 2 cores: 1.0-1.1 s against 0.6-0.7 s for 06d's and 09c's), which the learner waits for after
# every save.
function(_kata_pch_for out libraries)
  if("TBB::tbb" IN_LIST libraries AND TARGET kata_pch_tbb)
    set(${out} kata_pch_tbb PARENT_SCOPE)
  elseif("OpenMP::OpenMP_CXX" IN_LIST libraries AND TARGET kata_pch_openmp)
    set(${out} kata_pch_openmp PARENT_SCOPE)
  else()
    set(${out} kata_pch PARENT_SCOPE)
  endif()
endfunction()

# testkit's kill guard (tests/support/testkit/guard_kill.cpp), linked into every plain kata
# binary: compiled once here, where each kata target compiling it again cost ~0.7 s with the
# precompiled header, 53 times in a `make check` (~20 s of its build on 2 cores).
function(kata_add_guard)
  add_library(kata_guard_kill OBJECT ${CMAKE_SOURCE_DIR}/tests/support/testkit/guard_kill.cpp)
  target_include_directories(kata_guard_kill PRIVATE ${CMAKE_SOURCE_DIR}/tests/support)
  target_compile_options(kata_guard_kill PRIVATE -Werror)
endfunction()

# testkit's compiled part (the deadline's runner and its deadlock watch), linked into every kata
# test and testkit's own tests: once plain (kata_testkit), once for ThreadSanitizer builds
# (kata_testkit_tsan), so that a race in the helpers is reported like one in the kata.
function(kata_add_testkit)
  foreach(name kata_testkit kata_testkit_tsan)
    add_library(${name} OBJECT ${CMAKE_SOURCE_DIR}/tests/support/testkit/deadline.cpp
                               ${CMAKE_SOURCE_DIR}/tests/support/testkit/deadlock.cpp)
    target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support)
    target_compile_options(${name} PRIVATE -Werror)
  endforeach()
  target_compile_options(kata_testkit_tsan PRIVATE -fsanitize=thread)
endfunction()

# The main() of MPI katas' test programs (tests/support/testkit/mpi_main.cpp): MPI_Init before
# the tests, a GoogleTest report per rank. Linked into a kata whose row has "mpi_ranks", in place
# of GoogleTest's main (an object file's main wins over the one in libgtest_main.a).
function(kata_add_mpi_main)
  add_library(kata_mpi_main OBJECT ${CMAKE_SOURCE_DIR}/tests/support/testkit/mpi_main.cpp)
  target_link_libraries(kata_mpi_main PUBLIC MPI::MPI_CXX GTest::gtest)
  target_compile_options(kata_mpi_main PRIVATE -Werror)
endfunction()

# side: kata or solution. Solutions and tests must compile without a warning (-Werror); a
# starter may warn where its bug itself warns. first_only: compile only the test file's first
# test into the program (tests/support/testkit/first_test_only.hpp says how and why).
function(_kata_test_target target test_source code_dir side sanitize libraries files first_only)
  add_executable(${target} ${test_source})
  # The kata's own folder comes first, so `#include "spawn_and_join.hpp"` finds the learner's
  # file in kata.* targets and the reference in solution.* targets.
  target_include_directories(${target} PRIVATE ${code_dir} ${KATA_SUPPORT_INCLUDES})
  target_link_libraries(${target} PRIVATE ${KATA_LIBRARIES} ${libraries})
  # The .cpp files the manifest lists for the kata are compiled in too (most katas are a single
  # header). Only those: any other file in the folder is not the kata's (the tutor flags it).
  foreach(file ${files})
    if(file MATCHES "\\.cpp$")
      target_sources(${target} PRIVATE ${code_dir}/${file})
    endif()
  endforeach()
  if(first_only)
    target_compile_options(${target} PRIVATE
      "SHELL:-include ${CMAKE_SOURCE_DIR}/tests/support/testkit/first_test_only.hpp")
  endif()
  if(side STREQUAL "solution")
    target_compile_options(${target} PRIVATE -Werror)
  else()
    # The learner's code compiles with limits, and without sight of solutions/ where bubblewrap
    # works (tools/sandbox/compile says why).
    set_target_properties(${target} PROPERTIES CXX_COMPILER_LAUNCHER
      "${CMAKE_SOURCE_DIR}/tools/sandbox/compile;${ARG_ROOT};${CMAKE_BINARY_DIR};${KATA_COMPILE_SANDBOX};${KATA_COMPILE_MEMORY_MB}")
  endif()
  # A kata that links OpenMP::OpenMP_CXX compiles with its -fopenmp, and clang refuses a
  # precompiled header built without it (clang 14 crashes on the mismatch): such a kata's plain
  # targets reuse kata_pch_openmp, the same header built with -fopenmp; its TSan twin (OpenMP
  # katas are never graded under TSan, which does not know libomp) compiles without one.
  _kata_pch_for(pch "${libraries}")
  if(sanitize)
    target_link_libraries(${target} PRIVATE kata_testkit_tsan)
    target_compile_options(${target} PRIVATE -fsanitize=thread)
    target_link_options(${target} PRIVATE -fsanitize=thread)
    if(NOT pch STREQUAL "kata_pch_openmp")
      target_precompile_headers(${target} REUSE_FROM kata_pch_tsan)
    endif()
  else()
    target_precompile_headers(${target} REUSE_FROM ${pch})
    target_link_libraries(${target} PRIVATE kata_testkit)
    # kill(-1, ...) and kill(0, ...) are refused with a message (see the file for why).
    target_link_libraries(${target} PRIVATE kata_guard_kill)
    # touch, not `cmake -E touch`: starting cmake costs ~0.1 s of the learner's every save.
    add_custom_command(TARGET ${target} POST_BUILD COMMAND touch $<TARGET_FILE:${target}>.ready)
  endif()
endfunction()

# add_kata(<id> <dir> <tsan> ROOT <course folder> [PREFIX <prefix>] [LIBRARIES <libs...>]
#          [FILES <the kata's files, as the manifest lists them>])
function(add_kata id dir tsan)
  cmake_parse_arguments(ARG "" "ROOT;PREFIX" "LIBRARIES;FILES" ${ARGN})
  set(p "${ARG_PREFIX}")
  set(test_source ${ARG_ROOT}/tests/${dir}_test.cpp)
  if(NOT EXISTS ${test_source})
    message(WARNING "kata ${id}: ${test_source} does not exist yet; skipped")
    return()
  endif()
  # The learner's first test alone, compiled beside the whole program after each save: the tutor
  # runs it as soon as it links (tests/support/testkit/first_test_only.hpp). Defined before the
  # kata's other targets: Ninja 1.11 starts the ready jobs in the order they were defined.
  _kata_test_target(${p}kata.${id}.first ${test_source} ${ARG_ROOT}/katas/${dir} kata OFF
                    "${ARG_LIBRARIES}" "${ARG_FILES}" ON)
  foreach(side kata solution)
    set(code_dir ${ARG_ROOT}/${side}s/${dir})
    _kata_test_target(${p}${side}.${id} ${test_source} ${code_dir} ${side} OFF "${ARG_LIBRARIES}"
                      "${ARG_FILES}" OFF)
    add_custom_target(${p}${side}.${id}.both)
    add_dependencies(${p}${side}.${id}.both ${p}${side}.${id})
    add_dependencies(${p}${side}s.all ${p}${side}.${id}.both)
    # Every kata has a TSan twin (make test KATA=<id> SANITIZE=thread builds it on demand); only
    # a flagged kata's twin belongs to its .both goal and to `all`.
    _kata_test_target(${p}${side}.${id}.tsan ${test_source} ${code_dir} ${side} ON "${ARG_LIBRARIES}"
                      "${ARG_FILES}" OFF)
    if(tsan)
      add_dependencies(${p}${side}.${id}.both ${p}${side}.${id}.tsan)
    else()
      set_target_properties(${p}${side}.${id}.tsan PROPERTIES EXCLUDE_FROM_ALL ON)
    endif()
  endforeach()
  # The learner's targets stay out of `all`: a kata that does not compile yet must not stop the
  # build of everything else. The tutor builds them (katas.all with keep-going, then one by one).
  set_target_properties(${p}kata.${id} ${p}kata.${id}.tsan ${p}kata.${id}.first PROPERTIES
                        EXCLUDE_FROM_ALL ON)
  if(p)  # a fixture course is built only when its tests ask for it
    foreach(suffix "" .tsan)
      if(TARGET ${p}solution.${id}${suffix})
        set_target_properties(${p}solution.${id}${suffix} PROPERTIES EXCLUDE_FROM_ALL ON)
      endif()
    endforeach()
  endif()
endfunction()

# A kata's field, as the tutor reads it (tools/tutor/manifest.cpp): the row's own value, else
# its lesson's "kata_defaults", else the manifest's "kata_defaults", else `fallback`.
function(kata_manifest_field out manifest index field fallback)
  string(JSON value ERROR_VARIABLE missing GET "${manifest}" katas ${index} ${field})
  if(missing)
    string(JSON lesson GET "${manifest}" katas ${index} lesson)
    string(JSON lesson_count LENGTH "${manifest}" lessons)
    math(EXPR lesson_last "${lesson_count} - 1")
    foreach(l RANGE ${lesson_last})
      string(JSON id GET "${manifest}" lessons ${l} id)
      if(id STREQUAL lesson)
        string(JSON value ERROR_VARIABLE missing GET "${manifest}" lessons ${l} kata_defaults
               ${field})
      endif()
    endforeach()
  endif()
  if(missing)
    string(JSON value ERROR_VARIABLE missing GET "${manifest}" kata_defaults ${field})
  endif()
  if(missing)
    set(value ${fallback})
  endif()
  set(${out} ${value} PARENT_SCOPE)
endfunction()

# Library names a kata's row lists under "link" (for example ["TBB::tbb"]): only the katas that
# need oneTBB or OpenMP link them.
function(kata_manifest_libraries out manifest index)
  set(libraries "")
  string(JSON count ERROR_VARIABLE missing LENGTH "${manifest}" katas ${index} link)
  if(NOT missing AND count GREATER 0)
    math(EXPR last "${count} - 1")
    foreach(j RANGE ${last})
      string(JSON library GET "${manifest}" katas ${index} link ${j})
      list(APPEND libraries ${library})
    endforeach()
  endif()
  set(${out} ${libraries} PARENT_SCOPE)
endfunction()

# Registers every kata of the manifest `manifest_file`, whose katas/, solutions/ and tests/ are
# in `root`, with target names starting with `prefix`.
function(add_course manifest_file root prefix)
  file(READ ${manifest_file} manifest)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${manifest_file})
  add_custom_target(${prefix}katas.all)
  add_custom_target(${prefix}solutions.all)
  string(JSON kata_count LENGTH "${manifest}" katas)
  math(EXPR kata_last "${kata_count} - 1")
  foreach(i RANGE ${kata_last})
    string(JSON id GET "${manifest}" katas ${i} id)
    string(JSON dir GET "${manifest}" katas ${i} dir)
    kata_manifest_field(tsan "${manifest}" ${i} tsan OFF)
    kata_manifest_libraries(libraries "${manifest}" ${i})
    # An MPI kata's tests run under mpirun, one process per rank, with a main of their own.
    kata_manifest_field(mpi_ranks "${manifest}" ${i} mpi_ranks 0)
    if(mpi_ranks GREATER 0)
      if(NOT TARGET kata_mpi_main)
        kata_add_mpi_main()
      endif()
      list(APPEND libraries kata_mpi_main MPI::MPI_CXX)
    endif()
    string(JSON file_count LENGTH "${manifest}" katas ${i} files)
    math(EXPR file_last "${file_count} - 1")
    set(files "")
    foreach(f RANGE ${file_last})
      string(JSON file GET "${manifest}" katas ${i} files ${f})
      list(APPEND files ${file})
    endforeach()
    add_kata(${id} ${dir} ${tsan} ROOT ${root} PREFIX "${prefix}" LIBRARIES ${libraries}
             FILES ${files})
  endforeach()
endfunction()

# Every .cpp in lessons/<dir>/ is a runnable demo: demo.<lesson id>.<file stem>.
function(_demo_settings target)
  target_compile_options(${target} PRIVATE -O2 -Werror)
  target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/support)
  # MPI for lesson 11's demo (one setting for all: they share a precompiled header), which
  # starts itself under mpirun with support/mpi_launch.hpp.
  target_link_libraries(${target} PRIVATE fmt::fmt Threads::Threads TBB::tbb OpenMP::OpenMP_CXX
                        MPI::MPI_CXX)
  target_compile_definitions(${target} PRIVATE SUPPORT_MPIEXEC="${MPIEXEC_EXECUTABLE}")
endfunction()

function(add_lesson_demos lesson_id lesson_dir)
  # One precompiled header for every demo (fmt and the standard headers most of them use): the
  # eleven demos of lessons 01-06 took 29 s of CPU to build without it and 20 s with it.
  if(NOT TARGET demo_pch)
    add_library(demo_pch OBJECT ${CMAKE_SOURCE_DIR}/cmake/pch_anchor.cpp)
    _demo_settings(demo_pch)
    target_precompile_headers(demo_pch PRIVATE <fmt/core.h> <algorithm> <atomic> <chrono>
                              <cstdio> <cstdlib> <cstring> <latch> <mutex> <string> <thread>
                              <vector>)
  endif()
  kata_glob(demos ${CMAKE_SOURCE_DIR}/lessons/${lesson_dir} *.cpp)
  foreach(source ${demos})
    get_filename_component(stem ${source} NAME_WE)
    set(target demo.${lesson_id}.${stem})
    add_executable(${target} ${source})
    _demo_settings(${target})
    target_precompile_headers(${target} REUSE_FROM demo_pch)
  endforeach()
endfunction()
