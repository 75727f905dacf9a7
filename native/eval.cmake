# Evaluation needs Debian's libsentencepiece for tokenizer.model (native only; core/eval stays portable).
find_library(SENTENCEPIECE_LIB sentencepiece REQUIRED)
find_path(SENTENCEPIECE_INCLUDE sentencepiece_processor.h REQUIRED)
target_include_directories(squint_native PUBLIC ${SENTENCEPIECE_INCLUDE})
target_link_libraries(squint_native PUBLIC ${SENTENCEPIECE_LIB})
