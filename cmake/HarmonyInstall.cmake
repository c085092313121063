# `cmake --install build --prefix P`: the static library (P/lib/libharmony.a), the public headers
# (P/include/harmony), the `harmony` CLI, a CMake package (find_package(harmony) ->
# harmony::harmony) and a pkg-config file (harmony.pc).
# Both are relocatable: they find the prefix from where they are installed.
include(CMakePackageConfigHelpers)

# The pkg-config modules harmony_core links, as "<PkgConfig::target name>:<modules>". It mirrors
# the pkg_check_modules() calls in the top CMakeLists.txt; the installed package recreates the
# same imported targets from it, and harmony.pc requires the same modules.
set(HARMONY_PKG_DEPS
  "FFMPEG:libavformat libavcodec libavutil libswresample" "SOXR:soxr" "FFTW3F:fftw3f"
  "XXHASH:libxxhash" "SQLITE3:sqlite3" "TAGLIB:taglib" "ZLIB:zlib")
set(HARMONY_CONFIG_PKG_DEPS "")
set(HARMONY_PC_REQUIRES "")
foreach(dep IN LISTS HARMONY_PKG_DEPS)
  string(REPLACE ":" ";" parts "${dep}")
  list(GET parts 0 name)
  list(GET parts 1 modules)
  string(APPEND HARMONY_CONFIG_PKG_DEPS "_harmony_pkg_dep(${name} ${modules})\n")
  string(REPLACE " " ", " modules "${modules}")
  list(APPEND HARMONY_PC_REQUIRES "${modules}")
endforeach()
list(JOIN HARMONY_PC_REQUIRES ", " HARMONY_PC_REQUIRES)

install(TARGETS harmony_core EXPORT harmonyTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/harmony DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.hpp")
install(TARGETS harmony RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(HARMONY_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/harmony)
install(EXPORT harmonyTargets NAMESPACE harmony:: DESTINATION ${HARMONY_CMAKE_DIR})
configure_package_config_file(cmake/harmonyConfig.cmake.in ${CMAKE_BINARY_DIR}/harmonyConfig.cmake
  INSTALL_DESTINATION ${HARMONY_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_BINARY_DIR}/harmonyConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/harmonyConfig.cmake ${CMAKE_BINARY_DIR}/harmonyConfigVersion.cmake
  DESTINATION ${HARMONY_CMAKE_DIR})

# A static libharmony needs its dependencies in every link: they go in Requires/Libs, so plain
# `pkg-config --libs harmony` links (`--static` would also ask for the static libraries behind
# Debian's FFmpeg, which are not installed). A shared one would list them as private.
get_target_property(HARMONY_CORE_TYPE harmony_core TYPE)
if(HARMONY_CORE_TYPE STREQUAL "STATIC_LIBRARY")
  set(HARMONY_PC_REQUIRES_FIELD "Requires")
  set(HARMONY_PC_LIBS_FIELD "Libs: -L\${libdir} -lharmony -pthread -lm")
else()
  set(HARMONY_PC_REQUIRES_FIELD "Requires.private")
  set(HARMONY_PC_LIBS_FIELD "Libs: -L\${libdir} -lharmony\nLibs.private: -pthread -lm")
endif()
# harmony.pc finds the prefix from its own place (${pcfiledir}), so it stays right after
# `cmake --install --prefix` elsewhere or a move.
file(RELATIVE_PATH HARMONY_PC_UP /p/${CMAKE_INSTALL_LIBDIR}/pkgconfig /p)
string(REGEX REPLACE "/$" "" HARMONY_PC_UP "${HARMONY_PC_UP}")
configure_file(cmake/harmony.pc.in ${CMAKE_BINARY_DIR}/harmony.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/harmony.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
