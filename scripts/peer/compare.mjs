// compare.mjs: irc bench's JSON and llamacpp-bench.mjs's JSON side by side,
// with irc/llama.cpp per position (above 1: irc is slower).
//
//   node scripts/peer/compare.mjs IRC.json LLAMACPP.json [--json OUT.json]
import {readFileSync, writeFileSync} from "node:fs";

const [ircPath, peerPath, flag, outPath] = process.argv.slice(2);
if (!ircPath || !peerPath || (flag && (flag !== "--json" || !outPath))) {
    console.error("usage: compare.mjs IRC.json LLAMACPP.json [--json OUT.json]");
    process.exit(2);
}
const irc = JSON.parse(readFileSync(ircPath, "utf8"));
const peer = JSON.parse(readFileSync(peerPath, "utf8"));
const byPos = new Map(peer.positions.map((p) => [p.position, p]));
const gb = (bytes, ms) => bytes / (ms * 1e6); // GB/s of the weights alone

const rows = [];
rows.push({what: `TTFT (${irc.prefill_tokens}/${peer.prefill_tokens}-token prompt)`, irc: irc.ttft_ms, peer: peer.ttft_ms});
for (const p of irc.positions) {
    const q = byPos.get(p.position);
    if (q) rows.push({what: `decode @ ${p.position}`, irc: p.step_ms_median, peer: q.step_ms_median, position: p.position});
}
const w = Math.max(...rows.map((r) => r.what.length));
console.log(`model ${irc.model}: ${(irc.weight_bytes / 2 ** 20).toFixed(1)} MiB of weights (irc), ${(peer.weight_bytes / 2 ** 20).toFixed(1)} MiB (GGUF)`);
console.log(`irc:       ${irc.target} on ${irc.device}, executor ${irc.executor}` +
    (irc.copy_bandwidth_gbs ? `, copy bandwidth ${irc.copy_bandwidth_gbs.toFixed(1)} GB/s` : ""));
console.log(`llama.cpp: ${peer.tool}, ${peer.threads} threads, flash attention ${peer.flash_attention}`);
console.log(`${"".padEnd(w)}   ${"irc ms".padStart(10)}   ${"llama.cpp ms".padStart(12)}   ${"irc/llama.cpp".padStart(13)}   ${"weights GB/s irc | llama.cpp".padStart(28)}`);
for (const r of rows) {
    const bw = r.position === undefined ? "" :
        `${gb(irc.weight_bytes, r.irc).toFixed(1).padStart(14)} | ${gb(peer.weight_bytes, r.peer).toFixed(1).padEnd(9)}`;
    console.log(`${r.what.padEnd(w)}   ${r.irc.toFixed(2).padStart(10)}   ${r.peer.toFixed(2).padStart(12)}   ${(r.irc / r.peer).toFixed(2).padStart(12)}x   ${bw}`);
}
if (outPath) {
    writeFileSync(outPath, JSON.stringify({
        irc: ircPath, llamacpp: peerPath,
        rows: rows.map((r) => ({what: r.what, position: r.position ?? null, irc_ms: r.irc, llamacpp_ms: r.peer, ratio: r.irc / r.peer})),
    }, null, 2) + "\n");
}
