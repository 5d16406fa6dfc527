package safetensors

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/irc-compiler/irc/ir/gguf"
)

// Folder reads tensors from safetensors files named relative to a folder,
// as a model's weight table names them: each file opens on first use and
// stays open until Close. The reference runtime (runtime/weights) and the
// generated runners (runtime/runner) both read weights through it, so both
// apply the same rules: a file must be a regular file inside the folder
// (unless FolderOptions.AllowOutside), and a tensor must be what the model
// declares (TensorInfo.Check). Its methods are safe for concurrent use.
type Folder struct {
	root  *root
	mu    sync.Mutex
	files map[string]*File      // by the path opened
	ggufs map[string]*gguf.File // GGUF files (IsGGUF), by the path opened
}

// OpenFolder prepares to read files relative to dir; nothing opens yet.
func OpenFolder(dir string, opt FolderOptions) *Folder {
	return &Folder{root: newRoot(dir, opt), files: map[string]*File{}, ggufs: map[string]*gguf.File{}}
}

// Tensor returns the bytes and description of tensor name in file (a
// slash-separated path relative to the folder) after checking it against
// the declared dtype and shape (TensorInfo.Check). The bytes are a view
// into the mapped file, valid until Close. A GGUF file (IsGGUF) is read
// through GGUFTensor: the same checks, plus the layout changes a GGUF
// file's tensors need (which may copy).
func (f *Folder) Tensor(file, name string, dtype DType, shape []int64) ([]byte, TensorInfo, error) {
	if IsGGUF(file) {
		ir, ok := map[DType]string{BF16: "bf16", F16: "f16", F32: "f32"}[dtype]
		if !ok {
			return nil, TensorInfo{}, fmt.Errorf("%s: tensor %s: a GGUF tensor is read as a weight's IR dtype (Folder.Weight), not as %s", file, name, dtype)
		}
		return f.Weight(file, name, ir, shape)
	}
	st, err := f.open(file)
	if err != nil {
		return nil, TensorInfo{}, err
	}
	info, ok := st.Info(name)
	if !ok {
		return nil, TensorInfo{}, errNoTensor(st.Path(), name)
	}
	if err := info.Check(dtype, shape); err != nil {
		return nil, info, err
	}
	data, err := st.Bytes(name)
	if err != nil {
		return nil, info, err
	}
	return data, info, nil
}

// Weight is Tensor for a weight as the IR declares it: irDType as the IR
// and the runner schedules spell it ("bf16", "q8_0", ...) and its shape in
// elements. A safetensors file holds it as IRStorage says; a GGUF file as
// the GGUF type of the same name (GGUFTensor), so a quantized weight is
// checked against the file's block type, not only its byte count.
func (f *Folder) Weight(file, name, irDType string, shape []int64) ([]byte, TensorInfo, error) {
	if IsGGUF(file) {
		g, err := f.openGGUF(file)
		if err != nil {
			return nil, TensorInfo{}, err
		}
		return GGUFTensor(g, name, irDType, shape)
	}
	dtype, stShape, err := IRStorage(irDType, shape)
	if err != nil {
		return nil, TensorInfo{}, err
	}
	return f.Tensor(file, name, dtype, stShape)
}

func (f *Folder) open(file string) (*File, error) {
	shown, path, err := f.root.resolve("weight file", file)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if st := f.files[path]; st != nil {
		return st, nil
	}
	st, err := openFile(path, shown)
	if err != nil {
		return nil, err
	}
	f.files[path] = st
	return st, nil
}

func (f *Folder) openGGUF(file string) (*gguf.File, error) {
	shown, path, err := f.root.resolve("weight file", file)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if g := f.ggufs[path]; g != nil {
		return g, nil
	}
	g, err := openGGUF(path, shown)
	if err != nil {
		return nil, err
	}
	f.ggufs[path] = g
	return g, nil
}

// Close unmaps every opened file.
func (f *Folder) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var first error
	for _, file := range f.files {
		if err := file.Close(); err != nil && first == nil {
			first = err
		}
	}
	for _, g := range f.ggufs {
		if err := g.Close(); err != nil && first == nil {
			first = err
		}
	}
	f.files = map[string]*File{}
	f.ggufs = map[string]*gguf.File{}
	return first
}

func formatShape(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return "[" + strings.Join(parts, ",") + "]"
}
