package bench

import "errors"

// ErrNoBinary means a service binary is not built.
var ErrNoBinary = errors.New("binary not built")
