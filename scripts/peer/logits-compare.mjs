// logits-compare.mjs: how far two logits arrays (float32 .npy, [rows, vocab],
// irc run --logits-out's layout) are apart, for scripts/gguf-crosscheck.sh.
//
//   node scripts/peer/logits-compare.mjs WANT.npy GOT.npy [--center]
//
// Prints one line: rows x vocab, the relative L2 of the whole array
// (||got - want|| / ||want||, in float64) and the largest absolute
// difference of one element, and the row and id where it is.
// --center removes each row's mean from both first: for llamacpp-logits.mjs's
// rows, which are log-softmax (the logits less one constant per row), it
// compares what the two agree on, the logits up to that constant.
import {readFileSync} from "node:fs";

function readNpy(path) {
    const b = readFileSync(path);
    if (b.toString("latin1", 0, 6) !== "\x93NUMPY") throw new Error(`${path}: not a .npy file`);
    const major = b[6];
    const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
    const start = major === 1 ? 10 : 12;
    const header = b.toString("latin1", start, start + hlen);
    if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) {
        throw new Error(`${path}: want little-endian float32 in C order, header ${header.trim()}`);
    }
    const m = /'shape':\s*\((\d+),\s*(\d+)\)/.exec(header);
    if (!m) throw new Error(`${path}: want a 2-D array, header ${header.trim()}`);
    const rows = Number(m[1]), cols = Number(m[2]), off = start + hlen;
    if (b.length !== off + 4 * rows * cols) throw new Error(`${path}: ${b.length - off} data bytes for ${rows}x${cols} float32`);
    const data = new Float64Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = b.readFloatLE(off + 4 * i);
    return {rows, cols, data};
}

function center(a) {
    for (let r = 0; r < a.rows; r++) {
        let s = 0;
        for (let c = 0; c < a.cols; c++) s += a.data[r * a.cols + c];
        s /= a.cols;
        for (let c = 0; c < a.cols; c++) a.data[r * a.cols + c] -= s;
    }
}

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith("--"));
const centered = args.includes("--center");
if (files.length !== 2 || args.some((a) => a.startsWith("--") && a !== "--center")) {
    console.error("usage: logits-compare.mjs WANT.npy GOT.npy [--center]");
    process.exit(2);
}
try {
    const want = readNpy(files[0]), got = readNpy(files[1]);
    if (want.rows !== got.rows || want.cols !== got.cols) {
        throw new Error(`shapes differ: ${want.rows}x${want.cols} and ${got.rows}x${got.cols}`);
    }
    if (centered) {
        center(want);
        center(got);
    }
    let num = 0, den = 0, max = 0, at = 0;
    for (let i = 0; i < want.data.length; i++) {
        const d = got.data[i] - want.data[i];
        if (!Number.isFinite(d)) throw new Error(`element ${i} is not finite`);
        num += d * d;
        den += want.data[i] * want.data[i];
        if (Math.abs(d) > max) {
            max = Math.abs(d);
            at = i;
        }
    }
    const rel = Math.sqrt(num / den);
    console.log(`${want.rows}x${want.cols} rel_l2 ${rel.toExponential(2)} max_abs ${max.toExponential(2)} (row ${Math.floor(at / want.cols)}, id ${at % want.cols})`);
} catch (e) {
    console.error(`logits-compare: ${e.message ?? e}`);
    process.exit(1);
}
