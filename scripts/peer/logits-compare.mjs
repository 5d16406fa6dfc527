// logits-compare.mjs: how far two logits arrays (float32 .npy, [rows, vocab],
// irc run --logits-out's layout) are apart, for scripts/gguf-crosscheck.sh.
//
//   node scripts/peer/logits-compare.mjs WANT.npy GOT.npy [--center] [--argmax]
//
// Prints one line: rows x vocab, the relative L2 of the whole array
// (||got - want|| / ||want||, in float64) and the largest absolute
// difference of one element, and the row and id where it is.
// --center removes each row's mean from both first: for llamacpp-logits.mjs's
// rows, which are log-softmax (the logits less one constant per row), it
// compares what the two agree on, the logits up to that constant.
// --argmax adds the first row whose argmax differs (or "none") with WANT's
// margin there (its top logit less its second, what greedy decoding must
// not misjudge) and the largest absolute difference of the rows before it:
// for quantized weights, where the two runs differ by more than rounding,
// ids are expected to agree only where that margin is clear.
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
const centered = args.includes("--center"), argmax = args.includes("--argmax");
if (files.length !== 2 || args.some((a) => a.startsWith("--") && a !== "--center" && a !== "--argmax")) {
    console.error("usage: logits-compare.mjs WANT.npy GOT.npy [--center] [--argmax]");
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
    let line = `${want.rows}x${want.cols} rel_l2 ${rel.toExponential(2)} max_abs ${max.toExponential(2)} (row ${Math.floor(at / want.cols)}, id ${at % want.cols})`;
    if (argmax) {
        const top2 = (a, r) => {
            let i1 = 0, v1 = -Infinity, v2 = -Infinity;
            for (let c = 0; c < a.cols; c++) {
                const v = a.data[r * a.cols + c];
                if (v > v1) [v2, v1, i1] = [v1, v, c];
                else if (v > v2) v2 = v;
            }
            return [i1, v1 - v2];
        };
        let before = 0, diff = "none", margin = "-";
        for (let r = 0; r < want.rows; r++) {
            const [w, m] = top2(want, r), [g] = top2(got, r);
            if (w !== g) {
                diff = String(r);
                margin = m.toExponential(2);
                break;
            }
            for (let c = 0; c < want.cols; c++) before = Math.max(before, Math.abs(got.data[r * want.cols + c] - want.data[r * want.cols + c]));
        }
        line += ` argmax_diff_row ${diff} margin ${margin} max_abs_before ${before.toExponential(2)}`;
    }
    console.log(line);
} catch (e) {
    console.error(`logits-compare: ${e.message ?? e}`);
    process.exit(1);
}
