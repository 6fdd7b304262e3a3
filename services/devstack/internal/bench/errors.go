package bench

import "errors"

// ErrNoBinary means a service binary is not built.
var ErrNoBinary = errors.New("binary not built")

// ErrBadInfo means a server or the kernel reported memory in a form the
// harness does not understand.
var ErrBadInfo = errors.New("unexpected memory report")
