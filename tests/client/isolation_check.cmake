# eddy_client must never link the server (docs/clients.md): checks the archive's undefined and
# defined symbols, the linked client_tests binary, and the target's link libraries.
# cmake -DNM=nm -DARCHIVE=libeddy_client.a -DBINARY=client_tests -DLINK_LIBS="a;b" -P isolation_check.cmake
set(forbidden_libs eddy_server RocksDB rocksdb)
foreach(lib IN LISTS LINK_LIBS)
  foreach(bad IN LISTS forbidden_libs)
    if(lib MATCHES "${bad}")
      message(FATAL_ERROR "eddy_client links ${lib}: the client library must not link the server")
    endif()
  endforeach()
endforeach()
message(STATUS "link libraries: ${LINK_LIBS}")

# Server namespaces and RocksDB; eddy::client and eddy::wire are the library's own.
set(pattern "(rocksdb::|eddy::kinesis::|eddy::store::|eddy::s3::|eddy::auth::|eddy::http::|eddy::metrics::|eddy::limits::|eddy::admin::|eddy::App)")
foreach(file ${ARCHIVE} ${BINARY})
  execute_process(COMMAND ${NM} -C ${file} COMMAND wc -l OUTPUT_VARIABLE count RESULT_VARIABLE rc ERROR_QUIET
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0 OR count LESS 1000)
    message(FATAL_ERROR "${NM} ${file} listed ${count} symbols (rc ${rc}): wrong file?")
  endif()
  execute_process(COMMAND ${NM} -C ${file} COMMAND grep -E "${pattern}" COMMAND head -n 5
                  OUTPUT_VARIABLE hits ERROR_QUIET)
  if(NOT hits STREQUAL "")
    message(FATAL_ERROR "${file}: server symbols, e.g.\n${hits}")
  endif()
  message(STATUS "${file}: ${count} symbols, none of the server")
endforeach()
