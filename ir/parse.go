package ir

import (
	"fmt"
	"math"
	"strconv"
)

// Parse reads a model in the text format written by Print and validates it
// (Model.Validate). name (a file name) prefixes error positions. What it
// allocates is proportional to len(src): shapes are numbers, nothing is
// sized by them.
func Parse(name, src string) (*Model, error) {
	p := &parser{lex: lexer{src: src, line: 1, col: 1}, name: name, m: &Model{}, syms: map[string]*Value{}, graphs: map[string]bool{}}
	if err := p.advance(); err != nil {
		return nil, p.wrap(err)
	}
	if err := p.file(); err != nil {
		return nil, p.wrap(err)
	}
	if err := p.m.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p.m, nil
}

type parser struct {
	lex  lexer
	tok  token
	name string
	m    *Model
	// metaSeen: a second meta block, or a field given twice, would
	// silently override the first.
	metaSeen map[string]bool
	// syms holds the weights and states by name (Model.Symbol is a linear
	// search: a file of many symbols would take quadratic time).
	syms   map[string]*Value
	graphs map[string]bool
}

func (p *parser) wrap(err error) error { return fmt.Errorf("%s:%w", p.name, err) }

func (p *parser) advance() error {
	t, err := p.lex.next()
	p.tok = t
	return err
}

func (p *parser) errorf(format string, args ...any) error {
	return fmt.Errorf("%d:%d: %s", p.tok.line, p.tok.col, fmt.Sprintf(format, args...))
}

func (p *parser) is(kind tokKind, text string) bool {
	return p.tok.kind == kind && (text == "" || p.tok.text == text)
}

// expect consumes a token of the given kind (and text, if not empty).
func (p *parser) expect(kind tokKind, text string) (token, error) {
	if !p.is(kind, text) {
		want := text
		if want == "" {
			want = [...]string{"end of input", "identifier", "%name", "@name", "string", "number", "punctuation"}[kind]
		} else {
			want = strconv.Quote(want)
		}
		return token{}, p.errorf("expected %s, got %v", want, p.tok)
	}
	t := p.tok
	return t, p.advance()
}

