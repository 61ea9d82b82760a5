# Included by the top-level CMakeLists.txt after eddy_server is defined: compiles the dashboard
# files and the default price table into the binary (a generated .cpp of byte arrays), so the
# user needs no build step and eddy serves them with no file beside it.
set(EDDY_EMBED_FILES
  ${PROJECT_SOURCE_DIR}/server/admin/dashboard/index.html
  ${PROJECT_SOURCE_DIR}/server/admin/dashboard/app.js
  ${PROJECT_SOURCE_DIR}/server/admin/dashboard/style.css
  ${PROJECT_SOURCE_DIR}/fixtures/pricing/us-east-1.json)
set(EDDY_EMBED_OUT ${PROJECT_BINARY_DIR}/gen/embedded_assets.cpp)
string(REPLACE ";" "|" EDDY_EMBED_FILES_ARG "${EDDY_EMBED_FILES}")
add_custom_command(
  OUTPUT ${EDDY_EMBED_OUT}
  COMMAND ${CMAKE_COMMAND} -DOUT=${EDDY_EMBED_OUT} -DFILES=${EDDY_EMBED_FILES_ARG}
          -P ${PROJECT_SOURCE_DIR}/server/admin/dashboard/embed_assets.cmake
  DEPENDS ${EDDY_EMBED_FILES} ${PROJECT_SOURCE_DIR}/server/admin/dashboard/embed_assets.cmake
  COMMENT "Embedding the dashboard and the default price table"
  VERBATIM)
target_sources(eddy_server PRIVATE ${EDDY_EMBED_OUT})
