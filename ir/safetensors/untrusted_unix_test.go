//go:build unix

package safetensors

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// noHang runs f and fails the test if it has not returned within a few
// seconds (a reader blocked on a pipe would never return).
func noHang(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the reader blocked: it opened a special file")
		return nil
	}
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}

// Class 5 of issue 12: a named pipe, a device, a socket or a directory
// where a file is expected is refused before it is opened, by every reader
// of outside files: the checkpoint (single file, index, shard), a Folder
// (the runtimes' weights), OpenFile and ReadInput (config.json).
func TestSpecialFilesRefusedBeforeOpen(t *testing.T) {
	good := func(t *testing.T, path string) {
		t.Helper()
		if err := Write(path, []WriteTensor{{"a", F32, []int64{1}, f32le(1)}}, nil); err != nil {
			t.Fatal(err)
		}
	}
	socket := func(t *testing.T, path string) {
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Skipf("unix socket: %v", err)
		}
		t.Cleanup(func() { l.Close() })
	}
	cases := []struct {
		name string
		run  func(t *testing.T, dir string) (err error, path string)
		want string
	}{
		{"FIFO as model.safetensors", func(t *testing.T, dir string) (error, string) {
			p := filepath.Join(dir, SingleFileName)
			mkfifo(t, p)
			_, err := OpenDir(dir)
			return err, p
		}, "is a named pipe (FIFO), not a regular file"},
		{"symlink to a FIFO as model.safetensors", func(t *testing.T, dir string) (error, string) {
			mkfifo(t, filepath.Join(dir, "pipe"))
			os.Symlink("pipe", filepath.Join(dir, SingleFileName))
			_, err := OpenDir(dir)
			return err, filepath.Join(dir, SingleFileName)
		}, "is a named pipe (FIFO)"},
		{"FIFO as the index", func(t *testing.T, dir string) (error, string) {
			p := filepath.Join(dir, IndexFileName)
			mkfifo(t, p)
			_, err := OpenDir(dir)
			return err, p
		}, "is a named pipe (FIFO)"},
		{"FIFO as a shard", func(t *testing.T, dir string) (error, string) {
			good(t, filepath.Join(dir, "s1.safetensors"))
			p := filepath.Join(dir, "s2.safetensors")
			mkfifo(t, p)
			writeIndex(t, dir, `{"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}}`)
			_, err := OpenDir(dir)
			return err, p
		}, "is a named pipe (FIFO)"},
		{"FIFO as a weight file", func(t *testing.T, dir string) (error, string) {
			p := filepath.Join(dir, "w.safetensors")
			mkfifo(t, p)
			_, _, err := OpenFolder(dir, FolderOptions{}).Tensor("w.safetensors", "a", F32, []int64{1})
			return err, p
		}, "is a named pipe (FIFO)"},
		{"FIFO as config.json", func(t *testing.T, dir string) (error, string) {
			p := filepath.Join(dir, "config.json")
			mkfifo(t, p)
			_, err := ReadInput(p, MaxConfigLen, 1)
			return err, p
		}, "is a named pipe (FIFO)"},
		{"FIFO through RegularFile", func(t *testing.T, dir string) (error, string) {
			p := filepath.Join(dir, "config.json")
			mkfifo(t, p)
			return RegularFile(p), p
		}, "is a named pipe (FIFO)"},
		{"/dev/zero as a file", func(t *testing.T, dir string) (error, string) {
			_, err := OpenFile("/dev/zero")
			return err, "/dev/zero"
		}, "is a character device, not a regular file"},
		{"/dev/zero as config.json", func(t *testing.T, dir string) (error, string) {
			_, err := ReadInput("/dev/zero", MaxConfigLen, 1)
			return err, "/dev/zero"
		}, "is a character device"},
		{"directory as model.safetensors", func(t *testing.T, dir string) (error, string) {
			p := filepath.Join(dir, SingleFileName)
			os.Mkdir(p, 0o755)
			_, err := OpenDir(dir)
			return err, p
		}, "is a directory, not a regular file"},
		{"socket as a weight file", func(t *testing.T, dir string) (error, string) {
			p := filepath.Join(dir, "s")
			socket(t, p)
			_, _, err := OpenFolder(dir, FolderOptions{}).Tensor("s", "a", F32, []int64{1})
			return err, p
		}, "is a socket"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			var path string
			err := noHang(t, func() error {
				err, p := c.run(t, dir)
				path = p
				return err
			})
			wantErr(t, err, path+": "+c.want)
		})
	}
}

// A file swapped for a pipe between the check and the open: the open
// itself must not block either.
func TestOpenInputDoesNotBlockOnAPipe(t *testing.T) {
	p := filepath.Join(t.TempDir(), "pipe")
	mkfifo(t, p)
	err := noHang(t, func() error {
		f, err := os.OpenFile(p, os.O_RDONLY|openNonblock, 0)
		if err == nil {
			f.Close()
		}
		return err
	})
	if err != nil {
		t.Fatalf("non-blocking open of a pipe: %v", err)
	}
}
