package pyembed

// All cgo flags live here. The Python include and library flags come from
// the interpreter being embedded (CGO_CFLAGS / CGO_LDFLAGS, set by the
// Makefile from scripts/pyflags.py), so any CPython 3.10+ works.

/*
#cgo CFLAGS: -Wall -Werror -Wno-unused-parameter -Wno-missing-field-initializers
#include "bridge.h"
*/
import "C"
