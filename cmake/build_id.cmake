# Writes OUT (a header defining SQUINT_BUILD_ID) from the source tree's git commit, rewriting it only when
# the id changes so that a build without new commits recompiles nothing. Run at every build (squint_build_id).
execute_process(COMMAND git -C "${SRC}" rev-parse --short=12 HEAD OUTPUT_VARIABLE commit
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR commit STREQUAL "")
  set(id "${VERSION}")
else()
  # Uncommitted changes to tracked files make another build of the same commit: say so.
  execute_process(COMMAND git -C "${SRC}" diff --quiet HEAD -- RESULT_VARIABLE dirty ERROR_QUIET)
  set(id "${VERSION}+${commit}")
  if(NOT dirty EQUAL 0)
    set(id "${id}-dirty")
  endif()
endif()
set(text "#pragma once\n#define SQUINT_BUILD_ID \"${id}\"\n")
if(EXISTS "${OUT}")
  file(READ "${OUT}" old)
endif()
if(NOT old STREQUAL text)
  file(WRITE "${OUT}" "${text}")
endif()
