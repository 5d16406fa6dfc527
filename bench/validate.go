package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// SchemaName is how errors name the schema a result is checked against:
// schema.json in this package, embedded in irc (Schema).
const SchemaName = "bench/schema.json"

// schemaURL is the schema's resource name for the validator: a fixed URL,
// so that nothing resolves it against the working directory (messages
// then named a schema.json there, which does not exist).
const schemaURL = "https://irc-compiler.invalid/" + SchemaName

var compiled = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(Schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	return c.Compile(schemaURL)
})

// Validate checks a result file's bytes against Schema. Its error is one
// line naming the schema and, for each violation (the first three), the
// field at fault.
func Validate(data []byte) error {
	s, err := compiled()
	if err != nil {
		return fmt.Errorf("%s (embedded): %w", SchemaName, err) // a bug in schema.json
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not JSON: %w", err)
	}
	if err := finiteNumbers(doc); err != nil {
		return err
	}
	if err := s.Validate(doc); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return fmt.Errorf("not an irc bench result (%s): %w", SchemaName, err)
		}
		var leaves []string
		collect(ve, &leaves)
		slices.Sort(leaves) // the validator's order varies from run to run
		leaves = slices.Compact(leaves)
		more := ""
		if len(leaves) > 3 {
			more = fmt.Sprintf("; and %d more", len(leaves)-3)
			leaves = leaves[:3]
		}
		return fmt.Errorf("not an irc bench result (checked against %s, embedded in irc): %s%s", SchemaName, strings.Join(leaves, "; "), more)
	}
	return nil
}

// collect appends the innermost violations of e, each as "at FIELD:
// what is wrong" on one line.
func collect(e *jsonschema.ValidationError, out *[]string) {
	if len(e.Causes) == 0 {
		loc := "/" + strings.Join(e.InstanceLocation, "/")
		msg := strings.TrimPrefix(e.Error(), fmt.Sprintf("at '%s': ", loc))
		*out = append(*out, fmt.Sprintf("at %s: %s", loc, strings.ReplaceAll(msg, "\n", " ")))
		return
	}
	for _, c := range e.Causes {
		collect(c, out)
	}
}

// finiteNumbers refuses a number no float64 holds (1e999999): the
// validator turns numbers into big.Rat and panics on one it cannot parse.
func finiteNumbers(v any) error {
	switch v := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(v), 64); err != nil || math.IsInf(f, 0) {
			return fmt.Errorf("not an irc bench result (%s): the number %.40s is out of range", SchemaName, v)
		}
	case map[string]any:
		for _, x := range v {
			if err := finiteNumbers(x); err != nil {
				return err
			}
		}
	case []any:
		for _, x := range v {
			if err := finiteNumbers(x); err != nil {
				return err
			}
		}
	}
	return nil
}
