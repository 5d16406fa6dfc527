// llamacpp-logits.mjs: the logits llama.cpp's CPU backend (the prebuilt
// build node-llama-cpp ships) computes for a prompt and a few greedy steps,
// for the GGUF cross-check of scripts/gguf-crosscheck.sh.
//
//   node scripts/peer/llamacpp-logits.mjs MODEL.gguf --tokens 5,17,3 [--generate N]
//        [--out LOGITS.npy] [--threads 1] [--kv-type f16|f32]
//
// Like irc run: the prompt in one llama_decode with the logits of every
// position, then N greedy ids, each fed back (but the last), so that --out
// holds [P + max(N-1, 0), vocab] float32 rows in irc run --logits-out's
// layout: row t follows consumed token t. The greedy ids are printed
// comma-separated as the last line of stdout, as irc run does.
//
// node-llama-cpp 3.21.1 does not hand raw logits to JavaScript: its
// sampleToken returns, for a greedy sampler (which leaves the logits alone),
// the softmax of the whole row (computed in float32 from
// llama_get_logits_ith). Each row written is therefore log(p), the logits
// less the row's log-sum-exp: the true logits up to one constant per row.
// Compare rows with their mean removed (scripts/peer/logits-compare.mjs
// does). A probability that underflowed (logit gaps beyond ~87) would lose
// that row's precision: it is refused.
//
// --kv-type is the KV cache's type: f16 is llama.cpp's default, f32 keeps
// the keys and values as computed (irc's ref does), which leaves the
// weights and the arithmetic as the only difference.
//
// CPU only (gpu: false, no layers offloaded), a fixed thread count, one
// sequence, no flash attention: deterministic from run to run.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {writeFileSync} from "node:fs";

function parseArgs(argv) {
    const o = {model: "", tokens: null, generate: 0, out: "", threads: 1, kvType: "F16"};
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
            case "--tokens": o.tokens = v().split(",").map(int); break;
            case "--generate": o.generate = int(v()); break;
            case "--out": o.out = v(); break;
            case "--threads": o.threads = Math.max(1, int(v())); break;
            case "--kv-type": {
                const t = v().toUpperCase();
                if (t !== "F16" && t !== "F32") throw new Error(`--kv-type ${t}: want f16 or f32`);
                o.kvType = t;
                break;
            }
            default:
                if (a.startsWith("-") || o.model) throw new Error(`unknown argument ${a}`);
                o.model = a;
        }
    }
    if (!o.model || !o.tokens || o.tokens.length === 0) {
        throw new Error("usage: llamacpp-logits.mjs MODEL.gguf --tokens 5,17,3 [--generate N] [--out LOGITS.npy] [--threads N] [--kv-type f16|f32]");
    }
    return o;
}

// npy writes a float32 C-order array of the given shape as .npy (format 1.0).
function npy(shape, data) {
    let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${shape.length === 1 ? "," : ""}), }`;
    const pre = 10; // magic (6), version (2), header length (2)
    header += " ".repeat((64 - ((pre + header.length + 1) % 64)) % 64) + "\n";
    const buf = Buffer.alloc(pre + header.length + 4 * data.length);
    buf.write("\x93NUMPY", 0, "latin1");
    buf[6] = 1;
    buf[7] = 0;
    buf.writeUInt16LE(header.length, 8);
    buf.write(header, pre, "latin1");
    Buffer.from(data.buffer, data.byteOffset, 4 * data.length).copy(buf, pre + header.length);
    return buf;
}

async function main() {
    const o = parseArgs(process.argv.slice(2));
    const llama = await getLlama({gpu: false, build: "never", logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath: o.model, gpuLayers: 0});
    const steps = Math.max(o.generate - 1, 0);
    const ctxSize = Math.max(256, o.tokens.length + o.generate + 1);
    const context = await model.createContext({contextSize: ctxSize, threads: o.threads, sequences: 1,
        batchSize: Math.max(512, o.tokens.length), flashAttention: false,
        experimentalKvCacheKeyType: o.kvType, experimentalKvCacheValueType: o.kvType});
    const ctx = context._ctx; // the addon context: llama_decode without the batching queue
    const embd = model.fileInfo.tensorInfo?.find((t) => t.name === "token_embd.weight");
    if (!embd) throw new Error(`${o.model}: no token_embd.weight`);
    const n = Number(embd.dimensions[1]);
    for (const t of o.tokens) if (t >= n) throw new Error(`token ${t} is outside the vocabulary (${n})`);
    const sampler = new llama._bindings.AddonSampler(model._model);
    sampler.applyConfig({temperature: 0}); // greedy: the logits as they are, argmax selected
    const rows = o.tokens.length + steps;
    const out = new Float32Array(rows * n);
    let row = 0;

    // logRow samples at a batch logit index: the greedy id, and log(p) of
    // every id into the next row of out.
    async function logRow(index) {
        const [id, probs] = await ctx.sampleToken(index, sampler, true);
        if (!probs || probs.length !== 2 * n) throw new Error(`sampleToken gave ${probs ? probs.length / 2 : 0} probabilities, want ${n}`);
        for (let k = 0; k < probs.length; k += 2) {
            const p = probs[k + 1];
            if (!(p >= 1e-30)) throw new Error(`row ${row}: probability of ${probs[k]} is ${p}: underflow, log(p) would not be the logit`);
            out[row * n + probs[k]] = Math.log(p);
        }
        row++;
        return id;
    }

    // The prompt: one llama_decode, logits at every position.
    ctx.initBatch(o.tokens.length);
    const idx = ctx.addToBatch(0, 0, Uint32Array.from(o.tokens), Uint32Array.from(o.tokens.keys()));
    await ctx.decodeBatch();
    let id = -1;
    for (const i of idx) id = await logRow(i);
    const ids = [];
    let pos = o.tokens.length;
    for (let g = 0; g < o.generate; g++) {
        ids.push(id);
        if (g === o.generate - 1) break;
        ctx.initBatch(1);
        const [i] = ctx.addToBatch(0, pos++, Uint32Array.of(id), Uint32Array.of(0));
        await ctx.decodeBatch();
        id = await logRow(i);
    }
    if (row !== rows) throw new Error(`wrote ${row} rows, want ${rows}`);
    if (o.out) writeFileSync(o.out, npy([rows, n], out));
    console.log(ids.join(","));
    await context.dispose();
    await model.dispose();
}

main().catch((e) => {
    console.error(`llamacpp-logits: ${e.message ?? e}`);
    process.exit(1);
});
