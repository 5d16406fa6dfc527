package gguf

import (
	"fmt"
	"math"
)

// Uint reads an unsigned integer metadata value (any integer type, if not
// negative). ok is false when key is absent.
func (h *Header) Uint(key string) (v uint64, ok bool, err error) {
	val, ok := h.KV(key)
	if !ok {
		return 0, false, nil
	}
	switch x := val.V.(type) {
	case uint64:
		return x, true, nil
	case int64:
		if x >= 0 {
			return uint64(x), true, nil
		}
		return 0, true, fmt.Errorf("metadata %s is %d, want >= 0", key, x)
	}
	return 0, true, fmt.Errorf("metadata %s is a %s, want an integer", key, valueTypeName(val.Type))
}

// Int reads a metadata integer that must fit in int64 (see Uint).
func (h *Header) Int(key string) (v int64, ok bool, err error) {
	u, ok, err := h.Uint(key)
	if err == nil && u > math.MaxInt64 {
		err = fmt.Errorf("metadata %s is %d, out of range", key, u)
	}
	return int64(u), ok, err
}

// Float reads a float metadata value (float32 or float64).
func (h *Header) Float(key string) (v float64, ok bool, err error) {
	val, ok := h.KV(key)
	if !ok {
		return 0, false, nil
	}
	if x, isF := val.V.(float64); isF && val.Type != TypeArray {
		return x, true, nil
	}
	return 0, true, fmt.Errorf("metadata %s is a %s, want a float", key, valueTypeName(val.Type))
}

// String reads a string metadata value.
func (h *Header) String(key string) (v string, ok bool, err error) {
	val, ok := h.KV(key)
	if !ok {
		return "", false, nil
	}
	if x, isS := val.V.(string); isS {
		return x, true, nil
	}
	return "", true, fmt.Errorf("metadata %s is a %s, want a string", key, valueTypeName(val.Type))
}
