# Managarm's own code built against helhost and run under ctest, label
# `managarm` (docs/MANAGARM.md).  Included by tests/CMakeLists.txt.  Without
# the sources or the toolchain, one test says why and is skipped.
set(HELHOST_MANAGARM_SRC "${PROJECT_SOURCE_DIR}/../shared/managarm-src" CACHE PATH
  "Managarm sources to build against helhost: managarm/, libasync/, frigg/, bragi/")
find_program(HELHOST_MANAGARM_CXX NAMES clang++-19 DOC "clang++ whose libc++ compiles Managarm's code")
execute_process(COMMAND /usr/bin/python3 -c "import lark" RESULT_VARIABLE no_lark OUTPUT_QUIET ERROR_QUIET)

set(why "")
if(NOT EXISTS ${HELHOST_MANAGARM_SRC}/managarm/mbus/src/main.cpp)
  set(why "no Managarm sources in ${HELHOST_MANAGARM_SRC} (cmake -DHELHOST_MANAGARM_SRC=PATH)")
elseif(NOT HELHOST_MANAGARM_CXX OR NOT EXISTS /usr/lib/llvm-19/include/c++/v1/format)
  set(why "no clang++-19 with libc++ (apt-get install clang-19 libc++-19-dev libc++abi-19-dev)")
elseif(NOT no_lark EQUAL 0)
  set(why "bragi needs python3-lark (apt-get install python3-lark)")
elseif(HELHOST_SANITIZE)
  set(why "a sanitized libhel needs GCC's sanitizer runtime, which clang++ programs lack")
endif()
if(why)
  message(STATUS "Managarm tests skipped: ${why}")
  add_test(NAME managarm COMMAND sh -c "echo \"skipped: $0\"; exit 77" "${why}")
  set_tests_properties(managarm PROPERTIES SKIP_RETURN_CODE 77 LABELS managarm)
  return()
endif()

include(ExternalProject)
set(MG ${CMAKE_CURRENT_BINARY_DIR}/managarm)
ExternalProject_Add(managarm_code
  SOURCE_DIR ${CMAKE_CURRENT_SOURCE_DIR}/managarm
  BINARY_DIR ${MG}
  CMAKE_ARGS -DCMAKE_CXX_COMPILER=${HELHOST_MANAGARM_CXX} -DMANAGARM_SRC=${HELHOST_MANAGARM_SRC}
    -DHELHOST_SOURCE_DIR=${PROJECT_SOURCE_DIR} -DHELHOST_LIBHEL=$<TARGET_FILE:hel>
    -DHELHOST_COMPAT=$<TARGET_FILE:helhost_managarm>
  BUILD_ALWAYS ON
  INSTALL_COMMAND ""
  DEPENDS hel helhost_managarm helhost)

set(expect ${CMAKE_CURRENT_SOURCE_DIR}/managarm/expect.sh)
# kernel-tests: all five tests, auto-started and under `helhost run`.
add_test(NAME managarm_kernel_tests COMMAND ${expect} 5 "^posix-tests: Running " ${MG}/kernel-tests)
add_test(NAME managarm_kernel_tests_run COMMAND ${expect} 5 "^posix-tests: Running "
  $<TARGET_FILE:helhost> run ${MG}/kernel-tests)
# kernel-bench to the end: fourteen benchmarks, each with its average (about 70 s:
# five one-second repetitions each).
add_test(NAME managarm_kernel_bench COMMAND ${expect} 14 "^    avg: " ${MG}/kernel-bench)
# Started first (COST), it overlaps the rest of the suite instead of adding to it.
set_tests_properties(managarm_kernel_bench PROPERTIES LABELS managarm TIMEOUT 300 COST 10000)
# mbus, lsmbus and two programs of ours that find each other through mbus.
add_test(NAME managarm_mbus COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/managarm/mbus.sh
  $<TARGET_FILE:helhost> ${MG})
set_tests_properties(managarm_kernel_tests managarm_kernel_tests_run managarm_mbus
  PROPERTIES LABELS managarm TIMEOUT 120)
