# The client library's tests (included from tests/CMakeLists.txt after api_tests).
# client_tests links eddy_client alone: that it links at all shows the library needs no server.
file(GLOB EDDY_CLIENT_TESTS CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/client/*_test.cpp)
add_executable(client_tests ${EDDY_CLIENT_TESTS})
target_compile_options(client_tests PRIVATE ${EDDY_WARNINGS})
target_compile_definitions(client_tests PRIVATE EDDY_SHARED_DIR="${EDDY_SHARED_DIR}")
target_link_libraries(client_tests PRIVATE eddy_client GTest::gtest_main)

# tests/api/client_*: the tools against eddy started in-process.
target_link_libraries(api_tests PRIVATE eddy_client)

# No server symbol in the archive, no server library in its link interface. In the default tree
# (EDDY_SANITIZED_TESTS) client_tests is the sanitized tree's: this tree does not build it.
set(client_tests_binary $<TARGET_FILE:client_tests>)
if(EDDY_SANITIZED_TESTS AND NOT EDDY_FUZZ)
  set(client_tests_binary ${EDDY_SAN_DIR}/tests/client_tests)
endif()
add_test(NAME client_isolation
         COMMAND ${CMAKE_COMMAND} -DNM=${CMAKE_NM} -DARCHIVE=$<TARGET_FILE:eddy_client>
                 -DBINARY=${client_tests_binary}
                 "-DLINK_LIBS=$<TARGET_PROPERTY:eddy_client,LINK_LIBRARIES>"
                 -P ${CMAKE_CURRENT_SOURCE_DIR}/client/isolation_check.cmake)
if(EDDY_SANITIZED_TESTS AND NOT EDDY_FUZZ)
  set_tests_properties(client_isolation PROPERTIES FIXTURES_REQUIRED san)
endif()
