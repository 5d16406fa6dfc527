#!/usr/bin/env python3
"""Golden logits from Hugging Face transformers for irc's tiny checkpoints.

Not run in CI: it needs torch and transformers >= 4.51 (Qwen3 arrived in
4.51; releases around 4.45 sized RoPE from hidden_size/heads and ignored an
explicit head_dim, which two presets have), so it runs on the GPU host. Make the checkpoints on a development machine and carry them over:

    irc testmodel -o tiny --seed 11
    python3 make_golden.py tiny/* --out golden/

For each checkpoint folder it loads the model in float32 with the eager
attention path (the plain modeling code, no fused kernels), runs TOKENS in
one causal forward pass on the CPU (deterministic: no TF32, no kernel
choice) and writes

    NAME.npy          float32 [T, vocab]; row t = next-token logits after token t
    NAME.tokens.json  the token list (a JSON array of ids)

and versions.json (the torch and transformers versions used) once.

NAME is the folder's base name (the preset name). Go tests compare these
with internal/hfref (float64) and the ref runtime.
"""
import argparse
import json
import os

import numpy as np
import torch
import transformers
from transformers import AutoModelForCausalLM

# Every id is below the smallest tiny vocabulary (97, llama-tiny).
TOKENS = [1, 17, 42, 5, 9, 33, 8, 64, 3, 11, 2, 7, 90, 4]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dirs", nargs="+", help="checkpoint folders (config.json + model.safetensors)")
    ap.add_argument("--out", required=True, help="folder for NAME.npy and NAME.tokens.json")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    major, minor = (int(x) for x in transformers.__version__.split(".")[:2])
    if (major, minor) < (4, 51):
        raise SystemExit(f"transformers {transformers.__version__} is too old, need >= 4.51")
    for d in args.dirs:
        name = os.path.basename(os.path.normpath(d))
        model = AutoModelForCausalLM.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager")
        model.eval()
        vocab = model.config.vocab_size
        if max(TOKENS) >= vocab:
            raise SystemExit(f"{name}: token {max(TOKENS)} is outside the vocabulary ({vocab})")
        with torch.no_grad():
            logits = model(torch.tensor([TOKENS]), use_cache=False).logits[0]
        np.save(os.path.join(args.out, name + ".npy"), logits.float().numpy())
        with open(os.path.join(args.out, name + ".tokens.json"), "w") as f:
            json.dump(TOKENS, f)
        print(name, tuple(logits.shape))
    with open(os.path.join(args.out, "versions.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "torch": torch.__version__}, f)


if __name__ == "__main__":
    main()
