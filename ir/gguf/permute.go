package gguf

import (
	"fmt"
	"regexp"

	"github.com/irc-compiler/irc/ir/budget"
)

// llama.cpp's converter (convert_hf_to_gguf.py, LlamaModel.permute)
// reorders the rows of q_proj and k_proj (weights and biases) of "llama"
// models, so that its RoPE, which rotates adjacent pairs (x[2j], x[2j+1]),
// computes what Hugging Face's rotate_half computes on pairs
// (x[j], x[j+D/2]):
//
//	permute(w, n_head) = w.reshape(n_head, 2, D/2, ...).swapaxes(1, 2).reshape(w.shape)
//
// with D the head dimension and n_head the head count (head_count_kv for
// k). Row h*D + 2j + i of the GGUF tensor is row h*D + i*D/2 + j of the
// Hugging Face one (i in {0, 1}, j < D/2). irc's graphs are the Hugging
// Face computation, so the loader applies the inverse:
//
//	hf[h*D + i*D/2 + j] = gguf[h*D + 2j + i].
//
// Qwen models are converted without it (their llama.cpp graphs use NeoX
// RoPE, which rotates halves as Hugging Face does).
var permutedName = regexp.MustCompile(`^blk\.[0-9]+\.attn_([qk])\.(weight|bias)$`)

// PermutedHeads reports whether llama.cpp's converter permuted the named
// tensor's rows (a "llama" model's attn_q/attn_k weight or bias) and over
// how many heads.
func (h *Header) PermutedHeads(name string) (heads int64, permuted bool, err error) {
	arch, _, _ := h.String("general.architecture")
	m := permutedName.FindStringSubmatch(name)
	if arch != "llama" || m == nil {
		return 0, false, nil
	}
	key := "llama.attention.head_count"
	heads, ok, err := h.Int(key)
	if err == nil && !ok {
		err = fmt.Errorf("metadata %s is missing", key)
	}
	if err == nil && m[1] == "k" {
		if kv, ok, kerr := h.Int(key + "_kv"); kerr != nil {
			err = kerr
		} else if ok {
			heads = kv
		}
	}
	if err == nil && heads < 1 {
		err = fmt.Errorf("metadata %s is %d, want >= 1", key, heads)
	}
	return heads, true, err
}

// Rows returns the named tensor's bytes in row-major order of its Shape,
// as the Hugging Face model holds them: the stored bytes (a view into the
// mapping, see Bytes), or for a tensor llama.cpp's converter permuted
// (PermutedHeads) a new slice with the permutation undone.
func (f *File) Rows(name string) ([]byte, error) {
	data, err := f.Bytes(name)
	if err != nil {
		return nil, err
	}
	heads, permuted, err := f.PermutedHeads(name)
	if err != nil {
		return nil, fmt.Errorf("%s: tensor %s: %w", f.path, name, err)
	}
	if !permuted {
		return data, nil
	}
	t, _ := f.Tensor(name)
	shape := t.Shape()
	rows := shape[0]
	if rows%(2*heads) != 0 {
		return nil, fmt.Errorf("%s: tensor %s: %d rows are not %d heads of an even head dimension", f.path, name, rows, heads)
	}
	if err := budget.Check(fmt.Sprintf("%s: tensor %s unpermuted", f.path, name), t.Size); err != nil {
		return nil, err
	}
	return Unpermute(data, rows, heads), nil
}

// Unpermute undoes llama.cpp's q/k row permutation of data, rows rows of
// equal size over heads heads (see PermutedHeads), into a new slice.
func Unpermute(data []byte, rows, heads int64) []byte {
	out := make([]byte, len(data))
	rowBytes := int64(len(data)) / rows
	d := rows / heads
	for h := range heads {
		for i := range int64(2) {
			for j := range d / 2 {
				dst, src := h*d+i*d/2+j, h*d+2*j+i
				copy(out[dst*rowBytes:(dst+1)*rowBytes], data[src*rowBytes:(src+1)*rowBytes])
			}
		}
	}
	return out
}
