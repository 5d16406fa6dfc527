#!/usr/bin/env python3
"""The peers irc's CUDA runner is measured against, on the same GPU in the
same run (scripts/gpu-check.sh run): transformers' eager decode step and its
torch.compile step, for Qwen2.5-1.5B's config with random weights, bf16,
batch 1, a static KV cache of max_cache_len slots filled with random data,
ONE decode step timed at each position as irc bench does (median of the
repeats, each the median of the steps that fill --min-time after a warm-up).
Writes an irc bench result file (bench/schema.json) so that
`irc bench compare` sets it beside irc's.

Needs torch and transformers (the GPU host has both); no network: the
config is read from the folder given, the weights are random.
"""
import argparse
import datetime
import json
import statistics
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True, help="folder holding the model's config.json")
    ap.add_argument("--mode", choices=["eager", "compile"], required=True)
    ap.add_argument("--positions", required=True, help="comma-separated cache positions")
    ap.add_argument("--max-cache-len", type=int, default=32768)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--min-time", type=float, default=0.05, help="seconds of steps per measurement")
    ap.add_argument("--json", required=True)
    a = ap.parse_args()

    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, StaticCache

    torch.manual_seed(0)
    dev = torch.device("cuda")
    cfg = AutoConfig.from_pretrained(a.config)
    t0 = time.perf_counter()
    with torch.device(dev):
        model = AutoModelForCausalLM.from_config(cfg, torch_dtype=torch.bfloat16)
    model.eval()
    load_ms = (time.perf_counter() - t0) * 1e3
    cache = StaticCache(config=cfg, max_batch_size=1, max_cache_len=a.max_cache_len, device=dev, dtype=torch.bfloat16)
    # Random KV data in every slot, as irc bench fills its caches.
    for layer in range(cfg.num_hidden_layers):
        cache.key_cache[layer].normal_()
        cache.value_cache[layer].normal_()

    def step(token, pos):
        ids = token.view(1, 1)
        cp = torch.tensor([pos], device=dev)
        out = model(input_ids=ids, past_key_values=cache, cache_position=cp, use_cache=True)
        return out.logits[:, -1].argmax(-1)

    compile_ms = 0.0
    if a.mode == "compile":
        t0 = time.perf_counter()
        step = torch.compile(step, mode="reduce-overhead", fullgraph=True)
        compile_ms = (time.perf_counter() - t0) * 1e3

    weight_bytes = sum(p.numel() * p.element_size() for p in model.parameters())
    kv_per_token = 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * (cfg.hidden_size // cfg.num_attention_heads) * 2
    token = torch.tensor([1], device=dev)
    positions = [int(p) for p in a.positions.split(",")]

    @torch.inference_mode()
    def measure(pos):
        step(token, pos)  # warm-up (and, compiled, the graph for this shape)
        torch.cuda.synchronize()
        times, spent = [], 0.0
        while spent < a.min_time or not times:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            step(token, pos)
            end.record()
            end.synchronize()
            ms = start.elapsed_time(end)
            times.append(ms)
            spent += ms / 1e3
        return statistics.median(times), len(times)

    rows = {p: [] for p in positions}
    steps = {}
    for _ in range(a.repeat):
        for p in positions:
            ms, n = measure(p)
            rows[p].append(ms)
            steps[p] = n
    out = []
    for p in positions:
        med = statistics.median(rows[p])
        read = weight_bytes + kv_per_token * (p + 1)
        out.append({
            "position": p, "step_ms_median": med,
            "step_ms_std": statistics.stdev(rows[p]) if len(rows[p]) > 1 else 0.0,
            "tps": 1e3 / med, "steps": steps[p], "read_bytes": read, "gbs": read / (med * 1e6),
        })
    ttft = out[0]["step_ms_median"]
    res = {
        "schema": "irc-bench/1", "model": f"{cfg.architectures[0]} (transformers {a.mode})", "target": "cuda",
        "device": torch.cuda.get_device_name(dev), "executor": "whole", "prefill_tokens": 1,
        "max_cache_len": a.max_cache_len, "repeat": a.repeat, "min_time_ms": a.min_time * 1e3,
        "weight_bytes": weight_bytes, "partitions": 1, "compile_ms": compile_ms, "load_ms": load_ms,
        "ttft_ms": ttft, "ttft_ms_std": 0.0, "positions": out,
        "command": " ".join(sys.argv), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    with open(a.json, "w") as f:
        json.dump(res, f, indent=2)
    print(f"{a.mode}: " + ", ".join(f"{r['position']}: {r['step_ms_median']:.3f} ms" for r in out))


if __name__ == "__main__":
    main()
