# How a kata becomes build targets. One function, add_kata(), registers one kata; the
# top-level CMakeLists.txt calls it for every row of curriculum.json.
#
# For kata <id> with folder <dir> it makes:
#   kata.<id>           tests/<dir>_test.cpp built against katas/<dir>/     (the learner's code)
#   solution.<id>       the same test built against solutions/<dir>/
#   kata.<id>.tsan      } with -fsanitize=thread, when the manifest flags the kata "tsan"
#   solution.<id>.tsan  }
#   kata.<id>.both, solution.<id>.both   both binaries of one side, built in parallel
#   katas.all, solutions.all             every kata's binaries (one goal: parallel, and with
#                                        make -k a kata that does not compile stops no other)
# Binaries land in build/bin/ under the target's name; the tutor finds them by that name.

set(KATA_SUPPORT_INCLUDES ${CMAKE_SOURCE_DIR}/tests/support ${CMAKE_SOURCE_DIR}/support)
set(KATA_LIBRARIES GTest::gtest_main Threads::Threads fmt::fmt TBB::tbb OpenMP::OpenMP_CXX)

# A precompiled header that kata tests reuse: GoogleTest and the standard headers take ~2 s
# of every ~3 s compile; with this, editing a kata and re-running it takes about a second.
function(kata_add_pch name sanitize_flags)
  add_library(${name} OBJECT ${CMAKE_SOURCE_DIR}/cmake/pch_anchor.cpp)
  target_link_libraries(${name} PUBLIC ${KATA_LIBRARIES})
  target_include_directories(${name} PUBLIC ${KATA_SUPPORT_INCLUDES})
  target_precompile_headers(${name} PUBLIC ${CMAKE_SOURCE_DIR}/cmake/kata_pch.hpp)
  if(sanitize_flags)
    target_compile_options(${name} PUBLIC ${sanitize_flags})
    target_link_options(${name} PUBLIC ${sanitize_flags})
  endif()
endfunction()

function(_kata_test_target target test_source code_dir sanitize)
  add_executable(${target} ${test_source})
  # The kata's own folder comes first, so `#include "spawn_and_join.hpp"` finds the learner's
  # file in kata.* targets and the reference in solution.* targets.
  target_include_directories(${target} PRIVATE ${code_dir} ${KATA_SUPPORT_INCLUDES})
  target_link_libraries(${target} PRIVATE ${KATA_LIBRARIES})
  # Any .cpp the kata folder holds is compiled in too (most katas are a single header).
  file(GLOB extra_sources CONFIGURE_DEPENDS ${code_dir}/*.cpp)
  target_sources(${target} PRIVATE ${extra_sources})
  if(sanitize)
    target_compile_options(${target} PRIVATE -fsanitize=thread)
    target_link_options(${target} PRIVATE -fsanitize=thread)
    target_precompile_headers(${target} REUSE_FROM kata_pch_tsan)
  else()
    target_precompile_headers(${target} REUSE_FROM kata_pch)
    # kill(-1, ...) and kill(0, ...) are refused with a message (see the file for why).
    target_sources(${target} PRIVATE ${CMAKE_SOURCE_DIR}/tests/support/testkit/guard_kill.cpp)
  endif()
endfunction()

add_custom_target(katas.all)
add_custom_target(solutions.all)

function(add_kata id dir tsan)
  set(test_source ${CMAKE_SOURCE_DIR}/tests/${dir}_test.cpp)
  if(NOT EXISTS ${test_source})
    message(WARNING "kata ${id}: ${test_source} does not exist yet; skipped")
    return()
  endif()
  _kata_test_target(kata.${id} ${test_source} ${CMAKE_SOURCE_DIR}/katas/${dir} OFF)
  _kata_test_target(solution.${id} ${test_source} ${CMAKE_SOURCE_DIR}/solutions/${dir} OFF)
  # The learner's targets stay out of `all`: a kata that does not compile yet must not stop
  # the build of everything else. The tutor builds them one by one (`make check` too).
  set_target_properties(kata.${id} PROPERTIES EXCLUDE_FROM_ALL ON)
  if(tsan)
    _kata_test_target(kata.${id}.tsan ${test_source} ${CMAKE_SOURCE_DIR}/katas/${dir} ON)
    _kata_test_target(solution.${id}.tsan ${test_source} ${CMAKE_SOURCE_DIR}/solutions/${dir} ON)
    set_target_properties(kata.${id}.tsan PROPERTIES EXCLUDE_FROM_ALL ON)
  endif()
  # One target per side that builds both binaries: make builds the dependencies of one goal in
  # parallel (separate goals on CMake's top-level Makefile are built one after another).
  foreach(side kata solution)
    add_custom_target(${side}.${id}.both)
    add_dependencies(${side}s.all ${side}.${id}.both)
    add_dependencies(${side}.${id}.both ${side}.${id})
    if(tsan)
      add_dependencies(${side}.${id}.both ${side}.${id}.tsan)
    endif()
  endforeach()
endfunction()

# Every .cpp in lessons/<dir>/ is a runnable demo: demo.<lesson id>.<file stem>.
function(add_lesson_demos lesson_id lesson_dir)
  file(GLOB demos CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/lessons/${lesson_dir}/*.cpp)
  foreach(source ${demos})
    get_filename_component(stem ${source} NAME_WE)
    set(target demo.${lesson_id}.${stem})
    add_executable(${target} ${source})
    target_compile_options(${target} PRIVATE -O2)
    target_include_directories(${target} PRIVATE ${CMAKE_SOURCE_DIR}/support)
    target_link_libraries(${target} PRIVATE fmt::fmt Threads::Threads TBB::tbb OpenMP::OpenMP_CXX)
  endforeach()
endfunction()
