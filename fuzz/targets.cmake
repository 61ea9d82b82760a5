# The libFuzzer targets (fuzz/CMakeLists.txt builds them in the sanitized tree; tests/sanitized.cmake
# runs each as ctest san.fuzz.<target>). Each has its seed corpus in fuzz/corpus/<target>/.
set(EDDY_FUZZ_TARGETS fuzz_base64_u128 fuzz_kpl fuzz_sigv4 fuzz_aws_chunked fuzz_kinesis_codec
                      fuzz_kinesis_handle fuzz_s3_xml fuzz_s3_post_form fuzz_http_front)
