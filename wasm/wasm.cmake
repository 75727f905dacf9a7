# WebAssembly build (emcmake): the browser module (ES6, for the Web Worker), a node module (CJS, for
# node:test), and the core's Catch2 tests compiled to wasm and run under node by ctest.
set(SQUINT_WASM_LINK
  -lembind
  -sALLOW_MEMORY_GROWTH=1
  -sMAXIMUM_MEMORY=4GB
  -sMODULARIZE=1
  -sEXPORT_NAME=createSquint
  -sDISABLE_EXCEPTION_CATCHING=0
  "-sEXPORTED_RUNTIME_METHODS=['HEAPU8']")

add_executable(squint_web wasm/bindings.cpp)
target_link_libraries(squint_web PRIVATE squint_core)
set_target_properties(squint_web PROPERTIES OUTPUT_NAME squint SUFFIX ".mjs")
target_link_options(squint_web PRIVATE ${SQUINT_WASM_LINK} -O3 -sEXPORT_ES6=1 -sENVIRONMENT=web,worker
                    -sDYNAMIC_EXECUTION=0)  # no eval/new Function: the page runs under a CSP without unsafe-eval
target_compile_options(squint_web PRIVATE -O3)

add_executable(squint_node wasm/bindings.cpp)
target_link_libraries(squint_node PRIVATE squint_core)
set_target_properties(squint_node PROPERTIES OUTPUT_NAME squint_node SUFFIX ".cjs")
target_link_options(squint_node PRIVATE ${SQUINT_WASM_LINK} -O3 -sENVIRONMENT=node)

if(BUILD_TESTING)
  # Only tests that use core/ alone (files named test_core_*) run as wasm: portability tested, not assumed.
  file(GLOB SQUINT_CORE_TESTS CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/test_core_*.cpp)
  add_executable(squint_core_tests_wasm ${CMAKE_SOURCE_DIR}/wasm/catch_main.cpp ${SQUINT_CORE_TESTS})
  target_link_libraries(squint_core_tests_wasm PRIVATE squint_core squint_hostinc)
  target_include_directories(squint_core_tests_wasm PRIVATE ${CMAKE_SOURCE_DIR}/tests)
  squint_unity(squint_core_tests_wasm)
  # .cjs: package.json says "type": "module", so node refused a .js CommonJS file ("__dirname is not defined")
  # and test discovery found nothing; the suite silently did not run.
  set_target_properties(squint_core_tests_wasm PROPERTIES SUFFIX ".cjs")
  target_link_options(squint_core_tests_wasm PRIVATE -sALLOW_MEMORY_GROWTH=1 -sENVIRONMENT=node -sEXIT_RUNTIME=1
                      -sDISABLE_EXCEPTION_CATCHING=0 -sTOTAL_STACK=4MB)
  list(APPEND CMAKE_MODULE_PATH /usr/lib/cmake/Catch2)
  include(Catch)
  catch_discover_tests(squint_core_tests_wasm TEST_PREFIX "wasm:" EXTRA_ARGS -w NoTests PROPERTIES TIMEOUT 600)
endif()
