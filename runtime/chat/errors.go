package chat

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ardanlabs/jinja"
)

// Error is why a chat template did not parse or render: one line, naming the
// template line where the engine knows it.
type Error struct {
	Line   int    // 1-based line in the template; 0 when not known
	Msg    string // the engine's (or the template's) message, on one line
	Raised bool   // the template itself refused, through raise_exception
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("chat template: line %d: %s", e.Line, e.Msg)
	}
	return "chat template: " + e.Msg
}

// raised is what our raise_exception returns, so that the template's own
// message can be told apart from an engine failure however the engine wraps
// it.
type raised struct{ msg string }

func (r *raised) Error() string { return r.msg }

// raiseException replaces the engine's raise_exception (transformers defines
// it the same way: a template's deliberate TemplateError carrying its
// message).
func raiseException(args []jinja.Value, _ map[string]jinja.Value) (jinja.Value, error) {
	msg := "raise_exception called"
	if len(args) > 0 {
		if args[0].IsString() {
			msg = args[0].AsString()
		} else {
			msg = args[0].String()
		}
	}
	return jinja.Undefined(), &raised{msg: msg}
}

// The engine prefixes errors with its phase and puts positions as "line N: "
// (parser) or "at line N, col M" (scanner), possibly after a chain of
// wrapping contexts.
var (
	phasePrefix = regexp.MustCompile(`^jinja (scan|parse|render|eval)[a-z]*: `)
	lineColumn  = regexp.MustCompile(`\bat line (\d+), col \d+`)
	linePrefix  = regexp.MustCompile(`\bline (\d+): `)
)

// engineError makes an engine error one *Error line.
func engineError(err error) error {
	var r *raised
	if errors.As(err, &r) {
		return &Error{Msg: oneLine(r.msg), Raised: true}
	}
	msg := phasePrefix.ReplaceAllString(oneLine(err.Error()), "")
	line := 0
	if m := lineColumn.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimSpace(lineColumn.ReplaceAllString(msg, ""))
	} else if m := linePrefix.FindStringSubmatchIndex(msg); m != nil {
		line, _ = strconv.Atoi(msg[m[2]:m[3]])
		msg = msg[:m[0]] + msg[m[1]:]
	}
	return &Error{Line: line, Msg: msg}
}

// recoverAsError turns an engine panic into an *Error: a bad template must
// not take down the compiler or a runner.
func recoverAsError(err *error) {
	if p := recover(); p != nil {
		*err = &Error{Msg: oneLine(fmt.Sprintf("internal error in the template engine: %v", p))}
	}
}

func oneLine(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r", `\r`), "\n", `\n`)
}