func (p *parser) file() error {
	if _, err := p.expect(tkIdent, "irc"); err != nil {
		return err
	}
	if _, err := p.expect(tkIdent, "v1"); err != nil {
		return fmt.Errorf("%w (only version v1 of the text format is known)", err)
	}
	for !p.is(tkEOF, "") {
		kw, err := p.expect(tkIdent, "")
		if err != nil {
			return err
		}
		switch kw.text {
		case "meta":
			err = p.meta()
		case "weight":
			err = p.weight()
		case "state":
			err = p.state()
		case "graph":
			err = p.graph()
		default:
			return fmt.Errorf("%d:%d: expected meta, weight, state or graph, got %v", kw.line, kw.col, kw)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) meta() error {
	if p.metaSeen != nil {
		return p.errorf("meta given twice")
	}
	p.metaSeen = map[string]bool{}
	if _, err := p.expect(tkPunct, "{"); err != nil {
		return err
	}
	for !p.is(tkPunct, "}") {
		key, err := p.expect(tkIdent, "")
		if err != nil {
			return err
		}
		if _, err := p.expect(tkPunct, "="); err != nil {
			return err
		}
		lit, err := p.literal()
		if err != nil {
			return err
		}
		if key.text == "tokenizer" {
			if p.metaSeen[key.text] {
				return fmt.Errorf("%d:%d: meta field tokenizer given twice", key.line, key.col)
			}
			p.metaSeen[key.text] = true
			if lit.kind != tkString {
				return fmt.Errorf("%d:%d: meta tokenizer: want a string, got %s", key.line, key.col, lit)
			}
			t, err := parseTokenizer(lit.text)
			if err != nil {
				return fmt.Errorf("%d:%d: meta tokenizer: %w", key.line, key.col, err)
			}
			p.m.Meta.Tokenizer = t
			continue
		}
		var field *metaField
		for i := range metaFields {
			if metaFields[i].name == key.text {
				field = &metaFields[i]
			}
		}
		if field == nil {
			return fmt.Errorf("%d:%d: unknown meta field %q", key.line, key.col, key.text)
		}
		if p.metaSeen[key.text] {
			return fmt.Errorf("%d:%d: meta field %s given twice", key.line, key.col, key.text)
		}
		p.metaSeen[key.text] = true
		if err := setMeta(field.ptr(&p.m.Meta), lit); err != nil {
			return fmt.Errorf("%d:%d: meta %s: %w", key.line, key.col, key.text, err)
		}
	}
	return p.advance()
}

func setMeta(ptr any, lit literal) error {
	switch ptr := ptr.(type) {
	case *string:
		if lit.kind != tkString {
			return fmt.Errorf("want a string, got %s", lit)
		}
		*ptr = lit.text
	case *int64:
		v, err := lit.int()
		*ptr = v
		return err
	case *float64:
		v, err := lit.float()
		*ptr = v
		return err
	case *bool:
		if lit.kind != tkIdent || (lit.text != "true" && lit.text != "false") {
			return fmt.Errorf("want true or false, got %s", lit)
		}
		*ptr = lit.text == "true"
	case *[]int64:
		v, err := lit.ints()
		*ptr = v
		return err
	}
	return nil
}

func (p *parser) symbolDecl() (string, TensorType, error) {
	sym, err := p.expect(tkSymbol, "")
	if err != nil {
		return "", TensorType{}, err
	}
	if p.syms[sym.text] != nil {
		return "", TensorType{}, fmt.Errorf("%d:%d: @%s declared twice", sym.line, sym.col, sym.text)
	}
	if _, err := p.expect(tkPunct, ":"); err != nil {
		return "", TensorType{}, err
	}
	t, err := p.tensorType("@" + sym.text)
	return sym.text, t, err
}

func (p *parser) weight() error {
	name, t, err := p.symbolDecl()
	if err != nil {
		return err
	}
	if _, err := p.expect(tkPunct, "="); err != nil {
		return err
	}
	file, err := p.expect(tkString, "")
	if err != nil {
		return err
	}
	tensor, err := p.expect(tkString, "")
	if err != nil {
		return err
	}
	p.syms[name] = p.m.AddWeight(name, t, file.text, tensor.text)
	return nil
}

func (p *parser) state() error {
	name, t, err := p.symbolDecl()
	if err == nil {
		p.syms[name] = p.m.AddState(name, t)
	}
	return err
}

// tensorType reads the type of the value what names.
func (p *parser) tensorType(what string) (TensorType, error) {
	dt, err := p.expect(tkIdent, "")
	if err != nil {
		return TensorType{}, err
	}
	d, err := ParseDType(dt.text)
	if err != nil {
		return TensorType{}, fmt.Errorf("%d:%d: %w", dt.line, dt.col, err)
	}
	lit, err := p.literal()
	if err != nil {
		return TensorType{}, err
	}
	dims, err := lit.ints()
	if err != nil || lit.kind != tkPunct {
		return TensorType{}, fmt.Errorf("%d:%d: want a shape like [2,3], got %s", dt.line, dt.col, lit)
	}
	t := TensorType{DType: d, Shape: Shape(dims)}
	if err := CheckType(t); err != nil {
		return TensorType{}, fmt.Errorf("%d:%d: %s: %v", dt.line, dt.col, what, err)
	}
	return t, nil
}

func (p *parser) graph() error {
	name, err := p.expect(tkIdent, "")
	if err != nil {
		return err
	}
	if p.graphs[name.text] {
		return fmt.Errorf("%d:%d: graph %s declared twice", name.line, name.col, name.text)
	}
	p.graphs[name.text] = true
	g := p.m.NewGraph(name.text)
	locals := map[string]*Value{}
	if _, err := p.expect(tkPunct, "("); err != nil {
		return err
	}
	for !p.is(tkPunct, ")") {
		if len(g.Inputs) > 0 {
			if _, err := p.expect(tkPunct, ","); err != nil {
				return err
			}
		}
		in, err := p.expect(tkLocal, "")
		if err != nil {
			return err
		}
		if _, err := p.expect(tkPunct, ":"); err != nil {
			return err
		}
		t, err := p.tensorType("graph " + g.Name + " input %" + in.text)
		if err != nil {
			return err
		}
		if locals[in.text] != nil {
			return fmt.Errorf("%d:%d: %%%s defined twice", in.line, in.col, in.text)
		}
		locals[in.text] = g.AddInput(in.text, t)
	}
	if err := p.advance(); err != nil {
		return err
	}
	if _, err := p.expect(tkPunct, "{"); err != nil {
		return err
	}
	for !p.is(tkIdent, "return") {
		if err := p.node(g, locals); err != nil {
			return err
		}
	}
	if err := p.advance(); err != nil {
		return err
	}
	for {
		v, err := p.use(locals)
		if err != nil {
			return err
		}
		g.Outputs = append(g.Outputs, v)
		if !p.is(tkPunct, ",") {
			break
		}
		if err := p.advance(); err != nil {
			return err
		}
	}
	_, err = p.expect(tkPunct, "}")
	return err
}

// use resolves a %local or @symbol reference.
func (p *parser) use(locals map[string]*Value) (*Value, error) {
	t := p.tok
	var v *Value
	switch t.kind {
	case tkLocal:
		v = locals[t.text]
	case tkSymbol:
		v = p.syms[t.text]
	default:
		return nil, p.errorf("expected a %%value or @symbol, got %v", t)
	}
	if v == nil {
		return nil, p.errorf("%v is not defined", t)
	}
	return v, p.advance()
}

func (p *parser) node(g *Graph, locals map[string]*Value) error {
	n := &Node{Attrs: Attrs{}}
	var outNames []token
	for p.is(tkLocal, "") {
		outNames = append(outNames, p.tok)
		if err := p.advance(); err != nil {
			return err
		}
		if !p.is(tkPunct, ",") {
			break
		}
		if err := p.advance(); err != nil {
			return err
		}
	}
	if len(outNames) > 0 {
		if _, err := p.expect(tkPunct, "="); err != nil {
			return err
		}
	}
	op, err := p.expect(tkIdent, "")
	if err != nil {
		return err
	}
	def := Lookup(op.text)
	if def == nil {
		return fmt.Errorf("%d:%d: unknown op %q", op.line, op.col, op.text)
	}
	n.Op = op.text
	if _, err := p.expect(tkPunct, "("); err != nil {
		return err
	}
	for !p.is(tkPunct, ")") {
		if len(n.Inputs) > 0 {
			if _, err := p.expect(tkPunct, ","); err != nil {
				return err
			}
		}
		v, err := p.use(locals)
		if err != nil {
			return err
		}
		n.Inputs = append(n.Inputs, v)
	}
	if err := p.advance(); err != nil {
		return err
	}
	if p.is(tkPunct, "{") {
		if err := p.attrs(def, n.Attrs); err != nil {
			return err
		}
	}
	if len(outNames) > 0 {
		if _, err := p.expect(tkPunct, ":"); err != nil {
			return err
		}
	}
	for i, o := range outNames {
		if i > 0 {
			if _, err := p.expect(tkPunct, ","); err != nil {
				return err
			}
		}
		t, err := p.tensorType("%" + o.text)
		if err != nil {
			return err
		}
		if locals[o.text] != nil {
			return fmt.Errorf("%d:%d: %%%s defined twice", o.line, o.col, o.text)
		}
		v := &Value{Name: o.text, Type: t, Kind: Local, Def: n}
		locals[o.text] = v
		n.Outputs = append(n.Outputs, v)
	}
	g.Nodes = append(g.Nodes, n)
	return nil
}

func (p *parser) attrs(def *OpDef, a Attrs) error {
	if err := p.advance(); err != nil {
		return err
	}
	for !p.is(tkPunct, "}") {
		if len(a) > 0 {
			if _, err := p.expect(tkPunct, ","); err != nil {
				return err
			}
		}
		key, err := p.expect(tkIdent, "")
		if err != nil {
			return err
		}
		if _, err := p.expect(tkPunct, "="); err != nil {
			return err
		}
		lit, err := p.literal()
		if err != nil {
			return err
		}
		spec := def.attrOrPlacement(key.text)
		if spec == nil {
			return fmt.Errorf("%d:%d: op %s has no attribute %q", key.line, key.col, def.Name, key.text)
		}
		if _, dup := a[key.text]; dup {
			return fmt.Errorf("%d:%d: attribute %q given twice", key.line, key.col, key.text)
		}
		v, err := lit.as(spec.Kind)
		if err != nil {
			return fmt.Errorf("%d:%d: attribute %s: %w", key.line, key.col, key.text, err)
		}
		a[key.text] = v
	}
	return p.advance()
}

// literal is an untyped constant: a number, string, identifier or a list of
// those (kind tkPunct). Attribute specs decide how to read it.
type literal struct {
	kind  tokKind
	text  string
	items []literal
}

func (l literal) String() string {
	if l.kind == tkPunct {
		return fmt.Sprintf("a list of %d items", len(l.items))
	}
	return strconv.Quote(l.text)
}

// literal reads a value. Lists hold numbers, strings or identifiers: no
// value of the format nests lists, and refusing nesting keeps a file of
// brackets from recursing without bound.
func (p *parser) literal() (literal, error) { return p.literalIn(false) }

func (p *parser) literalIn(inList bool) (literal, error) {
	t := p.tok
	switch {
	case t.kind == tkNumber || t.kind == tkString || t.kind == tkIdent:
		return literal{kind: t.kind, text: t.text}, p.advance()
	case p.is(tkPunct, "[") && inList:
		return literal{}, p.errorf("lists do not nest")
	case p.is(tkPunct, "["):
		l := literal{kind: tkPunct}
		if err := p.advance(); err != nil {
			return l, err
		}
		for !p.is(tkPunct, "]") {
			if len(l.items) > 0 {
				if _, err := p.expect(tkPunct, ","); err != nil {
					return l, err
				}
			}
			item, err := p.literalIn(true)
			if err != nil {
				return l, err
			}
			l.items = append(l.items, item)
		}
		return l, p.advance()
	}
	return literal{}, p.errorf("expected a value, got %v", t)
}

func (l literal) int() (int64, error) {
	if l.kind != tkNumber {
		return 0, fmt.Errorf("want an integer, got %s", l)
	}
	v, err := strconv.ParseInt(l.text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("want an integer, got %s", l)
	}
	return v, nil
}

func (l literal) float() (float64, error) {
	if l.kind != tkNumber && l.kind != tkIdent {
		return 0, fmt.Errorf("want a number, got %s", l)
	}
	v, err := strconv.ParseFloat(l.text, 64)
	if err != nil && !(math.IsInf(v, 0) && l.kind == tkNumber) {
		return 0, fmt.Errorf("want a number, got %s", l)
	}
	return v, nil
}

func (l literal) ints() ([]int64, error) {
	if l.kind != tkPunct {
		return nil, fmt.Errorf("want a list of integers, got %s", l)
	}
	out := make([]int64, len(l.items))
	for i, it := range l.items {
		v, err := it.int()
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (l literal) as(kind AttrKind) (any, error) {
	switch kind {
	case AttrInt:
		return l.int()
	case AttrFloat:
		return l.float()
	case AttrString:
		if l.kind != tkString {
			return nil, fmt.Errorf("want a string, got %s", l)
		}
		return l.text, nil
	case AttrDType:
		if l.kind != tkIdent {
			return nil, fmt.Errorf("want a dtype, got %s", l)
		}
		return ParseDType(l.text)
	case AttrInts:
		return l.ints()
	case AttrFloats:
		if l.kind != tkPunct {
			return nil, fmt.Errorf("want a list of numbers, got %s", l)
		}
		out := make([]float64, len(l.items))
		for i, it := range l.items {
			v, err := it.float()
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported attribute kind %v", kind)
}
