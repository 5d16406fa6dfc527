// llama-quantize.c: llama.cpp's own quantizer (llama_model_quantize, from the
// libllama that node-llama-cpp 3.21.1 ships) over one GGUF file, for
// scripts/gguf-llama-quantized.sh: an F16, Q8_0 or Q4_0 GGUF written by an
// independent tool, not by irc's internal/gguf.
//
//   llama-quantize IN.gguf OUT.gguf f16|q8_0|q4_0
//
// params.pure is set, so every matrix (token_embd and output included) gets
// the one type: llama.cpp's mixes otherwise pick Q6_K/Q4_K for some tensors,
// which irc refuses. 1-D tensors (norms, biases) stay F32 as llama.cpp keeps
// them. Built by the script with gcc against llama.h from the llama.cpp
// source bundle node-llama-cpp carries (llama/gitRelease.bundle), linked
// with an rpath to the prebuilt libllama.v0.4.0.so.
#include <stdio.h>
#include <string.h>
#include "llama.h"

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s IN.gguf OUT.gguf f16|q8_0|q4_0\n", argv[0]);
        return 2;
    }
    enum llama_ftype ftype;
    if (strcmp(argv[3], "f16") == 0) {
        ftype = LLAMA_FTYPE_MOSTLY_F16;
    } else if (strcmp(argv[3], "q8_0") == 0) {
        ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
    } else if (strcmp(argv[3], "q4_0") == 0) {
        ftype = LLAMA_FTYPE_MOSTLY_Q4_0;
    } else {
        fprintf(stderr, "llama-quantize: type %s: want f16, q8_0 or q4_0\n", argv[3]);
        return 2;
    }
    llama_backend_init();
    llama_model_quantize_params params = llama_model_quantize_default_params();
    params.ftype = ftype;
    params.pure = true;
    params.nthread = 1;
    uint32_t rc = llama_model_quantize(argv[1], argv[2], &params);
    llama_backend_free();
    if (rc != 0) {
        fprintf(stderr, "llama-quantize: llama_model_quantize(%s, %s, %s) returned %u\n", argv[1], argv[2], argv[3], rc);
        return 1;
    }
    return 0;
}
