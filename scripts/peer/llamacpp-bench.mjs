// llamacpp-bench.mjs: irc bench's method on llama.cpp's CPU backend (the
// prebuilt build node-llama-cpp ships), for the peer comparison of
// scripts/bench-peer.sh.
//
//   node scripts/peer/llamacpp-bench.mjs MODEL.gguf [--threads 2] [--positions 1,64,512,4000]
//        [--prefill 128] [--ctx 4224] [--repeat 7] [--flash-attention auto|on|off] [--json FILE]
//   node scripts/peer/llamacpp-bench.mjs MODEL.gguf --tokens 5,17,3 --generate N
//
// The second form is a cross-check, not a timing: it prints the N greedy ids
// after the prompt as the last line, as irc run does, so that the two
// implementations can be seen to compute the same model.
//
// It drives llama_decode directly through node-llama-cpp's addon context
// (initBatch / addToBatch / decodeBatch: one llama_decode plus
// llama_synchronize on a worker thread per call), not the high-level
// sequence API, whose batching queue would add scheduling to each step:
//   - TTFT: one prompt of --prefill random tokens from an empty cache,
//     logits for its last token only; median of --repeat, the cache
//     emptied before each;
//   - decode at position p: the cache is filled with p random tokens
//     (positions 0..p-1, in chunks, no logits), then ONE token at p with its
//     logits (the whole output layer, copied to the host) is timed, its
//     cell removed, --repeat times after one untimed step: median.
// Token ids are random (seeded); the vocabulary is synthetic.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {writeFileSync, readFileSync} from "node:fs";
import {fileURLToPath} from "node:url";
import {dirname, join} from "node:path";

function parseArgs(argv) {
    const o = {threads: 2, positions: [1, 64, 512, 4000], prefill: 128, ctx: 4224, repeat: 7,
        flashAttention: "auto", json: "", seed: 1, model: "", tokens: null, generate: 0};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i], v = () => {
            if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
            return argv[++i];
        };
        const int = (s) => {
            const n = Number(s);
            if (!Number.isInteger(n) || n < 0) throw new Error(`${a} ${s}: want a non-negative integer`);
            return n;
        };
        switch (a) {
            case "--threads": o.threads = int(v()); break;
            case "--positions": o.positions = v().split(",").map(int); break;
            case "--prefill": o.prefill = int(v()); break;
            case "--ctx": o.ctx = int(v()); break;
            case "--repeat": o.repeat = Math.max(1, int(v())); break;
            case "--seed": o.seed = int(v()); break;
            case "--json": o.json = v(); break;
            case "--tokens": o.tokens = v().split(",").map(int); break;
            case "--generate": o.generate = int(v()); break;
            case "--flash-attention": {
                const f = v();
                if (!["auto", "on", "off"].includes(f)) throw new Error(`--flash-attention ${f}: want auto, on or off`);
                o.flashAttention = f;
                break;
            }
            default:
                if (a.startsWith("-") || o.model) throw new Error(`unknown argument ${a}`);
                o.model = a;
        }
    }
    if (!o.model) throw new Error("usage: llamacpp-bench.mjs MODEL.gguf [--threads N] [--positions 1,64] [--prefill N] [--ctx N] [--repeat N] [--flash-attention auto|on|off] [--json FILE]");
    o.positions.sort((a, b) => a - b);
    const last = o.positions[o.positions.length - 1];
    if (last + 1 > o.ctx || o.prefill > o.ctx) throw new Error(`--ctx ${o.ctx} holds neither position ${last} nor a ${o.prefill}-token prompt`);
    return o;
}

