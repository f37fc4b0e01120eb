# Building Managarm code against helhost (docs/MANAGARM.md): helix from a
# Managarm checkout, and bragi headers.  helhostConfig.cmake includes this;
# it needs the targets helhost::hel and helhost::managarm.  On Debian 12,
# Managarm's C++ needs clang++-19 with libc++ (CMAKE_CXX_COMPILER=clang++-19);
# the targets made here carry the options it needs.

# helhost_managarm_bragi(<var> BRAGI <bragi checkout> FILES <x.bragi>...)
# Generates x.bragi.hpp for each file into ${CMAKE_CURRENT_BINARY_DIR}/bragi,
# as Managarm's build does, and sets <var> to the generated headers (list
# them as sources of a target, and put their folder on its include path).
function(helhost_managarm_bragi var)
  cmake_parse_arguments(A "" "BRAGI;PYTHON" "FILES" ${ARGN})
  if(NOT A_PYTHON)
    set(A_PYTHON /usr/bin/python3)   # Debian's, which sees python3-lark
  endif()
  set(dir ${CMAKE_CURRENT_BINARY_DIR}/bragi)
  set(outs "")
  foreach(f ${A_FILES})
    get_filename_component(base ${f} NAME_WE)
    add_custom_command(OUTPUT ${dir}/${base}.bragi.hpp
      COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
      COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${A_BRAGI}
        ${A_PYTHON} -m bragi -o ${dir}/${base}.bragi.hpp ${f} cpp -l stdc++ --protobuf
      DEPENDS ${f}
      COMMENT "bragi: ${base}.bragi.hpp")
    list(APPEND outs ${dir}/${base}.bragi.hpp)
  endforeach()
  set(${var} ${outs} PARENT_SCOPE)
endfunction()

# helhost_managarm_helix(<target> MANAGARM <checkout> LIBASYNC <dir>
#                        FRIGG <dir> BRAGI <dir>)
# Builds helix (hel/src of a Managarm checkout) as the shared library
# <target> against helhost's hel headers and libhel.  Its users get the
# include path in the order that works: helhost's include/ and <sys/auxv.h>
# first, then a folder holding only helix/ (a checkout's hel/include also
# holds Managarm's own hel.h, which must never be seen), then libasync,
# frigg, bragi's runtime headers and protocols/posix; and the C++ options.
function(helhost_managarm_helix target)
  cmake_parse_arguments(A "" "MANAGARM;LIBASYNC;FRIGG;BRAGI" "" ${ARGN})
  set(only_helix ${CMAKE_CURRENT_BINARY_DIR}/${target}-include)
  file(MAKE_DIRECTORY ${only_helix})
  file(CREATE_LINK ${A_MANAGARM}/hel/include/helix ${only_helix}/helix SYMBOLIC)
  add_library(${target} SHARED ${A_MANAGARM}/hel/src/globals.cpp
    ${A_MANAGARM}/hel/src/passthrough-fd.cpp)
  target_link_libraries(${target} PUBLIC helhost::hel helhost::managarm)
  target_include_directories(${target} PUBLIC ${only_helix} ${A_LIBASYNC}/include
    ${A_FRIGG}/include ${A_BRAGI}/include ${A_MANAGARM}/protocols/posix/include)
  # libasync calls std::terminate without including <exception>.
  target_compile_options(${target} PUBLIC -stdlib=libc++ -include exception)
  target_link_options(${target} PUBLIC -stdlib=libc++)
  target_compile_features(${target} PUBLIC cxx_std_23)
endfunction()
