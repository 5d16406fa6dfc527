#!/usr/bin/env python3
"""Golden logits from Hugging Face transformers for irc's tiny checkpoints.

Run on a machine with torch and transformers (the GPU host), after
`irc testmodel -o tiny --seed 11` on a development machine and carrying the
folder over:

    python3 make_golden.py tiny/* --out golden/

For each checkpoint folder it loads the model in float32, runs the fixed
token list below in one causal forward pass and writes NAME.npy (float32
[T, vocab]: row t holds the next-token logits after token t) and
NAME.tokens.json. Tests compare the ref runtime against these files.
"""
import argparse
import json
import os

import numpy as np
import torch
from transformers import AutoModelForCausalLM

TOKENS = [1, 17, 42, 5, 9, 33, 8, 64, 3, 11, 2, 7, 90, 4]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dirs", nargs="+")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    for d in args.dirs:
        name = os.path.basename(os.path.normpath(d))
        model = AutoModelForCausalLM.from_pretrained(d, torch_dtype=torch.float32)
        model.eval()
        with torch.no_grad():
            logits = model(torch.tensor([TOKENS])).logits[0]
        np.save(os.path.join(args.out, name + ".npy"), logits.numpy().astype(np.float32))
        with open(os.path.join(args.out, name + ".tokens.json"), "w") as f:
            json.dump(TOKENS, f)
        print(name, tuple(logits.shape))


if __name__ == "__main__":
    main()
