package check

import (
	"encoding/gob"
	"fmt"
	"os"
	"path/filepath"
)

// ExpectFile is the expectations' file in a runner folder (irc check
// --keep writes it, --runners reads it).
const ExpectFile = "check-expect.gob"

// Save writes the expectations into dir.
func (e *Expectations) Save(dir string) error {
	f, err := os.Create(filepath.Join(dir, ExpectFile))
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(f).Encode(e); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", f.Name(), err)
	}
	return f.Close()
}

// Load reads the expectations irc check --keep wrote into dir.
func Load(dir string) (*Expectations, error) {
	path := filepath.Join(dir, ExpectFile)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w (--runners wants the folder irc check --keep wrote, with the runner and its %s)", err, ExpectFile)
	}
	defer f.Close()
	var e Expectations
	if err := gob.NewDecoder(f).Decode(&e); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &e, nil
}