// mulberry32: a small seeded generator, so both runs draw the same ids.
function rng(seed) {
    let s = seed >>> 0;
    return () => {
        s = (s + 0x6D2B79F5) >>> 0;
        let t = s;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

const median = (xs) => {
    const s = [...xs].sort((a, b) => a - b), m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
    const o = parseArgs(process.argv.slice(2));
    const here = dirname(fileURLToPath(import.meta.url));
    const version = JSON.parse(readFileSync(join(here, "node_modules/node-llama-cpp/package.json"), "utf8")).version;
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath: o.model, gpuLayers: 0});
    const flash = o.flashAttention === "auto" ? "auto" : o.flashAttention === "on";
    const context = await model.createContext({contextSize: o.ctx, threads: o.threads, sequences: 1,
        batchSize: Math.max(512, o.prefill), flashAttention: flash});
    const ctx = context._ctx; // the addon context: llama_decode without the batching queue
    const batch = context.batchSize;
    const embd = model.fileInfo.tensorInfo?.find((t) => t.name === "token_embd.weight");
    if (!embd) throw new Error(`${o.model}: no token_embd.weight`);
    const vocab = Number(embd.dimensions[1]);
    const rand = rng(o.seed);
    const token = () => 3 + Math.floor(rand() * (vocab - 3)); // no <unk>, <s>, </s>
    const seq = 0;

    // decode evaluates tokens at positions pos.. in one llama_decode, with
    // the logits of the last one when logits is set.
    async function decode(tokens, pos, logits) {
        ctx.initBatch(tokens.length);
        ctx.addToBatch(seq, pos, Uint32Array.from(tokens), logits ? Uint32Array.of(tokens.length - 1) : new Uint32Array(0));
        await ctx.decodeBatch();
    }
    const clear = (from) => ctx.removeTokenCellsFromSequence(seq, from, -1);

    if (o.tokens) {
        const sampler = new llama._bindings.AddonSampler(model._model);
        sampler.applyConfig({temperature: 0}); // greedy
        const ids = [];
        let input = o.tokens, pos = 0;
        for (let i = 0; i < o.generate; i++) {
            ctx.initBatch(input.length);
            const [logitIndex] = ctx.addToBatch(seq, pos, Uint32Array.from(input), Uint32Array.of(input.length - 1));
            await ctx.decodeBatch();
            pos += input.length;
            const [id, probs] = await ctx.sampleToken(logitIndex, sampler, true);
            if (i === 0 && probs) { // [token, probability, ...], most probable first
                const top = [];
                for (let k = 0; k < Math.min(10, probs.length); k += 2) top.push(`${probs[k]}:${probs[k + 1].toFixed(4)}`);
                process.stderr.write(`top 5 after the prompt (id:probability): ${top.join(" ")}\n`);
            }
            ids.push(id);
            input = [id];
        }
        console.log(ids.join(","));
        return;
    }

    const result = {
        schema: "irc-peer-llamacpp/1", tool: `llama.cpp CPU (node-llama-cpp ${version})`, model: o.model,
        device: `${llama.cpuMathCores ?? "?"} math cores, ${o.threads} threads`, threads: context.currentThreads,
        flash_attention: o.flashAttention, context_size: context.contextSize, batch_size: batch,
        prefill_tokens: o.prefill, repeat: o.repeat, weight_bytes: model.size, positions: [],
    };

    // TTFT: a prompt from an empty cache to its last token's logits.
    const prompt = Array.from({length: o.prefill}, token);
    const ttft = [];
    for (let r = 0; r <= o.repeat; r++) {
        clear(0);
        const t0 = process.hrtime.bigint();
        await decode(prompt, 0, true);
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (r > 0) ttft.push(ms); // the first is a warm-up
    }
    result.ttft_ms = median(ttft);
    result.ttft_ms_all = ttft;
    process.stderr.write(`TTFT (${o.prefill}-token prompt): ${result.ttft_ms.toFixed(2)} ms\n`);

    // Decode steps, the cache filled with random tokens up to each position.
    clear(0);
    let filled = 0;
    for (const p of o.positions) {
        const f0 = process.hrtime.bigint(), before = filled;
        while (filled < p) {
            const n = Math.min(batch, p - filled);
            await decode(Array.from({length: n}, token), filled, false);
            filled += n;
        }
        const fillMs = Number(process.hrtime.bigint() - f0) / 1e6;
        const steps = [];
        for (let r = 0; r <= o.repeat; r++) {
            const t = [token()];
            const t0 = process.hrtime.bigint();
            await decode(t, p, true);
            const ms = Number(process.hrtime.bigint() - t0) / 1e6;
            clear(p);
            if (r > 0) steps.push(ms);
        }
        const med = median(steps);
        result.positions.push({position: p, step_ms_median: med, steps_ms: steps, tps: 1000 / med, fill_ms: fillMs});
        process.stderr.write(`position ${p}: ${med.toFixed(2)} ms (filled ${p - before} tokens in ${(fillMs / 1000).toFixed(1)} s)\n`);
    }

    console.log(`llama.cpp CPU (node-llama-cpp ${version}), ${result.threads} threads, flash attention ${o.flashAttention}`);
    console.log(`TTFT (${o.prefill}-token prompt)  ${result.ttft_ms.toFixed(2)} ms`);
    console.log("position   step ms (median)   tokens/s");
    for (const p of result.positions) {
        console.log(`${String(p.position).padStart(8)}   ${p.step_ms_median.toFixed(2).padStart(16)}   ${p.tps.toFixed(1).padStart(8)}`);
    }
    if (o.json) writeFileSync(o.json, JSON.stringify(result, null, 2) + "\n");
    await context.dispose();
    await model.dispose();
}

main().catch((e) => {
    console.error(`llamacpp-bench: ${e.message ?? e}`);
    process.exit(1);
});
