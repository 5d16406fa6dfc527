// llamacpp-tokenize.mjs: how llama.cpp (the prebuilt build node-llama-cpp
// ships) tokenizes and detokenizes texts with a GGUF file's tokenizer, for
// scripts/gguf-crosscheck.sh's tokenizer check.
//
//   node scripts/peer/llamacpp-tokenize.mjs MODEL.gguf CORPUS.json
//
// CORPUS.json is a JSON array of strings. Prints one line per string: its
// ids, comma-separated (special-token text matched as special tokens, no
// BOS added), as `irc tokenize` prints its first line.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";
import {readFileSync} from "node:fs";

const [model, corpus] = process.argv.slice(2);
if (!model || !corpus) {
    console.error("usage: node scripts/peer/llamacpp-tokenize.mjs MODEL.gguf CORPUS.json");
    process.exit(2);
}
const texts = JSON.parse(readFileSync(corpus, "utf8"));
const llama = await getLlama({gpu: false, logLevel: LlamaLogLevel.error});
const m = await llama.loadModel({modelPath: model, gpuLayers: 0, vocabOnly: true});
for (const t of texts) {
    console.log(Array.from(m.tokenize(t, true)).join(","));
}
await m.dispose();
await llama.dispose();
