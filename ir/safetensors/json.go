package safetensors

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// member is one key of a JSON object with its undecoded value.
type member struct {
	key string
	val json.RawMessage
}

// objectMembers parses data as exactly one JSON object and returns its
// members in document order. It is stricter than json.Unmarshal into a map
// or struct, which silently keep the last of two equal keys, match struct
// field names case-insensitively, and ignore anything after the value: in a
// header any of those could make two readers see different tensors.
func objectMembers(data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not valid JSON: %v", err)
	} else if tok != json.Delim('{') {
		return nil, fmt.Errorf("not a JSON object (starts with %s)", describeToken(tok))
	}
	var members []member
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		key, ok := tok.(string)
		if !ok { // the decoder reports non-string keys itself; this is belt and braces
			return nil, errors.New("not valid JSON: object key is not a string")
		}
		if seen[key] {
			return nil, &duplicateKeyError{key}
		}
		seen[key] = true
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		members = append(members, member{key, val})
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, fmt.Errorf("not valid JSON: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("not valid JSON: data after the closing brace")
	}
	return members, nil
}

func describeToken(tok json.Token) string {
	switch tok.(type) {
	case json.Delim:
		return fmt.Sprintf("%q", tok)
	case string:
		return "a string"
	case nil:
		return "null"
	case bool:
		return "a boolean"
	default:
		return "a number"
	}
}

// jsonString decodes a JSON string value; null and other kinds are errors.
func jsonString(raw json.RawMessage) (string, bool) {
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// jsonInts decodes a JSON array of integers written as plain decimal
// literals: a fraction, an exponent, a quoted number or a value beyond int64
// is rejected rather than rounded.
func jsonInts(raw json.RawMessage) ([]int64, bool) {
	var elems []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
		return nil, false
	}
	out := make([]int64, len(elems))
	for i, e := range elems {
		v, err := strconv.ParseInt(string(e), 10, 64)
		if err != nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

// duplicateKeyError reports a key that appears twice in one object.
type duplicateKeyError struct{ key string }

func (e *duplicateKeyError) Error() string { return fmt.Sprintf("key %q appears twice", e.key) }

// compact removes insignificant whitespace from a JSON value.
func compact(raw json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	err := json.Compact(&buf, raw)
	return buf.Bytes(), err
}
