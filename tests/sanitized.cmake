# The unit, API and client tests and the fuzz targets under AddressSanitizer + UBSan, as ctest
# tests named san.* (docs/testing.md, "Sanitizers"). Included from tests/CMakeLists.txt in two
# kinds of tree:
#  - the sanitized tree itself (build-san/, -DEDDY_FUZZ=ON, clang): the binaries are its own;
#  - the default tree (build/, EDDY_SANITIZED_TESTS): the test binaries are built only once, in
#    the sanitized tree EDDY_SAN_DIR, and run from here; san.build (a fixture every san.* test
#    requires, so `ctest -R san.api` builds first) configures and builds that tree with
#    `./dev san-build` - a no-op when ./dev test has just built it.
include(${PROJECT_SOURCE_DIR}/fuzz/targets.cmake)
if(EDDY_FUZZ)
  set(san_dir ${PROJECT_BINARY_DIR})
  set(san_fixture "")
else()
  set(san_dir ${EDDY_SAN_DIR})
  set(san_fixture san)
  add_test(NAME san.build COMMAND env EDDY_SAN_DIR=${EDDY_SAN_DIR} bash ${PROJECT_SOURCE_DIR}/dev san-build)
  set_tests_properties(san.build PROPERTIES FIXTURES_SETUP san TIMEOUT 3600 LABELS san)
endif()

# UB is fatal; LeakSanitizer is off (the servers' detached threads and RocksDB's statics at exit).
set(san_env "ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
foreach(t unit api client)
  # (env: the binary may not exist yet when ctest lists the tests; san.build makes it.)
  add_test(NAME san.${t} COMMAND env ${san_dir}/tests/${t}_tests --gtest_brief=1)
  set_tests_properties(san.${t} PROPERTIES ENVIRONMENT "${san_env};EDDY_SHARED_DIR=${EDDY_SHARED_DIR}"
                       FIXTURES_REQUIRED "${san_fixture}" TIMEOUT 1500 LABELS san)
endforeach()

# Each fuzz target (san.fuzz.kpl for fuzz_kpl) replays its corpus, then fuzzes for EDDY_FUZZ_SECONDS (5 by default).
foreach(t IN LISTS EDDY_FUZZ_TARGETS)
  string(REGEX REPLACE "^fuzz_" "" short ${t})
  add_test(NAME san.fuzz.${short}
           COMMAND bash ${PROJECT_SOURCE_DIR}/fuzz/run.sh ${san_dir}/fuzz/${t} ${PROJECT_SOURCE_DIR}/fuzz/corpus/${t}
                   ${PROJECT_BINARY_DIR}/fuzz-out)
  set_tests_properties(san.fuzz.${short} PROPERTIES ENVIRONMENT "${san_env}" FIXTURES_REQUIRED "${san_fixture}"
                       TIMEOUT 300 LABELS "san;fuzz")
endforeach()
