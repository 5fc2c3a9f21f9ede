// Package wsgi holds the pure-Go half of the WSGI bridge: the packed
// environ block Go hands to the C side (with its numbered, interned keys)
// and the validation of the status and headers an app returns. Nothing
// here touches Python, so it is unit-tested and fuzzed on its own.
package wsgi
