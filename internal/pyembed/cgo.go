package pyembed

// All cgo flags live here. The Python include and library flags come from
// the interpreter being embedded (CGO_CFLAGS / CGO_LDFLAGS, set by the
// Makefile from scripts/pyflags.py), so any CPython 3.10+ works (tested
// with 3.10 to 3.13); 3.9 lacks Py_NewRef and the one-argument
// traceback.print_exception the bridge uses.
//
// NDEBUG, as CPython's release builds and the extension modules built for
// them have: without it, every PyTuple_GET_ITEM, PyUnicode_GET_LENGTH and
// the like in the bridge checks its object's type first.

/*
#cgo CFLAGS: -DNDEBUG -Wall -Werror -Wno-unused-parameter -Wno-missing-field-initializers
#include "bridge.h"
*/
import "C"
