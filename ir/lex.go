package ir

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

type tokKind uint8

const (
	tkEOF tokKind = iota
	tkIdent
	tkLocal  // %name
	tkSymbol // @name
	tkString
	tkNumber
	tkPunct
)

type token struct {
	kind      tokKind
	text      string // identifier, name without sigil, unquoted string, number text or punctuation
	line, col int
}

func (t token) String() string {
	switch t.kind {
	case tkEOF:
		return "end of input"
	case tkLocal:
		return "%" + t.text
	case tkSymbol:
		return "@" + t.text
	}
	return strconv.Quote(t.text)
}

type lexer struct {
	src       string
	pos       int
	line, col int
}

func isNameByte(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (l *lexer) errorf(line, col int, format string, args ...any) error {
	return fmt.Errorf("%d:%d: %s", line, col, fmt.Sprintf(format, args...))
}

func (l *lexer) advance(n int) {
	for i := 0; i < n; i++ {
		if l.src[l.pos] == '\n' {
			l.line++
			l.col = 1
		} else {
			l.col++
		}
		l.pos++
	}
}

// next returns the next token, skipping spaces and '#' comments.
func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			l.advance(1)
			continue
		}
		if c == '#' {
			for l.pos < len(l.src) && l.src[l.pos] != '\n' {
				l.advance(1)
			}
			continue
		}
		break
	}
	line, col := l.line, l.col
	if l.pos >= len(l.src) {
		return token{kind: tkEOF, line: line, col: col}, nil
	}
	c := l.src[l.pos]
	start := l.pos
	switch {
	case c == '%' || c == '@':
		l.advance(1)
		for l.pos < len(l.src) && isNameByte(l.src[l.pos]) {
			l.advance(1)
		}
		if l.pos == start+1 {
			return token{}, l.errorf(line, col, "empty name after %q", c)
		}
		kind := tkLocal
		if c == '@' {
			kind = tkSymbol
		}
		return token{kind: kind, text: l.src[start+1 : l.pos], line: line, col: col}, nil
	case c == '"':
		end := start + 1
		for end < len(l.src) && l.src[end] != '"' && l.src[end] != '\n' {
			if l.src[end] == '\\' {
				end++
			}
			end++
		}
		if end >= len(l.src) || l.src[end] != '"' {
			return token{}, l.errorf(line, col, "unterminated string")
		}
		s, err := strconv.Unquote(l.src[start : end+1])
		if err != nil {
			return token{}, l.errorf(line, col, "bad string literal: %v", err)
		}
		l.advance(end + 1 - start)
		return token{kind: tkString, text: s, line: line, col: col}, nil
	case c == '-' || c == '+' || c >= '0' && c <= '9':
		end := start + 1
		for end < len(l.src) && (isNameByte(l.src[end]) || (l.src[end] == '-' || l.src[end] == '+') && (l.src[end-1] == 'e' || l.src[end-1] == 'E')) {
			end++
		}
		l.advance(end - start)
		return token{kind: tkNumber, text: l.src[start:end], line: line, col: col}, nil
	case isNameByte(c):
		for l.pos < len(l.src) && isNameByte(l.src[l.pos]) {
			l.advance(1)
		}
		return token{kind: tkIdent, text: l.src[start:l.pos], line: line, col: col}, nil
	case c == '(' || c == ')' || c == '{' || c == '}' || c == '[' || c == ']' || c == ',' || c == ':' || c == '=':
		l.advance(1)
		return token{kind: tkPunct, text: string(c), line: line, col: col}, nil
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return token{}, l.errorf(line, col, "unexpected character %q", r)
}
