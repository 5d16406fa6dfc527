package tokenizer

// GPT-2's byte-level alphabet: every byte gets a printable character so
// that a token's bytes can be written as a string. Printable Latin-1 bytes
// stand for themselves; the other 68 (controls, space, DEL, NBSP, soft
// hyphen, ...) are shifted to U+0100 upwards in byte order. A space is
// therefore "Ġ" (U+0120) and a newline "Ċ" (U+010A).
var byteToRune [256]rune

// runeToByte inverts byteToRune; -1 for characters outside the alphabet.
var runeToByte = map[rune]byte{}

func init() {
	next := rune(256)
	for b := 0; b < 256; b++ {
		if printable(b) {
			byteToRune[b] = rune(b)
		} else {
			byteToRune[b] = next
			next++
		}
		runeToByte[byteToRune[b]] = byte(b)
	}
}

// printable: the bytes GPT-2 keeps as themselves, '!'..'~', '¡'..'¬',
// '®'..'ÿ'.
func printable(b int) bool {
	return ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF)
}

// unmapBytes turns a token spelled in the byte-level alphabet back into its
// bytes. A character outside the alphabet (which a well-formed byte-level
// vocabulary does not have) is kept as its UTF-8, so that decoding never
// loses text.
func unmapBytes(s string) string {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if b, ok := runeToByte[r]; ok {
			out = append(out, b)
		} else {
			out = append(out, string(r)...)
		}
	}
	return string(out)
}

// mapBytes spells raw bytes in the byte-level alphabet.
func mapBytes(s string) string {
	out := make([]rune, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = byteToRune[s[i]]
	}
	return string(out)
}

// ByteLevel spells raw bytes as a byte-level BPE vocabulary does (its
// tokens and merges): for writers of tokenizer files (irc testmodel).
func ByteLevel(raw string) string { return mapBytes(raw) }
