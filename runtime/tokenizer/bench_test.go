package tokenizer

import (
	"strings"
	"testing"
	"time"
)

// benchText is ~10 KB of mixed prose, code, CJK and numbers.
func benchText() string {
	part := "The quick brown fox jumps over the lazy dog; it's 12345 times faster. " +
		"def f(x):\n    return x * 2  # comment\n" +
		"你好，世界！ Привет, мир! 😀👍🏽 \n\n"
	return strings.Repeat(part, 10240/len(part)+1)[:10240]
}

func BenchmarkEncode10KB(b *testing.B) {
	for _, name := range refNames {
		tk := refTokenizer(b, name)
		text := benchText()
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				tk.cache = map[string][]int32{} // cold cache: the worst case
				tk.Encode(text, true)
			}
		})
	}
}

// TestEncodeSpeed keeps encoding 10 KB well under the 100 ms budget even
// with a cold cache (a loose bound: the machine may be shared).
func TestEncodeSpeed(t *testing.T) {
	tk := refTokenizer(t, "qwen3")
	text := benchText()
	start := time.Now()
	tk.Encode(text, true)
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("encoding 10 KB took %v", d)
	}
}
