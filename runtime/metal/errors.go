package metal

import "fmt"

func errorf(format string, args ...any) error { return fmt.Errorf("metal: "+format, args...) }
